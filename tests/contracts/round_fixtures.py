"""Helpers for the FundingRound tests: proofwork's identity layer (IssuerRegistry, SkillBadge,
SchemaRegistry, Attestations) and the rounds contract deployed from this file's own account, a
stablecoin, and `Rounds`, a driver that creates rounds, applies projects, contributes (minting and
approving first), moves the clock, finalizes, claims and refunds, and records every contribution as
`domain.quadratic.Contribution`s so tests compare the chain's split with the Python one."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import boa
import pytest
from eth_utils import keccak, to_checksum_address

from proofwork.domain import quadratic

REPO = Path(__file__).resolve().parents[2]
ROUND_PATH = REPO / "contracts" / "funding" / "FundingRound.vy"
IDENTITY = REPO / "contracts" / "identity"
ATTESTATIONS = REPO / "contracts" / "attestations"
STABLE_PATH = REPO / "contracts" / "tokens" / "StableToken.vy"
MOCKS = Path(__file__).resolve().parent / "mocks"

DAY = 86_400
USD = 10**6
ZERO32 = b"\x00" * 32
RULE_BADGE = 1
RULE_ATTESTATION = 2
SKILL = "ml/open-models"
OTHER_SKILL = "design/logos"
SYBIL_SCHEMA = "bytes32 personhood"


def acct(label: str) -> str:
    return to_checksum_address(keccak(text=f"proofwork funding round test {label}")[12:])


# Own deployer account (see committee_fixtures.COMMITTEE_DEPLOYER for why).
DEPLOYER = acct("deployer")
ISSUER = acct("issuer")
ATTESTER = acct("job attester")  # the badge contract's auto-minter
UNACCREDITED = acct("unaccredited issuer")
CREATOR = acct("creator")


def skill_hash(skill: str) -> bytes:
    return keccak(text=skill)


def deploy_identity() -> SimpleNamespace:
    """IssuerRegistry (ISSUER accredited), SkillBadge (ATTESTER its auto-minter), SchemaRegistry,
    Attestations and the Sybil schema, all from DEPLOYER."""
    with boa.env.prank(DEPLOYER):
        registry = boa.load_partial(str(IDENTITY / "IssuerRegistry.vy")).deploy()
        registry.accredit(ISSUER, "did:web:uni.example", "University")
        badges = boa.load_partial(str(IDENTITY / "SkillBadge.vy")).deploy(
            registry.address, "Proofwork Skill Badge", "PWSB"
        )
        badges.set_auto_minter(ATTESTER)
        schemas = boa.load_partial(str(ATTESTATIONS / "SchemaRegistry.vy")).deploy()
        attestations = boa.load_partial(str(ATTESTATIONS / "Attestations.vy")).deploy(schemas.address)
        schema = schemas.register(SYBIL_SCHEMA, "0x" + "00" * 20, True)
    return SimpleNamespace(
        registry=registry, badges=badges, schemas=schemas, attestations=attestations, schema=schema
    )


def deploy_rounds(identity: SimpleNamespace):
    with boa.env.prank(DEPLOYER):
        return boa.load_partial(str(ROUND_PATH)).deploy(
            identity.badges.address, identity.attestations.address, identity.registry.address
        )


def deploy_token(name: str = "Proofwork Test USD", symbol: str = "pUSD"):
    with boa.env.prank(DEPLOYER):
        return boa.load_partial(str(STABLE_PATH)).deploy(name, symbol)


def now() -> int:
    return boa.env.evm.patch.timestamp


class Rounds:
    """Drives one FundingRound contract with one token; keeps the contributions per round."""

    def __init__(self, contract, token, identity: SimpleNamespace) -> None:
        self.c = contract
        self.token = token
        self.id = identity
        self.contributions: dict[int, list[quadratic.Contribution]] = {}

    # ---- identity
    def badge(self, holder: str, skill: str = SKILL, issuer: str = ISSUER) -> bytes:
        """Mints a badge (by an accredited issuer) and returns its token id as a credential."""
        with boa.env.prank(issuer):
            token_id = self.id.badges.mint(holder, skill, keccak(text=f"evidence {holder}"))
        return token_id.to_bytes(32, "big")

    def job_badge(self, holder: str, skill: str = SKILL) -> bytes:
        with boa.env.prank(ATTESTER):
            token_id = self.id.badges.mint_for_job(holder, skill, keccak(text=f"job {holder}"))
        return token_id.to_bytes(32, "big")

    def attest(
        self, recipient: str, attester: str = ISSUER, expiration: int = 0, schema: bytes | None = None
    ) -> bytes:
        request = (schema or self.id.schema, (recipient, expiration, True, ZERO32, keccak(text=recipient), 0))
        with boa.env.prank(attester):
            return self.id.attestations.attest(request)

    # ---- money
    def give(self, who: str, amount: int) -> None:
        with boa.env.prank(DEPLOYER):
            self.token.mint(who, amount)
        with boa.env.prank(who):
            self.token.approve(self.c.address, self.token.allowance(who, self.c.address) + amount)

    # ---- rounds
    def create(
        self,
        pool: int = 1_000 * USD,
        *,
        creator: str = CREATOR,
        apply_days: int = 7,
        open_days: int = 0,
        close_days: int = 14,
        rule: int = RULE_BADGE,
        topics: list[bytes] | None = None,
    ) -> int:
        t = now()
        if pool:
            self.give(creator, pool)
        with boa.env.prank(creator):
            rid = self.c.create_round(
                self.token.address,
                pool,
                t + apply_days * DAY,
                t + open_days * DAY,
                t + close_days * DAY,
                rule,
                topics or [skill_hash(SKILL) if rule == RULE_BADGE else self.id.schema],
                "bafkreiround",
            )
        self.contributions[rid] = []
        return rid

    def apply(
        self, rid: int, recipient: str, applicant: str | None = None, cid: str = "bafkreiproject"
    ) -> int:
        with boa.env.prank(applicant or recipient):
            return self.c.apply_project(rid, recipient, cid)

    def contribute(self, rid: int, project: int, who: str, amount: int, credential: bytes = ZERO32) -> None:
        self.give(who, amount)
        with boa.env.prank(who):
            self.c.contribute(rid, project, amount, credential)
        self.contributions[rid].append(quadratic.Contribution(project, who, amount, credential != ZERO32))

    def close(self, rid: int) -> None:
        """Moves the clock to the round's contribution close."""
        close = self.c.round(rid).contributions_close
        if now() < close:
            boa.env.time_travel(seconds=close - now())

    def finalize(self, rid: int, caller: str | None = None) -> None:
        self.close(rid)
        with boa.env.prank(caller or acct("keeper")):
            self.c.finalize(rid)

    def claim_all(self, rid: int) -> int:
        paid = 0
        with boa.env.prank(acct("keeper")):
            for j in range(1, self.c.round(rid).project_count + 1):
                paid += self.c.claim(rid, j)
        return paid

    def expected(self, rid: int) -> quadratic.Split:
        r = self.c.round(rid)
        return quadratic.split(r.pool, r.project_count, self.contributions[rid])

    def held(self, rid: int) -> int:
        """What the round still holds by its own accounting."""
        r = self.c.round(rid)
        return r.pool + r.contributions - r.paid_out - r.returned


# --------------------------------------------------------------------------- pytest fixtures
# (the contracts conftest star-imports these four names)


@pytest.fixture(scope="module")
def identity():
    return deploy_identity()


@pytest.fixture(scope="module")
def round_contract(identity):
    return deploy_rounds(identity)


@pytest.fixture(scope="module")
def round_token():
    return deploy_token()


@pytest.fixture
def rs(round_contract, round_token, identity):
    return Rounds(round_contract, round_token, identity)


__all__ = ["identity", "round_contract", "round_token", "rs"]
