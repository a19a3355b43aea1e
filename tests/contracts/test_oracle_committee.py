"""Unit and property tests of contracts/evaluation/OracleCommittee.vy.

The committee is the arbiter of real JobEscrow jobs. Jobs are driven through the
escrow harness (`h`, model-checked); every successful settlement is checked by
`CommitteeDriver` against the escrow model's `resolve` (events, transfers, stored
hash) and against the Python median rule (ScoreSettled, OutlierReported, counters).
"""

import boa
import hypothesis.strategies as st
import pytest
from committee_fixtures import (
    COMMITTEE_PATH,
    DISPUTE_PERIOD,
    LABELS_CID,
    PASS,
    REPORT_TYPE,
    SALT,
    SCALE,
    SEALED_CID,
    SECP256K1_N,
    TOLERANCE,
    WINDOW,
    CommitteeDeployer,
    CommitteeDriver,
    commitment_of,
    committee_events,
    designated_indexes,
    evaluation_hash,
    expected_outcome,
    oracle_accounts,
    public_key_of,
    py_median,
    report_digest_by_hand,
    report_message,
)
from escrow_harness import DAY, OK, SPEC, EscrowHarness, addr, chain_id, compact, digest_of, now
from escrow_model import DISPUTED, RESOLVED, ZERO32, ZERO_ADDRESS, norm
from eth_account import Account
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings

USD = SCALE  # the test token has 6 decimals too
AMOUNT = 1_000 * USD
FEE_BPS = 250
NET = AMOUNT - AMOUNT * FEE_BPS // 10_000
GOOD = [910_000, 905_000, 915_000]  # accuracy 0.91 / 0.905 / 0.915
BAD = [410_000, 400_000, 420_000]
INT256_MIN, INT256_MAX = -(2**255), 2**255 - 1


@pytest.fixture(scope="session")
def committee_deployer():
    return CommitteeDeployer(COMMITTEE_PATH)


@pytest.fixture(scope="session")
def oracles():
    """The 4 oracles (n = 4, f = 1, threshold 3), in ascending address order."""
    return oracle_accounts(4)


@pytest.fixture(scope="module")
def committee(committee_deployer, escrow, oracles):
    # given in descending order on purpose: the contract sorts them
    return committee_deployer.deploy(escrow.address, [o.address for o in reversed(oracles)], 1, WINDOW)


@pytest.fixture
def a(accounts):
    return accounts


@pytest.fixture
def d(h, committee, oracles, accounts):
    return CommitteeDriver(h, committee, oracles, accounts.relayer)


def bal(token, who) -> int:
    return token.balanceOf(addr(who))


def low(x) -> str:
    return norm(addr(x))


# --------------------------------------------------------------------------- constructor


def test_deployment_state(committee, escrow, oracles):
    assert committee.escrow() == escrow.address
    assert committee.oracle_count() == 4
    assert [committee.oracles(i) for i in range(4)] == [o.address for o in oracles]
    assert committee.oracle_list() == [o.address for o in oracles]
    assert [int(x, 16) for x in committee.oracle_list()] == sorted(int(o.address, 16) for o in oracles)
    assert committee.threshold() == 3
    assert committee.f() == 1
    assert committee.challenge_window() == WINDOW
    for o in oracles:
        assert committee.is_oracle(o.address)
    assert not committee.is_oracle(escrow.address)
    assert not committee.is_oracle(ZERO_ADDRESS)
    with boa.reverts("committee: no such oracle"):
        committee.oracles(4)
    fields, name, version, chain, verifying, salt, extensions = committee.eip712Domain()
    assert fields == b"\x0f"
    assert (name, version, chain, verifying) == (
        "proofwork OracleCommittee",
        "1",
        chain_id(),
        committee.address,
    )
    assert salt == ZERO32 and extensions == []


@pytest.mark.parametrize(
    ("n", "f", "threshold"),
    [(1, 0, 1), (2, 0, 2), (3, 0, 2), (4, 0, 3), (4, 1, 3), (7, 2, 5), (10, 3, 7), (16, 5, 11), (16, 0, 9)],
)
def test_constructor_threshold_is_ocr2_quorum(committee_deployer, escrow, n, f, threshold):
    members = oracle_accounts(n, "quorum")
    c = committee_deployer.deploy(escrow.address, [m.address for m in members], f, 60)
    assert c.threshold() == threshold == (n + f) // 2 + 1
    assert c.oracle_count() == n and c.f() == f
    assert c.oracle_list() == [m.address for m in members]


@pytest.mark.parametrize(("n", "f"), [(1, 1), (3, 1), (6, 2), (9, 3), (16, 6), (4, 2**255)])
def test_constructor_rejects_n_not_above_3f(committee_deployer, escrow, n, f):
    members = [o.address for o in oracle_accounts(n, "small")]
    with boa.reverts("committee: need more than 3f oracles"):
        committee_deployer.deploy(escrow.address, members, f, 60)


def test_constructor_rejects_duplicates_zero_empty_and_non_contract_escrow(
    committee_deployer, escrow, oracles, a
):
    members = [o.address for o in oracles]
    with boa.reverts("committee: duplicate oracle"):
        committee_deployer.deploy(escrow.address, [*members, members[1]], 1, 60)
    with boa.reverts("committee: duplicate oracle"):
        committee_deployer.deploy(escrow.address, [members[0], members[0]], 0, 60)
    with boa.reverts("committee: zero oracle"):
        committee_deployer.deploy(escrow.address, [*members[:3], ZERO_ADDRESS], 1, 60)
    with boa.reverts("committee: no oracles"):
        committee_deployer.deploy(escrow.address, [], 0, 60)
    with boa.reverts("committee: escrow is not a contract"):
        committee_deployer.deploy(a.outsider.address, members, 1, 60)


