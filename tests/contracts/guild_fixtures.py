"""Helpers for the guild tests: a world of real contracts (StableToken, JobEscrow, IssuerRegistry,
SkillBadge, SchemaRegistry + Attestations) deployed from this family's own account, guilds under each
admission rule, and a small job driver that keeps the escrow's job state in Python.

Test modules import the fixtures they use from here (pytest collects fixtures imported into a module).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import boa
import eth_abi
import pytest
from eth_utils import keccak, to_checksum_address

REPO = Path(__file__).resolve().parents[2]
GUILD_PATH = REPO / "contracts" / "guilds" / "Guild.vy"
ESCROW_PATH = REPO / "contracts" / "escrow" / "JobEscrow.vy"
STABLE_PATH = REPO / "contracts" / "tokens" / "StableToken.vy"
IDENTITY = REPO / "contracts" / "identity"
ATTESTATIONS = REPO / "contracts" / "attestations"

DAY = 86_400
HOUR = 3_600
USD = 10**6
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
RULE_BADGE, RULE_CREDENTIAL, RULE_REPUTATION = 1, 2, 3
ADMIT, SHARES, KICK, TAKE, CALL = 1, 2, 3, 4, 5
FAMILY = "ml/vision"
CREDENTIAL_SCHEMA = "string credential,bytes32 digest"
# stands in for JobCompleted (its first fields, in its order) in the rule tests
JOB_SCHEMA = "uint256 jobId,uint256 milestone,address client,address freelancer"
SPEC = keccak(b"guild test job spec")
GUILD_WORK_SCHEMA = "bytes32 jobCompleted,uint256 jobId,uint256 milestone,address guild"
NO_ATTRIBUTION = (ZERO, ZERO, ZERO32)


def acct(label: str) -> str:
    return to_checksum_address(keccak(text=f"proofwork guild test {label}")[12:])


DEPLOYER = acct("deployer")
ISSUER = acct("issuer")
UNACCREDITED = acct("unaccredited issuer")
JOB_ATTESTER = acct("job attester")
CLIENT = acct("client")
TREASURY = acct("treasury")
OUTSIDER = acct("outsider")
MEMBERS = [acct(f"member {i}") for i in range(12)]


def badge_id(token_id: int) -> bytes:
    return token_id.to_bytes(32, "big")


@pytest.fixture(scope="module")
def guild_world():
    """Every contract a guild talks to, deployed once per module."""
    boa.env.sstore_trace.clear()
    with boa.env.prank(DEPLOYER):
        token = boa.load_partial(str(STABLE_PATH)).deploy("Proofwork Test USD", "pUSD")
        escrow = boa.load_partial(str(ESCROW_PATH)).deploy(TREASURY, 250)
        registry = boa.load_partial(str(IDENTITY / "IssuerRegistry.vy")).deploy()
        registry.accredit(ISSUER, "did:web:issuer.example", "Issuer")
        badges = boa.load_partial(str(IDENTITY / "SkillBadge.vy")).deploy(
            registry.address, "Skill Badge", "PWSB"
        )
        schemas = boa.load_partial(str(ATTESTATIONS / "SchemaRegistry.vy")).deploy()
        attestations = boa.load_partial(str(ATTESTATIONS / "Attestations.vy")).deploy(schemas.address)
        credential_schema = schemas.register(CREDENTIAL_SCHEMA, ZERO, True)
        job_schema = schemas.register(JOB_SCHEMA, ZERO, False)
        work_schema = schemas.register(GUILD_WORK_SCHEMA, ZERO, False)
    return SimpleNamespace(
        work_schema=work_schema,
        token=token,
        escrow=escrow,
        registry=registry,
        badges=badges,
        attestations=attestations,
        credential_schema=credential_schema,
        job_schema=job_schema,
        guild_partial=boa.load_partial(str(GUILD_PATH)),
    )


# Stands in for the JobAttester: records the JobCompleted uid of a milestone, attested by itself
# through a prepared `attest` call to the Attestations contract.
ATTESTER_STUB = """
# pragma version ~=0.4.3
attestations: public(address)
attestation_of: public(HashMap[uint256, HashMap[uint256, bytes32]])

@deploy
def __init__(attestations_: address):
    self.attestations = attestations_

@external
def attest(job_id: uint256, milestone: uint256, payload: Bytes[2048]):
    out: Bytes[32] = raw_call(self.attestations, payload, max_outsize=32)
    self.attestation_of[job_id][milestone] = convert(out, bytes32)
