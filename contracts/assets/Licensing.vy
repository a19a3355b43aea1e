# pragma version ~=0.4.3
"""
@title Licensing
@custom:contract-name Licensing
@license GNU Affero General Public License v3.0 only
@notice Licences on `AssetRegistry` assets, and royalties along their lineage.
        - An asset's owner offers licences (`offer`): an ERC-20 price, a term (0 for
          perpetual), commercial or not, DOWNLOAD or COMPUTE, transferable or not,
          revocable or not, a terms document, an optional cap. An offer is on sale only
          while its seller owns the asset: it lapses when the asset changes hands (its
          new owner makes its own) and is live again if the asset returns to its
          seller, who may withdraw it at any time, also while the asset is away.
        - A buyer pays the price (`buy`, or `buy_with_permit` in one transaction) and
          gets a licence token ("proofwork licence", PWL, ids from 1), transferable
          only when the offer said so; the asset's owner may revoke it only when the
          offer said so; its holder may surrender it.
        - Every payment to an asset (a sale, or `pay_revenue`: royalties a marketplace
          forwards, a licence fee paid inside a job) is split one level right away:
          each parent's share waits in `pending` for anyone's `distribute` (which splits
          it one level further up), the creators' and the owner's parts become
          `claimable`, paid by `claim` or by anyone's `claim_for`.
@dev No owner key and nothing to freeze: every path ends by a call anyone can make.
     The registry stores only a hash of each asset's record: `buy`, `pay_revenue` and
     `distribute` take its Split (creators, parents and the hash of the rest of the
     record; the SDK rebuilds it from the registry's `AssetRegistered` event) and check it against the registry's hash, in the same call
     that reads the asset's current owner. An offer is packed in three slots (what a
     purchase reads) and its terms document, so a purchase reads three slots and
     rewrites one.
     Each split touches at most 8 parents and 8 creators (a purchase never runs out of
     gas); a lineage of any depth is paid one `distribute` per level, and ends since a
     parent's id is lower than its child's. For each token, the contract holds exactly
     sum(pending) + sum(claimable): payments are pulled with the balance checked to
     grow by exactly the amount (fee-on-transfer tokens refused), paid out by pull only.
     Every state-changing function holds the reentrancy lock (tokens are untrusted).
     Built on snekmate's `erc721`: its balances, approvals, operators, receiver check,
     name and symbol are used as they are (`balanceOf`, `isApprovedForAll`,
     `setApprovalForAll`, `name`, `symbol` exported). A licence's holder is kept in the
     same slot as its data (holder, expiry, revoked flag, offer) instead of the module's
     owner mapping, whose address-typed slot would leave the data a second new slot
     every purchase: so `ownerOf`, `getApproved`, `approve`, `transferFrom` and both
     `safeTransferFrom` are this contract's own (the last three revert with
     "licence: not transferable" unless the licence's offer allowed it).
     Licences are minted without a receiver callback; mints, transfers and burns skip the
     module's enumeration (not exported). The module's constructor grants its unused
     minter role to the deployer, and its `ownable` owner has no function here.
"""

from ethereum.ercs import IERC165
from ethereum.ercs import IERC20
from ethereum.ercs import IERC721
from snekmate.auth import ownable
from snekmate.tokens import erc721

from . import IAssetRegistry
from . import ILicensing
from . import royalty_split

implements: IERC165
implements: IERC721
implements: ILicensing

initializes: ownable
initializes: erc721[ownable := ownable]

exports: (
    erc721.balanceOf,
    erc721.isApprovedForAll,
    erc721.name,
    erc721.symbol,
    erc721.setApprovalForAll,
)


