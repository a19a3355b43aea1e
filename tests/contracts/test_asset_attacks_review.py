"""Second attacker's review of AssetRegistry and Licensing (the gas-lean rewrite), as regression tests.

Findings, each fixed and kept here as the proof of concept that failed before the fix:
1. IP terms accepted after a milestone was settled: the client can no longer change or withdraw its
   proposal once a milestone is paid, but the freelancer could still accept it at any later time
   (an open-ended option, and deliverables of one job under two IP regimes: register a paid
   milestone as its own, then accept so the next ones go to the client). Acceptance now needs the
   same "nothing settled" as the proposal.
2. An offer revives when its asset comes back to its seller, and the seller could not withdraw it
   while the asset was away (only the current owner could): a stale, cheap, irrevocable offer is
   live again the instant the asset returns, and a watcher buys it in that block. The seller may now
   withdraw its own offers at any time.

The other tests document properties checked and found to hold (see each docstring): the record
hash binds the exact split, ERC-721 edge cases of licences and assets, hostile tokens and
receivers, rounding dust, and the gas of the widest split.
"""

from __future__ import annotations

from collections import Counter

import boa
import hypothesis.strategies as st
import pytest
from asset_fixtures import (
    AMOUNT,
    MANIFEST,
    ZERO,
    acct,
    buy,
    capture,
    deploy_licensing,
    deploy_registry,
    distribute,
    fund,
    pay_revenue,
    register,
    split_of,
    terms_hash,
)
from boa.contracts.base_evm_contract import BoaError
from escrow_harness import OK
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

OWNER, BUYER, WATCHER, BOB = (
    acct("review owner"),
    acct("review buyer"),
    acct("review watcher"),
    acct("review bob"),
)
PRICE = 1_000_000


def norm(x) -> str:
    return str(x).lower()


@pytest.fixture(scope="module")
def registry(escrow):
    return deploy_registry(escrow)


@pytest.fixture(scope="module")
def licensing(registry):
    return deploy_licensing(registry)


def offer(licensing, token, asset, seller=OWNER, *, price=PRICE, transferable=False, revocable=False, term=0):
    return licensing.offer(
        asset, token.address, price, term, True, 0, transferable, revocable, "", 0, sender=seller
    )


# --------------------------------------------------------------------------- finding 1: late acceptance


def test_ip_terms_cannot_be_accepted_once_a_milestone_is_settled(registry, h, accounts):
    """The client proposed a transfer, then paid milestone 0 before any acceptance: its proposal is
    frozen (it may not re-propose), so the freelancer may not accept it either. Before the fix the
    freelancer registered milestone 0 as its own, then accepted, and milestone 1 went to the client
    under terms the client could no longer withdraw."""
    client, freelancer = accounts.client, accounts.freelancer
    jid = h.create_job(client, [AMOUNT, AMOUNT], freelancer=freelancer, expect=OK)
    registry.propose_ip_terms(jid, h.state(jid), True, 9_000, 0, sender=client.address)
    h.submit(freelancer, jid, 0, expect=OK)
    h.approve(client, jid, 0, expect=OK)
    with boa.reverts("asset: a milestone is settled"):
        registry.propose_ip_terms(jid, h.state(jid), False, 0, 0, sender=client.address)
    mine = registry.register_deliverable(jid, h.state(jid), 0, MANIFEST, 0, [], 0, sender=freelancer.address)
    assert norm(registry.ownerOf(mine)) == norm(freelancer.address)
    with boa.reverts("asset: a milestone is settled"):
        registry.accept_ip_terms(jid, h.state(jid), terms_hash(True, 9_000, 0), sender=freelancer.address)
    assert not registry.ip_terms(jid).accepted
    h.submit(freelancer, jid, 1, expect=OK)
    h.approve(client, jid, 1, expect=OK)
    # one regime for the whole job: milestone 1 is the freelancer's too
    second = registry.register_deliverable(
        jid, h.state(jid), 1, MANIFEST, 0, [], 0, sender=freelancer.address
    )
    assert norm(registry.ownerOf(second)) == norm(freelancer.address)


