"""Skill guilds: a guild of skill-badge holders takes escrow jobs as one freelancer (its contract's
address), votes on admissions and jobs, and splits every payment by shares, pulled by each member.

Guilds are created with the badge rule (holders of a SkillBadge in a skill family) over the
workspace's identity contracts; the contract also takes a credential or a reputation rule (see
contracts/guilds/IGuild.vyi). Every check a member can get wrong is made here first, with a one-line
reason; the contract makes them again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.services.badges import check_skill
from proofwork.services.workspace import Signer, Workspace

MIN_VOTING_PERIOD = 3_600
MAX_VOTING_PERIOD = 30 * 86_400
MAX_TOTAL_SHARES = 1_000_000
MAX_WORKERS = 16


@dataclass(frozen=True)
class Created:
    address: str
    block: int
    members: list[tuple[str, int]]


def _guild(ws: Workspace, address: str) -> Any:
    """The guild at `address`, checked to be one working with this workspace's escrow."""
    from proofwork.chain.guilds import guild_at

    checked = ws.address(address, "guild")
    if not ws.chain.has_code(checked):
        raise InvalidInput(f"no contract at {checked}: not a guild")
    guild = guild_at(ws.chain, checked)
    try:
        escrow = guild.escrow()
    except Exception as exc:  # not a guild: no such view
        raise InvalidInput(f"the contract at {checked} is not a guild") from exc
    if escrow.lower() != ws.escrow.address.lower():
        raise NotAllowed(f"the guild at {checked} works with another escrow ({escrow})")
    return guild


def _badge_in_family(ws: Workspace, account: str, family: str) -> bytes:
    """The evidence for the badge rule: one of `account`'s badges in `family`, as a bytes32 id."""
    badges = ws.badges
    for token_id in badges.tokens_of(account):
        skill = badges.badge(token_id, holder=account).skill
        if skill == family or skill.startswith(family + "/"):
            return token_id.to_bytes(32, "big")
    raise NotAllowed(f"{account} holds no skill badge in the family {family!r}: the guild's rule")


def create(
    ws: Workspace,
    creator: Signer,
    family: str,
    founders: list[str],
    shares: list[int] | None = None,
    *,
    by_shares: bool = False,
    voting_period: int = 86_400,
) -> Created:
    """Deploys a guild of badge holders in `family` with its founders (each must hold such a badge)."""
    from proofwork.chain.guilds import (
        RULE_BADGE,
        ZERO_ADDRESS,
        Attribution,
        Rule,
        deploy_guild,
        ensure_work_schema,
    )

    family = check_skill(family)
    if not founders or len(founders) > 16:
        raise InvalidInput("a guild has 1 to 16 founders")
    addresses = [ws.address(f, "founder") for f in founders]
    if len({a.lower() for a in addresses}) != len(addresses):
        raise InvalidInput("a founder is named twice")
    shares = shares or [1] * len(addresses)
    if len(shares) != len(addresses):
        raise InvalidInput(f"{len(shares)} shares given for {len(addresses)} founders")
    _check_shares(shares)
    if not MIN_VOTING_PERIOD <= voting_period <= MAX_VOTING_PERIOD:
        raise InvalidInput("the voting period is 1 hour to 30 days")
    if not ws.has_identity:
        raise NotAllowed("the guild's rule needs the identity contracts: run `proofwork identity deploy`")
    evidence = [[_badge_in_family(ws, a, family)] for a in addresses]
    rule = Rule(RULE_BADGE, ws.badges.address, ZERO_ADDRESS, bytes(32), family, 0)
    schema = ensure_work_schema(ws.chain, creator.key, ws.deployment.schema_registry)
    attribution = Attribution(ws.job_attester.address, ws.attestations.address, schema)
    guild = deploy_guild(
        ws.chain,
        creator.key,
        token=ws.token.address,
        escrow=ws.escrow.address,
        by_shares=by_shares,
        voting_period=voting_period,
        rule=rule,
        attribution=attribution,
        founders=addresses,
        shares=shares,
        evidence=evidence,
    )
    return Created(guild.address, guild.deploy_block, list(zip(addresses, shares, strict=True)))


def _check_shares(shares: list[int]) -> None:
    if any(s < 1 for s in shares) or sum(shares) >= MAX_TOTAL_SHARES:
        raise InvalidInput(f"shares are whole numbers from 1, below {MAX_TOTAL_SHARES:,} in all")


def _member(guild: Any, account: Signer) -> None:
    if not guild.is_member(account.address):
        raise NotAllowed(f"{account.address} is not a member of the guild at {guild.address}")


