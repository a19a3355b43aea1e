"""How the CLI speaks: Rich for people, one JSON object with --json, one line per error."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput
from proofwork.domain.units import format_amount, format_duration
from proofwork.settings import Settings

if TYPE_CHECKING:
    from proofwork.services.workspace import Workspace


@dataclass
class CliState:
    """What the root command gives every command: the settings, the output mode, the console."""

    settings: Settings
    json: bool = False
    console: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))

    @contextmanager
    def workspace(self) -> Iterator[Workspace]:
        """The workspace the settings name, closed when the block ends (web3 and the chain load here)."""
        from proofwork.services.workspace import Workspace

        ws = Workspace.open(self.settings, password=self.password, notify=_note)
        try:
            yield ws
        finally:
            ws.close()

    def password(self, name: str) -> str:
        """Unlocks a stored key: PROOFWORK_PASSWORD, else a prompt on a terminal."""
        if self.settings.password is not None:
            return self.settings.password
        if not sys.stdin.isatty():
            raise InvalidInput(
                f"account {name!r} is encrypted: set PROOFWORK_PASSWORD (no terminal to ask on)"
            )
        import getpass

        return getpass.getpass(f"Password for {name}: ")

    def new_password(self, name: str) -> str:
        """A password for a new stored key: PROOFWORK_PASSWORD, else asked twice on a terminal."""
        if self.settings.password is not None:
            return self.settings.password
        if not sys.stdin.isatty():
            raise InvalidInput("set PROOFWORK_PASSWORD to encrypt the new key (no terminal to ask on)")
        import getpass

        first = getpass.getpass(f"New password for {name}: ")
        if first != getpass.getpass("Repeat it: "):
            raise InvalidInput("the passwords do not match")
        return first

    def emit(self, data: dict[str, Any], human: Any = None) -> None:
        """Prints `data` as JSON with --json, else `human` (a Rich renderable, a string, or a
        function making one, so JSON mode never pays for, or trips over, the human form). A string
        is printed as text: it carries what others wrote (asset and file names, terms on chain), so
        its brackets are not Rich markup and its control characters reach no terminal."""
        if self.json:
            sys.stdout.write(json.dumps(data, default=_jsonable) + "\n")
        elif human is not None:
            shown = human() if callable(human) else human
            self.console.print(as_text(shown) if isinstance(shown, str) else shown)


def as_text(text: str) -> Text:
    """`text` as Rich prints it literally: no markup, every control character but newline and tab
    (terminal escapes, bidi overrides) shown as `?`."""
    return Text("".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in text))


def _note(message: str) -> None:
    """What happened to a transaction on its way (replaced, resent): on stderr, whatever the output mode."""
    sys.stderr.write(f"note: {message}\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def when(ts: int) -> str:
    if not ts:
        return "-"
    try:
        return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"unix time {ts}"


def money(units: int, decimals: int, symbol: str = "") -> str:
    text = format_amount(units, decimals)
    return f"{text} {symbol}".strip()


def _deadlines_json(d: J.Deadlines) -> dict[str, int]:
    return {k: v for k, v in vars(d).items() if v is not None}


def job_json(
    job: J.Job, decimals: int, ws: Workspace | None = None, timing: list[J.Deadlines] | None = None
) -> dict[str, Any]:
    """`timing`: each milestone's deadlines (`Jobs.timing`), shown when given."""

    def named(address: str) -> str | None:
        if ws is None or address == J.ZERO_ADDRESS:
            return None
        return ws.name_of(address)

    return {
        "id": job.job_id,
        "status": job.status,
        "client": job.client,
        "client_name": named(job.client),
        "freelancer": None if job.is_open else job.freelancer,
        "freelancer_name": named(job.freelancer),
        "token": job.token,
        "arbiter": None if job.arbiter == J.ZERO_ADDRESS else job.arbiter,
        "deadline": job.deadline,
        "review_period": job.review_period,
        "fee_bps": job.fee_bps,
        "spec_hash": "0x" + job.spec_hash.hex(),
        "budget": format_amount(job.budget, decimals),
        "held": format_amount(job.held, decimals),
        "paid": format_amount(job.paid, decimals),
        "refunded": format_amount(job.refunded, decimals),
        "units": {"budget": job.budget, "held": job.held, "paid": job.paid, "refunded": job.refunded},
        "cancel_offer": None
        if job.cancel_proposer == J.ZERO_ADDRESS
        else {"by": job.cancel_proposer, "freelancer_amount": format_amount(job.cancel_amount, decimals)},
        "milestones": [
            {
                "number": i + 1,
                "status": m.status.label,
                "held": format_amount(m.amount, decimals),
                "paid": format_amount(m.paid, decimals),
                "revisions": m.revisions,
                "submitted_at": m.timestamp if m.status == J.MilestoneStatus.SUBMITTED else None,
                "deliverable": None if m.deliverable == J.ZERO_HASH else "0x" + m.deliverable.hex(),
                **({"disputed_at": m.timestamp} if m.status == J.MilestoneStatus.DISPUTED else {}),
                **({"deadlines": _deadlines_json(timing[i])} if timing is not None else {}),
            }
            for i, m in enumerate(job.milestones)
        ],
    }


