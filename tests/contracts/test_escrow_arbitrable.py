"""EscrowArbitrable with a real JobEscrow and the test CentralizedArbitrator (partial suite)."""

from __future__ import annotations

from pathlib import Path

import boa
import pytest
from court_fixtures import partial, pin_clock
from escrow_harness import DAY, OK
from eth_utils import keccak, to_checksum_address

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "contracts" / "court" / "EscrowArbitrable.vy"
ARBITRATOR = Path(__file__).resolve().parent / "mocks" / "CentralizedArbitrator.vy"
# Used by no other test module (see committee_fixtures.COMMITTEE_DEPLOYER).
ADAPTER_DEPLOYER = to_checksum_address(keccak(b"proofwork court adapter deployer")[12:])
BASE_FEE, FEE_BPS, APPEAL_FEE, FEE_TIMEOUT = 1_000, 100, 5_000, 3 * DAY
AMOUNT = 100_000


@pytest.fixture(scope="module")
def court(escrow, token):
    with boa.env.prank(ADAPTER_DEPLOYER):
        arb = partial(ARBITRATOR).deploy(token.address, BASE_FEE, FEE_BPS, APPEAL_FEE, 0)
        adapter = partial(ADAPTER).deploy(escrow.address, arb.address, 3, FEE_TIMEOUT)
    return arb, adapter


def disputed(h, accounts, adapter):
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = h.create_job(c, [AMOUNT], freelancer=f, arbiter=adapter.address, expect=OK)
    h.submit(f, job_id, 0, expect=OK)
    h.raise_dispute(f, job_id, 0, expect=OK)
    for who in (c, f):
        h.token.mint(who, 10**6, sender=h.model.owner)
        h.token.approve(adapter.address, 2**255, sender=who)
    return job_id


def resolve_via(h, adapter, job_id, share, call):
    trial = h.model.clone()
    outcome = trial.resolve(str(adapter.address), job_id, None, 0, share)
    call()
    h._check_logs("adapter", adapter.get_logs(), outcome, job_id, None)
    h.model = trial
    h.check_job(job_id)
    return outcome


@pytest.mark.parametrize("ruling,bps", [(0, 5000), (1, 10000), (2, 0), (3, 7500), (4, 5000), (5, 2500)])
def test_ruling_executes_share(h, court, accounts, token, ruling, bps):
    arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = disputed(h, accounts, adapter)
    cost = BASE_FEE + AMOUNT * FEE_BPS // 10_000
    before = {w: token.balanceOf(w) for w in (c, f)}
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    assert token.balanceOf(arb.address) == cost and token.balanceOf(adapter.address) == cost
    d = adapter.cases(case).dispute_id
    assert adapter.case_of_dispute(d) == case and adapter.case_of(job_id, 0) == case
    with boa.reverts("adapter: no ruling yet"):
        adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address)
    with boa.reverts("adapter: caller is not the arbitrator"):
        adapter.rule(d, ruling, sender=c)
    arb.give_ruling(d, ruling, sender=ADAPTER_DEPLOYER)
    share = AMOUNT * bps // 10_000
    resolve_via(
        h,
        adapter,
        job_id,
        share,
        lambda: adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address),
    )
    fee = share * 250 // 10_000
    to_f = cost * bps // 10_000
    assert token.balanceOf(f) - before[f] == share - fee - cost + to_f
    assert token.balanceOf(c) - before[c] == AMOUNT - share - cost + (cost - to_f)
    assert token.balanceOf(adapter.address) == 0
    with boa.reverts("adapter: case closed"):
        adapter.execute_ruling(case, h.state(job_id))