def test_acceptance_before_any_settlement_still_works(registry, h, accounts):
    """The fix keeps the normal order: proposed, submitted (not settled), accepted, paid."""
    client, freelancer = accounts.client, accounts.freelancer
    jid = h.create_job(client, [AMOUNT], freelancer=freelancer, expect=OK)
    registry.propose_ip_terms(jid, h.state(jid), True, 1_000, 2_000, sender=client.address)
    h.submit(freelancer, jid, 0, expect=OK)
    registry.accept_ip_terms(jid, h.state(jid), terms_hash(True, 1_000, 2_000), sender=freelancer.address)
    h.approve(client, jid, 0, expect=OK)
    a = registry.register_deliverable(jid, h.state(jid), 0, MANIFEST, 0, [], 0, sender=client.address)
    assert norm(registry.ownerOf(a)) == norm(client.address)


# --------------------------------------------------------------------------- finding 2: reviving offers


def test_a_seller_can_withdraw_its_offer_while_the_asset_is_away(registry, licensing, token, accounts):
    """The owner lists a cheap perpetual licence, then lends the asset out (or sells it and buys it
    back later). Before the fix only the current owner could withdraw, so the seller could not
    kill the offer while the asset was away, and the instant the asset came back the stale offer was
    live: a watcher bought it in that block. Now the seller withdraws it while away."""
    a = register(registry, OWNER)
    cheap = offer(licensing, token, a, price=1)
    registry.transferFrom(OWNER, BOB, a, sender=OWNER)
    licensing.withdraw_offer(cheap, sender=OWNER)
    registry.transferFrom(BOB, OWNER, a, sender=BOB)
    fund(token, WATCHER, licensing, 1, accounts.owner.address)
    with boa.reverts("licence: offer not active"):
        buy(licensing, cheap, 1, sender=WATCHER)
    # nobody else may withdraw someone's offer, and the new owner still may (it lapsed for it anyway)
    other = offer(licensing, token, a)
    with boa.reverts("licence: caller is not the asset's owner"):
        licensing.withdraw_offer(other, sender=WATCHER)
    registry.transferFrom(OWNER, BOB, a, sender=OWNER)
    licensing.withdraw_offer(other, sender=BOB)
    assert not licensing.get_offer(other).active


def test_an_offer_not_withdrawn_revives_with_its_seller(registry, licensing, token, accounts):
    """Documented behaviour: an offer is on sale while its seller owns the asset; it lapses when the
    asset leaves and is live again if it comes back to the same seller (who may withdraw it at any
    time). The revenue of a sale goes to the seller, the owner at that moment."""
    a = register(registry, OWNER)
    o = offer(licensing, token, a)
    registry.transferFrom(OWNER, BOB, a, sender=OWNER)
    fund(token, BUYER, licensing, 2 * PRICE, accounts.owner.address)
    with boa.reverts("licence: asset changed hands"):
        buy(licensing, o, PRICE, sender=BUYER)
    registry.transferFrom(BOB, OWNER, a, sender=BOB)
    buy(licensing, o, PRICE, sender=BUYER)
    assert licensing.claimable(OWNER, token.address) == PRICE and licensing.claimable(BOB, token.address) == 0


# --------------------------------------------------------------------------- the record hash


