# pragma version ~=0.4.3
"""
@title Attestations
@custom:contract-name Attestations
@license GNU Affero General Public License v3.0 only
@notice The Ethereum Attestation Service (EAS) core: anyone attests, under a schema
        registered in the `SchemaRegistry`, a statement about a recipient; the
        attestation gets a uid, may reference another attestation, may expire,
        and, when both the schema and the attestation allow it, may be revoked by
        its attester, once. The schema's resolver, if any, vets every attestation
        and revocation and can refuse it.
@dev The single-attestation core of EAS, with the same request and Attestation
     structs, uid derivation, rules and events:
     - uid = keccak256(abi.encodePacked(schema, recipient, attester, time (uint64),
       expirationTime (uint64), revocable (bool), refUID, data, bump (uint32))),
       with bump counting up from 0 until the uid is unused;
     - the schema must be registered; expirationTime is 0 or in the future; a
       non-revocable schema takes no revocable attestation; a non-empty refUID
       must be an existing attestation;
     - only the attester revokes, only a revocable attestation, only once, and
       the request must name the attestation's schema;
     - `Attested` / `Revoked` as in EAS, then the resolver's `attest` / `revoke`
       (a False answer reverts).
     Not implemented: ETH for resolvers (value must be 0 and the functions are not
     payable), delegated (signed) and multi requests, timestamps and off-chain
     revocations. Attestation data is limited to 1,024 bytes.
"""

from . import IAttestations
from . import ISchemaRegistry
from . import ISchemaResolver

implements: IAttestations


MAX_DATA: constant(uint256) = 1024
# Bump values tried before giving up (EAS tries up to 2**32; a collision needs the
# same attester to attest the same content twice in one block).
MAX_BUMP: constant(uint256) = 256


# @dev The schema registry the schemas are read from.
REGISTRY: immutable(ISchemaRegistry)

# @dev Every attestation by uid; an unknown uid maps to an all-empty attestation.
_db: HashMap[bytes32, IAttestations.Attestation]


@deploy
def __init__(registry_: address):
    """
    @notice Deploys the attestation service on a schema registry.
    @param registry_ The `SchemaRegistry`.
    """
    assert registry_.is_contract, "attestations: registry is not a contract"
    REGISTRY = ISchemaRegistry(registry_)


@external
@nonreentrant
def attest(request: IAttestations.AttestationRequest) -> bytes32:
    """
    @notice Attests as the caller, under `request.schema`, to `request.data`.
    @dev The schema's resolver (if any) is called after the attestation is
         stored and `Attested` is logged; it may read the attestation back.
    @param request schema: the schema's uid; data: recipient, expirationTime (0 for
           never), revocable, refUID (empty for none), data (schema-encoded, at
           most 1,024 bytes), value (must be 0).
    @return The new attestation's uid.
    """
    record: ISchemaRegistry.SchemaRecord = staticcall REGISTRY.get_schema(request.schema)
    assert record.uid != empty(bytes32), "attestations: unknown schema"
    req: IAttestations.AttestationRequestData = request.data
    assert req.value == 0, "attestations: no value accepted"
    now: uint64 = convert(block.timestamp, uint64)
    assert req.expirationTime == 0 or req.expirationTime > now, "attestations: expiration in the past"
    assert record.revocable or not req.revocable, "attestations: schema is irrevocable"
    attestation: IAttestations.Attestation = IAttestations.Attestation(
        uid=empty(bytes32),
        schema=request.schema,
        time=now,
        expirationTime=req.expirationTime,
        revocationTime=0,
        refUID=req.refUID,
        recipient=req.recipient,
        attester=msg.sender,
        revocable=req.revocable,
        data=req.data,
    )
    uid: bytes32 = empty(bytes32)
    for bump: uint256 in range(MAX_BUMP):
        candidate: bytes32 = self._uid(attestation, convert(bump, uint32))
        if self._db[candidate].uid == empty(bytes32):
            uid = candidate
            break
    assert uid != empty(bytes32), "attestations: no free uid"
    attestation.uid = uid
    self._db[uid] = attestation
    if req.refUID != empty(bytes32):
        assert self._db[req.refUID].uid != empty(bytes32), "attestations: unknown refUID"
    log IAttestations.Attested(recipient=req.recipient, attester=msg.sender, uid=uid, schemaUID=request.schema)
    if record.resolver != empty(address):
        assert extcall ISchemaResolver(record.resolver).attest(attestation), "attestations: refused by resolver"
    return uid


