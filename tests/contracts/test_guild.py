"""Guild.vy: admission rules, the O(1) split and pulled claims, votes, and jobs taken as one freelancer."""

from __future__ import annotations

import boa
import pytest
from eth_utils import keccak
from guild_fixtures import (
    ADMIT,
    CLIENT,
    DAY,
    FAMILY,
    ISSUER,
    JOB_ATTESTER,
    MEMBERS,
    NO_ATTRIBUTION,
    OUTSIDER,
    TAKE,
    UNACCREDITED,
    USD,
    ZERO,
    acct,
    admit,
    approve,
    assign,
    attest,
    attester_stub,
    badge_evidence,
    badge_id,
    completed,
    credential_rule,
    deploy_guild,
    job_data,
    mint_badge,
    pass_proposal,
    pay,
    post_job,
    reputation_rule,
    submitted,
)

A, B, C, D = MEMBERS[:4]


@pytest.fixture(scope="module")
def world(guild_world):
    return guild_world


def split_and_claim_all(world, guild, accounts):
    guild.split()
    got = {}
    for m in accounts:
        due = guild.claimable(m)
        before = world.token.balanceOf(m)
        if due:
            with boa.env.prank(m):
                guild.claim(due)
        got[m] = world.token.balanceOf(m) - before
    return got


# ------------------------------------------------------------------ creation and rules


def test_founders_and_views(world):
    guild = deploy_guild(world, [A, B, C], [1, 2, 3])
    assert guild.member_count() == 3
    assert guild.total_shares() == 6
    assert [guild.shares_of(m) for m in (A, B, C)] == [1, 2, 3]
    assert guild.is_member(A) and not guild.is_member(OUTSIDER)
    assert guild.token() == world.token.address and guild.escrow() == world.escrow.address
    assert guild.rule()[4] == FAMILY
    assert guild.acc_per_share() == 1 and guild.tracked() == 0 and guild.carry() == 0


def test_founder_must_meet_the_rule(world):
    other = badge_id(mint_badge(world, D, "nlp/sentiment"))
    with boa.reverts("guild: badge outside the skill family"):
        world.guild_partial.deploy(
            world.token.address,
            world.escrow.address,
            False,
            DAY,
            (1, world.badges.address, ZERO, b"\x00" * 32, FAMILY, 0),
            NO_ATTRIBUTION,
            [A, D],
            [1, 1],
            [badge_evidence(world, A), [other]],
        )


@pytest.mark.parametrize(
    "skill, ok",
    [
        (FAMILY, True),
        (FAMILY + "/detection", True),
        (FAMILY + "x", False),
        ("ml", False),
        ("nlp/vision", False),
    ],
)
def test_badge_rule_is_the_family_or_below_it(world, skill, ok):
    guild = deploy_guild(world, [A])
    evidence = [badge_id(mint_badge(world, B, skill))]
    assert guild.meets_rule(B, evidence) is ok
    if not ok:
        with boa.env.prank(B), boa.reverts("guild: badge outside the skill family"):
            guild.propose_admission(1, evidence)


def test_badge_rule_needs_the_holder(world):
    guild = deploy_guild(world, [A])
    evidence = badge_evidence(world, C)  # C's badge, B applies
    with boa.env.prank(B), boa.reverts("guild: badge not held"):
        guild.propose_admission(1, evidence)
    with boa.env.prank(B), boa.reverts("guild: badge not held"):
        guild.propose_admission(1, [badge_id(10**9)])  # no such token
    with boa.env.prank(B), boa.reverts("guild: give one badge"):
        guild.propose_admission(1, [])


