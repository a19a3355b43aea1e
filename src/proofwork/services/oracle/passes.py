"""What an oracle pass deals in, shared by its job and competition duties: the peers' client, the
pass's report, abstention, and a stored report's signature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from proofwork.db.oracle_state import Report
from proofwork.domain.errors import ProofworkError


class PeerClient(Protocol):
    def reports(self, endpoint: str, contract: str, kind: str, subject: int) -> list[dict[str, Any]]: ...


Tamper = Callable[[str, int, int], int]  # (kind, subject, honest score) -> reported score


class Abstain(ProofworkError):
    """This oracle signs nothing for now (not the freelancer's fault, or worth retrying)."""


@dataclass
class StepReport:
    scored: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    revealed: list[int] = field(default_factory=list)
    finalized: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)  # competitions whose labels this pass confirmed
    failures: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.scored or self.settled or self.revealed or self.finalized or self.confirmed)


def signature_of(report: Report) -> bytes:
    return bytes.fromhex(report.signature.removeprefix("0x"))
