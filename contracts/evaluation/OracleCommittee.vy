# pragma version ~=0.4.3
"""
@title OracleCommittee
@custom:contract-name OracleCommittee
@license GNU Affero General Public License v3.0 only
@notice An evaluation-oracle committee that acts as a job's arbiter in
        `JobEscrow`. A job judged by this committee commits, through its `spec_hash`,
        to how its deliverables are scored (its `Evaluation`: the spec file's digest,
        a commitment to hidden test labels, a pass score, the direction of the metric
        and a tolerance); the client registers that evaluation here, and nothing else
        can be registered for the job. The oracles score each submitted deliverable
        off chain on the hidden labels and sign EIP-712 `ScoreReport`s; once the
        challenge window after the submission has passed, anyone settles the
        milestone with the signed reports of the round's designated quorum (any
        quorum once a further challenge window has passed): the median score decides,
        a pass releases the whole milestone to the freelancer, a fail refunds it to
        the client. A disputed milestone is settled the same way once the dispute
        period is over; one that no quorum settles within a week after any quorum
        could is released to the freelancer (`release_unjudged`), as an unsettled
        submission is released when its review period ends. A committee deployed with a
        court (an `EscrowArbitrable` adapter, see `court()`) lets either party take a
        disputed score to staked jurors instead: once the adapter has a case for the
        milestone, only the court's ruling (`resolve_by_court`) or the escrow's own 30-day
        fallback settles it. After the job is over (or while its last milestones are in
        dispute) the labels are revealed against the commitment, so anyone can re-score.
@dev Chainlink OCR2 conventions: n > 3f oracles, (n + f) // 2 + 1 signatures,
     the median is sorted[len // 2], the signers of one settlement are distinct
     (proved cheaply by requiring them in strictly ascending address order). The
     committee is fixed for the life of the contract (a new committee is a new
     deployment), so its members live in immutables (code, not storage): checking
     a signer costs no storage read. The job state is not stored here: like the
     escrow, every call passes the job's full state, checked against the escrow's
     `job_state` hash. A settlement writes nothing in this contract unless a report
     lies outside the tolerance.
"""

from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator

from ..court import IDelegatingArbiter
from ..escrow import IJobEscrow
from ..escrow import milestone_status
from . import ICommitteeMembers
from . import ICourtCases
from . import IOracleCommittee
from . import median

implements: ICommitteeMembers
implements: IDelegatingArbiter
implements: IOracleCommittee

initializes: eip712_domain_separator

exports: eip712_domain_separator.eip712Domain


MAX_ORACLES: constant(uint256) = median.MAX_SCORES

# Milestone statuses of JobEscrow (milestone_status.vy); PAID and above are terminal.
SUBMITTED: constant(uint8) = milestone_status.SUBMITTED
DISPUTED: constant(uint8) = milestone_status.DISPUTED
PAID: constant(uint8) = milestone_status.PAID

# How long a disputed milestone waits for a court case (see `court()`) before the
# committee's verdict settles it. Shorter than the escrow's
# ARBITRATION_TIMEOUT (30 days), after which anyone could end the dispute with a split.
DISPUTE_PERIOD: constant(uint256) = 14 * 86_400
# Longest challenge window a committee may have (so that a disputed milestone's
# verdict, due DISPUTE_PERIOD plus at most two windows after the dispute, comes before
# the escrow's fallback).
MAX_CHALLENGE_WINDOW: constant(uint64) = 7 * 86_400
# How long any quorum may settle a disputed milestone (after its designated quorum's
# period) before the committee gives up on a verdict and releases the milestone to the
# freelancer (`release_unjudged`). DISPUTE_PERIOD + MAX_CHALLENGE_WINDOW + VERDICT_GRACE =
# 28 days: the release always opens at least two days before the escrow's 30-day
# half-each fallback.
VERDICT_GRACE: constant(uint256) = 7 * 86_400

_EVALUATION_TYPEHASH: constant(bytes32) = keccak256(
    "Evaluation(bytes32 specDigest,bytes32 commitment,int256 threshold,bool higherIsBetter,uint256 tolerance)"
)
_REPORT_TYPEHASH: constant(bytes32) = keccak256(
    "ScoreReport(uint256 jobId,uint256 milestone,bytes32 deliverable,uint256 round,int256 score,bytes32 specHash,bytes32 commitment)"
)

# Layout of a job's packed evaluation parameters (one storage slot):
# bits 0-127 threshold + 2**127 (an int128 stored biased), bits 128-223 tolerance (uint96),
# bit 224 higher_is_better.
_BIAS: constant(int256) = 2**127
_MASK_128: constant(uint256) = 2**128 - 1
_MASK_96: constant(uint256) = 2**96 - 1
_HIGHER_IS_BETTER: constant(uint256) = 2**224
_MASK_160: constant(uint256) = 2**160 - 1


# @dev The escrow whose jobs this committee arbitrates.
ESCROW: immutable(IJobEscrow)
# @dev The oracles, distinct, in ascending address order.
ORACLES: immutable(DynArray[address, MAX_ORACLES])
# @dev Signatures a settlement needs: (n + f) // 2 + 1.
QUORUM: immutable(uint256)
# @dev Faulty oracles tolerated; n > 3f.
FAULTS: immutable(uint256)
# @dev Seconds after a submission during which it cannot be settled, so that
# either party can still raise a dispute on the escrow.
CHALLENGE_WINDOW: immutable(uint64)
# @dev The court adapter (EscrowArbitrable) disputed milestones may be taken to; empty for none.
COURT: immutable(address)

