"""Security review of contracts/labeling/LabelPayouts.vy (issue 14's payouts), one proof of concept per
attack, played by every party: the client, a labeler, an outsider or relayer, a minority of oracles,
a hostile or odd token, boundary values and the clocks. An attack that fails stays as a regression
test of the defence; the two found (a challenge in the last window dropping the final root for good,
and a batch claim made to revert by front-running one of its claims) are fixed in the contract and
tested here. Attacks whose outcome is left to the off-chain side say so (`LEFT:` in the docstring).
The builder's own attack tests (`test_label_payouts_attacks.py`) are not repeated."""

from __future__ import annotations

from pathlib import Path

import boa
import eth_abi
import pytest
from escrow_harness import new_account, now
from eth.exceptions import Revert
from eth_utils import keccak
from label_payouts_fixtures import (
    CLAIM_PERIOD,
    DAY,
    HOUR,
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

L = labelers(6, "reviewed labeler")
MOCKS = Path(__file__).resolve().parent / "mocks"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MAX_WINDOW = 7 * DAY


@pytest.fixture(scope="module")
def committee(escrow):
    return deploy_committee(escrow)


@pytest.fixture(scope="module")
def blocklist_token():
    with boa.env.prank(new_account("review blocklist token deployer").address):
        return boa.load_partial(str(MOCKS / "BlocklistToken.vy")).deploy()


@pytest.fixture
def blocky(payouts, blocklist_token, committee, accounts):
    """Campaigns paid in a USDC-like token with a blocklist."""
    return Campaigns(payouts, blocklist_token, committee, None, accounts.client.address)


@pytest.fixture(scope="module")
def stub_committee():
    """A committee the client controls (members and threshold settable by anyone)."""
    with boa.env.prank(new_account("review stub committee deployer").address):
        stub = boa.load_partial(str(MOCKS / "CommitteeStub.vy"))
        return stub.deploy([o.address for o in ORACLES], 3)


def held(cp) -> int:
    return cp.token.balanceOf(cp.payouts.address)


# --------------------------------------------------------------------------- the clocks: a challenge at the close


def test_a_client_challenge_in_the_last_window_cannot_drop_the_final_root(cp, token, accounts):
    """FOUND + FIXED. The committee posts the final root just before the close time; the client
    challenges it at the end of its window. Before the fix no root was accepted after the close time,
    so the challenge was a veto: `close` refunded the client everything and the labelers' 70 USD were
    lost (the client's one challenge, meant as a one-round delay, took the whole last round).
    Now the close time moves to one window after the challenge and the committee reposts."""
    client = accounts.client.address
    cid = cp.create(100 * USD, duration=10 * DAY)
    close_time = cp.payouts.campaign(cid).close_time
    tree = Tree({L[0]: 70 * USD})
    travel_to(close_time - 1)
    cp.post(cid, 1, tree)
    travel_to(close_time - 1 + WINDOW - 1)  # the last second of the window
    cp.payouts.challenge(cid, sender=client)
    assert cp.payouts.campaign(cid).close_time == now() + WINDOW
    with boa.reverts("payouts: close time not reached"):
        cp.payouts.close(cid, sender=client)
    cp.post(cid, 2, tree)  # the replacement, after the original close time
    with boa.reverts("payouts: already challenged once"):
        cp.payouts.challenge(cid, sender=client)
    boa.env.time_travel(seconds=WINDOW)
    before = token.balanceOf(client)
    assert cp.payouts.close(cid) == 30 * USD
    assert token.balanceOf(client) - before == 30 * USD
    assert cp.claim(cid, tree, L[0]) == 70 * USD


def test_one_faulty_oracle_in_the_last_window_cannot_drop_the_final_root(cp, token):
    """FOUND + FIXED (the same flaw, from the committee side): the committee tolerates f = 1 faulty
    oracle, yet before the fix that single oracle's challenge of the root posted in the last window
    dropped it for good. Now the honest quorum reposts within the moved close time."""
    cid = cp.create(100 * USD, duration=10 * DAY)
    close_time = cp.payouts.campaign(cid).close_time
    tree = Tree({L[0]: 40 * USD, L[1]: 50 * USD})
    travel_to(close_time - HOUR)
    cp.post(cid, 1, tree)
    boa.env.time_travel(seconds=2 * HOUR)  # after the close time, inside the window
    cp.payouts.challenge(cid, sender=ORACLES[3].address)
    cp.post(cid, 2, tree, signers=ORACLES[:3])
    boa.env.time_travel(seconds=WINDOW)
    assert cp.payouts.close(cid) == 10 * USD
    assert cp.claim_many(cid, tree, [L[0], L[1]]) == 90 * USD


def test_challenges_at_the_close_move_it_a_bounded_time(cp, token, accounts):
    """Every timing path ends: the client and all four oracles spend their one challenge each on the
    roots posted at the close; each challenge moves the close time by less than two windows, so the
    campaign closes at most 2 * 5 windows late, and the sixth root stands."""
    client = accounts.client.address
    cid = cp.create(100 * USD, window=MAX_WINDOW, duration=30 * DAY)
    original = cp.payouts.campaign(cid).close_time
    tree = Tree({L[0]: 60 * USD})
    travel_to(original - 1)
    for round_, who in enumerate([client, *(o.address for o in ORACLES)], start=1):
        cp.post(cid, round_, tree)
        boa.env.time_travel(seconds=MAX_WINDOW - 1)
        cp.payouts.challenge(cid, sender=who)
    cp.post(cid, 6, tree)
    boa.env.time_travel(seconds=MAX_WINDOW)
    c = cp.payouts.campaign(cid)
    assert c.round == 6 and c.close_time < original + 2 * 5 * MAX_WINDOW
    with boa.reverts("payouts: close time passed"):
        cp.post(cid, 7, tree)
    assert cp.payouts.close(cid) == 40 * USD
    assert cp.claim(cid, tree, L[0]) == 60 * USD


def test_an_early_challenge_does_not_move_the_close_time(cp, accounts):
    """A challenge more than a window before the close leaves the close time alone: the committee
    already has a window to repost, and the client's refund is not delayed."""
    cid = cp.create(100 * USD, duration=10 * DAY)
    close_time = cp.payouts.campaign(cid).close_time
    cp.post(cid, 1, Tree({L[0]: 10 * USD}))
    cp.payouts.challenge(cid, sender=accounts.client.address)
    assert cp.payouts.campaign(cid).close_time == close_time
    travel_to(close_time)
    assert cp.payouts.close(cid) == 100 * USD


def test_posting_faster_than_the_window_delays_claims_until_posting_stops(cp):
    """LEFT (documented behaviour, off-chain cadence rule): a root posted while another is pending
    replaces it and restarts the window, so a committee (or anyone relaying roots the committee
    signed) posting more often than once per window keeps every root pending. Nothing is frozen: the
    last root becomes claimable one window after the last post, at the latest one window after the
    close time. The off-chain service must post at most once per challenge window."""
    cid = cp.create(1_000 * USD, duration=10 * DAY)
    close_time = cp.payouts.campaign(cid).close_time
    round_, tree = 0, None
    while now() + WINDOW - HOUR < close_time:
        round_ += 1
        tree = Tree({L[0]: round_ * USD})
        cp.post(cid, round_, tree)
        boa.env.time_travel(seconds=WINDOW - HOUR)
        with boa.reverts("payouts: no claimable root"):
            cp.claim(cid, tree, L[0])
    assert tree is not None and round_ >= 9
    travel_to(cp.payouts.campaign(cid).pending_at + WINDOW)
    assert cp.claim(cid, tree, L[0]) == round_ * USD
    travel_to(max(now(), close_time))
    assert cp.payouts.close(cid) == (1_000 - round_) * USD


# --------------------------------------------------------------------------- relayers and batches


def test_front_running_one_claim_does_not_revert_a_batch(cp, token):
    """FOUND + FIXED. A relayer sends `claim_many` for six labelers; an outsider front-runs it with a
    single relayed `claim` of the batch's last labeler (it costs one claim and pays that labeler
    correctly). Before the fix the whole batch reverted with "nothing to claim" (the relayer lost the
    gas of 127 claims per 1 spent, repeatable on every batch). Now an item that owes nothing is
    skipped and the others are paid."""
    cid = cp.create()
    tree = Tree({a: (i + 1) * USD for i, a in enumerate(L)})
    cp.post_and_wait(cid, 1, tree)
    cp.claim(cid, tree, L[5], sender=new_account("griefer").address)
    assert cp.claim_many(cid, tree, L) == 15 * USD
    assert [token.balanceOf(a) for a in L] == [(i + 1) * USD for i in range(6)]
    assert cp.payouts.campaign(cid).paid == 21 * USD
    # a batch whose every item was paid already moves nothing and reverts nothing
    assert cp.claim_many(cid, tree, L) == 0
    assert cp.payouts.campaign(cid).paid == 21 * USD


def test_a_skipped_batch_item_opens_no_hole(cp, token):
    """The skip only covers items owing nothing: a forged item above what the labeler claimed still
    reverts the batch; a forged item at or below it is skipped unchecked and pays nothing; a stale
    proof of a labeler owed more under the new root is not skipped (it must be valid)."""
    cid = cp.create()
    r1 = Tree({L[0]: 5 * USD, L[1]: 5 * USD})
    cp.post_and_wait(cid, 1, r1)
    cp.claim(cid, r1, L[0])
    forged_low = (L[0], 5 * USD, [b"\x01" * 32])
    forged_high = (L[0], 6 * USD, r1.proof(L[0]))
    assert cp.payouts.claim_many(cid, [forged_low]) == 0
    with boa.reverts("payouts: invalid proof"):
        cp.payouts.claim_many(cid, [(L[1], 5 * USD, r1.proof(L[1])), forged_high])
    r2 = Tree({L[0]: 8 * USD, L[1]: 9 * USD})
    cp.post_and_wait(cid, 2, r2)
    with boa.reverts("payouts: invalid proof"):  # the old leaf of L[1] under the new root
        cp.payouts.claim_many(cid, [(L[1], 5 * USD, r1.proof(L[1]))])
    assert cp.claim_many(cid, r2, [L[0], L[1]]) == 3 * USD + 9 * USD
    assert token.balanceOf(L[0]) == 8 * USD and token.balanceOf(L[1]) == 9 * USD


def test_a_blocklisted_labeler_stalls_only_its_own_claim(blocky, accounts):
    """LEFT (relayer's job): a token that refuses a transfer to a blocked labeler (reverting, or
    returning False) makes any batch holding that labeler revert; a relayer that simulates first
    drops it and the rest are paid. The blocked labeler's amount is never frozen: it returns to the
    client with the sweep a year after the close."""
    client = accounts.client.address
    cid = blocky.create(100 * USD, duration=10 * DAY)
    tree = Tree({L[0]: 10 * USD, L[1]: 20 * USD, L[2]: 30 * USD})
    blocky.post_and_wait(cid, 1, tree)
    blocky.token.set_blocked(L[1], True)
    with boa.reverts("blocklist: account blocked"):
        blocky.claim_many(cid, tree, L[:3])
    blocky.token.set_quiet(True)
    with boa.reverts("payouts: transfer failed"):
        blocky.claim_many(cid, tree, L[:3])
    assert blocky.claim_many(cid, tree, [L[0], L[2]]) == 40 * USD
    travel_to(blocky.payouts.campaign(cid).close_time)
    assert blocky.payouts.close(cid) == 40 * USD
    boa.env.time_travel(seconds=CLAIM_PERIOD)
    before = blocky.token.balanceOf(client)
    assert blocky.payouts.sweep(cid) == 20 * USD
    assert blocky.token.balanceOf(client) - before == 20 * USD
    assert blocky.token.balanceOf(blocky.payouts.address) == 0


def test_a_blocklisted_client_freezes_only_its_own_refund(blocky, accounts):
    """LEFT (the client's own risk): a client the token blocks cannot be refunded, so `close` reverts
    while a refund is due; the labelers are not held hostage: claims go on (an unclosed campaign has
    no claim deadline)."""
    client = accounts.client.address
    cid = blocky.create(100 * USD, duration=10 * DAY)
    tree = Tree({L[0]: 60 * USD})
    blocky.post_and_wait(cid, 1, tree)
    blocky.token.set_blocked(client, True)
    travel_to(blocky.payouts.campaign(cid).close_time)
    with boa.reverts("blocklist: account blocked"):
        blocky.payouts.close(cid)
    boa.env.time_travel(seconds=2 * CLAIM_PERIOD)
    assert blocky.claim(cid, tree, L[0]) == 60 * USD


# --------------------------------------------------------------------------- signatures


def _post(cp, cid, round_, tree, sigs):
    cp.payouts.post_root(cid, round_, tree.root, tree.total, sigs)


def _high_s(sig: bytes) -> bytes:
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28


def _compact(sig: bytes) -> bytes:
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    return r + ((v - 27) << 255 | s).to_bytes(32, "big")


def test_a_malleated_high_s_signature_is_refused(cp):
    """The same oracle's signature turned into its other valid form (s -> n - s, v flipped) is
    refused (low-s only), so it can neither count as a second signer nor be replayed altered."""
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD})
    sigs = cp.signatures(cid, 1, tree.root, tree.total)
    with boa.reverts("ecdsa: invalid signature `s` value"):
        _post(cp, cid, 1, tree, [sigs[0], sigs[1], _high_s(sigs[2])])
    assert cp.payouts.campaign(cid).last_round == 0


