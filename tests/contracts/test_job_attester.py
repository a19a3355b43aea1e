"""Tests of contracts/attestations/JobAttester.vy on real JobEscrow jobs, settled by
their client or by a real OracleCommittee from signed EIP-712 score reports.

Jobs are driven through the model-checked escrow harness (`h`) and the committee
driver (`d`, see committee_fixtures.py); the JobCompleted attestations are read back
from the Attestations contract and decoded with eth_abi; the skill badge is a mock
(tests/contracts/mocks/MockSkillBadge.vy) with the ISkillBadge ABI.
"""

import boa
import hypothesis.strategies as st
import pytest
from attestation_fixtures import (
    JOB_COMPLETED_SCHEMA,
    REVIEW_SCHEMA,
    ZERO32,
    AttestationStack,
    attestation_uid,
    decode_job_completed,
    encode_job_completed,
    encode_review,
    request,
    schema_uid,
)
from committee_fixtures import (
    COMMITTEE_PATH,
    PASS,
    SCALE,
    WINDOW,
    CommitteeDeployer,
    CommitteeDriver,
    expected_outcome,
    oracle_accounts,
    py_median,
)
from escrow_harness import OK, SPEC, EscrowHarness, addr, now
from escrow_model import PAID, RESOLVED, norm
from eth_account import Account
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings

AMOUNT = 1_000 * SCALE
GOOD = [910_000, 905_000, 915_000]
BAD = [410_000, 400_000, 420_000]
SKILL = "nlp/sentiment"
ANYONE = "0x" + "5a" * 20
NOT_CANONICAL = "attester: reports are not the canonical signers'"
REPORTS_REQUIRED = "attester: reports required (only the freelancer may attest unverified)"
LAST_LOGS: list = []  # logs of the last successful `attest` below


@pytest.fixture(scope="session")
def oracles():
    return oracle_accounts(4)


@pytest.fixture(scope="module")
def committee(escrow, oracles):
    return CommitteeDeployer(COMMITTEE_PATH).deploy(escrow.address, [o.address for o in oracles], 1, WINDOW)


@pytest.fixture(scope="module")
def stack():
    return AttestationStack("test_job_attester")


@pytest.fixture(scope="module")
def system(stack, escrow, committee):
    core = stack.core()
    badge = stack.deploy(stack.badge_partial)
    attester = stack.deploy(
        stack.attester_partial, escrow.address, committee.address, core.attestations.address, badge.address
    )
    resolver = stack.deploy(stack.resolver_partial, core.attestations.address, attester.address)
    with boa.env.prank(stack.deployer):
        attester.set_resolver(resolver.address)
    badge.set_auto_minter(attester.address)
    core.badge, core.attester, core.resolver = badge, attester, resolver
    return core


@pytest.fixture
def a(accounts):
    return accounts


@pytest.fixture
def d(h, committee, oracles, accounts):
    return CommitteeDriver(h, committee, oracles, accounts.relayer)


@pytest.fixture
def attester(system):
    return system.attester


@pytest.fixture
def eas(system):
    return system.attestations


@pytest.fixture
def badge(system):
    return system.badge


def attest(attester, h, jid, i=0, reports=None, *, sender=None, state=None, expect=OK):
    """attest_job with `reports` = (scores, signers, signatures) or none."""
    scores, signers, sigs = reports if reports is not None else ([], [], [])
    st_ = h.state(jid) if state is None else state
    sender = addr(sender) if sender is not None else ANYONE  # any account may call
    if expect is not OK:
        with boa.reverts(expect):
            attester.attest_job(jid, st_, i, scores, signers, sigs, sender=sender)
        return None
    uid = attester.attest_job(jid, st_, i, scores, signers, sigs, sender=sender)
    LAST_LOGS[:] = attester.get_logs()
    return uid


def reports(d, jid, i, signed, **kw):
    """(scores, signers, signatures) of `signed` ((oracle, score) pairs, or `d.honest(...)`)."""
    signed = d.resolve_signed(jid, i, signed, kw.get("round_"))
    scores, sigs = d.sign(jid, i, signed, **kw)
    return scores, [o.address for o, _ in signed], sigs


def events(name, logs=None):
    """Decoded events called `name` among `logs` (default: those of the last `attest`)."""
    return [e for e in (LAST_LOGS if logs is None else logs) if type(e).__name__ == name]