# @dev Licence kinds: the files may be downloaded; only computed on (compute-to-data).
DOWNLOAD: constant(uint8) = 0
COMPUTE: constant(uint8) = 1
# @dev Longest licence term: 100 years.
MAX_TERM: constant(uint64) = 3_153_600_000
_NOT_TRANSFERABLE: constant(String[25]) = "licence: not transferable"
_ADDRESS_MASK: constant(uint256) = (1 << 160) - 1
# a licence's slot: holder (bits 0-159, 0 once surrendered), expiry (bits 160-199),
# revoked (bit 200), offer id (bits 201-255)
_EXPIRY_MASK: constant(uint256) = (1 << 40) - 1
_REVOKED: constant(uint256) = 1 << 200
_OFFER_SHIFT: constant(uint256) = 201
_MAX_OFFERS: constant(uint256) = (1 << 55) - 1
_U32: constant(uint256) = (1 << 32) - 1
_U64: constant(uint256) = (1 << 64) - 1
_U128: constant(uint256) = (1 << 128) - 1
# offer flags, in the slot of its seller and term
_COMMERCIAL: constant(uint256) = 1 << 192
_COMPUTE: constant(uint256) = 1 << 193
_TRANSFERABLE: constant(uint256) = 1 << 194
_REVOCABLE: constant(uint256) = 1 << 195
_ACTIVE: constant(uint256) = 1 << 196
# one more licence sold, in the slot of its token
_ONE_SOLD: constant(uint256) = 1 << 160

# ERC-165 ids: ERC-165, ERC-721, ERC-721 Metadata.
_SUPPORTED_INTERFACES: constant(bytes4[3]) = [
    0x01FFC9A7,
    0x80AC58CD,
    0x5B5E139F,
]


# @dev The registry of the assets licensed here.
registry: public(immutable(IAssetRegistry))
# @dev Number of offers ever made; it is also the id of the latest one.
offer_count: public(uint256)
# @dev Every offer's seller (bits 0-159), term in seconds (bits 160-191) and flags
#      (commercial, compute, transferable, revocable, active: bits 192-196), by id.
_offer_sale: HashMap[uint256, uint256]
# @dev Every offer's price (bits 0-127), asset id (bits 128-191) and cap on licences
#      (bits 192-255; 0 for none), by id.
_offer_price: HashMap[uint256, uint256]
# @dev Every offer's token (bits 0-159) and licences sold (bits 160-255), by id.
_offer_token: HashMap[uint256, uint256]
# @dev Every offer's terms document CID (may be empty), by id.
_offer_terms: HashMap[uint256, String[128]]
# @dev Number of licences ever bought; it is also the id of the latest one.
licence_count: public(uint256)
# @dev Every licence, packed in one slot: its holder (bits 0-159; 0 once surrendered,
#      the rest is kept), expiry (bits 160-199, 0 for none), revoked flag (bit 200) and
#      offer id (bits 201-255); the rest of its data is its offer's, which never changes.
_licences: HashMap[uint256, uint256]
# @dev Revenue of an asset waiting to be split one level: asset id -> token -> amount.
pending: public(HashMap[uint256, HashMap[address, uint256]])
# @dev What an account can claim: account -> token -> amount.
claimable: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(registry_: IAssetRegistry):
    """
    @notice Deploys the licensing of one AssetRegistry's assets.
    @param registry_ The AssetRegistry.
    """
    assert registry_.address != empty(address), "licence: zero registry"
    ownable.__init__()
    erc721.__init__("proofwork licence", "PWL", "", "proofwork Licensing", "1")
    registry = registry_


# --------------------------------------------------------------------------- offers


