"""The SDK's job lifecycle on a real EVM; each test runs on the embedded chain and on anvil."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from proofwork.chain.compiler import ContractCompiler
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound, TransactionRejected
from proofwork.domain.job import (
    ARBITRATION_TIMEOUT,
    MAX_REVISIONS,
    ZERO_ADDRESS,
    MilestoneResolved,
    MilestoneStatus,
    fee_of,
)
from tests.integration.conftest import DAY, Market, digest


def balances(m: Market) -> dict[str, int]:
    pw = m.pw
    roles = {"client": m.client, "freelancer": m.freelancer, "other": m.other, "arbiter": m.arbiter}
    out = {name: pw.balance(s.address) for name, s in roles.items()}
    out["escrow"] = pw.ws.token.balance_of(pw.ws.escrow.address)
    out["fees"] = pw.ws.escrow.fees_owed(pw.ws.token.address)
    return out


def test_post_funds_the_escrow_in_one_transaction_with_a_permit(market: Market) -> None:
    before = balances(market)
    out = market.post("1500.50", milestones=2)
    assert [name for name, _ in out.receipts] == ["create+fund"]
    job = out.job
    assert [m.amount for m in job.milestones] == [750_250_000, 750_250_000]
    after = balances(market)
    assert after["client"] == before["client"] - 1_500_500_000
    assert after["escrow"] == before["escrow"] + 1_500_500_000
    assert market.pw.jobs.get(job.job_id) == job


def test_post_with_approve_takes_two_transactions(market: Market) -> None:
    out = market.post("10", milestones=[3_000_000, 7_000_000], funding="approve")
    assert [name for name, _ in out.receipts] == ["approve", "create+fund"]
    assert out.job.budget == 10_000_000


def test_full_lifecycle_approve_then_auto_release(market: Market) -> None:
    pw = market.pw
    before = balances(market)
    job = market.post("1000", milestones=2).job
    pw.jobs.submit(market.freelancer, job.job_id, 0, digest("model v1"))
    pw.jobs.submit(market.freelancer, job.job_id, 1, digest("report v1"))
    out = pw.jobs.approve(market.client, job.job_id, 0)
    assert out.job.milestones[0].status == MilestoneStatus.PAID
    with pytest.raises(NotAllowed, match="review window"):
        pw.jobs.claim(market.freelancer, job.job_id, 1)
    pw.advance_time(3 * DAY + 10)
    done = pw.jobs.claim(market.freelancer, job.job_id, 1).job
    assert done.status == "completed"
    fee = 2 * fee_of(500_000_000, done.fee_bps)
    after = balances(market)
    assert after["freelancer"] - before["freelancer"] == 1_000_000_000 - fee
    assert after["fees"] - before["fees"] == fee
    assert after["escrow"] - before["escrow"] == fee  # only unpaid fees remain


def test_submission_records_hash_and_block_time(market: Market) -> None:
    pw = market.pw
    job = market.post("5").job
    expected_time = pw.now()
    out = pw.jobs.submit(market.freelancer, job.job_id, 0, digest("weights"))
    m = out.job.milestones[0]
    assert m.deliverable == digest("weights")
    assert m.status == MilestoneStatus.SUBMITTED
    assert expected_time <= m.timestamp <= expected_time + 5


def test_revision_then_resubmit_then_partial_and_full_payment(market: Market) -> None:
    pw = market.pw
    job = market.post("100").job
    pw.jobs.submit(market.freelancer, job.job_id, 0, digest("v1"))
    revised = pw.jobs.revise(market.client, job.job_id, 0, digest("please add a model card")).job
    assert revised.milestones[0].status == MilestoneStatus.OPEN
    assert revised.milestones[0].revisions == 1
    pw.jobs.submit(market.freelancer, job.job_id, 0, digest("v2"))
    before = pw.balance(market.freelancer.address)
    part = pw.jobs.pay_partial(market.client, job.job_id, 0, pw.amount("40")).job
    assert part.milestones[0].amount == pw.amount("60")
    assert part.milestones[0].status == MilestoneStatus.SUBMITTED
    rest = pw.jobs.approve(market.client, job.job_id, 0).job
    assert rest.milestones[0].status == MilestoneStatus.PAID
    assert pw.balance(market.freelancer.address) - before == pw.amount("100") - fee_of(
        pw.amount("40"), job.fee_bps
    ) - fee_of(pw.amount("60"), job.fee_bps)


def test_reclaim_after_deadline_returns_undelivered_milestones(market: Market) -> None:
    pw = market.pw
    job = market.post("300", milestones=3, deadline=pw.now() + DAY).job
    pw.jobs.submit(market.freelancer, job.job_id, 0, digest("part one"))
    with pytest.raises(NotAllowed, match="nothing in job"):
        pw.jobs.reclaim(market.client, job.job_id)
    pw.advance_time(DAY + 10)
    with pytest.raises(NotAllowed, match="deadline"):
        pw.jobs.submit(market.freelancer, job.job_id, 1, digest("too late"))
    before = pw.balance(market.client.address)
    out = pw.jobs.reclaim(market.client, job.job_id)
    assert pw.balance(market.client.address) - before == pw.amount("200")
    assert [m.status for m in out.job.milestones] == [
        MilestoneStatus.SUBMITTED,
        MilestoneStatus.REFUNDED,
        MilestoneStatus.REFUNDED,
    ]
    # the submitted milestone still follows its review window
    pw.advance_time(3 * DAY + 10)
    assert pw.jobs.claim(market.other, job.job_id, 0).job.milestones[0].status == MilestoneStatus.PAID


def test_mutual_cancel_with_agreed_split(market: Market) -> None:
    pw = market.pw
    job = market.post("200", milestones=2).job
    offered = pw.jobs.cancel(market.client, job.job_id, pw.amount("50")).job
    assert offered.cancel_proposer == market.client.address
    with pytest.raises(InvalidInput, match="exceeds"):
        pw.jobs.cancel(market.freelancer, job.job_id, pw.amount("500"))
    client_before = pw.balance(market.client.address)
    freelancer_before = pw.balance(market.freelancer.address)
    done = pw.jobs.cancel(market.freelancer, job.job_id, pw.amount("50")).job
    assert done.status == "cancelled"
    assert pw.balance(market.client.address) - client_before == pw.amount("150")
    assert pw.balance(market.freelancer.address) - freelancer_before == pw.amount("50") - fee_of(
        pw.amount("50"), job.fee_bps
    )


def test_open_job_application_assignment_and_gasless_freelancer(market: Market) -> None:
    pw = market.pw
    job = market.post("20", freelancer=None).job
    assert job.is_open
    # the applicant signs; the relayer sends and pays gas
    pw.jobs.apply(market.other, job.job_id, digest("my proposal"), relayer=market.relayer)
    with pytest.raises(NotAllowed, match="has not applied"):
        pw.jobs.assign(market.client, job.job_id, market.arbiter.address)
    assigned = pw.jobs.assign(market.client, job.job_id, market.other.address).job
    assert assigned.freelancer == market.other.address
    out = pw.jobs.submit(market.other, job.job_id, 0, digest("labels.csv"), relayer=market.relayer)
    assert out.job.milestones[0].status == MilestoneStatus.SUBMITTED
    assert out.receipts[0][1].gas_used > 0


def test_arbiter_seam_splits_a_disputed_milestone(market: Market) -> None:
    pw = market.pw
    job = market.post("100", arbiter=market.arbiter.address).job
    pw.jobs.submit(market.freelancer, job.job_id, 0, digest("disputed model"))
    disputed = pw.jobs.dispute(market.client, job.job_id, 0).job
    assert disputed.milestones[0].status == MilestoneStatus.DISPUTED
    with pytest.raises(NotAllowed, match="waits 30 days for its arbiter"):
        pw.jobs.resolve(market.client, job.job_id, 0, 1)
    pw.advance_time(3 * DAY + 10)
    with pytest.raises(NotAllowed, match="disputed"):
        pw.jobs.claim(market.freelancer, job.job_id, 0)  # frozen: no auto-release
    client_before = pw.balance(market.client.address)
    resolved = pw.jobs.resolve(market.arbiter, job.job_id, 0, pw.amount("70")).job
    assert resolved.milestones[0].status == MilestoneStatus.RESOLVED
    assert pw.balance(market.client.address) - client_before == pw.amount("30")


def test_wrong_callers_and_unknown_ids_are_refused_before_sending(market: Market) -> None:
    pw = market.pw
    job = market.post("10").job
    nonce_before = pw.ws.chain.web3.eth.get_transaction_count(market.other.address)
    with pytest.raises(NotAllowed, match="only the freelancer"):
        pw.jobs.submit(market.other, job.job_id, 0, digest("x"))
    with pytest.raises(NotAllowed, match="only the client"):
        pw.jobs.approve(market.other, job.job_id, 0)
    with pytest.raises(InvalidInput, match="no milestone 5"):
        pw.jobs.approve(market.client, job.job_id, 4)
    with pytest.raises(NotFound, match="no job 999999"):
        pw.jobs.get(999_999)
    assert pw.ws.chain.web3.eth.get_transaction_count(market.other.address) == nonce_before


def test_contract_reverts_surface_with_their_reason(market: Market) -> None:
    """Bypass the SDK's pre-checks: the contract itself refuses, and the reason reaches the caller."""
    pw = market.pw
    job = pw.jobs.get(market.post("10").job.job_id)
    with pytest.raises(TransactionRejected, match="escrow: caller is not the client"):
        pw.ws.escrow.approve(market.other.key, job, 0)
    with pytest.raises(TransactionRejected, match="escrow: stale job state"):
        pw.ws.escrow.approve(market.client.key, job.__class__(**{**job.__dict__, "fee_bps": 0}), 0)


