"""Unit tests of contracts/funding/FundingRound.vy: a round's life (create, fund, apply, contribute,
finalize, claim, refund), the quadratic split compared with `domain.quadratic`, the two Sybil rules
(SkillBadge and attestation from an accredited issuer), the remainder rule, and every bad input's
revert message."""

from __future__ import annotations

import boa
from round_fixtures import (
    CREATOR,
    DAY,
    ISSUER,
    OTHER_SKILL,
    RULE_ATTESTATION,
    SKILL,
    UNACCREDITED,
    USD,
    ZERO32,
    acct,
    now,
    skill_hash,
)

from proofwork.domain import quadratic

ALICE, BOB, CAROL, DAVE = (acct(n) for n in ("alice", "bob", "carol", "dave"))
P1, P2, P3 = (acct(n) for n in ("project one", "project two", "project three"))
KEEPER = acct("keeper")


def check_against_domain(rs, rid: int) -> quadratic.Split:
    exp = rs.expected(rid)
    r = rs.c.round(rid)
    assert r.total_weight == exp.total_weight
    for p in exp.projects:
        onchain = rs.c.project(rid, p.project)
        assert (onchain.contributions, onchain.eligible_contributions, onchain.sqrt_sum, onchain.weight) == (
            p.contributions,
            p.eligible_contributions,
            p.sqrt_sum,
            p.weight,
        )
        assert rs.c.matching_of(rid, p.project) == p.matching
    return exp


def test_three_projects_split_claim_and_remainder(rs):
    rid = rs.create(pool=1_000 * USD)
    for who in (P1, P2, P3):
        rs.apply(rid, who)
    creds = {who: rs.badge(who) for who in (ALICE, BOB, CAROL, DAVE)}
    # project 1: four people give 1 USD each; project 2: one person gives 100 USD; project 3: two give 9 and 16
    for who in (ALICE, BOB, CAROL, DAVE):
        rs.contribute(rid, 1, who, USD, creds[who])
    rs.contribute(rid, 2, ALICE, 100 * USD, creds[ALICE])
    rs.contribute(rid, 3, BOB, 9 * USD, creds[BOB])
    rs.contribute(rid, 3, CAROL, 16 * USD, creds[CAROL])
    exp = check_against_domain(rs, rid)
    # 4 * 1000 roots: w1 = 4000**2 - 4 * 1000**2; w2 = 0 (a lone contributor); w3 = 2 * 3000 * 4000
    assert [p.weight for p in exp.projects] == [12 * 10**6, 0, 24 * 10**6]
    rs.finalize(rid)
    assert rs.c.matching_of(rid, 1) == 1_000 * USD * 12 // 36
    assert rs.claim_all(rid) == 4 * USD + 100 * USD + 25 * USD + exp.matching
    assert rs.token.balanceOf(P1) == 4 * USD + exp.projects[0].matching
    assert rs.token.balanceOf(P2) == 100 * USD
    assert exp.returned == 1  # 1000e6 * 12 / 36 and * 24 / 36 leave one unit
    assert rs.c.refund_due(rid, CREATOR) == 1
    with boa.env.prank(KEEPER):
        assert rs.c.refund(rid, CREATOR) == 1
    assert rs.held(rid) == 0
    assert rs.token.balanceOf(rs.c.address) == 0


def test_ineligible_contributions_reach_the_project_without_matching(rs):
    rid = rs.create(pool=500 * USD)
    rs.apply(rid, P1)
    rs.apply(rid, P2)
    rs.contribute(rid, 1, ALICE, 7 * USD)  # no credential
    rs.contribute(rid, 1, BOB, 7 * USD)
    rs.contribute(rid, 2, CAROL, USD, rs.badge(CAROL))
    rs.contribute(rid, 2, DAVE, USD, rs.badge(DAVE))
    check_against_domain(rs, rid)
    assert rs.c.project(rid, 1).weight == 0
    rs.finalize(rid)
    rs.claim_all(rid)
    assert rs.token.balanceOf(P1) == 14 * USD
    assert rs.token.balanceOf(P2) == 2 * USD + 500 * USD
    assert rs.c.refund_due(rid, CREATOR) == 0