# --------------------------------------------------------------------------- register_oracle


def test_register_oracle_publishes_key_and_endpoint(committee, oracles):
    o = oracles[2]
    key = public_key_of(o)
    assert keccak(key)[12:] == bytes.fromhex(o.address[2:])
    assert committee.public_keys(o.address) == b"" and committee.endpoints(o.address) == ""
    committee.register_oracle(key, "https://oracle-2.example/reports", sender=o.address)
    assert committee_events(committee, committee.get_logs()) == [
        (
            "OracleRegistered",
            {"oracle": low(o), "public_key": key, "endpoint": "https://oracle-2.example/reports"},
        )
    ]
    assert committee.public_keys(o.address) == key
    assert committee.endpoints(o.address) == "https://oracle-2.example/reports"
    # calling again updates the endpoint
    committee.register_oracle(key, "http://10.0.0.2:8000", sender=o.address)
    assert committee.endpoints(o.address) == "http://10.0.0.2:8000"
    assert committee.public_keys(o.address) == key


def test_register_oracle_checks_key_and_caller(committee, oracles, a):
    o, other = oracles[0], oracles[1]
    with boa.reverts("committee: public key does not match the caller"):
        committee.register_oracle(public_key_of(other), "https://x", sender=o.address)
    with boa.reverts("committee: public key must be 64 bytes"):
        committee.register_oracle(public_key_of(o)[:63], "https://x", sender=o.address)
    with boa.reverts("committee: empty endpoint"):
        committee.register_oracle(public_key_of(o), "", sender=o.address)
    # a stranger with its own, valid key is still not an oracle
    with boa.reverts("committee: caller is not an oracle"):
        committee.register_oracle(public_key_of(a.outsider), "https://x", sender=a.outsider.address)
    assert committee.public_keys(o.address) == b""


# --------------------------------------------------------------------------- register


def test_register_records_packed_evaluation(d, a, committee):
    jid = d.job(
        a.client,
        a.freelancer,
        [AMOUNT, 2 * AMOUNT],
        threshold=-123_456,
        higher_is_better=False,
        tolerance=2**96 - 1,
    )
    assert committee.evaluation(jid) == (ZERO32, ZERO32, ZERO32, 0, False, 0)
    commitment = d.register(jid)
    logs = committee.get_logs()
    assert commitment == commitment_of(LABELS_CID, SALT, SPEC)
    spec_hash = evaluation_hash(SPEC, commitment, -123_456, False, 2**96 - 1)
    assert d.h.job(jid).spec_hash == spec_hash
    assert committee.evaluation_hash(SPEC, commitment, -123_456, False, 2**96 - 1) == spec_hash
    assert committee.evaluation(jid) == (commitment, spec_hash, SPEC, -123_456, False, 2**96 - 1)
    assert committee_events(committee, logs) == [
        (
            "EvaluationRegistered",
            {
                "job_id": jid,
                "client": low(a.client),
                "spec_hash": spec_hash,
                "spec_digest": SPEC,
                "commitment": commitment,
                "threshold": -123_456,
                "higher_is_better": False,
                "tolerance": 2**96 - 1,
                "sealed_labels": SEALED_CID,
            },
        )
    ]
    # the extremes of the packed fields survive the round trip
    jid2 = d.job(a.client2, a.freelancer2, [AMOUNT], threshold=-(2**127), higher_is_better=True, tolerance=0)
    d.register(jid2)
    assert committee.evaluation(jid2)[3:] == (-(2**127), True, 0)
    jid3 = d.job(a.client2, a.freelancer2, [AMOUNT], threshold=2**127 - 1)
    d.register(jid3)
    assert committee.evaluation(jid3)[3:] == (2**127 - 1, True, TOLERANCE)


def test_register_rules(d, a, h, committee):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    for who in (a.freelancer, a.outsider, a.relayer):
        d.register(jid, sender=who, expect="committee: caller is not the client")
    stale = list(h.state(jid))
    stale[9] = 1  # cancel_amount
    d.register(jid, state=tuple(stale), expect="committee: stale job state")
    d.register(999, state=h.state(jid), sender=a.client, expect="committee: unknown job")
    d.register(jid, commitment=ZERO32, expect="committee: empty commitment")
    d.register(jid, threshold=2**127, expect="committee: threshold out of range")
    d.register(jid, threshold=-(2**127) - 1, expect="committee: threshold out of range")
    d.register(jid, tolerance=2**96, expect="committee: tolerance out of range")
    d.register(jid)
    d.register(jid, expect="committee: already registered")
    d.register(jid, threshold=0, expect="committee: already registered")
    assert committee.evaluation(jid)[3] == PASS


@pytest.mark.parametrize(
    "override",
    [
        {"threshold": PASS + 1},
        {"threshold": -(2**127)},
        {"higher_is_better": False},
        {"tolerance": TOLERANCE + 1},
        {"commitment": keccak(b"other labels")},
        {"spec_digest": keccak(b"another spec")},
    ],
    ids=["threshold", "unreachable threshold", "direction", "tolerance", "labels", "spec"],
)
def test_register_only_the_evaluation_the_job_commits_to(d, a, committee, override):
    """The job's spec_hash binds every field of its evaluation: a client cannot register
    another pass score, direction, tolerance, labels or spec (the audit's rigged evaluation)."""
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid, **override, expect="committee: evaluation does not match the job's spec hash")
    d.register(jid)


def test_a_job_whose_spec_hash_is_no_evaluation_cannot_be_registered(d, a, committee):
    jid = d.job(a.client, a.freelancer, [AMOUNT], spec_hash=SPEC)
    d.register(jid, expect="committee: evaluation does not match the job's spec hash")


