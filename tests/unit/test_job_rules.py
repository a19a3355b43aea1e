"""The Python mirror of the escrow's state machine (the contract is the reference; the
integration suite checks the mirror's hash against the chain after every action)."""

from __future__ import annotations

import pytest

from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, NotAllowed

CLIENT = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"
FREELANCER = "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69"
OTHER = "0x1efF47bc3a10a45D4B230B5d10E37751FE6AA718"
DAY = 86_400


def created(amounts: tuple[int, ...] = (100, 200), freelancer: str = FREELANCER) -> J.Job:
    return J.new_job(
        J.JobCreated(
            1, CLIENT, freelancer, OTHER, J.ZERO_ADDRESS, 10 * DAY, 3 * DAY, 250, b"\x01" * 32, amounts
        )
    )


def test_created_job_holds_its_budget() -> None:
    job = created()
    assert job.budget == job.held == 300 and job.paid == 0 and job.status == "active"


def test_payments_refunds_and_cancellation_keep_the_budget() -> None:
    job = created()
    job = J.apply_event(job, J.MilestoneSubmitted(1, 0, b"\x02" * 32, DAY))
    job = J.apply_event(job, J.MilestonePaid(1, 0, 40, 1, J.PaymentReason.PARTIAL))
    assert job.milestones[0].status == J.MilestoneStatus.SUBMITTED and job.milestones[0].amount == 60
    job = J.apply_event(job, J.MilestonePaid(1, 0, 60, 1, J.PaymentReason.APPROVED))
    assert job.milestones[0].status == J.MilestoneStatus.PAID
    job = J.apply_event(job, J.CancelProposed(1, CLIENT, 50))
    job = J.apply_event(job, J.JobCancelled(1, 50, 1, 150))
    assert job.status == "completed"  # one milestone paid, one cancelled
    assert job.budget == 300 and job.paid == 150 and job.refunded == 150 and job.held == 0
    assert job.cancel_proposer == J.ZERO_ADDRESS


def test_revision_moves_the_due_date() -> None:
    job = created()
    job = J.apply_event(job, J.MilestoneSubmitted(1, 0, b"\x02" * 32, 9 * DAY))
    job = J.apply_event(job, J.RevisionRequested(1, 0, J.ZERO_HASH, 9 * DAY + 10))
    assert job.due(0) == 12 * DAY + 10  # a review period after the request, past the deadline
    assert job.due(1) == 10 * DAY
    J.check_submit(job, 0, FREELANCER, 11 * DAY)
    with pytest.raises(NotAllowed, match="deadline"):
        J.check_submit(job, 1, FREELANCER, 11 * DAY)


def test_rules_name_the_reason() -> None:
    job = created()
    with pytest.raises(NotAllowed, match="only the freelancer"):
        J.check_submit(job, 0, OTHER, 0)
    with pytest.raises(NotAllowed, match="only the client"):
        J.check_payable(job, 0, OTHER)
    with pytest.raises(InvalidInput, match="no milestone 3"):
        J.check_payable(job, 2, CLIENT)
    with pytest.raises(NotAllowed, match="only a submitted milestone"):
        J.check_claim(job, 0, 100 * DAY)
    with pytest.raises(NotAllowed, match="nothing in job"):
        J.check_reclaim(job, CLIENT, DAY)
    assert J.reclaimable(job, 10 * DAY + 1) == [0, 1]
    with pytest.raises(InvalidInput, match="exceeds"):
        J.check_cancel(job, CLIENT, 301)


def test_open_job_rules() -> None:
    job = created(freelancer=J.ZERO_ADDRESS)
    assert job.is_open and job.status == "open"
    assert J.reclaimable(job, 0) == [0, 1]  # nobody assigned: the client may take it back at once
    with pytest.raises(NotAllowed, match="cannot apply"):
        J.check_apply(job, CLIENT)
    with pytest.raises(NotAllowed, match="no freelancer"):
        J.check_cancel(job, CLIENT, 0)
    J.check_assign(job, CLIENT)


def submitted(at: int = DAY) -> J.Job:
    return J.apply_event(created(), J.MilestoneSubmitted(1, 0, b"\x02" * 32, at))