def test_the_record_hash_binds_order_and_every_entry(registry, licensing, token, accounts):
    """abi_encode of the Split is injective: the same shares in another order, a creator's share
    split into two entries, an extra zero-share entry or a parent named twice all hash differently
    (so none is accepted); and bps values out of uint16 range are refused by calldata checks."""
    roots = [register(registry, acct(f"review root {i}")) for i in range(2)]
    c1, c2 = acct("review c1"), acct("review c2")
    a = register(
        registry, OWNER, creators=[(c1, 1_000), (c2, 3_000)], parents=[(roots[0], 500), (roots[1], 700)]
    )
    creators, parents, details = split_of(registry, a)
    fund(token, BUYER, licensing, PRICE, accounts.owner.address)
    variants = [
        (creators[::-1], parents, details),
        (creators, parents[::-1], details),
        ([(c1, 500), (c1, 500), creators[1]], parents, details),
        ([*creators, (BOB, 0)], parents, details),
        (creators, [*parents, (roots[0], 0)], details),
        (creators, [(roots[0], 1_200)], details),
    ]
    for v in variants:
        with boa.reverts("licence: wrong asset record"):
            licensing.pay_revenue(a, token.address, PRICE, v, sender=BUYER)
    # a bps above 2**16 cannot be smuggled through the ABI (it would otherwise wrap)
    calldata = licensing.pay_revenue.prepare_calldata(a, token.address, PRICE, (creators, parents, details))
    head = bytearray(calldata)
    want = (1_000).to_bytes(32, "big")
    at = bytes(head).find(want)
    assert at > 0
    head[at : at + 32] = (1_000 + 2**16).to_bytes(32, "big")
    with boa.env.prank(BUYER), pytest.raises(Exception):  # noqa: B017 (an ABI-decoding revert has no reason)
        boa.env.raw_call(licensing.address, data=bytes(head))
    pay_revenue(licensing, a, token.address, PRICE, sender=BUYER)


# --------------------------------------------------------------------------- licences as ERC-721 tokens


def test_licence_erc721_edge_cases(registry, licensing, token, accounts):
    """Self-transfer keeps the balance; a transfer to zero is refused; an operator moves a
    transferable licence; an approval does not survive a transfer or a surrender; a revoked licence
    stays counted; balanceOf always equals the licences each account holds."""
    a = register(registry, OWNER)
    o = offer(licensing, token, a, transferable=True, revocable=True)
    fund(token, BUYER, licensing, 3 * PRICE, accounts.owner.address)
    l1, l2, l3 = (buy(licensing, o, PRICE, sender=BUYER) for _ in range(3))
    assert licensing.balanceOf(BUYER) == 3
    licensing.transferFrom(BUYER, BUYER, l1, sender=BUYER)
    assert licensing.balanceOf(BUYER) == 3 and norm(licensing.ownerOf(l1)) == norm(BUYER)
    with boa.reverts("erc721: transfer to the zero address"):
        licensing.transferFrom(BUYER, ZERO, l1, sender=BUYER)
    licensing.approve(WATCHER, l1, sender=BUYER)
    licensing.transferFrom(BUYER, BOB, l1, sender=WATCHER)
    assert norm(licensing.getApproved(l1)) == norm(ZERO)
    with boa.reverts("erc721: caller is not token owner or approved"):
        licensing.transferFrom(BOB, WATCHER, l1, sender=WATCHER)
    licensing.setApprovalForAll(WATCHER, True, sender=BUYER)
    licensing.transferFrom(BUYER, WATCHER, l2, sender=WATCHER)
    licensing.approve(BOB, l3, sender=WATCHER)  # an operator approves
    licensing.revoke(l3, "", sender=OWNER)
    licensing.surrender(l3, sender=BUYER)
    with boa.reverts("erc721: invalid token ID"):
        licensing.getApproved(l3)
    with boa.reverts("erc721: invalid token ID"):
        licensing.transferFrom(BUYER, BOB, l3, sender=BOB)
    assert (licensing.balanceOf(BUYER), licensing.balanceOf(BOB), licensing.balanceOf(WATCHER)) == (0, 1, 1)
    with boa.reverts("erc721: invalid token ID"):
        licensing.ownerOf(0)


