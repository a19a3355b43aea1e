"""Job actions for a browser wallet: the same checks as the signed use cases (`jobs`, `evaluated_jobs`),
then the transactions to send, unsigned (`chain.unsigned.UnsignedTx`), instead of sending them.

The server never holds the user's key. An evaluated job's hidden labels are salted, committed to and
kept here (like `proofwork eval post` keeps them in the client's data directory) so that they can be
sealed to the oracles once the job exists and revealed after settlement; the wallet signs the approval,
the job's creation and the evaluation's registration."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from proofwork.domain import job as J
from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotFound
from proofwork.services.jobs import Jobs
from proofwork.services.workspace import Workspace

if TYPE_CHECKING:
    from proofwork.chain.unsigned import UnsignedTx

MAX_DELIVERABLE_BYTES = 256 << 20


def _check_post(
    ws: Workspace, client: str, amounts: list[int], deadline: int, review_period: int, freelancer: str | None
) -> None:
    if freelancer is not None and freelancer.lower() == client.lower():
        raise InvalidInput("the client cannot be the freelancer of their own job")
    if deadline <= ws.chain.next_timestamp():
        raise InvalidInput("the deadline must be in the future")
    if not 0 < review_period <= J.MAX_REVIEW_PERIOD:
        raise InvalidInput("the review window must be longer than zero and at most 365 days")
    total = sum(amounts)
    token = ws.token
    balance = token.balance_of(client)
    if balance < total:
        raise InvalidInput(
            f"insufficient balance: {client} has {balance} units of {token.symbol}, the job needs {total}"
        )


def _funding(ws: Workspace, client: str, total: int) -> list[UnsignedTx]:
    from proofwork.chain import unsigned

    escrow = ws.escrow
    if ws.token.allowance(client, escrow.address) >= total:
        return []
    return [unsigned.token_approve(ws.token, escrow.address, total)]


def post_job(
    ws: Workspace,
    client: str,
    *,
    budget: int,
    milestones: int,
    deadline: int,
    review_period: int,
    freelancer: str | None = None,
    arbiter: str | None = None,
) -> list[UnsignedTx]:
    """A plain escrowed job: the token approval (when the allowance is short) and the creation."""
    from proofwork.chain import unsigned

    client = parse_address(client, "client")
    freelancer = parse_address(freelancer, "freelancer") if freelancer else None
    arbiter = parse_address(arbiter, "arbiter") if arbiter else None
    amounts = Jobs._amounts(budget, milestones)
    _check_post(ws, client, amounts, deadline, review_period, freelancer)
    create = unsigned.create_job(
        ws.escrow,
        ws.token.address,
        freelancer or J.ZERO_ADDRESS,
        amounts,
        deadline,
        review_period,
        J.ZERO_HASH,
        arbiter or J.ZERO_ADDRESS,
    )
    return [*_funding(ws, client, sum(amounts)), create]


def post_evaluated_job(
    ws: Workspace,
    client: str,
    spec: bytes,
    labels: bytes,
    *,
    budget: int,
    milestones: int,
    deadline: int,
    review_period: int,
    freelancer: str | None = None,
    tolerance: int | None = None,
) -> tuple[list[UnsignedTx], bytes]:
    """A job judged by the oracle committee against hidden labels: the spec and labels are checked
    and stored, the labels' salt and commitment kept here; returns the approval and creation to
    send, and the spec hash (then `register_evaluation` once the job exists)."""
    from proofwork.chain import unsigned
    from proofwork.services.evaluated_jobs import (
        DEFAULT_TOLERANCE,
        MAX_TOLERANCE,
        Evaluations,
        check_review_period,
        prepare_hidden_task,
    )

    client = parse_address(client, "client")
    freelancer = parse_address(freelancer, "freelancer") if freelancer else None
    tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    if not 0 <= tolerance <= MAX_TOLERANCE:
        raise InvalidInput(f"the outlier tolerance must be between 0 and {MAX_TOLERANCE} (fixed point)")
    committee = ws.committee
    check_review_period(review_period, committee.challenge_window)
    amounts = Jobs._amounts(budget, milestones)
    _check_post(ws, client, amounts, deadline, review_period, freelancer)
    evaluations = Evaluations(ws)
    with tempfile.TemporaryDirectory(prefix="proofwork-post-") as tmp:
        spec_path, labels_path = Path(tmp) / "spec.yaml", Path(tmp) / "labels"
        spec_path.write_bytes(spec)
        labels_path.write_bytes(labels)
        task = prepare_hidden_task(ws, evaluations.files, spec_path, labels_path)
    params = evaluations.stage(task, tolerance)
    spec_hash = params.hash
    create = unsigned.create_job(
        ws.escrow,
        ws.token.address,
        freelancer or J.ZERO_ADDRESS,
        amounts,
        deadline,
        review_period,
        spec_hash,
        committee.address,
    )
    return [*_funding(ws, client, sum(amounts)), create], spec_hash


def register_evaluation(ws: Workspace, job_id: int) -> UnsignedTx:
    """The registration of an evaluated job's evaluation, its labels sealed to every oracle's key."""
    from proofwork.chain import unsigned
    from proofwork.chain.encoding import labels_commitment
    from proofwork.keys.sealing import seal
    from proofwork.services.evaluated_jobs import EvaluationParams, Evaluations
    from proofwork.services.task_files import HiddenLabels, committee_recipients
    from proofwork.storage.unixfs import cid_to_bytes

    evaluations = Evaluations(ws)
    job = evaluations.jobs.get(job_id)
    if not evaluations.jobs.judged_by_committee(job):
        raise InvalidInput(f"job {job_id} is not judged by the oracle committee")
    path = evaluations._secret_path(job_id)
    if not path.exists():
        evaluations._claim_pending(job.spec_hash, job_id)
    params_path = path.with_suffix(".evaluation.json")
    if not path.exists() or not params_path.exists():
        raise NotFound(f"no hidden labels for job {job_id} on this server (only its client has them)")
    hidden = HiddenLabels.from_json(path.read_bytes())
    params = EvaluationParams.from_json(params_path.read_bytes())
    if params.hash != job.spec_hash:
        raise ArtifactCorrupted(
            f"the evaluation kept for job {job_id} is not the one its spec hash commits to"
        )
    if labels_commitment(hidden.cid_bytes, hidden.salt, params.spec_digest) != params.commitment:
        raise ArtifactCorrupted("the hidden labels kept here do not open the evaluation's commitment")
    sealed_cid = ws.store.add_bytes(seal(hidden.to_json(), committee_recipients(ws.committee)))
    return unsigned.register_evaluation(
        ws.committee,
        job,
        params.spec_digest,
        params.commitment,
        params.threshold,
        params.higher_is_better,
        params.tolerance,
        cid_to_bytes(sealed_cid),
    )


def submit_deliverable(
    ws: Workspace, freelancer: str, job_id: int, milestone: int, deliverable: bytes
) -> tuple[UnsignedTx, str]:
    """Stores the deliverable (a model, predictions, a report) and returns the submission of its
    hash, after the escrow's rules and, for a committee job, the evaluation's binding are checked."""
    from proofwork.chain import unsigned
    from proofwork.storage.unixfs import cid_digest

    freelancer = parse_address(freelancer, "freelancer")
    if not deliverable:
        raise InvalidInput("the deliverable is empty")
    if len(deliverable) > MAX_DELIVERABLE_BYTES:
        raise InvalidInput(f"the deliverable is larger than {MAX_DELIVERABLE_BYTES} bytes")
    jobs = Jobs(ws)
    job = jobs.get(job_id)
    J.check_submit(job, milestone, freelancer, ws.chain.next_timestamp())
    jobs._check_evaluation(job)
    cid = ws.store.add_bytes(deliverable)
    return unsigned.submit(ws.escrow, job, milestone, cid_digest(cid)), cid


def approve_milestone(ws: Workspace, client: str, job_id: int, milestone: int) -> UnsignedTx:
    from proofwork.chain import unsigned

    client = parse_address(client, "client")
    job = Jobs(ws).get(job_id)
    J.check_payable(job, milestone, client)
    return unsigned.approve_milestone(ws.escrow, job, milestone)
