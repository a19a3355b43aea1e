"""Security review of contracts/labeling/LabelerRoyalties.vy: each attack as a proof of concept, by
party (labeler, client/deployer, outsider, rounding, the asset registry's flow, frozen money).

An attack the contract defends is kept as a regression test of the defence; none needed a change to
the contract. The ones left to the off-chain side (a fake LabelPayouts, a hostile committee, a
snapshot taken while the campaign is open) assert what a dataset buyer must check: `payouts()`, the
campaign's committee, `shares_round()` against the campaign's `last_round` and `closed_at`."""

# ruff: noqa: F811 (the reviewed module's fixtures are imported, then named as test arguments)

from __future__ import annotations

import boa
from asset_fixtures import DATASET, deploy_licensing, deploy_registry, fund, pay_revenue, register
from committee_fixtures import oracle_accounts
from conftest import MOCKS
from escrow_harness import new_account
from label_payouts_fixtures import WINDOW, Campaigns, Tree
from murky_tree import StandardMerkleTree

# The reviewed tests' campaign (L, PAID), helpers and fixtures (committee, deployer, paid campaign, pool).
from test_labeler_royalties import (  # noqa: F401
    PAID,
    TOTAL,
    L,
    _claim,
    _pay,
    committee,
    paid_campaign,
    pool,
    royalties_deployer,
)

# A contract posing as LabelPayouts: `campaign` returns whatever root and total it was given.
FAKE_PAYOUTS = """
# pragma version ~=0.4.3
struct Campaign:
    client: address
    token: address
    committee: address
    spec_hash: bytes32
    budget: uint256
    paid: uint256
    refunded: uint256
    challenge_window: uint64
    close_time: uint64
    closed_at: uint64
    last_round: uint256
    root: bytes32
    total: uint256
    round: uint256
    pending_root: bytes32
    pending_total: uint256
    pending_round: uint256
    pending_at: uint64

root: public(bytes32)
total: public(uint256)

@deploy
def __init__(root_: bytes32, total_: uint256):
    self.root = root_
    self.total = total_

@external
@view
def campaign(campaign_id: uint256) -> Campaign:
    c: Campaign = empty(Campaign)
    c.root = self.root
    c.total = self.total
    c.round = 1
    return c
"""

# A token whose balanceOf lies (a huge balance for everyone) and whose transfer moves nothing.
LYING_TOKEN = """
# pragma version ~=0.4.3
@external
@view
def balanceOf(account: address) -> uint256:
    return 10**40

@external
def transfer(to: address, amount: uint256) -> bool:
    return True
"""


def _args(tree: Tree, who: str) -> tuple:
    return who, tree.amounts[who], tree.proof(who)


# --------------------------------------------------------------------------- a labeler


def test_labeler_cannot_claim_more_than_its_share_with_a_larger_leaf_amount(cp, pool, paid_campaign):
    """Defended: the leaf binds (labeler, shares); 301 or the total are not L0's leaf."""
    _, tree = paid_campaign
    _pay(cp, pool, 6_080)
    for shares in (301, TOTAL, 2**255):
        with boa.reverts("royalties: invalid proof"):
            pool.claim(cp.token.address, L[0], shares, tree.proof(L[0]))
    assert _claim(pool, cp.token, tree, L[0]) == 3_000


def test_claim_then_later_payment_pays_only_the_new_part_once(cp, pool, paid_campaign):
    """Defended: withdrawn is per token and labeler; a later payment pays its share of the new money."""
    _, tree = paid_campaign
    _pay(cp, pool, 6_080)
    assert _claim(pool, cp.token, tree, L[1]) == 2_000
    _pay(cp, pool, 6_080)
    assert _claim(pool, cp.token, tree, L[1]) == 2_000
    with boa.reverts("royalties: nothing to claim"):
        _claim(pool, cp.token, tree, L[1])
    assert pool.withdrawn(cp.token.address, L[1]) == 4_000 == 12_160 * 200 // TOTAL


def test_front_running_a_claim_pays_the_labeler_not_the_front_runner(cp, pool, paid_campaign):
    """Defended: a claim copied from the mempool pays the leaf's labeler, whoever sends it."""
    _, tree = paid_campaign
    _pay(cp, pool, 6_080)
    attacker = new_account("front-runner").address
    assert _claim(pool, cp.token, tree, L[0], sender=attacker) == 3_000
    assert cp.token.balanceOf(attacker) == 0 and cp.token.balanceOf(L[0]) == 3_000


