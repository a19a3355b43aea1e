"""A statement of an account: every payment in the deployment's token into or out of it that a
proofwork contract made or took (job funding, milestone payouts, refunds, competition prizes and
bonds, court fees), one row per token transfer, as CSV for taxes and accounting.

Amounts are exact: the integer in the token's smallest units and the same amount in token units as
a decimal string (never a float)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from proofwork.domain.addresses import parse_address
from proofwork.domain.units import format_amount
from proofwork.services.manifest import CONTRACTS
from proofwork.services.workspace import Workspace

COLUMNS = (
    "date_utc",
    "timestamp",
    "block",
    "transaction",
    "direction",
    "amount",
    "amount_units",
    "token",
    "token_address",
    "counterparty",
    "contract",
    "job",
)


@dataclass(frozen=True)
class StatementLine:
    timestamp: int
    block: int
    tx_hash: str
    direction: str  # "in" or "out"
    amount: int  # token units (integer)
    counterparty: str
    contract: str  # which proofwork contract: escrow, committee, competition, court...
    job: int | None  # the escrow job the transaction acted on, when there is one


@dataclass(frozen=True)
class Statement:
    address: str
    token: str
    symbol: str
    decimals: int
    lines: list[StatementLine]

    @property
    def total_in(self) -> int:
        return sum(line.amount for line in self.lines if line.direction == "in")

    @property
    def total_out(self) -> int:
        return sum(line.amount for line in self.lines if line.direction == "out")

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for line in self.lines:
            writer.writerow(
                [
                    datetime.fromtimestamp(line.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    line.timestamp,
                    line.block,
                    line.tx_hash,
                    line.direction,
                    ("-" if line.direction == "out" else "") + format_amount(line.amount, self.decimals),
                    line.amount if line.direction == "in" else -line.amount,
                    text_cell(self.symbol),
                    self.token,
                    line.counterparty,
                    line.contract,
                    "" if line.job is None else line.job,
                ]
            )
        return out.getvalue()


def text_cell(text: str) -> str:
    """A free-text cell a spreadsheet will not run: text starting with = + - @ or a tab or carriage
    return is a formula to Excel and LibreOffice (CSV injection), so it gets a leading apostrophe, as
    OWASP advises. The token's symbol is the one such cell: the token contract chooses it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def proofwork_contracts(ws: Workspace) -> dict[str, str]:
    """Lower-case address -> role of every contract of this deployment (the token aside)."""
    d = ws.deployment
    out: dict[str, str] = {}
    for role in CONTRACTS:
        address = getattr(d, role, "")
        if address and role not in ("token", "court_token"):
            out[address.lower()] = role
    return out


def statement(ws: Workspace, address: str) -> Statement:
    """Every transfer of the deployment's token between `address` and a proofwork contract."""
    from proofwork.chain.unsigned import block_timestamp, job_event_transactions, transfers

    account = parse_address(address, "address")
    token = ws.token
    contracts = proofwork_contracts(ws)
    jobs_by_tx: dict[str, int] = {}
    for _, tx_hash, _, job_id in job_event_transactions(ws.escrow):
        jobs_by_tx.setdefault(tx_hash, job_id)
    times: dict[int, int] = {}
    lines = []
    for t in transfers(ws.chain, token.address, account, ws.deployment.block):
        incoming = t.recipient.lower() == account.lower()
        other = t.sender if incoming else t.recipient
        role = contracts.get(other.lower())
        if role is None:
            continue
        if t.block not in times:
            times[t.block] = block_timestamp(ws.chain, t.block)
        lines.append(
            StatementLine(
                times[t.block],
                t.block,
                t.tx_hash,
                "in" if incoming else "out",
                t.amount,
                other,
                role,
                jobs_by_tx.get(t.tx_hash),
            )
        )
    return Statement(account, token.address, token.symbol, token.decimals, lines)