def job_table(
    job: J.Job,
    decimals: int,
    symbol: str,
    ws: Workspace | None = None,
    timing: list[J.Deadlines] | None = None,
    credits: dict[str, tuple[str, int]] | None = None,
) -> Table:
    """`credits`: role -> (account, units) the escrow holds for the job's client and freelancer in
    the job's token (payouts the token refused), shown when not zero."""

    def who(address: str) -> str:
        if address == J.ZERO_ADDRESS:
            return "-"
        name = ws.name_of(address) if ws else None
        return f"{address} ({name})" if name else address

    table = Table(title=f"Job {job.job_id}: {job.status}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("client", who(job.client))
    table.add_row("freelancer", who(job.freelancer) if not job.is_open else "open for applications")
    if job.arbiter != J.ZERO_ADDRESS:
        table.add_row("arbiter", who(job.arbiter))
    table.add_row("budget", money(job.budget, decimals, symbol))
    table.add_row("in escrow", money(job.held, decimals, symbol))
    table.add_row("paid (gross)", money(job.paid, decimals, symbol))
    table.add_row("refunded", money(job.refunded, decimals, symbol))
    table.add_row("deadline", when(job.deadline))
    table.add_row("review window", format_duration(job.review_period))
    table.add_row("platform fee", f"{job.fee_bps / 100:g} %")
    if job.cancel_proposer != J.ZERO_ADDRESS:
        table.add_row(
            "cancel offer",
            f"{who(job.cancel_proposer)}: freelancer gets {money(job.cancel_amount, decimals, symbol)}",
        )
    for i, m in enumerate(job.milestones):
        detail = f"{m.status.label}; held {money(m.amount, decimals, symbol)}; paid {money(m.paid, decimals, symbol)}"
        d = timing[i] if timing is not None else J.Deadlines()
        if m.status == J.MilestoneStatus.SUBMITTED:
            detail += f"; submitted {when(m.timestamp)}"
            if d.review_until is not None and d.review_until < m.timestamp + job.review_period:
                detail += f", revisions and disputes until {when(d.review_until)}"
            detail += f", review until {when(m.timestamp + job.review_period)}"
        if m.status == J.MilestoneStatus.DISPUTED:
            detail += f"; disputed {when(m.timestamp)}"
            if d.verdict_from is not None:
                detail += f", the committee's verdict may settle it from {when(d.verdict_from)}"
            if d.released_from is not None:
                detail += f"; without a verdict, anyone may release it to the freelancer from {when(d.released_from)}"
            else:
                resolvable = d.resolvable_from or J.fallback_resolvable_at(job, i)
                detail += (
                    f"; unless the arbiter rules, anyone may end it (half each) from {when(resolvable or 0)}"
                )
        if m.revisions:
            detail += f"; {m.revisions} revision(s)"
        table.add_row(f"milestone {i + 1}", detail)
    for role, (account, units) in (credits or {}).items():
        if units:
            table.add_row(
                f"credited to the {role}",
                f"{money(units, decimals, symbol)} the token refused to deliver to {who(account)} "
                "(all its jobs; `proofwork job withdraw` pulls it)",
            )
    return table
