"""Attacks on Guild.vy, kept as proofs of concept: share manipulation (a join timed just before a
payment, a share change to take pay already earned), hostile tokens (re-entry before the balance moves,
False on transfer, a stray token), a leaving or expelled member's pay, members griefing votes, a payout
the escrow had to credit, and escrow calls that would spend the members' pay."""

from __future__ import annotations

from pathlib import Path

import boa
import pytest
from guild_fixtures import (
    CLIENT,
    DAY,
    DEPLOYER,
    MEMBERS,
    NO_ATTRIBUTION,
    OUTSIDER,
    SPEC,
    USD,
    ZERO,
    ZERO32,
    admit,
    badge_evidence,
    badge_rule,
    deploy_guild,
    pass_proposal,
    pay,
    post_job,
)

A, B, C, D, E = MEMBERS[:5]
MOCKS = Path(__file__).resolve().parent / "mocks"

# A token whose transfer calls back into a target *before* moving the balance: a re-entrant `split`
# there would see the claimed amount still in the guild and split it a second time.
EARLY_REENTRANT_TOKEN = """
# pragma version ~=0.4.3
balanceOf: public(HashMap[address, uint256])
target: public(address)
payload: public(Bytes[1024])
last_ok: public(bool)
attempts: public(uint256)

@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount

@external
def arm(target: address, payload: Bytes[1024]):
    self.target = target
    self.payload = payload

@external
def transfer(to: address, amount: uint256) -> bool:
    if self.target != empty(address):
        self.attempts += 1
        self.last_ok = raw_call(self.target, self.payload, revert_on_failure=False)
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[to] += amount
    return True
"""

FALSE_TOKEN = """
# pragma version ~=0.4.3
balanceOf: public(HashMap[address, uint256])
refuse: public(bool)

@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount

@external
def set_refuse(flag: bool):
    self.refuse = flag

@external
def transfer(to: address, amount: uint256) -> bool:
    if self.refuse:
        return False
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[to] += amount
    return True
"""


@pytest.fixture(scope="module")
def world(guild_world):
    return guild_world


def guild_in(world, token, founders, shares=None):
    """A badge guild paid in `token` (a hostile one)."""
    shares = shares or [1] * len(founders)
    with boa.env.prank(DEPLOYER):
        return world.guild_partial.deploy(
            token.address,
            world.escrow.address,
            False,
            DAY,
            badge_rule(world),
            NO_ATTRIBUTION,
            founders,
            shares,
            [badge_evidence(world, f) for f in founders],
        )


# ------------------------------------------------------------------ share manipulation


def test_join_just_before_a_payment_is_split_takes_none_of_it(world):
    """The payment is in the guild but nobody called `split`; the newcomer's admission runs the
    split first, so the payment goes to the members who were there when it arrived."""
    guild = deploy_guild(world, [A, B])
    evidence = badge_evidence(world, C)
    with boa.env.prank(C):
        pid = guild.propose_admission(100, evidence)  # asks for 100 shares against 2
    pass_proposal(guild, pid, [A, B])
    pay(world, guild, 1_000 * USD)
    with boa.env.prank(C), boa.reverts("guild: not a member"):
        guild.execute(pid)  # the applicant cannot pick the moment of its own admission
    with boa.env.prank(A):
        guild.execute(pid)
    guild.split()
    assert guild.claimable(C) == 0
    assert guild.claimable(A) == guild.claimable(B) == 500 * USD
    pay(world, guild, 102 * USD)  # paid after the admission: shared by the newcomer, by shares
    guild.split()
    assert guild.claimable(C) == 100 * USD


def test_raising_own_shares_does_not_reach_pay_already_earned(world):
    guild = deploy_guild(world, [A, B, C])
    pay(world, guild, 300 * USD)
    guild.split()
    pay(world, guild, 300 * USD)  # not split yet
    with boa.env.prank(B):
        pid = guild.propose_shares(B, 1_000)
    pass_proposal(guild, pid, [B, C])  # B talks C into it
    with boa.env.prank(B):
        guild.execute(pid)
    guild.split()
    # both payments were earned at 1:1:1; the new shares only count from now on
    assert [guild.claimable(m) for m in (A, B, C)] == [200 * USD] * 3