def test_a_compact_signature_counts_its_signer_once(cp):
    """EIP-2098 64-byte signatures are accepted (snekmate), so one oracle has two encodings of its
    signature; the strictly ascending signer rule still counts it once."""
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD})
    two = cp.signatures(cid, 1, tree.root, tree.total, ORACLES[:2])
    with boa.reverts("quorum: signers not strictly ascending"):
        _post(cp, cid, 1, tree, [two[0], _compact(two[0]), two[1]])
    with boa.reverts("quorum: signers not strictly ascending"):
        _post(cp, cid, 1, tree, [two[0], two[1], _compact(two[1])])
    three = cp.signatures(cid, 1, tree.root, tree.total)
    _post(cp, cid, 1, tree, [_compact(s) for s in three])  # the same quorum, compact: fine
    assert cp.payouts.campaign(cid).pending_root == tree.root


def test_a_removed_oracles_signature_no_longer_counts(cp, stub_committee, accounts):
    """Membership and threshold are read when a root is posted, not when it was signed: a signature
    of an oracle removed since, or a quorum that a raised threshold outgrew, is refused."""
    cp = Campaigns(cp.payouts, cp.token, stub_committee, cp.minter, accounts.client.address)
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD})
    sigs = cp.signatures(cid, 1, tree.root, tree.total)
    stub_committee.set_oracle(ORACLES[1].address, False)
    with boa.reverts("quorum: signer is not an oracle"):
        _post(cp, cid, 1, tree, sigs)
    stub_committee.set_oracle(ORACLES[1].address, True)
    stub_committee.set_threshold(4)
    with boa.reverts("quorum: too few signatures"):
        _post(cp, cid, 1, tree, sigs)
    stub_committee.set_threshold(0)
    with boa.reverts("quorum: committee threshold is zero"):
        _post(cp, cid, 1, tree, [])
    stub_committee.set_threshold(3)
    _post(cp, cid, 1, tree, sigs)