@external
@nonreentrant
def offer(
    asset_id: uint256,
    token: address,
    price: uint256,
    term_seconds: uint64,
    commercial: bool,
    kind: uint8,
    transferable: bool,
    revocable: bool,
    terms_cid: String[128],
    max_licences: uint256,
) -> uint256:
    """
    @notice The asset's owner offers licences on it. Offers cannot be edited (withdraw
            one and make another): a buyer always gets the terms of the offer id it names.
    @param asset_id An asset the caller owns.
    @param token The ERC-20 the price is paid in (a contract).
    @param price The price in token units (0 for free licences; below 2**128).
    @param term_seconds How long a licence lasts (0: perpetual; at most 100 years).
    @param commercial Whether commercial use is allowed.
    @param kind 0 DOWNLOAD (the files are released), 1 COMPUTE (compute-to-data only).
    @param transferable Whether licences may be transferred.
    @param revocable Whether the asset's owner may revoke licences.
    @param terms_cid CID of the terms document (may be empty: the manifest's licence).
    @param max_licences How many licences may be sold (0: unlimited; below 2**64).
    @return The offer id.
    """
    assert staticcall registry.ownerOf(asset_id) == msg.sender, "licence: caller is not the asset's owner"
    assert token.is_contract, "licence: token is not a contract"
    assert kind <= COMPUTE, "licence: unknown kind"
    assert term_seconds <= MAX_TERM, "licence: term too long"
    assert price <= _U128, "licence: price too large"
    assert max_licences <= _U64, "licence: too many licences"
    assert asset_id <= _U64, "licence: asset id too large"
    offer_id: uint256 = self.offer_count + 1
    assert offer_id <= _MAX_OFFERS, "licence: too many offers"
    self.offer_count = offer_id
    flags: uint256 = _ACTIVE
    if commercial:
        flags |= _COMMERCIAL
    if kind == COMPUTE:
        flags |= _COMPUTE
    if transferable:
        flags |= _TRANSFERABLE
    if revocable:
        flags |= _REVOCABLE
    self._offer_sale[offer_id] = convert(msg.sender, uint256) | (convert(term_seconds, uint256) << 160) | flags
    # an owned asset's id is at most the registry's count, far below 2**64
    self._offer_price[offer_id] = price | (asset_id << 128) | (max_licences << 192)
    self._offer_token[offer_id] = convert(token, uint256)
    if len(terms_cid) > 0:
        self._offer_terms[offer_id] = terms_cid
    log ILicensing.Offered(
        offer_id=offer_id,
        asset_id=asset_id,
        seller=msg.sender,
        token=token,
        price=price,
        term_seconds=term_seconds,
        commercial=commercial,
        kind=kind,
        transferable=transferable,
        revocable=revocable,
        terms_cid=terms_cid,
        max_licences=max_licences,
    )
    return offer_id


@external
@nonreentrant
def withdraw_offer(offer_id: uint256):
    """
    @notice The offer's seller (also while the asset is away: an offer comes back
            to life if the asset returns to its seller) or the asset's current owner
            withdraws an offer; licences already sold stay.
    @param offer_id An active offer.
    """
    sale: uint256 = self._offer_sale[offer_id]
    assert sale & _ACTIVE != 0, "licence: offer not active"
    asset_id: uint256 = (self._offer_price[offer_id] >> 128) & _U64
    if convert(sale & _ADDRESS_MASK, address) != msg.sender:
        assert staticcall registry.ownerOf(asset_id) == msg.sender, "licence: caller is not the asset's owner"
    self._offer_sale[offer_id] = sale ^ _ACTIVE
    log ILicensing.OfferWithdrawn(offer_id=offer_id, asset_id=asset_id)


# --------------------------------------------------------------------------- buying


@external
@nonreentrant
def buy(offer_id: uint256, max_price: uint256, split: IAssetRegistry.Split) -> uint256:
    """
    @notice Buys a licence: pulls the offer's price from the caller (approve this
            contract first), mints the licence to the caller and splits the price as
            the asset's revenue.
    @param offer_id An active offer whose seller still owns the asset.
    @param max_price The most the caller accepts to pay.
    @param split The asset's creators, parents and details hash, from its
           `AssetRegistered` event (checked against the registry's hash).
    @return The licence id.
    """
    return self._buy(offer_id, max_price, split)