def test_credential_rule(world):
    founder_uid = attest(world, ISSUER, A, world.credential_schema)
    guild = deploy_guild(world, [A], rule=credential_rule(world), evidence=[[founder_uid]])
    good = attest(world, ISSUER, B, world.credential_schema)
    assert guild.meets_rule(B, [good])
    with boa.env.prank(C), boa.reverts("guild: credential not for this account"):
        guild.propose_admission(1, [good])
    bad_issuer = attest(world, UNACCREDITED, C, world.credential_schema)
    with boa.env.prank(C), boa.reverts("guild: issuer not accredited"):
        guild.propose_admission(1, [bad_issuer])
    other_schema = attest(world, ISSUER, C, world.job_schema, revocable=False)
    with boa.env.prank(C), boa.reverts("guild: credential of another schema"):
        guild.propose_admission(1, [other_schema])
    expiring = attest(world, ISSUER, C, world.credential_schema, expiration=boa.env.timestamp + 10)
    assert guild.meets_rule(C, [expiring])
    boa.env.time_travel(seconds=11)
    with boa.env.prank(C), boa.reverts("guild: credential expired"):
        guild.propose_admission(1, [expiring])
    revoked = attest(world, ISSUER, D, world.credential_schema)
    with boa.env.prank(ISSUER):
        world.attestations.revoke((world.credential_schema, (revoked, 0)))
    with boa.env.prank(D), boa.reverts("guild: credential revoked"):
        guild.propose_admission(1, [revoked])
    # an issuer that loses its accreditation no longer admits anyone
    with boa.env.prank(world.registry.owner()):
        world.registry.revoke_accreditation(ISSUER)
    with boa.env.prank(B), boa.reverts("guild: issuer not accredited"):
        guild.propose_admission(1, [good])


def test_reputation_rule(world):
    clients = iter(acct(f"client {k}") for k in range(100))

    def jobs(who, n, client=None):
        made = []
        for _ in range(n):
            data = job_data(client or next(clients), who)
            made.append(attest(world, JOB_ATTESTER, who, world.job_schema, revocable=False, data=data))
        return sorted(made)

    guild = deploy_guild(world, [A], rule=reputation_rule(world, 2), evidence=[jobs(A, 2)])
    two = jobs(B, 2)
    assert guild.meets_rule(B, two)
    with boa.env.prank(B), boa.reverts("guild: too few completed jobs"):
        guild.propose_admission(1, two[:1])
    with boa.env.prank(B), boa.reverts("guild: attestations not increasing"):
        guild.propose_admission(1, [two[0], two[0]])
    with boa.env.prank(B), boa.reverts("guild: attestations not increasing"):
        guild.propose_admission(1, [two[1], two[0]])
    with boa.env.prank(C), boa.reverts("guild: not a completed job of this account"):
        guild.propose_admission(1, two)
    forged = sorted(
        [attest(world, OUTSIDER, C, world.job_schema, revocable=False, data=job_data(CLIENT, C)), *jobs(C, 1)]
    )
    with boa.env.prank(C), boa.reverts("guild: not a completed job of this account"):
        guild.propose_admission(1, forged)
    # one client paying many milestones (or a sock puppet) counts once
    farmed = jobs(D, 3, client=CLIENT)
    with boa.env.prank(D), boa.reverts("guild: completed jobs of one client count once"):
        guild.propose_admission(1, farmed[:2])
    short = attest(world, JOB_ATTESTER, D, world.job_schema, revocable=False)  # data without a client
    with boa.env.prank(D), boa.reverts("guild: not a completed job of this account"):
        guild.propose_admission(1, sorted([short, farmed[0]]))


def test_constructor_checks(world):
    ev = [badge_evidence(world, A)]
    args = (world.token.address, world.escrow.address, False)
    rule = (1, world.badges.address, ZERO, b"\x00" * 32, FAMILY, 0)
    with boa.reverts("guild: bad voting period"):
        world.guild_partial.deploy(*args, 60, rule, NO_ATTRIBUTION, [A], [1], ev)
    with boa.reverts("guild: unknown rule"):
        world.guild_partial.deploy(*args, DAY, (9, *rule[1:]), NO_ATTRIBUTION, [A], [1], ev)
    with boa.reverts("guild: no founders"):
        world.guild_partial.deploy(*args, DAY, rule, NO_ATTRIBUTION, [], [], [])
    with boa.reverts("guild: founder lists differ"):
        world.guild_partial.deploy(*args, DAY, rule, NO_ATTRIBUTION, [A], [1, 2], ev)
    with boa.reverts("guild: zero shares"):
        world.guild_partial.deploy(*args, DAY, rule, NO_ATTRIBUTION, [A], [0], ev)
    with boa.reverts("guild: already a member"):
        world.guild_partial.deploy(*args, DAY, rule, NO_ATTRIBUTION, [A, A], [1, 1], ev * 2)
    with boa.reverts("guild: too many shares"):
        world.guild_partial.deploy(*args, DAY, rule, NO_ATTRIBUTION, [A], [10**6], ev)
    with boa.reverts("guild: empty skill family"):
        world.guild_partial.deploy(
            *args, DAY, (1, world.badges.address, ZERO, b"\x00" * 32, "", 0), NO_ATTRIBUTION, [A], [1], ev
        )