def test_pool_returns_to_every_funder_when_nothing_is_eligible(rs):
    rid = rs.create(pool=300 * USD)
    rs.give(ALICE, 200 * USD)
    with boa.env.prank(ALICE):
        rs.c.fund(rid, 200 * USD)
    assert rs.c.round(rid).pool == 500 * USD
    rs.apply(rid, P1)
    rs.contribute(rid, 1, BOB, 5 * USD)
    rs.finalize(rid)
    assert rs.c.refund_due(rid, CREATOR) == 300 * USD
    with boa.env.prank(KEEPER):
        assert rs.c.refund(rid, ALICE) == 200 * USD
        assert rs.c.refund(rid, CREATOR) == 300 * USD
        assert rs.c.claim(rid, 1) == 5 * USD
        with boa.reverts("round: nothing to refund"):
            rs.c.refund(rid, ALICE)
    assert rs.held(rid) == 0


def test_no_projects_pool_returns(rs):
    rid = rs.create(pool=10 * USD)
    rs.finalize(rid)
    with boa.env.prank(KEEPER):
        rs.c.refund(rid, CREATOR)
    assert rs.token.balanceOf(CREATOR) == 10 * USD
    assert rs.held(rid) == 0


def test_remainder_waits_for_every_weighted_claim(rs):
    rid = rs.create(pool=100)
    for who in (P1, P2, P3):
        rs.apply(rid, who)
    rs.apply(rid, acct("lonely project"))
    a, b = rs.badge(ALICE), rs.badge(BOB)
    for j in (1, 2, 3):
        rs.contribute(rid, j, ALICE, 1, a)
        rs.contribute(rid, j, BOB, 1, b)
    rs.contribute(rid, 4, ALICE, 50, a)  # a lone contributor: weight 0
    exp = check_against_domain(rs, rid)
    assert [p.matching for p in exp.projects] == [33, 33, 33, 0]
    rs.finalize(rid)
    with boa.env.prank(KEEPER):
        rs.c.claim(rid, 1)
        rs.c.claim(rid, 4)
        rs.c.claim(rid, 2)
        assert rs.c.refund_due(rid, CREATOR) == 0
        rs.c.claim(rid, 3)
        assert rs.c.refund_due(rid, CREATOR) == 1
        assert rs.c.refund_due(rid, ALICE) == 0
        rs.c.refund(rid, CREATOR)
        with boa.reverts("round: nothing to refund"):
            rs.c.refund(rid, CREATOR)
    assert rs.held(rid) == 0 and rs.token.balanceOf(rs.c.address) == 0


def test_job_badges_and_attestations_pass(rs):
    rid = rs.create()
    rs.apply(rid, P1)
    rs.contribute(rid, 1, ALICE, USD, rs.job_badge(ALICE))
    rs.contribute(rid, 1, BOB, USD, rs.badge(BOB))
    assert rs.c.project(rid, 1).weight == 2 * 1000 * 1000
    rid2 = rs.create(rule=RULE_ATTESTATION)
    rs.apply(rid2, P1)
    rs.contribute(rid2, 1, CAROL, 4 * USD, rs.attest(CAROL))
    rs.contribute(rid2, 1, DAVE, USD, rs.attest(DAVE, expiration=now() + DAY))
    assert rs.c.project(rid2, 1).weight == 2 * 2000 * 1000
    check_against_domain(rs, rid2)


def test_repeated_contributions_sum_before_the_root(rs):
    rid = rs.create()
    rs.apply(rid, P1)
    a, b = rs.badge(ALICE), rs.badge(BOB)
    for _ in range(4):
        rs.contribute(rid, 1, ALICE, USD, a)
    rs.contribute(rid, 1, BOB, USD, b)
    # sqrt(4 USD) = 2000, not 4 * 1000
    assert rs.c.project(rid, 1).sqrt_sum == 3000
    assert rs.c.eligible_contribution(rid, 1, ALICE) == 4 * USD
    check_against_domain(rs, rid)


# --------------------------------------------------------------------------- Sybil rule refusals


