"""Attacks on AssetRegistry and Licensing, each kept as a regression test.

Found and fixed while playing attacker (see each test's docstring for the finding):
1. a copied timestamp commitment: the committer's address is inside the committed hash;
2. the other party registering a deliverable first (wrong manifest, parents of its own): only
   the party that owns the deliverable registers it;
3. a client shrinking the freelancer's creator share by naming parents of its own: the
   accepted IP terms cap the deliverables' upstream share.
The other tests show the attack fails as built: IP without paying, an outsider, a buyer who
wants a cheaper licence or a refund, an owner revoking what it sold as irrevocable, hostile and
reentrant tokens, lineages built to exhaust gas.
"""

from __future__ import annotations

import boa
import pytest
from asset_fixtures import (
    AMOUNT,
    MANIFEST,
    ZERO32,
    acct,
    buy,
    buy_with_permit,
    capture,
    commitment,
    deploy_licensing,
    deploy_registry,
    distribute,
    fund,
    offer_split,
    paid_milestone,
    pay_revenue,
    record_of,
    register,
    split_of,
    terms_hash,
)
from escrow_harness import OK, now
from eth_utils import keccak

OWNER, ATTACKER, BOB = acct("owner"), acct("attacker"), acct("bob")
SALT = keccak(b"salt of the victim")
PRICE = 1_000_000


def norm(x) -> str:
    return str(x).lower()


@pytest.fixture(scope="module")
def registry(escrow):
    return deploy_registry(escrow)


@pytest.fixture(scope="module")
def licensing(registry):
    return deploy_licensing(registry)


def offer(licensing, token, asset, seller=OWNER, *, price=PRICE, revocable=False, transferable=False):
    return licensing.offer(
        asset, token.address, price, 0, True, 0, transferable, revocable, "", 0, sender=seller
    )


def deliver(registry, jid, state, sender, parents=()):
    asset_id = registry.register_deliverable(jid, state, 0, MANIFEST, 0, list(parents), 0, sender=sender)
    assert capture(registry) == asset_id
    return asset_id


# --------------------------------------------------------------------------- timestamps


def test_a_copied_commitment_proves_nothing_for_the_copier(registry):
    """Finding 1. With keccak256(manifest || salt) and one stamp per commitment, an attacker who
    saw the victim's `timestamp` in the mempool front-ran it (the victim's then reverted), and
    when the registration revealed manifest and salt, front-ran it too: the attacker's asset got
    the early `existed_since`. Now the stamp is per committer and the hash holds the committer."""
    c = commitment(MANIFEST, SALT, OWNER)
    registry.timestamp(c, sender=ATTACKER)  # front-run copy, same block
    registry.timestamp(c, sender=OWNER)  # the victim is not blocked
    t0 = now()
    boa.env.time_travel(seconds=3_600)
    # the registration reveals MANIFEST and SALT: the copier's stamp does not open with them
    with boa.reverts("asset: commitment not timestamped by caller"):
        register(registry, ATTACKER, salt=SALT)
    asset = register(registry, OWNER, salt=SALT)
    assert record_of(registry, asset).existed_since == t0
    # what the copier can still do is register the manifest now, without the early time
    late = register(registry, ATTACKER)
    assert record_of(registry, late).existed_since == now() > t0


# --------------------------------------------------------------------------- IP on payment