# @dev Each oracle's uncompressed secp256k1 public key (64 bytes, no 0x04 prefix),
# to which clients seal hidden labels.
public_keys: public(HashMap[address, Bytes[64]])
# @dev The URL where each oracle serves its signed reports.
endpoints: public(HashMap[address, String[256]])
# @dev Settled reports of each oracle that lay further than the tolerance from the median.
outlier_reports: public(HashMap[address, uint256])
# @dev Per job: keccak256(abi_encode(labels_cid, salt, spec_hash)); empty while no
# evaluation is registered (registration refuses an empty commitment).
_commitment: HashMap[uint256, bytes32]
# @dev Per job: threshold, tolerance and direction packed as described at `_BIAS`;
# read together with `_commitment` by a settlement (two storage slots in all).
_params: HashMap[uint256, uint256]
# @dev Per job: the job's spec_hash (its Evaluation hash), for checking reports posted one at a time.
_spec_hash: HashMap[uint256, bytes32]
# @dev Per job: the spec file's digest (sha256 of its CID), to which the labels commitment is bound.
_spec_digest: HashMap[uint256, bytes32]
# @dev Per job: the hidden labels' CID once revealed.
revealed_labels: public(HashMap[uint256, Bytes[128]])
# @dev Reports posted one at a time, per keccak256(abi_encode(job_id, milestone,
# round, deliverable)): bitmap of the oracle indexes that posted.
_posted: HashMap[bytes32, uint256]
# @dev The posted scores, per report key and oracle index.
_posted_scores: HashMap[bytes32, HashMap[uint256, int256]]
# @dev Signers of the settlements made after the designated quorum's period, and of rounds
# paid without a settlement whose signers `record_signers` recorded (bitmap of oracle
# indexes) per report key; empty for settlements by the designated quorum.
_fallback_signers: HashMap[bytes32, uint256]


@deploy
def __init__(
    escrow_: address, oracles_: DynArray[address, MAX_ORACLES], f_: uint256, challenge_window_: uint64, court_: address
):
    """
    @notice Deploys a committee for the jobs of `escrow_`; its membership never changes.
    @dev The oracles are stored sorted by address, so `oracles(i)` lists them in
         ascending order whatever order they are given in.
    @param escrow_ The JobEscrow contract.
    @param oracles_ The oracles: 1 to 16 distinct non-zero addresses, more than 3 * `f_`.
    @param f_ Number of faulty (byzantine) oracles the committee tolerates.
    @param challenge_window_ Seconds after a submission before it can be settled, during
           which it can be disputed or sent back; 1 s to 7 days. Also the length of the
           designated quorum's period after it.
    @param court_ The court adapter (an EscrowArbitrable on the same escrow) that takes
           disputed milestones to jurors, or the empty address for none (disputes then end
           by the committee's verdict).
    """
    assert escrow_.is_contract, "committee: escrow is not a contract"
    if court_ != empty(address):
        assert court_.is_contract, "committee: court is not a contract"
        assert staticcall ICourtCases(court_).escrow() == escrow_, "committee: court of another escrow"
    assert (
        challenge_window_ > 0 and challenge_window_ <= MAX_CHALLENGE_WINDOW
    ), "committee: bad challenge window"
    n: uint256 = len(oracles_)
    assert n > 0, "committee: no oracles"
    assert f_ <= (n - 1) // 3, "committee: need more than 3f oracles"
    ordered: DynArray[address, MAX_ORACLES] = []
    for oracle: address in oracles_:
        assert oracle != empty(address), "committee: zero oracle"
        key: uint256 = convert(oracle, uint256)
        ordered.append(oracle)
        j: uint256 = len(ordered) - 1
        for _: uint256 in range(MAX_ORACLES):
            if j == 0:
                break
            before: address = ordered[j - 1]
            assert before != oracle, "committee: duplicate oracle"
            if convert(before, uint256) < key:
                break
            ordered[j] = before
            j -= 1
        ordered[j] = oracle
    eip712_domain_separator.__init__("proofwork OracleCommittee", "1")
    ESCROW = IJobEscrow(escrow_)
    ORACLES = ordered
    QUORUM = (n + f_) // 2 + 1
    FAULTS = f_
    CHALLENGE_WINDOW = challenge_window_
    COURT = court_


# --------------------------------------------------------------------------- committee


@external
@view
def escrow() -> address:
    """
    @notice The JobEscrow whose jobs this committee arbitrates.
    @return The escrow's address.
    """
    return ESCROW.address


@external
@view
def oracles(i: uint256) -> address:
    """
    @notice The `i`-th oracle, in ascending address order.
    @param i Index, from 0 to `oracle_count() - 1`.
    @return The oracle's address.
    """
    assert i < len(ORACLES), "committee: no such oracle"
    return ORACLES[i]


@external
@view
def oracle_count() -> uint256:
    """
    @notice Number of oracles n.
    @return n.
    """
    return len(ORACLES)


@external
@view
def oracle_list() -> DynArray[address, MAX_ORACLES]:
    """
    @notice All oracles, in ascending address order.
    @return The oracles.
    """
    return ORACLES


