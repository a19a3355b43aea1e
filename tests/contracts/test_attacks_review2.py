"""Second attack review of the contracts (after the fixes of the first audit).

Each test plays one attacker (client, freelancer, outsider/keeper, a contract arbiter,
a minority of oracles, a hostile token) and asserts the safe outcome. Tests of attacks
the contracts now stop pass; an attack that is only bounded (F7, F10) has a test of its
bound, and its residue is listed in SECURITY.md.

Attack steps are direct contract calls, so a contract that allows them fails the test
by itself; set-up goes through the model-checked harness where it can.
"""

from __future__ import annotations

import boa
import pytest
from attestation_fixtures import AttestationStack, decode_job_completed
from committee_fixtures import (
    COMMITTEE_PATH,
    DISPUTE_PERIOD,
    SCALE,
    WINDOW,
    CommitteeDeployer,
    CommitteeDriver,
    committee_events,
    oracle_accounts,
    py_median,
)
from competition_fixtures import BOND, USD, Arena, players
from conftest import MOCKS, REPO
from escrow_harness import DAY, OK, addr, now
from escrow_model import ZERO_ADDRESS, norm
from eth_utils import keccak, to_checksum_address

AMOUNT = 1_000 * SCALE
FEE_BPS = 250  # conftest.INITIAL_FEE_BPS
NET = AMOUNT - AMOUNT * FEE_BPS // 10_000
HALF = AMOUNT // 2
GOOD = [990_000, 985_000, 995_000]
BAD = [410_000, 400_000, 420_000]
ARBITRATION_TIMEOUT = 30 * DAY  # JobEscrow.ARBITRATION_TIMEOUT
UINT256_MAX = 2**256 - 1

# Every contract of this module is deployed from an address no other module uses (see
# committee_fixtures.COMMITTEE_DEPLOYER for why titanoboa needs it).
DEPLOYER = to_checksum_address(keccak(b"proofwork attack review 2 deployer")[12:])


def deploy(path, *args):
    with boa.env.prank(DEPLOYER):
        return boa.load_partial(str(path)).deploy(*args)


def deploy_source(source: str, *args):
    with boa.env.prank(DEPLOYER):
        return boa.loads(source, *args)


def travel_to(t: int) -> None:
    assert t >= now(), "cannot travel back in time"
    boa.env.time_travel(seconds=t - now())


def bal(token, who) -> int:
    return token.balanceOf(addr(who))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def a(accounts):
    return accounts


@pytest.fixture(scope="session")
def oracles():
    return oracle_accounts(4)  # n = 4, f = 1, threshold 3


@pytest.fixture(scope="module")
def committee(escrow, oracles):
    return CommitteeDeployer(COMMITTEE_PATH).deploy(escrow.address, [o.address for o in oracles], 1, WINDOW)


@pytest.fixture
def d(h, committee, oracles, accounts):
    h.model.arbiter_windows[norm(str(committee.address))] = WINDOW
    return CommitteeDriver(h, committee, oracles, accounts.relayer)


@pytest.fixture(scope="module")
def blocklist():
    return deploy(MOCKS / "BlocklistToken.vy")


@pytest.fixture(scope="module")
def system(escrow, committee):
    """Attestations, badge (mock), attester and resolver wired to the module's committee."""
    stack = AttestationStack("test_attacks_review2")
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


def designated(d, job_id: int, milestone: int = 0) -> tuple[list, list]:
    """(designated oracles, the others) of the milestone's current round."""
    chosen = d.designated(job_id, milestone)
    return chosen, [o for o in d.oracles if o not in chosen]


# =========================================================================== contract arbiters

WIDE_ARBITER = """
# pragma version ~=0.4.3
@external
@view
def challenge_window() -> (uint256, uint256):
    return 60, 60
"""

SILENT_ARBITER = """
# pragma version ~=0.4.3
@external
@payable
def __default__():
    pass
"""


