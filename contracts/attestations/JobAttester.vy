# pragma version ~=0.4.3
"""
@title JobAttester
@custom:contract-name JobAttester
@license GNU Affero General Public License v3.0 only
@notice Turns a settled escrow milestone into a JobCompleted attestation (EAS data
        model) for its freelancer, and a passing committee-verified score into a
        soulbound skill badge. Anyone may call `attest_job` once a milestone is
        PAID or RESOLVED with something paid to the freelancer; everything in the
        attestation is derived from the escrow's job state and, for jobs judged by
        the oracle committee, from a quorum of the committee's signed score reports.
@dev Why a separate call: the escrow has no bytecode room left under EIP-170 and
     the committee's settlement must stay cheap, so neither attests. This contract
     checks the job state the caller passes against `JobEscrow.job_state` (like the
     committee does) and re-verifies the committee's EIP-712 ScoreReport signatures
     with the committee's own `report_digest` (same domain, same round = the
     milestone's `revisions`, same deliverable): the attestation is as trustworthy
     as a settlement, and costs neither of them gas.
     For a job whose arbiter is the committee and whose evaluation is registered,
     the attested score is the median (sorted[n // 2], the committee's median module)
     of the reports of exactly the round's canonical signers (the committee's
     `canonical_signers`: the designated quorum, or the signers of a late settlement),
     so nobody picks which of differing honest reports count, and `verified` is True;
     the record carries the threshold, direction and spec hash the score was judged
     against. For any other job the score is 0 and `verified` False.
     Only a true record may be written first: on a committee-evaluated job, a delivered
     milestone may be attested without reports (unverified) by its freelancer only, who
     alone may give up the verification; an outsider or the client must bring the reports.
     Deployment: SchemaRegistry, Attestations(registry), this contract, then
     ProofworkResolver(attestations, this), then `set_resolver(resolver)` by the
     deployer, once; the badge contract must make this contract its auto-minter.
"""

from snekmate.utils import ecdsa

from ..escrow import IJobEscrow
from ..escrow import milestone_status
from ..evaluation import IOracleCommittee
from ..evaluation import median
from ..identity import ISkillBadge
from . import IAttestations
from . import ISchemaRegistry
from . import job_completed


MAX_ORACLES: constant(uint256) = median.MAX_SCORES
MAX_SKILL: constant(uint256) = 64

# Milestone statuses of JobEscrow (milestone_status.vy); PAID and above are terminal.
PAID: constant(uint8) = milestone_status.PAID
RESOLVED: constant(uint8) = milestone_status.RESOLVED

JOB_COMPLETED_SCHEMA: constant(String[256]) = job_completed.SCHEMA


event ResolverSet:
    resolver: indexed(address)
    job_completed_schema: bytes32


event SkillDeclared:
    job_id: indexed(uint256)
    client: indexed(address)
    skill: String[MAX_SKILL]


event JobAttested:
    job_id: indexed(uint256)
    milestone: indexed(uint256)
    freelancer: indexed(address)
    uid: bytes32
    amount_paid: uint256
    score: int256
    verified: bool
    threshold: int256


event BadgeAwarded:
    job_id: indexed(uint256)
    freelancer: indexed(address)
    token_id: indexed(uint256)
    skill: String[MAX_SKILL]
    uid: bytes32


# @dev The escrow whose settled milestones are attested.
ESCROW: immutable(IJobEscrow)
# @dev The oracle committee whose signed reports make a score verified.
COMMITTEE: immutable(IOracleCommittee)
# @dev The attestation service (EAS core) the attestations are made in.
ATTESTATIONS: immutable(IAttestations)
# @dev The soulbound skill badge contract; this contract is its auto-minter.
BADGE: immutable(ISkillBadge)
# @dev The account that deployed this contract, the only one that may call `set_resolver`, once.
DEPLOYER: immutable(address)

# @dev The ProofworkResolver of the JobCompleted schema; empty until `set_resolver`.
resolver: public(address)
# @dev uid of the JobCompleted schema (resolver: `resolver`, non-revocable); empty until `set_resolver`.
job_completed_schema: public(bytes32)
# @dev Per job: the skill category its client declared; empty for none.
skill_of: public(HashMap[uint256, String[MAX_SKILL]])
# @dev Per job and milestone: the uid of its JobCompleted attestation; empty while unattested.
attestation_of: public(HashMap[uint256, HashMap[uint256, bytes32]])


