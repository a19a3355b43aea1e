"""`FundingRound`'s handle: quadratic funding rounds (pool, applications, contributions under a Sybil
rule, finalize, claim, refund), their records and their events as `domain.quadratic` contributions."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from proofwork.chain.events import ContractHandle, check_id
from proofwork.chain.receipts import Event, Receipt
from proofwork.domain import quadratic

RULE_BADGE = 1
RULE_ATTESTATION = 2


@dataclass(frozen=True)
class RoundInfo:
    """A round as the contract keeps it (see IFundingRound.Round)."""

    round_id: int
    creator: str
    token: str
    rule_kind: int
    applications_close: int
    contributions_open: int
    contributions_close: int
    finalized: bool
    project_count: int
    pool: int
    contributions: int
    total_weight: int
    weighted_projects: int
    settled_weighted: int
    matched_paid: int
    paid_out: int
    returned: int
    dust_paid: bool

    @property
    def held(self) -> int:
        """What the round still holds: pool + contributions - paid out - returned."""
        return self.pool + self.contributions - self.paid_out - self.returned


@dataclass(frozen=True)
class ProjectInfo:
    """A project of a round as the contract keeps it (see IFundingRound.Project)."""

    project_id: int
    recipient: str
    applicant: str
    contributions: int
    eligible_contributions: int
    sqrt_sum: int
    weight: int
    claimed: bool


class FundingRoundContract(ContractHandle):
    """`FundingRound`: many quadratic funding rounds in one contract, no owner key."""

    def create_round(
        self,
        key: bytes,
        token: str,
        pool: int,
        applications_close: int,
        contributions_open: int,
        contributions_close: int,
        rule_kind: int,
        topics: list[bytes],
        metadata_cid: str,
    ) -> tuple[int, Receipt]:
        fn = self.contract.functions.create_round(
            Web3.to_checksum_address(token),
            pool,
            applications_close,
            contributions_open,
            contributions_close,
            rule_kind,
            topics,
            metadata_cid,
        )
        receipt = self.chain.transact(key, fn)
        created = [e for e in self.receipt_events(receipt) if e.name == "RoundCreated"]
        return int(created[0].args["round_id"]), receipt

    def fund(self, key: bytes, round_id: int, amount: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.fund(check_id(round_id, "round id"), amount))

    def apply_project(
        self, key: bytes, round_id: int, recipient: str, metadata_cid: str
    ) -> tuple[int, Receipt]:
        fn = self.contract.functions.apply_project(
            check_id(round_id, "round id"), Web3.to_checksum_address(recipient), metadata_cid
        )
        receipt = self.chain.transact(key, fn)
        applied = [e for e in self.receipt_events(receipt) if e.name == "ProjectApplied"]
        return int(applied[0].args["project_id"]), receipt

    def contribute(
        self, key: bytes, round_id: int, project_id: int, amount: int, credential: bytes
    ) -> Receipt:
        fn = self.contract.functions.contribute(
            check_id(round_id, "round id"), check_id(project_id, "project id"), amount, credential
        )
        return self.chain.transact(key, fn)

    def finalize(self, key: bytes, round_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.finalize(check_id(round_id, "round id")))

    def claim(self, key: bytes, round_id: int, project_id: int) -> Receipt:
        fn = self.contract.functions.claim(check_id(round_id, "round id"), check_id(project_id, "project id"))
        return self.chain.transact(key, fn)

    def refund(self, key: bytes, round_id: int, funder: str) -> Receipt:
        fn = self.contract.functions.refund(check_id(round_id, "round id"), Web3.to_checksum_address(funder))
        return self.chain.transact(key, fn)

    def round_count(self) -> int:
        return int(self.chain.call(self.contract.functions.round_count()))

    def round(self, round_id: int) -> RoundInfo:
        values = self.chain.call(self.contract.functions.round(check_id(round_id, "round id")))
        return RoundInfo(round_id, *values)

    def project(self, round_id: int, project_id: int) -> ProjectInfo:
        fn = self.contract.functions.project(
            check_id(round_id, "round id"), check_id(project_id, "project id")
        )
        return ProjectInfo(project_id, *self.chain.call(fn))

    def matching_of(self, round_id: int, project_id: int) -> int:
        fn = self.contract.functions.matching_of(
            check_id(round_id, "round id"), check_id(project_id, "project id")
        )
        return int(self.chain.call(fn))

    def refund_due(self, round_id: int, funder: str) -> int:
        fn = self.contract.functions.refund_due(
            check_id(round_id, "round id"), Web3.to_checksum_address(funder)
        )
        return int(self.chain.call(fn))

    def round_events(self, round_id: int) -> list[Event]:
        """Every event of a round, in chain order."""
        names = (
            "RoundCreated",
            "PoolFunded",
            "ProjectApplied",
            "Contributed",
            "RoundFinalized",
            "Claimed",
            "Refunded",
        )
        return self.events(*names, subject=round_id)


def contributions_of(events: list[Event]) -> list[quadratic.Contribution]:
    """A round's contributions, from its Contributed events."""
    return [
        quadratic.Contribution(
            int(e.args["project_id"]),
            str(e.args["contributor"]),
            int(e.args["amount"]),
            bool(e.args["matched"]),
        )
        for e in events
        if e.name == "Contributed"
    ]
