"""Profiles: reputation with the jobs that explain it, badges, attestations, completed jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from proofwork.api.v1 import convert
from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import ContextDep, WorkspaceDep
from proofwork.services import job_listing

AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="an account address")]

router = APIRouter(prefix="/profiles", tags=["profiles"])


@router.get("/{address}", summary="An address's profile")
def profile(
    ws: WorkspaceDep,
    ctx: ContextDep,
    address: AddressPath,
) -> S.ProfilePublic:
    from proofwork.services import attestations, badges, reputation

    where = job_listing.JobFilter(freelancer=address, state="completed")
    completed = job_listing.list_jobs(ws, where, limit=job_listing.MAX_PAGE)
    decimals = ws.token.decimals
    rep = None
    badge_list: list[dict[str, object]] = []
    reviews: list[dict[str, object]] = []
    completions: list[dict[str, object]] = []
    if ws.has_identity:
        rep = convert.jsonable(reputation.reputation_of(ws, address).to_json())
        badge_list = [convert.jsonable(b) for b in badges.badges_of(ws, address)]
        reviews = [convert.jsonable(r) for r in attestations.reviews_of(ws, address)]
        completions = [convert.jsonable(c) for c in attestations.job_completions(ws, address)]
    return S.ProfilePublic(
        address=address,
        reputation=rep,
        badges=badge_list,
        reviews=reviews,
        attestations=completions,
        completed_jobs=[convert.job_public(i.job, i.skill, decimals) for i in completed.jobs],
        dev_mode=ctx.dev_mode,
    )