@deploy
def __init__(escrow_: address, committee_: address, attestations_: address, badge_: address):
    """
    @notice Deploys the attester; the deployer then calls `set_resolver` once.
    @param escrow_ The JobEscrow.
    @param committee_ The OracleCommittee (its `escrow()` must be `escrow_`).
    @param attestations_ The Attestations contract.
    @param badge_ The skill badge contract (ISkillBadge).
    """
    assert escrow_.is_contract, "attester: escrow is not a contract"
    assert committee_.is_contract, "attester: committee is not a contract"
    assert attestations_.is_contract, "attester: attestations is not a contract"
    assert badge_.is_contract, "attester: badge is not a contract"
    assert staticcall IOracleCommittee(committee_).escrow() == escrow_, "attester: committee of another escrow"
    ESCROW = IJobEscrow(escrow_)
    COMMITTEE = IOracleCommittee(committee_)
    ATTESTATIONS = IAttestations(attestations_)
    BADGE = ISkillBadge(badge_)
    DEPLOYER = msg.sender


@external
@view
def escrow() -> address:
    """
    @notice The escrow whose settled milestones are attested.
    @return The JobEscrow's address.
    """
    return ESCROW.address


@external
@view
def committee() -> address:
    """
    @notice The oracle committee whose signed reports make a score verified.
    @return The OracleCommittee's address.
    """
    return COMMITTEE.address


@external
@view
def attestations() -> address:
    """
    @notice The attestation service the attestations are made in.
    @return The Attestations contract's address.
    """
    return ATTESTATIONS.address


@external
@view
def badge() -> address:
    """
    @notice The soulbound skill badge contract.
    @return Its address.
    """
    return BADGE.address


@external
def set_resolver(resolver_: address):
    """
    @notice The deployer names, once, the ProofworkResolver whose JobCompleted
            schema the attestations are made under.
    @dev The schema's uid is computed from `resolver_` and must be registered
         (the resolver registers it in its constructor).
    @param resolver_ The ProofworkResolver (deployed with this contract as its job attester).
    """
    assert msg.sender == DEPLOYER, "attester: caller is not the deployer"
    assert self.resolver == empty(address), "attester: resolver already set"
    assert resolver_.is_contract, "attester: resolver is not a contract"
    uid: bytes32 = keccak256(concat(convert(JOB_COMPLETED_SCHEMA, Bytes[256]), convert(resolver_, bytes20), b"\x00"))
    registry: ISchemaRegistry = ISchemaRegistry(staticcall ATTESTATIONS.get_schema_registry())
    record: ISchemaRegistry.SchemaRecord = staticcall registry.get_schema(uid)
    assert record.uid == uid, "attester: JobCompleted schema not registered"
    self.resolver = resolver_
    self.job_completed_schema = uid
    log ResolverSet(resolver=resolver_, job_completed_schema=uid)


@external
@nonreentrant
def declare_skill(job_id: uint256, job: IJobEscrow.Job, skill: String[MAX_SKILL]):
    """
    @notice The client names, once and before any milestone is settled, the skill
            category a verified passing milestone of the job earns a badge in.
    @param job_id The job.
    @param job The job's current state in the escrow.
    @param skill The skill category, 1 to 64 characters (for example "nlp/sentiment").
    """
    self._check(job_id, job)
    assert msg.sender == job.client, "attester: caller is not the client"
    assert len(skill) > 0, "attester: empty skill"
    assert len(self.skill_of[job_id]) == 0, "attester: skill already declared"
    for m: IJobEscrow.Milestone in job.milestones:
        assert m.status < PAID, "attester: a milestone is already settled"
    self.skill_of[job_id] = skill
    log SkillDeclared(job_id=job_id, client=msg.sender, skill=skill)