def test_a_client_chosen_committee_is_a_trust_assumption(cp, stub_committee, accounts):
    """LEFT (trust assumption, for the off-chain side): the client names the committee. A committee
    contract the client controls (here anyone may set members) lets it sign roots alone; the total
    may not fall below the claimable root's, but a pending root can be redirected to the client's
    own addresses. Labelers must check that the campaign's committee is a genuine OracleCommittee
    (immutable members) before working; the contract cannot tell."""
    client = accounts.client
    cp = Campaigns(cp.payouts, cp.token, stub_committee, cp.minter, client.address)
    cid = cp.create(100 * USD)
    honest = Tree({L[0]: 50 * USD})
    cp.post(cid, 1, honest)  # pending
    stub_committee.set_oracle(client.address, True)
    stub_committee.set_threshold(1)
    own = Tree({client.address: 50 * USD})
    sigs = sign([client], root_message(cp.payouts, cid, 2, own.root, own.total))
    cp.payouts.post_root(cid, 2, own.root, own.total, sigs)
    boa.env.time_travel(seconds=WINDOW)
    with boa.reverts("payouts: invalid proof"):
        cp.claim(cid, honest, L[0])
    assert cp.claim(cid, own, client.address) == 50 * USD


# --------------------------------------------------------------------------- leaves and proofs