def test_cutting_a_members_shares_or_expelling_it_keeps_its_earned_pay(world):
    guild = deploy_guild(world, [A, B, C])
    pay(world, guild, 90 * USD)
    with boa.env.prank(A):
        pid = guild.propose_shares(C, 1)
    pass_proposal(guild, pid, [A, B])
    with boa.env.prank(A):
        guild.execute(pid)
    pay(world, guild, 30 * USD)
    with boa.env.prank(B):
        kick = guild.propose_kick(C)
    pass_proposal(guild, kick, [A, B])
    with boa.env.prank(B):
        guild.execute(kick)
    assert not guild.is_member(C)
    assert guild.claimable(C) == 30 * USD + 10 * USD
    pay(world, guild, 60 * USD)
    guild.split()
    assert guild.claimable(C) == 40 * USD  # nothing after the expulsion
    with boa.env.prank(C):
        guild.claim(40 * USD)
    assert world.token.balanceOf(C) == 40 * USD


def test_leaving_member_keeps_unsplit_pay_and_cannot_claim_more(world):
    guild = deploy_guild(world, [A, B])
    pay(world, guild, 100 * USD)  # unsplit when A leaves
    with boa.env.prank(A):
        guild.leave()
    pay(world, guild, 100 * USD)
    guild.split()
    assert guild.claimable(A) == 50 * USD and guild.claimable(B) == 150 * USD
    with boa.env.prank(A), boa.reverts("guild: claim above due"):
        guild.claim(50 * USD + 1)
    with boa.env.prank(A):
        guild.claim(50 * USD)
    with boa.env.prank(A), boa.reverts("guild: claim above due"):
        guild.claim(1)


def test_rejoining_does_not_earn_twice(world):
    guild = deploy_guild(world, [A, B])
    pay(world, guild, 100)
    with boa.env.prank(A):
        guild.leave()
    with boa.env.prank(A):
        pid = guild.propose_admission(1, badge_evidence_again(world, A))
    pass_proposal(guild, pid, [B])
    with boa.env.prank(B):
        guild.execute(pid)
    pay(world, guild, 100)
    guild.split()
    assert guild.claimable(A) == 50 + 50 and guild.claimable(B) == 50 + 50


def badge_evidence_again(world, who):
    """The badge minted to `who` for the guild's founding (one per holder and skill)."""
    tokens = world.badges.tokens_of(who)
    return [tokens[0].to_bytes(32, "big")]


# ------------------------------------------------------------------ hostile tokens


def test_reentrant_split_before_the_balance_moves_is_refused(world):
    token = boa.loads(EARLY_REENTRANT_TOKEN)
    guild = guild_in(world, token, [A, B])
    token.mint(guild.address, 100 * USD)
    guild.split()
    token.arm(guild.address, guild.split.prepare_calldata())
    with boa.env.prank(A):
        guild.claim(50 * USD)
    assert token.attempts() == 1 and not token.last_ok()  # the lock refused the re-entry
    assert guild.tracked() == 50 * USD == token.balanceOf(guild.address)
    assert guild.claimable(B) == 50 * USD and guild.claimable(A) == 0
    assert guild.split() == 0  # nothing counted twice


def test_reentrant_claim_is_refused(world):
    token = boa.loads(EARLY_REENTRANT_TOKEN)
    guild = guild_in(world, token, [A, B])
    token.mint(guild.address, 100)
    guild.split()
    token.arm(guild.address, guild.claim.prepare_calldata(50))  # the guild re-claiming as itself
    with boa.env.prank(A):
        guild.claim(50)
    assert not token.last_ok()
    assert guild.claimable(B) == 50 and token.balanceOf(A) == 50


def test_token_returning_false_keeps_the_pay_owed(world):
    token = boa.loads(FALSE_TOKEN)
    guild = guild_in(world, token, [A, B])
    token.mint(guild.address, 10)
    guild.split()
    token.set_refuse(True)
    with boa.env.prank(A), boa.reverts("guild: transfer failed"):
        guild.claim(5)
    assert guild.claimable(A) == 5
    token.set_refuse(False)
    with boa.env.prank(A):
        guild.claim(5)
    assert token.balanceOf(A) == 5


