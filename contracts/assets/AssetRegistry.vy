# pragma version ~=0.4.3
"""
@title AssetRegistry
@custom:contract-name AssetRegistry
@license GNU Affero General Public License v3.0 only
@notice Models and datasets as assets: each is an ERC-721 token ("proofwork asset",
        PWA, ids from 1, transferable: an asset is property) with an ERC-2981
        royalty. An asset records its manifest (CIDv1 of a JSON naming its files, its
        licence and its card), its creators with their shares of the asset's own
        revenue, its parents (the assets it was derived from: trained on, fine-tuned
        from, labeled from) with the share of its revenue that flows to each, its
        registration time (proof of existence) and, when a job produced it, the job,
        milestone and deliverable hash.
        - Lineage is acyclic by construction: a parent must already exist, so its id
          is lower than its child's.
        - Timestamped IP: `timestamp(commitment)` records when the caller committed to
          keccak256(manifest || salt || caller address); the caller registering that
          manifest with that salt later gets the commitment's time as `existed_since`.
        - IP on payment: a job's client proposes IP terms while no milestone is
          settled, its freelancer accepts exactly those (by their hash), also while
          no milestone is settled; a paid milestone's deliverable is then registered
          by the party that owns it: the client when the accepted terms transfer the
          rights and the milestone was paid in full (PAID, or RESOLVED by a committee's
          verdict or a ruling paying its full price as recorded at acceptance; the
          freelancer stays its creator, with the agreed share), else the freelancer
          (also for a resolution that paid only part).
@dev Only a hash of its record is stored per asset (as JobEscrow stores its jobs):
     keccak256(abi_encode(Split(creators, parents, details))), `details` being
     keccak256(abi_encode(manifest, kind, royalty_bps, registered_at, existed_since,
     job_id, milestone, deliverable)); with the ERC-721 owner and, for an asset with a royalty, its ERC-2981
     receiver and rate packed in one slot; `AssetRegistered` carries the full record
     (the SDK rebuilds it from the log and checks it against `record_hash`), and
     `Licensing` takes the Split as calldata, checked the same way. A parent's id is
     lower than the new id and assets are never burned, so a parent exists without a
     storage read.
     Built on snekmate's `erc721`: exported are the approval functions and the reads;
     this contract defines its own transferFrom and safeTransferFrom and supportsInterface
     (ERC-165, ERC-721, ERC-2981). The optional ERC-721 Metadata `tokenURI` is not
     offered: the manifest CID is in the record (the event), and storing it would take
     three more slots a registration. Mints and transfers skip the module's enumeration
     (not exported: four storage slots a mint saved); `asset_count` enumerates the assets. Assets are minted
     without a receiver callback (registration makes no external call but the escrow
     read). Assets are never burned. There is no admin:
     the module's constructor grants its unused minter role to the deployer, and its
     `ownable` owner has no function here.
     Timestamps are kept per committer, and the committer's address is inside the
     committed hash: a commitment someone copied from the mempool and timestamped first
     blocks nobody, and once the registration reveals the manifest and salt it still
     proves nothing for the copier (the hash does not contain their address).
     IP terms bound the share the job's deliverables may send upstream
     (`max_upstream_bps`, agreed by both parties), so that the client, who registers a
     transferred deliverable and names its parents, cannot shrink the freelancer's
     creator share by naming parents of its own; a deliverable is registered only by
     the party that will own it (the other party could otherwise take the one slot of
     the milestone with a wrong manifest or parents).
"""

from ethereum.ercs import IERC165
from ethereum.ercs import IERC721
from snekmate.auth import ownable
from snekmate.tokens import erc721

from ..escrow import IJobEscrow
from ..escrow import milestone_status
from . import IAssetRegistry
from . import royalty_split

implements: IERC165
implements: IERC721
implements: IAssetRegistry

initializes: ownable
initializes: erc721[ownable := ownable]

exports: (
    erc721.balanceOf,
    erc721.ownerOf,
    erc721.getApproved,
    erc721.isApprovedForAll,
    erc721.name,
    erc721.symbol,
    erc721.approve,
    erc721.setApprovalForAll,
)