def test_default_when_fee_unpaid(h, court, accounts, token):
    _arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = disputed(h, accounts, adapter)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    with boa.reverts("adapter: fee timeout not over"):
        adapter.timeout_by_default(case, h.state(job_id))
    boa.env.time_travel(seconds=FEE_TIMEOUT + 1)
    with boa.reverts("adapter: fee timeout passed"):
        adapter.pay_fee(case, h.state(job_id), sender=c)
    fb = token.balanceOf(f)
    resolve_via(
        h,
        adapter,
        job_id,
        AMOUNT,
        lambda: adapter.timeout_by_default(case, h.state(job_id), sender=accounts.outsider.address),
    )
    assert token.balanceOf(f) - fb == AMOUNT - AMOUNT * 250 // 10_000 + BASE_FEE + AMOUNT * FEE_BPS // 10_000
    assert token.balanceOf(adapter.address) == 0


def test_settlement_before_dispute(h, court, accounts, token):
    arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = disputed(h, accounts, adapter)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=c)
    adapter.propose_settlement(case, 6000, sender=f)
    with boa.reverts("adapter: own settlement offer"):
        adapter.accept_settlement(case, h.state(job_id), 6000, sender=f)
    with boa.reverts("adapter: settlement differs"):
        adapter.accept_settlement(case, h.state(job_id), 5000, sender=c)
    resolve_via(
        h, adapter, job_id, 60_000, lambda: adapter.accept_settlement(case, h.state(job_id), 6000, sender=c)
    )
    assert token.balanceOf(adapter.address) == 0 and token.balanceOf(arb.address) == 0


def test_escrow_fallback_against_silent_arbitrator(h, court, accounts, token):
    arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = disputed(h, accounts, adapter)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    boa.env.time_travel(seconds=30 * DAY + 1)
    h.resolve(accounts.outsider.address, job_id, 0, 0, expect=OK)
    adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address)
    assert token.balanceOf(adapter.address) == 0
    d = adapter.cases(case).dispute_id
    arb.give_ruling(d, 1, sender=ADAPTER_DEPLOYER)  # late ruling recorded, nothing moves
    assert adapter.cases(case).ruled


def test_bad_inputs(h, court, accounts):
    _arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = h.create_job(c, [AMOUNT, AMOUNT], freelancer=f, arbiter=adapter.address, expect=OK)
    with boa.reverts("adapter: milestone not disputed"):
        adapter.open_case(job_id, h.state(job_id), 0, "u", sender=c)
    with boa.reverts("adapter: no such milestone"):
        adapter.open_case(job_id, h.state(job_id), 5, "u", sender=c)
    with boa.reverts("adapter: unknown job"):
        adapter.open_case(999, h.state(job_id), 0, "u", sender=c)
    h.submit(f, job_id, 0, expect=OK)
    h.approve(c, job_id, 0, expect=OK)
    with boa.reverts("adapter: milestone settled"):
        adapter.open_case(job_id, h.state(job_id), 0, "u", sender=c)
    h.submit(f, job_id, 1, expect=OK)
    h.raise_dispute(c, job_id, 1, expect=OK)
    with boa.reverts("adapter: caller is not a party"):
        adapter.open_case(job_id, h.state(job_id), 1, "u", sender=accounts.outsider.address)
    with boa.reverts("adapter: unknown case"):
        adapter.pay_fee(42, h.state(job_id), sender=c)


def test_appeal_flips_ruling(h, escrow, token, accounts):
    c, f = accounts.client.address, accounts.freelancer.address
    with boa.env.prank(ADAPTER_DEPLOYER):
        arb = partial(ARBITRATOR).deploy(token.address, BASE_FEE, FEE_BPS, APPEAL_FEE, DAY)
        adapter = partial(ADAPTER).deploy(escrow.address, arb.address, 3, FEE_TIMEOUT)
    job_id = disputed(h, accounts, adapter)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    d = adapter.cases(case).dispute_id
    with boa.reverts("adapter: not appealable"):
        adapter.appeal(case, sender=f)
    arb.give_ruling(d, 2, sender=ADAPTER_DEPLOYER)  # client wins, appealable for a day
    with boa.reverts("adapter: caller is not a party"):
        adapter.appeal(case, sender=accounts.outsider.address)
    held = token.balanceOf(arb.address)
    adapter.appeal(case, sender=f)
    assert token.balanceOf(arb.address) == held + APPEAL_FEE
    arb.give_ruling(d, 1, sender=ADAPTER_DEPLOYER)
    boa.env.time_travel(seconds=DAY)
    with boa.reverts("adapter: appeal period over"):
        adapter.appeal(case, sender=c)
    arb.execute(d)
    assert adapter.cases(case).ruling == 1
    resolve_via(
        h,
        adapter,
        job_id,
        AMOUNT,
        lambda: adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address),
    )
    assert token.balanceOf(adapter.address) == 0