@pytest.mark.parametrize(
    ("kind", "window"),
    [
        ("reverts", DAY),
        ("answers 2**256 - 1", DAY),
        ("answers 2**64 + 5", DAY),
        ("answers no data", DAY),
        ("answers 64 bytes", 60),  # read as its first word (60 s): never longer than the review period
    ],
)
def test_a_misbehaving_challenge_window_never_outlasts_the_review_period(h, a, escrow, kind, window):
    """Arbiter contract: whatever `challenge_window()` does (revert, a value beyond uint64,
    a wrong-size answer, no answer at all), the escrow neither reverts nor widens the
    window past the review period: disputes are possible through the window's last
    second, not after, and the milestone is then claimable at the end of the review period."""
    if kind == "answers 64 bytes":
        arbiter = deploy_source(WIDE_ARBITER)
    elif kind == "answers no data":
        arbiter = deploy_source(SILENT_ARBITER)
    else:
        mode, answer = {
            "reverts": (1, 0),
            "answers 2**256 - 1": (0, UINT256_MAX),
            "answers 2**64 + 5": (0, 2**64 + 5),
        }[kind]
        arbiter = deploy(MOCKS / "HostileArbiter.vy", mode, answer)
    jid = h.create_job(a.client, [AMOUNT], freelancer=a.freelancer, arbiter=arbiter, expect=OK)
    h.submit(a.freelancer, jid, 0, expect=OK)
    t0 = now()
    travel_to(t0 + window)  # the window's last second
    with boa.env.anchor():
        escrow.raise_dispute(jid, h.state(jid), 0, sender=a.client.address)
    travel_to(t0 + window + 1)
    with boa.reverts("escrow: dispute window over"):
        escrow.raise_dispute(jid, h.state(jid), 0, sender=a.client.address)
    travel_to(t0 + DAY + 1)
    h.claim(a.outsider, jid, 0, expect=OK)
    assert bal(h.token, a.freelancer) == NET


def test_a_gas_burning_challenge_window_cannot_price_out_a_dispute(h, a, escrow):
    """Arbiter contract whose `challenge_window()` burns all the gas it is given: the escrow
    forwarded 63/64 of the caller's gas, so a dispute (or a revision request) needed about
    ten times its normal gas (~500k instead of ~50k) or ran out of gas. The call is now
    capped, so a dispute with an ordinary gas limit goes through (review period applies)."""
    arbiter = deploy(MOCKS / "HostileArbiter.vy", 2, 0)
    jid = h.create_job(a.client, [AMOUNT], freelancer=a.freelancer, arbiter=arbiter, expect=OK)
    h.submit(a.freelancer, jid, 0, expect=OK)
    travel_to(now() + DAY)
    escrow.raise_dispute(jid, h.state(jid), 0, sender=a.freelancer.address, gas=150_000)
    h.model.raise_dispute(a.freelancer.address, jid, None, 0, now())
    h.check_job(jid)


def test_the_escrow_still_fits_the_contract_size_limit(escrow):
    """The fixes of this review grew JobEscrow (gas cap, budget cap): its runtime code
    must stay within EIP-170 (24,576 bytes), or it cannot be deployed at all."""
    assert len(boa.env.get_code(escrow.address)) <= 24_576


# =========================================================================== hostile tokens


@pytest.mark.parametrize("quiet", [False, True], ids=["reverts", "returns False"])
@pytest.mark.parametrize("blocked", ["freelancer", "client"])
def test_a_blocked_party_cannot_freeze_the_other_half_after_the_timeout(
    h, a, escrow, blocklist, blocked, quiet
):
    """Hostile token (a blocklist, like USDC's, reverting or returning False) and an arbiter
    that never rules: after the arbitration timeout anyone ends the dispute with half each.
    `resolve` used to send both halves in one call, so one blocked party froze the other's
    half for good. The unblocked party gets its half; the blocked party's half is credited
    to it, withdrawable once the token lets it receive again (and not before)."""
    h.set_quiet(blocklist, quiet)
    jid = h.create_job(
        a.client, [AMOUNT], freelancer=a.freelancer, arbiter=a.arbiter, token=blocklist, expect=OK
    )
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.raise_dispute(a.client, jid, 0, expect=OK)
    victim = a.client if blocked == "freelancer" else a.freelancer
    party = getattr(a, blocked)
    h.block(blocklist, party)
    travel_to(now() + ARBITRATION_TIMEOUT + 1)
    before = bal(blocklist, victim)
    h.resolve(a.outsider, jid, 0, 0, expect=OK)  # model-checked: one transfer, one credit
    net_half = HALF - HALF * FEE_BPS // 10_000
    share, credit = (HALF, net_half) if blocked == "freelancer" else (net_half, HALF)
    assert bal(blocklist, victim) == before + share
    assert escrow.claimable(blocklist.address, party.address) == credit
    h.withdraw(
        party, blocklist, expect="blocklist: account blocked" if not quiet else "escrow: transfer failed"
    )
    h.block(blocklist, party, False)
    assert h.withdraw(party, blocklist, expect=OK) == credit
    assert bal(blocklist, party) == credit
    assert bal(blocklist, escrow) == escrow.fees_owed(blocklist.address)