@external
@view
def is_oracle(addr: address) -> bool:
    """
    @notice Whether `addr` is a member of the committee.
    @param addr An account.
    @return True for a member.
    """
    return self._index_of(addr) < MAX_ORACLES


@external
@view
def threshold() -> uint256:
    """
    @notice Signed reports a settlement needs: (n + f) // 2 + 1 (n=4, f=1: 3; n=7, f=2: 5).
    @return The signature threshold.
    """
    return QUORUM


@external
@view
def f() -> uint256:
    """
    @notice Number of faulty oracles the committee tolerates (n > 3f).
    @return f.
    """
    return FAULTS


@external
@view
def challenge_window() -> uint64:
    """
    @notice Seconds after a submission during which it cannot be settled; the escrow
            accepts revision requests and disputes of a submission only within it.
    @return The challenge window in seconds.
    """
    return CHALLENGE_WINDOW


@external
@view
def court() -> address:
    """
    @notice The court adapter (EscrowArbitrable) a party may take a disputed milestone to
            within its first day (the adapter's rule); empty when this committee has none.
    @return The adapter's address.
    """
    return COURT


@external
@nonreentrant
def resolve_by_court(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, freelancer_amount: uint256):
    """
    @notice The court adapter executes its ruling on a disputed milestone: `freelancer_amount`
            (gross, at most what is left of the milestone) to the freelancer, the rest to
            the client, through the escrow's `resolve`.
    @param job_id The job.
    @param job The job's current state in the escrow.
    @param milestone Milestone index.
    @param freelancer_amount The freelancer's gross share.
    """
    assert COURT != empty(address) and msg.sender == COURT, "committee: caller is not the court"
    self._check(job_id, keccak256(abi_encode(job)))
    assert job.arbiter == self, "committee: not the job's arbiter"
    assert milestone < len(job.milestones), "committee: no such milestone"
    assert job.milestones[milestone].status == DISPUTED, "committee: milestone not disputed"
    extcall ESCROW.resolve(job_id, job, milestone, freelancer_amount)


@external
@nonreentrant
def register_oracle(public_key: Bytes[64], endpoint: String[256]):
    """
    @notice An oracle publishes its public key, to which clients seal hidden labels,
            and the URL where it serves its signed reports. Calling again updates both.
    @param public_key Uncompressed secp256k1 public key, 64 bytes without the 0x04
           prefix; its keccak256 must end in the caller's address.
    @param endpoint HTTP(S) URL of the oracle's report endpoint.
    """
    assert self._index_of(msg.sender) < MAX_ORACLES, "committee: caller is not an oracle"
    assert len(public_key) == 64, "committee: public key must be 64 bytes"
    assert (
        convert(convert(keccak256(public_key), uint256) & _MASK_160, address) == msg.sender
    ), "committee: public key does not match the caller"
    assert len(endpoint) > 0, "committee: empty endpoint"
    self.public_keys[msg.sender] = public_key
    self.endpoints[msg.sender] = endpoint
    log IOracleCommittee.OracleRegistered(oracle=msg.sender, public_key=public_key, endpoint=endpoint)


# --------------------------------------------------------------------------- evaluations


@external
@nonreentrant
def register(
    job_id: uint256,
    job: IJobEscrow.Job,
    spec_digest: bytes32,
    commitment: bytes32,
    threshold: int256,
    higher_is_better: bool,
    tolerance: uint256,
    sealed_labels: Bytes[128],
):
    """
    @notice The client of a job whose arbiter is this committee registers, once, how the
            job's milestones are scored: exactly the evaluation the job's `spec_hash`
            commits to (see `evaluation_hash`), so the rules are fixed when the job is
            created, before anyone is assigned or submits, and what the freelancer signs
            or sends (the job state, spec_hash included) binds them.
    @dev Kleros-style: the rules (its MetaEvidence) are fixed before the work starts,
         so a client cannot tune the pass score to a deliverable it has seen. The
         review period must outlast three challenge windows (the window, the designated
         quorum's period, then at least one window in which any quorum may settle), or a
         freelancer helped by one designated oracle that withholds its report could claim
         an auto-release of failing work before the other oracles can settle it.
    @param job_id The job.
    @param job The job's current state in the escrow.
    @param spec_digest sha256 digest of the spec file's CID (what `spec_hash` was before
           the evaluation was bound into it).
    @param commitment keccak256(abi_encode(labels_cid, salt, spec_digest)) of the hidden labels.
    @param threshold Pass score, fixed point with 1e6 = 1.0 (an int128).
    @param higher_is_better True: pass when median >= threshold; False: when median <= threshold.
    @param tolerance Largest |score - median| (fixed point, at most 2**96 - 1) not
           recorded against the reporting oracle.
    @param sealed_labels CID (binary) of the labels sealed to the oracles' keys; only logged.
    """
    self._check(job_id, keccak256(abi_encode(job)))
    assert msg.sender == job.client, "committee: caller is not the client"
    assert job.arbiter == self, "committee: not the job's arbiter"
    assert self._commitment[job_id] == empty(bytes32), "committee: already registered"
    assert commitment != empty(bytes32), "committee: empty commitment"
    assert threshold >= -_BIAS and threshold < _BIAS, "committee: threshold out of range"
    assert tolerance <= _MASK_96, "committee: tolerance out of range"
    assert (
        self._evaluation_hash(spec_digest, commitment, threshold, higher_is_better, tolerance) == job.spec_hash
    ), "committee: evaluation does not match the job's spec hash"
    assert (
        convert(job.review_period, uint256) > 3 * convert(CHALLENGE_WINDOW, uint256)
    ), "committee: review period not longer than three challenge windows"
    params: uint256 = convert(threshold + _BIAS, uint256) | (tolerance << 128)
    if higher_is_better:
        params |= _HIGHER_IS_BETTER
    self._commitment[job_id] = commitment
    self._params[job_id] = params
    self._spec_hash[job_id] = job.spec_hash
    self._spec_digest[job_id] = spec_digest
    log IOracleCommittee.EvaluationRegistered(
        job_id=job_id,
        client=job.client,
        spec_hash=job.spec_hash,
        spec_digest=spec_digest,
        commitment=commitment,
        threshold=threshold,
        higher_is_better=higher_is_better,
        tolerance=tolerance,
        sealed_labels=sealed_labels,
    )


