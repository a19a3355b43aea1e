"""JobCompleted attestations of paid milestones (EAS data model), the skill a job earns, and reviews
between the parties of a paid job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proofwork.domain import job as J
from proofwork.domain.errors import NotAllowed, NotFound, ProofworkError
from proofwork.services.badges import check_skill
from proofwork.services.event_reads import EventReader
from proofwork.services.jobs import Jobs
from proofwork.services.oracle.job_reports import gather_reports
from proofwork.services.oracle.passes import PeerClient
from proofwork.services.workspace import Signer, Workspace

if TYPE_CHECKING:
    from proofwork.chain.attestations import JobAttesterContract
    from proofwork.chain.committee import CommitteeContract
    from proofwork.chain.receipts import Receipt


@dataclass(frozen=True)
class Attested:
    job_id: int
    milestone: int
    uid: bytes
    verified: bool
    score: int
    badge: int  # token id awarded, 0 for none
    gas: int
    threshold: int = 0  # the pass score a verified record was judged against


def declare_skill(ws: Workspace, client: Signer, job_id: int, skill: str) -> int:
    """The client names the job's skill category (once, before anything settles); returns gas."""
    skill = check_skill(skill)
    job = Jobs(ws).get(job_id)
    if job.client.lower() != client.address.lower():
        raise NotAllowed(f"only job {job_id}'s client declares its skill")
    return ws.job_attester.declare_skill(client.key, job, skill).gas_used


CanonicalReports = tuple[list[str], list[int], list[bytes]]  # signers (ascending), scores, signatures


def attest_settled(
    ws: Workspace,
    caller: Signer,
    job_id: int,
    *,
    unverified: bool = False,
    peers: PeerClient | None = None,
) -> list[Attested]:
    """Attests JobCompleted for every milestone of the job that paid the freelancer and is not yet
    attested. Anyone may call it: the attester derives everything from the escrow's state and, on a
    job the oracle committee evaluates, from the committee reports of exactly the round's canonical
    signers (`canonical_signers`): read back from the settling transaction, or, for a milestone paid
    otherwise (the client approved it, a dispute ended), fetched from the oracles' endpoints
    (`peers`). A milestone paid without a settlement whose designated quorum's reports cannot all be
    had (one of them never signed) gets its canonical signers recorded first, once its designated
    period is over: every valid report held, a quorum at least (`record_signers`, sent by `caller`).
    When the reports cannot be had, only the milestone's freelancer may record it unverified, and only
    by asking (`unverified`). A milestone that cannot be attested does not stop
    the others; if any failed, NotAllowed names them after the rest are done."""
    job = Jobs(ws).get(job_id)
    attester = ws.job_attester
    committee = ws.committee if ws.deployment.committee else None
    evaluation = None
    if committee is not None and job.arbiter.lower() == committee.address.lower():
        evaluation = committee.evaluation(job_id)
    own_peers = None
    if evaluation is not None and peers is None:
        from proofwork.network.peers import HttpPeers

        peers = own_peers = HttpPeers()
    is_freelancer = caller.address.lower() == job.freelancer.lower()
    out: list[Attested] = []
    failed: list[str] = []
    try:
        for index, milestone in enumerate(job.milestones):
            if (
                milestone.status not in (J.MilestoneStatus.PAID, J.MilestoneStatus.RESOLVED)
                or milestone.paid == 0
            ):
                continue
            if attester.attestation_of(job_id, index) != J.ZERO_HASH:
                continue
            reports: CanonicalReports = ([], [], [])
            if evaluation is not None and milestone.deliverable != J.ZERO_HASH:
                assert committee is not None and peers is not None
                try:
                    found = canonical_reports(
                        committee,
                        peers,
                        job,
                        index,
                        evaluation.commitment,
                        recorder=caller,
                        now=ws.chain.next_timestamp(),
                    )
                except ProofworkError as exc:
                    failed.append(f"milestone {index + 1}: recording its canonical oracles failed: {exc}")
                    continue
                if found is not None:
                    reports = found
                elif not (is_freelancer and unverified):
                    failed.append(
                        f"milestone {index + 1}: the reports of its canonical oracles cannot be had (the "
                        "committee did not settle it and their endpoints do not serve them; other oracles' "
                        "reports stand in for them only as a quorum, after its designated period); only its "
                        f"freelancer ({job.freelancer}) may record it unverified, with `proofwork attest job "
                        f"{job_id} --unverified`"
                    )
                    continue
            try:
                receipt = attester.attest_job(caller.key, job, index, *reports)
            except ProofworkError as exc:
                failed.append(f"milestone {index + 1}: {exc}")
                continue
            out.append(_attested(attester, job_id, index, receipt))
    finally:
        if own_peers is not None:
            own_peers.close()
    if failed:
        done = f"attested {len(out)} milestone(s); " if out else ""
        raise NotAllowed(f"job {job_id}: {done}could not attest " + "; ".join(failed))
    return out