@external
@nonreentrant
def revoke(request: IAttestations.RevocationRequest):
    """
    @notice Revokes one of the caller's attestations; it stays readable, with its
            revocation time set.
    @param request schema: the attestation's schema uid; data: uid (the
           attestation) and value (must be 0).
    """
    record: ISchemaRegistry.SchemaRecord = staticcall REGISTRY.get_schema(request.schema)
    assert record.uid != empty(bytes32), "attestations: unknown schema"
    assert request.data.value == 0, "attestations: no value accepted"
    uid: bytes32 = request.data.uid
    attestation: IAttestations.Attestation = self._db[uid]
    assert attestation.uid != empty(bytes32), "attestations: unknown attestation"
    assert attestation.schema == request.schema, "attestations: wrong schema"
    assert attestation.attester == msg.sender, "attestations: caller is not the attester"
    assert attestation.revocable, "attestations: attestation is irrevocable"
    assert attestation.revocationTime == 0, "attestations: already revoked"
    attestation.revocationTime = convert(block.timestamp, uint64)
    self._db[uid].revocationTime = attestation.revocationTime
    log IAttestations.Revoked(recipient=attestation.recipient, attester=msg.sender, uid=uid, schemaUID=request.schema)
    if record.resolver != empty(address):
        assert extcall ISchemaResolver(record.resolver).revoke(attestation), "attestations: refused by resolver"


@external
@view
def get_attestation(uid: bytes32) -> IAttestations.Attestation:
    """
    @notice An attestation.
    @param uid The attestation's uid.
    @return The attestation; all empty for an unknown uid.
    """
    return self._db[uid]


@external
@view
def getAttestation(uid: bytes32) -> IAttestations.Attestation:
    """
    @notice EAS name of `get_attestation`, for EAS SDKs and indexers.
    @param uid The attestation's uid.
    @return The attestation; all empty for an unknown uid.
    """
    return self._db[uid]


@external
@view
def is_attestation_valid(uid: bytes32) -> bool:
    """
    @notice Whether an attestation exists (EAS semantics: a revoked or expired
            attestation still exists; check its revocationTime and expirationTime).
    @param uid The attestation's uid.
    @return True when it exists.
    """
    return self._db[uid].uid != empty(bytes32)


@external
@view
def isAttestationValid(uid: bytes32) -> bool:
    """
    @notice EAS name of `is_attestation_valid`.
    @param uid The attestation's uid.
    @return True when it exists.
    """
    return self._db[uid].uid != empty(bytes32)


@external
@view
def get_schema_registry() -> address:
    """
    @notice The schema registry the schemas are read from.
    @return The `SchemaRegistry`'s address.
    """
    return REGISTRY.address


@external
@view
def getSchemaRegistry() -> address:
    """
    @notice EAS name of `get_schema_registry`.
    @return The `SchemaRegistry`'s address.
    """
    return REGISTRY.address


@internal
@pure
def _uid(a: IAttestations.Attestation, bump: uint32) -> bytes32:
    """
    @dev EAS's _getUID: keccak256 of the Solidity packed encoding (bytes32, address
         as 20 bytes, uint64 as 8, bool as 1, the data's bytes, uint32 as 4).
    @param a The attestation (its uid field is ignored).
    @param bump Collision counter, as in EAS.
    @return The uid.
    """
    flag: Bytes[1] = b"\x00"
    if a.revocable:
        flag = b"\x01"
    return keccak256(
        concat(
            a.schema,
            convert(a.recipient, bytes20),
            convert(a.attester, bytes20),
            convert(a.time, bytes8),
            convert(a.expirationTime, bytes8),
            flag,
            a.refUID,
            a.data,
            convert(bump, bytes4),
        )
    )