def test_a_non_transferable_licence_cannot_move_even_through_an_operator(
    registry, licensing, token, accounts
):
    a = register(registry, OWNER)
    o = offer(licensing, token, a)
    fund(token, BUYER, licensing, PRICE, accounts.owner.address)
    lic = buy(licensing, o, PRICE, sender=BUYER)
    licensing.setApprovalForAll(WATCHER, True, sender=BUYER)
    for call in (
        lambda: licensing.transferFrom(BUYER, WATCHER, lic, sender=WATCHER),
        lambda: licensing.safeTransferFrom(BUYER, WATCHER, lic, sender=WATCHER),
        lambda: licensing.approve(WATCHER, lic, sender=BUYER),
    ):
        with boa.reverts("licence: not transferable"):
            call()
    assert norm(licensing.ownerOf(lic)) == norm(BUYER)


HOSTILE_RECEIVER = """
# pragma version ~=0.4.3
mode: public(uint8)
target: public(address)
payload: public(Bytes[2048])
ok: public(bool)

@external
def arm(mode_: uint8, target_: address, payload_: Bytes[2048]):
    self.mode = mode_
    self.target = target_
    self.payload = payload_

@external
def onERC721Received(operator: address, sender: address, token_id: uint256, data: Bytes[1024]) -> bytes4:
    if self.mode == 1:
        return 0xdeadbeef
    if self.mode == 2:
        self.ok = raw_call(self.target, self.payload, revert_on_failure=False)
    return 0x150b7a02
"""


def test_hostile_erc721_receivers(registry, licensing, token, accounts):
    """A receiver returning a wrong selector makes a safe transfer revert (nothing moves); a receiver
    re-entering Licensing from its callback is refused by the lock; one re-entering the registry
    already owns the asset (approval cleared, balances moved) and passing it on leaves every balance
    consistent."""
    recv = boa.loads(HOSTILE_RECEIVER)
    a = register(registry, OWNER)
    recv.arm(1, ZERO, b"")
    with boa.reverts("erc721: transfer to non-IERC721Receiver implementer"):
        registry.safeTransferFrom(OWNER, recv.address, a, b"", sender=OWNER)
    assert norm(registry.ownerOf(a)) == norm(OWNER)
    registry.approve(BOB, a, sender=OWNER)
    before = (registry.balanceOf(OWNER), registry.balanceOf(BOB))
    recv.arm(2, registry.address, registry.transferFrom.prepare_calldata(recv.address, BOB, a))
    registry.safeTransferFrom(OWNER, recv.address, a, b"", sender=OWNER)
    assert (
        recv.ok() and norm(registry.ownerOf(a)) == norm(BOB) and norm(registry.getApproved(a)) == norm(ZERO)
    )
    assert (registry.balanceOf(OWNER), registry.balanceOf(BOB)) == (before[0] - 1, before[1] + 1)
    with boa.reverts("erc721: the zero address is not a valid owner"):
        registry.balanceOf(ZERO)
    assert registry.balanceOf(recv.address) == 0
    b = register(registry, OWNER)
    o = offer(licensing, token, b, transferable=True)
    fund(token, BUYER, licensing, PRICE, accounts.owner.address)
    lic = buy(licensing, o, PRICE, sender=BUYER)
    recv.arm(2, licensing.address, licensing.claim.prepare_calldata(token.address))
    licensing.safeTransferFrom(BUYER, recv.address, lic, b"", sender=BUYER)
    assert not recv.ok() and norm(licensing.ownerOf(lic)) == norm(recv.address)


def test_asset_erc721_edge_cases(registry):
    """An asset's approval is cleared by a transfer; a self-transfer keeps the balance; a transfer to
    zero and a transfer of an unknown asset are refused."""
    a = register(registry, OWNER)
    registry.approve(BOB, a, sender=OWNER)
    registry.transferFrom(OWNER, OWNER, a, sender=BOB)
    assert registry.balanceOf(OWNER) >= 1 and norm(registry.getApproved(a)) == norm(ZERO)
    with boa.reverts("erc721: transfer to the zero address"):
        registry.transferFrom(OWNER, ZERO, a, sender=OWNER)
    with boa.reverts("erc721: invalid token ID"):
        registry.transferFrom(OWNER, BOB, a + 1000, sender=OWNER)
    with boa.reverts("erc721: invalid token ID"):
        registry.royaltyInfo(a + 1000, 100)


