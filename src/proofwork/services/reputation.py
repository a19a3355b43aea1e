"""Reputation: personalised EigenTrust over the JobCompleted attestation graph, seeded by the
accredited issuers and the accounts they vouched for, and its export as a signed credential."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import NotFound
from proofwork.services.attestations import job_completions
from proofwork.services.badges import minted_badges
from proofwork.services.credentials import issuing
from proofwork.services.event_reads import EventReader
from proofwork.services.issuers import directory_for
from proofwork.services.workspace import Workspace

if TYPE_CHECKING:  # numpy and scipy load only when a reputation is computed, not at every CLI start
    from proofwork.domain.reputation import PaidJob

ALPHA = 0.5
# Payments are valued in one unit: US dollars in millionths (what a 6-decimal stablecoin counts in).
UNIT = "USD"
UNIT_DECIMALS = 6


def accepted_tokens(ws: Workspace) -> dict[str, int]:
    """The tokens whose payments count, by lowercase address, with their decimals: the stablecoins
    the deployment accepts (today its one token). A job paid in any other token (one a self-dealer
    minted, say) counts for nothing: neither in the graph nor in the totals."""
    return {ws.deployment.token.lower(): ws.token.decimals}


def in_unit(amount: int, decimals: int) -> int:
    """A token amount in the reputation's unit (UNIT_DECIMALS), rounded down: integers only."""
    if decimals >= UNIT_DECIMALS:
        return amount // 10 ** (decimals - UNIT_DECIMALS)
    return amount * 10 ** (UNIT_DECIMALS - decimals)


def trust_seeds(ws: Workspace, reader: EventReader | None = None) -> dict[str, float]:
    """Pre-trusted accounts: the accredited issuers, and the accounts they vouched for by minting them
    a badge themselves (not badges earned by jobs, which the graph already counts). The badges come
    from the chain index when it is caught up (`reader`), else from the logs."""
    registry = ws.issuer_registry
    accredited = {i.address.lower(): i.address for i in registry.issuers() if i.accredited}
    seeds = {address: 1.0 for address in accredited.values()}
    for badge in minted_badges(ws, reader):
        if not badge.by_job and badge.issuer.lower() in accredited:
            seeds[badge.holder] = 1.0
    return seeds


@dataclass(frozen=True)
class ReputationView:
    address: str
    score: float
    rank: int  # among the accounts paid for work, 1 = highest; 0 when the account has no score
    accounts: int  # accounts paid for work (the ranking's population)
    paid_jobs: int
    verified_jobs: int
    total_paid: int  # in UNIT, at UNIT_DECIMALS
    contributions: list[tuple[PaidJob, float]]
    seed_share: float
    seeds: int
    block: int
    accepted: tuple[str, ...] = ()  # the tokens whose payments counted

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "score": self.score,
            "rank": self.rank,
            "accounts": self.accounts,
            "paid_jobs": self.paid_jobs,
            "verified_jobs": self.verified_jobs,
            "total_paid": self.total_paid,
            "unit": f"{UNIT} (x10^-{UNIT_DECIMALS})",
            "accepted_tokens": list(self.accepted),
            "seed_share": self.seed_share,
            "seeds": self.seeds,
            "block": self.block,
            "top_jobs": [
                {
                    "job": job.job_id,
                    "milestone": job.milestone + 1,
                    "client": job.client,
                    "amount": job.amount,
                    "score": job.score,
                    "attestation": job.uid,
                    "contribution": contribution,
                }
                for job, contribution in self.contributions
            ],
        }


def reputation_graph(ws: Workspace) -> tuple[list[PaidJob], dict[str, float]]:
    """The paid jobs (in accepted tokens only, amounts in UNIT) and the trust seeds: the attestations
    and badges read from the chain index when it is caught up, else from the logs (one source for
    both)."""
    with EventReader(ws) as reader:
        return _graph(ws, reader)


def _graph(ws: Workspace, reader: EventReader) -> tuple[list[PaidJob], dict[str, float]]:
    from proofwork.domain.reputation import PaidJob

    accepted = accepted_tokens(ws)
    jobs = [
        PaidJob(
            r.job_id,
            r.client,
            r.freelancer,
            in_unit(r.amount_paid, accepted[r.token.lower()]),
            r.score if r.verified else None,
            milestone=r.milestone,
            uid="0x" + r.uid.hex(),
        )
        for r in job_completions(ws, reader=reader)
        if r.token.lower() in accepted
    ]
    return jobs, trust_seeds(ws, reader)


def reputation_of(ws: Workspace, address: str, top: int = 5) -> ReputationView:
    """Personalised EigenTrust over the JobCompleted graph, seeded by the accredited issuers."""
    address = ws.address(address)
    jobs, seeds = reputation_graph(ws)
    block = ws.chain.block_number()
    if not seeds:
        raise NotFound(
            "no accredited issuer yet: reputation needs pre-trusted seeds (`proofwork issuer register`)"
        )
    from proofwork.domain.reputation import compute_reputation

    rep = compute_reputation(jobs, seeds, alpha=ALPHA)
    key = next((a for a in rep.addresses if a.lower() == address.lower()), address)
    score = rep.score(key)
    workers = {j.freelancer for j in jobs if j.client != j.freelancer}
    scores = [rep.score(w) for w in workers]
    rank = 1 + sum(1 for s in scores if s > score) if score > 0 else 0
    mine = [j for j in jobs if j.freelancer.lower() == address.lower()]
    return ReputationView(
        address,
        score,
        rank,
        len(workers),
        len(mine),
        sum(1 for j in mine if j.score is not None),
        sum(j.amount for j in mine),
        rep.explain(key, top),
        rep.seed_share(key),
        len(seeds),
        block,
        tuple(parse_address(t) for t in accepted_tokens(ws)),
    )


def export_reputation(
    ws: Workspace, issuer_name: str, holder: str, *, valid_for: int = 30 * 86_400, top: int = 5
) -> tuple[issuing.IssuedRecord, ReputationView]:
    """A reputation summary credential (SD-JWT VC) for `holder`, signed by a local issuer profile.
    Every claim is selectively disclosable; it names the chain, the attestation contract and the block
    it was computed at, so a verifier can recompute it, and it verifies offline when the issuer is a
    wallet (did:pkh) or a did:key."""
    view = reputation_of(ws, holder, top)
    claims = {
        "address": view.address,
        "score": round(view.score, 12),
        "rank": view.rank,
        "accounts": view.accounts,
        "paid_jobs": view.paid_jobs,
        "verified_jobs": view.verified_jobs,
        "total_paid": str(view.total_paid),
        "unit": f"{UNIT} (x10^-{UNIT_DECIMALS}); only payments in the accepted tokens count",
        "accepted_tokens": list(view.accepted),
        "top_jobs": [
            {"job": j["job"], "milestone": j["milestone"], "attestation": j["attestation"]}
            for j in view.to_json()["top_jobs"]
        ],
        "algorithm": f"personalised EigenTrust, alpha {ALPHA}, seeds: accredited issuers and their badge holders",
        "chain_id": ws.chain_id,
        "attestations": ws.deployment.attestations,
        "block": view.block,
        "computed_at": int(time.time()),
    }
    record = issuing.issue_credential_for(
        ws,
        issuer_name,
        holder=holder,
        vct=issuing.VCT_REPUTATION_SUMMARY,
        claims=claims,
        valid_for=valid_for,
        directory=directory_for(ws),
    )
    return record, view
