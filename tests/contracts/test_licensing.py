"""Licensing: offers, purchases (allowance and EIP-2612 permit), licence validity, expiry,
revocation and surrender, transferability, exact one-level splits, distribution up a 3-level
lineage, claims, pay_revenue and refused fee-on-transfer tokens."""

from __future__ import annotations

import boa
import pytest
from asset_fixtures import (
    COMPUTE,
    DAY,
    DOWNLOAD,
    ZERO,
    acct,
    buy,
    buy_with_permit,
    deploy_licensing,
    deploy_registry,
    distribute,
    fund,
    licensing_partial,
    pay_revenue,
    register,
    split,
)
from escrow_harness import now, permit_signature

OWNER, BOB, CAROL, DAVE, RELAYER = acct("owner"), acct("bob"), acct("carol"), acct("dave"), acct("relayer")
PRICE = 12_345_679
TERMS = "bafkreiterms"


def norm(x) -> str:
    return str(x).lower()


@pytest.fixture(scope="module")
def registry(escrow):
    return deploy_registry(escrow)


@pytest.fixture(scope="module")
def licensing(registry):
    return deploy_licensing(registry)


def make_offer(
    licensing,
    token,
    asset_id,
    seller=OWNER,
    *,
    price=PRICE,
    term=0,
    commercial=True,
    kind=DOWNLOAD,
    transferable=False,
    revocable=False,
    terms=TERMS,
    cap=0,
):
    return licensing.offer(
        asset_id,
        token.address,
        price,
        term,
        commercial,
        kind,
        transferable,
        revocable,
        terms,
        cap,
        sender=seller,
    )


@pytest.fixture
def world(registry, licensing, token, accounts):
    """An asset of OWNER with two creators; an offer on it; the buyer (accounts.client) funded."""
    asset = register(registry, OWNER, creators=[(BOB, 2_000), (CAROL, 1_000)])
    offer = make_offer(licensing, token, asset)
    buyer = accounts.client.address
    fund(token, buyer, licensing, 10 * PRICE, accounts.owner.address)
    return asset, offer, buyer


def own_logs(contract) -> list:
    """The last call's logs emitted by `contract` itself (token logs left out)."""
    return [lg for lg in contract.get_logs() if norm(lg.address) == norm(contract.address)]


def claimables(licensing, token, accounts_):
    return {norm(a): licensing.claimable(a, token.address) for a in accounts_}


# --------------------------------------------------------------------------- offers


def test_offer_and_withdraw(registry, licensing, token):
    asset = register(registry, OWNER)
    offer = make_offer(licensing, token, asset, term=30 * DAY, kind=COMPUTE, revocable=True, cap=3)
    log = own_logs(licensing)[-1]
    assert (log.offer_id, log.asset_id, norm(log.seller), norm(log.token)) == (
        1,
        asset,
        norm(OWNER),
        norm(token.address),
    )
    assert (log.price, log.term_seconds, log.kind, log.revocable, log.terms_cid, log.max_licences) == (
        PRICE,
        30 * DAY,
        COMPUTE,
        True,
        TERMS,
        3,
    )
    o = licensing.get_offer(offer)
    assert (o.asset_id, o.price, o.kind, o.max_licences, o.sold, o.active) == (
        asset,
        PRICE,
        COMPUTE,
        3,
        0,
        True,
    )
    with boa.reverts("licence: caller is not the asset's owner"):
        licensing.withdraw_offer(offer, sender=BOB)
    licensing.withdraw_offer(offer, sender=OWNER)
    log = own_logs(licensing)[-1]
    assert (type(log).__name__, log.offer_id, log.asset_id) == ("OfferWithdrawn", offer, asset)
    assert not licensing.get_offer(offer).active
    with boa.reverts("licence: offer not active"):
        licensing.withdraw_offer(offer, sender=OWNER)
    with boa.reverts("licence: unknown offer"):
        licensing.get_offer(2)


@pytest.mark.parametrize(
    "kw, reason",
    [
        ({"seller": BOB}, "licence: caller is not the asset's owner"),
        ({"kind": 2}, "licence: unknown kind"),
        ({"term": 3_153_600_001}, "licence: term too long"),
    ],
)
def test_offer_rejects(registry, licensing, token, kw, reason):
    asset = register(registry, OWNER)
    with boa.reverts(reason):
        make_offer(licensing, token, asset, **kw)