# --------------------------------------------------------------------------- hostile tokens


@pytest.fixture
def blocklist():
    from asset_fixtures import MOCKS

    return boa.load(str(MOCKS / "BlocklistToken.vy"))


def test_a_blocklisted_creator_freezes_only_its_own_claim(registry, licensing, blocklist):
    """USDC-style blocklisting of one creator: its claim (and anyone's claim_for) reverts and leaves
    its balance intact; every other party claims; once unblocked it claims too. The contract's
    balance equals what it owes at every step."""
    creator = acct("review blocked creator")
    a = register(registry, OWNER, creators=[(creator, 3_000)])
    blocklist.mint(BUYER, PRICE)
    blocklist.approve(licensing.address, PRICE, sender=BUYER)
    pay_revenue(licensing, a, blocklist.address, PRICE, sender=BUYER)
    blocklist.set_blocked(creator, True)
    with boa.reverts():
        licensing.claim(blocklist.address, sender=creator)
    with boa.reverts():
        licensing.claim_for(creator, blocklist.address, sender=BOB)
    assert licensing.claimable(creator, blocklist.address) == PRICE * 3 // 10
    licensing.claim_for(OWNER, blocklist.address, sender=BOB)
    assert blocklist.balanceOf(licensing.address) == PRICE * 3 // 10
    blocklist.set_blocked(creator, False)
    licensing.claim(blocklist.address, sender=creator)
    assert blocklist.balanceOf(licensing.address) == 0


def test_a_token_callback_moving_the_asset_mid_purchase_pays_the_seller(
    registry, licensing, reentrant_deployer
):
    """The offer's token (chosen by the seller) moves the asset away from inside transferFrom (the
    seller approved the token for it). The licensing lock does not cover the registry, so the move
    succeeds, but the split was bound to the owner read before the pull: the seller is paid, the new
    owner nothing, and every unit is accounted for."""
    rtoken = reentrant_deployer.deploy()
    a = register(registry, OWNER)
    o = offer(licensing, rtoken, a)
    registry.approve(rtoken.address, a, sender=OWNER)
    rtoken.mint(BUYER, PRICE)
    rtoken.approve(licensing.address, PRICE, sender=BUYER)
    rtoken.arm(registry.address, registry.transferFrom.prepare_calldata(OWNER, BOB, a), True)
    buy(licensing, o, PRICE, sender=BUYER)
    assert norm(registry.ownerOf(a)) == norm(BOB)
    assert licensing.claimable(OWNER, rtoken.address) == PRICE == rtoken.balanceOf(licensing.address)
    assert licensing.claimable(BOB, rtoken.address) == 0


def test_a_token_without_return_value_works(registry, licensing, noreturn_deployer):
    nr = noreturn_deployer.deploy()
    a = register(registry, OWNER)
    nr.mint(BUYER, PRICE)
    nr.approve(licensing.address, PRICE, sender=BUYER)
    pay_revenue(licensing, a, nr.address, PRICE, sender=BUYER)
    assert licensing.claim(nr.address, sender=OWNER) == PRICE
    assert nr.balanceOf(OWNER) == PRICE and nr.balanceOf(licensing.address) == 0


# --------------------------------------------------------------------------- rounding


def test_dust_is_never_stuck_nor_overpaid(registry, licensing, token, accounts):
    """Amounts of 1 to 7 units through a split whose every share rounds to zero: the owner takes
    the dust, parents' pending stays 0 (no distribute needed), and the sum is exact."""
    root = register(registry, acct("review dust root"))
    creators = [(acct(f"review dust c{i}"), 1_111) for i in range(8)]
    a = register(registry, OWNER, creators=creators, parents=[(root, 1)])
    fund(token, BUYER, licensing, 28, accounts.owner.address)
    for amount in range(1, 8):
        pay_revenue(licensing, a, token.address, amount, sender=BUYER)
    owed = licensing.pending(root, token.address) + licensing.claimable(OWNER, token.address)
    owed += sum(licensing.claimable(c, token.address) for c, _ in creators)
    assert owed == 28 == token.balanceOf(licensing.address)
    assert licensing.pending(root, token.address) == 0 and licensing.claimable(OWNER, token.address) == 28
    with boa.reverts("licence: nothing pending"):
        distribute(licensing, root, token.address, sender=BUYER)