def test_time_rules_at_their_exact_boundaries() -> None:
    job = created()
    J.check_submit(job, 0, FREELANCER, 10 * DAY)  # the deadline itself is still in time
    with pytest.raises(NotAllowed, match="deadline"):
        J.check_submit(job, 0, FREELANCER, 10 * DAY + 1)
    assert J.reclaimable(job, 10 * DAY) == []
    assert J.reclaimable(job, 10 * DAY + 1) == [0, 1]
    job = submitted(at=DAY)
    with pytest.raises(NotAllowed, match="still open"):
        J.check_claim(job, 0, DAY + 3 * DAY)  # the last second of the review window
    J.check_claim(job, 0, DAY + 3 * DAY + 1)
    J.check_revision(job, 0, CLIENT, DAY + 3 * DAY)
    with pytest.raises(NotAllowed, match="review window"):
        J.check_revision(job, 0, CLIENT, DAY + 3 * DAY + 1)


ARBITER = "0x4CCeBa2d7D2B4fdcE4304d3e09a1fea9fbEb1528"


def arbitrated() -> J.Job:
    return J.new_job(
        J.JobCreated(1, CLIENT, FREELANCER, OTHER, ARBITER, 10 * DAY, 3 * DAY, 250, b"\x01" * 32, (100, 200))
    )


def test_only_delivered_work_is_disputed_within_the_review_window() -> None:
    job = arbitrated()
    with pytest.raises(NotAllowed, match="only a submitted"):
        J.check_dispute(job, 1, FREELANCER, DAY)  # undelivered: delivered by its due time or reclaimed
    job = J.apply_event(job, J.MilestoneSubmitted(1, 0, b"\x02" * 32, DAY))
    J.check_dispute(job, 0, CLIENT, 4 * DAY)
    with pytest.raises(NotAllowed, match="dispute window"):
        J.check_dispute(job, 0, CLIENT, 4 * DAY + 1)  # past review: the freelancer may claim instead
    with pytest.raises(NotAllowed, match="only the client or freelancer"):
        J.check_dispute(job, 0, OTHER, DAY)
    plain = created()
    plain = J.apply_event(plain, J.MilestoneSubmitted(1, 0, b"\x02" * 32, DAY))
    with pytest.raises(NotAllowed, match="no arbiter"):
        J.check_dispute(plain, 0, CLIENT, DAY)


def test_an_arbiter_s_challenge_window_shortens_disputes_and_revisions() -> None:
    job = J.apply_event(arbitrated(), J.MilestoneSubmitted(1, 0, b"\x02" * 32, DAY))
    assert J.review_window(job, None) == 3 * DAY and J.review_window(job, 600) == 600
    assert J.review_window(job, 10 * DAY) == 3 * DAY  # the shorter of the two
    J.check_dispute(job, 0, FREELANCER, DAY + 600, challenge_window=600)
    J.check_revision(job, 0, CLIENT, DAY + 600, challenge_window=600)
    with pytest.raises(NotAllowed, match="dispute window"):
        J.check_dispute(job, 0, FREELANCER, DAY + 601, challenge_window=600)
    with pytest.raises(NotAllowed, match="review window"):
        J.check_revision(job, 0, CLIENT, DAY + 601, challenge_window=600)
    assert J.deadlines(job, 0, 600) == J.Deadlines(review_until=DAY + 600, claimable_from=4 * DAY + 1)


def test_the_arbiter_resolves_anything_unsettled_anyone_ends_a_dispute_after_30_days() -> None:
    job = J.apply_event(arbitrated(), J.MilestoneSubmitted(1, 0, b"\x02" * 32, DAY))
    with pytest.raises(NotAllowed, match="only the arbiter"):
        J.check_resolve(job, 0, CLIENT, 50, 100 * DAY)  # not disputed: only the arbiter
    with pytest.raises(InvalidInput, match="between 0 and the 100 units"):
        J.check_resolve(job, 0, ARBITER, 101, DAY)
    J.check_resolve(job, 0, ARBITER, 100, DAY)
    disputed = J.apply_event(job, J.DisputeRaised(1, 0, CLIENT, 2 * DAY))
    opens = 2 * DAY + J.ARBITRATION_TIMEOUT + 1
    assert J.fallback_resolvable_at(disputed, 0) == opens and J.fallback_share(disputed, 0) == 50
    assert J.deadlines(disputed, 0, 600, committee_judged=True) == J.Deadlines(
        verdict_from=2 * DAY + J.COMMITTEE_DISPUTE_PERIOD + 1,
        released_from=2 * DAY + J.COMMITTEE_DISPUTE_PERIOD + 600 + J.COMMITTEE_VERDICT_GRACE + 1,
        resolvable_from=opens,
    )
    assert J.deadlines(disputed, 0, 600) == J.Deadlines(resolvable_from=opens)  # not a committee job
    with pytest.raises(NotAllowed, match="waits 30 days for its arbiter"):
        J.check_resolve(disputed, 0, OTHER, 50, opens - 1)  # the last second of the arbiter's time
    J.check_resolve(disputed, 0, OTHER, 50, opens)  # a keeper
    J.check_resolve(disputed, 0, FREELANCER, 50, opens)
    with pytest.raises(InvalidInput, match="in half"):
        J.check_resolve(disputed, 0, CLIENT, 0, opens)
    J.check_resolve(disputed, 0, ARBITER, 0, opens)  # the arbiter may still rule as it likes