def test_register_refuses_a_job_judged_by_someone_else(d, a):
    jid = d.job(a.client, a.freelancer, [AMOUNT], arbiter=a.arbiter)
    d.register(jid, expect="committee: not the job's arbiter")
    jid = d.job(a.client, a.freelancer, [AMOUNT], arbiter=ZERO_ADDRESS)
    d.register(jid, expect="committee: not the job's arbiter")


def test_register_after_delivery_registers_what_the_job_committed_to(d, a, h):
    """The evaluation is fixed by the job's spec_hash at creation, so registering it after
    work was delivered tunes nothing (this used to be refused instead)."""
    jid = d.job(a.client, a.freelancer, [AMOUNT, AMOUNT])
    d.submit(jid, 1)
    h.request_revision(a.client, jid, 1, expect=OK)
    d.register(jid, threshold=PASS - 1, expect="committee: evaluation does not match the job's spec hash")
    d.register(jid)
    d.submit(jid, 1)
    d.past_window(jid, 1)
    assert d.settle(jid, 1, d.honest(GOOD)).passed


def test_register_needs_a_review_period_longer_than_three_windows(d, a):
    """The window, the designated quorum's period, then at least a window for any quorum
    before an auto-release (test_attacks_review2: one withholding oracle)."""
    for review in (2 * WINDOW + 1, 3 * WINDOW):
        jid = d.job(a.client, a.freelancer, [AMOUNT], review_period=review)
        d.register(jid, expect="committee: review period not longer than three challenge windows")
    jid = d.job(a.client, a.freelancer, [AMOUNT], review_period=3 * WINDOW + 1)
    d.register(jid)


# --------------------------------------------------------------------------- settle: outcomes


def test_settle_pass_releases_the_milestone_to_the_freelancer(d, a, h, token, escrow, committee, oracles):
    jid = d.submitted(a.client, a.freelancer)
    client_before = bal(token, a.client)
    s = d.settle(jid, 0, d.honest(GOOD))
    assert (s.median, s.passed, s.outliers) == (910_000, True, [])
    assert bal(token, a.freelancer) == NET
    assert bal(token, a.client) == client_before
    assert escrow.fees_owed(token) == AMOUNT - NET
    m = h.job(jid).milestones[0]
    assert (m.status, m.amount, m.paid) == (RESOLVED, 0, AMOUNT)
    assert all(committee.outlier_reports(o.address) == 0 for o in oracles)


def test_settle_fail_refunds_the_client(d, a, h, token):
    jid = d.submitted(a.client, a.freelancer)
    client_before = bal(token, a.client)
    s = d.settle(jid, 0, d.honest(BAD))
    assert (s.median, s.passed) == (410_000, False)
    assert bal(token, a.freelancer) == 0
    assert bal(token, a.client) == client_before + AMOUNT
    m = h.job(jid).milestones[0]
    assert (m.status, m.amount, m.paid) == (RESOLVED, 0, 0)


@pytest.mark.parametrize(
    ("scores", "threshold", "passed"),
    [
        ([-400_000, -350_000, -380_000], -380_000, True),  # R2 < 0: lower is better here
        ([123_000, 120_000, 125_000], 123_000, True),  # median == threshold passes
        ([123_001, 120_000, 125_000], 123_000, False),
    ],
)
def test_settle_lower_is_better(d, a, token, scores, threshold, passed):
    jid = d.submitted(a.client, a.freelancer, threshold=threshold, higher_is_better=False)
    s = d.settle(jid, 0, d.honest(scores))
    assert s.passed is passed
    assert s.median == py_median(scores)
    assert bal(token, a.freelancer) == (NET if passed else 0)


def test_settle_exactly_at_threshold_passes_when_higher_is_better(d, a, token):
    jid = d.submitted(a.client, a.freelancer, threshold=905_000)
    assert d.settle(jid, 0, d.honest([905_000, 800_000, 990_000])).passed
    jid = d.submitted(a.client2, a.freelancer2, threshold=905_001)
    assert not d.settle(jid, 0, d.honest([905_000, 800_000, 990_000])).passed


def test_settle_with_all_four_signers_uses_upper_median(d, a, token):
    jid = d.submitted(a.client, a.freelancer, threshold=700_000)
    d.late(jid)  # all four reports: only once the designated quorum's period is over
    # sorted [690k, 695k, 700k, 705k]: OCR2 takes sorted[2] = 700k, which passes
    s = d.settle(jid, 0, d.honest([700_000, 690_000, 705_000, 695_000]))
    assert (s.median, s.passed) == (700_000, True)


