"""Tests of contracts/labeling/LabelPayouts.vy: labeling campaigns paid through committee-signed
Merkle roots of (labeler, cumulative amount), claimable after a challenge window, closed with a
refund of what is not owed and a sweep of what was never claimed.

The committee is the real OracleCommittee (4 oracles, f = 1, threshold 3); roots are signed with
eth_account and trees built with murky-tree (`label_payouts_fixtures`)."""

from __future__ import annotations

import boa
import hypothesis.strategies as st
import pytest
from conftest import FOT_PATH
from escrow_harness import chain_id, new_account, now
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, given, settings
from label_payouts_fixtures import (
    CLAIM_PERIOD,
    DAY,
    DOMAIN_NAME,
    HOUR,
    ORACLES,
    SPEC,
    USD,
    WINDOW,
    Tree,
    deploy_committee,
    digest_of,
    labelers,
    root_message,
    travel_to,
)

from proofwork.chain.payouts_tree import PayoutsTree, payout_leaf
from proofwork.domain.errors import InvalidInput, NotFound

L = labelers(6)
ZERO32 = bytes(32)


@pytest.fixture(scope="module")
def committee(escrow):
    return deploy_committee(escrow)


def bal(token, who) -> int:
    return token.balanceOf(who)


# --------------------------------------------------------------------------- deployment, encodings


def test_deployment_and_domain(payouts):
    assert payouts.campaign_count() == 0
    _, name, version, chain, verifying, _, _ = payouts.eip712Domain()
    assert (name, version, chain, verifying) == (DOMAIN_NAME, "1", chain_id(), payouts.address)


def test_root_digest_and_leaf_match_eip712_and_murky(cp):
    cid = cp.create()
    tree = Tree({L[0]: 5, L[1]: 7})
    assert cp.payouts.root_digest(cid, 1, tree.root, 12) == digest_of(
        root_message(cp.payouts, cid, 1, tree.root, 12)
    )
    leaf = bytes(tree.tree.tree[len(tree.tree.tree) - 1 - tree.tree.values[0].tree_index])
    assert leaf in {cp.payouts.payout_leaf(L[0], 5), cp.payouts.payout_leaf(L[1], 7)}
    assert cp.payouts.payout_leaf(L[0], 5) == payout_leaf(L[0], 5)
    assert cp.payouts.verify(tree.root, L[0], 5, tree.proof(L[0]))
    assert not cp.payouts.verify(tree.root, L[0], 6, tree.proof(L[0]))
    assert not cp.payouts.verify(ZERO32, L[0], 5, [])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 17, 100])
def test_python_payouts_tree_matches_murky_tree(n):
    amounts = {a: 1_000 + 37 * i for i, a in enumerate(labelers(n, "tree"))}
    ours, reference = PayoutsTree(amounts.items()), Tree(amounts)
    assert ours.root == reference.root
    assert ours.total == reference.total
    for a in amounts:
        assert ours.proof(a) == reference.proof(a)
        assert ours.proof(a.lower()) == reference.proof(a)


def test_python_payouts_tree_bad_input():
    with pytest.raises(InvalidInput, match="needs at least one labeler"):
        PayoutsTree([])
    with pytest.raises(InvalidInput, match="appears twice"):
        PayoutsTree([(L[0], 1), (L[0].lower(), 2)])
    with pytest.raises(InvalidInput, match="expected an address"):
        PayoutsTree([("0x1234", 1)])
    with pytest.raises(InvalidInput, match="expected a uint256"):
        PayoutsTree([(L[0], -1)])
    with pytest.raises(InvalidInput, match="expected a uint256"):
        PayoutsTree([(L[0], True)])
    with pytest.raises(NotFound):
        PayoutsTree([(L[0], 1)]).proof(L[1])


# --------------------------------------------------------------------------- create