@pytest.mark.parametrize("window", [1, 3_600, 7 * DAY])
def test_a_committee_dispute_without_a_verdict_is_released_before_the_half_split(window: int) -> None:
    """OracleCommittee.release_unjudged: strictly after dispute + 14 days + W + 7 days, which is
    before the escrow's 30-day fallback for every allowed window (1 s to 7 days)."""
    submitted = J.apply_event(arbitrated(), J.MilestoneSubmitted(1, 0, b"\x02" * 32, DAY))
    with pytest.raises(NotAllowed, match="only a disputed milestone"):
        J.check_release_unjudged(submitted, 0, 100 * DAY, window)
    assert J.unjudged_releasable_at(submitted, 0, window) is None
    disputed = J.apply_event(submitted, J.DisputeRaised(1, 0, CLIENT, 2 * DAY))
    opens = J.unjudged_releasable_at(disputed, 0, window)
    assert opens == 2 * DAY + 14 * DAY + window + 7 * DAY + 1
    fallback = J.fallback_resolvable_at(disputed, 0)
    assert fallback is not None and opens < fallback
    with pytest.raises(NotAllowed, match="may still get the committee's verdict"):
        J.check_release_unjudged(disputed, 0, opens - 1, window)
    J.check_release_unjudged(disputed, 0, opens, window)


def test_a_disputed_milestone_can_still_be_conceded_by_the_client() -> None:
    disputed = J.apply_event(
        J.apply_event(arbitrated(), J.MilestoneSubmitted(1, 0, b"\x02" * 32, DAY)),
        J.DisputeRaised(1, 0, FREELANCER, 2 * DAY),
    )
    J.check_payable(disputed, 0, CLIENT)
    with pytest.raises(NotAllowed, match="nothing to revise"):
        J.check_revision(disputed, 0, CLIENT, 2 * DAY)


def test_every_payout_voids_a_pending_cancellation_offer() -> None:
    offered = J.apply_event(submitted(), J.CancelProposed(1, CLIENT, 50))
    assert offered.cancel_proposer == CLIENT
    partial = J.apply_event(offered, J.MilestonePaid(1, 0, 10, 0, J.PaymentReason.PARTIAL))
    assert (partial.cancel_proposer, partial.cancel_amount) == (J.ZERO_ADDRESS, 0)
    assert partial.milestones[0].status == J.MilestoneStatus.SUBMITTED  # 90 still held
    resolved = J.apply_event(offered, J.MilestoneResolved(1, 0, 60, 1, 40))
    assert (resolved.cancel_proposer, resolved.cancel_amount) == (J.ZERO_ADDRESS, 0)
    assert resolved.paid == 60 and resolved.refunded == 40
    revised = J.apply_event(offered, J.RevisionRequested(1, 0, J.ZERO_HASH, 2 * DAY))
    assert revised.cancel_proposer == CLIENT  # no money moved: the offer stands


def test_the_arbiter_cannot_apply_and_revisions_are_capped() -> None:
    arbiter = "0x4CCeBa2d7D2B4fdcE4304d3e09a1fea9fbEb1528"
    job = J.new_job(
        J.JobCreated(1, CLIENT, J.ZERO_ADDRESS, OTHER, arbiter, 10 * DAY, 3 * DAY, 0, b"\x01" * 32, (5,))
    )
    with pytest.raises(NotAllowed, match="arbiter cannot apply"):
        J.check_apply(job, arbiter)
    many = J.Job(**{**submitted().__dict__})
    many = J.apply_event(many, J.RevisionRequested(1, 0, J.ZERO_HASH, DAY))
    from dataclasses import replace

    third = replace(
        many, milestones=(replace(many.milestones[0], revisions=2, status=J.MilestoneStatus.SUBMITTED),)
    )
    J.check_revision(third, 0, CLIENT, DAY)
    capped = replace(
        many, milestones=(replace(many.milestones[0], revisions=3, status=J.MilestoneStatus.SUBMITTED),)
    )
    with pytest.raises(NotAllowed, match="maximum of 3"):
        J.check_revision(capped, 0, CLIENT, DAY)