# ERC-165 ids: ERC-165, ERC-721, ERC-2981.
_SUPPORTED_INTERFACES: constant(bytes4[3]) = [
    0x01FFC9A7,
    0x80AC58CD,
    0x2A55205A,
]
_ADDRESS_MASK: constant(uint256) = (1 << 160) - 1


# @dev The JobEscrow whose paid milestones may be registered as assets.
escrow: public(immutable(IJobEscrow))
# @dev Number of assets ever registered; it is also the id of the latest one.
asset_count: public(uint256)
# @dev Every asset's record hash, keccak256(abi_encode(IAssetRegistry.Split)), by id.
_records: HashMap[uint256, bytes32]
# @dev ERC-2981 royalty of an asset with one (0 for none): its rate in basis points
#      (bits 160-175) and its receiver (bits 0-159: the first creator, or 0 for whoever
#      owns the asset).
_royalties: HashMap[uint256, uint256]
# @dev Commitment times: committer -> commitment -> block time (0 for none).
_stamps: HashMap[address, HashMap[bytes32, uint64]]
# @dev IP terms of each job.
_terms: HashMap[uint256, IAssetRegistry.IpTerms]
# @dev The asset registered for each job's milestone: job id -> milestone -> asset id (0 for none).
_deliverables: HashMap[uint256, HashMap[uint256, uint256]]


@deploy
def __init__(escrow_: IJobEscrow):
    """
    @notice Deploys the registry for the deliverables of one JobEscrow.
    @param escrow_ The JobEscrow contract.
    """
    assert escrow_.address != empty(address), "asset: zero escrow"
    ownable.__init__()
    erc721.__init__("proofwork asset", "PWA", "", "proofwork AssetRegistry", "1")
    escrow = escrow_


# --------------------------------------------------------------------------- timestamps


@external
def timestamp(commitment: bytes32):
    """
    @notice Records that the caller knew `commitment` at this block's time; once per
            caller and commitment. To prove a manifest existed before it is published,
            commit keccak256(manifest bytes || salt || caller's 20 address bytes) and
            register it later with `salt`: the address inside the hash makes a copied
            commitment worthless to anyone else.
    @param commitment A hash (not zero).
    """
    assert commitment != empty(bytes32), "asset: empty commitment"
    assert self._stamps[msg.sender][commitment] == 0, "asset: already timestamped"
    now: uint64 = convert(block.timestamp, uint64)
    self._stamps[msg.sender][commitment] = now
    log IAssetRegistry.Timestamped(commitment=commitment, by=msg.sender, timestamp=now)


# --------------------------------------------------------------------------- registration


@external
def register(
    manifest: String[128],
    kind: uint8,
    creators: DynArray[IAssetRegistry.Share, 8],
    parents: DynArray[IAssetRegistry.Parent, 8],
    royalty_bps: uint16,
    salt: bytes32,
    to: address,
) -> uint256:
    """
    @notice Registers an asset and mints it to `to`; the block time is its proof of
            existence, or an earlier commitment's when `salt` is given.
    @param manifest CIDv1 text of the manifest JSON (1 to 128 bytes).
    @param kind 0 model, 1 dataset.
    @param creators Up to 8 distinct non-zero accounts with their shares of the asset's
           own revenue (sum at most 10_000; the owner gets the rest).
    @param parents Up to 8 distinct existing assets with the share of this asset's
           revenue that flows to each (sum at most 5_000).
    @param royalty_bps ERC-2981 royalty (at most 1_000).
    @param salt Zero, or the salt of a commitment keccak256(manifest || salt || caller)
           the caller timestamped: `existed_since` is then that commitment's time.
    @param to The owner.
    @return The new asset id.
    """
    existed_since: uint64 = convert(block.timestamp, uint64)
    if salt != empty(bytes32):
        stamped: uint64 = self._stamps[msg.sender][
            keccak256(concat(convert(manifest, Bytes[128]), salt, convert(msg.sender, bytes20)))
        ]
        assert stamped != 0, "asset: commitment not timestamped by caller"
        existed_since = stamped
    return self._register(manifest, kind, creators, parents, royalty_bps, existed_since, to, 0, 0, empty(bytes32))


# --------------------------------------------------------------------------- IP on payment


