"""`proofwork index`: every proofwork contract event into the SQL index (SQLite or PostgreSQL)."""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from proofwork.cli.args import cli_state, plain
from proofwork.cli.output import CliState
from proofwork.domain.errors import InvalidInput
from proofwork.settings import MAX_INDEX_CHUNK, MAX_INDEX_CONFIRMATIONS

if TYPE_CHECKING:
    from proofwork.services.indexer import IndexResult, Progress

MAX_POLL = 3600.0


def register(app: typer.Typer) -> None:
    app.command("index")(index_cmd)


def index_cmd(
    ctx: typer.Context,
    follow: Annotated[
        bool, typer.Option(help="Keep following the chain after catching up (Ctrl-C stops).")
    ] = False,
    poll: Annotated[float, typer.Option(help="Seconds between passes with --follow.")] = 2.0,
    db: Annotated[
        str | None,
        typer.Option(
            help="The index: a SQLite file or a postgresql+psycopg:// URL (env PROOFWORK_INDEX_DB)."
        ),
    ] = None,
    confirmations: Annotated[
        int | None,
        typer.Option(
            help="Blocks to stay behind the head (env PROOFWORK_INDEX_CONFIRMATIONS; 0 on dev chains)."
        ),
    ] = None,
    chunk: Annotated[
        int | None, typer.Option(help="Most blocks per eth_getLogs request (env PROOFWORK_INDEX_CHUNK).")
    ] = None,
) -> None:
    """Index every event of the deployed proofwork contracts into SQL, from where the index stopped."""
    state = cli_state(ctx)
    settings = state.settings
    if not (math.isfinite(poll) and 0.05 <= poll <= MAX_POLL):
        raise InvalidInput(f"--poll must be 0.05 to {MAX_POLL:g} seconds")
    if confirmations is not None and not 0 <= confirmations <= MAX_INDEX_CONFIRMATIONS:
        raise InvalidInput(f"--confirmations must be 0 to {MAX_INDEX_CONFIRMATIONS} blocks")
    if chunk is not None and not 1 <= chunk <= MAX_INDEX_CHUNK:
        raise InvalidInput(f"--chunk must be 1 to {MAX_INDEX_CHUNK} blocks")
    from proofwork.services.indexer import IndexOptions, follow_passes, index_once, open_index

    options = IndexOptions(
        confirmations=settings.index_confirmations if confirmations is None else confirmations,
        chunk=chunk or settings.index_chunk,
    )
    store = open_index(db or settings.index_location)
    try:
        with _ProgressBar(state) as bar:
            if not follow:
                with state.workspace() as ws:
                    result = index_once(ws, store, options, progress=bar.update)
                bar.stop()
                _report(state, result, store.where)
                return
            try:
                for result in follow_passes(
                    state.workspace, store, options, poll=poll, on_error=_warn, progress=bar.update
                ):
                    bar.stop()
                    if result.events or result.reorgs or not bar.reported:
                        _report(state, result, store.where)
                        bar.reported = True
                        sys.stdout.flush()  # a line per pass, also through a pipe
            except KeyboardInterrupt:
                bar.stop()
                state.emit({"ok": True, "stopped": True}, "stopped")
    finally:
        store.close()


def _warn(exc: Exception) -> None:
    sys.stderr.write(f"warning: {exc} (trying again)\n")


def _report(state: CliState, result: IndexResult, where: str) -> None:
    data: dict[str, Any] = {"ok": True, **result.summary(), "database": where}
    blocks = (
        f"blocks {result.first}-{result.last}"
        if result.last >= result.first
        else f"up to block {result.last}"
    )
    human = (
        f"indexed {result.events:,} events ({blocks}, head {result.head}, {result.confirmations} "
        f"confirmations) of chain {result.chain_id} into {where}: {result.total_events:,} events in all"
        + (f"; {result.reorgs} reorg(s) rolled back {result.rolled_back} events" if result.reorgs else "")
        + (f"; not indexed (no ABI recorded): {', '.join(result.not_indexed)}" if result.not_indexed else "")
        + f" ({result.seconds:.1f} s)"
    )
    state.emit(data, plain(human))


class _ProgressBar:
    """A Rich progress bar on stderr while a pass catches up (only on a terminal, never with --json)."""

    def __init__(self, state: CliState) -> None:
        self.console = Console(stderr=True, highlight=False)
        self.enabled = not state.json and self.console.is_terminal
        self.reported = False
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def update(self, progress: Progress) -> None:
        if not self.enabled:
            return
        if self._progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("indexing blocks"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[events]:,} events"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("index", total=None, events=0)
        total = max(1, progress.target - progress.first + 1)
        self._progress.update(
            self._task, total=total, completed=progress.done - progress.first + 1, events=progress.events
        )

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