def canonical_reports(
    committee: CommitteeContract,
    peers: PeerClient,
    job: J.Job,
    index: int,
    commitment: bytes,
    recorder: Signer | None = None,
    now: int = 0,
) -> CanonicalReports | None:
    """The reports of exactly the canonical signers of the milestone's current round (in their
    ascending order), from its settlement when the committee settled it with them, else from the
    oracles' endpoints; None when some cannot be had. With a `recorder`, a milestone paid without a
    settlement (PAID) whose canonical reports are incomplete gets every valid report held recorded as
    its canonical signers (`record_signers`), when they are a quorum and its designated period is
    over at `now`."""
    milestone = job.milestones[index]
    canonical = committee.canonical_signers(job.job_id, index, milestone.revisions, milestone.deliverable)
    settlement = committee.settlement(job.job_id, index, milestone.deliverable)
    if (
        settlement is not None
        and settlement.round == milestone.revisions
        and settlement.scores
        and [s.lower() for s in settlement.signers] == [c.lower() for c in canonical]
    ):
        return list(settlement.signers), list(settlement.scores), list(settlement.signatures)
    held = gather_reports(committee, peers, job, index, commitment)
    if not all(c.lower() in held for c in canonical):
        if recorder is None or not _record_signers(committee, recorder, job, index, held, now):
            return None
        canonical = committee.canonical_signers(job.job_id, index, milestone.revisions, milestone.deliverable)
        if not all(c.lower() in held for c in canonical):
            return None
    chosen = [held[c.lower()] for c in canonical]
    return list(canonical), [score for score, _ in chosen], [sig for _, sig in chosen]


def _record_signers(
    committee: CommitteeContract, recorder: Signer, job: J.Job, index: int, held: dict[str, Any], now: int
) -> bool:
    """Records the held reports as the canonical signers of a round paid without a settlement, when
    the contract allows it (PAID after delivery, designated period over, a quorum, none recorded);
    False when it does not apply. Another relayer's recording first is fine (the caller re-reads)."""
    from proofwork.domain.errors import TransactionRejected

    milestone = job.milestones[index]
    if (
        not committee.has("record_signers")
        or milestone.status != J.MilestoneStatus.PAID
        or milestone.deliverable == J.ZERO_HASH
        or now <= milestone.timestamp + 2 * committee.challenge_window
        or len(held) < committee.threshold
    ):
        return False
    ordered = sorted(held.items(), key=lambda item: int(item[0], 16))
    try:
        committee.record_signers(
            recorder.key, job, index, [score for _, (score, _) in ordered], [sig for _, (_, sig) in ordered]
        )
    except TransactionRejected as exc:
        if "signers already recorded" not in str(exc):
            raise
    return True


def _attested(attester: JobAttesterContract, job_id: int, index: int, receipt: Receipt) -> Attested:
    uid, verified, score, threshold, badge = b"", False, 0, 0, 0
    for event in attester.receipt_events(receipt):
        if event.name == "JobAttested":
            uid, verified = bytes(event.args["uid"]), bool(event.args["verified"])
            score, threshold = int(event.args["score"]), int(event.args["threshold"])
        elif event.name == "BadgeAwarded":
            badge = int(event.args["token_id"])
    return Attested(job_id, index, uid, verified, score, badge, receipt.gas_used, threshold)