def join(ws: Workspace, guild_address: str, applicant: Signer, shares: int = 1) -> tuple[int, str]:
    """Asks to join with `shares`: the rule is checked and a proposal made for the members' vote.
    Returns (proposal id, tx hash)."""
    guild = _guild(ws, guild_address)
    _check_shares([shares])
    if guild.is_member(applicant.address):
        raise NotAllowed(f"{applicant.address} is already a member")
    rule = guild.rule()
    if rule.kind != 1:
        raise NotAllowed(
            "this guild's rule is a credential or a reputation: join through the SDK with evidence"
        )
    evidence = [_badge_in_family(ws, applicant.address, rule.family)]
    receipt, proposal_id = guild.propose_admission(applicant.key, shares, evidence)
    return proposal_id, receipt.tx_hash


def propose_shares(
    ws: Workspace, guild_address: str, proposer: Signer, member: str, shares: int
) -> tuple[int, str]:
    """Proposes new shares for a member (its pay so far is settled at the old ones)."""
    guild = _guild(ws, guild_address)
    _member(guild, proposer)
    subject = ws.address(member, "member")
    if not guild.is_member(subject):
        raise NotAllowed(f"{subject} is not a member of the guild")
    _check_shares([guild.total_shares() - guild.shares_of(subject) + shares])
    receipt, proposal_id = guild.propose_shares(proposer.key, subject, shares)
    return proposal_id, receipt.tx_hash


def propose_kick(ws: Workspace, guild_address: str, proposer: Signer, member: str) -> tuple[int, str]:
    """Proposes to expel a member (what it earned stays claimable)."""
    guild = _guild(ws, guild_address)
    _member(guild, proposer)
    subject = ws.address(member, "member")
    if not guild.is_member(subject):
        raise NotAllowed(f"{subject} is not a member of the guild")
    receipt, proposal_id = guild.propose_kick(proposer.key, subject)
    return proposal_id, receipt.tx_hash


def leave(ws: Workspace, guild_address: str, member: Signer) -> dict[str, Any]:
    guild = _guild(ws, guild_address)
    _member(guild, member)
    if len(guild.members()) == 1:
        raise NotAllowed("the last member cannot leave the guild")
    receipt = guild.leave(member.key)
    return {"tx": receipt.tx_hash, "claimable": guild.claimable(member.address)}


def apply(
    ws: Workspace, guild_address: str, member: Signer, job_id: int, proposal: bytes, workers: list[str]
) -> tuple[int, str]:
    """Proposes that the guild apply for (or accept) a job, naming the members who will do it."""
    from proofwork.services.jobs import Jobs

    guild = _guild(ws, guild_address)
    _member(guild, member)
    named = [ws.address(w, "worker") for w in workers] or [member.address]
    if len(named) > MAX_WORKERS or len({w.lower() for w in named}) != len(named):
        raise InvalidInput(f"name 1 to {MAX_WORKERS} distinct workers")
    for w in named:
        if not guild.is_member(w):
            raise NotAllowed(f"worker {w} is not a member of the guild")
    job = Jobs(ws).get(job_id)
    _check_job(guild, job)
    receipt, proposal_id = guild.propose_take(member.key, job_id, proposal, named)
    return proposal_id, receipt.tx_hash


def _check_job(guild: Any, job: Any) -> None:
    if job.token.lower() != guild.token().lower():
        raise NotAllowed(f"job {job.job_id} pays in {job.token}, not the guild's token")
    if not job.is_open and job.freelancer.lower() != guild.address.lower():
        raise NotAllowed(f"job {job.job_id} is already taken by {job.freelancer}")


def vote(ws: Workspace, guild_address: str, member: Signer, proposal_id: int, support: bool) -> str:
    guild = _guild(ws, guild_address)
    _member(guild, member)
    proposal = guild.proposal(proposal_id)
    if proposal.executed:
        raise NotAllowed(f"proposal {proposal_id} is already executed")
    if ws.chain.now() > proposal.deadline:
        raise NotAllowed(f"the vote on proposal {proposal_id} is closed")
    if guild.voted(proposal_id, member.address):
        raise NotAllowed(f"{member.address} already voted on proposal {proposal_id}")
    return str(guild.vote(member.key, proposal_id, support).tx_hash)


def _passed(ws: Workspace, guild: Any, proposal_id: int) -> Any:
    proposal = guild.proposal(proposal_id)
    if proposal.executed:
        raise NotAllowed(f"proposal {proposal_id} is already executed")
    if ws.chain.now() > proposal.deadline:
        raise NotAllowed(f"proposal {proposal_id} expired unexecuted")
    if proposal.votes_for * 2 <= proposal.weight:
        raise NotAllowed(
            f"proposal {proposal_id} has not passed: {proposal.votes_for} for of {proposal.weight}, more than half needed"
        )
    return proposal