@external
@nonreentrant
def attest_job(
    job_id: uint256,
    job: IJobEscrow.Job,
    milestone: uint256,
    scores: DynArray[int256, MAX_ORACLES],
    signers: DynArray[address, MAX_ORACLES],
    signatures: DynArray[Bytes[65], MAX_ORACLES],
) -> bytes32:
    """
    @notice Attests JobCompleted for a settled milestone (anyone may call, once per
            milestone), and mints the freelancer the job's skill badge when the
            score is verified, passes the job's threshold and a skill was declared.
    @dev For a job the committee evaluates, `scores`, `signers` and `signatures` are the
         committee ScoreReports for the milestone's current round and deliverable by
         exactly its `canonical_signers`, in that (ascending) order: the record is then
         verified. Without reports it is unverified, which on such a job only the
         freelancer may choose for a delivered milestone (nobody else can deny a
         freelancer its verified record by attesting first). For any other job all
         three must be empty.
    @param job_id The job.
    @param job The job's current state in the escrow.
    @param milestone Milestone index; PAID or RESOLVED with `paid > 0`.
    @param scores Each report's score (fixed point, 1e6 = 1.0).
    @param signers Each report's oracle, strictly ascending.
    @param signatures Each report's 65-byte (or 64-byte EIP-2098) EIP-712 signature.
    @return The JobCompleted attestation's uid.
    """
    schema: bytes32 = self.job_completed_schema
    assert schema != empty(bytes32), "attester: resolver not set"
    self._check(job_id, job)
    assert milestone < len(job.milestones), "attester: no such milestone"
    m: IJobEscrow.Milestone = job.milestones[milestone]
    assert m.status == PAID or m.status == RESOLVED, "attester: milestone not settled"
    assert m.paid > 0, "attester: nothing paid to the freelancer"
    assert self.attestation_of[job_id][milestone] == empty(bytes32), "attester: already attested"
    count: uint256 = len(scores)
    assert count == len(signers) and count == len(signatures), "attester: lengths differ"

    evaluation: IOracleCommittee.Evaluation = empty(IOracleCommittee.Evaluation)
    if job.arbiter == COMMITTEE.address:
        evaluation = staticcall COMMITTEE.evaluation(job_id)
    evaluated: bool = evaluation.commitment != empty(bytes32)
    score: int256 = 0
    verified: bool = evaluated and count > 0
    passed: bool = False
    if verified:
        round: uint256 = convert(m.revisions, uint256)
        canonical: DynArray[address, MAX_ORACLES] = staticcall COMMITTEE.canonical_signers(
            job_id, milestone, round, m.deliverable
        )
        assert (
            keccak256(abi_encode(signers)) == keccak256(abi_encode(canonical))
        ), "attester: reports are not the canonical signers'"
        for i: uint256 in range(count, bound=MAX_ORACLES):
            digest: bytes32 = staticcall COMMITTEE.report_digest(
                job_id, milestone, m.deliverable, round, scores[i], job.spec_hash, evaluation.commitment
            )
            signer: address = ecdsa._recover_sig(digest, signatures[i])
            assert signer != empty(address) and signer == signers[i], "attester: bad signature"
        score = median._median(scores)
        passed = score <= evaluation.threshold
        if evaluation.higher_is_better:
            passed = score >= evaluation.threshold
    elif evaluated:
        # Unverified on a committee-evaluated job: a true record only. A milestone never
        # delivered cannot have been scored; a delivered one may have been, and then only its
        # freelancer may give up the verification.
        assert count == 0 and len(signers) == 0, "attester: lengths differ"
        assert (
            m.deliverable == empty(bytes32) or msg.sender == job.freelancer
        ), "attester: reports required (only the freelancer may attest unverified)"
    else:
        assert count == 0, "attester: no committee evaluation to check reports against"

    skill: String[MAX_SKILL] = self.skill_of[job_id]
    data: Bytes[1024] = abi_encode(
        job_id,
        milestone,
        job.client,
        job.freelancer,
        job.token,
        m.paid,
        score,
        verified,
        evaluation.threshold if verified else 0,
        verified and evaluation.higher_is_better,
        job.spec_hash,
        skill,
    )
    uid: bytes32 = extcall ATTESTATIONS.attest(
        IAttestations.AttestationRequest(
            schema=schema,
            data=IAttestations.AttestationRequestData(
                recipient=job.freelancer,
                expirationTime=0,
                revocable=False,
                refUID=empty(bytes32),
                data=data,
                value=0,
            ),
        )
    )
    self.attestation_of[job_id][milestone] = uid
    log JobAttested(
        job_id=job_id,
        milestone=milestone,
        freelancer=job.freelancer,
        uid=uid,
        amount_paid=m.paid,
        score=score,
        verified=verified,
        threshold=evaluation.threshold if verified else 0,
    )
    # A badge contract that no longer takes this attester as its auto-minter (moved to a successor,
    # or auto-minting switched off) must not cost the freelancer the attestation itself.
    if verified and passed and len(skill) > 0 and staticcall BADGE.auto_minter() == self:
        token_id: uint256 = extcall BADGE.mint_for_job(job.freelancer, skill, uid)
        if token_id != 0:
            log BadgeAwarded(job_id=job_id, freelancer=job.freelancer, token_id=token_id, skill=skill, uid=uid)
    return uid


@internal
@view
def _check(job_id: uint256, job: IJobEscrow.Job):
    """
    @dev The passed job state must be the escrow's current one (hash of its abi encoding).
    @param job_id The job.
    @param job The state the caller passed.
    """
    stored: bytes32 = staticcall ESCROW.job_state(job_id)
    assert stored != empty(bytes32), "attester: unknown job"
    assert keccak256(abi_encode(job)) == stored, "attester: stale job state"
