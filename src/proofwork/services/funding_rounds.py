"""Quadratic funding rounds (`FundingRound`): create, fund, apply, contribute, finalize, claim, refund,
and `verify`: the split recomputed from the chain's events by `domain.quadratic` and compared with
what the contract holds and paid."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from proofwork.domain import quadratic
from proofwork.domain.errors import InvalidInput, NotFound
from proofwork.services.manifest import artifact_for
from proofwork.services.workspace import Signer, Workspace

if TYPE_CHECKING:
    from proofwork.chain.funding import FundingRoundContract

DAY = 86_400
RULES = {"badge": 1, "attestation": 2}


def rounds(ws: Workspace) -> FundingRoundContract:
    """The deployed FundingRound's handle (NotFound when it is not deployed here)."""
    from proofwork.chain.funding import FundingRoundContract

    d = ws.deployment
    if not d.funding_rounds:
        raise NotFound("no funding rounds contract is deployed here: run `proofwork round deploy`")
    artifact = artifact_for(d, "funding_rounds", ws.artifacts)
    return FundingRoundContract(ws.chain, artifact, d.funding_rounds, d.funding_rounds_block or d.block)


def _known_round(handle: FundingRoundContract, round_id: int) -> None:
    if not 1 <= round_id <= handle.round_count():
        raise NotFound(f"round {round_id} does not exist")


def topics_for(rule: str, accepted: list[str]) -> tuple[int, list[bytes]]:
    """The rule kind and its topics: skills (hashed) for `badge`, schema uids (0x hex) for `attestation`."""
    from proofwork.chain.encoding import keccak

    if rule not in RULES:
        raise InvalidInput(f"unknown Sybil rule {rule!r}: expected badge or attestation")
    if not 1 <= len(accepted) <= 8:
        raise InvalidInput("a round accepts 1 to 8 skills or schemas")
    if rule == "badge":
        return RULES[rule], [keccak(s.encode()) for s in accepted]
    out = []
    for uid in accepted:
        try:
            raw = bytes.fromhex(uid.removeprefix("0x"))
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise InvalidInput(f"schema uid {uid!r} is not 32 bytes of hex")
        out.append(raw)
    return RULES[rule], out


def create_round(
    ws: Workspace,
    creator: Signer,
    *,
    pool: int,
    rule: str,
    accepted: list[str],
    apply_days: float,
    contribute_days: float,
    metadata_cid: str = "",
) -> int:
    """Creates a round (approving its pool first): applications for `apply_days`, contributions from
    now for `contribute_days` (at least as long). Returns its id."""
    kind, topics = topics_for(rule, accepted)
    if pool < 0:
        raise InvalidInput("the pool must not be negative")
    if not 0 < apply_days <= contribute_days <= 366:
        raise InvalidInput("expected 0 < application days <= contribution days <= 366")
    handle, token = rounds(ws), ws.token
    if pool:
        ws.chain.transact(creator.key, token.contract.functions.approve(handle.address, pool))
    start = ws.chain.next_timestamp()
    round_id, _ = handle.create_round(
        creator.key,
        token.address,
        pool,
        start + int(apply_days * DAY),
        start,
        start + int(contribute_days * DAY),
        kind,
        topics,
        metadata_cid,
    )
    return round_id


def apply(ws: Workspace, applicant: Signer, round_id: int, recipient: str, metadata_cid: str) -> int:
    handle = rounds(ws)
    _known_round(handle, round_id)
    project_id, _ = handle.apply_project(applicant.key, round_id, recipient, metadata_cid)
    return project_id


def contribute(
    ws: Workspace, contributor: Signer, round_id: int, project_id: int, amount: int, credential: bytes
) -> None:
    handle = rounds(ws)
    _known_round(handle, round_id)
    token = ws.token_at(handle.round(round_id).token)
    ws.chain.transact(contributor.key, token.contract.functions.approve(handle.address, amount))
    handle.contribute(contributor.key, round_id, project_id, amount, credential)


def finalize(ws: Workspace, caller: Signer, round_id: int) -> None:
    handle = rounds(ws)
    _known_round(handle, round_id)
    handle.finalize(caller.key, round_id)


def claim(ws: Workspace, caller: Signer, round_id: int, project_id: int) -> int:
    """Pays a project (to its recipient); returns the amount paid."""
    handle = rounds(ws)
    _known_round(handle, round_id)
    receipt = handle.claim(caller.key, round_id, project_id)
    paid = [e for e in handle.receipt_events(receipt) if e.name == "Claimed"]
    return int(paid[0].args["contributions"]) + int(paid[0].args["matching"])


def refund(ws: Workspace, caller: Signer, round_id: int, funder: str) -> int:
    handle = rounds(ws)
    _known_round(handle, round_id)
    receipt = handle.refund(caller.key, round_id, funder)
    return int(next(e for e in handle.receipt_events(receipt) if e.name == "Refunded").args["amount"])


@dataclass(frozen=True)
class Verification:
    """A round's split recomputed from its events, and every difference with the contract."""

    round_id: int
    split: quadratic.Split
    finalized: bool
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def verify(ws: Workspace, round_id: int) -> Verification:
    """Recomputes a round's split from its events (PoolFunded, ProjectApplied, Contributed) with
    `domain.quadratic` and compares it with the contract's records, its `matching_of` and, for claimed
    projects and refunds, with what was paid (Claimed, Refunded)."""
    from proofwork.chain.funding import contributions_of

    handle = rounds(ws)
    _known_round(handle, round_id)
    events = handle.round_events(round_id)
    pool = sum(int(e.args["amount"]) for e in events if e.name == "PoolFunded")
    projects = sum(1 for e in events if e.name == "ProjectApplied")
    split = quadratic.split(pool, projects, contributions_of(events))
    r = handle.round(round_id)
    bad: list[str] = []

    def same(what: str, ours: int, theirs: int) -> None:
        if ours != theirs:
            bad.append(f"{what}: recomputed {ours}, contract {theirs}")

    same("pool", split.pool, r.pool)
    same("projects", projects, r.project_count)
    same("contributions", split.contributions, r.contributions)
    same("total weight", split.total_weight, r.total_weight)
    for p in split.projects:
        onchain = handle.project(round_id, p.project)
        same(f"project {p.project} contributions", p.contributions, onchain.contributions)
        same(
            f"project {p.project} eligible contributions",
            p.eligible_contributions,
            onchain.eligible_contributions,
        )
        same(f"project {p.project} sum of roots", p.sqrt_sum, onchain.sqrt_sum)
        same(f"project {p.project} weight", p.weight, onchain.weight)
        same(f"project {p.project} matching", p.matching, handle.matching_of(round_id, p.project))
    for e in events:
        if e.name == "Claimed":
            p = split.projects[int(e.args["project_id"]) - 1]
            same(
                f"project {p.project} paid", p.payout, int(e.args["contributions"]) + int(e.args["matching"])
            )
    refunded = sum(int(e.args["amount"]) for e in events if e.name == "Refunded")
    if refunded > split.returned:
        bad.append(f"refunds: {refunded} returned to funders, recomputed at most {split.returned}")
    return Verification(round_id, split, r.finalized, bad)