def test_create_escrows_the_budget(cp, token, accounts):
    before = bal(token, cp.payouts.address)
    cid = cp.create(500 * USD, duration=10 * DAY)
    created = [e for e in cp.payouts.get_logs() if type(e).__name__ == "CampaignCreated"]
    assert cid == 1 and cp.payouts.campaign_count() == 1
    c = cp.payouts.campaign(cid)
    assert (c.client, c.token, c.committee, c.spec_hash, c.budget) == (
        accounts.client.address,
        token.address,
        cp.committee.address,
        SPEC,
        500 * USD,
    )
    assert (c.paid, c.refunded, c.closed_at, c.root, c.total, c.last_round) == (0, 0, 0, ZERO32, 0, 0)
    assert c.challenge_window == WINDOW and c.close_time == now() + 10 * DAY
    assert bal(token, cp.payouts.address) - before == 500 * USD
    assert created and created[0].budget == 500 * USD


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"budget": 0}, "payouts: zero budget"),
        ({"spec": ZERO32}, "payouts: empty spec hash"),
        ({"window": HOUR - 1}, "payouts: bad challenge window"),
        ({"window": 7 * DAY + 1}, "payouts: bad challenge window"),
        ({"close": WINDOW}, "payouts: close time too soon"),
        ({"close": 731 * DAY}, "payouts: close time too far"),
        ({"token": "eoa"}, "payouts: token is not a contract"),
        ({"committee": "eoa"}, "payouts: committee is not a contract"),
    ],
)
def test_create_rejects_bad_terms(cp, token, accounts, change, error):
    client = accounts.client.address
    cp.mint(client, 10 * USD)
    token.approve(cp.payouts.address, 10 * USD, sender=client)
    eoa = new_account("not a contract").address
    args = {
        "token": token.address,
        "budget": 10 * USD,
        "committee": cp.committee.address,
        "spec": SPEC,
        "window": WINDOW,
        "close": 10 * DAY,
    }
    args.update(change)
    args = {k: (eoa if v == "eoa" else v) for k, v in args.items()}
    with boa.reverts(error):
        cp.payouts.create(
            args["token"],
            args["budget"],
            args["committee"],
            args["spec"],
            args["window"],
            now() + args["close"],
            sender=client,
        )
    assert cp.payouts.campaign_count() == 0


def test_create_refuses_a_fee_on_transfer_token(payouts, committee, accounts):
    fot = boa.load_partial(str(FOT_PATH)).deploy()
    client = accounts.client.address
    fot.mint(client, 100 * USD)
    fot.approve(payouts.address, 100 * USD, sender=client)
    with boa.reverts("payouts: token delivered less than sent"):
        payouts.create(
            fot.address, 100 * USD, committee.address, SPEC, WINDOW, now() + 10 * DAY, sender=client
        )
    assert fot.balanceOf(client) == 100 * USD


# --------------------------------------------------------------------------- roots and claims


def test_a_root_is_claimable_only_after_its_window(cp, token):
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD, L[1]: 20 * USD})
    cp.post(cid, 1, tree)
    c = cp.payouts.campaign(cid)
    assert (c.pending_root, c.pending_total, c.pending_round, c.root) == (tree.root, 30 * USD, 1, ZERO32)
    with boa.reverts("payouts: no claimable root"):
        cp.claim(cid, tree, L[0])
    boa.env.time_travel(seconds=WINDOW - 1)
    with boa.reverts("payouts: no claimable root"):
        cp.claim(cid, tree, L[0])
    boa.env.time_travel(seconds=1)
    assert cp.payouts.campaign(cid).root == tree.root  # the view shows it claimable
    assert cp.claim(cid, tree, L[0]) == 10 * USD
    assert bal(token, L[0]) == 10 * USD
    c = cp.payouts.campaign(cid)
    assert (c.root, c.total, c.round, c.pending_root, c.paid) == (tree.root, 30 * USD, 1, ZERO32, 10 * USD)


def test_a_relayer_claims_for_the_labeler_who_is_paid(cp, token):
    cid = cp.create()
    tree = Tree({L[0]: 10 * USD})
    cp.post_and_wait(cid, 1, tree)
    relayer = new_account("a relayer").address
    cp.claim(cid, tree, L[0], sender=relayer)
    assert bal(token, L[0]) == 10 * USD and bal(token, relayer) == 0
    assert cp.payouts.claimed(cid, L[0]) == 10 * USD


def test_cumulative_amounts_pay_the_difference_and_a_missed_round_is_harmless(cp, token):
    cid = cp.create()
    r1 = Tree({L[0]: 10 * USD, L[1]: 5 * USD})
    cp.post_and_wait(cid, 1, r1)
    cp.claim(cid, r1, L[0])
    r3 = Tree({L[0]: 25 * USD, L[1]: 9 * USD, L[2]: 4 * USD})  # round 2 never posted
    cp.post_and_wait(cid, 3, r3)
    assert cp.claim(cid, r3, L[0]) == 15 * USD
    assert cp.claim(cid, r3, L[1]) == 9 * USD  # never claimed round 1: gets the whole cumulative
    assert cp.claim(cid, r3, L[2]) == 4 * USD
    assert [bal(token, a) for a in L[:3]] == [25 * USD, 9 * USD, 4 * USD]
    assert cp.payouts.campaign(cid).paid == 38 * USD


