"""Attacker's proofs of concept against contracts/funding/FundingRound.vy, kept as tests: a Sybil farm
(many wallets, one badge), hostile tokens (re-entrant, lying, fee-taking, blocking a recipient), a
project contributing to itself, rounding dust, and griefing finalization."""

from __future__ import annotations

import boa
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from round_fixtures import (
    CREATOR,
    MOCKS,
    REPO,
    USD,
    Rounds,
    acct,
)

from proofwork.domain import quadratic

KEEPER = acct("keeper")
HONEST = [acct(f"honest {i}") for i in range(3)]
FARMER = acct("sybil farmer")
FARM = [acct(f"farm wallet {i}") for i in range(30)]
GOOD, FARM_PROJECT = acct("good project"), acct("farm project")


def test_sybil_farm_with_one_badge_counts_as_one(rs):
    rid = rs.create(pool=1_000 * USD)
    good = rs.apply(rid, GOOD)
    farm = rs.apply(rid, FARM_PROJECT, applicant=acct("farm front"))
    honest = {who: rs.badge(who) for who in HONEST}
    for who in HONEST:
        rs.contribute(rid, good, who, USD, honest[who])
    badge = rs.badge(FARMER)
    # the farm's other wallets cannot use the farmer's soulbound badge ...
    rs.give(FARM[0], USD)
    with boa.env.prank(FARM[0]), boa.reverts("round: not the badge's holder"):
        rs.c.contribute(rid, farm, USD, badge)
    # ... so they give without a credential (no matching), and the farmer gives 30 times with it:
    for wallet in FARM:
        rs.contribute(rid, farm, wallet, USD)
    for _ in range(30):
        rs.contribute(rid, farm, FARMER, USD, badge)
    assert rs.c.project(rid, farm).weight == 0  # one identity: no subsidy at all
    assert rs.c.project(rid, good).weight == 6 * 10**6
    rs.finalize(rid)
    assert rs.c.matching_of(rid, good) == 1_000 * USD
    assert rs.c.matching_of(rid, farm) == 0
    # without a Sybil rule (every wallet counted) the farm would have taken almost all of the pool
    naive = quadratic.split(
        1_000 * USD,
        2,
        [quadratic.Contribution(c.project, c.contributor, c.amount, True) for c in rs.contributions[rid]],
    )
    assert naive.projects[farm - 1].matching > 990 * USD
    # with the farmer and two honest people, the farm project has three identities, not 32
    rid2 = rs.create(pool=1_000 * USD)
    p = rs.apply(rid2, FARM_PROJECT, applicant=acct("farm front"))
    for who in HONEST[:2]:
        rs.contribute(rid2, p, who, USD, honest[who])
    for wallet in FARM:
        rs.contribute(rid2, p, wallet, USD)
    rs.contribute(rid2, p, FARMER, 30 * USD, badge)
    assert rs.c.project(rid2, p).sqrt_sum == 1000 + 1000 + 5477  # isqrt(30e6) = 5477


def test_hostile_token_reentry_is_refused_and_other_rounds_untouched(rs, round_contract, identity):
    honest = rs.create(pool=50 * USD)
    rs.apply(honest, GOOD)
    rs.contribute(honest, 1, HONEST[0], 5 * USD)
    hostile_token = boa.load_partial(str(MOCKS / "ReentrantToken.vy")).deploy()
    hr = Rounds(round_contract, hostile_token, identity)
    rid = hr.create(pool=100 * USD)
    hr.apply(rid, acct("attacker project"))
    hr.apply(rid, acct("attacker project 2"))
    hr.contribute(rid, 1, acct("attacker"), 10 * USD)
    hr.contribute(rid, 2, acct("attacker"), USD)
    hr.finalize(rid)
    reenter = selector("claim(uint256,uint256)") + encode(["uint256", "uint256"], [rid, 2])
    hostile_token.arm(round_contract.address, reenter, True)
    with boa.env.prank(KEEPER), boa.reverts():
        round_contract.claim(rid, 1)
    hostile_token.arm(round_contract.address, reenter, False)
    with boa.env.prank(KEEPER):
        assert round_contract.claim(rid, 1) == 10 * USD
    assert hostile_token.last_ok() is False  # the nested claim was refused by the lock
    assert round_contract.project(rid, 2).claimed is False
    hostile_token.set_return_false(True)
    with boa.env.prank(KEEPER), boa.reverts("round: transfer failed"):
        round_contract.claim(rid, 2)
    # the honest round's money is where it was
    assert rs.token.balanceOf(round_contract.address) >= rs.held(honest) == 55 * USD
    rs.finalize(honest)
    rs.claim_all(honest)
    with boa.env.prank(KEEPER):
        rs.c.refund(honest, CREATOR)  # nothing was eligible: the pool goes back
    assert rs.token.balanceOf(GOOD) == 5 * USD and rs.token.balanceOf(CREATOR) == 50 * USD
    assert rs.held(honest) == 0


def test_fee_on_transfer_token_refused(round_contract, identity):
    token = boa.load_partial(str(REPO / "contracts" / "mocks" / "FeeOnTransferToken.vy")).deploy()
    fr = Rounds(round_contract, token, identity)
    with boa.reverts("round: token delivered less than sent"):
        fr.create(pool=USD)