def test_offer_rejects_a_token_that_is_not_a_contract_and_an_unknown_asset(registry, licensing, token):
    asset = register(registry, OWNER)
    with boa.reverts("licence: token is not a contract"):
        licensing.offer(asset, BOB, 1, 0, True, 0, False, False, "", 0, sender=OWNER)
    with boa.reverts("erc721: invalid token ID"):
        make_offer(licensing, token, asset + 1)


# --------------------------------------------------------------------------- buying


def test_buy_mints_pays_and_splits_exactly(registry, licensing, token, world):
    asset, offer, buyer = world
    before = token.balanceOf(buyer)
    lic = buy(licensing, offer, PRICE, sender=buyer)
    logs = own_logs(licensing)
    assert lic == 1 and norm(licensing.ownerOf(lic)) == norm(buyer)
    names = [type(lg).__name__ for lg in logs]
    # the sale's price, token and buyer are in LicenceBought (no RevenueReceived, as pay_revenue has)
    assert names == ["Transfer", "LicenceBought", "RevenueSplit"]
    bought, split_log = logs[1], logs[2]
    assert (
        bought.licence_id,
        bought.offer_id,
        bought.asset_id,
        norm(bought.buyer),
        bought.price,
        bought.expires_at,
    ) == (1, offer, asset, norm(buyer), PRICE, 0)
    assert norm(bought.token) == norm(token.address)
    _, parts = split(PRICE, [], [(BOB, 2_000), (CAROL, 1_000)], OWNER)
    assert parts == {BOB: 2_469_135, CAROL: 1_234_567, OWNER: PRICE - 2_469_135 - 1_234_567}
    assert (split_log.amount, split_log.to_parents, split_log.to_creators, split_log.to_owner) == (
        PRICE,
        0,
        2_469_135 + 1_234_567,
        parts[OWNER],
    )
    assert claimables(licensing, token, parts) == {norm(a): v for a, v in parts.items()}
    assert token.balanceOf(buyer) == before - PRICE and token.balanceOf(licensing.address) == PRICE
    data = licensing.licence(lic)
    assert (
        data.offer_id,
        data.asset_id,
        data.kind,
        data.commercial,
        data.expires_at,
        data.revoked,
        data.price,
    ) == (offer, asset, DOWNLOAD, True, 0, False, PRICE)
    assert norm(data.token) == norm(token.address)
    assert licensing.is_valid(lic) and licensing.get_offer(offer).sold == 1
    assert licensing.tokenURI(lic) == "ipfs://" + TERMS


def test_buy_rejects(registry, licensing, token, world, accounts):
    asset, offer, buyer = world
    with boa.reverts("licence: price above max"):
        buy(licensing, offer, PRICE - 1, sender=buyer)
    with boa.reverts("licence: offer not active"):
        buy(licensing, offer + 1, PRICE, sender=buyer)
    poor = accounts.client2.address
    with boa.reverts("erc20: insufficient allowance"):
        buy(licensing, offer, PRICE, sender=poor)
    token.approve(licensing.address, PRICE, sender=poor)
    with boa.reverts("erc20: transfer amount exceeds balance"):
        buy(licensing, offer, PRICE, sender=poor)
    capped = make_offer(licensing, token, asset, cap=1)
    buy(licensing, capped, PRICE, sender=buyer)
    with boa.reverts("licence: sold out"):
        buy(licensing, capped, PRICE, sender=buyer)
    licensing.withdraw_offer(offer, sender=OWNER)
    with boa.reverts("licence: offer not active"):
        buy(licensing, offer, PRICE, sender=buyer)
    assert licensing.licence_count() == 1


def test_an_offer_lapses_when_the_asset_changes_hands(registry, licensing, token, world):
    asset, offer, buyer = world
    registry.transferFrom(OWNER, DAVE, asset, sender=OWNER)
    with boa.reverts("licence: asset changed hands"):
        buy(licensing, offer, PRICE, sender=buyer)
    with boa.reverts("licence: caller is not the asset's owner"):
        licensing.withdraw_offer(offer, sender=buyer)
    licensing.withdraw_offer(offer, sender=DAVE)
    fresh = make_offer(licensing, token, asset, seller=DAVE)
    buy(licensing, fresh, PRICE, sender=buyer)
    assert licensing.claimable(DAVE, token.address) > 0 and licensing.claimable(OWNER, token.address) == 0