def test_front_running_one_claim_reverts_a_relayers_claim_many(cp, pool, paid_campaign):
    """Found, left: one claim sent before a batch makes the whole `claim_many` revert ("every claim must
    owe something"), as in LabelPayouts. Nobody loses money (the front-run pays the labeler); the relayer
    loses gas and re-sends without that labeler."""
    _, tree = paid_campaign
    _pay(cp, pool, 6_080)
    batch = [_args(tree, w) for w in L]
    _claim(pool, cp.token, tree, L[2], sender=new_account("griefer").address)
    with boa.reverts("royalties: nothing to claim"):
        pool.claim_many(cp.token.address, batch)
    assert pool.claim_many(cp.token.address, [b for b in batch if b[0] != L[2]]) == 6_080 - 1_000


def test_one_claim_twice_in_a_batch_pays_nothing_twice(cp, pool, paid_campaign):
    """Defended: a batch naming a labeler twice reverts whole (the second owes nothing), paying nobody."""
    _, tree = paid_campaign
    _pay(cp, pool, 6_080)
    with boa.reverts("royalties: nothing to claim"):
        pool.claim_many(cp.token.address, [_args(tree, L[0]), _args(tree, L[1]), _args(tree, L[0])])
    assert pool.released(cp.token.address) == 0 and cp.token.balanceOf(L[0]) == 0


def test_a_leaf_of_an_earlier_or_later_root_is_refused(royalties_deployer, cp):
    """Defended: only the leaves of the root bound at deployment count (cumulative leaves of other rounds
    hash to other roots)."""
    cid = cp.create()
    r1, r2, r3 = Tree({L[0]: 100, L[1]: 100}), Tree(PAID), Tree({**PAID, L[4]: 5_000})
    cp.post_and_wait(cid, 1, r1)
    cp.post_and_wait(cid, 2, r2)
    pool = royalties_deployer.deploy(cp.payouts.address, cid)
    assert pool.shares_round() == 2 and pool.shares_root() == r2.root
    cp.post_and_wait(cid, 3, r3)
    _pay(cp, pool, 6_080)
    with boa.reverts("royalties: invalid proof"):
        pool.claim(cp.token.address, *_args(r1, L[1]))  # round 1: 100 of a 200 total
    with boa.reverts("royalties: invalid proof"):
        pool.claim(cp.token.address, *_args(r3, L[4]))  # round 3: 5,000
    assert _claim(pool, cp.token, r2, L[4]) == 10


# --------------------------------------------------------------------------- the client / deployer


def test_deploying_on_a_pending_root_binds_the_previous_claimable_one(royalties_deployer, cp):
    """Defended: a root inside its challenge window is never bound; if challenged later, the pool is
    unaffected."""
    cid = cp.create()
    honest, greedy = Tree(PAID), Tree({**PAID, cp.client: 10_000})
    cp.post_and_wait(cid, 1, honest)
    cp.post(cid, 2, greedy)  # pending
    pool = royalties_deployer.deploy(cp.payouts.address, cid)
    assert pool.shares_root() == honest.root and pool.shares_round() == 1
    cp.payouts.challenge(cid, sender=cp.client)  # round 2 dropped
    _pay(cp, pool, 6_080)
    with boa.reverts("royalties: invalid proof"):
        pool.claim(cp.token.address, *_args(greedy, cp.client))


def test_a_due_unpromoted_root_is_bound_and_can_no_longer_be_challenged(royalties_deployer, cp):
    """Defended: the `campaign` view counts a pending root past its window as claimable; such a root can
    no longer be challenged, so the binding is final."""
    cid = cp.create()
    tree = Tree(PAID)
    cp.post(cid, 1, tree)
    boa.env.time_travel(seconds=WINDOW)
    assert cp.payouts.campaign(cid).root == tree.root  # not yet written as claimable
    pool = royalties_deployer.deploy(cp.payouts.address, cid)
    assert pool.shares_root() == tree.root
    with boa.reverts("payouts: challenge window over"):
        cp.payouts.challenge(cid, sender=cp.client)


def test_a_fake_payouts_contract_binds_whatever_root_its_deployer_wants(royalties_deployer, cp):
    """Found, left to the off-chain side: the contract trusts `payouts_`; a contract posing as LabelPayouts
    makes the deployer's sock the only labeler. A buyer or labeler must check `payouts()` is the
    deployment of LabelPayouts it knows (the pool cannot know it)."""
    sock = new_account("deployer's sock").address
    tree = Tree({sock: 1})
    fake = boa.loads(FAKE_PAYOUTS, tree.root, 1)
    pool = royalties_deployer.deploy(fake.address, 1)
    _pay(cp, pool, 6_080)
    assert _claim(pool, cp.token, tree, sock) == 6_080
    assert pool.payouts() == fake.address != cp.payouts.address  # what a check sees


