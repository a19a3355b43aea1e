# pragma version ~=0.4.3
"""
@title IssuerRegistry
@custom:contract-name IssuerRegistry
@license GNU Affero General Public License v3.0 only
@notice On-chain registry of accredited credential issuers. The owner (the deployer
        now, a DAO governor later: hand it over with `transfer_ownership`) accredits an
        issuer's EVM account with its DID (did:web:... or did:pkh:...) and a display
        name, and may revoke the accreditation (and grant it again). An accredited
        issuer publishes the history of its credential signing keys (RFC 7638 JWK
        thumbprints, each with valid_from / valid_until), so that a credential signed
        with a key that was rotated out later still verifies for its issuance time,
        and anchors the digests of its status lists, so that a verifier can tell a
        stale (or forged) status list from the current one.
@dev What a verifier checks for a credential issued at `iat` by DID `d` with key `k`:
     issuer = issuer_of_did(keccak256(d)) is not empty; is_accredited(issuer) (or,
     for a revoked issuer, iat < issuer_info(issuer).revoked_at, as its policy says);
     key_valid_at(issuer, k, iat); and sha256(fetched status list token) ==
     status_list_anchor(issuer, keccak256(status list URI)).digest.
     A DID, once accredited, stays bound to its account for good (also after a
     revocation or a change of the account's DID), so old credentials stay attributable;
     a key thumbprint can be added once per issuer (its history is never overwritten).
"""

from snekmate.auth import ownable

from . import IIssuerRegistry

implements: IIssuerRegistry

initializes: ownable

exports: (
    ownable.owner,
    ownable.transfer_ownership,
)


MAX_LISTED: constant(uint256) = 256


# An issuer's registration. `since` is the time of the latest accreditation (kept
# after a revocation); `revoked_at` the time of the latest revocation, 0 while accredited.
struct Issuer:
    did: String[256]
    name: String[64]
    accredited: bool
    since: uint64
    revoked_at: uint64


event IssuerAccredited:
    issuer: indexed(address)
    did_hash: indexed(bytes32)
    did: String[256]
    name: String[64]


event AccreditationRevoked:
    issuer: indexed(address)


event KeyAdded:
    issuer: indexed(address)
    thumbprint: indexed(bytes32)
    valid_from: uint64


event KeyRetired:
    issuer: indexed(address)
    thumbprint: indexed(bytes32)
    valid_until: uint64
    by: address


event KeyCompromised:
    issuer: indexed(address)
    thumbprint: indexed(bytes32)
    by: address


event StatusListAnchored:
    issuer: indexed(address)
    list_id: indexed(bytes32)
    digest: bytes32
    updated_at: uint64


# @dev Registration of every account ever accredited; all empty for others.
_issuers: HashMap[address, Issuer]
# @dev Account each DID is bound to, by keccak256 of the DID string; never unbound.
issuer_of_did: public(HashMap[bytes32, address])
# @dev Number of accounts ever accredited (revoked ones included).
issuer_count: public(uint256)
# @dev Accounts ever accredited, in order of first accreditation: index -> account.
_issuer_at: HashMap[uint256, address]
# @dev Key history: issuer -> JWK thumbprint -> (valid_from, valid_until).
_keys: HashMap[address, HashMap[bytes32, IIssuerRegistry.KeyRecord]]
# @dev Number of keys each issuer ever added (retired ones included).
key_count: public(HashMap[address, uint256])
# @dev Keys of each issuer in the order they were added: issuer -> index -> thumbprint.
_key_at: HashMap[address, HashMap[uint256, bytes32]]
# @dev Latest status list digests: issuer -> list id (keccak256 of the URI) -> anchor.
_anchors: HashMap[address, HashMap[bytes32, IIssuerRegistry.StatusAnchor]]


@deploy
def __init__():
    """
    @notice Deploys an empty registry; the deployer becomes owner.
    """
    ownable.__init__()


# --------------------------------------------------------------------------- accreditation