# ------------------------------------------------------------------ split and claims


def test_split_by_shares_and_carry(world):
    guild = deploy_guild(world, [A, B, C], [1, 2, 4])
    pay(world, guild, 100)  # 100 // 7 = 14 a share, 2 carried
    assert guild.split() == 100
    assert guild.carry() == 2
    assert [guild.claimable(m) for m in (A, B, C)] == [14, 28, 56]
    pay(world, guild, 5)  # (5 + 2) // 7 = 1 a share, nothing carried
    guild.split()
    assert guild.carry() == 0
    got = split_and_claim_all(world, guild, [A, B, C])
    assert got == {A: 15, B: 30, C: 60}
    assert world.token.balanceOf(guild.address) == 0


def test_split_with_nothing_new_is_a_no_op(world):
    guild = deploy_guild(world, [A, B])
    assert guild.split() == 0
    pay(world, guild, 10)
    guild.split()
    assert guild.split() == 0
    assert guild.claimable(A) == 5


def test_claim_reverts(world):
    guild = deploy_guild(world, [A, B])
    pay(world, guild, 10 * USD)
    guild.split()
    with boa.env.prank(A), boa.reverts("guild: claim above due"):
        guild.claim(5 * USD + 1)
    with boa.env.prank(A), boa.reverts("guild: zero claim"):
        guild.claim(0)
    with boa.env.prank(OUTSIDER), boa.reverts("guild: claim above due"):
        guild.claim(1)
    with boa.env.prank(A):
        guild.claim(2 * USD)
        guild.claim(3 * USD)
        with boa.reverts("guild: claim above due"):
            guild.claim(1)
    assert world.token.balanceOf(A) == 5 * USD


def test_unsplit_payment_is_not_claimable(world):
    guild = deploy_guild(world, [A, B])
    pay(world, guild, 10)
    assert guild.claimable(A) == 0
    with boa.env.prank(A), boa.reverts("guild: claim above due"):
        guild.claim(1)


# ------------------------------------------------------------------ votes


def test_admission_by_vote(world):
    guild = deploy_guild(world, [A, B, C])
    evidence = badge_evidence(world, D)
    with boa.env.prank(D):
        pid = guild.propose_admission(2, evidence)
    p = guild.proposal(pid)
    assert p.kind == ADMIT and p.subject == D and p.shares == 2 and p.weight == 3
    with boa.env.prank(A):
        guild.vote(pid, True)
        with boa.reverts("guild: proposal not passed"):
            guild.execute(pid)
    with boa.env.prank(B):
        guild.vote(pid, True)
    with boa.env.prank(D), boa.reverts("guild: not a member"):
        guild.execute(pid)  # only members execute
    with boa.env.prank(C):
        guild.execute(pid)
    assert guild.is_member(D) and guild.shares_of(D) == 2 and guild.total_shares() == 5
    with boa.env.prank(C), boa.reverts("guild: proposal executed"):
        guild.execute(pid)


def test_vote_reverts(world):
    guild = deploy_guild(world, [A, B, C])
    with boa.env.prank(D):
        pid = guild.propose_admission(1, badge_evidence(world, D))
    with boa.env.prank(OUTSIDER), boa.reverts("guild: caller is not a member"):
        guild.vote(pid, True)
    with boa.env.prank(A):
        guild.vote(pid, False)
        with boa.reverts("guild: already voted"):
            guild.vote(pid, True)
        with boa.reverts("guild: unknown proposal"):
            guild.vote(pid + 1, True)
    boa.env.time_travel(seconds=DAY + 1)
    with boa.env.prank(B), boa.reverts("guild: voting closed"):
        guild.vote(pid, True)