def approved_job(h, a, amounts=(AMOUNT,), i=0, **kw):
    jid = h.create_job(a.client, list(amounts), freelancer=a.freelancer, expect=OK, **kw)
    h.submit(a.freelancer, jid, i, expect=OK)
    h.approve(a.client, jid, i, expect=OK)
    return jid


# --------------------------------------------------------------------------- deployment


def test_deployment_wiring(system, escrow, committee, stack):
    attester, resolver, registry = system.attester, system.resolver, system.registry
    assert attester.escrow() == escrow.address
    assert attester.committee() == committee.address
    assert attester.attestations() == system.attestations.address
    assert attester.badge() == system.badge.address
    assert attester.resolver() == resolver.address
    uid = schema_uid(JOB_COMPLETED_SCHEMA, resolver.address, False)
    assert attester.job_completed_schema() == uid == resolver.job_completed_schema()
    assert registry.get_schema(uid).schema == JOB_COMPLETED_SCHEMA
    assert registry.get_schema(resolver.review_schema()).schema == REVIEW_SCHEMA


def test_set_resolver_rules(stack, system, escrow, committee, h, a):
    core = system
    fresh = stack.deploy(
        stack.attester_partial,
        escrow.address,
        committee.address,
        core.attestations.address,
        core.badge.address,
    )
    jid = approved_job(h, a)
    attest(fresh, h, jid, expect="attester: resolver not set")
    with boa.reverts("attester: caller is not the deployer"):
        fresh.set_resolver(core.resolver.address, sender=a.client.address)
    with boa.env.prank(stack.deployer):
        with boa.reverts("attester: JobCompleted schema not registered"):
            fresh.set_resolver(core.registry.address)  # a contract, but no schema registered for it
        with boa.reverts("attester: resolver is not a contract"):
            fresh.set_resolver(a.client.address)
        resolver = stack.deploy(stack.resolver_partial, core.attestations.address, fresh.address)
        fresh.set_resolver(resolver.address)
        with boa.reverts("attester: resolver already set"):
            fresh.set_resolver(resolver.address)
    assert fresh.job_completed_schema() == resolver.job_completed_schema()


def test_constructor_checks(stack, system, escrow, committee, a):
    core = system
    p = stack.attester_partial
    with boa.reverts("attester: escrow is not a contract"):
        stack.deploy(p, a.client.address, committee.address, core.attestations.address, core.badge.address)
    with boa.reverts("attester: committee is not a contract"):
        stack.deploy(p, escrow.address, a.client.address, core.attestations.address, core.badge.address)
    with boa.reverts("attester: badge is not a contract"):
        stack.deploy(p, escrow.address, committee.address, core.attestations.address, a.client.address)
    with boa.reverts("attester: committee of another escrow"):
        stack.deploy(
            p, core.registry.address, committee.address, core.attestations.address, core.badge.address
        )


# --------------------------------------------------------------------------- client approval


def test_attest_after_client_approval_is_unverified(attester, eas, badge, h, a, token):
    jid = h.create_job(a.client, [AMOUNT, 2 * AMOUNT], freelancer=a.freelancer, expect=OK)
    attester.declare_skill(jid, h.state(jid), SKILL, sender=a.client.address)
    h.submit(a.freelancer, jid, 1, expect=OK)
    h.approve(a.client, jid, 1, expect=OK)
    t = now()
    uid = attest(attester, h, jid, 1, sender=a.relayer)
    assert attester.attestation_of(jid, 1) == uid and attester.attestation_of(jid, 0) == ZERO32
    data = encode_job_completed(
        jid,
        1,
        a.client.address,
        a.freelancer.address,
        token.address,
        2 * AMOUNT,
        0,
        False,
        SKILL,
        spec_hash=SPEC,
    )
    schema = attester.job_completed_schema()
    assert uid == attestation_uid(
        schema, a.freelancer.address, attester.address, t, 0, False, ZERO32, data, 0
    )
    att = eas.get_attestation(uid)
    assert att.schema == schema and att.recipient == a.freelancer.address and att.attester == attester.address
    assert att.revocable is False and att.expirationTime == 0 and att.refUID == ZERO32
    assert att.data == data
    assert decode_job_completed(att.data) == (
        jid,
        1,
        norm(a.client.address),
        norm(a.freelancer.address),
        norm(token.address),
        2 * AMOUNT,
        0,
        False,
        0,
        False,
        SPEC,
        SKILL,
    )
    (ev,) = events("JobAttested")
    fields = (
        ev.job_id,
        ev.milestone,
        ev.freelancer,
        ev.uid,
        ev.amount_paid,
        ev.score,
        ev.verified,
        ev.threshold,
    )
    assert fields == (jid, 1, a.freelancer.address, uid, 2 * AMOUNT, 0, False, 0)
    assert [type(e).__name__ for e in LAST_LOGS] == ["Attested", "JobAttested"]
    assert badge.calls() == 0  # unverified: no badge even with a declared skill


