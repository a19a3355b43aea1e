"""Writes a user's own wallet signs: the same checks as the key-holding use cases in `jobs`, then
the unsigned transaction (or the EIP-712 permit to sign first) instead of a sent one, and the
broadcast of what the wallet signed. The server holding these never sees a user's key."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any

from proofwork.chain.receipts import Receipt
from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.services.jobs import Jobs, _check_hash
from proofwork.services.workspace import Workspace

PERMIT_LIFETIME = 3600  # seconds a permit returned to sign stays usable


@dataclass(frozen=True)
class Prepared:
    """What the wallet signs next: a transaction, or first an EIP-712 message (`typed_data`)."""

    transaction: dict[str, Any] | None = None
    typed_data: dict[str, Any] | None = None
    note: str = ""


@dataclass(frozen=True)
class Broadcast:
    receipt: Receipt
    sender: str
    job_events: list[J.JobEvent] = field(default_factory=list)


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
) -> Prepared:
    """Posting a funded job from `client`'s wallet. When the escrow may not yet pull the budget, the
    EIP-2612 permit to sign comes back first; posted again with its (deadline, signature), the
    `create_job_with_permit` transaction."""
    jobs = Jobs(ws)
    amounts, freelancer, arbiter = jobs.check_post(
        client,
        client,
        budget=budget,
        milestones=milestones,
        deadline=deadline,
        review_period=review_period,
        freelancer=freelancer,
        spec_hash=spec_hash,
        arbiter=arbiter,
    )
    total = sum(amounts)
    token, escrow = ws.token, ws.escrow
    args = (
        token.address,
        freelancer or J.ZERO_ADDRESS,
        amounts,
        deadline,
        review_period,
        spec_hash,
        arbiter or J.ZERO_ADDRESS,
    )
    if token.allowance(client, escrow.address) >= total:
        return Prepared(escrow.prepare_create_job(client, *args))
    if permit is None:
        expires = ws.chain.next_timestamp() + PERMIT_LIFETIME
        return Prepared(
            typed_data=token.permit_typed_data(client, escrow.address, total, expires),
            note="sign this permit (eth_signTypedData_v4), then post again with its deadline and signature",
        )
    permit_deadline, signature = permit
    v, r, s = split_signature(signature)
    return Prepared(escrow.prepare_create_job(client, *args, permit=(permit_deadline, v, r, s)))


def prepare_submit(
    ws: Workspace, freelancer: str, job_id: int, milestone: int, deliverable: bytes
) -> Prepared:
    _check_hash(deliverable, "deliverable")
    jobs = Jobs(ws)
    job = jobs.get(job_id)
    job.milestone(milestone)
    J.check_submit(job, milestone, freelancer, ws.chain.next_timestamp())
    jobs._check_evaluation(job)
    return Prepared(ws.escrow.prepare_submit(freelancer, job, milestone, deliverable))


def prepare_approve(ws: Workspace, client: str, job_id: int, milestone: int) -> Prepared:
    job = Jobs(ws).get(job_id)
    job.milestone(milestone)
    J.check_payable(job, milestone, client)
    return Prepared(ws.escrow.prepare_approve(client, job, milestone))


def signed_by(ws: Workspace, raw: bytes) -> str:
    """Who signed a raw transaction (InvalidInput when it is none)."""
    return ws.chain.raw_sender(raw)


def broadcast(ws: Workspace, raw: bytes, sender: str) -> Broadcast:
    """Sends a transaction `sender` signed (checked), waits for it, and decodes the escrow's events."""
    signer = ws.chain.raw_sender(raw)
    if not J.same_address(signer, sender):
        raise NotAllowed(f"the transaction is signed by {signer}, not by {sender}")
    receipt = ws.chain.send_raw(raw)
    return Broadcast(receipt, signer, ws.escrow.decode_receipt(receipt))


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