def test_a_free_licence_moves_no_token(registry, licensing, token, accounts):
    asset = register(registry, OWNER)
    offer = make_offer(licensing, token, asset, price=0)
    lic = buy(licensing, offer, 0, sender=DAVE)
    assert [type(lg).__name__ for lg in own_logs(licensing)] == ["Transfer", "LicenceBought"]
    assert licensing.is_valid(lic) and token.balanceOf(licensing.address) == 0


def test_buy_with_permit_in_one_transaction(registry, licensing, token, accounts):
    asset = register(registry, OWNER)
    offer = make_offer(licensing, token, asset)
    buyer = accounts.freelancer
    token.mint(buyer.address, PRICE, sender=accounts.owner.address)
    deadline = now() + 3_600
    v, r, s = permit_signature(buyer, token, licensing.address, PRICE, deadline)
    assert token.allowance(buyer.address, licensing.address) == 0
    lic = buy_with_permit(licensing, offer, PRICE, deadline, v, r, s, sender=buyer.address)
    assert norm(licensing.ownerOf(lic)) == norm(buyer.address) and token.balanceOf(buyer.address) == 0
    assert token.nonces(buyer.address) == 1


def test_buy_with_a_front_run_or_bad_permit(registry, licensing, token, accounts):
    asset = register(registry, OWNER)
    offer = make_offer(licensing, token, asset)
    buyer = accounts.freelancer
    token.mint(buyer.address, 2 * PRICE, sender=accounts.owner.address)
    deadline = now() + 3_600
    v, r, s = permit_signature(buyer, token, licensing.address, PRICE, deadline)
    # someone submits the permit first: the purchase still goes through on the allowance
    token.permit(buyer.address, licensing.address, PRICE, deadline, v, r, s, sender=RELAYER)
    buy_with_permit(licensing, offer, PRICE, deadline, v, r, s, sender=buyer.address)
    # a permit signed by someone else gives no allowance: nothing moves
    v2, r2, s2 = permit_signature(
        accounts.outsider, token, licensing.address, PRICE, deadline, nonce=token.nonces(buyer.address)
    )
    with boa.reverts("erc20: insufficient allowance"):
        buy_with_permit(licensing, offer, PRICE, deadline, v2, r2, s2, sender=buyer.address)
    # a permit for less than the price is not enough either
    v3, r3, s3 = permit_signature(buyer, token, licensing.address, PRICE - 1, deadline)
    with boa.reverts("licence: price above max"):
        buy_with_permit(licensing, offer, PRICE - 1, deadline, v3, r3, s3, sender=buyer.address)
    assert token.balanceOf(buyer.address) == PRICE and licensing.licence_count() == 1


# --------------------------------------------------------------------------- licences


def test_expiry_revocation_and_surrender(registry, licensing, token, world):
    asset, _, buyer = world
    timed = make_offer(licensing, token, asset, term=DAY, revocable=True)
    lic = buy(licensing, timed, PRICE, sender=buyer)
    log = own_logs(licensing)[1]
    assert log.expires_at == now() + DAY == licensing.licence(lic).expires_at
    boa.env.time_travel(seconds=DAY - 1)
    assert licensing.is_valid(lic)
    boa.env.time_travel(seconds=1)
    assert not licensing.is_valid(lic)
    lic2 = buy(licensing, timed, PRICE, sender=buyer)
    with boa.reverts("licence: caller is not the asset's owner"):
        licensing.revoke(lic2, "bafy-reason", sender=buyer)
    licensing.revoke(lic2, "bafy-reason", sender=OWNER)
    log = own_logs(licensing)[-1]
    assert (log.licence_id, log.reason_cid) == (lic2, "bafy-reason")
    assert not licensing.is_valid(lic2) and licensing.licence(lic2).revoked
    with boa.reverts("licence: already revoked"):
        licensing.revoke(lic2, "", sender=OWNER)
    with boa.reverts("licence: unknown licence"):
        licensing.revoke(99, "", sender=OWNER)
    with boa.reverts("licence: caller is not the holder"):
        licensing.surrender(lic2, sender=OWNER)
    licensing.surrender(lic2, sender=buyer)
    assert licensing.get_logs()[-1].licence_id == lic2
    assert licensing.balanceOf(buyer) == 1 and licensing.licence(lic2).asset_id == asset
    with boa.reverts("erc721: invalid token ID"):
        licensing.surrender(lic2, sender=buyer)
    with boa.reverts("licence: unknown licence"):
        licensing.licence(99)
    assert not licensing.is_valid(99)