def test_an_internal_node_cannot_be_claimed_as_a_leaf(cp, token):
    """Second preimage: a 64-byte internal node (left || right child) passed as the 64-byte leaf
    encoding abi_encode(labeler, cumulative). The address word of a child hash has dirty high bytes,
    which the ABI decoder refuses; cleaned to an address, the double-hashed leaf is no node of the
    tree, with or without the rest of the path."""
    cid = cp.create()
    tree = Tree({a: USD for a in L[:4]})
    cp.post_and_wait(cid, 1, tree)
    proof = tree.proof(L[0])
    leaf = bytes(cp.payouts.payout_leaf(L[0], USD))
    left, right = sorted([leaf, proof[0]])
    node = keccak(left + right)
    assert cp.payouts.verify(tree.root, L[0], USD, proof)
    assert keccak(node + proof[1]) == tree.root or keccak(proof[1] + node) == tree.root
    selector = keccak(b"claim(uint256,address,uint256,bytes32[])")[:4]
    dirty = selector + eth_abi.encode(
        ["uint256", "bytes32", "bytes32", "bytes32[]"], [cid, left, right, proof[1:]]
    )
    with pytest.raises(Revert):  # the decoder's address check: no reason string
        boa.env.raw_call(cp.payouts.address, data=dirty)
    labeler = "0x" + left[12:].hex()
    cumulative = int.from_bytes(right, "big")
    assert not cp.payouts.verify(tree.root, labeler, cumulative, proof[1:])
    with boa.reverts("payouts: invalid proof"):
        cp.payouts.claim(cid, labeler, cumulative, proof[1:])
    assert not cp.payouts.verify(tree.root, labeler, cumulative, [])
    assert held(cp) >= tree.total and token.balanceOf(labeler) == 0


