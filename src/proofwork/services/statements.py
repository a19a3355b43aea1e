"""A statement of every token payment in and out of an address that proofwork's contracts made:
funding and refunds of escrowed jobs, payments and fees, prizes and entry bonds, court fees and
rewards. For taxes and accounting, as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from proofwork.domain.addresses import parse_address
from proofwork.domain.units import format_amount
from proofwork.services.workspace import Workspace

CSV_COLUMNS = (
    "date",
    "block",
    "tx_hash",
    "direction",
    "amount",
    "token",
    "token_address",
    "counterparty",
    "counterparty_role",
)


@dataclass(frozen=True)
class StatementLine:
    time: int
    block: int
    tx_hash: str
    direction: str  # "in" or "out"
    units: int
    amount: str  # in token units (decimal string)
    token: str  # symbol
    token_address: str
    counterparty: str
    counterparty_role: str  # which proofwork contract: escrow, competition, court, ...


def proofwork_contracts(ws: Workspace) -> dict[str, str]:
    """address (lower case) -> role, for every contract of the deployment that moves tokens."""
    d = ws.deployment
    named = {
        "escrow": d.escrow,
        "committee": d.committee,
        "competition": d.competition,
        "court": d.court,
        "arbitrable": d.arbitrable,
    }
    return {address.lower(): role for role, address in named.items() if address}


def statement(ws: Workspace, address: str) -> list[StatementLine]:
    """Every transfer of the deployment's token (and the court's, when there is one) between
    `address` and a proofwork contract, in chain order."""
    address = parse_address(address, "address")
    contracts = proofwork_contracts(ws)
    tokens = [ws.token]
    if ws.deployment.court_token:
        tokens.append(ws.court_token)
    times: dict[int, int] = {}
    lines = []
    for token in tokens:
        decimals, symbol = token.decimals, token.symbol
        for event in token.transfers(address, ws.deployment.block):
            sender, receiver, value = event.args["sender"], event.args["receiver"], event.args["value"]
            outgoing = sender.lower() == address.lower()
            other = receiver if outgoing else sender
            role = contracts.get(other.lower())
            if role is None:
                continue  # a transfer proofwork did not make
            if event.block not in times:
                times[event.block] = ws.chain.block_time(event.block)
            lines.append(
                StatementLine(
                    times[event.block],
                    event.block,
                    event.tx_hash,
                    "out" if outgoing else "in",
                    value,
                    format_amount(value, decimals),
                    symbol,
                    token.address,
                    other,
                    role,
                )
            )
    lines.sort(key=lambda line: line.block)
    return lines


def statement_csv(lines: list[StatementLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow(
            [
                datetime.fromtimestamp(line.time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                line.block,
                line.tx_hash,
                line.direction,
                line.amount,
                line.token,
                line.token_address,
                line.counterparty,
                line.counterparty_role,
            ]
        )
    return out.getvalue()