def test_a_non_revocable_licence_cannot_be_revoked_even_after_a_sale(registry, licensing, token, world):
    asset, offer, buyer = world
    lic = buy(licensing, offer, PRICE, sender=buyer)
    with boa.reverts("licence: not revocable"):
        licensing.revoke(lic, "", sender=OWNER)
    registry.transferFrom(OWNER, DAVE, asset, sender=OWNER)
    with boa.reverts("licence: not revocable"):
        licensing.revoke(lic, "", sender=DAVE)
    licensing.withdraw_offer(offer, sender=DAVE)
    assert licensing.is_valid(lic)


def test_non_transferable_licences(licensing, world):
    _, offer, buyer = world
    lic = buy(licensing, offer, PRICE, sender=buyer)
    with boa.reverts("licence: not transferable"):
        licensing.transferFrom(buyer, DAVE, lic, sender=buyer)
    with boa.reverts("licence: not transferable"):
        licensing.safeTransferFrom(buyer, DAVE, lic, sender=buyer)
    with boa.reverts("licence: not transferable"):
        licensing.safeTransferFrom(buyer, DAVE, lic, b"data", sender=buyer)
    with boa.reverts("licence: not transferable"):
        licensing.approve(DAVE, lic, sender=buyer)
    licensing.setApprovalForAll(DAVE, True, sender=buyer)  # an operator still cannot move it
    with boa.reverts("licence: not transferable"):
        licensing.transferFrom(buyer, DAVE, lic, sender=DAVE)
    with boa.reverts("licence: not transferable"):
        licensing.transferFrom(buyer, DAVE, 99, sender=buyer)
    assert norm(licensing.ownerOf(lic)) == norm(buyer)


def test_transferable_licences(licensing, token, world):
    asset, _, buyer = world
    offer = make_offer(licensing, token, asset, transferable=True)
    lic = buy(licensing, offer, PRICE, sender=buyer)
    with boa.reverts("erc721: caller is not token owner or approved"):
        licensing.transferFrom(buyer, DAVE, lic, sender=DAVE)
    with boa.reverts("erc721: approve caller is not token owner or approved for all"):
        licensing.approve(DAVE, lic, sender=DAVE)
    licensing.approve(DAVE, lic, sender=buyer)
    licensing.transferFrom(buyer, CAROL, lic, sender=DAVE)
    licensing.safeTransferFrom(CAROL, BOB, lic, sender=CAROL)
    assert norm(licensing.ownerOf(lic)) == norm(BOB) and licensing.is_valid(lic)


def test_licensing_metadata_and_interfaces(licensing):
    assert (licensing.name(), licensing.symbol()) == ("proofwork licence", "PWL")
    for iid in ("01ffc9a7", "80ac58cd", "5b5e139f"):
        assert licensing.supportsInterface(bytes.fromhex(iid))
    assert not licensing.supportsInterface(bytes.fromhex("2a55205a"))
    with boa.reverts("licence: zero registry"):
        licensing_partial().deploy(ZERO)


# --------------------------------------------------------------------------- royalties