@pytest.mark.parametrize("exit_", ["approve", "claim", "cancel"])
def test_a_blocked_freelancer_leaves_every_exit_open(h, a, escrow, blocklist, exit_):
    """With a blocked freelancer every exit of a submitted milestone used to revert (approve,
    claim, a cancel giving it a share): each now pays what it can and credits the rest."""
    jid = h.create_job(
        a.client, [AMOUNT], freelancer=a.freelancer, arbiter=a.arbiter, token=blocklist, expect=OK
    )
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.block(blocklist, a.freelancer)
    if exit_ == "approve":
        h.approve(a.client, jid, 0, expect=OK)
        credit = NET
    elif exit_ == "claim":
        travel_to(now() + DAY + 1)
        h.claim(a.outsider, jid, 0, expect=OK)
        credit = NET
    else:
        h.cancel(a.client, jid, HALF, expect=OK)
        before = bal(blocklist, a.client)
        h.cancel(a.freelancer, jid, HALF, expect=OK)
        assert bal(blocklist, a.client) == before + HALF
        credit = HALF - HALF * FEE_BPS // 10_000
    assert escrow.claimable(blocklist.address, a.freelancer.address) == credit
    assert h.job(jid).held == 0


def test_a_huge_budget_cannot_overflow_the_fee_and_freeze_the_payment(a, escrow, token):
    """Hostile token with huge balances: a milestone above 2**256 / fee_bps could be
    created, but every payment of it (approve, claim, the arbiter's resolve) computed
    `gross * fee_bps` and overflowed, so delivered work could never be paid. The escrow
    now refuses a budget whose fee cannot be computed, and pays the largest it accepts."""
    deadline, spec = now() + 10 * DAY, keccak(b"spec")

    def job(amount, status, timestamp, deliverable):
        head = (a.client.address, a.freelancer.address, token.address, a.arbiter.address, deadline, DAY)
        return (*head, FEE_BPS, spec, "0x" + "00" * 20, 0, [(amount, 0, status, 0, timestamp, deliverable)])

    largest = UINT256_MAX // 10_000
    for amount in (2**255, largest):
        token.mint(a.client.address, amount, sender=a.owner.address)
        token.approve(escrow.address, amount, sender=a.client.address)
        args = (token.address, a.freelancer.address, [amount], deadline, DAY, spec, a.arbiter.address)
        try:
            jid = escrow.create_job(*args, sender=a.client.address)
        except boa.BoaError as exc:
            assert amount > largest and "escrow: budget too large" in str(exc)
            continue  # refused up front: nothing can be frozen
        escrow.submit(jid, job(amount, 0, 0, b"\x00" * 32), 0, b"\x01" * 32, sender=a.freelancer.address)
        submitted = job(amount, 1, now(), b"\x01" * 32)
        travel_to(now() + DAY + 1)
        before = bal(token, a.freelancer)
        escrow.claim(jid, submitted, 0, sender=a.outsider.address)  # the delivered work is paid
        assert bal(token, a.freelancer) - before == amount - amount * FEE_BPS // 10_000
    assert escrow.job_count() == 1


# =========================================================================== committee timing