def test_stray_token_is_ignored_and_foreign_jobs_refused(world):
    """Another token sent to the guild changes nothing; a job paid in it cannot be taken."""
    other = boa.loads(FALSE_TOKEN)
    guild = deploy_guild(world, [A, B])
    other.mint(guild.address, 10**30)
    assert guild.split() == 0 and guild.tracked() == 0
    job = post_job(world, [10 * USD])
    with boa.env.prank(A):
        pid = guild.propose_take(job.job_id, b"\x00" * 32, [A])
    pass_proposal(guild, pid, [A, B])
    forged = (*job.tuple()[:2], other.address, *job.tuple()[3:])
    with boa.env.prank(A), boa.reverts("guild: job paid in another token"):
        guild.take(pid, job.job_id, forged)


# ------------------------------------------------------------------ griefing votes


def test_member_cannot_vote_twice_even_by_leaving_and_rejoining(world):
    guild = deploy_guild(world, [A, B, C, D])
    with boa.env.prank(A):
        pid = guild.propose_kick(D)
    with boa.env.prank(B):
        guild.vote(pid, True)
        with boa.reverts("guild: already voted"):
            guild.vote(pid, False)
        guild.leave()
        with boa.reverts("guild: caller is not a member"):
            guild.vote(pid, True)
    with boa.env.prank(B):
        again = guild.propose_admission(1, badge_evidence_again(world, B))
    pass_proposal(guild, again, [A, C, D])
    with boa.env.prank(A):
        guild.execute(again)
    assert guild.voted(pid, B)  # its first vote still counts once
    with boa.env.prank(B), boa.reverts("guild: member since after the proposal"):
        guild.vote(pid, True)
    assert guild.proposal(pid).votes_for == 1


def test_newcomers_cannot_swing_an_open_vote(world):
    """A majority admits friends to outvote an open proposal: they may not vote on it, and the
    proposal's weight is the one it was made with."""
    guild = deploy_guild(world, [A, B, C])
    with boa.env.prank(C):
        pid = guild.propose_kick(A)
    admit(world, guild, D, 1, [B, C])
    admit(world, guild, E, 1, [B, C, D])
    for newcomer in (D, E):
        with boa.env.prank(newcomer), boa.reverts("guild: member since after the proposal"):
            guild.vote(pid, True)
    assert guild.proposal(pid).weight == 3


def test_proposal_spam_is_one_open_proposal_each(world):
    guild = deploy_guild(world, [A, B, C])
    with boa.env.prank(A):
        guild.propose_kick(B)
        with boa.reverts("guild: proposer has an open proposal"):
            guild.propose_kick(C)
        with boa.reverts("guild: proposer has an open proposal"):
            guild.propose_call(b"\x12\x34\x56\x78")
    with boa.env.prank(OUTSIDER), boa.reverts("guild: not a member"):
        guild.propose_kick(A)
    evidence = badge_evidence(world, E)
    with boa.env.prank(E):
        guild.propose_admission(1, evidence)
        with boa.reverts("guild: proposer has an open proposal"):
            guild.propose_admission(2, evidence)
    boa.env.time_travel(seconds=DAY + 1)
    with boa.env.prank(A):
        guild.propose_kick(C)  # once the first has lapsed


def test_minority_cannot_pass_and_nobody_executes_twice(world):
    guild = deploy_guild(world, [A, B, C, D])
    with boa.env.prank(A):
        pid = guild.propose_kick(D)
    pass_proposal(guild, pid, [A, B])  # 2 of 4 is not more than half
    with boa.env.prank(A), boa.reverts("guild: proposal not passed"):
        guild.execute(pid)
    with boa.env.prank(C):
        guild.vote(pid, True)
    with boa.env.prank(A):
        guild.execute(pid)
    with boa.env.prank(B), boa.reverts("guild: proposal executed"):
        guild.execute(pid)
    with boa.env.prank(C), boa.reverts("guild: proposal executed"):
        guild.vote(pid, False)