@external
@pure
def evaluation_hash(
    spec_digest: bytes32, commitment: bytes32, threshold: int256, higher_is_better: bool, tolerance: uint256
) -> bytes32:
    """
    @notice The `spec_hash` a job judged by this committee must be created with: the
            EIP-712 hashStruct of Evaluation(bytes32 specDigest,bytes32 commitment,
            int256 threshold,bool higherIsBetter,uint256 tolerance).
    @param spec_digest sha256 digest of the spec file's CID.
    @param commitment keccak256(abi_encode(labels_cid, salt, spec_digest)).
    @param threshold Pass score (fixed point, 1e6 = 1.0).
    @param higher_is_better The metric's direction.
    @param tolerance Outlier tolerance (fixed point).
    @return keccak256(abi_encode(EVALUATION_TYPEHASH, spec_digest, commitment, threshold,
            higher_is_better, tolerance)).
    """
    return self._evaluation_hash(spec_digest, commitment, threshold, higher_is_better, tolerance)


@external
@view
def evaluation(job_id: uint256) -> IOracleCommittee.Evaluation:
    """
    @notice A job's registered evaluation.
    @param job_id The job.
    @return commitment, spec_hash, spec_digest, threshold, higher_is_better, tolerance
            (all empty when none).
    """
    commitment: bytes32 = self._commitment[job_id]
    if commitment == empty(bytes32):
        return empty(IOracleCommittee.Evaluation)
    params: uint256 = self._params[job_id]
    return IOracleCommittee.Evaluation(
        commitment=commitment,
        spec_hash=self._spec_hash[job_id],
        spec_digest=self._spec_digest[job_id],
        threshold=self._threshold_of(params),
        higher_is_better=params & _HIGHER_IS_BETTER != 0,
        tolerance=(params >> 128) & _MASK_96,
    )


# --------------------------------------------------------------------------- settlement


@external
@nonreentrant
def settle(
    job_id: uint256,
    job: IJobEscrow.Job,
    milestone: uint256,
    round: uint256,
    scores: DynArray[int256, MAX_ORACLES],
    signatures: DynArray[Bytes[65], MAX_ORACLES],
):
    """
    @notice Settles a submitted milestone from an aggregated set of signed score
            reports, in one transaction. Anyone may submit. The median score
            decides: a pass releases the whole milestone to the freelancer, a fail
            refunds it to the client (through the escrow's `resolve`).
    @dev Reports must be for the milestone's current round and deliverable, signed
         by distinct oracles given in strictly ascending signer address order, at
         least `threshold` of them, once the challenge window is over (for a disputed
         milestone: once DISPUTE_PERIOD has passed since the dispute). For one more
         challenge window only the round's designated quorum may settle (see
         `canonical_signers`), so whoever relays cannot pick among honest reports that
         differ; after it any quorum may, and its signers are recorded.
    @param job_id The job.
    @param job The job's current state in the escrow.
    @param milestone Milestone index.
    @param round The milestone's `revisions` counter the reports were made for.
    @param scores Each report's score (fixed point), in the order of `signatures`.
    @param signatures Each report's 65-byte EIP-712 signature (or 64-byte EIP-2098),
           ordered by ascending signer address.
    """
    count: uint256 = len(scores)
    assert count == len(signatures), "committee: scores and signatures differ in length"
    assert milestone < len(job.milestones), "committee: no such milestone"
    m: IJobEscrow.Milestone = job.milestones[milestone]
    commitment: bytes32 = empty(bytes32)
    late: bool = False
    commitment, late = self._check_settleable(
        job_id, keccak256(abi_encode(job)), job.arbiter, milestone, m, round, count
    )
    start: uint256 = self._designated_start(job_id, milestone, round)
    signers: DynArray[address, MAX_ORACLES] = []
    bitmap: uint256 = 0
    last: uint256 = 0
    for i: uint256 in range(count, bound=MAX_ORACLES):
        signer: address = ecdsa._recover_sig(
            self._report_digest(job_id, milestone, m.deliverable, round, scores[i], job.spec_hash, commitment),
            signatures[i],
        )
        index: uint256 = self._index_of(signer)
        assert index < MAX_ORACLES, "committee: signer not in committee"
        key: uint256 = convert(signer, uint256)
        assert key > last, "committee: duplicate or unsorted signer"
        last = key
        assert late or self._is_designated(index, start), "committee: signer not designated"
        signers.append(signer)
        bitmap |= 1 << index
    if late:
        self._fallback_signers[self._report_key(job_id, milestone, round, m.deliverable)] = bitmap
    passed: bool = self._aggregate(job_id, milestone, round, scores, signers)
    extcall ESCROW.resolve(job_id, job, milestone, m.amount if passed else 0)


