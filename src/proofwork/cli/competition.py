"""Competitions: `competition create|cancel|enter|reveal`, `leaderboard`."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from proofwork.cli.args import CompArg, FromOpt, cli_state, existing_file, plain, uint_id
from proofwork.cli.output import money, when
from proofwork.domain.errors import InvalidInput
from proofwork.domain.units import parse_amount, parse_duration

competition_app = typer.Typer(
    help="Competitions: a prize open to many until a deadline.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(competition_app, name="competition")
    app.command("leaderboard")(leaderboard)


MAX_PLACES = 10


@competition_app.command("create")
def competition_create(
    ctx: typer.Context,
    sender: FromOpt,
    spec: Annotated[Path, typer.Option(help="Task spec (YAML or JSON).")],
    labels: Annotated[Path, typer.Option(help="Hidden labels (sealed to the oracles, committed on chain).")],
    prize: Annotated[str, typer.Option(help="Prize in tokens.")],
    deadline: Annotated[str, typer.Option(help="Submission deadline from now, e.g. 7d.")] = "7d",
    reveal_period: Annotated[str, typer.Option(help="Time after the deadline to reveal entries.")] = "1d",
    split: Annotated[
        str, typer.Option(help="Prize split across the top k, in percent, e.g. 60,30,10.")
    ] = "100",
    daily_limit: Annotated[int, typer.Option(help="Submissions per address per day (1 to 255).")] = 5,
    public_percent: Annotated[
        int, typer.Option(help="Share of the hidden set scored publicly before the deadline (1 to 99).")
    ] = 30,
    min_score: Annotated[
        str | None,
        typer.Option(
            help="Score an entry needs to win anything (metric units); default: the spec's threshold."
        ),
    ] = None,
) -> None:
    """Create a competition and escrow its prize."""
    from proofwork.domain.evalspec import to_fixed
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    # everything checked before the workspace opens: no approval is sent for a create that must fail
    minimum = None if min_score is None else _min_score(min_score, to_fixed)
    shares = _split(split)
    if not 1 <= daily_limit <= 255:
        raise InvalidInput(f"invalid --daily-limit {daily_limit}: expected 1 to 255 submissions a day")
    if not 1 <= public_percent <= 99:
        raise InvalidInput(f"invalid --public-percent {public_percent}: expected 1 to 99")
    deadline_in = parse_duration(deadline)
    reveal_seconds = parse_duration(reveal_period)
    spec, labels = existing_file(spec, "spec"), existing_file(labels, "labels")
    with state.workspace() as ws:
        comp_id, receipts = Competitions(ws).create(
            ws.signer(sender),
            spec,
            labels,
            prize=parse_amount(prize, ws.token.decimals),
            deadline=ws.chain.next_timestamp() + deadline_in,
            reveal_period=reveal_seconds,
            prize_bps=shares,
            daily_limit=daily_limit,
            public_percent=public_percent,
            min_score=minimum,
        )
        state.emit(
            {
                "ok": True,
                "competition_id": comp_id,
                "steps": [{"name": n, "tx": r.tx_hash, "gas": r.gas_used} for n, r in receipts],
            },
            f"competition {comp_id} created",
        )


def _min_score(text: str, to_fixed: Any) -> int:
    from proofwork.domain.evalspec import to_fixed

    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"invalid --min-score {text!r}: expected a number") from None
    if not math.isfinite(value):
        raise InvalidInput(f"invalid --min-score {text!r}: expected a finite number")
    try:
        fixed = int(to_fixed(value))
    except ArithmeticError:  # decimal.InvalidOperation: more digits than fixed point can hold
        fixed = 2**255
    if not -(2**255) <= fixed < 2**255:
        raise InvalidInput(f"invalid --min-score {text!r}: beyond what a score can be")
    return fixed


def _split(text: str) -> list[int]:
    """`60,30,10` -> [6000, 3000, 1000] basis points: 1 to 10 places, each > 0, non-increasing, sum 100 %."""
    bad = f"invalid --split {text!r}: "
    parts = [p.strip() for p in text.split(",")]
    if not 1 <= len(parts) <= MAX_PLACES:
        raise InvalidInput(bad + f"expected 1 to {MAX_PLACES} percentages like 60,30,10")
    shares = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise InvalidInput(bad + "expected percentages like 60,30,10") from None
        if not math.isfinite(value):
            raise InvalidInput(bad + "every share must be a finite number")
        bps = round(value * 100)
        if abs(value * 100 - bps) > 1e-6:
            raise InvalidInput(bad + "shares have at most two decimals (whole basis points)")
        if bps <= 0:
            raise InvalidInput(bad + "every share must be more than 0")
        shares.append(bps)
    if any(later > earlier for earlier, later in itertools.pairwise(shares)):
        raise InvalidInput(bad + "shares must not increase (first place gets the most)")
    if sum(shares) != 10_000:
        raise InvalidInput(bad + f"shares add up to {sum(shares) / 100:g} %, not 100 %")
    return shares


@competition_app.command("cancel")
def competition_cancel(ctx: typer.Context, comp_id: CompArg, sender: FromOpt) -> None:
    """Refund a competition the committee never judged (after the judging period), so a dead
    committee cannot lock the prize."""
    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    with state.workspace() as ws:
        receipt = ws.competitions.cancel_unjudged(ws.signer(sender).key, comp_id)
        state.emit(
            {"ok": True, "competition_id": comp_id, "tx": receipt.tx_hash},
            f"competition {comp_id} cancelled: the prize went back to its creator (tx {receipt.tx_hash})",
        )


@competition_app.command("enter")
def competition_enter(
    ctx: typer.Context,
    comp_id: CompArg,
    sender: FromOpt,
    file: Annotated[Path, typer.Option(help="Submission: ONNX model or predictions file.")],
) -> None:
    """Commit to a submission (sealed to the oracles, so nobody can copy it)."""
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    with state.workspace() as ws:
        entry, receipt = Competitions(ws).enter(ws.signer(sender), comp_id, existing_file(file, "submission"))
        state.emit(
            {"ok": True, "entry": entry, "tx": receipt.tx_hash},
            f"entry {entry} committed to competition {comp_id}",
        )


@competition_app.command("reveal")
def competition_reveal(ctx: typer.Context, comp_id: CompArg, sender: FromOpt) -> None:
    """After the deadline, reveal all of this account's entries (unrevealed entries cannot win)."""
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    with state.workspace() as ws:
        entries = Competitions(ws).reveal_all(ws.signer(sender), comp_id)
        state.emit(
            {"ok": True, "revealed": entries},
            f"revealed entries {entries}" if entries else "nothing to reveal",
        )


