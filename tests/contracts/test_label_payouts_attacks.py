"""Attacks on contracts/labeling/LabelPayouts.vy: forged and replayed roots (another campaign,
chain, contract, round or spec), roots without a quorum or with a repeated signer, claims above
the cumulative amount, replayed or cross-campaign claims, a token that re-enters, a client closing
early to take owed funds, and a minority of oracles. Each attack must revert and move no money,
or end in the documented outcome."""

from __future__ import annotations

import boa
import pytest
from escrow_harness import new_account
from label_payouts_fixtures import (
    DAY,
    ORACLES,
    SPEC,
    USD,
    WINDOW,
    Campaigns,
    Tree,
    deploy_committee,
    labelers,
    root_message,
    sign,
    travel_to,
)

L = labelers(4, "attacked labeler")
OUTSIDERS = [new_account(f"not an oracle {i}") for i in range(3)]


@pytest.fixture(scope="module")
def committee(escrow):
    return deploy_committee(escrow)


def held(cp) -> int:
    return cp.token.balanceOf(cp.payouts.address)


# --------------------------------------------------------------------------- roots


def _post_raw(cp, cid, round_, tree, sigs, total=None):
    cp.payouts.post_root(cid, round_, tree.root, tree.total if total is None else total, sigs)


def test_a_root_signed_by_outsiders_is_refused(cp):
    cid = cp.create()
    tree = Tree({L[0]: 900 * USD})
    with boa.reverts("quorum: signer is not an oracle"):
        _post_raw(cp, cid, 1, tree, sign(OUTSIDERS, root_message(cp.payouts, cid, 1, tree.root, tree.total)))
    # two oracles and one outsider: still no quorum of members
    signers = [*ORACLES[:2], OUTSIDERS[0]]
    with boa.reverts("quorum: signer is not an oracle"):
        _post_raw(cp, cid, 1, tree, sign(signers, root_message(cp.payouts, cid, 1, tree.root, tree.total)))
    assert cp.payouts.campaign(cid).pending_root == bytes(32)


def test_a_minority_of_oracles_cannot_post_a_root(cp):
    cid = cp.create()
    tree = Tree({L[0]: 900 * USD})
    with boa.reverts("quorum: too few signatures"):
        _post_raw(
            cp, cid, 1, tree, sign(ORACLES[:2], root_message(cp.payouts, cid, 1, tree.root, tree.total))
        )
    with boa.reverts("quorum: too few signatures"):
        _post_raw(cp, cid, 1, tree, [])


def test_a_repeated_or_unsorted_signer_does_not_count_twice(cp):
    cid = cp.create()
    tree = Tree({L[0]: 900 * USD})
    message = root_message(cp.payouts, cid, 1, tree.root, tree.total)
    two = sign(ORACLES[:2], message)
    with boa.reverts("quorum: signers not strictly ascending"):
        _post_raw(cp, cid, 1, tree, [two[0], two[1], two[1]])
    with boa.reverts("quorum: signers not strictly ascending"):
        _post_raw(cp, cid, 1, tree, sign(ORACLES[:3], message, ascending=False))
    with boa.reverts("ecdsa: invalid signature"):  # a malformed signature recovers nobody
        _post_raw(cp, cid, 1, tree, [b"\x00" * 65, *two])
    with boa.reverts("quorum: signer is not an oracle"):  # a short one recovers the zero address
        _post_raw(cp, cid, 1, tree, [b"\x01" * 10, *two])


@pytest.mark.parametrize("field", ["campaign", "chain", "contract", "round", "total", "spec", "root"])
def test_a_root_signed_for_something_else_is_refused(cp, field):
    cid = cp.create()
    other = cp.create()
    tree = Tree({L[0]: 10 * USD})
    args = {
        "contract": cp.payouts,
        "cid": cid,
        "round": 1,
        "root": tree.root,
        "total": tree.total,
        "spec": SPEC,
    }
    if field == "campaign":
        args["cid"] = other
    elif field == "contract":
        args["contract"] = new_account("another deployment").address
    elif field == "round":
        args["round"] = 2
    elif field == "total":
        args["total"] = tree.total + 1
    elif field == "spec":
        args["spec"] = b"\x07" * 32
    elif field == "root":
        args["root"] = Tree({L[0]: 11 * USD}).root
    message = root_message(
        args["contract"], args["cid"], args["round"], args["root"], args["total"], args["spec"]
    )
    if field == "chain":
        message["domain"]["chainId"] = message["domain"]["chainId"] + 1
    sigs = sign(ORACLES[:3], message)
    with boa.reverts("quorum: signer is not an oracle"):  # the digest differs: it recovers strangers
        _post_raw(cp, cid, 1, tree, sigs)
    assert cp.payouts.campaign(cid).last_round == 0