def test_the_client_gets_no_ip_without_paying(registry, escrow, token, accounts):
    """A milestone the client did not pay in full (split by the arbiter, refunded, still open) never
    passes the rights: a split's deliverable is the freelancer's (who was paid part of it); without
    the freelancer's acceptance the rights do not pass either."""
    from escrow_harness import EscrowHarness

    h = EscrowHarness(escrow, token, accounts.owner.address)
    client, freelancer, arbiter = accounts.client, accounts.freelancer, accounts.arbiter
    jid = h.create_job(client, [AMOUNT, AMOUNT], freelancer=freelancer, arbiter=arbiter, expect=OK)
    registry.propose_ip_terms(jid, h.state(jid), True, 0, 0, sender=client.address)
    registry.accept_ip_terms(jid, h.state(jid), terms_hash(True, 0), sender=freelancer.address)
    h.submit(freelancer, jid, 0, expect=OK)
    h.resolve(arbiter, jid, 0, AMOUNT // 2, expect=OK)  # RESOLVED: half paid
    totals = [AMOUNT, AMOUNT]  # what acceptance recorded
    with boa.reverts("asset: caller does not own the deliverable"):
        registry.register_deliverable(jid, h.state(jid), 0, MANIFEST, 0, [], 0, totals, sender=client.address)
    with boa.reverts("asset: milestone totals differ"):  # a smaller price recorded would make half "full"
        registry.register_deliverable(
            jid, h.state(jid), 0, MANIFEST, 0, [], 0, [AMOUNT // 2, AMOUNT], sender=client.address
        )
    kept = registry.register_deliverable(
        jid, h.state(jid), 0, MANIFEST, 0, [], 0, totals, sender=freelancer.address
    )
    assert norm(registry.ownerOf(kept)) == norm(freelancer.address)
    # a forged state that says PAID does not match the escrow's hash
    forged = list(h.state(jid))
    milestones = [list(m) for m in forged[-1]]
    milestones[0][2] = 3
    forged[-1] = [tuple(m) for m in milestones]
    with boa.reverts("asset: stale job state"):
        deliver(registry, jid, tuple(forged), client.address)


def test_the_other_party_cannot_take_the_deliverables_slot(registry, h, accounts):
    """Finding 2. Either party could register a deliverable, once per milestone: the freelancer
    of a transferred deliverable could register it first with a wrong manifest, or with parents
    of their own taking half the client's revenue, and the client could never fix it (and the
    client could do the same to a freelancer's deliverable). Now only its owner registers it."""
    client, freelancer = accounts.client, accounts.freelancer
    mine = register(registry, freelancer.address)
    jid, st_ = paid_milestone(h, client, freelancer, terms=(True, 2_000, 0), registry=registry)
    with boa.reverts("asset: caller does not own the deliverable"):
        registry.register_deliverable(
            jid, st_, 0, "bafy-wrong", 1, [(mine, 5_000)], 0, sender=freelancer.address
        )
    assert registry.deliverable_asset(jid, 0) == 0
    a = deliver(registry, jid, st_, client.address)
    assert norm(registry.ownerOf(a)) == norm(client.address)


def test_the_client_cannot_shrink_the_creator_share_with_parents_of_its_own(
    registry, licensing, h, token, accounts
):
    """Finding 3. The creators' share applies to what the parents leave: a client registering a
    transferred deliverable with a 50 % parent of its own halved the freelancer's agreed royalty.
    Now the accepted terms cap the parents' share (here 10 %, the base model's)."""
    client, freelancer = accounts.client, accounts.freelancer
    base = register(registry, OWNER)
    sock = register(registry, client.address)
    jid, st_ = paid_milestone(h, client, freelancer, terms=(True, 3_000, 1_000), registry=registry)
    with boa.reverts("asset: parent shares above the agreed cap"):
        deliver(registry, jid, st_, client.address, parents=[(base, 1_000), (sock, 4_000)])
    a = deliver(registry, jid, st_, client.address, parents=[(base, 1_000)])
    fund(token, BOB, licensing, PRICE, accounts.owner.address)
    pay_revenue(licensing, a, token.address, PRICE, sender=BOB)
    # the freelancer gets at least creator_bps of (1 - cap) of every payment
    assert licensing.claimable(freelancer.address, token.address) == PRICE * 9 // 10 * 3 // 10


def test_ip_terms_cannot_be_switched_under_the_freelancer(registry, h, accounts):
    """The client re-proposes worse terms in front of the freelancer's acceptance: the acceptance
    names the terms' hash and fails; after acceptance the terms are frozen."""
    client, freelancer = accounts.client, accounts.freelancer
    jid = h.create_job(client, [AMOUNT], freelancer=freelancer, expect=OK)
    st_ = h.state(jid)
    registry.propose_ip_terms(jid, st_, True, 3_000, 0, sender=client.address)
    registry.propose_ip_terms(jid, st_, True, 0, 5_000, sender=client.address)  # the front-run
    with boa.reverts("asset: terms differ"):
        registry.accept_ip_terms(jid, st_, terms_hash(True, 3_000), sender=freelancer.address)
    assert not registry.ip_terms(jid).accepted


def test_an_outsider_can_only_help(registry, licensing, h, token, accounts):
    """An outsider cannot propose, accept or register a job's IP, nor claim anyone's money:
    `claim_for` and `distribute` only ever pay the accounts they owe."""
    client, freelancer, outsider = accounts.client, accounts.freelancer, accounts.outsider.address
    jid, st_ = paid_milestone(h, client, freelancer)
    with boa.reverts("asset: caller is not the job's client"):
        registry.propose_ip_terms(jid, st_, True, 0, 0, sender=outsider)
    with boa.reverts("asset: caller is not the job's freelancer"):
        registry.accept_ip_terms(jid, st_, terms_hash(True, 0), sender=outsider)
    with boa.reverts("asset: caller is not a party to the job"):
        deliver(registry, jid, st_, outsider)
    a = register(registry, OWNER)
    fund(token, BOB, licensing, PRICE, accounts.owner.address)
    pay_revenue(licensing, a, token.address, PRICE, sender=BOB)
    before = token.balanceOf(outsider)
    licensing.claim_for(OWNER, token.address, sender=outsider)
    assert token.balanceOf(outsider) == before and token.balanceOf(OWNER) == PRICE
    with boa.reverts("licence: nothing to claim"):
        licensing.claim(token.address, sender=outsider)


# --------------------------------------------------------------------------- buyers and owners


def test_a_buyer_gets_no_discount_and_no_refund(registry, licensing, token, accounts):
    a = register(registry, OWNER)
    o = offer(licensing, token, a)
    buyer = accounts.client.address
    fund(token, buyer, licensing, 2 * PRICE, accounts.owner.address)
    with boa.reverts("licence: price above max"):
        buy(licensing, o, PRICE - 1, sender=buyer)
    lic = buy(licensing, o, 2 * PRICE, sender=buyer)  # a generous max still pays the price only
    assert token.balanceOf(buyer) == PRICE
    licensing.surrender(lic, sender=buyer)  # surrendering refunds nothing
    assert token.balanceOf(buyer) == PRICE and licensing.claimable(buyer, token.address) == 0
    assert token.balanceOf(licensing.address) == PRICE


def test_an_owner_cannot_revoke_what_it_sold_as_irrevocable(registry, licensing, token, accounts):
    """Withdrawing the offer, re-offering the asset as revocable, or selling the asset on does not
    make a licence sold as irrevocable revocable: the flag is the immutable offer's."""
    a = register(registry, OWNER)
    o = offer(licensing, token, a)
    buyer = accounts.client.address
    fund(token, buyer, licensing, PRICE, accounts.owner.address)
    lic = buy(licensing, o, PRICE, sender=buyer)
    licensing.withdraw_offer(o, sender=OWNER)
    offer(licensing, token, a, revocable=True)
    with boa.reverts("licence: not revocable"):
        licensing.revoke(lic, "", sender=OWNER)
    registry.transferFrom(OWNER, BOB, a, sender=OWNER)
    with boa.reverts("licence: not revocable"):
        licensing.revoke(lic, "", sender=BOB)
    with boa.reverts("licence: caller is not the holder"):
        licensing.surrender(lic, sender=OWNER)
    with boa.reverts("licence: not transferable"):
        licensing.transferFrom(buyer, OWNER, lic, sender=OWNER)
    assert licensing.is_valid(lic)


# --------------------------------------------------------------------------- hostile tokens


@pytest.fixture
def rtoken(reentrant_deployer):
    return reentrant_deployer.deploy()


def test_a_reentrant_token_cannot_reenter(registry, licensing, rtoken):
    a = register(registry, OWNER)
    rtoken.mint(BOB, 10 * PRICE)
    rtoken.approve(licensing.address, 10 * PRICE, sender=BOB)
    pay_revenue(licensing, a, rtoken.address, PRICE, sender=BOB)
    # during the owner's claim, the token calls claim again: refused by the lock
    rtoken.arm(licensing.address, licensing.claim.prepare_calldata(rtoken.address), False)
    assert licensing.claim(rtoken.address, sender=OWNER) == PRICE
    assert rtoken.attempts() == 1 and not rtoken.last_ok()
    assert rtoken.balanceOf(OWNER) == PRICE and rtoken.balanceOf(licensing.address) == 0
    # during a payment, the token calls distribute / buy: refused; bubbled up, nothing happens
    o = offer(licensing, rtoken, a)
    rtoken.arm(licensing.address, licensing.buy.prepare_calldata(o, PRICE, offer_split(licensing, o)), True)
    with boa.reverts():
        buy(licensing, o, PRICE, sender=BOB)
    assert licensing.licence_count() == 0 and rtoken.balanceOf(licensing.address) == 0


def test_a_token_that_returns_false_moves_nothing(registry, licensing, rtoken):
    a = register(registry, OWNER)
    rtoken.mint(BOB, PRICE)
    rtoken.approve(licensing.address, PRICE, sender=BOB)
    rtoken.set_return_false(True)
    with boa.reverts("licence: transfer failed"):
        pay_revenue(licensing, a, rtoken.address, PRICE, sender=BOB)
    rtoken.set_return_false(False)
    pay_revenue(licensing, a, rtoken.address, PRICE, sender=BOB)
    rtoken.set_return_false(True)
    with boa.reverts("licence: transfer failed"):
        licensing.claim(rtoken.address, sender=OWNER)
    assert licensing.claimable(OWNER, rtoken.address) == PRICE


# --------------------------------------------------------------------------- lineages built against gas


def test_a_deep_lineage_is_paid_one_bounded_step_at_a_time(registry, licensing, token, accounts):
    """A chain of 40 assets, each giving half to its parent: every distribute is one level
    (a parent's id is lower: no loop), costs the same, and no unit is lost."""
    ids = [register(registry, acct(f"level {0}"))]
    for level in range(1, 40):
        ids.append(register(registry, acct(f"level {level}"), parents=[(ids[-1], 5_000)]))
    fund(token, BOB, licensing, 2**40, accounts.owner.address)
    pay_revenue(licensing, ids[-1], token.address, 2**40, sender=BOB)
    gases = []
    for asset in reversed(ids[:-1]):
        distribute(licensing, asset, token.address, sender=BOB)
        gases.append(licensing._computation.get_gas_used())
    assert max(gases) < 120_000
    total = sum(licensing.claimable(acct(f"level {i}"), token.address) for i in range(40))
    assert total == 2**40 == token.balanceOf(licensing.address)
    for asset in ids:
        assert licensing.pending(asset, token.address) == 0


def test_maximum_fan_out_stays_within_a_bounded_cost(registry, licensing, token, accounts):
    """The widest split there is (8 parents, 8 creators), on a buy and on a distribute."""
    roots = [register(registry, acct(f"root {i}")) for i in range(8)]
    creators = [(acct(f"creator {i}"), 1_000) for i in range(8)]
    wide = register(registry, OWNER, creators=creators, parents=[(r, 625) for r in roots])
    mid = register(registry, OWNER, creators=creators, parents=[(wide, 5_000)] + [(r, 0) for r in roots[:7]])
    o = offer(licensing, token, mid)
    fund(token, BOB, licensing, 10 * PRICE, accounts.owner.address)
    buy(licensing, o, PRICE, sender=BOB)
    assert licensing._computation.get_gas_used() < 700_000
    distribute(licensing, wide, token.address, sender=BOB)
    assert licensing._computation.get_gas_used() < 600_000
    held = token.balanceOf(licensing.address)
    owed = sum(licensing.pending(r, token.address) for r in roots)
    owed += sum(licensing.claimable(a, token.address) for a, _ in creators) + licensing.claimable(
        OWNER, token.address
    )
    assert held == owed == PRICE


def test_unknown_offers_and_assets_fail_cleanly(registry, licensing, token):
    """A purchase of an offer that does not exist (its token is empty: no permit is sent), a
    distribution of an asset that does not exist."""
    with boa.reverts("licence: offer not active"):
        buy_with_permit(licensing, 7, PRICE, 0, 27, ZERO32, ZERO32, sender=BOB)
    with boa.reverts("licence: nothing pending"):
        distribute(licensing, 99, token.address)


# --------------------------------------------------------------------------- the record passed as calldata


def _forgeries(registry, asset, other):
    """Splits a hostile caller could pass for `asset`: a parent dropped, a creator's share sent to
    the attacker, a share changed, another record's details, another asset's split, none at all."""
    creators, parents, details = split_of(registry, asset)
    return [
        (creators, parents[1:], details),
        ([(ATTACKER, creators[0][1]), *creators[1:]], parents, details),
        (creators, [(parents[0][0], parents[0][1] - 1), *parents[1:]], details),
        ([(creators[0][0], 0), *creators[1:]], parents, details),
        (creators, parents, split_of(registry, other)[2]),
        split_of(registry, other),
        ([], [], ZERO32),
    ]


def test_a_forged_split_is_refused_everywhere(registry, licensing, token, accounts):
    """The registry stores only a hash of each record: a buyer, a payer or a distributor passing
    creators or parents of their own (to skip the parents, or to be paid as a creator) is refused
    by the hash check, and nothing moves."""
    root1, root2 = register(registry, BOB), register(registry, BOB)
    asset = register(
        registry,
        OWNER,
        manifest="bafy-licensed",
        creators=[(BOB, 2_000)],
        parents=[(root1, 1_000), (root2, 1_000)],
    )
    o = offer(licensing, token, asset)
    fund(token, ATTACKER, licensing, 10 * PRICE, accounts.owner.address)
    for forged in _forgeries(registry, asset, root1):
        with boa.reverts("licence: wrong asset record"):
            licensing.buy(o, PRICE, forged, sender=ATTACKER)
        with boa.reverts("licence: wrong asset record"):
            licensing.pay_revenue(asset, token.address, PRICE, forged, sender=ATTACKER)
    assert licensing.licence_count() == 0 and token.balanceOf(licensing.address) == 0
    buy(licensing, o, PRICE, sender=ATTACKER)  # the registered split goes through
    assert licensing.pending(root1, token.address) == PRICE // 10
    child = register(registry, ATTACKER, parents=[(root1, 0)])
    # (root2's split is root1's: the same record registered in the same block, so the same hash)
    assert split_of(registry, root2) == split_of(registry, root1)
    for forged in ([(ATTACKER, 10_000)], [], ZERO32), split_of(registry, child), split_of(registry, asset):
        with boa.reverts("licence: wrong asset record"):
            licensing.distribute(root1, token.address, forged, sender=ATTACKER)
    assert licensing.pending(root1, token.address) == PRICE // 10
    assert licensing.claimable(ATTACKER, token.address) == 0


def test_offer_fields_cannot_spill_into_each_other(registry, licensing, token):
    """An offer is packed in three slots: a price or a cap too large for its bits would have
    overwritten the asset id (a sale paying another asset's lineage); they are refused, and the
    largest accepted values read back whole."""
    a = register(registry, OWNER)
    with boa.reverts("licence: price too large"):
        licensing.offer(a, token.address, 2**128, 0, True, 0, False, False, "", 0, sender=OWNER)
    with boa.reverts("licence: too many licences"):
        licensing.offer(a, token.address, 1, 0, True, 0, False, False, "", 2**64, sender=OWNER)
    o = licensing.offer(
        a,
        token.address,
        2**128 - 1,
        3_153_600_000,
        True,
        1,
        True,
        True,
        "bafy-terms",
        2**64 - 1,
        sender=OWNER,
    )
    got = licensing.get_offer(o)
    assert (got.asset_id, norm(got.seller), norm(got.token), got.price, got.term_seconds) == (
        a,
        norm(OWNER),
        norm(token.address),
        2**128 - 1,
        3_153_600_000,
    )
    assert (got.commercial, got.kind, got.transferable, got.revocable, got.terms_cid) == (
        True,
        1,
        True,
        True,
        "bafy-terms",
    )
    assert (got.max_licences, got.sold, got.active) == (2**64 - 1, 0, True)


def test_a_licence_keeps_its_terms_through_transfers_and_surrender(registry, licensing, token, accounts):
    """A licence's holder shares its slot with its expiry, revoked flag and offer: a transfer
    changes the holder only (a revoked licence stays revoked for its new holder), a surrender
    clears the holder only (the data stays readable, the token is gone for every ERC-721 call)."""
    a = register(registry, OWNER)
    o = licensing.offer(a, token.address, PRICE, 86_400, True, 0, True, True, "", 0, sender=OWNER)
    buyer = accounts.client.address
    fund(token, buyer, licensing, 2 * PRICE, accounts.owner.address)
    lic = buy(licensing, o, PRICE, sender=buyer)
    expires = licensing.licence(lic).expires_at
    licensing.revoke(lic, "", sender=OWNER)
    licensing.transferFrom(buyer, BOB, lic, sender=buyer)
    data = licensing.licence(lic)
    assert norm(licensing.ownerOf(lic)) == norm(BOB) and (data.offer_id, data.expires_at, data.revoked) == (
        o,
        expires,
        True,
    )
    assert not licensing.is_valid(lic) and licensing.balanceOf(BOB) == 1 and licensing.balanceOf(buyer) == 0
    with boa.reverts("erc721: transfer from incorrect owner"):
        licensing.transferFrom(buyer, BOB, lic, sender=BOB)
    lic2 = buy(licensing, o, PRICE, sender=buyer)
    licensing.approve(ATTACKER, lic2, sender=buyer)
    licensing.surrender(lic2, sender=buyer)
    assert licensing.licence(lic2).offer_id == o and not licensing.is_valid(lic2)
    for call in (
        lambda: licensing.ownerOf(lic2),
        lambda: licensing.getApproved(lic2),
        lambda: licensing.transferFrom(buyer, ATTACKER, lic2, sender=ATTACKER),
        lambda: licensing.approve(ATTACKER, lic2, sender=buyer),
    ):
        with boa.reverts("erc721: invalid token ID"):
            call()
    with boa.reverts("licence: unknown licence"):
        licensing.revoke(lic2, "", sender=OWNER)
    with boa.reverts("erc721: invalid token ID"):
        licensing.surrender(lic2, sender=buyer)
