# pragma version ~=0.4.3
"""
@title SchemaRegistry
@custom:contract-name SchemaRegistry
@license GNU Affero General Public License v3.0 only
@notice The Ethereum Attestation Service (EAS) schema registry: anyone registers a
        schema (an EAS schema string such as "uint8 rating,bytes32 commentHash",
        an optional resolver contract and whether its attestations are
        revocable); `Attestations.vy` reads it for every attestation.
@dev Same semantics, uid and events as EAS's SchemaRegistry (v1.3+):
     uid = keccak256(abi.encodePacked(schema, resolver, revocable)), i.e. the
     schema's UTF-8 bytes, the 20-byte resolver address and one byte for the flag;
     a schema can be registered once; `Registered(bytes32 indexed uid, address
     indexed registerer, SchemaRecord schema)`. Schema strings are limited to 1,024 bytes.
"""

from . import ISchemaRegistry

implements: ISchemaRegistry


MAX_SCHEMA: constant(uint256) = 1024

# @dev The registered schemas by uid; an unknown uid maps to an all-empty record.
_registry: HashMap[bytes32, ISchemaRegistry.SchemaRecord]


@external
def register(schema: String[MAX_SCHEMA], resolver: address, revocable: bool) -> bytes32:
    """
    @notice Registers a schema. Anyone may register any schema, once.
    @dev The resolver is not checked here. As in EAS, a resolver account without
         code makes every attestation of the schema revert (`Attestations` calls it).
    @param schema The EAS schema string (comma-separated "type name" fields).
    @param resolver The ISchemaResolver to consult on every attestation and
           revocation, or empty for none.
    @param revocable Whether attestations of this schema may be revoked.
    @return The schema's uid.
    """
    uid: bytes32 = self._uid(schema, resolver, revocable)
    assert self._registry[uid].uid == empty(bytes32), "schemas: already registered"
    record: ISchemaRegistry.SchemaRecord = ISchemaRegistry.SchemaRecord(
        uid=uid, resolver=resolver, revocable=revocable, schema=schema
    )
    self._registry[uid] = record
    log ISchemaRegistry.Registered(uid=uid, registerer=msg.sender, schema=record)
    return uid


@external
@view
def get_schema(uid: bytes32) -> ISchemaRegistry.SchemaRecord:
    """
    @notice A registered schema.
    @param uid The schema's uid.
    @return uid, resolver, revocable, schema; all empty for an unknown uid.
    """
    return self._registry[uid]


@external
@view
def getSchema(uid: bytes32) -> ISchemaRegistry.SchemaRecord:
    """
    @notice EAS name of `get_schema`, for EAS SDKs and indexers.
    @param uid The schema's uid.
    @return uid, resolver, revocable, schema; all empty for an unknown uid.
    """
    return self._registry[uid]


@external
@pure
def schema_uid(schema: String[MAX_SCHEMA], resolver: address, revocable: bool) -> bytes32:
    """
    @notice The uid a schema gets (whether registered or not), for off-chain checks.
    @param schema The EAS schema string.
    @param resolver The resolver, or empty.
    @param revocable Whether its attestations may be revoked.
    @return keccak256(abi.encodePacked(schema, resolver, revocable)).
    """
    return self._uid(schema, resolver, revocable)


@internal
@pure
def _uid(schema: String[MAX_SCHEMA], resolver: address, revocable: bool) -> bytes32:
    """
    @dev keccak256(abi.encodePacked(string, address, bool)) as Solidity packs it.
    @param schema The schema string.
    @param resolver The resolver.
    @param revocable Whether attestations may be revoked.
    @return The uid.
    """
    flag: Bytes[1] = b"\x00"
    if revocable:
        flag = b"\x01"
    return keccak256(concat(convert(schema, Bytes[MAX_SCHEMA]), convert(resolver, bytes20), flag))
