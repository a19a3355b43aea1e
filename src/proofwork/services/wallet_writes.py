"""Writes a user's own wallet signs, for the REST API and the web app alike: the same checks as the
key-holding use cases (`jobs`, `evaluated_jobs`), then the one next thing for the wallet to sign (an
unsigned transaction, `chain.unsigned.UnsignedTx`, or first the EIP-2612 permit that funds a job) instead
of a sent transaction; and what the wallet signed, checked (`Chain.check_signed`: this chain, the acting
address, a call prepared here, a fresh nonce, bounded size) and broadcast. The server never sees a key.

An evaluated job's hidden labels are salted, committed to and kept here (as `proofwork eval post` keeps
them in the client's data directory) so that they can be sealed to the oracles once the job exists
(`prepare_register`) and revealed after settlement."""

from __future__ import annotations

import builtins
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofwork.chain.receipts import Receipt
from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput
from proofwork.services.jobs import Jobs, _check_hash
from proofwork.services.workspace import Workspace

if TYPE_CHECKING:
    from proofwork.chain.unsigned import UnsignedTx
    from proofwork.services.job_inputs import JobInputs

PERMIT_LIFETIME = 3600  # seconds a permit returned to sign stays usable
MAX_DELIVERABLE_BYTES = 256 << 20
# the contract functions a wallet may send through this server: those prepared here
ESCROW_CALLS = ("create_job", "create_job_with_permit", "submit", "approve")
COMMITTEE_CALLS = ("register",)
LICENSING_CALLS = ("buy", "buy_with_permit")
LABEL_PAYOUTS_CALLS = ("claim", "claim_many")  # a labeler's (or a relayer's) claim under a payout root
PERMIT_NOTE = "sign this permit (eth_signTypedData_v4), then post again with its deadline and signature"


@dataclass(frozen=True)
class Prepared:
    """What the wallet signs next: a transaction, or first an EIP-712 message (`typed_data`).
    `register`: an evaluated job, whose evaluation is registered (`prepare_register`) once the job
    exists; `cid`: the deliverable stored for a submission."""

    transaction: UnsignedTx | None = None
    typed_data: dict[str, Any] | None = None
    note: str = ""
    register: bool = False
    cid: str | None = None
    terms_cid: str | None = None  # a job with input assets: its terms document (the spec hash's CID)


@dataclass(frozen=True)
class Broadcast:
    receipt: Receipt
    sender: str
    job_events: list[J.JobEvent] = field(default_factory=list)
    licence_ids: list[int] = field(default_factory=list)  # licences bought

    @property
    def jobs_created(self) -> list[int]:
        return sorted({e.job_id for e in self.job_events if isinstance(e, J.JobCreated)})


def prepare_post(
    ws: Workspace,
    client: str,
    *,
    budget: int | None,
    milestones: int | builtins.list[int],
    deadline: int,
    review_period: int,
    freelancer: str | None = None,
    spec_hash: bytes = J.ZERO_HASH,
    arbiter: str | None = None,
    permit: tuple[int, str] | None = None,
    inputs: JobInputs | None = None,
) -> Prepared:
    """Posting a funded job from `client`'s wallet. When the escrow may not yet pull the budget, the
    EIP-2612 permit to sign comes back first; posted again with its (deadline, signature), the
    `create_job_with_permit` transaction.

    With input assets (`inputs`), every check of the flow first (`job_inputs.checked`), then one step
    per request, the wallet posting again after each: while an offer is left, the purchase of its
    licence (its permit to sign first, then `buy`; `POST /tx` answers the licence id, which the next
    request names among `inputs.licences` instead of the offer); once every input is a licence held,
    the job's terms document is stored and the job's creation (its permit first) comes back, its spec
    hash the document's digest. `permit` is the current step's."""
    terms = {"budget": budget, "milestones": milestones, "deadline": deadline, "review_period": review_period}
    if inputs is None or not inputs.named:
        return _prepare_create(ws, client, terms, freelancer, spec_hash, arbiter, permit)
    from proofwork.services import job_inputs
    from proofwork.storage.unixfs import cid_digest

    job_terms = {**terms, "freelancer": freelancer, "arbiter": arbiter}
    planned = job_inputs.checked(Jobs(ws), client, client, inputs, spec_hash, job_terms)
    to_buy = [p for p in planned if p.licence_id is None]
    if to_buy:
        first = to_buy[0].offer
        step = prepare_buy(ws, client, first.offer_id, max_price=to_buy[0].price_limit, permit=permit)
        if step.transaction is None:
            return step
        note = (
            f"buy the licence of input asset {first.asset_id} (offer {first.offer_id}); once sent, post the "
            "job again naming the licence bought (POST /tx answers its id) instead of the offer"
        )
        return replace(step, note=note)
    terms_cid = job_inputs.store_terms(ws, client, job_inputs.recorded_inputs(planned), inputs, spec_hash)
    step = _prepare_create(ws, client, terms, freelancer, cid_digest(terms_cid), arbiter, permit)
    return replace(step, terms_cid=terms_cid)