def test_a_root_cannot_be_replayed_in_its_own_or_another_campaign(cp):
    cid, other = cp.create(), cp.create()
    tree = Tree({L[0]: 10 * USD})
    sigs = cp.signatures(cid, 1, tree.root, tree.total)
    _post_raw(cp, cid, 1, tree, sigs)
    with boa.reverts("payouts: round not after the last one"):
        _post_raw(cp, cid, 1, tree, sigs)
    with boa.reverts("quorum: signer is not an oracle"):
        _post_raw(cp, other, 1, tree, sigs)
    with boa.reverts("quorum: signer is not an oracle"):  # the same signatures under a later round
        _post_raw(cp, cid, 2, tree, sigs)


def test_a_committee_of_another_campaign_cannot_sign(cp, payouts, token, escrow, accounts):
    rogue = deploy_committee(escrow, [*OUTSIDERS, new_account("not an oracle 3")], f=1)
    cid = cp.create()
    tree = Tree({L[0]: 900 * USD})
    sigs = sign(OUTSIDERS, root_message(payouts, cid, 1, tree.root, tree.total))
    assert rogue.is_oracle(OUTSIDERS[0].address)
    with boa.reverts("quorum: signer is not an oracle"):
        _post_raw(cp, cid, 1, tree, sigs)


def test_a_minority_oracle_cannot_stall_payouts_with_challenges(cp, token):
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD})
    # one faulty oracle challenges once; the next root stands
    cp.post(cid, 1, tree)
    cp.payouts.challenge(cid, sender=ORACLES[0].address)
    cp.post(cid, 2, tree)
    with boa.reverts("payouts: already challenged once"):
        cp.payouts.challenge(cid, sender=ORACLES[0].address)
    boa.env.time_travel(seconds=WINDOW)
    assert cp.claim(cid, tree, L[0]) == 10 * USD


def test_every_challenger_used_up_means_roots_stand(cp, accounts):
    # at most n + 1 drops: after the client and all four oracles challenged, a root cannot be dropped
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD})
    for round_, who in enumerate([accounts.client, *ORACLES], start=1):
        cp.post(cid, round_, tree)
        cp.payouts.challenge(cid, sender=who.address)
    cp.post(cid, 6, tree)
    for who in [accounts.client, *ORACLES]:
        with boa.reverts("payouts: already challenged once"):
            cp.payouts.challenge(cid, sender=who.address)
    boa.env.time_travel(seconds=WINDOW)
    assert cp.claim(cid, tree, L[0]) == 10 * USD


# --------------------------------------------------------------------------- claims


def test_a_claim_above_the_cumulative_amount_reverts(cp, token):
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD, L[1]: 5 * USD})
    cp.post_and_wait(cid, 1, tree)
    before = held(cp)
    with boa.reverts("payouts: invalid proof"):
        cp.payouts.claim(cid, L[0], 10 * USD + 1, tree.proof(L[0]))
    with boa.reverts("payouts: invalid proof"):  # another labeler's proof
        cp.payouts.claim(cid, L[0], 10 * USD, tree.proof(L[1]))
    with boa.reverts("payouts: invalid proof"):  # someone else's leaf claimed for an outsider
        cp.payouts.claim(cid, L[2], 10 * USD, tree.proof(L[0]))
    with boa.reverts("payouts: zero labeler"):
        cp.payouts.claim(cid, "0x" + "00" * 20, 0, [])
    assert held(cp) == before and token.balanceOf(L[0]) == 0


def test_a_replayed_claim_pays_nothing(cp, token):
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD, L[1]: 5 * USD})
    cp.post_and_wait(cid, 1, tree)
    cp.claim(cid, tree, L[0])
    with boa.reverts("payouts: nothing to claim"):
        cp.claim(cid, tree, L[0])
    # the same labeler twice in a batch is paid once (the repeat owes nothing and is skipped)
    assert cp.claim_many(cid, tree, [L[1], L[1]]) == 5 * USD
    assert cp.claim_many(cid, tree, [L[0], L[1]]) == 0
    assert token.balanceOf(L[0]) == 10 * USD and token.balanceOf(L[1]) == 5 * USD


def test_a_proof_of_another_campaign_does_not_pay(cp, token):
    cid, other = cp.create(), cp.create()
    rich = Tree({L[0]: 900 * USD})
    cp.post_and_wait(other, 1, rich)
    cp.post_and_wait(cid, 1, Tree({L[0]: USD, L[1]: USD}))
    with boa.reverts("payouts: invalid proof"):
        cp.payouts.claim(cid, L[0], 900 * USD, rich.proof(L[0]))