@external
@nonreentrant
def post_report(
    job_id: uint256, milestone: uint256, round: uint256, deliverable: bytes32, score: int256, signature: Bytes[65]
):
    """
    @notice Fallback when reports cannot be aggregated off chain: anyone relays ONE
            oracle's signed report, which is checked and stored until `settle_posted`.
    @dev An oracle reports once per (job, milestone, round, deliverable).
    @param job_id The job.
    @param milestone Milestone index.
    @param round The milestone's `revisions` counter the report was made for.
    @param deliverable The deliverable hash the report scores.
    @param score The score (fixed point).
    @param signature The oracle's EIP-712 signature of the ScoreReport.
    """
    commitment: bytes32 = self._commitment[job_id]
    assert commitment != empty(bytes32), "committee: evaluation not registered"
    signer: address = ecdsa._recover_sig(
        self._report_digest(job_id, milestone, deliverable, round, score, self._spec_hash[job_id], commitment),
        signature,
    )
    index: uint256 = self._index_of(signer)
    assert index < MAX_ORACLES, "committee: signer not in committee"
    key: bytes32 = self._report_key(job_id, milestone, round, deliverable)
    posted: uint256 = self._posted[key]
    bit: uint256 = 1 << index
    assert posted & bit == 0, "committee: already reported"
    self._posted[key] = posted | bit
    self._posted_scores[key][index] = score
    log IOracleCommittee.ReportPosted(
        job_id=job_id, milestone=milestone, oracle=signer, round=round, deliverable=deliverable, score=score
    )


@external
@view
def posted_reports(job_id: uint256, milestone: uint256, round: uint256, deliverable: bytes32) -> uint256:
    """
    @notice Which oracles have a report stored for a milestone's round and deliverable.
    @dev Cleared when `settle_posted` uses them.
    @param job_id The job.
    @param milestone Milestone index.
    @param round The round (the milestone's `revisions` counter).
    @param deliverable The deliverable hash.
    @return Bitmap: bit i set when `oracles(i)` posted.
    """
    return self._posted[self._report_key(job_id, milestone, round, deliverable)]


@external
@nonreentrant
def settle_posted(job_id: uint256, job: IJobEscrow.Job, milestone: uint256):
    """
    @notice Settles a submitted milestone from the reports posted for its current
            round and deliverable, once at least `threshold` usable ones are stored: in
            the designated quorum's period the designated oracles' reports, after it
            every posted report. Same checks, median and payout as `settle`; the stored
            reports used are cleared.
    @param job_id The job.
    @param job The job's current state in the escrow.
    @param milestone Milestone index.
    """
    assert milestone < len(job.milestones), "committee: no such milestone"
    m: IJobEscrow.Milestone = job.milestones[milestone]
    round: uint256 = convert(m.revisions, uint256)
    key: bytes32 = self._report_key(job_id, milestone, round, m.deliverable)
    posted: uint256 = self._posted[key]
    late: bool = self._is_late(m)
    start: uint256 = self._designated_start(job_id, milestone, round)
    scores: DynArray[int256, MAX_ORACLES] = []
    signers: DynArray[address, MAX_ORACLES] = []
    indexes: DynArray[uint256, MAX_ORACLES] = []
    bitmap: uint256 = 0
    if posted != 0:
        for i: uint256 in range(len(ORACLES), bound=MAX_ORACLES):
            if posted & (1 << i) != 0 and (late or self._is_designated(i, start)):
                scores.append(self._posted_scores[key][i])
                signers.append(ORACLES[i])
                indexes.append(i)
                bitmap |= 1 << i
    self._check_settleable(job_id, keccak256(abi_encode(job)), job.arbiter, milestone, m, round, len(scores))
    if late:
        self._fallback_signers[key] = bitmap
    # The reports are used up: clearing them returns most of their storage cost as a refund.
    for i: uint256 in indexes:
        self._posted_scores[key][i] = 0
    self._posted[key] = 0
    passed: bool = self._aggregate(job_id, milestone, round, scores, signers)
    extcall ESCROW.resolve(job_id, job, milestone, m.amount if passed else 0)


@external
@view
def report_digest(
    job_id: uint256,
    milestone: uint256,
    deliverable: bytes32,
    round: uint256,
    score: int256,
    spec_hash: bytes32,
    commitment: bytes32,
) -> bytes32:
    """
    @notice The EIP-712 digest an oracle signs for a ScoreReport, for off-chain checks.
    @param job_id The job.
    @param milestone Milestone index.
    @param deliverable The deliverable hash.
    @param round The milestone's `revisions` counter.
    @param score The score (fixed point).
    @param spec_hash The job's specification hash.
    @param commitment The job's labels commitment.
    @return The digest.
    """
    return self._report_digest(job_id, milestone, deliverable, round, score, spec_hash, commitment)