def test_partial_then_full_payment_attests_gross_paid(attester, eas, h, a):
    jid = h.create_job(a.client, [AMOUNT], freelancer=a.freelancer, expect=OK)
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.pay_partial(a.client, jid, 0, AMOUNT // 4, expect=OK)
    attest(attester, h, jid, 0, expect="attester: milestone not settled")
    h.approve(a.client, jid, 0, expect=OK)
    assert h.job(jid).milestones[0].status == PAID
    uid = attest(attester, h, jid, 0)
    fields = decode_job_completed(eas.get_attestation(uid).data)
    assert fields[5] == AMOUNT and fields[11] == ""


def test_refusals_unsettled_stale_double_and_unknown(attester, h, a):
    jid = h.create_job(a.client, [AMOUNT, AMOUNT], freelancer=a.freelancer, expect=OK)
    old = h.state(jid)
    attest(attester, h, jid, 0, expect="attester: milestone not settled")  # open
    h.submit(a.freelancer, jid, 0, expect=OK)
    attest(attester, h, jid, 0, expect="attester: milestone not settled")  # submitted
    h.approve(a.client, jid, 0, expect=OK)
    attest(attester, h, jid, 0, state=old, expect="attester: stale job state")
    attest(attester, h, jid, 2, expect="attester: no such milestone")
    attest(attester, h, jid + 1, 0, state=old, expect="attester: unknown job")
    # scores for a job without committee evaluation
    attest(
        attester,
        h,
        jid,
        0,
        reports=([1], [a.client.address], [b"\x00" * 65]),
        expect="attester: no committee evaluation to check reports against",
    )
    attest(attester, h, jid, 0, reports=([], [a.client.address], []), expect="attester: lengths differ")
    attest(attester, h, jid, 0)
    attest(attester, h, jid, 0, expect="attester: already attested")
    attest(attester, h, jid, 1, expect="attester: milestone not settled")


def test_refunded_or_unpaid_milestones_are_not_attested(attester, h, a):
    # reclaimed (REFUNDED) after the deadline: nothing reached the freelancer
    jid = h.create_job(a.client, [AMOUNT], freelancer=a.freelancer, deadline=now() + 100, expect=OK)
    boa.env.time_travel(seconds=200)
    h.reclaim(a.client, jid, expect=OK)
    attest(attester, h, jid, 0, expect="attester: milestone not settled")
    # resolved by a plain arbiter with nothing for the freelancer
    jid = h.create_job(a.client, [AMOUNT], freelancer=a.freelancer, arbiter=a.arbiter, expect=OK)
    h.resolve(a.arbiter, jid, 0, 0, expect=OK)
    assert h.job(jid).milestones[0].status == RESOLVED
    attest(attester, h, jid, 0, expect="attester: nothing paid to the freelancer")
    # resolved with a split: attested, unverified
    jid = h.create_job(a.client, [AMOUNT], freelancer=a.freelancer, arbiter=a.arbiter, expect=OK)
    h.resolve(a.arbiter, jid, 0, AMOUNT // 2, expect=OK)
    attest(attester, h, jid, 0)


# --------------------------------------------------------------------------- committee


def test_committee_pass_with_skill_mints_badge(attester, eas, badge, d, h, a, committee, oracles):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    attester.declare_skill(jid, h.state(jid), SKILL, sender=a.client.address)
    (ev,) = events("SkillDeclared", attester.get_logs())
    assert (ev.job_id, ev.client, ev.skill) == (jid, a.client.address, SKILL)
    assert attester.skill_of(jid) == SKILL
    d.submit(jid, 0)
    d.past_window(jid)
    signed = d.honest(GOOD)
    rep = reports(d, jid, 0, signed)
    settled = d.settle(jid, 0, signed)
    assert settled.passed and h.job(jid).milestones[0].status == RESOLVED
    uid = attest(attester, h, jid, 0, rep, sender=a.outsider)
    median = py_median(GOOD)
    assert median == settled.median == 910_000
    fields = decode_job_completed(eas.get_attestation(uid).data)
    assert fields[5:] == (AMOUNT, median, True, PASS, True, h.job(jid).spec_hash, SKILL)
    (ev,) = events("JobAttested")
    assert (ev.score, ev.verified, ev.threshold) == (median, True, PASS)
    assert badge.badge_of(a.freelancer.address, SKILL) == 1
    assert badge.evidence_of(1) == uid and badge.owner_of(1) == a.freelancer.address
    (award,) = events("BadgeAwarded")
    assert (award.job_id, award.freelancer, award.token_id, award.skill, award.uid) == (
        jid,
        a.freelancer.address,
        1,
        SKILL,
        uid,
    )
    # a second passing job in the same skill: the badge contract mints nothing, no award event
    jid2 = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid2)
    attester.declare_skill(jid2, h.state(jid2), SKILL, sender=a.client.address)
    d.submit(jid2, 0)
    d.past_window(jid2)
    all_four = reports(d, jid2, 0, d.honest([990_000, 980_000, 970_000, 960_000]))
    d.settle(jid2, 0, d.honest(GOOD))
    # the canonical reports only: not all four, which would let the caller pick the median
    attest(attester, h, jid2, 0, all_four, expect=NOT_CANONICAL)
    attest(attester, h, jid2, 0, reports(d, jid2, 0, d.honest([990_000, 980_000, 970_000])))
    fields = decode_job_completed(eas.get_attestation(attester.attestation_of(jid2, 0)).data)
    assert fields[6] == 980_000
    assert badge.calls() == 2 and badge.minted() == 1
    assert events("BadgeAwarded") == []


def test_committee_pass_without_skill_mints_nothing(attester, eas, badge, d, h, a):
    jid = d.submitted(a.client, a.freelancer)
    rep = reports(d, jid, 0, d.honest(GOOD))
    d.settle(jid, 0, d.honest(GOOD))
    uid = attest(attester, h, jid, 0, rep)
    fields = decode_job_completed(eas.get_attestation(uid).data)
    assert fields[6:] == (py_median(GOOD), True, PASS, True, h.job(jid).spec_hash, "")
    assert badge.calls() == 0


def test_committee_failing_score_mints_nothing(attester, eas, badge, d, h, a):
    """The client paid, the oracles' scores fail the threshold: verified, failing, no badge."""
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    attester.declare_skill(jid, h.state(jid), SKILL, sender=a.client.address)
    d.submit(jid, 0)
    h.approve(a.client, jid, 0, expect=OK)
    uid = attest(attester, h, jid, 0, reports(d, jid, 0, d.honest(BAD)))
    fields = decode_job_completed(eas.get_attestation(uid).data)
    assert fields[5:] == (AMOUNT, py_median(BAD), True, PASS, True, h.job(jid).spec_hash, SKILL)
    assert badge.calls() == 0
    # and a failed settlement pays nothing, so there is nothing to attest
    jid = d.submitted(a.client, a.freelancer)
    d.settle(jid, 0, d.honest(BAD))
    attest(
        attester,
        h,
        jid,
        0,
        reports(d, jid, 0, d.honest(BAD)),
        expect="attester: nothing paid to the freelancer",
    )


def test_lower_is_better_threshold(attester, badge, d, h, a):
    jid = d.job(a.client, a.freelancer, [AMOUNT], threshold=300_000, higher_is_better=False)
    d.register(jid)
    attester.declare_skill(jid, h.state(jid), "tabular/rmse", sender=a.client.address)
    d.submit(jid, 0)
    d.past_window(jid)
    signed = d.honest([250_000, 260_000, 240_000])
    rep = reports(d, jid, 0, signed)
    d.settle(jid, 0, signed)
    attest(attester, h, jid, 0, rep)
    assert badge.badge_of(a.freelancer.address, "tabular/rmse") == 1


def test_committee_job_needs_the_canonical_reports(attester, d, h, a, oracles):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    d.past_window(jid)
    signed = d.honest(GOOD)
    good = reports(d, jid, 0, signed)
    d.settle(jid, 0, signed)
    scores, signers, sigs = good
    attest(attester, h, jid, 0, expect=REPORTS_REQUIRED)  # none at all, by an outsider
    attest(attester, h, jid, 0, sender=a.client, expect=REPORTS_REQUIRED)
    attest(attester, h, jid, 0, (scores[:2], signers[:2], sigs[:2]), expect=NOT_CANONICAL)
    # a tampered score no longer recovers its signer
    attest(
        attester, h, jid, 0, ([scores[0] + 1, *scores[1:]], signers, sigs), expect="attester: bad signature"
    )
    # signatures not matching the signer list
    attest(
        attester, h, jid, 0, (scores, signers, [sigs[1], sigs[0], sigs[2]]), expect="attester: bad signature"
    )
    # unsorted, duplicate, or another quorum of valid reports: not the canonical signers
    order = [1, 0, 2]
    attest(
        attester,
        h,
        jid,
        0,
        ([scores[k] for k in order], [signers[k] for k in order], [sigs[k] for k in order]),
        expect=NOT_CANONICAL,
    )
    attest(
        attester,
        h,
        jid,
        0,
        (scores[:2] + scores[1:2], signers[:2] + signers[1:2], sigs[:2] + sigs[1:2]),
        expect=NOT_CANONICAL,
    )
    other = next(o for o in oracles if o.address not in signers)
    attest(
        attester,
        h,
        jid,
        0,
        reports(
            d,
            jid,
            0,
            sorted(
                [(other, 1), *zip(d.designated(jid)[1:], GOOD[1:], strict=True)],
                key=lambda x: int(x[0].address, 16),
            ),
        ),
        expect=NOT_CANONICAL,
    )
    # a key outside the committee
    stranger = Account.from_key(keccak(b"not an oracle"))
    s_scores, s_sigs = d.sign(jid, 0, [(stranger, GOOD[2])])
    mixed = sorted(
        zip([*signers[:2], stranger.address], scores[:2] + s_scores, sigs[:2] + s_sigs, strict=True),
        key=lambda x: int(x[0], 16),
    )
    attest(
        attester,
        h,
        jid,
        0,
        ([m[1] for m in mixed], [m[0] for m in mixed], [m[2] for m in mixed]),
        expect=NOT_CANONICAL,
    )
    # reports for another deliverable
    attest(
        attester,
        h,
        jid,
        0,
        reports(d, jid, 0, signed, deliverable=keccak(b"other")),
        expect="attester: bad signature",
    )
    attest(attester, h, jid, 0, good)


def test_a_late_settlement_makes_its_signers_canonical(attester, eas, d, h, a, oracles):
    """Settled by another quorum after the designated one's period (a designated oracle was
    down): the attestation takes the settlement's signers."""
    jid = d.submitted(a.client, a.freelancer)
    down = d.designated(jid)[0]
    others = [o for o in oracles if o != down]
    d.late(jid)
    late = reports(d, jid, 0, list(zip(others, GOOD, strict=True)))
    d.settle(jid, 0, list(zip(others, GOOD, strict=True)))
    attest(attester, h, jid, 0, reports(d, jid, 0, d.honest(GOOD)), expect=NOT_CANONICAL)
    uid = attest(attester, h, jid, 0, late)
    assert decode_job_completed(eas.get_attestation(uid).data)[6:8] == (py_median(GOOD), True)


def test_reports_of_an_old_round_do_not_count(attester, eas, d, h, a):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    first = h.job(jid).milestones[0].deliverable
    old = reports(d, jid, 0, d.honest(GOOD))  # round 0, first deliverable
    h.request_revision(a.client, jid, 0, expect=OK)
    d.submit(jid, 0, keccak(b"the revised model"))
    d.past_window(jid)
    signed = d.honest([800_000, 810_000, 820_000])
    d.settle(jid, 0, signed)
    assert h.job(jid).milestones[0].revisions == 1
    canonical = list(zip(d.designated(jid), GOOD, strict=True))
    if old[1] != [o.address for o, _ in canonical]:
        attest(attester, h, jid, 0, old, expect=NOT_CANONICAL)
    # round 0 numbers on the new deliverable, or round 1 on the old one: neither counts
    attest(attester, h, jid, 0, reports(d, jid, 0, canonical, round_=0), expect="attester: bad signature")
    attest(
        attester,
        h,
        jid,
        0,
        reports(d, jid, 0, canonical, deliverable=first),
        expect="attester: bad signature",
    )
    uid = attest(attester, h, jid, 0, reports(d, jid, 0, signed))
    assert decode_job_completed(eas.get_attestation(uid).data)[6] == 810_000


def test_committee_job_without_evaluation_is_unverified(attester, eas, d, h, a):
    """The committee arbitrates but the client never registered an evaluation: there are
    no reports to check, so the attestation is unverified."""
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.submit(jid, 0)
    h.approve(a.client, jid, 0, expect=OK)
    uid = attest(attester, h, jid, 0)
    assert decode_job_completed(eas.get_attestation(uid).data)[6:8] == (0, False)


# --------------------------------------------------------------------------- declare_skill


def test_declare_skill_rules(attester, d, h, a):
    jid = h.create_job(a.client, [AMOUNT, AMOUNT], freelancer=a.freelancer, expect=OK)
    old = h.state(jid)
    with boa.reverts("attester: caller is not the client"):
        attester.declare_skill(jid, h.state(jid), SKILL, sender=a.freelancer.address)
    with boa.reverts("attester: empty skill"):
        attester.declare_skill(jid, h.state(jid), "", sender=a.client.address)
    with boa.reverts("attester: unknown job"):
        attester.declare_skill(jid + 100, h.state(jid), SKILL, sender=a.client.address)
    h.submit(a.freelancer, jid, 0, expect=OK)  # submitted is not settled
    with boa.reverts("attester: stale job state"):
        attester.declare_skill(jid, old, SKILL, sender=a.client.address)
    attester.declare_skill(jid, h.state(jid), SKILL, sender=a.client.address)
    with boa.reverts("attester: skill already declared"):
        attester.declare_skill(jid, h.state(jid), "cv/detection", sender=a.client.address)
    assert attester.skill_of(jid) == SKILL
    # after one milestone settled, too late
    jid2 = approved_job(h, a, amounts=(AMOUNT, AMOUNT))
    with boa.reverts("attester: a milestone is already settled"):
        attester.declare_skill(jid2, h.state(jid2), SKILL, sender=a.client.address)
    # also after a committee settlement
    jid3 = d.submitted(a.client, a.freelancer)
    d.settle(jid3, 0, d.honest(GOOD))
    with boa.reverts("attester: a milestone is already settled"):
        attester.declare_skill(jid3, h.state(jid3), SKILL, sender=a.client.address)


# --------------------------------------------------------------------------- reviews


def test_parties_review_each_other_after_attestation(attester, eas, system, h, a):
    jid = approved_job(h, a)
    uid = attest(attester, h, jid, 0)
    review = system.resolver.review_schema()
    r1 = eas.attest(
        request(review, a.freelancer.address, data=encode_review(5), ref=uid, revocable=True),
        sender=a.client.address,
    )
    r2 = eas.attest(
        request(review, a.client.address, data=encode_review(4), ref=uid), sender=a.freelancer.address
    )
    assert eas.get_attestation(r1).refUID == uid and eas.get_attestation(r2).recipient == a.client.address
    with boa.reverts("resolver: job already reviewed"):
        eas.attest(
            request(review, a.freelancer.address, data=encode_review(1), ref=uid), sender=a.client.address
        )
    with boa.reverts("resolver: only the job attester attests JobCompleted"):
        eas.attest(
            request(
                attester.job_completed_schema(), a.freelancer.address, data=eas.get_attestation(uid).data
            ),
            sender=a.client.address,
        )


# --------------------------------------------------------------------------- property


@st.composite
def committee_cases(draw):
    scores = draw(st.lists(st.integers(-2 * SCALE, 2 * SCALE), min_size=4, max_size=4))
    signers = sorted(draw(st.sets(st.integers(0, 3), min_size=3, max_size=4)))
    threshold = draw(st.one_of(st.sampled_from(scores), st.integers(-2 * SCALE, 2 * SCALE)))
    return scores, signers, threshold, draw(st.booleans())


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=committee_cases())
def test_attested_score_is_the_median_and_badge_follows_the_threshold(
    system, escrow, token, accounts, committee, oracles, case
):
    scores, signers, threshold, higher_is_better = case
    a = accounts
    h = EscrowHarness(escrow, token, a.owner.address)
    drv = CommitteeDriver(h, committee, oracles, a.relayer)
    jid = drv.job(a.client, a.freelancer, [AMOUNT], threshold=threshold, higher_is_better=higher_is_better)
    drv.register(jid)
    system.attester.declare_skill(jid, h.state(jid), SKILL, sender=a.client.address)
    drv.submit(jid, 0)
    h.approve(a.client, jid, 0, expect=OK)
    picked = [(oracles[k], scores[k]) for k in signers]
    canonical = [(o, scores[oracles.index(o)]) for o in drv.designated(jid)]
    if picked != canonical:  # the caller may not choose which reports count
        attest(system.attester, h, jid, 0, reports(drv, jid, 0, picked), expect=NOT_CANONICAL)
    picked = canonical
    uid = attest(system.attester, h, jid, 0, reports(drv, jid, 0, picked))
    median, passed = expected_outcome([s for _, s in picked], threshold, higher_is_better)
    fields = decode_job_completed(system.attestations.get_attestation(uid).data)
    assert fields[6:8] == (median, True)
    assert system.badge.badge_of(a.freelancer.address, SKILL) == (1 if passed else 0)


