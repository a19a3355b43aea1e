"""Tests for defects found in contracts/escrow/JobEscrow.vy while writing this suite.

They failed against the first version of the contract and pass since the fixes:
an applicant or assignee can no longer be the zero address, and any payment out of
a job's escrow voids a pending cancellation offer. They use direct calls, not the
reference model in escrow_model.py (which mirrors the fixed contract).
"""

import boa
from escrow_harness import DAY, OK
from escrow_model import ZERO_ADDRESS

USD = 10**6
PROPOSAL = b"\x12" * 32


def test_apply_with_sig_rejects_the_zero_applicant(h, accounts, escrow):
    """Finding 1: `apply_with_sig` accepts applicant = 0x0 with an empty signature.

    snekmate's `ecdsa._recover_sig` returns empty(address) for a signature that is
    neither 64 nor 65 bytes long, so `_is_valid_signature_now(empty(address), digest, b"")`
    is True. Anyone can then record an application by the zero address on any open
    job that has an arbiter (emitting `Applied(applicant=0x0)`), and the client can
    `assign` 0x0: a `FreelancerAssigned(freelancer=0x0)` event for a job that stays
    open, which an event-sourced rebuild (the SDK) cannot tell from a real assignment.
    """
    a = accounts
    jid = h.create_job(a.client, [100 * USD], arbiter=a.arbiter, expect=OK)
    with boa.reverts():
        escrow.apply_with_sig(jid, h.state(jid), ZERO_ADDRESS, PROPOSAL, b"", sender=a.outsider.address)
    assert not escrow.applied(jid, ZERO_ADDRESS)


def test_pending_cancel_offer_does_not_survive_a_payment(h, accounts, escrow, token):
    """Finding 2: a cancellation offer outlives payments that change what is in escrow.

    `reclaim` voids a pending offer (cancel_proposer/cancel_amount are cleared), but
    `approve`, `pay_partial`, `claim` (all via `_pay`) and `resolve` do not. An offer
    "the freelancer gets X of what is in escrow, the client the rest" made by the
    client can then be accepted after the freelancer has been paid from that same
    escrow: the freelancer is paid twice from the pot the offer was about.

    Here the client offers 500 of the 2,000 in escrow (expecting 1,500 back); the
    freelancer lets the review window of the delivered milestone run out, claims its
    1,000, then accepts the stale offer: the client gets 500 back instead of 1,500.
    """
    a = accounts
    jid = h.create_job(a.client, [1_000 * USD, 1_000 * USD], freelancer=a.freelancer, expect=OK)
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.cancel(a.client, jid, 500 * USD, expect=OK)  # offer: freelancer 500, client 1,500
    boa.env.time_travel(seconds=DAY + 1)
    h.claim(a.freelancer, jid, 0, expect=OK)  # 1,000 leaves the escrow for the freelancer
    assert h.job(jid).cancel_proposer == ZERO_ADDRESS  # the payment voided the offer
    # The freelancer's matching call must not settle the job on the stale offer
    # (it should be a fresh proposal, answered by the client's own choice).
    escrow.cancel(jid, h.state(jid), 500 * USD, sender=a.freelancer.address)
    names = [type(e).__name__ for e in escrow.get_logs() if e.address == escrow.address]
    assert names == ["CancelProposed"], f"stale offer accepted: {names}"
    assert token.balanceOf(a.client.address) == 0
    assert token.balanceOf(escrow.address) >= 1_000 * USD