@external
def accredit(issuer: address, did: String[256], name: String[64]):
    """
    @notice Accredits `issuer` (again, after a revocation), or updates the DID and name
            of an accredited issuer. Only the owner may call it.
    @dev The DID must be free or already bound to `issuer`; a DID the account held
         before stays bound to it. `since` is set when the account becomes accredited
         and kept on a mere update.
    @param issuer The issuer's EVM account (it adds keys and anchors status lists).
    @param did The issuer's DID, e.g. "did:web:issuer.example" or "did:pkh:eip155:1:0x...".
    @param name Display name (1 to 64 characters).
    """
    ownable._check_owner()
    assert issuer != empty(address), "registry: zero issuer"
    assert len(did) > 4 and slice(did, 0, 4) == "did:", "registry: bad did"
    assert len(name) > 0, "registry: empty name"
    did_hash: bytes32 = keccak256(did)
    holder: address = self.issuer_of_did[did_hash]
    assert holder == empty(address) or holder == issuer, "registry: did taken"
    if holder == empty(address):
        self.issuer_of_did[did_hash] = issuer

    info: Issuer = self._issuers[issuer]
    if info.since == 0:
        # first accreditation ever: list the account
        self._issuer_at[self.issuer_count] = issuer
        self.issuer_count += 1
    if not info.accredited:
        info.since = convert(block.timestamp, uint64)
        info.revoked_at = 0
        info.accredited = True
    info.did = did
    info.name = name
    self._issuers[issuer] = info
    log IssuerAccredited(issuer=issuer, did_hash=did_hash, did=did, name=name)


@external
def revoke_accreditation(issuer: address):
    """
    @notice Revokes `issuer`'s accreditation: it can no longer add keys, anchor status
            lists or mint badges. Its DID binding and key history stay on record. Only
            the owner may call it.
    @param issuer An accredited issuer.
    """
    ownable._check_owner()
    assert self._issuers[issuer].accredited, "registry: not accredited"
    self._issuers[issuer].accredited = False
    self._issuers[issuer].revoked_at = convert(block.timestamp, uint64)
    log AccreditationRevoked(issuer=issuer)


@external
@view
def is_accredited(issuer: address) -> bool:
    """
    @notice Whether `issuer` is currently accredited.
    @param issuer An account.
    @return True for a currently accredited issuer.
    """
    return self._issuers[issuer].accredited


@external
@view
def issuer_info(issuer: address) -> Issuer:
    """
    @notice An account's registration.
    @param issuer An account.
    @return (did, name, accredited, since, revoked_at); all empty for an account never accredited.
    """
    return self._issuers[issuer]


@external
@view
def issuer_at(index: uint256) -> address:
    """
    @notice The `index`-th account ever accredited (revoked ones included).
    @param index From 0 to issuer_count() - 1.
    @return The account.
    """
    assert index < self.issuer_count, "registry: index out of range"
    return self._issuer_at[index]


@external
@view
def issuers() -> DynArray[address, MAX_LISTED]:
    """
    @notice The first 256 accounts ever accredited (revoked ones included; check
            `is_accredited`); use `issuer_count` and `issuer_at` beyond that.
    @return The accounts, in order of first accreditation.
    """
    result: DynArray[address, MAX_LISTED] = []
    for i: uint256 in range(min(self.issuer_count, MAX_LISTED), bound=MAX_LISTED):
        result.append(self._issuer_at[i])
    return result


# --------------------------------------------------------------------------- keys


@external
def add_key(thumbprint: bytes32):
    """
    @notice The calling accredited issuer publishes a new signing key, valid from now.
    @dev A thumbprint can be added once per issuer: a retired key cannot come back.
    @param thumbprint The key's RFC 7638 SHA-256 JWK thumbprint (raw 32 bytes).
    """
    assert self._issuers[msg.sender].accredited, "registry: not accredited"
    assert thumbprint != empty(bytes32), "registry: zero thumbprint"
    assert self._keys[msg.sender][thumbprint].valid_from == 0, "registry: key exists"
    now: uint64 = convert(block.timestamp, uint64)
    self._keys[msg.sender][thumbprint] = IIssuerRegistry.KeyRecord(valid_from=now, valid_until=0)
    count: uint256 = self.key_count[msg.sender]
    self._key_at[msg.sender][count] = thumbprint
    self.key_count[msg.sender] = count + 1
    log KeyAdded(issuer=msg.sender, thumbprint=thumbprint, valid_from=now)


@external
def retire_key(thumbprint: bytes32, issuer: address = empty(address)):
    """
    @notice Retires one of an issuer's keys as of the next second: credentials it signs
            later no longer verify; those it signed before (this second included) still do. The issuer itself
            may call it (also after losing its accreditation), and so may the owner
            (a key known to be stolen needs `compromise_key`: a thief can backdate `iat`).
    @param thumbprint The key's JWK thumbprint.
    @param issuer The issuer whose key it is; empty (the default) for the caller.
    """
    who: address = issuer
    if who == empty(address):
        who = msg.sender
    assert msg.sender == who or msg.sender == ownable.owner, "registry: caller is not the issuer or owner"
    record: IIssuerRegistry.KeyRecord = self._keys[who][thumbprint]
    assert record.valid_from != 0, "registry: unknown key"
    assert record.valid_until == 0, "registry: key retired"
    # The key still covers the second it is retired in: `iat` has one-second resolution, so a
    # credential signed earlier in that same second stays valid (the DID document's `revoked` is
    # likewise the rotation time + 1).
    until: uint64 = convert(block.timestamp, uint64) + 1
    self._keys[who][thumbprint].valid_until = until
    log KeyRetired(issuer=who, thumbprint=thumbprint, valid_until=until, by=msg.sender)


