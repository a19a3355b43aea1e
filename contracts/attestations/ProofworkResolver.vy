# pragma version ~=0.4.3
"""
@title ProofworkResolver
@custom:contract-name ProofworkResolver
@license GNU Affero General Public License v3.0 only
@notice The schema resolver of proofwork's two attestation schemas:
        - JobCompleted "uint256 jobId,uint256 milestone,address client,address
          freelancer,address token,uint256 amountPaid,int256 score,bool verified,string skill"
          (non-revocable, recipient the freelancer): only the `JobAttester` may
          attest it, from the escrow's state and the committee's signatures;
        - Review "uint8 rating,bytes32 commentHash" (revocable by its author):
          its refUID must be a JobCompleted attestation, its attester one party of
          that job, its recipient the other party, the rating 1 to 5, and each party
          reviews a job at most once (a revoked review is not replaced).
        Attestations of any other schema are refused.
@dev Configured in the constructor, no owner: the resolver registers both schemas
     in the attestation service's registry with itself as their resolver (the
     uids include the resolver's address, so they can only exist once the
     resolver's address is known), skipping a registration someone made ahead of
     it (a uid determines its record). Deployment: SchemaRegistry, Attestations,
     JobAttester, this resolver, then `JobAttester.set_resolver(resolver)`.
"""

from . import IAttestations
from . import ISchemaRegistry
from . import ISchemaResolver
from . import job_completed

implements: ISchemaResolver


JOB_COMPLETED_SCHEMA: constant(String[256]) = job_completed.SCHEMA
REVIEW_SCHEMA: constant(String[40]) = "uint8 rating,bytes32 commentHash"


event ReviewRecorded:
    job_id: indexed(uint256)
    reviewer: indexed(address)
    reviewee: indexed(address)
    uid: bytes32
    rating: uint8


# @dev The attestation service whose calls this resolver answers.
ATTESTATIONS: immutable(IAttestations)
# @dev The only attester of JobCompleted attestations.
JOB_ATTESTER: immutable(address)
# @dev uid of the JobCompleted schema (non-revocable, resolver: this contract).
JOB_COMPLETED: immutable(bytes32)
# @dev uid of the Review schema (revocable, resolver: this contract).
REVIEW: immutable(bytes32)

# @dev Per job id and party: whether the party has reviewed that job (also after a revocation).
reviewed: public(HashMap[uint256, HashMap[address, bool]])


@deploy
def __init__(attestations_: address, job_attester_: address):
    """
    @notice Deploys the resolver and registers both proofwork schemas with it.
    @param attestations_ The `Attestations` contract (its registry is read from it).
    @param job_attester_ The `JobAttester`, sole attester of JobCompleted.
    """
    assert attestations_.is_contract, "resolver: attestations is not a contract"
    assert job_attester_.is_contract, "resolver: job attester is not a contract"
    registry: ISchemaRegistry = ISchemaRegistry(staticcall IAttestations(attestations_).get_schema_registry())
    ATTESTATIONS = IAttestations(attestations_)
    JOB_ATTESTER = job_attester_
    JOB_COMPLETED = self._register(registry, JOB_COMPLETED_SCHEMA, False)
    REVIEW = self._register(registry, REVIEW_SCHEMA, True)


@external
@view
def attestations() -> address:
    """
    @notice The attestation service whose calls this resolver answers.
    @return The `Attestations` contract.
    """
    return ATTESTATIONS.address


@external
@view
def job_attester() -> address:
    """
    @notice The only attester of JobCompleted attestations.
    @return The `JobAttester` contract.
    """
    return JOB_ATTESTER


@external
@view
def job_completed_schema() -> bytes32:
    """
    @notice uid of the JobCompleted schema.
    @return The schema uid.
    """
    return JOB_COMPLETED


@external
@view
def review_schema() -> bytes32:
    """
    @notice uid of the Review schema.
    @return The schema uid.
    """
    return REVIEW


@external
@view
def isPayable() -> bool:
    """
    @notice EAS resolver query: this resolver takes no ETH.
    @return False.
    """
    return False