@external
@nonreentrant
def buy_with_permit(
    offer_id: uint256,
    max_price: uint256,
    split: IAssetRegistry.Split,
    deadline: uint256,
    v: uint8,
    r: bytes32,
    s: bytes32,
) -> uint256:
    """
    @notice `buy` in one transaction: first submits the caller's EIP-2612 permit of
            `max_price` to this contract on the offer's token. A permit that fails (for
            instance because someone already submitted it) is ignored: the purchase
            then needs the allowance to be there anyway.
    @param offer_id An active offer.
    @param max_price The most the caller accepts to pay; the permit's value.
    @param split The asset's creators, parents and details hash (checked against
           the registry's hash).
    @param deadline The permit's deadline.
    @param v The permit signature's v.
    @param r The permit signature's r.
    @param s The permit signature's s.
    @return The licence id.
    """
    token: address = convert(self._offer_token[offer_id] & _ADDRESS_MASK, address)
    if token != empty(address):
        # the outcome does not matter: the allowance is what `_buy` needs
        permitted: bool = raw_call(
            token,
            abi_encode(
                msg.sender,
                self,
                max_price,
                deadline,
                v,
                r,
                s,
                method_id=method_id("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"),
            ),
            revert_on_failure=False,
        )
    return self._buy(offer_id, max_price, split)


@external
@nonreentrant
def pay_revenue(asset_id: uint256, token: address, amount: uint256, split: IAssetRegistry.Split):
    """
    @notice Pays `amount` of `token` from the caller to an asset as revenue (ERC-2981
            royalties a marketplace forwards, a licence fee paid inside a job), split
            like a sale.
    @param asset_id An asset.
    @param token An ERC-20 (a contract; fee-on-transfer tokens are refused).
    @param amount The amount (not zero); approve this contract first.
    @param split The asset's creators, parents and details hash (checked against
           the registry's hash).
    """
    assert amount > 0, "licence: zero amount"
    assert token.is_contract, "licence: token is not a contract"
    owner: address = self._check_split(asset_id, split)
    self._pull(token, msg.sender, amount)
    log ILicensing.RevenueReceived(asset_id=asset_id, token=token, amount=amount, sender=msg.sender)
    self._split(asset_id, owner, split, token, amount)


# --------------------------------------------------------------------------- royalties


@external
@nonreentrant
def distribute(asset_id: uint256, token: address, split: IAssetRegistry.Split):
    """
    @notice Anyone splits an asset's pending revenue in `token` one level: its parents'
            shares become their pending revenue, its creators' and owner's parts
            become claimable.
    @param asset_id An asset with pending revenue.
    @param token The token.
    @param split The asset's creators, parents and details hash (checked against
           the registry's hash).
    """
    amount: uint256 = self.pending[asset_id][token]
    assert amount > 0, "licence: nothing pending"
    owner: address = self._check_split(asset_id, split)
    self.pending[asset_id][token] = 0
    self._split(asset_id, owner, split, token, amount)


@external
@nonreentrant
def claim(token: address) -> uint256:
    """
    @notice Pays the caller everything it can claim in `token`.
    @param token The token.
    @return The amount paid.
    """
    return self._claim(msg.sender, token)


@external
@nonreentrant
def claim_for(account: address, token: address) -> uint256:
    """
    @notice Anyone (a relayer) pays `account` everything it can claim in `token`; the
            tokens go to `account` only.
    @param account The receiver.
    @param token The token.
    @return The amount paid.
    """
    return self._claim(account, token)


# --------------------------------------------------------------------------- licences


@external
@nonreentrant
def revoke(licence_id: uint256, reason_cid: String[128]):
    """
    @notice The asset's current owner revokes a licence, only when its offer said
            licences were revocable (the buyer saw it before buying). No refund.
    @param licence_id A licence not yet revoked.
    @param reason_cid CID of a document giving the reason.
    """
    packed: uint256 = self._licences[licence_id]
    assert packed & _ADDRESS_MASK != 0, "licence: unknown licence"
    offer_id: uint256 = packed >> _OFFER_SHIFT
    asset_id: uint256 = (self._offer_price[offer_id] >> 128) & _U64
    assert staticcall registry.ownerOf(asset_id) == msg.sender, "licence: caller is not the asset's owner"
    assert self._offer_sale[offer_id] & _REVOCABLE != 0, "licence: not revocable"
    assert packed & _REVOKED == 0, "licence: already revoked"
    self._licences[licence_id] = packed | _REVOKED
    log ILicensing.LicenceRevoked(licence_id=licence_id, reason_cid=reason_cid)