@external
def compromise_key(thumbprint: bytes32, issuer: address = empty(address)):
    """
    @notice Declares one of an issuer's keys compromised: it verifies nothing from now
            on, not even credentials dated before (whoever holds the key writes their
            own `iat`). Credentials the issuer signed with it must be reissued. The
            issuer itself or the owner may call it, retired key or not.
    @param thumbprint The key's JWK thumbprint.
    @param issuer The issuer whose key it is; empty (the default) for the caller.
    """
    who: address = issuer
    if who == empty(address):
        who = msg.sender
    assert msg.sender == who or msg.sender == ownable.owner, "registry: caller is not the issuer or owner"
    record: IIssuerRegistry.KeyRecord = self._keys[who][thumbprint]
    assert record.valid_from != 0, "registry: unknown key"
    assert record.valid_until != record.valid_from, "registry: key compromised"
    # an empty validity window: valid_from <= at < valid_until holds for no time at all
    self._keys[who][thumbprint].valid_until = record.valid_from
    log KeyCompromised(issuer=who, thumbprint=thumbprint, by=msg.sender)


@external
@view
def key_valid_at(issuer: address, thumbprint: bytes32, at: uint64) -> bool:
    """
    @notice Whether `thumbprint` was one of `issuer`'s keys at time `at`
            (valid_from <= at < valid_until, or no valid_until yet).
    @dev Accreditation is not part of this check: see the contract's @dev.
    @param issuer The issuer account.
    @param thumbprint The key's RFC 7638 SHA-256 JWK thumbprint (raw 32 bytes).
    @param at A unix time (e.g. a credential's `iat`).
    @return True if the key was in use at `at`.
    """
    record: IIssuerRegistry.KeyRecord = self._keys[issuer][thumbprint]
    if record.valid_from == 0 or at < record.valid_from:
        return False
    return record.valid_until == 0 or at < record.valid_until


@external
@view
def key_record(issuer: address, thumbprint: bytes32) -> IIssuerRegistry.KeyRecord:
    """
    @notice When `issuer`'s key `thumbprint` was added and retired.
    @param issuer The issuer account.
    @param thumbprint The key's JWK thumbprint.
    @return (valid_from, valid_until): all zero for an unknown key; valid_until 0 while in use.
    """
    return self._keys[issuer][thumbprint]


@external
@view
def key_at(issuer: address, index: uint256) -> bytes32:
    """
    @notice The `index`-th key `issuer` added (retired ones included).
    @param issuer The issuer account.
    @param index From 0 to key_count(issuer) - 1.
    @return The key's JWK thumbprint.
    """
    assert index < self.key_count[issuer], "registry: index out of range"
    return self._key_at[issuer][index]


# --------------------------------------------------------------------------- status lists


@external
def anchor_status_list(list_id: bytes32, digest: bytes32):
    """
    @notice The calling accredited issuer anchors the digest of the current version of
            one of its status lists (replacing the previous anchor).
    @param list_id keccak256 of the status list URI.
    @param digest sha256 of the current status list token.
    """
    assert self._issuers[msg.sender].accredited, "registry: not accredited"
    assert list_id != empty(bytes32), "registry: zero list id"
    assert digest != empty(bytes32), "registry: zero digest"
    now: uint64 = convert(block.timestamp, uint64)
    self._anchors[msg.sender][list_id] = IIssuerRegistry.StatusAnchor(digest=digest, updated_at=now)
    log StatusListAnchored(issuer=msg.sender, list_id=list_id, digest=digest, updated_at=now)


@external
@view
def status_list_anchor(issuer: address, list_id: bytes32) -> IIssuerRegistry.StatusAnchor:
    """
    @notice The latest digest `issuer` anchored for a status list.
    @param issuer The issuer account.
    @param list_id keccak256 of the status list URI.
    @return (digest, updated_at): zero for a list never anchored.
    """
    return self._anchors[issuer][list_id]