def test_one_withholding_oracle_cannot_hand_a_failing_freelancer_the_claim(d, h, a, escrow, committee):
    """Freelancer + one designated oracle (f = 1): the oracle withholds its report, so the
    designated quorum cannot settle in (t0 + W, t0 + 2W]; any quorum may settle after
    t0 + 2W, but the review period only had to exceed 2W, so with review = 2W + 1 the
    honest late quorum had a single second before the freelancer could claim the failing
    milestone (on a 12 s chain: the same block, first come first served). The late quorum
    must get at least one full challenge window before an auto-release."""
    for review in (2 * WINDOW + 1, 3 * WINDOW + 1):
        jid = d.job(a.client, a.freelancer, [AMOUNT], review_period=review)
        try:
            d.register(jid)
            break
        except boa.BoaError as exc:  # the committee refused the review period: try the next one
            assert "committee: review period not longer than three challenge windows" in str(exc)
    d.submit(jid, 0)
    t0 = now()
    chosen, _ = designated(d, jid)
    withholding = chosen[0]
    honest = sorted([o for o in d.oracles if o != withholding], key=lambda o: int(o.address, 16))
    # in the designated period the honest oracles cannot settle without the withholding one
    travel_to(t0 + WINDOW + 1)
    d.settle(jid, 0, list(zip(honest, BAD, strict=True)), expect="committee: signer not designated")
    # one challenge window after the designated period the freelancer still cannot claim
    travel_to(t0 + 3 * WINDOW)
    with boa.reverts("escrow: review window still open"):
        escrow.claim(jid, h.state(jid), 0, sender=a.freelancer.address)
    settled = d.settle(jid, 0, list(zip(honest, BAD, strict=True)))
    assert settled is not None and not settled.passed
    assert bal(h.token, a.freelancer) == 0


@pytest.fixture(scope="module")
def committee_week(escrow, oracles):
    return CommitteeDeployer(COMMITTEE_PATH).deploy(escrow.address, [o.address for o in oracles], 1, 7 * DAY)


@pytest.fixture(scope="module")
def committee_second(escrow, oracles):
    return CommitteeDeployer(COMMITTEE_PATH).deploy(escrow.address, [o.address for o in oracles], 1, 1)


def _driver(h, committee, oracles, accounts, window):
    h.model.arbiter_windows[norm(str(committee.address))] = window
    return CommitteeDriver(h, committee, oracles, accounts.relayer)


def test_a_week_long_window_leaves_the_late_quorum_days_before_the_fallback(
    h, a, escrow, committee_week, oracles, accounts
):
    """W = 7 days (the largest allowed), a disputed milestone whose designated quorum has a
    withholding oracle: the designated quorum alone may settle in (td + 14 d, td + 21 d],
    any quorum after td + 21 d, and the escrow's half-each fallback only after td + 30 d,
    so the honest late quorum has nine days before anyone can force the split."""
    W = 7 * DAY
    dw = _driver(h, committee_week, oracles, accounts, W)
    jid = dw.job(a.client, a.freelancer, [AMOUNT], review_period=60 * DAY, deadline=now() + 100 * DAY)
    dw.register(jid)
    dw.submit(jid, 0)
    travel_to(now() + W)  # the last second of the challenge window
    h.raise_dispute(a.freelancer, jid, 0, expect=OK)
    td = now()
    chosen, _ = designated(dw, jid)
    honest = sorted([o for o in oracles if o != chosen[0]], key=lambda o: int(o.address, 16))
    travel_to(td + DISPUTE_PERIOD)
    dw.settle(jid, 0, list(zip(chosen, BAD, strict=True)), expect="committee: milestone disputed")
    travel_to(td + DISPUTE_PERIOD + W)  # the designated period's last second
    dw.settle(jid, 0, list(zip(honest, BAD, strict=True)), expect="committee: signer not designated")
    travel_to(td + DISPUTE_PERIOD + W + 1)
    with h.rollback():  # any quorum may settle from here on ...
        assert not dw.settle(jid, 0, list(zip(honest, BAD, strict=True))).passed
    travel_to(td + ARBITRATION_TIMEOUT)
    with boa.reverts("escrow: caller is not the arbiter"):
        escrow.resolve(jid, h.state(jid), 0, 0, sender=a.freelancer.address)
    assert not dw.settle(jid, 0, list(zip(honest, BAD, strict=True))).passed  # ... until the fallback is near
    assert bal(h.token, a.freelancer) == 0