def test_insufficient_balance_is_refused_with_nothing_sent(market: Market) -> None:
    pw = market.pw
    before = pw.ws.escrow.job_count()
    with pytest.raises(InvalidInput, match="insufficient balance"):
        pw.jobs.post(
            market.other,
            budget=pw.amount("999999"),
            deadline=pw.now() + DAY,
            review_period=DAY,
            freelancer=market.freelancer.address,
        )
    assert pw.ws.escrow.job_count() == before


def test_list_filters_by_party(market: Market) -> None:
    pw = market.pw
    job = market.post("1", freelancer=market.relayer.address).job
    mine = pw.jobs.list(involving=market.relayer.address)
    assert job.job_id in [j.job_id for j in mine]
    assert all(j.party(market.relayer.address) for j in mine)
    assert job.freelancer != ZERO_ADDRESS


def test_a_payment_voids_a_pending_cancellation_offer(market: Market) -> None:
    pw = market.pw
    job = market.post("200", milestones=2).job
    pw.jobs.cancel(market.client, job.job_id, pw.amount("50"))
    pw.jobs.submit(market.freelancer, job.job_id, 0, digest("half"))
    paid = pw.jobs.approve(market.client, job.job_id, 0).job  # the SDK checks its rebuild against the chain
    assert paid.cancel_proposer == ZERO_ADDRESS and paid.cancel_amount == 0
    # the freelancer's matching call is now a fresh offer, not an acceptance
    again = pw.jobs.cancel(market.freelancer, job.job_id, pw.amount("50"))
    assert again.job.cancel_proposer == market.freelancer.address and again.job.held == pw.amount("100")