def test_a_campaign_with_the_clients_own_committee_binds_the_clients_tree(royalties_deployer, cp, accounts):
    """Found, left to the off-chain side: LabelPayouts accepts any committee contract, so a client can name
    one it controls and sign a root paying itself. The pool binds it as faithfully as an honest one: the
    campaign's committee (`payouts.campaign(id).committee`) must be one the buyer trusts."""
    sock_oracle = oracle_accounts(1, "client's sock oracle")
    stub = boa.load(str(MOCKS / "CommitteeStub.vy"), [sock_oracle[0].address], 1)
    hostile = Campaigns(cp.payouts, cp.token, stub, accounts.owner.address, cp.client)
    cid = hostile.create(budget=1)
    tree = Tree({cp.client: 1})
    hostile.post(cid, 1, tree, signers=sock_oracle)
    boa.env.time_travel(seconds=WINDOW)
    pool = royalties_deployer.deploy(cp.payouts.address, cid)
    _pay(cp, pool, 6_080)
    assert _claim(pool, cp.token, tree, cp.client) == 6_080
    assert cp.payouts.campaign(cid).committee == stub.address != cp.committee.address


def test_a_snapshot_while_the_campaign_is_open_leaves_later_labelers_out(royalties_deployer, cp):
    """Found, left to the off-chain side: the shares are the claimable root at deployment; deployed after
    round 1 of an open campaign, round 2's new labeler gets no royalties. `shares_round()` against the
    campaign's `last_round` and `closed_at` shows it."""
    cid = cp.create()
    early = Tree({L[0]: 100})
    cp.post_and_wait(cid, 1, early)
    pool = royalties_deployer.deploy(cp.payouts.address, cid)
    final = Tree({L[0]: 100, L[1]: 900})
    cp.post_and_wait(cid, 2, final)
    _pay(cp, pool, 1_000)
    assert _claim(pool, cp.token, early, L[0]) == 1_000  # all of it, to round 1's only labeler
    assert pool.releasable(cp.token.address, *_args(final, L[1])) == 0
    c = cp.payouts.campaign(cid)
    assert pool.shares_round() < c.last_round and c.closed_at == 0


# --------------------------------------------------------------------------- a bad tree


def test_leaves_above_the_signed_total_make_the_last_claimers_race(royalties_deployer, cp):
    """Found, left: a committee signs a tree whose leaves (300 + 200 + 400) sum above its total (500), so
    the labelers are owed 180 % of what arrives. Nobody gets more than its signed part of what was
    received and every unit still goes to a valid leaf (nothing frozen), but whoever claims first after a
    payment is paid and the last claimer's claim reverts although `releasable` shows its due. Left: the
    committee is trusted for the total as in LabelPayouts; counting shares against the total (as
    LabelPayouts caps claims) would freeze the excluded labelers' part forever instead."""
    cid = cp.create()
    bad = Tree({L[0]: 300, L[1]: 200, L[2]: 400})
    cp.post(cid, 1, bad, total=500)
    boa.env.time_travel(seconds=WINDOW)
    pool = royalties_deployer.deploy(cp.payouts.address, cid)
    assert pool.total_shares() == 500
    _pay(cp, pool, 1_000)
    assert _claim(pool, cp.token, bad, L[2]) == 800  # first: its whole part
    assert pool.releasable(cp.token.address, *_args(bad, L[0])) == 600  # promised, not there
    with boa.reverts():
        _claim(pool, cp.token, bad, L[0])
    with boa.reverts():
        _claim(pool, cp.token, bad, L[1])
    _pay(cp, pool, 1_000)  # 1,200 held: L0, late at the first payment, is first now
    assert _claim(pool, cp.token, bad, L[0]) == 1_200
    with boa.reverts():
        _claim(pool, cp.token, bad, L[1])  # L1 has lost both races
    for who, shares in ((L[0], 300), (L[1], 200), (L[2], 400)):
        assert pool.withdrawn(cp.token.address, who) <= 2_000 * shares // 500
    assert pool.released(cp.token.address) == 2_000 and cp.token.balanceOf(pool.address) == 0