def test_blocked_recipient_cannot_freeze_the_remainder(rs, round_contract, identity):
    token = boa.load_partial(str(MOCKS / "BlocklistToken.vy")).deploy()
    br = Rounds(round_contract, token, identity)
    rid = br.create(pool=100)
    for who in (GOOD, FARM_PROJECT, acct("third")):
        br.apply(rid, who)
    a, b = br.badge(HONEST[0]), br.badge(HONEST[1])
    for j in (1, 2, 3):
        br.contribute(rid, j, HONEST[0], 1, a)
        br.contribute(rid, j, HONEST[1], 1, b)
    br.finalize(rid)
    token.set_blocked(GOOD, True)
    with boa.env.prank(KEEPER):
        with boa.reverts():
            round_contract.claim(rid, 1)
        round_contract.claim(rid, 2)
        round_contract.claim(rid, 3)
    with boa.env.prank(GOOD):
        assert round_contract.claim_to(rid, 1, acct("good project's other wallet")) == 2 + 33
    with boa.env.prank(KEEPER):
        assert round_contract.refund(rid, CREATOR) == 1
    assert token.balanceOf(round_contract.address) == 0


def test_project_cannot_match_its_own_funding(rs):
    rid = rs.create(pool=100 * USD)
    applicant = acct("project team")
    p = rs.apply(rid, GOOD, applicant=applicant)
    h0 = rs.badge(HONEST[0])
    rs.contribute(rid, p, HONEST[0], USD, h0)
    creds = {}
    for insider in (GOOD, applicant):
        cred = creds[insider] = rs.badge(insider)
        rs.give(insider, 10 * USD)
        with boa.env.prank(insider), boa.reverts("round: a project cannot match its own funding"):
            rs.c.contribute(rid, p, 10 * USD, cred)
        rs.contribute(rid, p, insider, 10 * USD)  # welcome without matching
    assert rs.c.project(rid, p).weight == 0
    # an insider is still a person for other projects
    q = rs.apply(rid, acct("other project"))
    rs.contribute(rid, q, applicant, USD, creds[applicant])
    rs.contribute(rid, q, HONEST[0], USD, h0)
    assert rs.c.project(rid, q).weight == 2 * 1000 * 1000


def test_rounding_dust_goes_back_and_splitting_gains_nothing(rs):
    # a one-unit pool among seven equal projects: nobody gets a unit, the unit returns to the creator
    rid = rs.create(pool=1)
    creds = [rs.badge(h) for h in HONEST[:2]]
    for j in range(7):
        rs.apply(rid, acct(f"dust project {j}"))
        for h, c in zip(HONEST[:2], creds, strict=True):
            rs.contribute(rid, j + 1, h, 3, c)  # isqrt(3) = 1
    rs.finalize(rid)
    assert rs.claim_all(rid) == 7 * 6
    with boa.env.prank(KEEPER):
        assert rs.c.refund(rid, CREATOR) == 1
    assert rs.token.balanceOf(rs.c.address) == 0
    # 100 one-unit contributions of one identity weigh what one of 100 units weighs
    rid2 = rs.create(pool=USD)
    a, b = rs.apply(rid2, acct("split a")), rs.apply(rid2, acct("split b"))
    for _ in range(100):
        rs.contribute(rid2, a, HONEST[0], 1, creds[0])
    rs.contribute(rid2, a, HONEST[1], 1, creds[1])
    rs.contribute(rid2, b, HONEST[0], 100, creds[0])
    rs.contribute(rid2, b, HONEST[1], 1, creds[1])
    assert rs.c.project(rid2, a).weight == rs.c.project(rid2, b).weight == 2 * 10 * 1
    # floor roots never pay more than the exact square roots would
    for j in (a, b):
        assert rs.c.project(rid2, j).weight <= 2 * (100**0.5) * 1


def test_griefing_finalize(rs):
    rid = rs.create(pool=100 * USD)
    rs.apply(rid, GOOD)
    spammer = acct("spammer")
    for i in range(60):
        rs.apply(rid, acct(f"spam project {i}"), applicant=spammer)
        rs.contribute(rid, i + 2, spammer, 1)
    rs.contribute(rid, 1, HONEST[0], USD, rs.badge(HONEST[0]))
    rs.contribute(rid, 1, HONEST[1], USD, rs.badge(HONEST[1]))
    with boa.env.prank(spammer), boa.reverts("round: contributions still open"):
        rs.c.finalize(rid)
    rs.close(rid)
    with boa.env.prank(spammer):
        rs.c.finalize(rid)
    big = rs.c._computation.get_gas_used()
    small_round = rs.create(pool=USD)
    rs.finalize(small_round)
    small = rs.c._computation.get_gas_used()
    assert abs(big - small) < 2_000  # finalization is O(1) whatever the number of projects
    with boa.env.prank(spammer), boa.reverts("round: already finalized"):
        rs.c.finalize(rid)
    with boa.env.prank(KEEPER):
        assert rs.c.claim(rid, 1) == 102 * USD  # the good project is paid without the spam being claimed
        assert rs.c.refund_due(rid, CREATOR) == 0