def test_claim_many_pays_every_labeler(cp, token):
    cid = cp.create()
    tree = Tree({a: (i + 1) * USD for i, a in enumerate(L)})
    cp.post_and_wait(cid, 1, tree)
    assert cp.claim_many(cid, tree, L) == 21 * USD
    claimed = [e for e in cp.payouts.get_logs() if type(e).__name__ == "Claimed"]
    assert [bal(token, a) for a in L] == [(i + 1) * USD for i in range(len(L))]
    assert cp.payouts.campaign(cid).paid == 21 * USD
    assert len(claimed) == len(L)


def test_claim_many_skips_paid_claims_and_reverts_on_an_invalid_one(cp, token):
    cid = cp.create()
    tree = Tree({a: USD for a in L})
    cp.post_and_wait(cid, 1, tree)
    claims = [(L[0], USD, tree.proof(L[0])), (L[1], 2 * USD, tree.proof(L[1]))]
    with boa.reverts("payouts: invalid proof"):
        cp.payouts.claim_many(cid, claims)
    assert bal(token, L[0]) == 0
    cp.claim(cid, tree, L[2])
    # a claim already paid (perhaps by a claim sent before the batch) is skipped, the others paid
    assert cp.claim_many(cid, tree, L) == 5 * USD
    assert [bal(token, a) for a in L] == [USD] * 6


def test_claims_never_exceed_the_signed_total(cp, token):
    # a (faulty) tree whose leaves sum above the total the committee signed pays only the total
    cid = cp.create()
    tree = Tree({L[0]: 6 * USD, L[1]: 6 * USD})
    cp.post(cid, 1, tree, total=10 * USD)
    boa.env.time_travel(seconds=WINDOW)
    cp.claim(cid, tree, L[0])
    with boa.reverts("payouts: claims above the root's total"):
        cp.claim(cid, tree, L[1])
    assert bal(token, L[1]) == 0