def test_a_zero_leaf_or_zero_root_proves_nothing(cp):
    """The zero root is never claimable, and a leaf of amount zero owes nothing."""
    cid = cp.create()
    tree = Tree({L[0]: 0, L[1]: 5 * USD})
    assert not cp.payouts.verify(bytes(32), L[0], 0, [])
    cp.post_and_wait(cid, 1, tree)
    with boa.reverts("payouts: nothing to claim"):
        cp.claim(cid, tree, L[0])
    with boa.reverts("payouts: empty root"):
        cp.payouts.post_root(cid, 2, bytes(32), 0, [])


def test_a_lowered_cumulative_is_paid_by_the_last_claimer(cp, token):
    """LEFT (off-chain rule): cumulative amounts must never decrease. If a later root lowers a labeler
    who already claimed more (e.g. re-aggregation judged it worse), its excess is counted against the
    new total, and the last labeler to claim under that root cannot be paid in full: the shortfall
    is bounded by the excess and returns to the client with the sweep. The tree builder and the
    committee must keep each labeler's cumulative amount non-decreasing."""
    cid = cp.create(100 * USD, duration=10 * DAY)
    r1 = Tree({L[0]: 50 * USD, L[1]: 0})
    cp.post_and_wait(cid, 1, r1)
    cp.claim(cid, r1, L[0])
    r2 = Tree({L[0]: 40 * USD, L[1]: 60 * USD})
    cp.post_and_wait(cid, 2, r2)
    with boa.reverts("payouts: claims above the root's total"):
        cp.claim(cid, r2, L[1])
    assert token.balanceOf(L[1]) == 0
    travel_to(cp.payouts.campaign(cid).close_time)
    assert cp.payouts.close(cid) == 0
    boa.env.time_travel(seconds=CLAIM_PERIOD)
    assert cp.payouts.sweep(cid) == 50 * USD  # 60 owed to L[1], only 50 left under the total


# --------------------------------------------------------------------------- boundaries