def test_badge_rule_refusals(rs, identity):
    rid = rs.create()
    rs.apply(rid, P1)
    alice = rs.badge(ALICE)
    rs.give(BOB, USD)
    with boa.env.prank(BOB), boa.reverts("round: not the badge's holder"):
        rs.c.contribute(rid, 1, USD, alice)
    other = rs.badge(BOB, skill=OTHER_SKILL)
    with boa.env.prank(BOB), boa.reverts("round: badge skill not accepted"):
        rs.c.contribute(rid, 1, USD, other)
    bob = rs.badge(BOB)
    with boa.env.prank(identity.registry.owner()):
        identity.registry.revoke_accreditation(ISSUER)
    with boa.env.prank(BOB), boa.reverts("round: badge issuer not accredited"):
        rs.c.contribute(rid, 1, USD, bob)
    with boa.env.prank(BOB), boa.reverts():
        rs.c.contribute(rid, 1, USD, (10**9).to_bytes(32, "big"))  # no such badge
    with boa.env.prank(BOB):
        rs.c.contribute(rid, 1, USD, ZERO32)  # still welcome, unmatched
    assert rs.c.project(rid, 1).contributions == USD


def test_attestation_rule_refusals(rs, identity):
    rid = rs.create(rule=RULE_ATTESTATION)
    rs.apply(rid, P1)
    rs.give(BOB, 10 * USD)
    for_alice = rs.attest(ALICE)
    cases = [
        (b"\x01" * 32, "round: unknown attestation"),
        (for_alice, "round: attestation is not about the contributor"),
        (rs.attest(BOB, attester=UNACCREDITED), "round: attester not accredited"),
        (rs.attest(BOB, expiration=now() + 10), None),
    ]
    for cred, error in cases[:3]:
        with boa.env.prank(BOB), boa.reverts(error):
            rs.c.contribute(rid, 1, USD, cred)
    expiring = cases[3][0]
    boa.env.time_travel(seconds=11)
    with boa.env.prank(BOB), boa.reverts("round: attestation expired"):
        rs.c.contribute(rid, 1, USD, expiring)
    revoked = rs.attest(BOB)
    with boa.env.prank(ISSUER):
        identity.attestations.revoke((identity.schema, (revoked, 0)))
    with boa.env.prank(BOB), boa.reverts("round: attestation revoked"):
        rs.c.contribute(rid, 1, USD, revoked)
    other_schema = identity.schemas.register("bool other", "0x" + "00" * 20, True)
    wrong = rs.attest(BOB, schema=other_schema)
    with boa.env.prank(BOB), boa.reverts("round: attestation schema not accepted"):
        rs.c.contribute(rid, 1, USD, wrong)


# --------------------------------------------------------------------------- bad input


def test_create_round_bad_input(rs):
    t = now()
    tok = rs.token.address
    topics = [skill_hash(SKILL)]
    with boa.env.prank(CREATOR):
        with boa.reverts("round: token is not a contract"):
            rs.c.create_round(CREATOR, 0, t + DAY, t, t + 2 * DAY, 1, topics, "")
        with boa.reverts("round: applications close in the past"):
            rs.c.create_round(tok, 0, t, t, t + 2 * DAY, 1, topics, "")
        with boa.reverts("round: contributions must close after they open and after applications"):
            rs.c.create_round(tok, 0, t + 3 * DAY, t, t + 2 * DAY, 1, topics, "")
        with boa.reverts("round: contributions must close after they open and after applications"):
            rs.c.create_round(tok, 0, t + DAY, t + 2 * DAY, t + 2 * DAY, 1, topics, "")
        with boa.reverts("round: round too long"):
            rs.c.create_round(tok, 0, t + DAY, t, t + 400 * DAY, 1, topics, "")
        with boa.reverts("round: unknown rule kind"):
            rs.c.create_round(tok, 0, t + DAY, t, t + 2 * DAY, 0, topics, "")
        with boa.reverts("round: no accepted topic"):
            rs.c.create_round(tok, 0, t + DAY, t, t + 2 * DAY, 1, [], "")
        with boa.reverts("round: empty topic"):
            rs.c.create_round(tok, 0, t + DAY, t, t + 2 * DAY, 1, [ZERO32], "")
        with boa.reverts("round: pool too large"):
            rs.c.create_round(tok, 2**128, t + DAY, t, t + 2 * DAY, 1, topics, "")