def test_members_admitted_later_do_not_vote_on_earlier_proposals(world):
    guild = deploy_guild(world, [A, B, C])
    with boa.env.prank(A):
        kick = guild.propose_kick(C)
    admit(world, guild, D, 1, [A, B])
    with boa.env.prank(D), boa.reverts("guild: member since after the proposal"):
        guild.vote(kick, True)


def test_expired_and_rejected(world):
    guild = deploy_guild(world, [A, B, C])
    with boa.env.prank(A):
        pid = guild.propose_shares(B, 5)
    with boa.env.prank(B):
        guild.vote(pid, False)
    with boa.env.prank(C):
        guild.vote(pid, False)
    with boa.env.prank(A), boa.reverts("guild: proposal not passed"):
        guild.execute(pid)
    with boa.env.prank(A), boa.reverts("guild: proposer has an open proposal"):
        guild.propose_kick(C)
    boa.env.time_travel(seconds=DAY + 1)
    with boa.env.prank(A):
        pid2 = guild.propose_shares(B, 5)
    pass_proposal(guild, pid2, [A, B])
    boa.env.time_travel(seconds=DAY + 1)
    with boa.env.prank(A), boa.reverts("guild: proposal expired"):
        guild.execute(pid2)


def test_votes_by_shares(world):
    guild = deploy_guild(world, [A, B, C], [5, 3, 3], by_shares=True)
    with boa.env.prank(B):
        pid = guild.propose_kick(C)
    assert guild.proposal(pid).weight == 11
    with boa.env.prank(B):
        guild.vote(pid, True)
    with boa.env.prank(C):
        guild.vote(pid, True)  # 6 of 11
    with boa.env.prank(B):
        guild.execute(pid)
    assert not guild.is_member(C) and guild.total_shares() == 8


def test_share_change_settles_at_the_old_shares(world):
    guild = deploy_guild(world, [A, B])
    pay(world, guild, 100)
    with boa.env.prank(A):
        pid = guild.propose_shares(A, 3)
    pass_proposal(guild, pid, [A, B])
    with boa.env.prank(A):
        guild.execute(pid)  # the 100 unsplit are split first at 1:1
    pay(world, guild, 100)
    got = split_and_claim_all(world, guild, [A, B])
    assert got == {A: 50 + 75, B: 50 + 25}


def test_leave_keeps_pay_and_last_member_stays(world):
    guild = deploy_guild(world, [A, B])
    pay(world, guild, 100)
    with boa.env.prank(A):
        guild.leave()  # splits first
    assert not guild.is_member(A) and guild.claimable(A) == 50
    pay(world, guild, 100)
    guild.split()
    assert guild.claimable(A) == 50 and guild.claimable(B) == 150
    with boa.env.prank(B), boa.reverts("guild: the last member cannot leave"):
        guild.leave()
    with boa.env.prank(A), boa.reverts("guild: not a member"):
        guild.leave()
    with boa.env.prank(A):
        guild.claim(50)


def test_propose_reverts(world):
    guild = deploy_guild(world, [A, B])
    with boa.env.prank(OUTSIDER), boa.reverts("guild: not a member"):
        guild.propose_kick(A)
    with boa.env.prank(A), boa.reverts("guild: not a member"):
        guild.propose_shares(OUTSIDER, 2)
    with boa.env.prank(A), boa.reverts("guild: zero shares"):
        guild.propose_shares(B, 0)
    with boa.env.prank(A), boa.reverts("guild: already a member"):
        guild.propose_admission(1, [badge_id(0)])
    with boa.env.prank(A), boa.reverts("guild: worker named twice"):
        guild.propose_take(1, b"\x01" * 32, [A, A])
    with boa.env.prank(A), boa.reverts("guild: not a member"):
        guild.propose_take(1, b"\x01" * 32, [OUTSIDER])
    with boa.env.prank(A), boa.reverts("guild: no workers"):
        guild.propose_take(1, b"\x01" * 32, [])
    with boa.env.prank(A), boa.reverts("guild: calldata without selector"):
        guild.propose_call(b"\x01")