def test_each_milestone_settles_separately(d, a, h, token):
    jid = d.job(a.client, a.freelancer, [AMOUNT, 3 * AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    d.submit(jid, 1)
    d.past_window(jid, 1)
    assert d.settle(jid, 1, d.honest(BAD)).passed is False
    assert d.settle(jid, 0, d.honest(GOOD)).passed is True
    assert bal(token, a.freelancer) == NET
    assert [m.status for m in h.job(jid).milestones] == [RESOLVED, RESOLVED]


# --------------------------------------------------------------------------- settle: byzantine oracles


def test_median_survives_a_byzantine_oracle_and_records_it(d, a, token, committee, oracles):
    liar = oracles[1]
    jid = d.submitted(a.client, a.freelancer)
    d.late(jid)
    signed = [(oracles[0], 910_000), (liar, 0), (oracles[2], 905_000), (oracles[3], 915_000)]
    s = d.settle(jid, 0, signed)
    assert (s.median, s.passed) == (910_000, True)  # sorted [0, 905k, 910k, 915k][2]
    assert s.outliers == [low(liar)]
    assert bal(token, a.freelancer) == NET
    assert [committee.outlier_reports(o.address) for o in oracles] == [0, 1, 0, 0]
    # the liar now claims a perfect score on a failing deliverable: still refunded, counted again
    jid = d.submitted(a.client2, a.freelancer2)
    d.late(jid)
    signed = [(oracles[0], 410_000), (liar, 10**30), (oracles[3], 400_000)]
    s = d.settle(jid, 0, signed)
    assert (s.median, s.passed, s.outliers) == (410_000, False, [low(liar)])
    assert [committee.outlier_reports(o.address) for o in oracles] == [0, 2, 0, 0]


def test_extreme_scores_do_not_overflow(d, a, committee, oracles):
    jid = d.submitted(a.client, a.freelancer)
    d.late(jid)
    signed = [(oracles[0], INT256_MIN), (oracles[1], INT256_MAX), (oracles[2], 910_000)]
    s = d.settle(jid, 0, signed)
    assert (s.median, s.passed) == (910_000, True)
    assert s.outliers == [low(oracles[0]), low(oracles[1])]
    jid = d.submitted(a.client2, a.freelancer2)
    d.late(jid)
    signed = [(oracles[0], INT256_MIN), (oracles[1], INT256_MAX), (oracles[2], INT256_MAX)]
    s = d.settle(jid, 0, signed)
    assert (s.median, s.passed, s.outliers) == (INT256_MAX, True, [low(oracles[0])])


def test_tolerance_boundary(d, a, committee, oracles):
    jid = d.submitted(a.client, a.freelancer, tolerance=10_000)
    d.late(jid)
    signed = [(oracles[0], 900_000), (oracles[1], 910_000), (oracles[2], 920_000), (oracles[3], 920_001)]
    s = d.settle(jid, 0, signed)
    assert s.median == 920_000
    # |900k - 920k| = 20k > 10k; |910k - 920k| = 10k is within; the others are close
    assert s.outliers == [low(oracles[0])]


# --------------------------------------------------------------------------- settle: signatures


def test_signer_outside_the_committee_is_refused(d, a, oracles):
    jid = d.submitted(a.client, a.freelancer)
    stranger = Account.from_key(keccak(b"not an oracle"))
    members = sorted([oracles[0], oracles[1], stranger], key=lambda x: int(x.address, 16))
    signed = [(m, 910_000) for m in members]
    d.settle(jid, 0, signed, expect="committee: signer not in committee")
    # even as a 4th, extra signer
    honest = list(zip(d.designated(jid), GOOD, strict=True))
    signed = sorted([*honest, (stranger, 910_000)], key=lambda x: int(x[0].address, 16))
    d.settle(jid, 0, signed, expect="committee: signer not in committee")


def test_duplicate_and_unsorted_signers_are_refused(d, a, oracles):
    jid = d.submitted(a.client, a.freelancer)
    d.late(jid)
    o = oracles
    for order in ([0, 0, 1], [0, 1, 1], [1, 0, 2], [3, 2, 1], [0, 1, 3, 2], [0, 2, 2, 3]):
        signed = [(o[k], 910_000) for k in order]
        d.settle(jid, 0, signed, expect="committee: duplicate or unsorted signer")
    # the same oracle signing two different scores is still one oracle
    signed = [(o[0], 910_000), (o[2], 1), (o[2], 2)]
    d.settle(jid, 0, signed, expect="committee: duplicate or unsorted signer")
    d.settle(jid, 0, [(o[0], 910_000), (o[2], 905_000), (o[3], 915_000)])


def test_too_few_signatures(d, a, oracles):
    jid = d.submitted(a.client, a.freelancer)
    d.settle(jid, 0, d.honest(GOOD[:2]), expect="committee: too few signatures")
    d.settle(jid, 0, [], expect="committee: too few signatures")
    scores, sigs = d.sign(jid, 0, d.honest(GOOD))
    d.settle(jid, 0, scores=scores, sigs=sigs[:2], expect="committee: scores and signatures differ in length")
    d.settle(jid, 0, scores=scores[:2], sigs=sigs, expect="committee: scores and signatures differ in length")


def test_tampered_score_is_refused(d, a):
    jid = d.submitted(a.client, a.freelancer)
    scores, sigs = d.sign(jid, 0, d.honest(BAD))
    scores[1] = 990_000  # would move the median above the pass score
    d.settle(jid, 0, scores=scores, sigs=sigs, expect="committee: signer not in committee")
    scores[1] = BAD[1]
    d.settle(jid, 0, scores=scores, sigs=sigs, round_=0)


def test_report_for_another_deliverable_is_refused(d, a, h):
    jid = d.submitted(a.client, a.freelancer)
    scores, sigs = d.sign(jid, 0, d.honest(GOOD), deliverable=keccak(b"some other model"))
    d.settle(jid, 0, scores=scores, sigs=sigs, expect="committee: signer not in committee")


def test_replay_on_another_job_is_refused(d, a, h):
    deliverable = keccak(b"the same model submitted to two jobs")
    j1 = d.job(a.client, a.freelancer, [AMOUNT])
    j2 = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(j1)
    d.register(j2)
    d.submit(j1, 0, deliverable)
    d.submit(j2, 0, deliverable)
    d.past_window(j2)
    scores, sigs = d.sign(j1, 0, d.honest(GOOD))
    d.settle(j2, 0, scores=scores, sigs=sigs, expect="committee: signer not in committee")
    d.settle(j1, 0, scores=scores, sigs=sigs)
    d.settle(j2, 0, d.honest(BAD))


def test_replay_under_another_chain_id_is_refused(d, a):
    jid = d.submitted(a.client, a.freelancer)
    scores, sigs = d.sign(jid, 0, d.honest(GOOD), chain=chain_id() + 1)
    d.settle(jid, 0, scores=scores, sigs=sigs, expect="committee: signer not in committee")
    # reports signed on this chain, replayed on a fork with another chain id
    scores, sigs = d.sign(jid, 0, d.honest(GOOD))
    original = chain_id()
    boa.env.evm.patch.chain_id = original + 7
    try:
        d.settle(jid, 0, scores=scores, sigs=sigs, expect="committee: signer not in committee")
    finally:
        boa.env.evm.patch.chain_id = original
    d.settle(jid, 0, scores=scores, sigs=sigs, round_=0)


def test_replay_on_another_committee_is_refused(d, a, committee_deployer, escrow, oracles):
    other = committee_deployer.deploy(escrow.address, [o.address for o in oracles], 1, WINDOW)
    jid = d.submitted(a.client, a.freelancer)
    scores, sigs = d.sign(jid, 0, d.honest(GOOD), verifying=other.address)
    d.settle(jid, 0, scores=scores, sigs=sigs, expect="committee: signer not in committee")
    scores, sigs = d.sign(jid, 0, d.honest(GOOD), name="proofwork JobEscrow")
    d.settle(jid, 0, scores=scores, sigs=sigs, expect="committee: signer not in committee")


def test_malleable_and_malformed_signatures_are_refused(d, a):
    jid = d.submitted(a.client, a.freelancer)
    scores, sigs = d.sign(jid, 0, d.honest(GOOD))
    r, s, v = sigs[1][:32], int.from_bytes(sigs[1][32:64], "big"), sigs[1][64]
    high_s = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28
    bad = list(sigs)
    bad[1] = high_s
    d.settle(jid, 0, scores=scores, sigs=bad, expect="ecdsa: invalid signature `s` value")
    bad[1] = r + s.to_bytes(32, "big") + bytes([29])
    d.settle(jid, 0, scores=scores, sigs=bad, expect="ecdsa: invalid signature")
    bad[1] = sigs[1][:40]  # neither 64 nor 65 bytes: recovers nobody
    d.settle(jid, 0, scores=scores, sigs=bad, expect="committee: signer not in committee")
    # EIP-2098 compact (64-byte) signatures are the same signatures and are accepted
    d.settle(jid, 0, scores=scores, sigs=[compact(x) for x in sigs], round_=0)


def test_digest_matches_eip712_by_hand(committee, d, a):
    jid = d.submitted(a.client, a.freelancer)
    m = d.h.job(jid).milestones[0]
    commitment = d.config[jid]["commitment"]
    args = (jid, 0, m.deliverable, 0, -5, SPEC, commitment)
    by_hand = report_digest_by_hand(committee, *args)
    assert committee.report_digest(*args) == by_hand
    assert digest_of(report_message(committee, jid, 0, m.deliverable, 0, -5, SPEC, commitment)) == by_hand
    assert keccak(REPORT_TYPE.encode()) == keccak(
        b"ScoreReport(uint256 jobId,uint256 milestone,bytes32 deliverable,uint256 round,"
        b"int256 score,bytes32 specHash,bytes32 commitment)"
    )


# --------------------------------------------------------------------------- settle: job state and timing


def test_stale_round_after_a_revision(d, a, h, token):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    old_scores, old_sigs = d.sign(jid, 0, d.honest(BAD))  # round 0, first deliverable
    h.request_revision(a.client, jid, 0, expect=OK)  # inside the challenge window
    d.submit(jid, 0)
    d.past_window(jid)
    assert h.job(jid).milestones[0].revisions == 1
    d.settle(jid, 0, scores=old_scores, sigs=old_sigs, round_=0, expect="committee: stale round")
    d.settle(jid, 0, scores=old_scores, sigs=old_sigs, round_=1, expect="committee: signer not in committee")
    s = d.settle(jid, 0, d.honest(GOOD))
    assert s.passed
    assert bal(token, a.freelancer) == NET


def test_disputed_milestone_takes_the_verdict_after_the_dispute_period(d, a, h, token):
    """A dispute raised inside the challenge window holds the verdict for DISPUTE_PERIOD
    (time for another ruling, through the escrow's resolve); then the committee's verdict
    settles it, so no dispute freezes a committee job."""
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    h.raise_dispute(a.client, jid, 0, expect=OK)  # inside the challenge window
    disputed_at = now()
    boa.env.time_travel(seconds=WINDOW + 1)
    assert h.job(jid).milestones[0].status == DISPUTED
    d.settle(jid, 0, d.honest(GOOD), expect="committee: milestone disputed")
    boa.env.time_travel(seconds=disputed_at + DISPUTE_PERIOD - now())
    d.settle(jid, 0, d.honest(GOOD), expect="committee: milestone disputed")
    boa.env.time_travel(seconds=1)
    assert d.settle(jid, 0, d.honest(GOOD)).passed
    assert bal(token, a.freelancer) == NET


def test_disputed_milestone_any_quorum_after_the_designated_period(d, a, h, oracles):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    h.raise_dispute(a.freelancer, jid, 0, expect=OK)
    d.past_window(jid)
    everyone = [(o, s) for o, s in zip(oracles, [*BAD, 415_000], strict=True)]
    d.settle(jid, 0, everyone, expect="committee: signer not designated")
    d.late(jid)
    assert not d.settle(jid, 0, everyone).passed


def test_challenge_window_is_enforced(d, a, h):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    submitted_at = h.job(jid).milestones[0].timestamp
    d.settle(jid, 0, d.honest(GOOD), expect="committee: challenge window open")
    boa.env.time_travel(seconds=submitted_at + WINDOW - now())
    # the last second of the window belongs to disputes and revision requests
    d.settle(jid, 0, d.honest(GOOD), expect="committee: challenge window open")
    boa.env.time_travel(seconds=1)
    assert now() == submitted_at + WINDOW + 1
    assert d.settle(jid, 0, d.honest(GOOD)).passed


def test_settle_twice_is_refused(d, a, h):
    jid = d.submitted(a.client, a.freelancer)
    old_state = h.state(jid)
    scores, sigs = d.sign(jid, 0, d.honest(GOOD))
    d.settle(jid, 0, scores=scores, sigs=sigs, round_=0)
    d.settle(jid, 0, scores=scores, sigs=sigs, round_=0, state=old_state, expect="committee: stale job state")
    d.settle(jid, 0, scores=scores, sigs=sigs, round_=0, expect="committee: milestone not submitted")


def test_settle_needs_a_registered_submitted_milestone(d, a, h):
    jid = d.job(a.client, a.freelancer, [AMOUNT, AMOUNT])
    d.config[jid] = {"commitment": ZERO32}
    d.settle(jid, 0, d.honest(GOOD), expect="committee: evaluation not registered")
    d.register(jid)
    d.settle(jid, 0, d.honest(GOOD), expect="committee: milestone not submitted")
    d.settle(jid, 2, scores=[], sigs=[], expect="committee: no such milestone")
    h.approve(a.client, jid, 1, expect=OK)
    d.settle(jid, 1, d.honest(GOOD), expect="committee: milestone not submitted")
    d.settle(77, 0, scores=[], sigs=[], state=h.state(jid), expect="committee: unknown job")


# --------------------------------------------------------------------------- posted reports


def test_post_reports_then_settle_posted(d, a, h, token, committee, oracles):
    jid = d.submitted(a.client, a.freelancer)
    m = h.job(jid).milestones[0]
    d.post(jid, 0, oracles[3], 915_000)
    d.post(jid, 0, oracles[1], 905_000)
    assert committee.posted_reports(jid, 0, 0, m.deliverable) == 0b1010
    d.settle_posted(jid, 0, expect="committee: too few signatures")
    d.post(jid, 0, oracles[3], 1, expect="committee: already reported")
    d.post(jid, 0, oracles[0], 910_000)
    assert committee.posted_reports(jid, 0, 0, m.deliverable) == 0b1011
    s = d.settle_posted(jid, 0)
    assert (s.median, s.passed, s.outliers) == (910_000, True, [])
    assert bal(token, a.freelancer) == NET
    d.settle_posted(jid, 0, expect="committee: milestone not submitted")


def test_posted_reports_record_outliers_and_can_fail(d, a, token, committee, oracles):
    jid = d.submitted(a.client, a.freelancer)
    client_before = bal(token, a.client)
    for o, score in zip(oracles, [400_000, 990_000, 410_000, 420_000], strict=True):
        d.post(jid, 0, o, score)
    d.late(jid)  # every posted report counts once the designated quorum's period is over
    s = d.settle_posted(jid, 0)
    # sorted [400k, 410k, 420k, 990k]: the median is sorted[2] = 420k, a fail; only 990k is off
    assert (s.median, s.passed, s.outliers) == (420_000, False, [low(oracles[1])])
    assert bal(token, a.client) == client_before + AMOUNT
    assert committee.outlier_reports(oracles[1].address) == 1


def test_post_report_checks(d, a, h, committee, oracles):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.config[jid] = {"commitment": ZERO32}
    d.post(jid, 0, oracles[0], 1, deliverable=keccak(b"x"), expect="committee: evaluation not registered")
    d.register(jid)
    d.submit(jid, 0)
    d.post(
        jid, 0, Account.from_key(keccak(b"stranger")), 910_000, expect="committee: signer not in committee"
    )
    d.post(jid, 0, oracles[0], 910_000, chain=chain_id() + 1, expect="committee: signer not in committee")
    d.post(jid, 0, oracles[0], 910_000)
    # the same oracle may report on another round or deliverable (stored under another key)
    d.post(jid, 0, oracles[0], 910_000, round_=5)
    m = h.job(jid).milestones[0]
    assert committee.posted_reports(jid, 0, 0, m.deliverable) == 1
    assert committee.posted_reports(jid, 0, 5, m.deliverable) == 1


def test_posted_reports_of_an_old_round_do_not_count(d, a, h, committee, oracles):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    for o, score in zip(oracles[:3], BAD, strict=True):
        d.post(jid, 0, o, score)
    h.request_revision(a.client, jid, 0, expect=OK)
    d.submit(jid, 0)
    d.past_window(jid)
    d.settle_posted(jid, 0, expect="committee: too few signatures")
    for o, score in zip(d.designated(jid), GOOD, strict=True):
        d.post(jid, 0, o, score)
    s = d.settle_posted(jid, 0)
    assert s.passed and s.median == 910_000


def test_settle_posted_uses_the_designated_reports_first(d, a, h, committee, oracles):
    jid = d.submitted(a.client, a.freelancer)
    chosen = d.designated(jid)
    outsider = next(o for o in oracles if o not in chosen)
    d.post(jid, 0, outsider, 400_000)
    for o in chosen[:2]:
        d.post(jid, 0, o, 910_000)
    # three posted, but only two of the designated quorum: not yet
    d.settle_posted(jid, 0, expect="committee: too few signatures")
    d.late(jid)
    s = d.settle_posted(jid, 0)
    assert (s.median, s.passed) == (910_000, True)


def test_settle_posted_respects_dispute_and_window(d, a, h, oracles):
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    for o, score in zip(d.designated(jid), GOOD, strict=True):
        d.post(jid, 0, o, score)
    d.settle_posted(jid, 0, expect="committee: challenge window open")
    h.raise_dispute(a.freelancer, jid, 0, expect=OK)
    boa.env.time_travel(seconds=WINDOW + 1)
    d.settle_posted(jid, 0, expect="committee: milestone disputed")
    d.past_window(jid)  # the dispute period
    assert d.settle_posted(jid, 0).passed


# --------------------------------------------------------------------------- reveal


def _settled_job(d, a):
    jid = d.submitted(a.client, a.freelancer)
    d.settle(jid, 0, d.honest(GOOD))
    return jid


def test_reveal_by_client(d, a, h, committee):
    jid = _settled_job(d, a)
    committee.reveal(jid, h.state(jid), LABELS_CID, SALT, sender=a.client.address)
    assert committee_events(committee, committee.get_logs()) == [
        ("LabelsRevealed", {"job_id": jid, "labels_cid": LABELS_CID, "salt": SALT})
    ]
    assert committee.revealed_labels(jid) == LABELS_CID
    with boa.reverts("committee: already revealed"):
        committee.reveal(jid, h.state(jid), LABELS_CID, SALT, sender=a.client.address)


def test_reveal_by_an_oracle(d, a, h, committee, oracles):
    jid = _settled_job(d, a)
    committee.reveal(jid, h.state(jid), LABELS_CID, SALT, sender=oracles[2].address)
    assert committee.revealed_labels(jid) == LABELS_CID


def test_reveal_wrong_labels_or_salt(d, a, h, committee):
    jid = _settled_job(d, a)
    for cid, salt in [
        (LABELS_CID, keccak(b"wrong salt")),
        (LABELS_CID[:-1] + b"\x00", SALT),
        (b"\x01", SALT),
    ]:
        with boa.reverts("committee: labels do not match commitment"):
            committee.reveal(jid, h.state(jid), cid, salt, sender=a.client.address)
    with boa.reverts("committee: empty labels CID"):
        committee.reveal(jid, h.state(jid), b"", SALT, sender=a.client.address)
    assert committee.revealed_labels(jid) == b""


def test_reveal_too_early(d, a, h, committee):
    jid = d.job(a.client, a.freelancer, [AMOUNT, AMOUNT])
    d.register(jid)
    with boa.reverts("committee: job not settled"):
        committee.reveal(jid, h.state(jid), LABELS_CID, SALT, sender=a.client.address)
    d.submit(jid, 0)
    d.past_window(jid)
    d.settle(jid, 0, d.honest(GOOD))
    with boa.reverts("committee: job not settled"):  # milestone 1 still open
        committee.reveal(jid, h.state(jid), LABELS_CID, SALT, sender=a.client.address)
    h.approve(a.client, jid, 1, expect=OK)  # any terminal status counts
    committee.reveal(jid, h.state(jid), LABELS_CID, SALT, sender=a.client.address)
    assert committee.revealed_labels(jid) == LABELS_CID


def test_reveal_by_a_stranger_or_with_a_stale_job(d, a, h, committee):
    jid = _settled_job(d, a)
    for who in (a.freelancer, a.outsider):
        with boa.reverts("committee: caller is not the client or an oracle"):
            committee.reveal(jid, h.state(jid), LABELS_CID, SALT, sender=who.address)
    stale = list(h.state(jid))
    stale[9] = 5
    with boa.reverts("committee: stale job state"):
        committee.reveal(jid, tuple(stale), LABELS_CID, SALT, sender=a.client.address)
    unregistered = d.job(a.client, a.freelancer, [AMOUNT])
    with boa.reverts("committee: evaluation not registered"):
        committee.reveal(unregistered, h.state(unregistered), LABELS_CID, SALT, sender=a.client.address)


# --------------------------------------------------------------------------- property


SEVEN = oracle_accounts(7, "seven")


@pytest.fixture(scope="module")
def committee7(committee_deployer, escrow):
    """n = 7, f = 2: threshold 5."""
    return committee_deployer.deploy(escrow.address, [o.address for o in SEVEN], 2, WINDOW)


@st.composite
def settlements(draw):
    scores = draw(st.lists(st.integers(-2 * SCALE, 2 * SCALE), min_size=7, max_size=7))
    liars = draw(st.sets(st.integers(0, 6), max_size=2))  # at most f = 2 byzantine oracles
    for k in liars:
        scores[k] = draw(st.integers(INT256_MIN, INT256_MAX))
    signers = sorted(draw(st.sets(st.integers(0, 6), min_size=5, max_size=7)))
    threshold = draw(st.one_of(st.sampled_from(scores), st.integers(-2 * SCALE, 2 * SCALE)))
    threshold = max(min(threshold, 2**127 - 1), -(2**127))
    return scores, liars, signers, threshold, draw(st.booleans()), draw(st.integers(0, SCALE))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=settlements())
def test_paid_outcome_follows_the_median_rule(escrow, token, accounts, committee7, case):
    """Random scores (up to f wild liars), any >= threshold signers in ascending order:
    the payout is what the Python median rule says, and the median stays within the
    range of the honest signers' reports (OCR2's guarantee for n > 3f)."""
    scores, liars, signers, threshold, higher_is_better, tolerance = case
    a = accounts
    h = EscrowHarness(escrow, token, a.owner.address)
    drv = CommitteeDriver(h, committee7, SEVEN, a.relayer)
    jid = drv.submitted(
        a.client, a.freelancer, threshold=threshold, higher_is_better=higher_is_better, tolerance=tolerance
    )
    drv.late(jid)  # any quorum, in any make-up
    client_before = bal(token, a.client)
    picked = [scores[k] for k in signers]
    settled = drv.settle(jid, 0, [(SEVEN[k], scores[k]) for k in signers])
    median, passed = expected_outcome(picked, threshold, higher_is_better)
    assert (settled.median, settled.passed) == (median, passed)
    assert bal(token, a.freelancer) == (NET if passed else 0)
    assert bal(token, a.client) == client_before + (0 if passed else AMOUNT)
    assert settled.outliers == [low(SEVEN[k]) for k in signers if abs(scores[k] - median) > tolerance]
    honest = [scores[k] for k in signers if k not in liars]
    assert min(honest) <= median <= max(honest)
    assert h.job(jid).milestones[0].status == RESOLVED


# --------------------------------------------------------------------------- designated quorum


def test_canonical_signers_are_the_designated_quorum_until_a_late_settlement(d, a, h, committee, oracles):
    jid = d.submitted(a.client, a.freelancer)
    m = h.job(jid).milestones[0]
    chosen = d.designated(jid)
    assert committee.canonical_signers(jid, 0, 0, m.deliverable) == [o.address for o in chosen]
    # every round has its own quorum, n of them in all
    starts = {tuple(designated_indexes(jid, 0, r, 4, 3)) for r in range(40)}
    assert len(starts) == 4
    other = [o for o in oracles if o != chosen[0]]
    d.settle(jid, 0, [(o, 910_000) for o in other], expect="committee: signer not designated")
    d.late(jid)
    d.settle(jid, 0, [(o, 910_000) for o in other])
    assert committee.canonical_signers(jid, 0, 0, m.deliverable) == [o.address for o in other]
    # the record is per deliverable and round
    assert committee.canonical_signers(jid, 0, 1, m.deliverable) == [
        o.address for o in d.designated(jid, 0, 1)
    ]


@pytest.mark.parametrize("window", [0, 7 * DAY + 1, 2**64 - 1])
def test_constructor_bounds_the_challenge_window(committee_deployer, escrow, oracles, window):
    with boa.reverts("committee: bad challenge window"):
        committee_deployer.deploy(escrow.address, [o.address for o in oracles], 1, window)
    committee_deployer.deploy(escrow.address, [o.address for o in oracles], 1, 7 * DAY)


# --------------------------------------------------------------------------- rounds without a settlement


def test_record_signers_checks(d, a, h, committee, oracles):
    """`record_signers`: the committee's own job, registered evaluation, current state,
    equal lengths; then the PAID, timing, once and quorum rules (see the attack tests)."""
    other = h.create_job(a.client, [AMOUNT], freelancer=a.freelancer, arbiter=a.arbiter, expect=OK)
    h.submit(a.freelancer, other, 0, expect=OK)
    h.approve(a.client, other, 0, expect=OK)
    unregistered = d.job(a.client, a.freelancer, [AMOUNT])
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    h.approve(a.client, jid, 0, expect=OK)
    boa.env.time_travel(seconds=3 * WINDOW)
    scores, sigs = d.sign(jid, 0, list(zip(oracles[:3], GOOD, strict=True)))
    with boa.reverts("committee: scores and signatures differ in length"):
        committee.record_signers(jid, h.state(jid), 0, scores, sigs[:2], sender=a.outsider.address)
    with boa.reverts("committee: evaluation not registered"):
        committee.record_signers(unregistered, h.state(unregistered), 0, [], [], sender=a.outsider.address)
    with boa.reverts("committee: unknown job"):
        committee.record_signers(99, h.state(jid), 0, scores, sigs, sender=a.outsider.address)
    with boa.reverts("committee: stale job state"):
        committee.record_signers(jid, h.state(other), 0, scores, sigs, sender=a.outsider.address)
    with boa.reverts("committee: no such milestone"):
        committee.record_signers(jid, h.state(jid), 1, scores, sigs, sender=a.outsider.address)
    # any quorum, all four oracles too
    scores4, sigs4 = d.sign(jid, 0, list(zip(oracles, [*GOOD, 0], strict=True)))
    committee.record_signers(jid, h.state(jid), 0, scores4, sigs4, sender=a.outsider.address)
    deliverable = h.job(jid).milestones[0].deliverable
    assert committee.canonical_signers(jid, 0, 0, deliverable) == [o.address for o in oracles]


def test_release_unjudged_checks(d, a, h, committee):
    """`release_unjudged`: the committee's own job, current state, an existing disputed
    milestone, strictly after dispute + 14 days + W + 7 days; even without a registered
    evaluation (nothing could judge it)."""
    other = h.create_job(a.client, [AMOUNT], freelancer=a.freelancer, arbiter=a.arbiter, expect=OK)
    h.submit(a.freelancer, other, 0, expect=OK)
    h.raise_dispute(a.client, other, 0, expect=OK)
    jid = d.job(a.client, a.freelancer, [AMOUNT, AMOUNT])  # never registered
    d.submit(jid, 0)
    h.raise_dispute(a.client, jid, 0, expect=OK)
    opens = d.release_opens(jid)
    assert opens == now() + 21 * DAY + WINDOW
    boa.env.time_travel(seconds=opens - now())
    with boa.reverts("committee: not the job's arbiter"):
        committee.release_unjudged(other, h.state(other), 0, sender=a.outsider.address)
    with boa.reverts("committee: stale job state"):
        committee.release_unjudged(jid, h.state(other), 0, sender=a.outsider.address)
    with boa.reverts("committee: no such milestone"):
        committee.release_unjudged(jid, h.state(jid), 2, sender=a.outsider.address)
    d.release_unjudged(jid, 1, expect="committee: milestone not disputed")
    d.release_unjudged(jid, 0, expect="committee: verdict still possible")
    boa.env.time_travel(seconds=1)
    d.release_unjudged(jid, 0, sender=a.client)
    assert h.job(jid).milestones[0].status == RESOLVED
    assert h.job(jid).milestones[0].paid == AMOUNT
