"""Jobs: the board (filters, cursor pages), one job in full, and the writes a wallet signs."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from proofwork.api.v1 import convert
from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import ContextDep, CurrentAddress, WorkspaceDep, acting_as
from proofwork.api.v1.errors import AUTH_RESPONSES, ApiError
from proofwork.api.v1.json_guard import JsonGuardRoute
from proofwork.domain import job as J
from proofwork.domain.errors import NotFound
from proofwork.services import job_listing, wallet_writes
from proofwork.services.job_inputs import JobInputs
from proofwork.services.jobs import Jobs, Outcome
from proofwork.services.workspace import Signer, Workspace

router = APIRouter(prefix="/jobs", tags=["jobs"], route_class=JsonGuardRoute)

JobId = Annotated[int, Path(ge=1, le=J.MAX_UINT256, description="the job's id")]
MilestoneIndex = Annotated[int, Path(ge=0, lt=J.MAX_MILESTONES, description="milestone, from 0")]
DevSign = Annotated[
    bool, Query(description="embedded chain only: sign and send with the session address's dev account")
]


def _units(text: str | None, what: str) -> int | None:
    return None if text is None else int(text)


@router.get(
    "",
    response_model=S.JobsPublic,
    summary="Jobs, newest first, filtered, in pages",
    description="From the chain index when there is one (`indexed_block`: the last block it holds), "
    "else rebuilt from the escrow's logs (`indexed_block` null). While the node cannot be reached (once "
    "the API has reached it since it started), or while the indexer lags behind the head by more than "
    "its confirmation depth, the index still answers, with `stale: true`.",
)
async def list_jobs(
    ctx: ContextDep,
    skill: Annotated[str | None, Query(max_length=64)] = None,
    min_budget: Annotated[str | None, Query(pattern=r"^[0-9]{1,78}$", description="base units")] = None,
    max_budget: Annotated[str | None, Query(pattern=r"^[0-9]{1,78}$", description="base units")] = None,
    state: Annotated[str | None, Query(pattern="^(open|active|completed|refunded|cancelled)$")] = None,
    client: Annotated[S.Address | None, Query()] = None,
    freelancer: Annotated[S.Address | None, Query()] = None,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,78}$", description="`next_cursor` of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=job_listing.MAX_PAGE)] = 20,
) -> Response:
    where = job_listing.JobFilter(
        skill=skill,
        min_budget=_units(min_budget, "min_budget"),
        max_budget=_units(max_budget, "max_budget"),
        state=state,
        client=client,
        freelancer=freelancer,
    )
    before = None if cursor is None else int(cursor)
    # a read of the index is answered inline; what needs the node, the workspace or a count, in a thread
    answer = ctx.board.quick_page(where, before=before, limit=limit)
    if answer is None:
        answer = await run_in_threadpool(partial(ctx.board.page, where, before=before, limit=limit))
    page, decimals = answer
    body = S.JobsPublic(
        data=[convert.job_public(item.job, item.skill, decimals) for item in page.jobs],
        count=page.total,
        next_cursor=None if page.next_cursor is None else str(page.next_cursor),
        dev_mode=ctx.dev_mode,
        indexed_block=page.indexed_block,
        stale=page.stale,
    )
    # serialised once, here: the body is already a JobsPublic (FastAPI would dump, validate and
    # serialise it again, the larger part of a page's time)
    return Response(body.model_dump_json(), media_type="application/json")


@router.get(
    "/{job_id}",
    summary="A job with its milestones, submissions, scores and disputes",
    description="The job and its escrow events from the chain index when it is caught up with the node "
    "(else rebuilt from the escrow's logs); the committee's scores and evaluation from the chain.",
)
def get_job(job_id: JobId, ws: WorkspaceDep, ctx: ContextDep) -> S.JobDetailPublic:
    try:
        detail = job_listing.job_detail(ws, job_id, ctx.board.index())
    except NotFound as exc:
        raise ApiError(404, "job_not_found", str(exc)) from exc
    return convert.job_detail(detail, ws.token.decimals, ctx.dev_mode)


# --- writes ---------------------------------------------------------------------------------------


def dev_signer(ws: Workspace, dev_mode: bool, address: str) -> Signer:
    if not dev_mode:
        raise ApiError(
            400, "dev_mode_off", "dev_sign works only on the embedded chain: sign with your wallet"
        )
    for account in ws.dev_accounts():
        if J.same_address(account.address, address):
            return account
    raise ApiError(403, "not_a_dev_account", f"{address} is not a dev account: sign with your wallet")


def prepared_answer(p: wallet_writes.Prepared, dev_mode: bool) -> S.WritePublic:
    if p.typed_data is not None:
        return S.WritePublic(
            status="sign_typed_data", dev_mode=dev_mode, typed_data=p.typed_data, note=p.note
        )
    assert p.transaction is not None
    tx = {
        k: (str(v) if k in ("value", "maxFeePerGas", "maxPriorityFeePerGas") else v)
        for k, v in p.transaction.fields().items()
    }
    return S.WritePublic(
        status="sign_transaction",
        dev_mode=dev_mode,
        transaction=S.UnsignedTransaction.model_validate(tx),
        note=p.note or f"{p.transaction.label}: sign this transaction and send it to POST /api/v1/tx",
        terms_cid=p.terms_cid,
    )


def _sent(outcome: Outcome, ws: Workspace, dev_mode: bool) -> S.WritePublic:
    skill = None
    return S.WritePublic(
        status="sent",
        dev_mode=dev_mode,
        tx_hash=outcome.receipts[-1][1].tx_hash if outcome.receipts else None,
        job=convert.job_public(outcome.job, skill, ws.token.decimals),
        note="signed with the dev account (dev mode: embedded chain only)",
        terms_cid=outcome.terms_cid,
    )


@router.post(
    "",
    summary="Post a funded job (unsigned transaction, or a permit to sign first)",
    responses=AUTH_RESPONSES,
)
def post_job(
    body: S.JobCreate, address: CurrentAddress, ws: WorkspaceDep, ctx: ContextDep, dev_sign: DevSign = False
) -> S.WritePublic:
    client = acting_as(address, body.from_, "client")
    milestones: int | list[int] = (
        body.milestones if isinstance(body.milestones, int) else [int(a) for a in body.milestones]
    )
    budget = None if body.budget is None else int(body.budget)
    spec_hash = bytes.fromhex(body.spec_hash[2:]) if body.spec_hash else J.ZERO_HASH
    inputs = JobInputs(
        tuple(body.input_offers),
        tuple(body.input_licences),
        None if body.max_licence_fee is None else int(body.max_licence_fee),
        body.compute_inputs,
    )
    if dev_sign:
        signer = dev_signer(ws, ctx.dev_mode, client)
        outcome = Jobs(ws).post(
            signer,
            budget=budget,
            milestones=milestones,
            deadline=body.deadline,
            review_period=body.review_period,
            freelancer=body.freelancer,
            spec_hash=spec_hash,
            arbiter=body.arbiter,
            inputs=inputs,
        )
        return _sent(outcome, ws, ctx.dev_mode)
    if (body.permit_deadline is None) != (body.permit_signature is None):
        raise ApiError(400, "invalid_input", "give both permit_deadline and permit_signature, or neither")
    permit = (body.permit_deadline, body.permit_signature) if body.permit_signature is not None else None
    prepared = wallet_writes.prepare_post(
        ws,
        client,
        budget=budget,
        milestones=milestones,
        deadline=body.deadline,
        review_period=body.review_period,
        freelancer=body.freelancer,
        spec_hash=spec_hash,
        arbiter=body.arbiter,
        permit=permit,  # type: ignore[arg-type]
        inputs=inputs,
    )
    return prepared_answer(prepared, ctx.dev_mode)


@router.post(
    "/{job_id}/milestones/{index}/submissions",
    summary="Submit a milestone's deliverable (its hash)",
    responses=AUTH_RESPONSES,
)
def submit(
    job_id: JobId,
    index: MilestoneIndex,
    body: S.SubmissionCreate,
    address: CurrentAddress,
    ws: WorkspaceDep,
    ctx: ContextDep,
    dev_sign: DevSign = False,
) -> S.WritePublic:
    freelancer = acting_as(address, body.from_, "freelancer")
    deliverable = bytes.fromhex(body.deliverable[2:])
    try:
        if dev_sign:
            outcome = Jobs(ws).submit(dev_signer(ws, ctx.dev_mode, freelancer), job_id, index, deliverable)
            return _sent(outcome, ws, ctx.dev_mode)
        return prepared_answer(
            wallet_writes.prepare_submit(ws, freelancer, job_id, index, deliverable), ctx.dev_mode
        )
    except NotFound as exc:
        raise ApiError(404, "job_not_found", str(exc)) from exc


@router.post(
    "/{job_id}/milestones/{index}/approval",
    summary="Approve a submitted milestone and pay it",
    responses=AUTH_RESPONSES,
)
def approve(
    job_id: JobId,
    index: MilestoneIndex,
    body: S.ApprovalCreate,
    address: CurrentAddress,
    ws: WorkspaceDep,
    ctx: ContextDep,
    dev_sign: DevSign = False,
) -> S.WritePublic:
    client = acting_as(address, body.from_, "client")
    try:
        if dev_sign:
            outcome = Jobs(ws).approve(dev_signer(ws, ctx.dev_mode, client), job_id, index)
            return _sent(outcome, ws, ctx.dev_mode)
        return prepared_answer(wallet_writes.prepare_approve(ws, client, job_id, index), ctx.dev_mode)
    except NotFound as exc:
        raise ApiError(404, "job_not_found", str(exc)) from exc
