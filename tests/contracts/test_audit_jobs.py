"""Regression tests for the attacks of the security audit on jobs (escrow, oracle
committee, job attester). Each test performs the attack and asserts the safe
outcome; each failed against the contracts before the fixes.

Attack steps are made with direct contract calls (not through the reference
model), so a contract that still allows them fails the test by itself.
"""

import boa
import eth_abi
import pytest
from attestation_fixtures import AttestationStack
from committee_fixtures import (
    COMMITTEE_PATH,
    LABELS_CID,
    SALT,
    SCALE,
    SEALED_CID,
    TOLERANCE,
    WINDOW,
    CommitteeDeployer,
    CommitteeDriver,
    commitment_of,
    designated_indexes,
    evaluation_hash,
    oracle_accounts,
)
from escrow_harness import DAY, OK, addr, now
from eth_utils import keccak

AMOUNT = 1_000 * SCALE
FEE_BPS = 250
NET = AMOUNT - AMOUNT * FEE_BPS // 10_000
GOOD = [990_000, 985_000, 995_000]
BAD = [410_000, 400_000, 420_000]
SPEC_DIGEST = keccak(b"spec file: classify the held-out set, accuracy >= 0.9")


@pytest.fixture(scope="session")
def oracles():
    return oracle_accounts(4)


@pytest.fixture(scope="module")
def committee(escrow, oracles):
    return CommitteeDeployer(COMMITTEE_PATH).deploy(escrow.address, [o.address for o in oracles], 1, WINDOW)


@pytest.fixture
def a(accounts):
    return accounts


@pytest.fixture
def d(h, committee, oracles, accounts):
    return CommitteeDriver(h, committee, oracles, accounts.relayer)


def bal(token, who) -> int:
    return token.balanceOf(addr(who))


def travel(seconds: int) -> None:
    boa.env.time_travel(seconds=seconds)


# --------------------------------------------------------------------------- frozen money


def test_freelancer_cannot_freeze_a_failed_verdict_with_a_dispute(d, h, a, escrow, token):
    """Audit: a freelancer whose model failed disputes inside the challenge window; the
    committee refused disputed milestones, so only a mutual cancel at the freelancer's
    price (877.5 of 1,000) moved the money. Now the committee's verdict settles the
    disputed milestone once the dispute period is over."""
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    h.raise_dispute(a.freelancer, jid, 0, expect=OK)  # inside the challenge window
    h.cancel(a.freelancer, jid, 877_500_000, expect=OK)  # the ransom offer the client refuses
    client_before = bal(token, a.client)
    travel(60 * DAY)
    settled = d.settle(jid, 0, d.honest(BAD))
    assert settled is not None and not settled.passed
    assert bal(token, a.client) == client_before + AMOUNT
    assert bal(token, a.freelancer) == 0


def test_score_cannot_be_disputed_after_the_challenge_window(d, h, a, escrow):
    """Audit: a client blocked a passing verdict by disputing during the whole review
    period. On committee jobs a score can be disputed only inside the challenge window."""
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    travel(WINDOW + 1)
    for party in (a.client, a.freelancer):
        with boa.reverts():
            escrow.raise_dispute(jid, h.state(jid), 0, sender=party.address)
    assert d.settle(jid, 0, d.honest(GOOD)).passed


def test_undelivered_committee_milestone_cannot_be_frozen(d, h, a, escrow, token):
    """Audit: 500 frozen 400 days after an undelivered job's deadline, because a party
    disputed the milestone before it was due. An undelivered milestone cannot be disputed
    before it is due; after the deadline the client reclaims it."""
    jid = d.job(a.client, a.freelancer, [500 * SCALE])
    d.register(jid)
    for party in (a.client, a.freelancer):
        with boa.reverts():
            escrow.raise_dispute(jid, h.state(jid), 0, sender=party.address)
    travel(400 * DAY)
    before = bal(token, a.client)
    h.reclaim(a.client, jid, expect=OK)
    assert bal(token, a.client) == before + 500 * SCALE