# --------------------------------------------------------------------------- review findings


def test_committee_job_the_client_approved_is_attested_unverified_without_reports(attester, eas, d, h, a):
    """No oracle may ever have scored a milestone the client approved (before a submission, or
    after a revision): the freelancer still gets an unverified JobCompleted, and later milestones
    settled by the committee still need the committee's reports."""
    jid = d.job(a.client, a.freelancer, [AMOUNT, AMOUNT])
    d.register(jid)
    h.approve(a.client, jid, 0, expect=OK)  # approved while still OPEN: nothing was ever scored
    uid = attest(attester, h, jid, 0)
    assert decode_job_completed(eas.get_attestation(uid).data)[5:8] == (AMOUNT, 0, False)
    d.submit(jid, 1)
    d.past_window(jid, 1)
    d.settle(jid, 1, d.honest(GOOD))
    attest(attester, h, jid, 1, expect=REPORTS_REQUIRED)
    attest(attester, h, jid, 1, sender=a.client, expect=REPORTS_REQUIRED)


def test_only_the_freelancer_may_give_up_the_verification(attester, eas, badge, d, h, a):
    """The audit's forced unverified record: on a committee-evaluated job an outsider or
    the client must bring the canonical reports; only the freelancer may attest a delivered
    milestone without them (and so without a badge)."""
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    attester.declare_skill(jid, h.state(jid), SKILL, sender=a.client.address)
    d.submit(jid, 0)
    h.approve(a.client, jid, 0, expect=OK)
    for who in (a.outsider, a.client, a.relayer):
        attest(attester, h, jid, 0, sender=who, expect=REPORTS_REQUIRED)
    uid = attest(attester, h, jid, 0, sender=a.freelancer)
    assert decode_job_completed(eas.get_attestation(uid).data)[6:8] == (0, False)
    assert badge.calls() == 0


def test_a_badge_contract_that_moved_its_auto_minter_does_not_block_the_attestation(
    attester, eas, badge, d, h, a
):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    attester.declare_skill(jid, h.state(jid), "vision/ocr", sender=a.client.address)
    d.submit(jid, 0)
    d.past_window(jid)
    rep = reports(d, jid, 0, d.honest(GOOD))
    d.settle(jid, 0, d.honest(GOOD))
    calls = badge.calls()
    badge.set_auto_minter(ANYONE)  # moved to a successor
    try:
        uid = attest(attester, h, jid, 0, rep)
    finally:
        badge.set_auto_minter(attester.address)
    assert decode_job_completed(eas.get_attestation(uid).data)[6:8] == (py_median(GOOD), True)
    assert badge.calls() == calls and events("BadgeAwarded") == []