@external
def propose_ip_terms(
    job_id: uint256, job: IJobEscrow.Job, transfer: bool, creator_bps: uint16, max_upstream_bps: uint16
):
    """
    @notice The job's client proposes its IP terms, while no milestone is settled and
            until the freelancer accepted terms (then they are frozen): whether the
            deliverables' rights pass to the client on payment and, if so, the
            freelancer's creator share of their revenue and the most the deliverables'
            parents may take of it first (the known lineage: the base model, the data).
    @param job_id The escrow job.
    @param job Its current state (checked against the escrow's hash).
    @param transfer Whether the rights pass to the client.
    @param creator_bps The freelancer's creator share when they do (at most 10_000;
           must be 0 when `transfer` is false).
    @param max_upstream_bps Cap of the parents' total share of a transferred
           deliverable (at most 5_000; must be 0 when `transfer` is false).
    """
    self._check_job(job_id, job)
    assert msg.sender == job.client, "asset: caller is not the job's client"
    assert not self._terms[job_id].accepted, "asset: terms already accepted"
    for m: IJobEscrow.Milestone in job.milestones:
        assert m.status < milestone_status.PAID, "asset: a milestone is settled"
    assert convert(creator_bps, uint256) <= royalty_split.BPS, "asset: creator share above 100%"
    assert convert(max_upstream_bps, uint256) <= royalty_split.MAX_UPSTREAM_BPS, "asset: upstream cap above 50%"
    assert transfer or (creator_bps == 0 and max_upstream_bps == 0), "asset: shares without transfer"
    self._terms[job_id] = IAssetRegistry.IpTerms(
        transfer=transfer,
        creator_bps=creator_bps,
        max_upstream_bps=max_upstream_bps,
        proposed=True,
        accepted=False,
        totals_hash=empty(bytes32),
    )
    log IAssetRegistry.IpTermsProposed(
        job_id=job_id,
        client=msg.sender,
        transfer=transfer,
        creator_bps=creator_bps,
        max_upstream_bps=max_upstream_bps,
        terms_hash=self._terms_hash(transfer, creator_bps, max_upstream_bps),
    )


@external
def accept_ip_terms(job_id: uint256, job: IJobEscrow.Job, terms_hash: bytes32):
    """
    @notice The job's freelancer accepts the proposed IP terms, while no milestone is
            settled (as the proposal: once one is, the client can no longer change its
            proposal, so it can no longer be accepted either, and all the job's
            deliverables fall under one regime); `terms_hash` must be
            keccak256(abi_encode(transfer, creator_bps, max_upstream_bps)) of the
            current proposal, so the freelancer accepts exactly what they read. The
            terms are frozen.
    @param job_id The escrow job.
    @param job Its current state (checked against the escrow's hash).
    @param terms_hash Hash of the terms the freelancer read.
    """
    self._check_job(job_id, job)
    assert msg.sender == job.freelancer and msg.sender != empty(address), "asset: caller is not the job's freelancer"
    terms: IAssetRegistry.IpTerms = self._terms[job_id]
    assert terms.proposed, "asset: no terms proposed"
    assert not terms.accepted, "asset: terms already accepted"
    assert terms_hash == self._terms_hash(terms.transfer, terms.creator_bps, terms.max_upstream_bps), "asset: terms differ"
    totals: DynArray[uint256, 16] = []
    for m: IJobEscrow.Milestone in job.milestones:
        assert m.status < milestone_status.PAID, "asset: a milestone is settled"
        totals.append(m.amount + m.paid)  # constant until the milestone is settled
    self._terms[job_id].accepted = True
    self._terms[job_id].totals_hash = keccak256(abi_encode(totals))
    log IAssetRegistry.IpTermsAccepted(job_id=job_id, freelancer=msg.sender, terms_hash=terms_hash, totals=totals)