# ---------------------------------------------------------------- stateful machine
from collections import Counter  # noqa: E402

from escrow_harness import EscrowHarness  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test  # noqa: E402

STATS: Counter = Counter()  # outcomes reached by the machine, checked after the run


class AdapterMachine(RuleBasedStateMachine):
    def __init__(self, escrow, token, arb, adapter, accounts):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.a, self.token, self.arb, self.adapter = accounts, token, arb, adapter
        self.h = EscrowHarness(escrow, token, accounts.owner.address)
        self.cases: list[int] = []
        self.executed: set[int] = set()
        self.holders = [
            escrow.address,
            adapter.address,
            arb.address,
            accounts.client.address,
            accounts.freelancer.address,
            accounts.treasury.address,
        ]
        self.total = sum(token.balanceOf(x) for x in self.holders)

    def teardown(self):
        # every open case ends through timeouts alone
        boa.env.time_travel(seconds=31 * DAY)
        for case in self.cases:
            cs = self.adapter.cases(case)
            job_id = cs.job_id
            STATS[f"end status {cs.status}"] += 1
            if cs.status in (1, 2):
                self.adapter.timeout_by_default(case, self.h.state(job_id))
            elif cs.status == 3:
                self.h.resolve(self.a.outsider.address, job_id, 0, 0, expect=OK)
                self.adapter.execute_ruling(case, self.h.state(job_id))
            elif cs.status == 4:
                self.adapter.execute_ruling(case, self.h.state(job_id))
            self._sync(job_id)
            assert self.adapter.cases(case).status == 5
        assert self.token.balanceOf(self.adapter.address) == 0
        self._anchor.__exit__(None, None, None)

    def _sync(self, job_id):
        """Mirrors an adapter-made resolve in the escrow model: the escrow hash must be explained by one of the shares."""
        if self.h.escrow.job_state(job_id) != self.h.model.jobs[job_id].hash():
            m = self.h.model.jobs[job_id].milestones[0]
            for bps in (10000, 7500, 5000, 2500, 0, 6000):
                trial = self.h.model.clone()
                trial.resolve(str(self.adapter.address), job_id, None, 0, m.amount * bps // 10_000)
                if trial.jobs[job_id].hash() == self.h.escrow.job_state(job_id):
                    self.h.model = trial
                    return
            raise AssertionError("escrow state not explained by an adapter resolve")

    @rule(by_client=st.booleans(), amount=st.integers(1_000, 10**7))
    def open(self, by_client, amount):
        c, f = self.a.client.address, self.a.freelancer.address
        job_id = self.h.create_job(c, [amount], freelancer=f, arbiter=self.adapter.address, expect=OK)
        self.total += amount
        self.h.submit(f, job_id, 0, expect=OK)
        self.h.raise_dispute(f, job_id, 0, expect=OK)
        for who in (c, f):
            self.token.mint(who, 10**8, sender=self.h.model.owner)
            self.token.approve(self.adapter.address, 2**255, sender=who)
        self.total += 2 * 10**8
        self.cases.append(
            self.adapter.open_case(job_id, self.h.state(job_id), 0, "u", sender=c if by_client else f)
        )

    @rule(
        by_client=st.booleans(),
        amount=st.integers(1_000, 10**7),
        ruling=st.integers(0, 5),
        until=st.sampled_from(["disputed", "ruled", "executed"]),
    )
    def whole_case(self, by_client, amount, ruling, until):
        """A case run at once up to `until` (open, both fees, then the ruling and its execution) among
        the other rules' single steps, so that every run reaches each end whatever mix they draw."""
        self.open(by_client, amount)
        case = self.cases[-1]
        self.pay(len(self.cases) - 1, True)
        cs = self.adapter.cases(case)
        assert cs.status == 3, cs
        if until != "disputed":
            self.arb.give_ruling(cs.dispute_id, ruling, sender=ADAPTER_DEPLOYER)
        if until == "executed":
            self._execute(case)

    @rule(i=st.integers(0, 30), both=st.booleans())
    def pay(self, i, both):
        """The party due pays its fee; with `both`, the other one at once too (the dispute is created)."""
        if not self.cases:
            return
        case = self.cases[i % len(self.cases)]
        for _ in range(2 if both else 1):
            cs = self.adapter.cases(case)
            if cs.status in (1, 2) and boa.env.timestamp <= cs.fee_deadline:
                payer = cs.client if cs.status == 1 else cs.freelancer
                self.adapter.pay_fee(case, self.h.state(cs.job_id), sender=payer)
                STATS["pay"] += 1

    @rule(i=st.integers(0, 30), ruling=st.integers(0, 5), then_execute=st.booleans())
    def give_ruling(self, i, ruling, then_execute):
        if not self.cases:
            return
        case = self.cases[i % len(self.cases)]
        cs = self.adapter.cases(case)
        if cs.status == 3 and not cs.ruled:
            self.arb.give_ruling(cs.dispute_id, ruling, sender=ADAPTER_DEPLOYER)
            if then_execute:
                self._execute(case)

    @rule(i=st.integers(0, 30))
    def execute(self, i):
        if self.cases:
            self._execute(self.cases[i % len(self.cases)])

    def _execute(self, case):
        cs = self.adapter.cases(case)
        if cs.status == 4:
            assert case not in self.executed
            self.adapter.execute_ruling(case, self.h.state(cs.job_id))
            self.executed.add(case)
            STATS["execute"] += 1
            self._sync(cs.job_id)
            with boa.reverts("adapter: case closed"):
                self.adapter.execute_ruling(case, self.h.state(cs.job_id))

    @rule(i=st.integers(0, 30), bps=st.integers(0, 10_000))
    def settle(self, i, bps):
        if not self.cases:
            return
        case = self.cases[i % len(self.cases)]
        cs = self.adapter.cases(case)
        if cs.status in (1, 2):
            self.adapter.propose_settlement(case, bps, sender=cs.client)
            self.adapter.accept_settlement(case, self.h.state(cs.job_id), bps, sender=cs.freelancer)
            trial = self.h.model.clone()
            trial.resolve(
                str(self.adapter.address),
                cs.job_id,
                None,
                0,
                self.h.model.jobs[cs.job_id].milestones[0].amount * bps // 10_000,
            )
            self.h.model = trial
            self.h.check_job(cs.job_id)
            STATS["settle"] += 1

    @rule(seconds=st.sampled_from([DAY, 4 * DAY]))
    def wait(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @invariant()
    def conserved(self):
        assert sum(self.token.balanceOf(x) for x in self.holders) == self.total


def test_adapter_machine(escrow_deployer, stable_deployer, accounts):
    STATS.clear()
    with boa.swap_env(boa.Env()):
        pin_clock()
        with boa.env.prank(accounts.owner.address):
            token = stable_deployer.deploy("Proofwork Test USD", "pUSD")
            escrow = escrow_deployer.deploy(accounts.treasury.address, 250)
        with boa.env.prank(ADAPTER_DEPLOYER):
            arb = partial(ARBITRATOR).deploy(token.address, BASE_FEE, FEE_BPS, APPEAL_FEE, 0)
            adapter = partial(ADAPTER).deploy(escrow.address, arb.address, 3, FEE_TIMEOUT)
        run_state_machine_as_test(
            lambda: AdapterMachine(escrow, token, arb, adapter, accounts),
            settings=settings(
                max_examples=25,
                stateful_step_count=15,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    print("coverage:", sorted(STATS.items()))
    for outcome in ("pay", "execute", "settle", "end status 1", "end status 2", "end status 3"):
        assert STATS[outcome] > 0, (outcome, STATS)
