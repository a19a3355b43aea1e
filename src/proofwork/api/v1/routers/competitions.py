"""Competitions and their leaderboards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from proofwork.api.v1 import convert
from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import ContextDep, WorkspaceDep
from proofwork.api.v1.errors import ApiError
from proofwork.domain.errors import NotFound
from proofwork.services.competitions import Competitions
from proofwork.services.event_reads import EventReader
from proofwork.services.workspace import Workspace

router = APIRouter(prefix="/competitions", tags=["competitions"])

CompId = Annotated[int, Path(ge=0, le=2**256 - 1, description="the competition's id")]


def _deployed(ws: Workspace) -> bool:
    return bool(ws.deployment.competition)


def _get(ws: Workspace, comp_id: int):  # type: ignore[no-untyped-def]
    if not _deployed(ws):
        raise ApiError(404, "competition_not_found", "no competition contract is deployed here")
    try:
        with EventReader(ws) as reader:  # from the chain index when it is caught up
            return Competitions(ws).get(comp_id, reader)
    except NotFound as exc:
        raise ApiError(404, "competition_not_found", str(exc)) from exc


@router.get("", summary="Every competition")
def list_competitions(ws: WorkspaceDep, ctx: ContextDep) -> S.CompetitionsPublic:
    if not _deployed(ws):
        return S.CompetitionsPublic(data=[], count=0, dev_mode=ctx.dev_mode)
    data = [convert.competition_public(c) for c in Competitions(ws).listed()]
    return S.CompetitionsPublic(data=data, count=len(data), dev_mode=ctx.dev_mode)


@router.get("/{comp_id}", summary="A competition")
def get_competition(comp_id: CompId, ws: WorkspaceDep) -> S.CompetitionPublic:
    return convert.competition_public(_get(ws, comp_id))


@router.get("/{comp_id}/leaderboard", summary="A competition's leaderboard (scores signed by the oracles)")
def leaderboard(comp_id: CompId, ws: WorkspaceDep, ctx: ContextDep) -> S.LeaderboardPublic:
    from proofwork.network.peers import HttpPeers

    _get(ws, comp_id)
    comp, rows = Competitions(ws).leaderboard(comp_id, HttpPeers())
    return S.LeaderboardPublic(
        competition=convert.competition_public(comp),
        rows=[convert.leaderboard_row(r) for r in rows],
        dev_mode=ctx.dev_mode,
    )
