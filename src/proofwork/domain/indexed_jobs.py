"""Jobs as the chain index keeps them: escrow events read back from their stored JSON arguments, and
a folded job as a JSON record (and back, exactly).

The index stores event arguments as plain JSON (`domain.indexing`: integers as decimal text, bytes as
0x hex, addresses lower case). `job_event` turns the `JobEscrow` ones back into the same domain events
the chain adapter decodes from logs (addresses EIP-55 checksummed, as web3 gives them), so the index's
jobs projection folds them with `job.rebuild`/`job.fold`, the very code the log-based reads use.
(Any other contract's events are read back by their ABI: `domain.indexed_events`.)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from proofwork.domain import job as J
from proofwork.domain.indexed_events import checksummed

ESCROW_CONTRACT = "JobEscrow"
ATTESTER_CONTRACT = "JobAttester"
SKILL_EVENT = "SkillDeclared"

EVENT_TYPES = J.EVENT_TYPES


def _value(kind: str, stored: Any) -> Any:
    """A stored JSON argument as the domain event's field type (its annotation, as text)."""
    if kind == "int":
        return int(stored)
    if kind == "str":  # every text field of a job event is an address
        return checksummed(str(stored))
    if kind == "bytes":
        return bytes.fromhex(str(stored)[2:])
    if kind == "tuple[int, ...]":
        return tuple(int(v) for v in stored)
    if kind == "PaymentReason":
        return J.PaymentReason(int(stored))
    raise TypeError(f"no conversion for a job event field of type {kind}")


def job_event(name: str, args: dict[str, Any]) -> J.JobEvent | None:
    """The domain event of an indexed `JobEscrow` event (None: not a job event, or not decodable)."""
    kind = EVENT_TYPES.get(name)
    if kind is None:
        return None
    try:
        values = {f.name: _value(str(f.type), args[f.name]) for f in dataclasses.fields(kind)}
    except (KeyError, ValueError, TypeError):
        return None
    return kind(**values)  # type: ignore[no-any-return]


def job_id_of(args: dict[str, Any]) -> int | None:
    """The job id an indexed event is about (None: none, or not a number)."""
    raw = args.get("job_id")
    if not isinstance(raw, str) or not raw.isdigit():
        return None
    return int(raw)


# --- a folded job as a JSON record ---------------------------------------------------------------


def job_record(job: J.Job) -> dict[str, Any]:
    """The job as JSON: integers as decimal text (uint256 does not fit a JSON number), bytes as hex."""
    return {
        "job_id": str(job.job_id),
        "client": job.client,
        "freelancer": job.freelancer,
        "token": job.token,
        "arbiter": job.arbiter,
        "deadline": str(job.deadline),
        "review_period": str(job.review_period),
        "fee_bps": str(job.fee_bps),
        "spec_hash": "0x" + job.spec_hash.hex(),
        "cancel_proposer": job.cancel_proposer,
        "cancel_amount": str(job.cancel_amount),
        "refunded": str(job.refunded),
        "paid_on_cancel": str(job.paid_on_cancel),
        "milestones": [
            {
                "amount": str(m.amount),
                "paid": str(m.paid),
                "status": int(m.status),
                "revisions": m.revisions,
                "timestamp": str(m.timestamp),
                "deliverable": "0x" + m.deliverable.hex(),
            }
            for m in job.milestones
        ],
    }


_STATUSES = tuple(sorted(J.MilestoneStatus))  # by value, from 0


def job_from_record(record: dict[str, Any]) -> J.Job:
    """The job `job_record` wrote, equal to the one it was written from."""
    return J.Job(
        job_id=int(record["job_id"]),
        client=record["client"],
        freelancer=record["freelancer"],
        token=record["token"],
        arbiter=record["arbiter"],
        deadline=int(record["deadline"]),
        review_period=int(record["review_period"]),
        fee_bps=int(record["fee_bps"]),
        spec_hash=bytes.fromhex(record["spec_hash"][2:]),
        cancel_proposer=record["cancel_proposer"],
        cancel_amount=int(record["cancel_amount"]),
        refunded=int(record["refunded"]),
        paid_on_cancel=int(record["paid_on_cancel"]),
        milestones=tuple(
            J.Milestone(
                amount=int(m["amount"]),
                paid=int(m["paid"]),
                status=_STATUSES[int(m["status"])],
                revisions=int(m["revisions"]),
                timestamp=int(m["timestamp"]),
                deliverable=bytes.fromhex(m["deliverable"][2:]),
            )
            for m in record["milestones"]
        ),
    )