def test_expelled_worker_can_no_longer_act_for_the_guild(world):
    guild = deploy_guild(world, [A, B, C])
    job = post_job(world, [10 * USD], freelancer=guild.address)
    with boa.env.prank(A):
        pid = guild.propose_take(job.job_id, b"\x00" * 32, [C])
    pass_proposal(guild, pid, [A, B])
    with boa.env.prank(A):
        guild.take(pid, job.job_id, job.tuple())
    with boa.env.prank(B):
        kick = guild.propose_kick(C)
    pass_proposal(guild, kick, [A, B])
    with boa.env.prank(B):
        guild.execute(kick)
    with boa.env.prank(C), boa.reverts("guild: not a member"):
        guild.submit(job.job_id, job.tuple(), 0, b"\x01" * 32)


# ------------------------------------------------------------------ the escrow side


def test_payout_the_token_refused_is_pulled_from_the_escrow_and_split(world):
    """A token that blocks the guild makes the escrow credit the payout; anyone pulls it into the
    guild once the token lets it through, and it is split like any payment."""
    token = boa.load(str(MOCKS / "BlocklistToken.vy"))
    guild = guild_in(world, token, [A, B])
    token.mint(CLIENT, 100 * USD)
    deadline = boa.env.timestamp + 10 * DAY
    with boa.env.prank(CLIENT):
        token.approve(world.escrow.address, 100 * USD)
        job_id = world.escrow.create_job(token.address, guild.address, [100 * USD], deadline, DAY, SPEC, ZERO)
    fee_bps = world.escrow.fee_bps()
    job = (
        CLIENT,
        guild.address,
        token.address,
        ZERO,
        deadline,
        DAY,
        fee_bps,
        SPEC,
        ZERO,
        0,
        [(100 * USD, 0, 0, 0, 0, ZERO32)],
    )
    with boa.reverts("guild: nothing credited"):
        guild.withdraw_from_escrow()
    token.set_blocked(guild.address, True)
    with boa.env.prank(CLIENT):
        world.escrow.approve(job_id, job, 0)
    net = 100 * USD - 100 * USD * fee_bps // 10_000
    assert world.escrow.claimable(token.address, guild.address) == net
    token.set_blocked(guild.address, False)
    with boa.env.prank(OUTSIDER):
        assert guild.withdraw_from_escrow() == net
    assert guild.claimable(A) == guild.claimable(B) == net // 2


def test_a_passed_escrow_call_cannot_spend_the_guilds_money(world):
    """CALL proposals reach the escrow only, and the guild never approves it: even a majority cannot
    make the guild fund a job out of the members' pay."""
    guild = deploy_guild(world, [A, B])
    pay(world, guild, 50 * USD)
    guild.split()
    data = world.escrow.create_job.prepare_calldata(
        world.token.address, A, [50 * USD], boa.env.timestamp + DAY, DAY, SPEC, ZERO
    )
    with boa.env.prank(A):
        pid = guild.propose_call(data)
    pass_proposal(guild, pid, [A, B])
    with boa.env.prank(A), boa.reverts():
        guild.execute_call(pid, data)
    assert world.token.balanceOf(guild.address) == 50 * USD and guild.claimable(B) == 25 * USD


def test_raised_shares_do_not_weigh_on_open_votes(world):
    """Votes by shares: a member whose shares were raised while a proposal was open cannot vote on
    it with the new weight (nor at all), so no tally exceeds the weight the proposal counted."""
    guild = deploy_guild(world, [A, B, C], [5, 3, 3], by_shares=True)
    with boa.env.prank(C):
        kick_a = guild.propose_kick(A)
    with boa.env.prank(B):
        raise_b = guild.propose_shares(B, 100)
    pass_proposal(guild, raise_b, [B, C])  # 6 of 11
    with boa.env.prank(B):
        guild.execute(raise_b)
    with boa.env.prank(B), boa.reverts("guild: member since after the proposal"):
        guild.vote(kick_a, True)  # would be 100 of a proposal that counted 11
    with boa.env.prank(C):
        guild.vote(kick_a, True)
    with boa.env.prank(C), boa.reverts("guild: proposal not passed"):
        guild.execute(kick_a)
    assert guild.proposal(kick_a).votes_for == 3