"""


def attester_stub(world):
    with boa.env.prank(DEPLOYER):
        return boa.loads(ATTESTER_STUB, world.attestations.address)


def completed(world, stub, job_id: int, milestone: int, freelancer: str) -> bytes:
    """The stub attests a milestone completed by `freelancer`; returns the uid."""
    request = (world.job_schema, (freelancer, 0, False, ZERO32, b"\x00" * 64, 0))
    stub.attest(job_id, milestone, world.attestations.attest.prepare_calldata(request))
    return stub.attestation_of(job_id, milestone)


def mint_badge(world, to: str, skill: str = FAMILY + "/segmentation") -> int:
    with boa.env.prank(ISSUER):
        return world.badges.mint(to, skill, keccak(text=f"evidence {to} {skill}"))


def job_data(client: str, freelancer: str, job_id: int = 1, milestone: int = 0) -> bytes:
    """The head of JobCompleted data: abi_encode(jobId, milestone, client, freelancer)."""
    return eth_abi.encode(
        ["uint256", "uint256", "address", "address"], [job_id, milestone, client, freelancer]
    )


def attest(
    world,
    attester: str,
    to: str,
    schema: bytes,
    *,
    revocable: bool = True,
    expiration: int = 0,
    data: bytes = b"\x00" * 64,
) -> bytes:
    with boa.env.prank(attester):
        return world.attestations.attest((schema, (to, expiration, revocable, ZERO32, data, 0)))


def badge_rule(world, family: str = FAMILY) -> tuple:
    return (RULE_BADGE, world.badges.address, ZERO, ZERO32, family, 0)


def credential_rule(world, schema: bytes | None = None) -> tuple:
    return (
        RULE_CREDENTIAL,
        world.attestations.address,
        world.registry.address,
        world.credential_schema if schema is None else schema,
        "",
        0,
    )


def reputation_rule(world, threshold: int = 2) -> tuple:
    return (RULE_REPUTATION, world.attestations.address, JOB_ATTESTER, world.job_schema, "", threshold)


def badge_evidence(world, member: str) -> list[bytes]:
    return [badge_id(mint_badge(world, member))]


def deploy_guild(
    world,
    founders,
    shares=None,
    *,
    by_shares=False,
    period=DAY,
    rule=None,
    evidence=None,
    attribution=NO_ATTRIBUTION,
):
    """A badge guild of `founders` (a badge minted to each) unless told otherwise."""
    shares = shares or [1] * len(founders)
    if rule is None:
        rule = badge_rule(world)
        evidence = evidence or [badge_evidence(world, f) for f in founders]
    with boa.env.prank(DEPLOYER):
        return world.guild_partial.deploy(
            world.token.address,
            world.escrow.address,
            by_shares,
            period,
            rule,
            attribution,
            founders,
            shares,
            evidence,
        )


def pay(world, guild, amount: int, payer: str = CLIENT) -> None:
    """A payment to the guild: a plain transfer (what the escrow's payout is)."""
    with boa.env.prank(DEPLOYER):
        world.token.mint(payer, amount)
    with boa.env.prank(payer):
        world.token.transfer(guild.address, amount)


def pass_proposal(guild, proposal_id: int, voters) -> None:
    for v in voters:
        with boa.env.prank(v):
            guild.vote(proposal_id, True)


def admit(world, guild, applicant: str, shares: int, voters) -> int:
    evidence = badge_evidence(world, applicant)
    with boa.env.prank(applicant):
        pid = guild.propose_admission(shares, evidence)
    pass_proposal(guild, pid, voters)
    with boa.env.prank(voters[0]):
        guild.execute(pid)
    return pid


@dataclass
class Job:
    """A JobEscrow job's state, kept as the escrow's events say."""

    job_id: int
    client: str
    freelancer: str
    token: str
    deadline: int
    review: int
    fee_bps: int
    amounts: list[int]
    milestones: list[list] = field(default_factory=list)

    def tuple(self):
        return (
            self.client,
            self.freelancer,
            self.token,
            ZERO,
            self.deadline,
            self.review,
            self.fee_bps,
            SPEC,
            ZERO,
            0,
            [tuple(m) for m in self.milestones],
        )


def post_job(world, amounts, freelancer: str = ZERO, client: str = CLIENT) -> Job:
    total = sum(amounts)
    with boa.env.prank(DEPLOYER):
        world.token.mint(client, total)
    deadline = boa.env.timestamp + 30 * DAY
    with boa.env.prank(client):
        world.token.approve(world.escrow.address, total)
        job_id = world.escrow.create_job(world.token.address, freelancer, amounts, deadline, DAY, SPEC, ZERO)
    job = Job(job_id, client, freelancer, world.token.address, deadline, DAY, world.escrow.fee_bps(), amounts)
    job.milestones = [[a, 0, 0, 0, 0, ZERO32] for a in amounts]
    return job


def assign(world, job: Job, freelancer: str) -> None:
    with boa.env.prank(job.client):
        world.escrow.assign(job.job_id, job.tuple(), freelancer)
    job.freelancer = freelancer


def submitted(job: Job, milestone: int, deliverable: bytes) -> None:
    job.milestones[milestone][2] = 1  # SUBMITTED
    job.milestones[milestone][4] = boa.env.timestamp
    job.milestones[milestone][5] = deliverable


def approve(world, job: Job, milestone: int) -> int:
    """The client approves a milestone; returns what the freelancer got (fee deducted)."""
    with boa.env.prank(job.client):
        world.escrow.approve(job.job_id, job.tuple(), milestone)
    gross = job.milestones[milestone][0]
    job.milestones[milestone][0] = 0
    job.milestones[milestone][1] += gross
    job.milestones[milestone][2] = 3  # PAID
    return gross - gross * job.fee_bps // 10_000


__all__ = [
    "ADMIT",
    "CALL",
    "CLIENT",
    "DAY",
    "DEPLOYER",
    "FAMILY",
    "GUILD_WORK_SCHEMA",
    "HOUR",
    "ISSUER",
    "JOB_ATTESTER",
    "KICK",
    "MEMBERS",
    "NO_ATTRIBUTION",
    "OUTSIDER",
    "SHARES",
    "SPEC",
    "TAKE",
    "UNACCREDITED",
    "USD",
    "ZERO",
    "ZERO32",
    "Job",
    "acct",
    "admit",
    "approve",
    "assign",
    "attest",
    "attester_stub",
    "badge_evidence",
    "badge_id",
    "badge_rule",
    "completed",
    "credential_rule",
    "deploy_guild",
    "guild_world",
    "job_data",
    "mint_badge",
    "pass_proposal",
    "pay",
    "post_job",
    "reputation_rule",
    "submitted",
]