def test_a_labeler_with_two_leaves_is_paid_at_most_its_larger_leaf(royalties_deployer, cp):
    """Defended: two leaves for one labeler (a bad tree) do not add up: withdrawn is per labeler, so the
    smaller leaf's part is included in the larger's."""
    cid = cp.create()
    sock = new_account("two-leaf labeler").address
    values = [[sock, 100], [sock, 300], [L[1], 200]]
    mt = StandardMerkleTree.of(values, ["address", "uint256"])
    root = bytes(mt.tree[0])
    proofs = [[bytes.fromhex(p[2:]) for p in mt.get_proof(i)] for i in range(3)]
    cp.payouts.post_root(cid, 1, root, 500, cp.signatures(cid, 1, root, 500))
    boa.env.time_travel(seconds=WINDOW)
    pool = royalties_deployer.deploy(cp.payouts.address, cid)
    _pay(cp, pool, 1_000)
    assert pool.claim(cp.token.address, sock, 100, proofs[0]) == 200
    assert pool.claim(cp.token.address, sock, 300, proofs[1]) == 400
    with boa.reverts("royalties: nothing to claim"):
        pool.claim(cp.token.address, sock, 100, proofs[0])
    assert pool.withdrawn(cp.token.address, sock) == 600 == 1_000 * 300 // 500
    assert pool.claim(cp.token.address, L[1], 200, proofs[2]) == 400
    assert cp.token.balanceOf(pool.address) == 0


def test_a_leaf_naming_the_pool_itself_only_re_shares_its_part(royalties_deployer, cp):
    """Defended: the pool's address is predictable before deployment (the deployer's nonce; placed here
    with titanoboa's override_address), so a tree could name it. Its claims "pay" the pool itself: the
    balance stays, `released` grows, so `received` grows by what it paid itself. That re-shares its part
    among the other labelers (received tends to R * T / (T - s)); they are never owed more than the pool
    holds, and every unit still goes to a real labeler."""
    cid = cp.create()
    at = new_account("predicted pool address").address
    tree = Tree({at: 100, L[0]: 100, L[1]: 100})
    cp.post_and_wait(cid, 1, tree)
    pool = royalties_deployer.deploy(cp.payouts.address, cid, override_address=at)
    _pay(cp, pool, 3_000)
    for _ in range(20):
        if not pool.releasable(cp.token.address, *_args(tree, at)):
            break
        _claim(pool, cp.token, tree, at)
        owed = sum(pool.releasable(cp.token.address, *_args(tree, w)) for w in L[:2])
        assert owed <= cp.token.balanceOf(pool.address) == 3_000
    assert pool.releasable(cp.token.address, *_args(tree, at)) == 0
    paid = [_claim(pool, cp.token, tree, w) for w in L[:2]]
    assert paid == [1_499, 1_499] and cp.token.balanceOf(pool.address) == 2


# --------------------------------------------------------------------------- an outsider


def test_outsider_dust_is_shared_and_claimable_by_nobody_else(cp, pool, paid_campaign):
    """Defended: dust sent by anyone is shared like royalties; an outsider has no leaf."""
    _, tree = paid_campaign
    outsider = new_account("dust sender").address
    cp.mint(outsider, 1)
    cp.token.transfer(pool.address, 1, sender=outsider)
    for who in L:
        assert pool.releasable(cp.token.address, *_args(tree, who)) == 0
    with boa.reverts("royalties: invalid proof"):
        pool.claim(cp.token.address, outsider, 1, tree.proof(L[4]))
    _pay(cp, pool, 607)
    assert _claim(pool, cp.token, tree, L[0]) == 300


def test_reentry_from_a_hostile_tokens_transfer_cannot_claim_another_token(cp, pool, paid_campaign):
    """Defended: the reentrancy lock covers every claim; a hostile token's transfer re-entering `claim`
    for the real token fails, and the real token's accounting is untouched."""
    _, tree = paid_campaign
    _pay(cp, pool, 6_080)
    hostile = boa.load(str(MOCKS / "ReentrantToken.vy"))
    hostile.mint(pool.address, 6_080)
    hostile.arm(pool.address, pool.claim.prepare_calldata(cp.token.address, *_args(tree, L[0])), False)
    assert _claim(pool, hostile, tree, L[0]) == 3_000
    assert hostile.attempts() == 1 and not hostile.last_ok()
    assert pool.withdrawn(cp.token.address, L[0]) == 0 and cp.token.balanceOf(L[0]) == 0
    assert _claim(pool, cp.token, tree, L[0]) == 3_000