def test_a_one_second_window_timeline(h, a, escrow, committee_second, oracles, accounts):
    """W = 1 s (the smallest allowed): disputes in the submission's second and the next,
    the designated quorum alone at t0 + 2, any quorum from t0 + 3; no off-by-one lets a
    settlement in while a dispute is still possible."""
    ds = _driver(h, committee_second, oracles, accounts, 1)
    jid = ds.job(a.client, a.freelancer, [AMOUNT])
    ds.register(jid)
    ds.submit(jid, 0)
    t0 = now()
    chosen, _ = designated(ds, jid)
    honest = sorted([o for o in oracles if o != chosen[0]], key=lambda o: int(o.address, 16))
    travel_to(t0 + 1)
    ds.settle(jid, 0, list(zip(chosen, GOOD, strict=True)), expect="committee: challenge window open")
    with boa.env.anchor():
        escrow.raise_dispute(jid, h.state(jid), 0, sender=a.client.address)
    travel_to(t0 + 2)
    with boa.reverts("escrow: dispute window over"):
        escrow.raise_dispute(jid, h.state(jid), 0, sender=a.client.address)
    if set(honest) != set(chosen):
        ds.settle(jid, 0, list(zip(honest, GOOD, strict=True)), expect="committee: signer not designated")
    travel_to(t0 + 3)
    assert ds.settle(jid, 0, list(zip(honest, GOOD, strict=True))).passed
    assert bal(h.token, a.freelancer) == NET


# =========================================================================== oracle minority vs records


def test_a_withholding_oracle_moves_the_late_verdict_only_within_the_honest_reports(d, h, a):
    """One designated oracle (f = 1) withholds so that the designated period passes, then
    signs any score it likes for whoever relays the late settlement, who picks the quorum
    (any 3 or all 4 oracles). Honest oracles disagree around the pass score (0.69, 0.70,
    0.72 against 0.705), so the relayer does choose the verdict, as in the first audit's
    'reports chosen by the aggregator' (accepted for the late path: see the notes); but
    whatever quorum and whatever extreme score, the median stays within the honest
    reports' range, and the signers are recorded for the attester."""
    jid = d.job(a.client, a.freelancer, [AMOUNT], threshold=705_000, tolerance=50_000)
    d.register(jid)
    d.submit(jid, 0)
    chosen, _ = designated(d, jid)
    colluder = chosen[0]
    honest = [o for o in d.oracles if o != colluder]
    honest_scores = dict(zip([o.address for o in honest], [690_000, 700_000, 720_000], strict=True))
    d.late(jid)
    medians = set()
    for lie in (-(2**255), -(10**18), 10**18, 2**255 - 1):
        for skip in [None, *d.oracles]:
            quorum = [o for o in d.oracles if o != skip]
            signed = [(o, lie if o == colluder else honest_scores[o.address]) for o in quorum]
            with h.rollback():
                settled = d.settle(jid, 0, signed)
                assert 690_000 <= settled.median <= 720_000
                medians.add(settled.median)
                assert d.committee.canonical_signers(jid, 0, 0, h.job(jid).milestones[0].deliverable) == [
                    o.address for o in quorum
                ]
    assert medians == {690_000, 700_000, 720_000}  # the relayer's choice, within the honest range


def test_an_equivocating_oracle_moves_the_attested_score_only_within_the_honest_reports(system, d, h, a):
    """One designated oracle (f = 1) signs two scores for one round: a high one for the
    settlement (the milestone passes and is paid) and another for the attestation, relayed
    first. The attester re-takes the median of the canonical signers' reports, so, as with
    the withholding oracle of the late path (above), the liar moves the attested score only
    within the range of the honest canonical reports, whatever it signs. Open (Low, see
    SECURITY.md): when the honest reports straddle the threshold the verified record may
    say "failed" for a paid milestone; recording the settled median would cost every
    settlement a storage write over its gas budget."""
    attester = system.attester
    # honest oracles disagree around the pass score 0.705: 0.69 and 0.72
    jid = d.job(a.client, a.freelancer, [AMOUNT], threshold=705_000, tolerance=50_000)
    d.register(jid)
    attester.declare_skill(jid, h.state(jid), "ml/tabular-classification", sender=a.client.address)
    d.submit(jid, 0)
    d.past_window(jid)
    chosen, _ = designated(d, jid)
    colluder = chosen[0]
    honest = {chosen[1].address: 690_000, chosen[2].address: 720_000}

    def reports(colluder_score):
        return [(o, colluder_score if o == colluder else honest[o.address]) for o in chosen]

    settled = d.settle(jid, 0, reports(999_000))
    assert settled.passed and settled.median == 720_000
    paid = h.job(jid).milestones[0].paid
    attested = set()
    for lie in (-(2**255), 0, 700_000, 10**18, 2**255 - 1):
        with h.rollback():
            scores, sigs = d.sign(jid, 0, reports(lie))
            uid = attester.attest_job(
                jid, h.state(jid), 0, scores, [o.address for o in chosen], sigs, sender=a.outsider.address
            )
            record = decode_job_completed(system.attestations.getAttestation(uid).data)
            assert record[7] and record[5] == paid  # verified; the payment is the escrow's, untouched
            assert 690_000 <= record[6] <= 720_000, "the attested median stays within the honest reports"
            assert system.badge.minted() == (1 if record[6] >= 705_000 else 0)
            attested.add(record[6])
    assert attested == {690_000, 700_000, 720_000}