def test_apply_bad_input(rs):
    rid = rs.create(apply_days=2)
    rs.apply(rid, P1)
    with boa.env.prank(ALICE):
        with boa.reverts("round: recipient already applied"):
            rs.c.apply_project(rid, P1, "bafkreix")
        with boa.reverts("round: zero recipient"):
            rs.c.apply_project(rid, "0x" + "00" * 20, "bafkreix")
        with boa.reverts("round: empty metadata CID"):
            rs.c.apply_project(rid, P2, "")
        with boa.reverts("round: unknown round"):
            rs.c.apply_project(rid + 1, P2, "bafkreix")
        boa.env.time_travel(seconds=2 * DAY)
        with boa.reverts("round: applications closed"):
            rs.c.apply_project(rid, P2, "bafkreix")


def test_contribute_bad_input(rs):
    rid = rs.create(apply_days=1, open_days=1, close_days=3)
    rs.apply(rid, P1)
    rs.give(ALICE, 10 * USD)
    with boa.env.prank(ALICE):
        with boa.reverts("round: contributions not open yet"):
            rs.c.contribute(rid, 1, USD, ZERO32)
        boa.env.time_travel(seconds=DAY)
        with boa.reverts("round: unknown project"):
            rs.c.contribute(rid, 2, USD, ZERO32)
        with boa.reverts("round: unknown project"):
            rs.c.contribute(rid, 0, USD, ZERO32)
        with boa.reverts("round: unknown round"):
            rs.c.contribute(rid + 7, 1, USD, ZERO32)
        with boa.reverts("round: zero amount"):
            rs.c.contribute(rid, 1, 0, ZERO32)
        rs.c.contribute(rid, 1, USD, ZERO32)
        boa.env.time_travel(seconds=2 * DAY)
        with boa.reverts("round: contributions closed"):
            rs.c.contribute(rid, 1, USD, ZERO32)
        with boa.reverts("round: contributions closed"):
            rs.c.fund(rid, USD)


def test_finalize_claim_refund_bad_input(rs):
    rid = rs.create(pool=10 * USD)
    rs.apply(rid, P1)
    rs.contribute(rid, 1, ALICE, USD, rs.badge(ALICE))
    rs.contribute(rid, 1, BOB, USD, rs.badge(BOB))
    with boa.env.prank(KEEPER):
        with boa.reverts("round: contributions still open"):
            rs.c.finalize(rid)
        with boa.reverts("round: not finalized"):
            rs.c.claim(rid, 1)
        with boa.reverts("round: not finalized"):
            rs.c.refund(rid, CREATOR)
        with boa.reverts("round: unknown round"):
            rs.c.finalize(rid + 1)
    rs.finalize(rid)
    with boa.env.prank(KEEPER):
        with boa.reverts("round: already finalized"):
            rs.c.finalize(rid)
        with boa.reverts("round: unknown project"):
            rs.c.claim(rid, 2)
        with boa.reverts("round: caller is not the project's recipient"):
            rs.c.claim_to(rid, 1, KEEPER)
        with boa.reverts("round: nothing to refund"):
            rs.c.refund(rid, CREATOR)  # the weighted project is not claimed yet
        assert rs.c.claim(rid, 1) == 12 * USD
        with boa.reverts("round: already claimed"):
            rs.c.claim(rid, 1)
        with boa.reverts("round: nothing to refund"):
            rs.c.refund(rid, CREATOR)  # 10 USD split among one project: no remainder
    with boa.env.prank(P1), boa.reverts("round: already claimed"):
        rs.c.claim_to(rid, 1, P1)


def test_claim_to_pays_elsewhere(rs):
    rid = rs.create(pool=0)
    rs.apply(rid, P1)
    rs.contribute(rid, 1, ALICE, 3 * USD)
    rs.finalize(rid)
    with boa.env.prank(P1):
        with boa.reverts("round: zero receiver"):
            rs.c.claim_to(rid, 1, "0x" + "00" * 20)
        assert rs.c.claim_to(rid, 1, P2) == 3 * USD
    assert rs.token.balanceOf(P2) == 3 * USD