def test_a_token_whose_balance_lies_touches_only_its_own_accounting(cp, pool, paid_campaign):
    """Defended: balances and withdrawals are per token; a lying token pays its own nothing."""
    _, tree = paid_campaign
    _pay(cp, pool, 6_080)
    liar = boa.loads(LYING_TOKEN)
    assert _claim(pool, liar, tree, L[0]) == 10**40 * 300 // TOTAL
    assert _claim(pool, cp.token, tree, L[0]) == 3_000
    assert pool.released(cp.token.address) == 3_000
    assert cp.token.balanceOf(pool.address) == 3_080


# --------------------------------------------------------------------------- rounding


def test_many_tiny_payments_lose_nothing_but_the_final_floor(cp, pool, paid_campaign):
    """Defended: dues are computed on everything received, so 300 one-unit payments claimed after each
    one pay floor(300 * shares / total) in the end; at most one unit per labeler stays."""
    _, tree = paid_campaign
    for _ in range(300):
        _pay(cp, pool, 1)
        if pool.releasable(cp.token.address, *_args(tree, L[0])):
            _claim(pool, cp.token, tree, L[0])
    for who in L[1:]:
        if pool.releasable(cp.token.address, *_args(tree, who)):
            _claim(pool, cp.token, tree, who)
    for who in L:
        assert pool.withdrawn(cp.token.address, who) == 300 * PAID[who] // TOTAL
    assert cp.token.balanceOf(pool.address) < len(L)


def test_a_signed_total_above_the_leaves_freezes_the_gap_forever(royalties_deployer, cp):
    """Found, left: a total signed above the leaves' sum (a committee's mistake) leaves its part of every
    payment in the pool forever; nothing on chain knows the true sum and there is no owner to sweep it."""
    cid = cp.create()
    tree = Tree({L[0]: 100, L[1]: 100})
    cp.post(cid, 1, tree, total=400)
    boa.env.time_travel(seconds=WINDOW)
    pool = royalties_deployer.deploy(cp.payouts.address, cid)
    _pay(cp, pool, 1_000)
    assert pool.claim_many(cp.token.address, [_args(tree, L[0]), _args(tree, L[1])]) == 500
    assert cp.token.balanceOf(pool.address) == 500


# --------------------------------------------------------------------------- frozen money


def test_a_labeler_the_token_blocks_leaves_only_its_own_share_frozen(royalties_deployer, cp, paid_campaign):
    """Found, left (by design, no owner key): a labeler a token blocks (USDC-style) cannot be paid in that
    token; its share stays in the pool forever. The other labelers and tokens are unaffected."""
    cid, tree = paid_campaign
    pool = royalties_deployer.deploy(cp.payouts.address, cid)
    blk = boa.load(str(MOCKS / "BlocklistToken.vy"))
    blk.mint(pool.address, 6_080)
    blk.set_blocked(L[0], True)
    with boa.reverts():
        _claim(pool, blk, tree, L[0])
    for who in L[1:]:
        _claim(pool, blk, tree, who)
    assert blk.balanceOf(pool.address) == 6_080 - sum(6_080 * PAID[w] // TOTAL for w in L[1:])
    assert blk.balanceOf(pool.address) >= 3_000


# --------------------------------------------------------------------------- the asset registry's flow


def test_licensing_credits_the_pool_and_only_the_pool_can_receive_it(
    royalties_deployer, cp, paid_campaign, escrow, token, accounts
):
    """Defended: a dataset registered with the pool as a creator: a sale's creator part is credited to the
    pool; anyone's `claim_for` pays it to the pool only (an outsider's `claim` has nothing); the labelers
    then pull it by their shares."""
    cid, tree = paid_campaign
    pool = royalties_deployer.deploy(cp.payouts.address, cid)
    registry = deploy_registry(escrow)
    licensing = deploy_licensing(registry)
    client = cp.client
    asset = register(registry, client, kind=DATASET, creators=[(pool.address, 5_000)])
    payer = new_account("marketplace").address
    fund(token, payer, licensing, 12_160, accounts.owner.address)
    pay_revenue(licensing, asset, token.address, 12_160, sender=payer)
    assert licensing.claimable(pool.address, token.address) == 6_080
    assert licensing.claimable(client, token.address) == 6_080
    outsider = new_account("credit thief").address
    with boa.reverts("licence: nothing to claim"):
        licensing.claim(token.address, sender=outsider)
    assert licensing.claim_for(pool.address, token.address, sender=outsider) == 6_080
    assert token.balanceOf(outsider) == 0 and token.balanceOf(pool.address) == 6_080
    assert pool.claim_many(token.address, [_args(tree, w) for w in L]) == 6_080
    assert [token.balanceOf(w) for w in L] == [6_080 * PAID[w] // TOTAL for w in L]