def test_a_later_root_replaces_a_pending_one(cp):
    cid = cp.create()
    r1, r2 = Tree({L[0]: USD}), Tree({L[0]: 2 * USD})
    cp.post(cid, 1, r1)
    boa.env.time_travel(seconds=WINDOW // 2)
    cp.post(cid, 2, r2)
    boa.env.time_travel(seconds=WINDOW // 2)
    c = cp.payouts.campaign(cid)
    assert (c.root, c.pending_root, c.last_round) == (ZERO32, r2.root, 2)  # r1 never became claimable
    boa.env.time_travel(seconds=WINDOW // 2)
    assert cp.claim(cid, r2, L[0]) == 2 * USD


def test_posting_makes_a_due_pending_root_claimable_first(cp):
    cid = cp.create()
    r1, r2 = Tree({L[0]: USD}), Tree({L[0]: 3 * USD})
    cp.post_and_wait(cid, 1, r1)
    cp.post(cid, 2, r2)
    c = cp.payouts.campaign(cid)
    assert (c.root, c.round, c.pending_root, c.pending_round) == (r1.root, 1, r2.root, 2)
    assert cp.claim(cid, r1, L[0]) == USD  # r1 claimable while r2 waits
    boa.env.time_travel(seconds=WINDOW)
    assert cp.claim(cid, r2, L[0]) == 2 * USD


@pytest.mark.parametrize(
    ("round_", "total", "error"),
    [
        (1, 1_001 * USD, "payouts: total above the budget"),
        (1, 0, None),
    ],
)
def test_root_total_bounds(cp, round_, total, error):
    cid = cp.create(1_000 * USD)
    tree = Tree({L[0]: total})
    if error:
        with boa.reverts(error):
            cp.post(cid, round_, tree)
    else:
        cp.post(cid, round_, tree)
        assert cp.payouts.campaign(cid).pending_total == total


def test_a_root_may_not_lower_the_claimable_total_nor_reuse_a_round(cp):
    cid = cp.create()
    cp.post_and_wait(cid, 2, Tree({L[0]: 5 * USD}))
    with boa.reverts("payouts: total below the claimable root's"):
        cp.post(cid, 3, Tree({L[0]: 4 * USD}))
    for round_ in (1, 2):
        with boa.reverts("payouts: round not after the last one"):
            cp.post(cid, round_, Tree({L[0]: 6 * USD}))
    with boa.reverts("payouts: empty root"):
        cp.payouts.post_root(cid, 3, ZERO32, 0, cp.signatures(cid, 3, ZERO32, 0))
    with boa.reverts("payouts: no such campaign"):
        cp.payouts.post_root(99, 1, b"\x01" * 32, 0, [])


# --------------------------------------------------------------------------- challenges


def test_a_challenged_root_is_dropped_and_a_later_round_replaces_it(cp, token, accounts):
    cid = cp.create()
    bad, good = Tree({L[0]: 900 * USD}), Tree({L[0]: 10 * USD, L[1]: 10 * USD})
    cp.post(cid, 1, bad)
    cp.payouts.challenge(cid, sender=accounts.client.address)
    logged = [e for e in cp.payouts.get_logs() if type(e).__name__ == "RootChallenged"]
    c = cp.payouts.campaign(cid)
    assert (c.pending_root, c.root, c.last_round) == (ZERO32, ZERO32, 1)
    assert cp.payouts.challenged(cid, accounts.client.address)
    assert logged and logged[0].root == bad.root and logged[0].round == 1
    boa.env.time_travel(seconds=WINDOW)
    with boa.reverts("payouts: no claimable root"):
        cp.claim(cid, bad, L[0])
    with boa.reverts("payouts: round not after the last one"):
        cp.post(cid, 1, good)
    cp.post_and_wait(cid, 2, good)
    assert cp.claim(cid, good, L[0]) == 10 * USD


def test_an_oracle_may_challenge_and_each_challenger_once(cp, accounts):
    cid = cp.create()
    cp.post(cid, 1, Tree({L[0]: USD}))
    cp.payouts.challenge(cid, sender=ORACLES[3].address)
    cp.post(cid, 2, Tree({L[0]: USD}))
    with boa.reverts("payouts: already challenged once"):
        cp.payouts.challenge(cid, sender=ORACLES[3].address)
    with boa.reverts("payouts: only the client or an oracle may challenge"):
        cp.payouts.challenge(cid, sender=new_account("a labeler").address)
    cp.payouts.challenge(cid, sender=accounts.client.address)
    cp.post(cid, 3, Tree({L[0]: USD}))
    with boa.reverts("payouts: already challenged once"):
        cp.payouts.challenge(cid, sender=accounts.client.address)


def test_no_challenge_after_the_window_or_without_a_pending_root(cp, accounts):
    cid = cp.create()
    with boa.reverts("payouts: no pending root"):
        cp.payouts.challenge(cid, sender=accounts.client.address)
    cp.post(cid, 1, Tree({L[0]: USD}))
    boa.env.time_travel(seconds=WINDOW)
    with boa.reverts("payouts: challenge window over"):
        cp.payouts.challenge(cid, sender=accounts.client.address)


# --------------------------------------------------------------------------- close and sweep


def test_close_refunds_what_is_not_owed_and_labelers_keep_claiming(cp, token, accounts):
    client = accounts.client.address
    cid = cp.create(100 * USD, duration=10 * DAY)
    tree = Tree({L[0]: 30 * USD, L[1]: 20 * USD})
    cp.post_and_wait(cid, 1, tree)
    cp.claim(cid, tree, L[0])
    with boa.reverts("payouts: close time not reached"):
        cp.payouts.close(cid, sender=client)
    travel_to(cp.payouts.campaign(cid).close_time)
    with boa.reverts("payouts: close time passed"):
        cp.post(cid, 2, Tree({L[0]: 40 * USD}))
    before = bal(token, client)
    assert cp.payouts.close(cid, sender=new_account("anyone").address) == 50 * USD
    assert bal(token, client) - before == 50 * USD
    with boa.reverts("payouts: campaign closed"):
        cp.payouts.close(cid)
    boa.env.time_travel(seconds=CLAIM_PERIOD - 1)
    assert cp.claim(cid, tree, L[1]) == 20 * USD
    c = cp.payouts.campaign(cid)
    assert c.paid + c.refunded == c.budget
    with boa.reverts("payouts: nothing to sweep"):
        boa.env.time_travel(seconds=1)
        cp.payouts.sweep(cid)


def test_unclaimed_amounts_return_to_the_client_a_year_after_the_close(cp, token, accounts):
    client = accounts.client.address
    cid = cp.create(100 * USD, duration=10 * DAY)
    tree = Tree({L[0]: 30 * USD, L[1]: 20 * USD})
    cp.post_and_wait(cid, 1, tree)
    travel_to(cp.payouts.campaign(cid).close_time)
    cp.payouts.close(cid)
    with boa.reverts("payouts: claim period not over"):
        cp.payouts.sweep(cid)
    boa.env.time_travel(seconds=CLAIM_PERIOD)
    with boa.reverts("payouts: claim period over"):
        cp.claim(cid, tree, L[0])
    before = bal(token, client)
    assert cp.payouts.sweep(cid) == 50 * USD
    assert bal(token, client) - before == 50 * USD
    c = cp.payouts.campaign(cid)
    assert (c.paid, c.refunded) == (0, 100 * USD)
    with boa.reverts("payouts: nothing to sweep"):
        cp.payouts.sweep(cid)


def test_a_committee_that_never_signs_leaves_the_client_everything(cp, token, accounts):
    client = accounts.client.address
    cid = cp.create(100 * USD, duration=5 * DAY)
    travel_to(cp.payouts.campaign(cid).close_time)
    before = bal(token, client)
    assert cp.payouts.close(cid) == 100 * USD
    assert bal(token, client) - before == 100 * USD
    with boa.reverts("payouts: nothing to sweep"):
        boa.env.time_travel(seconds=CLAIM_PERIOD)
        cp.payouts.sweep(cid)


def test_close_waits_for_a_pending_root_then_counts_it_owed(cp, token, accounts):
    cid = cp.create(100 * USD, duration=10 * DAY)
    tree = Tree({L[0]: 70 * USD})
    travel_to(cp.payouts.campaign(cid).close_time - 1)
    cp.post(cid, 1, tree)
    boa.env.time_travel(seconds=1)
    with boa.reverts("payouts: a root is pending"):
        cp.payouts.close(cid)
    boa.env.time_travel(seconds=WINDOW)
    assert cp.payouts.close(cid) == 30 * USD
    assert cp.claim(cid, tree, L[0]) == 70 * USD


def test_close_after_a_root_challenged_at_the_end_refunds_everything_unowed(cp, accounts):
    cid = cp.create(100 * USD, duration=10 * DAY)
    travel_to(cp.payouts.campaign(cid).close_time - 1)
    cp.post(cid, 1, Tree({L[0]: 70 * USD}))
    boa.env.time_travel(seconds=1)
    cp.payouts.challenge(cid, sender=accounts.client.address)
    # the committee has one window after the challenge to post a replacement; it posts none
    with boa.reverts("payouts: close time not reached"):
        cp.payouts.close(cid)
    boa.env.time_travel(seconds=WINDOW)
    assert cp.payouts.close(cid) == 100 * USD


# --------------------------------------------------------------------------- properties

AMOUNT = st.integers(min_value=0, max_value=50 * USD)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rounds=st.lists(st.lists(AMOUNT, min_size=4, max_size=4), min_size=1, max_size=4),
    claims=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=10),
    close_claims=st.lists(st.integers(0, 3), max_size=4),
    sweep=st.booleans(),
)
def test_property_paid_plus_refunded_is_the_budget(cp, token, rounds, claims, close_claims, sweep):
    """Rounds raise each labeler's cumulative amount (increments drawn per round); claims are made
    after random rounds. Nobody is ever paid above its cumulative amount, the contract pays
    exactly the differences, and after close (and sweep) paid + refunded == budget."""
    budget = 1_000 * USD
    cid = cp.create(budget, duration=60 * DAY)
    who = L[:4]
    cumulative = [0, 0, 0, 0]
    trees = []
    for r, increments in enumerate(rounds, start=1):
        cumulative = [c + i for c, i in zip(cumulative, increments, strict=True)]
        trees.append(Tree(dict(zip(who, cumulative, strict=True))))
        cp.post_and_wait(cid, r, trees[-1])
        for after_round, k in claims:
            if after_round == r - 1 or (after_round >= len(rounds) and r == len(rounds)):
                tree = trees[-1]
                if tree.amounts[to_checksum_address(who[k])] > cp.payouts.claimed(cid, who[k]):
                    cp.claim(cid, tree, who[k])
                else:
                    with boa.reverts("payouts: nothing to claim"):
                        cp.claim(cid, tree, who[k])
        for k in range(4):
            assert cp.payouts.claimed(cid, who[k]) <= cumulative[k]
            assert bal(token, who[k]) == cp.payouts.claimed(cid, who[k])
    travel_to(cp.payouts.campaign(cid).close_time)
    refunded = cp.payouts.close(cid)
    assert refunded == budget - sum(cumulative)
    for k in set(close_claims):
        if cumulative[k] > cp.payouts.claimed(cid, who[k]):
            cp.claim(cid, trees[-1], who[k])
    if sweep:
        boa.env.time_travel(seconds=CLAIM_PERIOD)
        if sum(cumulative) > cp.payouts.campaign(cid).paid:
            cp.payouts.sweep(cid)
        c = cp.payouts.campaign(cid)
        assert c.paid + c.refunded == budget
    c = cp.payouts.campaign(cid)
    paid = sum(bal(token, a) for a in who)
    assert c.paid == paid
    assert all(bal(token, a) <= cumulative[k] for k, a in enumerate(who))
    assert c.paid + c.refunded + (sum(cumulative) - c.paid if not sweep else 0) == budget
