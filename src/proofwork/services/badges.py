"""Soulbound skill badges: minted by accredited issuers (and by the job attester on a verified pass)."""

from __future__ import annotations

from typing import Any

from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.services.event_reads import EventReader
from proofwork.services.workspace import Signer, Workspace

MAX_SKILL_BYTES = 64


def check_skill(skill: str) -> str:
    skill = skill.strip()
    if not skill or len(skill.encode()) > MAX_SKILL_BYTES or not skill.isprintable():
        raise InvalidInput(f"a skill is 1 to {MAX_SKILL_BYTES} bytes of printable text, e.g. 'nlp/sentiment'")
    return skill


def mint_badge(ws: Workspace, issuer: Signer, to: str, skill: str, evidence: bytes = J.ZERO_HASH) -> int:
    """An accredited issuer mints a soulbound skill badge; returns its token id."""
    skill = check_skill(skill)
    if len(evidence) != 32:
        raise InvalidInput("the badge's evidence must be a 32-byte hash (e.g. of the credential)")
    badges = ws.badges
    if not ws.issuer_registry.is_accredited(issuer.address):
        raise NotAllowed(f"{issuer.address} is not an accredited issuer: only they mint badges")
    receipt = badges.mint(issuer.key, to, skill, evidence)
    for event in badges.receipt_events(receipt):
        if event.name == "BadgeMinted":
            return int(event.args["token_id"])
    raise NotAllowed(f"{to} already holds the {skill!r} badge from this issuer")


def minted_badges(ws: Workspace, reader: EventReader | None = None) -> list[Any]:
    """Every badge minted and not revoked (`chain.badges.BadgeInfo`, without its mint time): from the
    chain index when it is caught up, else from the logs."""
    from proofwork.chain.badges import minted_badges as fold

    if reader is None:
        with EventReader(ws) as own:
            return fold(own.events(ws.badges, "BadgeMinted", "BadgeRevoked"))
    return fold(reader.events(ws.badges, "BadgeMinted", "BadgeRevoked"))


def badges_of(ws: Workspace, address: str) -> list[Any]:
    badges = ws.badges
    return [badges.badge(t, holder=address) for t in badges.tokens_of(address)]