def test_a_withholding_oracle_cannot_veto_the_verified_record_of_an_approved_milestone(system, d, h, a):
    """Client + one designated oracle: the client approves the passing milestone at once
    (paying in full, nothing for the committee to settle) and the oracle never signs. The
    attester only takes the designated quorum's reports for a round nobody settled late,
    so the other three oracles' reports were refused for ever, and only an unverified
    record (no badge) was possible. Once the designated period is over, anyone records an
    honest quorum as the round's canonical signers (`record_signers`, once), and its
    reports give the verified record and the badge."""
    attester, committee = system.attester, d.committee
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    attester.declare_skill(jid, h.state(jid), "vision/segmentation", sender=a.client.address)
    d.submit(jid, 0)
    t0 = now()
    h.approve(a.client, jid, 0, expect=OK)
    chosen, others = designated(d, jid)
    honest = sorted(chosen[1:] + others, key=lambda o: int(o.address, 16))
    scores, sigs = d.sign(jid, 0, list(zip(honest, GOOD, strict=True)))
    state, deliverable = h.state(jid), h.job(jid).milestones[0].deliverable
    travel_to(t0 + 2 * WINDOW)  # the designated period's last second: not yet
    with boa.reverts("committee: designated period not over"):
        committee.record_signers(jid, state, 0, scores, sigs, sender=a.outsider.address)
    with boa.reverts("attester: reports are not the canonical signers'"):
        attester.attest_job(
            jid, state, 0, scores, [o.address for o in honest], sigs, sender=a.freelancer.address
        )
    travel_to(t0 + 2 * WINDOW + 1)
    with boa.reverts("committee: too few signatures"):
        committee.record_signers(jid, state, 0, scores[:2], sigs[:2], sender=a.outsider.address)
    committee.record_signers(jid, state, 0, scores, sigs, sender=a.outsider.address)
    assert committee_events(committee, committee.get_logs()) == [
        (
            "SignersRecorded",
            {"job_id": jid, "milestone": 0, "round": 0, "signers": [norm(o.address) for o in honest]},
        )
    ]
    assert committee.canonical_signers(jid, 0, 0, deliverable) == [o.address for o in honest]
    with boa.reverts("committee: signers already recorded"):  # once: nobody re-picks the reports
        committee.record_signers(jid, state, 0, scores, sigs, sender=a.outsider.address)
    uid = attester.attest_job(
        jid, state, 0, scores, [o.address for o in honest], sigs, sender=a.outsider.address
    )
    record = decode_job_completed(system.attestations.getAttestation(uid).data)
    assert record[6] == py_median(GOOD) and record[7]  # score, verified
    assert system.badge.minted() == 1