def review(
    ws: Workspace, reviewer: Signer, job_id: int, milestone: int, rating: int, comment: str = ""
) -> bytes:
    """A client or freelancer reviews the other party of a paid, attested job (EAS refUID)."""
    from proofwork.chain.attestations import review_data
    from proofwork.chain.encoding import keccak

    uid = ws.job_attester.attestation_of(job_id, milestone)
    if uid == J.ZERO_HASH:
        raise NotFound(f"job {job_id} milestone {milestone + 1} has no JobCompleted attestation to review")
    job = Jobs(ws).get(job_id)
    me = reviewer.address.lower()
    if me == job.client.lower():
        other = job.freelancer
    elif me == job.freelancer.lower():
        other = job.client
    else:
        raise NotAllowed(f"only job {job_id}'s client or freelancer may review it")
    data = review_data(rating, keccak(comment.encode()))
    schema = bytes.fromhex(ws.deployment.review_schema[2:])
    receipt = ws.attestations.attest(reviewer.key, schema, other, uid, data, revocable=True)
    return ws.attestations.attested_uid(receipt)


@dataclass(frozen=True)
class Review:
    uid: bytes
    job_id: int
    milestone: int
    reviewer: str
    reviewee: str
    rating: int
    comment_hash: bytes
    time: int


def attested_uids(
    ws: Workspace, schema: bytes, recipient: str | None = None, reader: EventReader | None = None
) -> list[bytes]:
    """uids of the attestations made in `schema` (optionally to `recipient`), in chain order: from
    the `Attested` events in the chain index when it is caught up, else in the logs."""
    where: dict[str, object] = {"schemaUID": schema}
    if recipient is not None:
        where["recipient"] = recipient
    if reader is None:
        with EventReader(ws) as own:
            events = own.events(ws.attestations, "Attested", where=where)
    else:
        events = reader.events(ws.attestations, "Attested", where=where)
    return [bytes(e.args["uid"]) for e in events]


def reviews_of(ws: Workspace, address: str | None = None) -> list[Review]:
    """Reviews (not revoked), optionally only those received by `address`, with the job each
    references through its JobCompleted."""
    from eth_abi import decode as abi_decode

    from proofwork.chain.attestations import REVIEW_TYPES, decode_job_completed

    attestations = ws.attestations
    schema = bytes.fromhex(ws.deployment.review_schema[2:])
    out = []
    for uid in attested_uids(ws, schema, ws.address(address) if address else None):
        record = attestations.get(uid)
        if record.revocation_time:
            continue
        rating, comment_hash = abi_decode(REVIEW_TYPES, record.data)
        job = decode_job_completed(attestations.get(record.ref_uid))
        out.append(
            Review(
                uid,
                job.job_id,
                job.milestone,
                record.attester,
                record.recipient,
                int(rating),
                bytes(comment_hash),
                record.time,
            )
        )
    return out


def job_completions(
    ws: Workspace, freelancer: str | None = None, *, reader: EventReader | None = None
) -> list[Any]:
    """Every JobCompleted attestation (not revoked), decoded; only `freelancer`'s when given (the
    attestation's recipient). Which exist comes from the chain index when it is caught up, else from
    the logs; each record (its data, whether it was revoked) is read from the contract."""
    from proofwork.chain.attestations import decode_job_completed

    attestations = ws.attestations
    schema = bytes.fromhex(ws.deployment.job_completed_schema[2:])
    # Only the job attester can attest this schema (the resolver refuses anyone else); checked again
    # here so that a misconfigured deployment cannot feed the graph.
    attester = ws.deployment.job_attester.lower()
    records = [attestations.get(uid) for uid in attested_uids(ws, schema, freelancer, reader)]
    completed = [decode_job_completed(r) for r in records if r.attester.lower() == attester]
    return [c for c in completed if not c.revoked]