# --------------------------------------------------------------------------- gas of the widest split

WIDE_REGISTER_GAS = 700_000
WIDE_BUY_GAS = 700_000


def test_the_widest_split_fits_a_block_many_times_over(registry, licensing, token, accounts):
    """8 creators and 8 parents, every balance new (a first-time buyer, first sale, fresh creators
    and parents): register and buy measured, far below a 30M block (figures in the report)."""
    roots = [register(registry, acct(f"review wide root {i}")) for i in range(8)]
    creators = [(acct(f"review wide creator {i}"), 1_250) for i in range(8)]
    asset_id = registry.register(
        MANIFEST, 0, creators, [(r, 625) for r in roots], 1_000, b"\x00" * 32, OWNER, sender=OWNER
    )
    register_gas = registry._computation.get_gas_used()
    assert capture(registry) == asset_id
    o = offer(licensing, token, asset_id)
    fund(token, BUYER, licensing, PRICE, accounts.owner.address)
    buy(licensing, o, PRICE, sender=BUYER)
    buy_gas = licensing._computation.get_gas_used()
    print(f"widest split: register {register_gas} gas, first buy {buy_gas} gas")
    assert register_gas < WIDE_REGISTER_GAS and buy_gas < WIDE_BUY_GAS
    assert sum(licensing.pending(r, token.address) for r in roots) == PRICE // 2


# --------------------------------------------------------------------------- licences vs. the module's balances

HOLDERS = [acct(f"review holder {i}") for i in range(4)]
LSTATS: Counter = Counter()


def _attempt(call) -> bool:
    """Whether the call went through (a revert rolls it back and answers False)."""
    try:
        call()
    except BoaError:
        return False
    return True