def test_the_largest_round_ends_posting_but_nothing_is_frozen(cp):
    """A round of 2**256 - 1 (signed by the quorum) leaves no later round to post; the root stands, is
    claimed, and the campaign closes normally."""
    cid = cp.create(100 * USD, duration=10 * DAY)
    top = 2**256 - 1
    tree = Tree({L[0]: 20 * USD})
    cp.post_and_wait(cid, top, tree)
    with boa.reverts("payouts: round not after the last one"):
        cp.post(cid, top, Tree({L[0]: 30 * USD}))
    assert cp.claim(cid, tree, L[0]) == 20 * USD
    travel_to(cp.payouts.campaign(cid).close_time)
    assert cp.payouts.close(cid) == 80 * USD


def test_the_claim_period_and_the_sweep_meet_without_overlap(cp, token):
    """At the last second of the claim period a labeler still claims and the sweep is refused; one
    second later claims end and the sweep returns the rest: no instant where both or neither work."""
    cid = cp.create(100 * USD, duration=10 * DAY)
    tree = Tree({L[0]: 10 * USD, L[1]: 20 * USD})
    cp.post_and_wait(cid, 1, tree)
    travel_to(cp.payouts.campaign(cid).close_time)
    cp.payouts.close(cid)
    end = cp.payouts.campaign(cid).closed_at + CLAIM_PERIOD
    travel_to(end - 1)
    with boa.reverts("payouts: claim period not over"):
        cp.payouts.sweep(cid)
    assert cp.claim(cid, tree, L[0]) == 10 * USD
    boa.env.time_travel(seconds=1)
    with boa.reverts("payouts: claim period over"):
        cp.claim(cid, tree, L[1])
    assert cp.payouts.sweep(cid) == 20 * USD
    with boa.reverts("payouts: nothing to sweep"):
        cp.payouts.sweep(cid)


def test_the_challenge_window_edges(cp, accounts):
    """A challenge at the window's last second drops the root; at the window's end the root is
    claimable and can no longer be challenged (and the close time is not moved)."""
    cid = cp.create()
    cp.post(cid, 1, Tree({L[0]: USD}))
    boa.env.time_travel(seconds=WINDOW - 1)
    cp.payouts.challenge(cid, sender=ORACLES[0].address)
    tree = Tree({L[0]: 2 * USD})
    cp.post(cid, 2, tree)
    close_time = cp.payouts.campaign(cid).close_time
    boa.env.time_travel(seconds=WINDOW)
    with boa.reverts("payouts: challenge window over"):
        cp.payouts.challenge(cid, sender=accounts.client.address)
    assert cp.payouts.campaign(cid).close_time == close_time
    assert cp.claim(cid, tree, L[0]) == 2 * USD


def test_campaigns_sharing_a_token_are_isolated(cp, token):
    """A faulty root in one campaign (a leaf far above its budget, total at the budget) cannot reach
    another campaign's escrow of the same token: claims stop at the campaign's signed total."""
    rich = cp.create(1_000 * USD)
    poor = cp.create(10 * USD)
    greedy = Tree({L[0]: 1_000 * USD, L[1]: USD})
    cp.post(poor, 1, greedy, total=10 * USD)
    with boa.reverts("payouts: total above the budget"):
        cp.post(poor, 2, greedy)
    boa.env.time_travel(seconds=WINDOW)
    before = held(cp)
    with boa.reverts("payouts: claims above the root's total"):
        cp.claim(poor, greedy, L[0])
    assert cp.claim(poor, greedy, L[1]) == USD
    assert held(cp) == before - USD
    assert cp.payouts.campaign(rich).paid == 0 and cp.payouts.campaign(poor).paid == USD


def test_a_relayer_cannot_change_a_signed_root(cp, token):
    """An outsider relaying the committee's signatures can post exactly what was signed, once: another
    total, root or round with the same signatures recovers strangers; posting it again is refused."""
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD})
    sigs = cp.signatures(cid, 1, tree.root, tree.total)
    relayer = new_account("front-running relayer").address
    with boa.reverts("quorum: signer is not an oracle"):
        cp.payouts.post_root(cid, 1, tree.root, tree.total + 1, sigs, sender=relayer)
    cp.payouts.post_root(cid, 1, tree.root, tree.total, sigs, sender=relayer)
    with boa.reverts("payouts: round not after the last one"):
        cp.payouts.post_root(cid, 1, tree.root, tree.total, sigs)
    assert cp.payouts.campaign(cid).pending_root == tree.root
    assert cp.payouts.campaign(cid).spec_hash == SPEC