def test_dispute_the_arbiter_never_rules_on_ends_after_a_bounded_time(h, a, escrow, token):
    """Plain job with a named arbiter that never rules: after the arbitration timeout
    anyone ends the dispute with the documented split (half each)."""
    jid = h.create_job(a.client, [AMOUNT], freelancer=a.freelancer, arbiter=a.arbiter, expect=OK)
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.raise_dispute(a.client, jid, 0, expect=OK)
    client_before = bal(token, a.client)
    travel(400 * DAY)
    escrow.resolve(jid, h.state(jid), 0, AMOUNT // 2, sender=a.outsider.address)
    half = AMOUNT // 2
    assert bal(token, a.freelancer) == half - half * FEE_BPS // 10_000
    assert bal(token, a.client) == client_before + AMOUNT - half


# --------------------------------------------------------------------------- vetoed verdicts


def test_revision_requests_cannot_veto_a_passing_verdict(d, h, a, escrow, token):
    """Audit: request_revision inside the challenge window starts a new round and voids
    every signed report; repeated after each submission, 255 passing submissions never
    settled. Revisions are now capped, so the verdict lands."""
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    revisions = 0
    for _ in range(10):
        d.submit(jid, 0)
        try:
            escrow.request_revision(jid, h.state(jid), 0, b"\x22" * 32, sender=a.client.address)
        except boa.BoaError:
            break
        revisions += 1
        h.model.request_revision(a.client.address, jid, None, 0, b"\x22" * 32, now())
    assert revisions <= 3
    d.past_window(jid)
    travel(1)
    assert d.settle(jid, 0, d.honest(GOOD)).passed
    assert bal(token, a.freelancer) == NET


def test_no_revision_after_the_challenge_window_of_a_committee_job(d, h, a, escrow):
    """Once the challenge window is over the verdict can be settled; a revision request
    then would void it."""
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    travel(WINDOW + 1)
    with boa.reverts():
        escrow.request_revision(jid, h.state(jid), 0, b"\x22" * 32, sender=a.client.address)


# --------------------------------------------------------------------------- rigged evaluation


def test_client_cannot_register_an_evaluation_the_job_did_not_commit_to(d, h, a, committee, escrow):
    """Audit: the client registered an inverted direction just before the freelancer's
    relayed submission landed, and a 0.99 deliverable was judged a fail. The job's
    spec_hash now commits to the evaluation, and the committee refuses any other."""
    commitment = commitment_of(LABELS_CID, SALT, SPEC_DIGEST)
    spec_hash = evaluation_hash(SPEC_DIGEST, commitment, 900_000, True, TOLERANCE)
    jid = d.job(a.client, a.freelancer, [AMOUNT], spec_hash=spec_hash)
    for threshold, higher in ((900_000, False), (1_000_001, True), (-(2**127), True)):
        with boa.reverts():
            committee.register(
                jid,
                h.state(jid),
                SPEC_DIGEST,
                commitment,
                threshold,
                higher,
                TOLERANCE,
                SEALED_CID,
                sender=a.client.address,
            )
    committee.register(
        jid,
        h.state(jid),
        SPEC_DIGEST,
        commitment,
        900_000,
        True,
        TOLERANCE,
        SEALED_CID,
        sender=a.client.address,
    )


# --------------------------------------------------------------------------- reports chosen by the relayer


def designated(job_id: int, milestone: int, round_: int, n: int, quorum: int) -> list[int]:
    """Indexes (ascending address order) of the oracles whose reports settle a round first."""
    return designated_indexes(job_id, milestone, round_, n, quorum)


def test_relayer_cannot_choose_which_honest_reports_settle(d, h, a, oracles):
    """Audit: with honest oracles that disagree around the pass score, whoever relays
    picks the quorum, and so the verdict and the outliers. During the first period
    after the challenge window only the round's designated quorum settles."""
    jid = d.job(a.client, a.freelancer, [AMOUNT], threshold=705_000, tolerance=5_000)
    d.register(jid)
    d.submit(jid, 0)
    d.past_window(jid)
    travel(1)
    honest = [690_000, 700_000, 710_000, 720_000]  # oracle i reports honest[i]
    chosen = designated(jid, 0, 0, 4, 3)
    others = [[i for i in range(4) if i != skip] for skip in range(4)]
    for subset in others:
        if subset != chosen:
            d.settle(
                jid, 0, [(oracles[i], honest[i]) for i in subset], expect="committee: signer not designated"
            )
    d.settle(jid, 0, [(oracles[i], honest[i]) for i in chosen])


# --------------------------------------------------------------------------- attestations


@pytest.fixture(scope="module")
def system(escrow, committee):
    stack = AttestationStack("test_audit_jobs")
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


def test_outsider_cannot_force_an_unverified_record(system, d, h, a, oracles):
    """Audit: an outsider front-ran attest_job with no reports on a committee milestone
    the client approved, recording it unverified for good and denying the badge. Now
    only the freelancer may give up the verification."""
    attester = system.attester
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    attester.declare_skill(jid, h.state(jid), "security/smart-contract-audit", sender=a.client.address)
    d.submit(jid, 0)
    h.approve(a.client, jid, 0, expect=OK)
    for who in (a.outsider, a.client):
        with boa.reverts():
            attester.attest_job(jid, h.state(jid), 0, [], [], [], sender=who.address)
    chosen = designated(jid, 0, 0, 4, 3)
    signed = [(oracles[i], GOOD[k]) for k, i in enumerate(chosen)]
    scores, sigs = d.sign(jid, 0, signed)
    attester.attest_job(
        jid, h.state(jid), 0, scores, [o.address for o, _ in signed], sigs, sender=a.outsider.address
    )
    assert system.badge.minted() == 1


NEW_JOB_COMPLETED_TYPES = [
    "uint256",  # jobId
    "uint256",  # milestone
    "address",  # client
    "address",  # freelancer
    "address",  # token
    "uint256",  # amountPaid
    "int256",  # score
    "bool",  # verified
    "int256",  # threshold
    "bool",  # higherIsBetter
    "bytes32",  # specHash
    "string",  # skill
]


def test_a_verified_badge_records_the_threshold_it_was_earned_against(system, d, h, a, oracles):
    """Audit: one person acting as client and freelancer registered "higher is better,
    pass at -2^127", honest oracles scored junk at 0.01, and the badge was minted. The
    threshold and direction are bound to the job's spec hash, and the JobCompleted
    attestation records them with the spec hash, so a verified pass means what the spec
    says."""
    attester, eas = system.attester, system.attestations
    jid = d.job(a.client2, a.freelancer2, [AMOUNT], threshold=-(2**127))
    d.register(jid)
    attester.declare_skill(jid, h.state(jid), "security/smart-contract-audit", sender=a.client2.address)
    d.submit(jid, 0)
    d.past_window(jid)
    travel(1)
    chosen = designated(jid, 0, 0, 4, 3)
    signed = [(oracles[i], 10_000) for i in chosen]
    assert d.settle(jid, 0, signed).passed
    scores, sigs = d.sign(jid, 0, signed)
    uid = attester.attest_job(jid, h.state(jid), 0, scores, [o.address for o, _ in signed], sigs)
    data = eth_abi.decode(NEW_JOB_COMPLETED_TYPES, bytes(eas.getAttestation(uid).data))
    assert data[6:11] == (10_000, True, -(2**127), True, h.job(jid).spec_hash)