def execute(ws: Workspace, guild_address: str, member: Signer, proposal_id: int) -> str:
    """Executes a passed admission, share change or expulsion."""
    guild = _guild(ws, guild_address)
    _member(guild, member)
    proposal = _passed(ws, guild, proposal_id)
    if proposal.kind == "take":
        raise InvalidInput(f"proposal {proposal_id} takes a job: use `proofwork guild take`")
    return str(guild.execute(member.key, proposal_id).tx_hash)


def take(ws: Workspace, guild_address: str, member: Signer, proposal_id: int) -> dict[str, Any]:
    """Executes a passed TAKE proposal: the guild applies for the job (or accepts it when hired
    directly) and the named workers go on chain."""
    from proofwork.services.jobs import Jobs

    guild = _guild(ws, guild_address)
    _member(guild, member)
    proposal = guild.proposal(proposal_id)
    if proposal.kind != "take":
        raise InvalidInput(f"proposal {proposal_id} does not take a job")
    _passed(ws, guild, proposal_id)
    job = Jobs(ws).get(proposal.job_id)
    _check_job(guild, job)
    receipt = guild.take(member.key, proposal_id, job)
    return {
        "tx": receipt.tx_hash,
        "job": job.job_id,
        "applied": job.is_open,
        "workers": guild.proposal_workers(proposal_id),
    }


def submit(
    ws: Workspace, guild_address: str, worker: Signer, job_id: int, milestone: int, deliverable: bytes
) -> str:
    """A member named for the job submits a deliverable as the guild."""
    from proofwork.services.jobs import Jobs

    guild = _guild(ws, guild_address)
    _member(guild, worker)
    if not guild.is_worker(job_id, worker.address):
        raise NotAllowed(f"{worker.address} is not named for job {job_id}")
    job = Jobs(ws).get(job_id)
    if job.freelancer.lower() != guild.address.lower():
        raise NotAllowed(f"job {job_id} is not the guild's: its freelancer is {job.freelancer}")
    if not 0 <= milestone < len(job.milestones):
        raise InvalidInput(f"job {job_id} has {len(job.milestones)} milestones")
    return str(guild.submit(worker.key, job, milestone, deliverable).tx_hash)


def attest(ws: Workspace, guild_address: str, caller: Signer, job_id: int, milestone: int) -> dict[str, Any]:
    """The guild attests, to each worker named for the job, its part in a milestone the JobAttester
    attested as completed by the guild (GuildWork attestations referring to the JobCompleted one)."""
    guild = _guild(ws, guild_address)
    attribution = guild.attribution()
    if int(attribution.job_attester, 16) == 0:
        raise NotAllowed("this guild attests no work (created without the identity contracts)")
    if guild.attributed(job_id, milestone):
        raise NotAllowed(f"milestone {milestone + 1} of job {job_id} is attested to its workers already")
    if not guild.job_workers(job_id):
        raise NotAllowed(f"the guild named no workers for job {job_id}")
    if ws.job_attester.attestation_of(job_id, milestone) == bytes(32):
        raise NotAllowed(
            f"milestone {milestone + 1} of job {job_id} has no JobCompleted attestation yet: `proofwork attest job`"
        )
    receipt, workers = guild.attest_workers(caller.key, job_id, milestone)
    return {"tx": receipt.tx_hash, "job": job_id, "milestone": milestone + 1, "workers": workers}


def split(ws: Workspace, guild_address: str, caller: Signer) -> dict[str, Any]:
    guild = _guild(ws, guild_address)
    receipt, amount = guild.split(caller.key)
    return {"tx": receipt.tx_hash, "split": amount, "gas": receipt.gas_used, "carry": guild.carry()}


def claim(ws: Workspace, guild_address: str, member: Signer, amount: int | None = None) -> dict[str, Any]:
    """Claims `amount` (all that is due when None); payments not split yet are split first."""
    guild = _guild(ws, guild_address)
    if guild.unsplit(ws.token.balance_of(guild.address)) > 0:
        guild.split(member.key)
    due = guild.claimable(member.address)
    wanted = due if amount is None else amount
    if wanted <= 0:
        raise NotAllowed(f"{member.address} has nothing to claim from the guild")
    if wanted > due:
        raise NotAllowed(f"claim above due: {member.address} may claim {due} units")
    receipt = guild.claim(member.key, wanted)
    return {"tx": receipt.tx_hash, "claimed": wanted, "gas": receipt.gas_used}


def members(ws: Workspace, guild_address: str) -> dict[str, Any]:
    guild = _guild(ws, guild_address)
    rule = guild.rule()
    return {
        "guild": guild.address,
        "family": rule.family,
        "by_shares": guild.by_shares(),
        "total_shares": guild.total_shares(),
        "carry": guild.carry(),
        "unsplit": guild.unsplit(ws.token.balance_of(guild.address)),
        "members": [
            {"address": m.address, "shares": m.shares, "claimable": m.claimable} for m in guild.members()
        ],
    }