@external
def attest(attestation: IAttestations.Attestation) -> bool:
    """
    @notice Vets a new attestation (called by the attestation service only).
    @dev Reverts with the broken rule rather than returning False, so callers see why.
    @param attestation The attestation, already stored.
    @return True when it is accepted.
    """
    assert msg.sender == ATTESTATIONS.address, "resolver: caller is not the attestation service"
    if attestation.schema == JOB_COMPLETED:
        assert attestation.attester == JOB_ATTESTER, "resolver: only the job attester attests JobCompleted"
        job_id: uint256 = 0
        client: address = empty(address)
        freelancer: address = empty(address)
        job_id, client, freelancer = self._parties(attestation.data)
        assert attestation.recipient == freelancer, "resolver: recipient is not the freelancer"
        return True
    assert attestation.schema == REVIEW, "resolver: unknown schema"
    assert attestation.refUID != empty(bytes32), "resolver: review without a job"
    job: IAttestations.Attestation = staticcall ATTESTATIONS.get_attestation(attestation.refUID)
    assert job.schema == JOB_COMPLETED, "resolver: refUID is not a JobCompleted attestation"
    job_id: uint256 = 0
    client: address = empty(address)
    freelancer: address = empty(address)
    job_id, client, freelancer = self._parties(job.data)
    reviewer: address = attestation.attester
    if reviewer == client:
        assert attestation.recipient == freelancer, "resolver: recipient is not the other party"
    else:
        assert reviewer == freelancer, "resolver: reviewer is not a party"
        assert attestation.recipient == client, "resolver: recipient is not the other party"
    assert not self.reviewed[job_id][reviewer], "resolver: job already reviewed"
    assert len(attestation.data) == 64, "resolver: bad review data"
    rating: uint8 = 0
    comment: bytes32 = empty(bytes32)
    rating, comment = abi_decode(attestation.data, (uint8, bytes32))
    assert rating >= 1 and rating <= 5, "resolver: rating out of range"
    self.reviewed[job_id][reviewer] = True
    log ReviewRecorded(job_id=job_id, reviewer=reviewer, reviewee=attestation.recipient, uid=attestation.uid, rating=rating)
    return True


@external
def revoke(attestation: IAttestations.Attestation) -> bool:
    """
    @notice Vets a revocation (called by the attestation service only): reviews may
            be revoked by their author, nothing else.
    @param attestation The attestation being revoked.
    @return True for a review.
    """
    assert msg.sender == ATTESTATIONS.address, "resolver: caller is not the attestation service"
    return attestation.schema == REVIEW


@internal
@pure
def _parties(data: Bytes[1024]) -> (uint256, address, address):
    """
    @dev jobId, client and freelancer of JobCompleted data (its first, third and fourth words).
    @param data abi-encoded JobCompleted data (see job_completed.vy).
    @return The job id, the client and the freelancer.
    """
    assert len(data) >= 128, "resolver: bad JobCompleted data"
    return (
        convert(slice(data, 0, 32), uint256),
        convert(convert(slice(data, 64, 32), uint256), address),
        convert(convert(slice(data, 96, 32), uint256), address),
    )


@internal
def _register(registry: ISchemaRegistry, schema: String[256], revocable: bool) -> bytes32:
    """
    @dev Registers `schema` with this contract as resolver unless already registered.
    @param registry The schema registry of the attestation service.
    @param schema The EAS schema string.
    @param revocable Whether attestations under it may be revoked.
    @return The schema's uid.
    """
    flag: Bytes[1] = b"\x00"
    if revocable:
        flag = b"\x01"
    uid: bytes32 = keccak256(concat(convert(schema, Bytes[256]), convert(self, bytes20), flag))
    existing: ISchemaRegistry.SchemaRecord = staticcall registry.get_schema(uid)
    if existing.uid == empty(bytes32):
        registered: bytes32 = extcall registry.register(schema, self, revocable)
        assert registered == uid, "resolver: unexpected schema uid"
    return uid