@external
def register_deliverable(
    job_id: uint256,
    job: IJobEscrow.Job,
    milestone: uint256,
    manifest: String[128],
    kind: uint8,
    parents: DynArray[IAssetRegistry.Parent, 8],
    royalty_bps: uint16,
    totals: DynArray[uint256, 16] = [],
) -> uint256:
    """
    @notice Registers a paid milestone's deliverable as an asset (PAID, or RESOLVED by
            the job's arbiter with a payment to the freelancer: a committee's passing
            verdict, a ruling or a split), once per milestone,
            by the party that owns it: the client when the accepted IP terms transfer
            the rights and the milestone was PAID or RESOLVED paying its full price (a
            resolution that paid part of it leaves the deliverable the freelancer's) (creators: the freelancer with the agreed share; the parents'
            shares within the agreed cap), else the freelancer (creators: the
            freelancer with 100 %). Records the job, the milestone and its deliverable
            hash.
    @param job_id The escrow job.
    @param job Its current state (checked against the escrow's hash).
    @param milestone The paid milestone.
    @param manifest CIDv1 text of the manifest JSON (the SDK checks it names a file with
           the deliverable's hash).
    @param kind 0 model, 1 dataset.
    @param parents The assets it was derived from, as in `register`.
    @param royalty_bps ERC-2981 royalty (at most 1_000).
    @param totals For a RESOLVED milestone under accepted transfer terms: the totals the
           IpTermsAccepted event recorded (each milestone's full price).
    @return The new asset id.
    """
    self._check_job(job_id, job)
    assert msg.sender == job.client or msg.sender == job.freelancer, "asset: caller is not a party to the job"
    assert milestone < len(job.milestones), "asset: no such milestone"
    m: IJobEscrow.Milestone = job.milestones[milestone]
    approved: bool = m.status == milestone_status.PAID
    assert approved or (m.status == milestone_status.RESOLVED and m.paid > 0), "asset: milestone not paid"
    assert self._deliverables[job_id][milestone] == 0, "asset: deliverable already registered"
    terms: IAssetRegistry.IpTerms = self._terms[job_id]
    owner: address = job.freelancer
    creator_bps: uint16 = 10_000
    transferred: bool = terms.accepted and terms.transfer
    if transferred and not approved:
        # a resolution (a committee's verdict, a ruling) passes the rights only when it paid the
        # milestone's full price, as the accepted terms recorded it
        assert keccak256(abi_encode(totals)) == terms.totals_hash, "asset: milestone totals differ"
        transferred = m.paid == totals[milestone]
    if transferred:
        owner = job.client
        creator_bps = terms.creator_bps
    assert msg.sender == owner, "asset: caller does not own the deliverable"
    if transferred:
        upstream: uint256 = 0
        for p: IAssetRegistry.Parent in parents:
            upstream += convert(p.bps, uint256)
        assert upstream <= convert(terms.max_upstream_bps, uint256), "asset: parent shares above the agreed cap"
    creators: DynArray[IAssetRegistry.Share, 8] = [IAssetRegistry.Share(account=job.freelancer, bps=creator_bps)]
    asset_id: uint256 = self._register(
        manifest,
        kind,
        creators,
        parents,
        royalty_bps,
        convert(block.timestamp, uint64),
        owner,
        job_id,
        milestone,
        job.milestones[milestone].deliverable,
    )
    self._deliverables[job_id][milestone] = asset_id
    return asset_id


# --------------------------------------------------------------------------- ERC-721 transfers


@external
@payable
def transferFrom(owner: address, to: address, token_id: uint256):
    """
    @notice ERC-721 transfer of an asset by its owner or an approved account.
    @param owner The owner.
    @param to The receiver.
    @param token_id The asset.
    """
    assert erc721._is_approved_or_owner(msg.sender, token_id), "erc721: caller is not token owner or approved"
    self._move_token(owner, to, token_id)


@external
@payable
def safeTransferFrom(owner: address, to: address, token_id: uint256, data: Bytes[1_024] = b""):
    """
    @notice ERC-721 safe transfer (both overloads) of an asset: a contract receiver must
            accept it (onERC721Received).
    @param owner The owner.
    @param to The receiver.
    @param token_id The asset.
    @param data Data passed to the receiver.
    """
    assert erc721._is_approved_or_owner(msg.sender, token_id), "erc721: caller is not token owner or approved"
    self._move_token(owner, to, token_id)
    assert erc721._check_on_erc721_received(owner, to, token_id, data), "erc721: transfer to non-IERC721Receiver implementer"


# --------------------------------------------------------------------------- ERC-165, ERC-2981, metadata