def prepare_evaluated_post(
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
    permit: tuple[int, str] | None = None,
) -> Prepared:
    """A job judged by the oracle committee against hidden labels: the spec and labels checked, and
    the terms like `prepare_post` (the permit to sign first, when needed); then the labels' salt and
    commitment kept here and the creation returned (`register` set: `prepare_register` next, once the
    job exists)."""
    from proofwork.services.evaluated_jobs import (
        DEFAULT_TOLERANCE,
        MAX_TOLERANCE,
        Evaluations,
        check_review_period,
        prepare_hidden_task,
    )

    tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    if not 0 <= tolerance <= MAX_TOLERANCE:
        raise InvalidInput(f"the outlier tolerance must be between 0 and {MAX_TOLERANCE} (fixed point)")
    committee = ws.committee
    check_review_period(review_period, committee.challenge_window)

    evaluations = Evaluations(ws)
    with tempfile.TemporaryDirectory(prefix="proofwork-post-") as tmp:
        spec_path, labels_path = Path(tmp) / "spec.yaml", Path(tmp) / "labels"
        spec_path.write_bytes(spec)
        labels_path.write_bytes(labels)
        task = prepare_hidden_task(
            ws, evaluations.files, spec_path, labels_path
        )  # checked before any signing

    def stage() -> bytes:
        return evaluations.stage(task, tolerance).hash

    terms = {"budget": budget, "milestones": milestones, "deadline": deadline, "review_period": review_period}
    return _prepare_create(ws, client, terms, freelancer, J.ZERO_HASH, committee.address, permit, stage)


def _prepare_create(
    ws: Workspace,
    client: str,
    terms: dict[str, Any],
    freelancer: str | None,
    spec_hash: bytes,
    arbiter: str | None,
    permit: tuple[int, str] | None,
    stage: Callable[[], bytes] | None = None,
) -> Prepared:
    """`Jobs.post`'s checks, then the permit to sign first or the creation; `stage`: stores what the
    job's spec hash commits to, once nothing else is needed first, and returns that hash."""
    amounts, freelancer, arbiter = Jobs(ws).check_post(
        client, client, freelancer=freelancer, spec_hash=spec_hash, arbiter=arbiter, **terms
    )
    first = _permit_to_sign(ws, client, sum(amounts), permit)
    if first is not None:
        return first
    if stage is not None:
        spec_hash = stage()
    create = (freelancer, amounts, terms["deadline"], terms["review_period"], spec_hash, arbiter)
    return Prepared(_create(ws, client, *create, permit), register=stage is not None)


def _permit_to_sign(
    ws: Workspace, client: str, total: int, permit: tuple[int, str] | None
) -> Prepared | None:
    """The permit for the wallet to sign first, when the escrow may not pull `total` yet and none came."""
    if permit is not None or ws.token.allowance(client, ws.escrow.address) >= total:
        return None
    expires = ws.chain.next_timestamp() + PERMIT_LIFETIME
    typed = ws.token.permit_typed_data(client, ws.escrow.address, total, expires)
    return Prepared(typed_data=typed, note=PERMIT_NOTE)


def _create(
    ws: Workspace,
    client: str,
    freelancer: str | None,
    amounts: builtins.list[int],
    deadline: int,
    review_period: int,
    spec_hash: bytes,
    arbiter: str | None,
    permit: tuple[int, str] | None,
) -> UnsignedTx:
    signed_permit = None
    if permit is not None:
        permit_deadline, signature = permit
        signed_permit = (permit_deadline, *split_signature(signature))
    return ws.escrow.prepare_create_job(
        client,
        ws.token.address,
        freelancer or J.ZERO_ADDRESS,
        amounts,
        deadline,
        review_period,
        spec_hash,
        arbiter or J.ZERO_ADDRESS,
        permit=signed_permit,
    )


def prepare_register(ws: Workspace, sender: str, job_id: int) -> Prepared:
    """The registration of an evaluated job's evaluation, its labels sealed to every oracle's key."""
    from proofwork.services.evaluated_jobs import Evaluations
    from proofwork.services.task_files import committee_recipients

    evaluations = Evaluations(ws)
    job = evaluations.jobs.get(job_id)
    if not evaluations.jobs.judged_by_committee(job):
        raise InvalidInput(f"job {job_id} is not judged by the oracle committee")
    params, hidden = evaluations.kept(job)
    evaluation = evaluations.registration(params, hidden, committee_recipients(ws.committee))
    return Prepared(ws.committee.prepare_register(sender, job, evaluation))


def _submittable(ws: Workspace, freelancer: str, job_id: int, milestone: int) -> J.Job:
    """The job, once the escrow's rules and, for a committee job, the evaluation's binding allow
    `freelancer` to submit `milestone` now."""
    jobs = Jobs(ws)
    job = jobs.get(job_id)
    job.milestone(milestone)
    J.check_submit(job, milestone, freelancer, ws.chain.next_timestamp())
    jobs._check_evaluation(job)
    return job