@external
@view
def canonical_signers(
    job_id: uint256, milestone: uint256, round: uint256, deliverable: bytes32
) -> DynArray[address, MAX_ORACLES]:
    """
    @notice The oracles whose reports make the canonical result of a round: the
            signers recorded for it if it was settled after the designated quorum's
            period (or, paid without a settlement, recorded by `record_signers`), else
            the round's designated quorum. A settlement in that period,
            and a verified attestation, must use exactly these oracles' reports, so
            whoever relays cannot pick which of differing honest reports count.
    @dev The designated quorum: `threshold()` oracles taken in ascending address
         order, starting at index keccak256(abi_encode(job_id, milestone, round)) % n
         and wrapping around.
    @param job_id The job.
    @param milestone Milestone index.
    @param round The round (the milestone's `revisions` counter).
    @param deliverable The round's deliverable hash.
    @return The oracles, in ascending address order.
    """
    bitmap: uint256 = self._fallback_signers[self._report_key(job_id, milestone, round, deliverable)]
    start: uint256 = self._designated_start(job_id, milestone, round)
    out: DynArray[address, MAX_ORACLES] = []
    for i: uint256 in range(len(ORACLES), bound=MAX_ORACLES):
        if (bitmap == 0 and self._is_designated(i, start)) or bitmap & (1 << i) != 0:
            out.append(ORACLES[i])
    return out


@external
@nonreentrant
def record_signers(
    job_id: uint256,
    job: IJobEscrow.Job,
    milestone: uint256,
    scores: DynArray[int256, MAX_ORACLES],
    signatures: DynArray[Bytes[65], MAX_ORACLES],
):
    """
    @notice Records, once, which oracles' reports make the canonical result of a round
            that ended without a committee settlement (the client approved it, or the
            freelancer claimed it after the review period): any quorum of valid reports
            for the milestone's last round and deliverable, as a late settlement does.
            `canonical_signers` returns them from then on, so one designated oracle that
            never signs cannot keep the round from ever having a verified record.
    @dev Only for PAID milestones (a committee settlement always ends RESOLVED, so a PAID
         round was never settled here), and only once the round's designated quorum had
         its period (two challenge windows after the milestone's timestamp): until then,
         and if nobody records, the designated quorum stays canonical. Anyone may relay.
    @param job_id The job.
    @param job The job's current state in the escrow.
    @param milestone Milestone index.
    @param scores Each report's score (fixed point), in the order of `signatures`.
    @param signatures Each report's EIP-712 ScoreReport signature for the milestone's
           current round and deliverable, by distinct oracles in ascending address order.
    """
    count: uint256 = len(scores)
    assert count == len(signatures), "committee: scores and signatures differ in length"
    self._check(job_id, keccak256(abi_encode(job)))
    commitment: bytes32 = self._commitment[job_id]
    assert commitment != empty(bytes32), "committee: evaluation not registered"
    assert job.arbiter == self, "committee: not the job's arbiter"
    assert milestone < len(job.milestones), "committee: no such milestone"
    m: IJobEscrow.Milestone = job.milestones[milestone]
    assert m.status == PAID and m.deliverable != empty(bytes32), "committee: milestone not paid after delivery"
    assert (
        block.timestamp > convert(m.timestamp, uint256) + 2 * convert(CHALLENGE_WINDOW, uint256)
    ), "committee: designated period not over"
    round: uint256 = convert(m.revisions, uint256)
    key: bytes32 = self._report_key(job_id, milestone, round, m.deliverable)
    assert self._fallback_signers[key] == 0, "committee: signers already recorded"
    assert count >= QUORUM, "committee: too few signatures"
    signers: DynArray[address, MAX_ORACLES] = []
    bitmap: uint256 = 0
    last: uint256 = 0
    for i: uint256 in range(count, bound=MAX_ORACLES):
        signer: address = ecdsa._recover_sig(
            self._report_digest(job_id, milestone, m.deliverable, round, scores[i], job.spec_hash, commitment),
            signatures[i],
        )
        index: uint256 = self._index_of(signer)
        assert index < MAX_ORACLES, "committee: signer not in committee"
        assert convert(signer, uint256) > last, "committee: duplicate or unsorted signer"
        last = convert(signer, uint256)
        signers.append(signer)
        bitmap |= 1 << index
    self._fallback_signers[key] = bitmap
    log IOracleCommittee.SignersRecorded(job_id=job_id, milestone=milestone, round=round, signers=signers)


@external
@nonreentrant
def release_unjudged(job_id: uint256, job: IJobEscrow.Job, milestone: uint256):
    """
    @notice Ends a dispute the committee could not judge: a disputed milestone that no
            quorum settled within VERDICT_GRACE (7 days) after any quorum could (that is
            DISPUTE_PERIOD + `challenge_window()` + 7 days after the dispute, at most 28
            days) is released in full to the freelancer, as an undisputed submission is
            when nobody settles it before the review period ends. Anyone may call.
    @dev Without a verdict the deliverable stands: a client whose hidden labels the
         oracles cannot open (or never registered) cannot turn a dispute into the
         escrow's half-each fallback, and the release comes before that fallback (30
         days). Honest oracles (a quorum, n > 3f) always have the week to settle first.
    @param job_id The job.
    @param job The job's current state in the escrow.
    @param milestone Milestone index.
    """
    self._check(job_id, keccak256(abi_encode(job)))
    assert job.arbiter == self, "committee: not the job's arbiter"
    assert milestone < len(job.milestones), "committee: no such milestone"
    m: IJobEscrow.Milestone = job.milestones[milestone]
    assert m.status == DISPUTED, "committee: milestone not disputed"
    assert (
        block.timestamp
        > convert(m.timestamp, uint256) + DISPUTE_PERIOD + convert(CHALLENGE_WINDOW, uint256) + VERDICT_GRACE
    ), "committee: verdict still possible"
    assert not self._in_court(job_id, milestone), "committee: milestone in court"
    log IOracleCommittee.UnjudgedReleased(job_id=job_id, milestone=milestone, round=convert(m.revisions, uint256))
    extcall ESCROW.resolve(job_id, job, milestone, m.amount)