@external
@nonreentrant
def surrender(licence_id: uint256):
    """
    @notice The holder gives a licence up: its token is burnt (its data stays readable).
    @param licence_id A licence the caller holds.
    """
    assert self._holder_of(licence_id) == msg.sender, "licence: caller is not the holder"
    packed: uint256 = self._licences[licence_id]
    erc721._token_approvals[licence_id] = empty(address)
    erc721._balances[msg.sender] = unsafe_sub(erc721._balances[msg.sender], 1)
    self._licences[licence_id] = packed & ~_ADDRESS_MASK
    log IERC721.Transfer(sender=msg.sender, receiver=empty(address), token_id=licence_id)
    log ILicensing.LicenceSurrendered(licence_id=licence_id)


@external
@payable
@nonreentrant
def transferFrom(owner: address, to: address, token_id: uint256):
    """
    @notice ERC-721 transfer of a licence, only when its offer made it transferable.
    @param owner The holder.
    @param to The receiver.
    @param token_id The licence.
    """
    self._check_transferable(token_id)
    assert self._is_approved_or_holder(msg.sender, token_id), "erc721: caller is not token owner or approved"
    self._move_token(owner, to, token_id)


@external
@payable
@nonreentrant
def safeTransferFrom(owner: address, to: address, token_id: uint256, data: Bytes[1_024] = b""):
    """
    @notice ERC-721 safe transfer (both overloads) of a licence, only when its offer
            made it transferable.
    @param owner The holder.
    @param to The receiver (a contract must accept ERC-721 tokens).
    @param token_id The licence.
    @param data Data passed to the receiver.
    """
    self._check_transferable(token_id)
    assert self._is_approved_or_holder(msg.sender, token_id), "erc721: caller is not token owner or approved"
    self._move_token(owner, to, token_id)
    assert erc721._check_on_erc721_received(owner, to, token_id, data), "erc721: transfer to non-IERC721Receiver implementer"


@external
@payable
def approve(to: address, token_id: uint256):
    """
    @notice ERC-721 approval of a licence, only when its offer made it transferable.
    @param to The approved account (empty to clear).
    @param token_id The licence.
    """
    self._check_transferable(token_id)
    owner: address = self._holder_of(token_id)
    assert to != owner, "erc721: approval to current owner"
    assert msg.sender == owner or erc721.isApprovedForAll[owner][msg.sender], "erc721: approve caller is not token owner or approved for all"
    erc721._token_approvals[token_id] = to
    log IERC721.Approval(owner=owner, approved=to, token_id=token_id)


@external
@view
def ownerOf(token_id: uint256) -> address:
    """
    @notice ERC-721: the holder of a licence. Reverts for a licence that does not exist
            (or was surrendered).
    @param token_id A licence.
    @return The holder.
    """
    return self._holder_of(token_id)


@external
@view
def getApproved(token_id: uint256) -> address:
    """
    @notice ERC-721: the account approved to transfer a licence. Reverts for a licence
            that does not exist.
    @param token_id A licence.
    @return The approved account, or the zero address.
    """
    self._holder_of(token_id)
    return erc721._token_approvals[token_id]


# --------------------------------------------------------------------------- views