def prepare_submit(
    ws: Workspace, freelancer: str, job_id: int, milestone: int, deliverable: bytes
) -> Prepared:
    """The submission of a deliverable's hash (stored elsewhere by the freelancer)."""
    _check_hash(deliverable, "deliverable")
    job = _submittable(ws, freelancer, job_id, milestone)
    return Prepared(ws.escrow.prepare_submit(freelancer, job, milestone, deliverable))


def prepare_submit_file(ws: Workspace, freelancer: str, job_id: int, milestone: int, data: bytes) -> Prepared:
    """Stores the deliverable (a model, predictions, a report), once the rules allow the submission,
    and returns the submission of its hash (`cid` set)."""
    from proofwork.storage.unixfs import cid_digest

    if not data:
        raise InvalidInput("the deliverable is empty")
    if len(data) > MAX_DELIVERABLE_BYTES:
        raise InvalidInput(f"the deliverable is larger than {MAX_DELIVERABLE_BYTES} bytes")
    job = _submittable(ws, freelancer, job_id, milestone)
    cid = ws.store.add_bytes(data)
    return Prepared(ws.escrow.prepare_submit(freelancer, job, milestone, cid_digest(cid)), cid=cid)


def prepare_approve(ws: Workspace, client: str, job_id: int, milestone: int) -> Prepared:
    job = Jobs(ws).get(job_id)
    job.milestone(milestone)
    J.check_payable(job, milestone, client)
    return Prepared(ws.escrow.prepare_approve(client, job, milestone))


def prepare_buy(
    ws: Workspace,
    buyer: str,
    offer_id: int,
    *,
    max_price: int | None = None,
    permit: tuple[int, str] | None = None,
) -> Prepared:
    """Buying a licence from `buyer`'s wallet: `assets.buy`'s checks and the buyer's balance, then the
    EIP-2612 permit to sign first when `Licensing` may not pull the price yet (and none came), else
    `buy` (or `buy_with_permit` with the signed permit's (deadline, signature))."""
    from proofwork.domain.errors import NotAllowed
    from proofwork.services.assets import checked_offer

    offer, limit = checked_offer(ws, offer_id, max_price)
    licensing = ws.licensing
    token = ws.token_at(offer.token)
    if offer.price and token.balance_of(buyer) < offer.price:
        raise NotAllowed(f"{buyer} holds less than the {offer.price} base units offer {offer_id} costs")
    if offer.price and permit is None and token.allowance(buyer, licensing.address) < offer.price:
        expires = ws.chain.next_timestamp() + PERMIT_LIFETIME
        typed = token.permit_typed_data(buyer, licensing.address, offer.price, expires)
        return Prepared(typed_data=typed, note=PERMIT_NOTE)
    signed = None
    if permit is not None:
        signed = (permit[0], *split_signature(permit[1]))
    return Prepared(licensing.prepare_buy(buyer, offer_id, limit, signed))


def wallet_calls(ws: Workspace) -> dict[tuple[str, bytes], tuple[str, ...]]:
    """The contract calls prepared here, which alone a wallet may send through this server."""
    from proofwork.chain.unsigned import selectors

    calls = selectors(ws.escrow, ESCROW_CALLS)
    if ws.deployment.committee:
        calls |= selectors(ws.committee, COMMITTEE_CALLS)
    if ws.deployment.licensing:
        calls |= selectors(ws.licensing, LICENSING_CALLS)
    if ws.deployment.label_payouts:
        calls |= selectors(ws.label_payouts, LABEL_PAYOUTS_CALLS)
    return calls


def broadcast(ws: Workspace, raw: str | bytes, sender: str) -> Broadcast:
    """Checks a transaction `sender`'s wallet signed (0x-hex or bytes) and sends it; waits for it and
    decodes the escrow's events. Refused before anything is sent (`SignedTransactionRefused`, with a
    stable reason) when it is malformed or too large, for another chain, signed by another address,
    not a call prepared here, or already sent."""
    from proofwork.chain.unsigned import Expected, parse_raw_hex

    data = parse_raw_hex(raw) if isinstance(raw, str) else raw
    signed = ws.chain.check_signed(data, Expected(sender, wallet_calls(ws)))
    receipt = ws.chain.send_raw(signed.raw)
    licences = []
    if ws.deployment.licensing:
        licences = [
            int(e.args["licence_id"])
            for e in ws.licensing.receipt_events(receipt)
            if e.name == "LicenceBought"
        ]
    return Broadcast(receipt, signed.sender, ws.escrow.decode_receipt(receipt), licences)


def split_signature(signature: str) -> tuple[int, bytes, bytes]:
    """(v, r, s) of a 65-byte 0x-hex signature."""
    text = signature[2:] if signature.startswith("0x") else signature
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InvalidInput("the permit signature must be 0x-hex") from None
    if len(raw) != 65:
        raise InvalidInput("the permit signature must be 65 bytes")
    v = raw[64] if raw[64] >= 27 else raw[64] + 27
    return v, raw[:32], raw[32:64]