# --------------------------------------------------------------------------- reveal


@external
@nonreentrant
def reveal(job_id: uint256, job: IJobEscrow.Job, labels_cid: Bytes[128], salt: bytes32):
    """
    @notice Once every milestone of the job is settled or disputed (no deliverable can
            be submitted any more), the client or any oracle reveals the hidden labels'
            CID and salt, so anyone can re-score: jurors of a disputed score among them.
    @param job_id The job.
    @param job The job's current state in the escrow.
    @param labels_cid The labels' CID (binary) committed to (with the spec digest) in the job's evaluation.
    @param salt The salt committed to at registration.
    """
    self._check(job_id, keccak256(abi_encode(job)))
    commitment: bytes32 = self._commitment[job_id]
    assert commitment != empty(bytes32), "committee: evaluation not registered"
    assert (
        msg.sender == job.client or self._index_of(msg.sender) < MAX_ORACLES
    ), "committee: caller is not the client or an oracle"
    assert len(self.revealed_labels[job_id]) == 0, "committee: already revealed"
    for m: IJobEscrow.Milestone in job.milestones:
        # a disputed milestone cannot be submitted again: its jurors may see the labels
        assert m.status >= PAID or m.status == DISPUTED, "committee: job not settled"
    assert len(labels_cid) > 0, "committee: empty labels CID"
    assert (
        keccak256(abi_encode(labels_cid, salt, self._spec_digest[job_id])) == commitment
    ), "committee: labels do not match commitment"
    self.revealed_labels[job_id] = labels_cid
    log IOracleCommittee.LabelsRevealed(job_id=job_id, labels_cid=labels_cid, salt=salt)


# --------------------------------------------------------------------------- internals


@internal
@view
def _check(job_id: uint256, job_hash: bytes32):
    """
    @dev The passed job state must be the escrow's current one (hash of its abi encoding).
    @param job_id The job.
    @param job_hash keccak256(abi_encode(job)) of the state the caller passed.
    """
    stored: bytes32 = staticcall ESCROW.job_state(job_id)
    assert stored != empty(bytes32), "committee: unknown job"
    assert job_hash == stored, "committee: stale job state"


@internal
@view
def _check_settleable(
    job_id: uint256,
    job_hash: bytes32,
    arbiter: address,
    milestone: uint256,
    m: IJobEscrow.Milestone,
    round: uint256,
    count: uint256,
) -> (bytes32, bool):
    """
    @dev The checks shared by both settlement paths, in order.
    @param job_id The job.
    @param job_hash keccak256(abi_encode(job)) of the state the caller passed.
    @param arbiter The job's arbiter.
    @param milestone The milestone's index.
    @param m The milestone to settle.
    @param round The round the reports were made for.
    @param count Number of reports.
    @return The job's labels commitment, and whether the designated quorum's period is over.
    """
    self._check(job_id, job_hash)
    commitment: bytes32 = self._commitment[job_id]
    assert commitment != empty(bytes32), "committee: evaluation not registered"
    assert arbiter == self, "committee: not the job's arbiter"
    if m.status == DISPUTED:
        assert block.timestamp > convert(m.timestamp, uint256) + DISPUTE_PERIOD, "committee: milestone disputed"
        assert not self._in_court(job_id, milestone), "committee: milestone in court"
    else:
        assert m.status == SUBMITTED, "committee: milestone not submitted"
        assert (
            block.timestamp > convert(m.timestamp, uint256) + convert(CHALLENGE_WINDOW, uint256)
        ), "committee: challenge window open"
    assert round == convert(m.revisions, uint256), "committee: stale round"
    assert count >= QUORUM, "committee: too few signatures"
    return commitment, self._is_late(m)


@internal
@view
def _in_court(job_id: uint256, milestone: uint256) -> bool:
    """
    @dev Whether the court adapter has a case for the milestone (then only its ruling, or
         the escrow's 30-day fallback, settles the milestone).
    @param job_id The job.
    @param milestone Milestone index.
    @return True when a case was opened.
    """
    if COURT == empty(address):
        return False
    return staticcall ICourtCases(COURT).case_of(job_id, milestone) != 0


@internal
@view
def _is_late(m: IJobEscrow.Milestone) -> bool:
    """
    @dev Whether the designated quorum's period of a settleable milestone is over: one
         challenge window after it became settleable (the challenge window after its
         submission, or DISPUTE_PERIOD after its dispute).
    @param m The milestone (SUBMITTED: timestamp = submission; DISPUTED: dispute time).
    @return True once any quorum may settle it.
    """
    opens: uint256 = convert(m.timestamp, uint256) + convert(CHALLENGE_WINDOW, uint256)
    if m.status == DISPUTED:
        opens = convert(m.timestamp, uint256) + DISPUTE_PERIOD
    return block.timestamp > opens + convert(CHALLENGE_WINDOW, uint256)