def leaderboard(ctx: typer.Context, comp_id: CompArg) -> None:
    """Public scores before the deadline; private scores and prizes once the competition is final."""
    from rich.table import Table

    from proofwork.network.peers import HttpPeers
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    peers = HttpPeers()
    try:
        with state.workspace() as ws:
            comp, rows = Competitions(ws).leaderboard(comp_id, peers)
            decimals, symbol = ws.token.decimals, ws.token.symbol
            names = {r.submitter: ws.name_of(r.submitter) for r in rows}
    finally:
        peers.close()
    data = {
        "ok": True,
        "competition_id": comp_id,
        "deadline": comp.deadline,
        "finalized": comp.finalized,
        "rows": [
            {
                "entry": r.entry,
                "submitter": r.submitter,
                "public_score": r.public_score,
                "oracles": r.oracles,
                "private_score": r.private_score,
                "prize": r.prize,
            }
            for r in rows
        ],
    }

    def table() -> Table:
        t = Table(
            title=plain(
                f"competition {comp_id} ({'final' if comp.finalized else 'deadline ' + when(comp.deadline)})"
            ),
            title_justify="left",
        )
        for col in ("rank", "entry", "submitter", "public", "private", "prize"):
            t.add_column(col)
        for rank, r in enumerate(rows, 1):
            # every cell as plain Text: token symbols and names come from the chain and the keystore
            t.add_row(
                *(
                    plain(cell)
                    for cell in (
                        str(rank),
                        str(r.entry),
                        names[r.submitter] or r.submitter,
                        "-" if r.public_score is None else f"{r.public_score / 1e6:.6f}",
                        "-" if r.private_score is None else f"{r.private_score / 1e6:.6f}",
                        money(r.prize, decimals, symbol) if r.prize else "-",
                    )
                )
            )
        return t

    state.emit(data, table)