def test_an_earlier_root_proof_does_not_pay_after_a_later_root(cp, token):
    # the superseded root's leaf (a larger amount for L[1]) no longer proves anything
    cid = cp.create()
    r1 = Tree({L[0]: USD, L[1]: 50 * USD})
    r2 = Tree({L[0]: 60 * USD, L[1]: 40 * USD})
    cp.post_and_wait(cid, 1, r1)
    cp.post_and_wait(cid, 2, r2)
    with boa.reverts("payouts: invalid proof"):
        cp.payouts.claim(cid, L[1], 50 * USD, r1.proof(L[1]))
    assert cp.claim(cid, r2, L[1]) == 40 * USD


# --------------------------------------------------------------------------- the client


def test_the_client_cannot_close_early_or_take_owed_funds(cp, token, accounts):
    client = accounts.client.address
    cid = cp.create(100 * USD, duration=10 * DAY)
    tree = Tree({L[0]: 60 * USD, L[1]: 30 * USD})
    cp.post_and_wait(cid, 1, tree)
    with boa.reverts("payouts: close time not reached"):
        cp.payouts.close(cid, sender=client)
    with boa.reverts("payouts: campaign not closed"):
        cp.payouts.sweep(cid, sender=client)
    travel_to(cp.payouts.campaign(cid).close_time)
    before = token.balanceOf(client)
    cp.payouts.close(cid, sender=client)
    assert token.balanceOf(client) - before == 10 * USD  # only what the root does not owe
    with boa.reverts("payouts: claim period not over"):
        cp.payouts.sweep(cid, sender=client)
    assert cp.claim(cid, tree, L[0]) == 60 * USD
    assert cp.claim(cid, tree, L[1]) == 30 * USD
    assert held(cp) == 0 or cp.payouts.campaign(cid).paid + cp.payouts.campaign(cid).refunded == 100 * USD


def test_the_client_cannot_challenge_after_the_window_to_block_pay(cp, accounts):
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD})
    cp.post_and_wait(cid, 1, tree)
    with boa.reverts("payouts: challenge window over"):
        cp.payouts.challenge(cid, sender=accounts.client.address)
    cp.post(cid, 2, Tree({L[0]: 20 * USD}))
    boa.env.time_travel(seconds=WINDOW)
    with boa.reverts("payouts: challenge window over"):
        cp.payouts.challenge(cid, sender=accounts.client.address)


# --------------------------------------------------------------------------- hostile token


@pytest.fixture
def hostile(reentrant_deployer, payouts, committee, accounts):
    token = reentrant_deployer.deploy()
    return Campaigns(payouts, token, committee, None, accounts.client.address)


def test_a_token_reentering_claim_is_stopped(hostile):
    cid = hostile.create(100 * USD)
    tree = Tree({L[0]: 10 * USD, L[1]: 10 * USD})
    hostile.post_and_wait(cid, 1, tree)
    payouts, token = hostile.payouts, hostile.token
    again = payouts.claim.prepare_calldata(cid, L[1], 10 * USD, tree.proof(L[1]))
    token.arm(payouts.address, again, True)  # the reentrant call's failure reverts the transfer
    with boa.reverts():
        hostile.claim(cid, tree, L[0])
    assert token.balanceOf(L[0]) == 0 and token.balanceOf(L[1]) == 0
    token.arm(payouts.address, again, False)  # swallowed: the outer claim pays once, the inner nothing
    assert hostile.claim(cid, tree, L[0]) == 10 * USD
    assert token.attempts() == 1 and not token.last_ok()  # the first attempt was rolled back
    assert token.balanceOf(L[1]) == 0 and payouts.claimed(cid, L[1]) == 0
    assert payouts.campaign(cid).paid == 10 * USD


def test_a_token_reentering_close_or_claim_many_is_stopped(hostile):
    cid = hostile.create(100 * USD, duration=10 * DAY)
    tree = Tree({L[0]: 10 * USD})
    hostile.post_and_wait(cid, 1, tree)
    payouts, token = hostile.payouts, hostile.token
    travel_to(payouts.campaign(cid).close_time)
    token.arm(payouts.address, payouts.close.prepare_calldata(cid), False)
    assert payouts.close(cid) == 90 * USD
    assert not token.last_ok()
    token.arm(payouts.address, payouts.claim.prepare_calldata(cid, L[0], 10 * USD, tree.proof(L[0])), False)
    assert hostile.claim_many(cid, tree, [L[0]]) == 10 * USD
    assert not token.last_ok()
    assert token.balanceOf(payouts.address) == 0
    assert token.balanceOf(L[0]) == 10 * USD


def test_a_token_returning_false_pays_nothing(hostile):
    cid = hostile.create(100 * USD)
    tree = Tree({L[0]: 10 * USD})
    hostile.post_and_wait(cid, 1, tree)
    hostile.token.set_return_false(True)
    with boa.reverts("payouts: transfer failed"):
        hostile.claim(cid, tree, L[0])
    assert hostile.payouts.claimed(cid, L[0]) == 0