@external
@view
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165: true for ERC-165, ERC-721, ERC-721 Metadata and ERC-2981.
    @param interface_id A 4-byte interface id.
    @return Whether the contract implements it.
    """
    return interface_id in _SUPPORTED_INTERFACES


@external
@view
def royaltyInfo(token_id: uint256, sale_price: uint256) -> (address, uint256):
    """
    @notice ERC-2981: the royalty of a sale of asset `token_id` at `sale_price`: paid to
            its first creator if it has creators, else to its owner (the split along
            the lineage is `Licensing.pay_revenue`'s job). Reverts for an unknown asset.
    @param token_id An asset.
    @param sale_price The sale price, in any unit.
    @return (receiver, royalty amount in the same unit).
    """
    owner: address = erc721._owner_of(token_id)
    packed: uint256 = self._royalties[token_id]
    receiver: address = convert(packed & _ADDRESS_MASK, address)
    if receiver == empty(address):
        receiver = owner
    return (receiver, royalty_split.part(sale_price, packed >> 160))


@external
@view
def record_hash(asset_id: uint256) -> bytes32:
    """
    @notice An asset's record hash: keccak256(abi_encode(Split(creators, parents,
            details))) of the record its `AssetRegistered` event carries, `details`
            being keccak256(abi_encode(manifest, kind, royalty_bps, registered_at,
            existed_since, job_id, milestone, deliverable)). Reverts for an unknown id.
    @param asset_id An asset.
    @return The hash.
    """
    erc721._require_minted(asset_id)
    return self._records[asset_id]


@external
@view
def sale_terms(asset_id: uint256) -> (address, bytes32):
    """
    @notice What a revenue split of the asset needs from the registry, in one call: its
            current owner and its record hash (the caller checks the creators and
            parents it was given against it). Reverts for an
            unknown id.
    @param asset_id An asset.
    @return (current owner, record hash).
    """
    return (erc721._owner_of(asset_id), self._records[asset_id])


@external
@view
def timestamp_of(by: address, commitment: bytes32) -> uint64:
    """
    @notice When `by` timestamped `commitment`.
    @param by The committer.
    @param commitment The commitment.
    @return Its block time, or 0 for never.
    """
    return self._stamps[by][commitment]


@external
@view
def ip_terms(job_id: uint256) -> IAssetRegistry.IpTerms:
    """
    @notice A job's IP terms (all empty when none were proposed).
    @param job_id An escrow job.
    @return (transfer, creator_bps, max_upstream_bps, proposed, accepted, totals_hash).
    """
    return self._terms[job_id]


@external
@view
def deliverable_asset(job_id: uint256, milestone: uint256) -> uint256:
    """
    @notice The asset registered for a job's milestone.
    @param job_id An escrow job.
    @param milestone A milestone index.
    @return The asset id, or 0 for none.
    """
    return self._deliverables[job_id][milestone]


# --------------------------------------------------------------------------- internal


@internal
@view
def _check_job(job_id: uint256, job: IJobEscrow.Job):
    """
    @dev The passed job state must be the escrow's current one.
    @param job_id The job.
    @param job The state the caller passed.
    """
    stored: bytes32 = staticcall escrow.job_state(job_id)
    assert stored != empty(bytes32), "asset: unknown job"
    assert keccak256(abi_encode(job)) == stored, "asset: stale job state"


@internal
@pure
def _terms_hash(transfer: bool, creator_bps: uint16, max_upstream_bps: uint16) -> bytes32:
    """
    @dev keccak256(abi_encode(transfer, creator_bps, max_upstream_bps)): what the
         freelancer accepts.
    @param transfer Whether the rights pass to the client.
    @param creator_bps The freelancer's creator share.
    @param max_upstream_bps The cap of the parents' share.
    @return The hash.
    """
    return keccak256(abi_encode(transfer, creator_bps, max_upstream_bps))


@internal
def _register(
    manifest: String[128],
    kind: uint8,
    creators: DynArray[IAssetRegistry.Share, 8],
    parents: DynArray[IAssetRegistry.Parent, 8],
    royalty_bps: uint16,
    existed_since: uint64,
    to: address,
    job_id: uint256,
    milestone: uint256,
    deliverable: bytes32,
) -> uint256:
    """
    @dev Checks an asset's fields, stores it under the next id, mints it to `to`.
    @param manifest CIDv1 text of the manifest JSON.
    @param kind 0 model, 1 dataset.
    @param creators The creators and their shares.
    @param parents The parents and their shares.
    @param royalty_bps ERC-2981 royalty.
    @param existed_since Proof-of-existence time.
    @param to The owner.
    @param job_id The job that produced it, or 0.
    @param milestone The job's milestone.
    @param deliverable The milestone's deliverable hash.
    @return The new asset id.
    """
    assert len(manifest) > 0, "asset: empty manifest"
    assert kind <= royalty_split.KIND_DATASET, "asset: unknown kind"
    assert convert(royalty_bps, uint256) <= royalty_split.MAX_ROYALTY_BPS, "asset: royalty above 10%"
    assert to != empty(address), "asset: zero owner"
    total: uint256 = 0
    for i: uint256 in range(len(creators), bound=royalty_split.MAX_CREATORS):
        assert creators[i].account != empty(address), "asset: zero creator"
        for j: uint256 in range(i + 1, len(creators), bound=royalty_split.MAX_CREATORS):
            assert creators[j].account != creators[i].account, "asset: duplicate creator"
        total += convert(creators[i].bps, uint256)
    assert total <= royalty_split.BPS, "asset: creator shares above 100%"
    asset_id: uint256 = self.asset_count + 1
    total = 0
    for i: uint256 in range(len(parents), bound=royalty_split.MAX_PARENTS):
        # a parent exists already: its id is lower than the new one (no cycle possible)
        assert parents[i].asset_id != 0 and parents[i].asset_id < asset_id, "asset: unknown parent"
        for j: uint256 in range(i + 1, len(parents), bound=royalty_split.MAX_PARENTS):
            assert parents[j].asset_id != parents[i].asset_id, "asset: duplicate parent"
        total += convert(parents[i].bps, uint256)
    assert total <= royalty_split.MAX_UPSTREAM_BPS, "asset: parent shares above 50%"
    self.asset_count = asset_id
    now: uint64 = convert(block.timestamp, uint64)
    details: bytes32 = keccak256(
        abi_encode(manifest, kind, royalty_bps, now, existed_since, job_id, milestone, deliverable)
    )
    self._records[asset_id] = keccak256(
        abi_encode(IAssetRegistry.Split(creators=creators, parents=parents, details=details))
    )
    if royalty_bps != 0:
        receiver: uint256 = 0
        if len(creators) > 0:
            receiver = convert(creators[0].account, uint256)
        self._royalties[asset_id] = (convert(royalty_bps, uint256) << 160) | receiver
    self._mint_token(to, asset_id)
    log IAssetRegistry.AssetRegistered(
        asset_id=asset_id,
        owner=to,
        kind=kind,
        manifest=manifest,
        creators=creators,
        parents=parents,
        royalty_bps=royalty_bps,
        existed_since=existed_since,
        job_id=job_id,
        milestone=milestone,
        deliverable=deliverable,
        registered_at=now,
    )
    return asset_id


# --------------------------------------------------------------------------- token moves (no enumeration)


@internal
def _mint_token(to: address, token_id: uint256):
    """
    @dev Mints `token_id` to `to`: owner, balance and the Transfer event only. The module's
         enumeration (not exported) is skipped, which saves four new storage slots a mint.
    @param to The owner (not empty).
    @param token_id A new token id.
    """
    assert to != empty(address), "erc721: mint to the zero address"
    erc721._balances[to] = unsafe_add(erc721._balances[to], 1)
    erc721._owners[token_id] = to
    log IERC721.Transfer(sender=empty(address), receiver=to, token_id=token_id)


@internal
def _move_token(owner: address, to: address, token_id: uint256):
    """
    @dev Moves `token_id` from `owner` to `to` (as the module's `_transfer`, without its
         enumeration), clearing its approval.
    @param owner The current owner.
    @param to The receiver (not empty).
    @param token_id The token.
    """
    assert erc721._owner_of(token_id) == owner, "erc721: transfer from incorrect owner"
    assert to != empty(address), "erc721: transfer to the zero address"
    erc721._token_approvals[token_id] = empty(address)
    erc721._balances[owner] = unsafe_sub(erc721._balances[owner], 1)
    erc721._balances[to] = unsafe_add(erc721._balances[to], 1)
    erc721._owners[token_id] = to
    log IERC721.Transfer(sender=owner, receiver=to, token_id=token_id)