@external
@view
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165: true for ERC-165, ERC-721 and ERC-721 Metadata.
    @param interface_id A 4-byte interface id.
    @return Whether the contract implements it.
    """
    return interface_id in _SUPPORTED_INTERFACES


@external
@view
def tokenURI(token_id: uint256) -> String[135]:
    """
    @notice ERC-721 Metadata: "ipfs://" and the CID of the licence's terms document
            (empty when its offer named none). Reverts for a token that does not exist.
    @param token_id A licence.
    @return The URI.
    """
    self._holder_of(token_id)
    terms: String[128] = self._offer_terms[self._licences[token_id] >> _OFFER_SHIFT]
    if len(terms) == 0:
        return ""
    return concat("ipfs://", terms)


@external
@view
def licence(licence_id: uint256) -> ILicensing.Licence:
    """
    @notice A licence's data (also after it was surrendered). Reverts for an unknown id.
    @param licence_id A licence.
    @return (offer_id, asset_id, kind, commercial, expires_at, revoked, price, token).
    """
    assert licence_id != 0 and licence_id <= self.licence_count, "licence: unknown licence"
    return self._unpack(licence_id)


@external
@view
def is_valid(licence_id: uint256) -> bool:
    """
    @notice Whether a licence is in force: its token exists (not surrendered), it is not
            revoked and not expired (expires_at 0 never expires).
    @param licence_id A licence.
    @return Whether it is valid now.
    """
    if self._licences[licence_id] & _ADDRESS_MASK == 0:
        return False
    lic: ILicensing.Licence = self._unpack(licence_id)
    return not lic.revoked and (lic.expires_at == 0 or block.timestamp < convert(lic.expires_at, uint256))


@external
@view
def get_offer(offer_id: uint256) -> ILicensing.Offer:
    """
    @notice An offer. Reverts for an unknown id.
    @param offer_id An offer.
    @return The offer.
    """
    assert offer_id != 0 and offer_id <= self.offer_count, "licence: unknown offer"
    sale: uint256 = self._offer_sale[offer_id]
    terms: uint256 = self._offer_price[offer_id]
    tok: uint256 = self._offer_token[offer_id]
    kind: uint8 = DOWNLOAD
    if sale & _COMPUTE != 0:
        kind = COMPUTE
    return ILicensing.Offer(
        asset_id=(terms >> 128) & _U64,
        seller=convert(sale & _ADDRESS_MASK, address),
        token=convert(tok & _ADDRESS_MASK, address),
        price=terms & _U128,
        term_seconds=convert((sale >> 160) & _U32, uint64),
        commercial=sale & _COMMERCIAL != 0,
        kind=kind,
        transferable=sale & _TRANSFERABLE != 0,
        revocable=sale & _REVOCABLE != 0,
        terms_cid=self._offer_terms[offer_id],
        max_licences=terms >> 192,
        sold=tok >> 160,
        active=sale & _ACTIVE != 0,
    )


# --------------------------------------------------------------------------- internal


@internal
def _buy(offer_id: uint256, max_price: uint256, split: IAssetRegistry.Split) -> uint256:
    """
    @dev Checks the offer and the asset's record, pulls the price, mints the licence,
         splits the price.
    @param offer_id The offer.
    @param max_price The most the buyer accepts to pay.
    @param split The asset's split.
    @return The licence id.
    """
    sale: uint256 = self._offer_sale[offer_id]
    assert sale & _ACTIVE != 0, "licence: offer not active"
    terms: uint256 = self._offer_price[offer_id]
    asset_id: uint256 = (terms >> 128) & _U64
    owner: address = self._check_split(asset_id, split)
    assert owner == convert(sale & _ADDRESS_MASK, address), "licence: asset changed hands"
    tok: uint256 = self._offer_token[offer_id]
    cap: uint256 = terms >> 192
    assert cap == 0 or (tok >> 160) < cap, "licence: sold out"
    # fewer than 2**96 licences are ever sold: the count stays in its bits
    self._offer_token[offer_id] = unsafe_add(tok, _ONE_SOLD)
    price: uint256 = terms & _U128
    assert price <= max_price, "licence: price above max"
    token: address = convert(tok & _ADDRESS_MASK, address)
    term: uint256 = (sale >> 160) & _U32
    expires_at: uint64 = 0
    if term != 0:
        expires_at = convert(block.timestamp + term, uint64)
        assert convert(expires_at, uint256) <= _EXPIRY_MASK, "licence: expiry out of range"
    licence_id: uint256 = self.licence_count + 1
    self.licence_count = licence_id
    self._mint_token(msg.sender, licence_id, (offer_id << _OFFER_SHIFT) | (convert(expires_at, uint256) << 160))
    log ILicensing.LicenceBought(
        licence_id=licence_id,
        offer_id=offer_id,
        asset_id=asset_id,
        buyer=msg.sender,
        price=price,
        token=token,
        expires_at=expires_at,
    )
    if price > 0:
        self._pull(token, msg.sender, price)
        self._split(asset_id, owner, split, token, price)
    return licence_id


@internal
@view
def _check_split(asset_id: uint256, split: IAssetRegistry.Split) -> address:
    """
    @dev Reverts unless `split` is the asset's registered one (its hash is the
         registry's) and returns the asset's current owner (reverts for an unknown asset).
    @param asset_id The asset.
    @param split The split the caller passed.
    @return The asset's owner.
    """
    owner: address = empty(address)
    stored: bytes32 = empty(bytes32)
    owner, stored = staticcall registry.sale_terms(asset_id)
    assert keccak256(abi_encode(split)) == stored, "licence: wrong asset record"
    return owner


@internal
def _pull(token: address, payer: address, amount: uint256):
    """
    @dev Moves `amount` of `token` from `payer` to this contract; reverts unless the
         balance grew by exactly `amount`.
    @param token The token.
    @param payer The payer (who approved this contract).
    @param amount The amount.
    """
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    assert extcall IERC20(token).transferFrom(payer, self, amount, default_return_value=True), "licence: transfer failed"
    after: uint256 = staticcall IERC20(token).balanceOf(self)
    assert after >= before and after - before == amount, "licence: fee-on-transfer token refused"


@internal
def _split(asset_id: uint256, owner: address, split: IAssetRegistry.Split, token: address, amount: uint256):
    """
    @dev Splits `amount` of an asset's revenue one level (see royalty_split): parents'
         parts to their pending revenue, creators' and the owner's (with the rounding
         dust) to their claimable balances.
    @param asset_id The asset.
    @param owner Its current owner.
    @param split Its creators and parents (checked).
    @param token The token.
    @param amount The amount.
    """
    to_parents: uint256 = 0
    for p: IAssetRegistry.Parent in split.parents:
        share: uint256 = royalty_split.part(amount, convert(p.bps, uint256))
        if share > 0:
            self.pending[p.asset_id][token] += share
            to_parents += share
    rest: uint256 = amount - to_parents
    to_creators: uint256 = 0
    for c: IAssetRegistry.Share in split.creators:
        share: uint256 = royalty_split.part(rest, convert(c.bps, uint256))
        if share > 0:
            self.claimable[c.account][token] += share
            to_creators += share
    to_owner: uint256 = rest - to_creators
    if to_owner > 0:
        self.claimable[owner][token] += to_owner
    log ILicensing.RevenueSplit(
        asset_id=asset_id,
        token=token,
        amount=amount,
        to_parents=to_parents,
        to_creators=to_creators,
        to_owner=to_owner,
    )


@internal
def _claim(account: address, token: address) -> uint256:
    """
    @dev Pays `account` its claimable balance in `token` (zeroed first).
    @param account The receiver.
    @param token The token.
    @return The amount paid.
    """
    amount: uint256 = self.claimable[account][token]
    assert amount > 0, "licence: nothing to claim"
    self.claimable[account][token] = 0
    assert extcall IERC20(token).transfer(account, amount, default_return_value=True), "licence: transfer failed"
    log ILicensing.Claimed(account=account, token=token, amount=amount)
    return amount


@internal
@view
def _check_transferable(licence_id: uint256):
    """
    @dev Reverts unless the licence's offer made it transferable (also for unknown ids).
    @param licence_id A licence.
    """
    assert self._offer_sale[self._licences[licence_id] >> _OFFER_SHIFT] & _TRANSFERABLE != 0, _NOT_TRANSFERABLE


@internal
@view
def _unpack(licence_id: uint256) -> ILicensing.Licence:
    """
    @dev A licence's data: its packed slot and its offer's fields.
    @param licence_id A licence.
    @return The licence.
    """
    packed: uint256 = self._licences[licence_id]
    offer_id: uint256 = packed >> _OFFER_SHIFT
    sale: uint256 = self._offer_sale[offer_id]
    terms: uint256 = self._offer_price[offer_id]
    kind: uint8 = DOWNLOAD
    if sale & _COMPUTE != 0:
        kind = COMPUTE
    return ILicensing.Licence(
        offer_id=offer_id,
        asset_id=(terms >> 128) & _U64,
        kind=kind,
        commercial=sale & _COMMERCIAL != 0,
        expires_at=convert((packed >> 160) & _EXPIRY_MASK, uint64),
        revoked=packed & _REVOKED != 0,
        price=terms & _U128,
        token=convert(self._offer_token[offer_id] & _ADDRESS_MASK, address),
    )


# --------------------------------------------------------------------------- token moves (no enumeration)


@internal
@view
def _holder_of(token_id: uint256) -> address:
    """
    @dev A licence's holder; reverts for one that does not exist (or was surrendered).
    @param token_id A licence.
    @return The holder.
    """
    holder: address = convert(self._licences[token_id] & _ADDRESS_MASK, address)
    assert holder != empty(address), "erc721: invalid token ID"
    return holder


@internal
@view
def _is_approved_or_holder(spender: address, token_id: uint256) -> bool:
    """
    @dev Whether `spender` holds the licence, is approved for it or is an operator of
         its holder (as the module's `_is_approved_or_owner`, on this contract's holders).
    @param spender The account.
    @param token_id An existing licence.
    @return Whether it may transfer the licence.
    """
    holder: address = self._holder_of(token_id)
    return (
        spender == holder
        or erc721.isApprovedForAll[holder][spender]
        or erc721._token_approvals[token_id] == spender
    )


@internal
def _mint_token(to: address, token_id: uint256, data: uint256):
    """
    @dev Mints licence `token_id` to `to`: its slot (holder and `data`), the balance and
         the Transfer event only. The module's enumeration (not exported) is skipped.
    @param to The holder (not empty).
    @param token_id A new licence id.
    @param data The licence's expiry and offer, in their bits.
    """
    assert to != empty(address), "erc721: mint to the zero address"
    erc721._balances[to] = unsafe_add(erc721._balances[to], 1)
    self._licences[token_id] = data | convert(to, uint256)
    log IERC721.Transfer(sender=empty(address), receiver=to, token_id=token_id)


@internal
def _move_token(owner: address, to: address, token_id: uint256):
    """
    @dev Moves licence `token_id` from `owner` to `to` (as the module's `_transfer`,
         without its enumeration), clearing its approval.
    @param owner The current holder.
    @param to The receiver (not empty).
    @param token_id The licence.
    """
    packed: uint256 = self._licences[token_id]
    assert packed & _ADDRESS_MASK == convert(owner, uint256) and owner != empty(address), "erc721: transfer from incorrect owner"
    assert to != empty(address), "erc721: transfer to the zero address"
    erc721._token_approvals[token_id] = empty(address)
    erc721._balances[owner] = unsafe_sub(erc721._balances[owner], 1)
    erc721._balances[to] = unsafe_add(erc721._balances[to], 1)
    self._licences[token_id] = (packed & ~_ADDRESS_MASK) | convert(to, uint256)
    log IERC721.Transfer(sender=owner, receiver=to, token_id=token_id)