class LicenceTokenMachine(RuleBasedStateMachine):
    """Licences kept in one packed slot with snekmate's balances, approvals and operators: random
    purchases, transfers (plain and safe, by holders, approved accounts, operators, strangers),
    approvals, operator grants, surrenders and revocations, against a plain model. After every
    step, for every licence and account: ownerOf, getApproved, balanceOf and is_valid agree with
    the model, and an approval never survives a move or a surrender."""

    def __init__(self, registry, licensing, token):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.lic = licensing
        asset = register(registry, OWNER)
        # free licences: the token moves nothing, only the licence token is under test
        self.offers = {
            True: offer(licensing, token, asset, price=0, transferable=True, revocable=True),
            False: offer(licensing, token, asset, price=0, transferable=False, revocable=True),
        }
        self.holder: dict[int, str | None] = {}
        self.approved: dict[int, str] = {}
        self.transferable: dict[int, bool] = {}
        self.revoked: dict[int, bool] = {}
        self.operators: set[tuple[str, str]] = set()

    def teardown(self):
        self._anchor.__exit__(None, None, None)

    def _pick(self, i: int) -> int:
        return sorted(self.holder)[i % len(self.holder)]

    def _caller(self, lic: int, i: int) -> str:
        """HOLDERS[i], or for i of 4 and 5 the licence's holder, else its approved account (most
        calls should be allowed ones)."""
        if i < 4:
            return HOLDERS[i]
        holder, approved = self.holder[lic], self.approved[lic]
        pick = holder if i == 4 or approved == ZERO else approved
        return pick or HOLDERS[0]

    @rule(who=st.integers(0, 3), transferable=st.booleans())
    def buy(self, who, transferable):
        lic = buy(self.lic, self.offers[transferable], 0, sender=HOLDERS[who])
        self.holder[lic], self.transferable[lic], self.revoked[lic] = HOLDERS[who], transferable, False
        self.approved[lic] = ZERO

    @precondition(lambda self: self.holder)
    @rule(i=st.integers(0, 99), caller=st.integers(0, 5), to=st.integers(0, 3), safe=st.booleans())
    def transfer(self, i, caller, to, safe):
        lic, dest = self._pick(i), HOLDERS[to]
        holder = self.holder[lic]
        by = self._caller(lic, caller)
        may = holder is not None and (
            by == holder or (holder, by) in self.operators or self.approved[lic] == by
        )
        expect = bool(self.transferable[lic] and may)
        move = self.lic.safeTransferFrom if safe else self.lic.transferFrom
        assert _attempt(lambda: move(holder or ZERO, dest, lic, sender=by)) == expect
        if expect:
            LSTATS["transfer"] += 1
            LSTATS["transfer after approve"] += self.approved[lic] != ZERO
            self.holder[lic], self.approved[lic] = dest, ZERO

    @precondition(lambda self: self.holder)
    @rule(i=st.integers(0, 99), caller=st.integers(0, 5), to=st.integers(-1, 3))
    def approve(self, i, caller, to):
        lic, by = self._pick(i), self._caller(self._pick(i), caller)
        spender = ZERO if to < 0 else HOLDERS[to]
        holder = self.holder[lic]
        expect = bool(
            self.transferable[lic]
            and holder is not None
            and spender != holder
            and (by == holder or (holder, by) in self.operators)
        )
        assert _attempt(lambda: self.lic.approve(spender, lic, sender=by)) == expect
        if expect:
            LSTATS["approve"] += 1
            self.approved[lic] = spender

    @rule(owner=st.integers(0, 3), op=st.integers(0, 3), flag=st.booleans())
    def operator(self, owner, op, flag):
        if owner == op:
            return
        self.lic.setApprovalForAll(HOLDERS[op], flag, sender=HOLDERS[owner])
        (self.operators.add if flag else self.operators.discard)((HOLDERS[owner], HOLDERS[op]))

    @precondition(lambda self: self.holder)
    @rule(i=st.integers(0, 99), caller=st.integers(0, 3))
    def surrender(self, i, caller):
        lic, by = self._pick(i), HOLDERS[caller]
        expect = self.holder[lic] == by
        assert _attempt(lambda: self.lic.surrender(lic, sender=by)) == expect
        if expect:
            self.holder[lic], self.approved[lic] = None, ZERO

    @precondition(lambda self: self.holder)
    @rule(i=st.integers(0, 99))
    def revoke(self, i):
        lic = self._pick(i)
        expect = self.holder[lic] is not None and not self.revoked[lic]
        assert _attempt(lambda: self.lic.revoke(lic, "", sender=OWNER)) == expect
        self.revoked[lic] = self.revoked[lic] or expect

    @invariant()
    def tokens_agree_with_the_model(self):
        for lic, holder in self.holder.items():
            if holder is None:
                assert not _attempt(lambda lic=lic: self.lic.ownerOf(lic))
                assert not _attempt(lambda lic=lic: self.lic.getApproved(lic))
            else:
                assert norm(self.lic.ownerOf(lic)) == norm(holder)
                assert norm(self.lic.getApproved(lic)) == norm(self.approved[lic])
            assert self.lic.is_valid(lic) == (holder is not None and not self.revoked[lic])
        for person in HOLDERS:
            held = sum(1 for h in self.holder.values() if h == person)
            assert self.lic.balanceOf(person) == held


def test_licence_tokens_stay_consistent_with_the_module_balances(registry, licensing, token):
    LSTATS.clear()
    run_state_machine_as_test(
        lambda: LicenceTokenMachine(registry, licensing, token),
        settings=settings(
            max_examples=15,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print("outcomes:", sorted(LSTATS.items()))
    assert LSTATS["approve"] >= 5 and LSTATS["transfer"] >= 5