def test_distribute_up_a_three_level_lineage(registry, licensing, token, accounts):
    labeler1, labeler2, data_owner, base_owner, base_creator, tuner = (acct(f"l{i}") for i in range(6))
    dataset = register(registry, data_owner, creators=[(labeler1, 1_500), (labeler2, 1_500)])
    base = register(registry, base_owner, creators=[(base_creator, 5_000)], parents=[(dataset, 3_000)])
    tuned = register(registry, tuner, parents=[(base, 2_000), (dataset, 1_000)])
    price = 1_000_003
    offer = make_offer(licensing, token, tuned, seller=tuner, price=price)
    buyer = accounts.client.address
    fund(token, buyer, licensing, price, accounts.owner.address)
    buy(licensing, offer, price, sender=buyer)
    pend_base, paid = split(price, [(base, 2_000), (dataset, 1_000)], [], tuner)
    assert licensing.pending(base, token.address) == pend_base[base] == 200_000
    assert licensing.pending(dataset, token.address) == pend_base[dataset] == 100_000
    assert licensing.claimable(tuner, token.address) == paid[tuner] == 700_003
    with boa.reverts("licence: nothing pending"):
        distribute(licensing, tuned, token.address)
    distribute(licensing, base, token.address, sender=RELAYER)
    up, base_parts = split(200_000, [(dataset, 3_000)], [(base_creator, 5_000)], base_owner)
    assert licensing.pending(base, token.address) == 0
    assert licensing.pending(dataset, token.address) == 100_000 + up[dataset] == 160_000
    distribute(licensing, dataset, token.address, sender=RELAYER)
    _, data_parts = split(160_000, [], [(labeler1, 1_500), (labeler2, 1_500)], data_owner)
    expected = {**base_parts, **data_parts, tuner: 700_003}
    assert claimables(licensing, token, expected) == {norm(a): v for a, v in expected.items()}
    assert sum(expected.values()) == price == token.balanceOf(licensing.address)
    for account, amount in expected.items():
        assert licensing.claim(token.address, sender=account) == amount
        assert token.balanceOf(account) == amount
    assert token.balanceOf(licensing.address) == 0


def test_claim_and_claim_for(licensing, token, world):
    _, offer, buyer = world
    buy(licensing, offer, PRICE, sender=buyer)
    owed = licensing.claimable(BOB, token.address)
    assert licensing.claim_for(BOB, token.address, sender=RELAYER) == owed
    log = own_logs(licensing)[-1]
    assert (norm(log.account), norm(log.token), log.amount) == (norm(BOB), norm(token.address), owed)
    assert token.balanceOf(BOB) == owed and token.balanceOf(RELAYER) == 0
    with boa.reverts("licence: nothing to claim"):
        licensing.claim(token.address, sender=BOB)
    with boa.reverts("licence: nothing to claim"):
        licensing.claim_for(DAVE, token.address, sender=RELAYER)
    owner_owed = licensing.claimable(OWNER, token.address)
    assert licensing.claim(token.address, sender=OWNER) == owner_owed


def test_pay_revenue_is_split_like_a_sale(registry, licensing, token, accounts):
    root = register(registry, DAVE)
    asset = register(registry, OWNER, creators=[(BOB, 3_333)], parents=[(root, 4_999)])
    payer = accounts.client.address
    fund(token, payer, licensing, 10**9, accounts.owner.address)
    pay_revenue(licensing, asset, token.address, 777_777, sender=payer)
    logs = own_logs(licensing)
    assert [type(lg).__name__ for lg in logs] == ["RevenueReceived", "RevenueSplit"]
    up, parts = split(777_777, [(root, 4_999)], [(BOB, 3_333)], OWNER)
    assert (logs[1].to_parents, logs[1].to_creators, logs[1].to_owner) == (up[root], parts[BOB], parts[OWNER])
    assert licensing.pending(root, token.address) == up[root]
    assert claimables(licensing, token, parts) == {norm(a): v for a, v in parts.items()}
    with boa.reverts("licence: zero amount"):
        pay_revenue(licensing, asset, token.address, 0, sender=payer)
    with boa.reverts("licence: token is not a contract"):
        pay_revenue(licensing, asset, BOB, 1, sender=payer)
    with boa.reverts("erc721: invalid token ID"):
        pay_revenue(licensing, asset + 1, token.address, 1, sender=payer)


def test_fee_on_transfer_tokens_are_refused(registry, licensing, fot_deployer, accounts):
    fot = fot_deployer.deploy()
    asset = register(registry, OWNER)
    offer = make_offer(licensing, fot, asset)
    buyer = accounts.client.address
    fot.mint(buyer, 10 * PRICE)
    fot.approve(licensing.address, 10 * PRICE, sender=buyer)
    with boa.reverts("licence: fee-on-transfer token refused"):
        buy(licensing, offer, PRICE, sender=buyer)
    with boa.reverts("licence: fee-on-transfer token refused"):
        pay_revenue(licensing, asset, fot.address, PRICE, sender=buyer)
    assert fot.balanceOf(licensing.address) == 0 and licensing.licence_count() == 0
