"""Tests of contracts/labeling/LabelerRoyalties.vy: what a labeled dataset earns, shared among the
campaign's labelers by the campaign's committee-signed payout root (pull, relayable, any ERC-20).

Campaigns run on the real LabelPayouts and OracleCommittee (`label_payouts_fixtures`)."""

from __future__ import annotations

import boa
import hypothesis.strategies as st
import pytest
from conftest import FOT_PATH, MOCKS
from escrow_harness import new_account
from hypothesis import HealthCheck, given, settings
from label_payouts_fixtures import USD, Tree, deploy_committee, labelers

ROYALTIES_PATH = "contracts/labeling/LabelerRoyalties.vy"
L = labelers(5, "royalty labeler")
PAID = {L[0]: 300, L[1]: 200, L[2]: 100, L[3]: 7, L[4]: 1}  # what the campaign paid: the shares
TOTAL = sum(PAID.values())


@pytest.fixture(scope="module")
def committee(escrow):
    return deploy_committee(escrow)


@pytest.fixture(scope="session")
def royalties_deployer():
    from conftest import REPO

    return boa.load_partial(str(REPO / ROYALTIES_PATH))


@pytest.fixture
def paid_campaign(cp):
    """A campaign whose first root (PAID) is claimable: (campaign id, tree)."""
    cid = cp.create()
    tree = Tree(PAID)
    cp.post_and_wait(cid, 1, tree)
    return cid, tree


@pytest.fixture
def pool(royalties_deployer, cp, paid_campaign):
    cid, _ = paid_campaign
    return royalties_deployer.deploy(cp.payouts.address, cid)


def _claim(pool, token, tree: Tree, who: str, sender: str | None = None) -> int:
    return pool.claim(
        token.address,
        who,
        tree.amounts[who],
        tree.proof(who),
        sender=sender or new_account("relayer").address,
    )


def _pay(cp, pool, amount: int, token=None) -> None:
    """Royalties arrive (the asset registry's claim, or anyone's transfer)."""
    payer = new_account("licensee").address
    token = token or cp.token
    cp.mint(payer, amount) if token is cp.token else token.mint(payer, amount)
    token.transfer(pool.address, amount, sender=payer)


def test_binds_to_the_campaign_claimable_root(cp, pool, paid_campaign):
    cid, tree = paid_campaign
    assert pool.payouts() == cp.payouts.address
    assert pool.campaign_id() == cid
    assert pool.shares_root() == tree.root
    assert pool.total_shares() == TOTAL
    assert pool.shares_round() == 1


def test_refuses_a_campaign_without_a_claimable_root(royalties_deployer, cp):
    cid = cp.create()
    with boa.reverts("royalties: the campaign has no claimable payout root"):
        royalties_deployer.deploy(cp.payouts.address, cid)
    cp.post(cid, 1, Tree(PAID))  # pending inside its challenge window: not yet the labelers' shares
    with boa.reverts("royalties: the campaign has no claimable payout root"):
        royalties_deployer.deploy(cp.payouts.address, cid)
    with boa.reverts():
        royalties_deployer.deploy(cp.payouts.address, 10**9)  # no such campaign


def test_later_rounds_do_not_change_the_shares(cp, pool, paid_campaign):
    cid, tree = paid_campaign
    cp.post_and_wait(cid, 2, Tree({**PAID, L[4]: 500}))
    _pay(cp, pool, 6_080)
    assert _claim(pool, cp.token, tree, L[4]) == 6_080 * 1 // TOTAL
    assert pool.releasable(cp.token.address, L[4], 500, Tree({**PAID, L[4]: 500}).proof(L[4])) == 0


def test_each_labeler_pulls_its_share_paid_to_it_by_any_relayer(cp, pool, paid_campaign):
    _, tree = paid_campaign
    _pay(cp, pool, 608 * USD)
    relayer = new_account("relayer").address
    for who, shares in PAID.items():
        before = cp.token.balanceOf(who)
        assert pool.releasable(cp.token.address, who, shares, tree.proof(who)) == 608 * USD * shares // TOTAL
        assert _claim(pool, cp.token, tree, who, relayer) == 608 * USD * shares // TOTAL
        assert cp.token.balanceOf(who) - before == 608 * USD * shares // TOTAL
    assert cp.token.balanceOf(relayer) == 0
    assert pool.released(cp.token.address) == 608 * USD
    assert cp.token.balanceOf(pool.address) == 0


def test_a_second_payment_is_shared_again_and_nothing_twice(cp, pool, paid_campaign):
    _, tree = paid_campaign
    _pay(cp, pool, 6_080)
    assert _claim(pool, cp.token, tree, L[0]) == 3_000
    with boa.reverts("royalties: nothing to claim"):
        _claim(pool, cp.token, tree, L[0])
    _pay(cp, pool, 608)
    assert _claim(pool, cp.token, tree, L[0]) == 300
    assert pool.withdrawn(cp.token.address, L[0]) == 3_300
    assert _claim(pool, cp.token, tree, L[1]) == 2_200