# ------------------------------------------------------------------ jobs


def test_guild_applies_works_and_is_paid_as_one_freelancer(world):
    guild = deploy_guild(world, [A, B, C], [2, 1, 1])
    job = post_job(world, [400 * USD, 600 * USD])
    proposal_hash = keccak(b"guild proposal")
    with boa.env.prank(A):
        pid = guild.propose_take(job.job_id, proposal_hash, [A, B])
    assert guild.proposal(pid).kind == TAKE
    assert guild.proposal_workers(pid) == [A, B]
    pass_proposal(guild, pid, [A, C])
    with boa.env.prank(C):
        guild.take(pid, job.job_id, job.tuple())
    named = [e for e in guild.get_logs() if type(e).__name__ == "WorkersNamed"]
    assert named and list(named[0].workers) == [A, B] and named[0].job_id == job.job_id
    assert world.escrow.applied(job.job_id, guild.address)
    assign(world, job, guild.address)
    deliverable = keccak(b"model weights")
    with boa.env.prank(C), boa.reverts("guild: not named for this job"):
        guild.submit(job.job_id, job.tuple(), 0, deliverable)
    with boa.env.prank(OUTSIDER), boa.reverts("guild: not a member"):
        guild.submit(job.job_id, job.tuple(), 0, deliverable)
    with boa.env.prank(B):
        guild.submit(job.job_id, job.tuple(), 0, deliverable)
    submitted(job, 0, deliverable)
    net = approve(world, job, 0)
    assert world.token.balanceOf(guild.address) == net
    got = split_and_claim_all(world, guild, [A, B, C])
    assert sum(got.values()) + guild.carry() == net
    assert got[A] == net // 4 * 2


def test_direct_hire_is_taken_without_applying(world):
    guild = deploy_guild(world, [A, B])
    job = post_job(world, [100 * USD], freelancer=guild.address)
    with boa.env.prank(A):
        pid = guild.propose_take(job.job_id, b"\x00" * 32, [B])
    pass_proposal(guild, pid, [A, B])
    stale = (*job.tuple()[:4], job.deadline + 1, *job.tuple()[5:])
    with boa.env.prank(A), boa.reverts("guild: stale job state"):
        guild.take(pid, job.job_id, stale)
    with boa.env.prank(A), boa.reverts("guild: not the proposal's job"):
        guild.take(pid, job.job_id + 1, job.tuple())
    with boa.env.prank(A):
        guild.take(pid, job.job_id, job.tuple())
    assert guild.is_worker(job.job_id, B) and not guild.is_worker(job.job_id, A)


def test_take_refuses_other_tokens_and_other_freelancers(world):
    guild = deploy_guild(world, [A, B])
    job = post_job(world, [100 * USD], freelancer=OUTSIDER)
    with boa.env.prank(A):
        pid = guild.propose_take(job.job_id, b"\x00" * 32, [A])
    pass_proposal(guild, pid, [A, B])
    with boa.env.prank(A), boa.reverts("guild: job taken by another"):
        guild.take(pid, job.job_id, job.tuple())
    other = (*job.tuple()[:2], OUTSIDER, *job.tuple()[3:])
    with boa.env.prank(A), boa.reverts("guild: job paid in another token"):
        guild.take(pid, job.job_id, other)