def test_the_sdk_notices_when_its_rebuild_disagrees_with_the_chain(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If events went missing (a node serving incomplete logs), the stored hash gives it away."""
    from proofwork.chain.escrow import EscrowContract
    from proofwork.domain.errors import DataDirCorrupted

    pw = market.pw
    job = market.post("3").job
    monkeypatch.setattr(EscrowContract, "decode_receipt", lambda self, receipt: [])
    with pytest.raises(DataDirCorrupted, match="does not match the chain"):
        pw.jobs.submit(market.freelancer, job.job_id, 0, digest("lost event"))


def test_a_transaction_landing_between_the_two_reads_of_a_job_is_not_corruption(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a job takes two reads (its stored hash, then its events); a transaction of another
    process (an oracle daemon settling) may land in between: the SDK reads again instead of calling
    the data corrupted."""
    from proofwork.chain.encoding import job_hash
    from proofwork.chain.escrow import EscrowContract

    pw = market.pw
    posted = market.post("3").job
    submitted = pw.jobs.submit(market.freelancer, posted.job_id, 0, digest("work")).job
    real = EscrowContract.stored_hash
    calls = {"n": 0}

    def first_read_is_older(self: EscrowContract, job_id: int) -> bytes:
        calls["n"] += 1
        return job_hash(posted) if calls["n"] == 1 else real(self, job_id)

    monkeypatch.setattr(EscrowContract, "stored_hash", first_read_is_older)
    assert pw.jobs.get(posted.job_id) == submitted
    assert calls["n"] == 2


def test_a_stale_read_is_retried_once(market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another party's transaction lands between our read and our send: read again and resend."""
    pw = market.pw
    job = market.post("4", milestones=2).job
    real_get = pw.jobs.get
    calls = {"n": 0}

    def get_then_race(job_id: int):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        current = real_get(job_id)
        if calls["n"] == 1:  # the client's cancel offer lands right after our first read
            pw.ws.escrow.cancel(market.client.key, current, 1)
        return current

    monkeypatch.setattr(pw.jobs, "get", get_then_race)
    out = pw.jobs.submit(market.freelancer, job.job_id, 0, digest("on time"))
    assert calls["n"] == 2
    assert out.job.milestones[0].status == MilestoneStatus.SUBMITTED
    assert out.job.cancel_proposer == market.client.address


# --- disputes and revisions are bounded (audit, issue 10) ---------------------------------------------


def test_a_dispute_nobody_rules_on_ends_after_30_days_by_a_keeper(market: Market) -> None:
    """An arbiter that never rules cannot freeze the money: 30 days after the dispute anyone ends it,
    half each (the fee taken from the freelancer's half)."""
    pw = market.pw
    job = market.post("101", arbiter=market.arbiter.address).job
    pw.jobs.submit(market.freelancer, job.job_id, 0, digest("contested work"))
    disputed = pw.jobs.dispute(market.freelancer, job.job_id, 0).job
    opens = disputed.milestones[0].timestamp + ARBITRATION_TIMEOUT + 1
    assert pw.jobs.timing(disputed)[0].resolvable_from == opens
    with pytest.raises(NotAllowed, match="waits 30 days"):
        pw.jobs.resolve(market.other, job.job_id, 0)
    with pytest.raises(TransactionRejected, match="caller is not the arbiter"):  # the contract agrees
        pw.ws.escrow.resolve(market.other.key, disputed, 0, 0)
    pw.advance_time(ARBITRATION_TIMEOUT + 1)
    before = balances(market)
    with pytest.raises(InvalidInput, match="in half"):
        pw.jobs.resolve(market.other, job.job_id, 0, pw.amount("101"))
    out = pw.jobs.resolve(market.other, job.job_id, 0)  # a keeper: neither party nor arbiter
    (event,) = [e for e in out.events if isinstance(e, MilestoneResolved)]
    half = pw.amount("101") // 2
    assert (event.freelancer_gross, event.client_amount) == (half, pw.amount("101") - half)
    assert out.job.milestones[0].status == MilestoneStatus.RESOLVED
    after = balances(market)
    assert after["freelancer"] - before["freelancer"] == half - fee_of(half, job.fee_bps)
    assert after["client"] - before["client"] == pw.amount("101") - half
    assert after["other"] == before["other"]  # the keeper gets nothing


def test_the_timeout_split_is_half_whatever_a_keeper_asks(market: Market) -> None:
    pw = market.pw
    job = market.post("10", arbiter=market.arbiter.address).job
    pw.jobs.submit(market.freelancer, job.job_id, 0, digest("work"))
    pw.jobs.dispute(market.client, job.job_id, 0)
    pw.advance_time(ARBITRATION_TIMEOUT + 1)
    current = pw.jobs.get(job.job_id)
    receipt = pw.ws.escrow.resolve(market.client.key, current, 0, pw.amount("10"))  # asks for it all
    (event,) = [e for e in pw.ws.escrow.decode_receipt(receipt) if isinstance(e, MilestoneResolved)]
    assert event.freelancer_gross == pw.amount("5")


def test_only_delivered_work_can_be_disputed(market: Market) -> None:
    pw = market.pw
    job = market.post("10", milestones=2, arbiter=market.arbiter.address).job
    with pytest.raises(NotAllowed, match="only a submitted"):
        pw.jobs.dispute(market.client, job.job_id, 1)
    with pytest.raises(TransactionRejected, match="milestone not disputable"):
        pw.ws.escrow.raise_dispute(market.client.key, pw.jobs.get(job.job_id), 1)


def test_revisions_are_capped_and_a_disputed_milestone_can_be_conceded(market: Market) -> None:
    pw = market.pw
    job = market.post("30", arbiter=market.arbiter.address).job
    for round_ in range(MAX_REVISIONS):
        pw.jobs.submit(market.freelancer, job.job_id, 0, digest(f"v{round_}"))
        pw.jobs.revise(market.client, job.job_id, 0)
    pw.jobs.submit(market.freelancer, job.job_id, 0, digest("final"))
    with pytest.raises(NotAllowed, match="maximum of 3 revisions"):
        pw.jobs.revise(market.client, job.job_id, 0)
    with pytest.raises(TransactionRejected, match="too many revisions"):
        pw.ws.escrow.request_revision(market.client.key, pw.jobs.get(job.job_id), 0, digest("again"))
    pw.jobs.dispute(market.client, job.job_id, 0)
    paid = pw.jobs.approve(market.client, job.job_id, 0).job  # the client concedes its own dispute
    assert paid.milestones[0].status == MilestoneStatus.PAID and paid.milestones[0].paid == pw.amount("30")


def test_a_contract_arbiter_s_challenge_window_bounds_revisions_and_disputes(market: Market) -> None:
    """Any contract arbiter may declare `challenge_window()`; the SDK reads it as the escrow does."""
    pw = market.pw
    mocks = Path(__file__).resolve().parents[1] / "contracts" / "mocks"
    stub = ContractCompiler(Path(os.environ["PROOFWORK_CACHE_DIR"]), mocks).get("ArbiterStub")
    arbiter = str(pw.ws.chain.deploy(market.operator.key, stub.abi, stub.bytecode, 3600).contract_address)
    job = market.post("10", arbiter=arbiter).job
    assert pw.jobs.challenge_window(job) == 3600
    plain = market.post("10", arbiter=market.arbiter.address).job
    assert pw.jobs.challenge_window(plain) is None  # an account without code declares nothing
    pw.jobs.submit(market.freelancer, job.job_id, 0, digest("work"))
    pw.advance_time(3601)
    with pytest.raises(NotAllowed, match="review window of milestone 1 is over"):
        pw.jobs.revise(market.client, job.job_id, 0)
    with pytest.raises(NotAllowed, match="dispute window"):
        pw.jobs.dispute(market.client, job.job_id, 0)
    current = pw.jobs.get(job.job_id)
    with pytest.raises(TransactionRejected, match="review window over"):
        pw.ws.escrow.request_revision(market.client.key, current, 0, digest("late"))
    with pytest.raises(TransactionRejected, match="dispute window over"):
        pw.ws.escrow.raise_dispute(market.client.key, current, 0)


# --- payouts a token refuses are credited (second review, F6) ----------------------------------------


def _blocklist_token(market: Market):  # type: ignore[no-untyped-def]
    """A USDC-like test token whose `set_blocked(account, True)` makes transfers to it revert."""
    pw = market.pw
    mocks = Path(__file__).resolve().parents[1] / "contracts" / "mocks"
    artifact = ContractCompiler(Path(os.environ["PROOFWORK_CACHE_DIR"]), mocks).get("BlocklistToken")
    address = pw.ws.chain.deploy(market.operator.key, artifact.abi, artifact.bytecode).contract_address
    return pw.ws.chain.contract(artifact.abi, address)


def test_a_payout_the_token_refuses_is_credited_and_withdrawn_later(market: Market) -> None:
    """A blocklisted freelancer: the client's approval still goes through and the freelancer's pay
    is credited (the job is settled, nothing frozen); the freelancer pulls it once unblocked."""
    pw, chain = market.pw, market.pw.ws.chain
    token = _blocklist_token(market)
    amount = pw.amount("100")
    chain.transact(market.client.key, token.functions.mint(market.client.address, amount))
    chain.transact(market.client.key, token.functions.approve(pw.ws.escrow.address, amount))
    receipt = pw.ws.escrow.create_job(
        market.client.key,
        token.address,
        market.freelancer.address,
        [amount],
        pw.now() + 7 * DAY,
        3 * DAY,
        digest("spec"),
        ZERO_ADDRESS,
    )
    job_id = pw.ws.escrow.decode_receipt(receipt)[0].job_id
    pw.jobs.submit(market.freelancer, job_id, 0, digest("work"))
    chain.transact(market.operator.key, token.functions.set_blocked(market.freelancer.address, True))
    out = pw.jobs.approve(market.client, job_id, 0)
    net = amount - fee_of(amount, out.job.fee_bps)
    assert out.job.milestones[0].status == MilestoneStatus.PAID
    assert [(t.lower(), a, v) for t, a, v in out.credited] == [
        (token.address.lower(), market.freelancer.address, net)
    ]
    assert pw.jobs.claimable(market.freelancer.address, token.address) == net
    assert pw.jobs.credits_of(out.job)["freelancer"] == (market.freelancer.address, net)  # the job's token
    with pytest.raises(TransactionRejected, match="blocklist: account blocked"):
        pw.jobs.withdraw(market.freelancer, token.address)
    assert pw.jobs.claimable(market.freelancer.address, token.address) == net  # kept
    chain.transact(market.operator.key, token.functions.set_blocked(market.freelancer.address, False))
    done = pw.jobs.withdraw(market.freelancer, token.address)
    assert (done.amount, done.account) == (net, market.freelancer.address)
    assert int(chain.call(token.functions.balanceOf(market.freelancer.address))) == net
    assert pw.jobs.claimable(market.freelancer.address, token.address) == 0
    with pytest.raises(NotAllowed, match="holds nothing"):
        pw.jobs.withdraw(market.freelancer, token.address)
    with pytest.raises(InvalidInput, match="token"):
        pw.jobs.withdraw(market.freelancer, "0x1234")


def test_every_test_starts_from_the_deployment(market: Market) -> None:
    """`market` rolls each test back (a chain snapshot): the jobs and payments of the tests above are gone."""
    pw = market.pw
    assert pw.ws.escrow.job_count() == 0
    assert pw.balance(market.client.address) == pw.amount("1000000")
    assert pw.ws.escrow.fees_owed(pw.ws.token.address) == 0