def test_a_wrong_proof_or_share_pays_nothing(cp, pool, paid_campaign):
    _, tree = paid_campaign
    _pay(cp, pool, 6_080)
    outsider = new_account("outsider").address
    for who, shares, proof in (
        (L[0], 301, tree.proof(L[0])),  # more shares than the leaf
        (outsider, 300, tree.proof(L[0])),  # another's leaf
        (L[0], 300, tree.proof(L[1])),  # another's proof
        (L[0], 300, []),
    ):
        assert pool.releasable(cp.token.address, who, shares, proof) == 0
        with boa.reverts("royalties: invalid proof"):
            pool.claim(cp.token.address, who, shares, proof)
    assert cp.token.balanceOf(pool.address) == 6_080


def test_claim_many_pays_all_or_nothing(cp, pool, paid_campaign):
    _, tree = paid_campaign
    _pay(cp, pool, 6_080)
    claims = [(w, tree.amounts[w], tree.proof(w)) for w in L]
    bad = [*claims[:2], (L[2], 101, tree.proof(L[2]))]
    with boa.reverts("royalties: invalid proof"):
        pool.claim_many(cp.token.address, bad)
    assert pool.released(cp.token.address) == 0
    assert pool.claim_many(cp.token.address, claims) == 6_080
    assert [cp.token.balanceOf(w) for w in L] == [6_080 * PAID[w] // TOTAL for w in L]


def test_tokens_are_accounted_apart(cp, pool, paid_campaign, stable_deployer, accounts):
    _, tree = paid_campaign
    with boa.env.prank(accounts.owner.address):
        other = stable_deployer.deploy("Other USD", "oUSD")
    _pay(cp, pool, 6_080)
    payer = new_account("other payer").address
    other.mint(payer, 608, sender=accounts.owner.address)
    other.transfer(pool.address, 608, sender=payer)
    assert _claim(pool, other, tree, L[0]) == 300
    assert _claim(pool, cp.token, tree, L[0]) == 3_000
    assert pool.withdrawn(other.address, L[0]) == 300


def test_dust_stays_below_one_unit_per_labeler(cp, pool, paid_campaign):
    _, tree = paid_campaign
    _pay(cp, pool, 1_000)  # not a multiple of the 608 shares
    for who in L:
        if pool.releasable(cp.token.address, who, PAID[who], tree.proof(who)):
            _claim(pool, cp.token, tree, who)
    assert 0 <= cp.token.balanceOf(pool.address) < len(L)


# --------------------------------------------------------------------------- hostile tokens


def test_a_reentrant_token_cannot_claim_twice(cp, pool, paid_campaign):
    _, tree = paid_campaign
    token = boa.load(str(MOCKS / "ReentrantToken.vy"))
    token.mint(pool.address, 6_080)
    payload = pool.claim.prepare_calldata(token.address, L[0], 300, tree.proof(L[0]))
    token.arm(pool.address, payload, False)
    assert _claim(pool, token, tree, L[0]) == 3_000
    assert token.attempts() == 1 and not token.last_ok()
    assert token.balanceOf(L[0]) == 3_000


def test_a_token_that_returns_false_pays_nothing(cp, pool, paid_campaign):
    _, tree = paid_campaign
    token = boa.load(str(MOCKS / "ReentrantToken.vy"))
    token.mint(pool.address, 6_080)
    token.set_return_false(True)
    with boa.reverts("royalties: transfer failed"):
        _claim(pool, token, tree, L[0])
    assert pool.withdrawn(token.address, L[0]) == 0


def test_a_token_without_return_value_works(cp, pool, paid_campaign):
    _, tree = paid_campaign
    token = boa.load(str(MOCKS / "NoReturnToken.vy"))
    token.mint(pool.address, 6_080)
    assert _claim(pool, token, tree, L[1]) == 2_000


def test_a_fee_on_transfer_token_never_pays_out_more_than_it_holds(cp, pool, paid_campaign):
    _, tree = paid_campaign
    fot = boa.load(str(FOT_PATH))
    fot.mint(pool.address, 6_080)
    paid = 0
    for who in L:
        paid += _claim(pool, fot, tree, who)
    assert paid == pool.released(fot.address) <= 6_080
    assert fot.balanceOf(pool.address) == 6_080 - paid


# --------------------------------------------------------------------------- property


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("pay"), st.integers(min_value=1, max_value=10**9)),
            st.tuples(st.just("claim"), st.integers(min_value=0, max_value=len(L) - 1)),
        ),
        max_size=14,
    )
)
def test_nobody_gets_more_than_its_share_of_what_was_received(cp, pool, paid_campaign, steps):
    _, tree = paid_campaign
    received = 0
    for kind, value in steps:
        if kind == "pay":
            _pay(cp, pool, value)
            received += value
            continue
        who = L[value]
        if pool.releasable(cp.token.address, who, PAID[who], tree.proof(who)):
            _claim(pool, cp.token, tree, who)
        else:
            with boa.reverts("royalties: nothing to claim"):
                _claim(pool, cp.token, tree, who)
    released = pool.released(cp.token.address)
    assert released + cp.token.balanceOf(pool.address) == received
    for who in L:
        assert pool.withdrawn(cp.token.address, who) <= received * PAID[who] // TOTAL
    assert sum(pool.withdrawn(cp.token.address, w) for w in L) == released