def test_escrow_call_by_vote(world):
    """A cancellation offer made by the guild through a CALL proposal (calldata by hash)."""
    guild = deploy_guild(world, [A, B])
    job = post_job(world, [100 * USD], freelancer=guild.address)
    data = world.escrow.cancel.prepare_calldata(job.job_id, job.tuple(), 40 * USD)
    with boa.env.prank(A):
        pid = guild.propose_call(data)
    pass_proposal(guild, pid, [A, B])
    with boa.env.prank(A), boa.reverts("guild: calldata differs from the proposal"):
        guild.execute_call(pid, data + b"\x00")
    with boa.env.prank(A), boa.reverts("guild: use take or execute_call"):
        guild.execute(pid)
    with boa.env.prank(A):
        guild.execute_call(pid, data)
    with boa.env.prank(CLIENT):
        world.escrow.cancel(
            job.job_id, (*job.tuple()[:8], guild.address, 40 * USD, job.tuple()[10]), 40 * USD
        )
    net = 40 * USD - 40 * USD * job.fee_bps // 10_000
    assert world.token.balanceOf(guild.address) == net


# ------------------------------------------------------------------ attribution


def test_workers_named_get_the_guilds_completed_work_attested(world):
    stub = attester_stub(world)
    attribution = (stub.address, world.attestations.address, world.work_schema)
    guild = deploy_guild(world, [A, B, C], attribution=attribution)
    assert guild.attribution() == attribution
    job = post_job(world, [10 * USD, 20 * USD], freelancer=guild.address)
    with boa.env.prank(A):
        pid = guild.propose_take(job.job_id, b"\x00" * 32, [A, C])
    pass_proposal(guild, pid, [A, B])
    with boa.env.prank(A):
        guild.take(pid, job.job_id, job.tuple())
    assert guild.job_workers(job.job_id) == [A, C]
    with boa.reverts("guild: milestone not attested"):
        guild.attest_workers(job.job_id, 0)
    uid = completed(world, stub, job.job_id, 0, guild.address)
    with boa.env.prank(OUTSIDER):
        guild.attest_workers(job.job_id, 0)  # anyone
    logs = guild.get_logs(include_child_logs=True)
    attested = [e for e in logs if type(e).__name__ == "Attested"]
    assert [e.recipient for e in attested] == [A, C]
    for e in attested:
        record = world.attestations.get_attestation(e.uid)
        assert (
            record.attester == guild.address and record.refUID == uid and record.schema == world.work_schema
        )
    worked = [e for e in logs if type(e).__name__ == "WorkAttested"]
    assert worked[0].completed == uid and list(worked[0].workers) == [A, C]
    assert guild.attributed(job.job_id, 0)
    with boa.reverts("guild: milestone already attributed"):
        guild.attest_workers(job.job_id, 0)
    completed(world, stub, job.job_id, 1, OUTSIDER)  # a record about someone else
    with boa.reverts("guild: completed by another freelancer"):
        guild.attest_workers(job.job_id, 1)


def test_attribution_checks(world):
    guild = deploy_guild(world, [A, B])
    with boa.reverts("guild: attribution is off"):
        guild.attest_workers(1, 0)
    stub = attester_stub(world)
    with boa.reverts("guild: attester of another attestation service"):
        deploy_guild(world, [MEMBERS[5]], attribution=(stub.address, world.badges.address, world.work_schema))
    with boa.reverts("guild: no work schema"):
        deploy_guild(
            world, [MEMBERS[6]], attribution=(stub.address, world.attestations.address, b"\x00" * 32)
        )
    guild = deploy_guild(
        world, MEMBERS[7:9], attribution=(stub.address, world.attestations.address, world.work_schema)
    )
    completed(world, stub, 77, 0, guild.address)
    with boa.reverts("guild: no workers named for this job"):
        guild.attest_workers(77, 0)


def test_a_new_take_replaces_the_named_workers(world):
    guild = deploy_guild(world, [A, B, C])
    job = post_job(world, [10 * USD], freelancer=guild.address)
    for workers, proposer in (([A, B], A), ([C], B)):
        with boa.env.prank(proposer):
            pid = guild.propose_take(job.job_id, b"\x00" * 32, workers)
        pass_proposal(guild, pid, [A, B])
        with boa.env.prank(proposer):
            guild.take(pid, job.job_id, job.tuple())
    assert guild.job_workers(job.job_id) == [C]
    assert not guild.is_worker(job.job_id, A) and guild.is_worker(job.job_id, C)