def test_signers_are_recorded_only_for_rounds_paid_without_a_settlement(d, h, a):
    """`record_signers` only for a PAID milestone (approved or claimed) whose round has no
    recorded signers: a committee settlement always ends RESOLVED and stays canonical; an
    open, disputed or undelivered milestone has no result to record."""
    committee = d.committee
    jid = d.job(a.client, a.freelancer, [AMOUNT, AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    quorum = d.oracles[:3]
    scores, sigs = d.sign(jid, 0, list(zip(quorum, GOOD, strict=True)))
    with boa.reverts("committee: milestone not paid after delivery"):  # SUBMITTED
        committee.record_signers(jid, h.state(jid), 0, scores, sigs, sender=a.outsider.address)
    designated_reports = list(zip(d.designated(jid), GOOD, strict=True))
    travel_to(h.job(jid).milestones[0].timestamp + WINDOW + 1)
    with h.rollback():
        d.settle(jid, 0, designated_reports)  # RESOLVED by the designated quorum
        with boa.reverts("committee: milestone not paid after delivery"):
            committee.record_signers(jid, h.state(jid), 0, scores, sigs, sender=a.outsider.address)
    h.approve(a.client, jid, 1, expect=OK)  # paid, never delivered
    travel_to(now() + 3 * WINDOW)
    s1, g1 = d.sign(jid, 1, list(zip(quorum, GOOD, strict=True)))
    with boa.reverts("committee: milestone not paid after delivery"):
        committee.record_signers(jid, h.state(jid), 1, s1, g1, sender=a.outsider.address)
    h.approve(a.client, jid, 0, expect=OK)
    with boa.reverts("committee: signer not in committee"):  # reports of another round
        committee.record_signers(
            jid,
            h.state(jid),
            0,
            *d.sign(jid, 0, list(zip(quorum, GOOD, strict=True)), round_=1),
            sender=a.outsider.address,
        )
    with boa.reverts("committee: duplicate or unsorted signer"):
        committee.record_signers(jid, h.state(jid), 0, scores[::-1], sigs[::-1], sender=a.outsider.address)
    committee.record_signers(jid, h.state(jid), 0, scores, sigs, sender=a.outsider.address)


def test_a_client_with_unopenable_labels_cannot_halve_a_delivered_milestone(d, h, a, escrow, token):
    """Client: registers the evaluation the job commits to, but seals labels the oracles
    cannot open (or that do not open the commitment), so no honest oracle can score and
    no verdict can exist. The freelancer delivers passing work; the client disputes inside
    the challenge window, to reach the escrow's half-each fallback 30 days later and keep
    the deliverable for half its price. A dispute the committee could not judge ends in
    the deliverable's favour before that: a week after any quorum could have settled it
    (dispute + 14 days + W + 7 days), anyone releases it in full to the freelancer, as an
    undisputed submission is released when nobody settles it."""
    committee = d.committee
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)  # sealed_labels is only logged: nothing checks that the oracles can open it
    d.submit(jid, 0)
    h.raise_dispute(a.client, jid, 0, expect=OK)
    td = now()
    opens = td + DISPUTE_PERIOD + WINDOW + 7 * DAY
    assert opens < td + ARBITRATION_TIMEOUT
    travel_to(opens)
    with boa.reverts("committee: verdict still possible"):
        committee.release_unjudged(jid, h.state(jid), 0, sender=a.outsider.address)
    with boa.reverts("escrow: caller is not the arbiter"):  # the client's fallback is further away
        escrow.resolve(jid, h.state(jid), 0, 0, sender=a.client.address)
    travel_to(opens + 1)
    trial = h.model.clone()
    outcome = trial.resolve(str(committee.address), jid, None, 0, AMOUNT)
    committee.release_unjudged(jid, h.state(jid), 0, sender=a.outsider.address)
    logs = committee.get_logs()
    h._check_logs("release_unjudged", logs, outcome, jid, None)
    h.model = trial
    h.check_job(jid)
    assert committee_events(committee, logs) == [
        ("UnjudgedReleased", {"job_id": jid, "milestone": 0, "round": 0})
    ]
    travel_to(td + ARBITRATION_TIMEOUT + 1)
    with boa.reverts("escrow: caller is not the arbiter"):  # no dispute left to time out
        escrow.resolve(jid, h.state(jid), 0, 0, sender=a.client.address)
    assert bal(token, a.freelancer) == NET


def test_a_verdict_comes_first_and_only_disputes_are_released_unjudged(d, h, a):
    """`release_unjudged` is no way around the committee: a submitted (undisputed) milestone
    is not released by it, and a verdict settled by any quorum in the week before the
    release settles the milestone for good (here a failing one: the client is refunded)."""
    committee = d.committee
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    travel_to(now() + 30 * DAY)
    with boa.reverts("committee: milestone not disputed"):
        committee.release_unjudged(jid, h.state(jid), 0, sender=a.freelancer.address)
    jid = d.job(a.client, a.freelancer, [AMOUNT])
    d.register(jid)
    d.submit(jid, 0)
    h.raise_dispute(a.client, jid, 0, expect=OK)
    td = now()
    travel_to(td + DISPUTE_PERIOD + WINDOW + 7 * DAY)  # the last second of any quorum's week
    assert not d.settle(jid, 0, list(zip(d.oracles[1:], BAD, strict=True))).passed
    travel_to(now() + DAY)
    with boa.reverts("committee: milestone not disputed"):
        committee.release_unjudged(jid, h.state(jid), 0, sender=a.freelancer.address)
    assert bal(h.token, a.freelancer) == 0


def test_a_reentrant_token_cannot_settle_a_verdict_twice(h, a, escrow, committee, oracles, accounts):
    """Hostile token whose transfer calls back: during the committee's payout (committee
    -> escrow.resolve -> token.transfer) the token re-enters `committee.settle` with the
    same reports; the committee's lock refuses it and the milestone is paid once."""
    rtoken = deploy(MOCKS / "ReentrantToken.vy")
    dr = _driver(h, committee, oracles, accounts, WINDOW)
    jid = dr.job(a.client, a.freelancer, [AMOUNT], token=rtoken)
    dr.register(jid)
    dr.submit(jid, 0)
    dr.past_window(jid)
    chosen, _ = designated(dr, jid)
    scores, sigs = dr.sign(jid, 0, list(zip(chosen, GOOD, strict=True)))
    state = h.state(jid)
    rtoken.arm(committee.address, committee.settle.prepare_calldata(jid, state, 0, 0, scores, sigs), False)
    committee.settle(jid, state, 0, 0, scores, sigs, sender=a.relayer.address)
    assert rtoken.attempts() == 1 and not rtoken.last_ok()
    assert rtoken.balanceOf(a.freelancer.address) == NET
    assert rtoken.balanceOf(escrow.address) == AMOUNT * FEE_BPS // 10_000


# =========================================================================== competitions

COMPETITION_PATH = REPO / "contracts" / "evaluation" / "Competition.vy"
C_ORACLES = oracle_accounts(4, "competition review oracle")
P = players(4)


@pytest.fixture(scope="module")
def comp_committee():
    return deploy(MOCKS / "CommitteeStub.vy", [o.address for o in C_ORACLES], 3)


@pytest.fixture(scope="module")
def comp(comp_committee):
    return deploy(COMPETITION_PATH, comp_committee.address, ZERO_ADDRESS)


@pytest.fixture
def arena(comp, token, comp_committee, accounts):
    arena = Arena(
        comp, token, comp_committee, accounts.owner.address, accounts.client.address, list(C_ORACLES)
    )
    arena.bankroll(*P)
    return arena


def test_one_entry_cannot_take_two_places(arena, comp, token):
    """The contract documents the winners as distinct, but only refused a repeated entry
    with the same score: one entry listed twice with two scores (an aggregator bug, or a
    signed result someone crafted) took the first two prizes. Each entry wins once."""
    cid, ranking = arena.run([900_000, 800_000, 700_000])
    e0 = ranking[0][0]
    with boa.reverts():
        arena.finalize(cid, ranking, winners=[(e0, 900_000), (e0, 800_000)])
    arena.finalize(cid, ranking)
    assert comp.claimable(token.address, P[0].address) == 5_000 * USD + BOND


def test_a_reveal_period_nobody_can_use_cannot_confiscate_the_bonds_and_the_prize(arena, comp, token, a):
    """Client: a one-second reveal period (on a 12 s chain often no block at all falls
    in it). Nobody can reveal, so every bond is forfeited to the client and, nothing being
    revealed, the client cancels and takes the prize back as well. The contract must
    leave entrants a usable reveal period."""
    try:
        cid = arena.create(reveal_period=1)
    except boa.BoaError as exc:
        assert "competition: bad reveal period" in str(exc)
        cid = arena.create(reveal_period=DAY)  # the shortest accepted: a day
        entries = [arena.commit(P[i], cid) for i in range(3)]
        arena.to_reveal(cid)
        travel_to(arena.deadline(cid) + DAY)  # still revealable in the period's last second
        for e in entries:
            arena.reveal(cid, e)
        return
    entries = [arena.commit(P[i], cid) for i in range(3)]
    arena.to_finalize(cid)  # the reveal second went by in a block nobody could reach
    with boa.reverts("competition: reveal period over"):
        arena.reveal(cid, entries[0])
    refund = comp.cancel_unjudged(cid, sender=a.client.address)
    assert refund == Arena.PRIZE  # the entrants' bonds must not be the client's gain