@internal
@view
def _designated_start(job_id: uint256, milestone: uint256, round: uint256) -> uint256:
    """
    @dev First index of a round's designated quorum (see `canonical_signers`).
    @param job_id The job.
    @param milestone Milestone index.
    @param round The round.
    @return keccak256(abi_encode(job_id, milestone, round)) % n.
    """
    return convert(keccak256(abi_encode(job_id, milestone, round)), uint256) % len(ORACLES)


@internal
@view
def _is_designated(index: uint256, start: uint256) -> bool:
    """
    @dev Whether oracle `index` is in the designated quorum starting at `start`:
         (index - start) mod n < threshold.
    @param index An oracle index.
    @param start The quorum's first index.
    @return True for a designated oracle.
    """
    n: uint256 = len(ORACLES)
    return (index + n - start) % n < QUORUM


@internal
def _aggregate(
    job_id: uint256,
    milestone: uint256,
    round: uint256,
    scores: DynArray[int256, MAX_ORACLES],
    signers: DynArray[address, MAX_ORACLES],
) -> bool:
    """
    @dev Median (OCR2: sorted[len // 2]), outliers recorded, pass or fail logged.
    @param job_id The job.
    @param milestone Milestone index.
    @param round The round settled.
    @param scores The reports' scores.
    @param signers The reports' signers, in the same order.
    @return Whether the median passes the job's threshold.
    """
    params: uint256 = self._params[job_id]
    mid: int256 = median._median(scores)
    tolerance: uint256 = (params >> 128) & _MASK_96
    for i: uint256 in range(len(scores), bound=MAX_ORACLES):
        score: int256 = scores[i]
        if median._distance(score, mid) > tolerance:
            self.outlier_reports[signers[i]] += 1
            log IOracleCommittee.OutlierReported(
                job_id=job_id, milestone=milestone, oracle=signers[i], score=score, median=mid
            )
    threshold: int256 = self._threshold_of(params)
    passed: bool = mid <= threshold
    if params & _HIGHER_IS_BETTER != 0:
        passed = mid >= threshold
    log IOracleCommittee.ScoreSettled(
        job_id=job_id, milestone=milestone, round=round, median=mid, passed=passed, signers=signers
    )
    return passed


@internal
@pure
def _threshold_of(params: uint256) -> int256:
    """
    @dev Unpacks the pass score from a job's packed parameters (stored biased by 2**127).
    @param params A job's packed parameters.
    @return The threshold.
    """
    return convert(params & _MASK_128, int256) - _BIAS


@internal
@pure
def _evaluation_hash(
    spec_digest: bytes32, commitment: bytes32, threshold: int256, higher_is_better: bool, tolerance: uint256
) -> bytes32:
    """
    @dev EIP-712 hashStruct of an Evaluation: what a committee job's spec_hash must be.
    @param spec_digest sha256 digest of the spec file's CID.
    @param commitment The labels commitment.
    @param threshold The pass score.
    @param higher_is_better The metric's direction.
    @param tolerance The outlier tolerance.
    @return The Evaluation hash.
    """
    return keccak256(
        abi_encode(_EVALUATION_TYPEHASH, spec_digest, commitment, threshold, higher_is_better, tolerance)
    )


@internal
@view
def _index_of(account: address) -> uint256:
    """
    @dev Index of `account` in ORACLES (sorted ascending), or MAX_ORACLES if absent.
    @param account An account.
    @return Its index, or MAX_ORACLES.
    """
    key: uint256 = convert(account, uint256)
    for i: uint256 in range(len(ORACLES), bound=MAX_ORACLES):
        member: uint256 = convert(ORACLES[i], uint256)
        if member == key:
            return i
        if member > key:
            break
    return MAX_ORACLES


@internal
@view
def _report_digest(
    job_id: uint256,
    milestone: uint256,
    deliverable: bytes32,
    round: uint256,
    score: int256,
    spec_hash: bytes32,
    commitment: bytes32,
) -> bytes32:
    """
    @dev EIP-712 digest of a ScoreReport under this contract's domain (chain id and
         address checked on every call, so a fork or another deployment gets another digest).
    @param job_id The job.
    @param milestone Milestone index.
    @param deliverable The deliverable hash.
    @param round The round.
    @param score The score.
    @param spec_hash The job's spec_hash.
    @param commitment The labels commitment.
    @return The digest.
    """
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(_REPORT_TYPEHASH, job_id, milestone, deliverable, round, score, spec_hash, commitment))
    )


@internal
@pure
def _report_key(job_id: uint256, milestone: uint256, round: uint256, deliverable: bytes32) -> bytes32:
    """
    @dev Storage key of the reports posted for one round of one deliverable.
    @param job_id The job.
    @param milestone Milestone index.
    @param round The round.
    @param deliverable The deliverable hash.
    @return keccak256(abi_encode(job_id, milestone, round, deliverable)).
    """
    return keccak256(abi_encode(job_id, milestone, round, deliverable))
