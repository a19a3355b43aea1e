# pragma version ~=0.4.3
"""
@title JobEscrow
@custom:contract-name JobEscrow
@license GNU Affero General Public License v3.0 only
@notice Escrow for many ML jobs at once. A client escrows an ERC-20 budget
        split into milestones; a freelancer submits a deliverable hash per
        milestone; money moves only as the rules below allow:
        - the client approves (pays) a milestone, pays part of it, or asks for a revision;
        - a client silent past the review window lets the milestone be claimed (auto-release);
        - milestones with nothing submitted by the deadline can be reclaimed by the client;
        - both parties may agree to cancel with a split;
        - an optional arbiter (an evaluation oracle or an ERC-792 arbitrator adapter)
          may release or split any open milestone.
        A platform fee in basis points, fixed per job when it is created, is taken from
        each payment to the freelancer and accrues for the treasury. A payment the token
        refuses to deliver (a blocklisted account) is credited to its receiver, who pulls
        it with `withdraw`: no party can freeze the other's money.
@dev Gas design: only keccak256(abi_encode(job)) is stored per job (one slot).
     Every call passes the job's full current state in calldata; the contract checks it
     against the stored hash, applies the transition in memory and stores the new hash.
     The events carry every transition, so the state can be rebuilt off chain (the SDK
     does, and checks its rebuild against `job_state`). Kleros' arbitrable escrows with
     appeals use the same hashed-state pattern.
"""

from ethereum.ercs import IERC20
from snekmate.auth import ownable
from snekmate.utils import eip712_domain_separator
from snekmate.utils import signature_checker

from . import IJobEscrow
from . import milestone_status

implements: IJobEscrow

initializes: ownable
initializes: eip712_domain_separator

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    eip712_domain_separator.eip712Domain,
)


MAX_MILESTONES: constant(uint256) = 16
BPS: constant(uint256) = 10_000
MAX_FEE_BPS: constant(uint16) = 1_000
MAX_REVIEW_PERIOD: constant(uint64) = 365 * 86_400
# Gas given to an arbiter's `challenge_window()` view: plenty for a getter (behind a proxy
# too), while an arbiter that burns all the gas it gets costs a dispute at most this much.
CHALLENGE_WINDOW_GAS: constant(uint256) = 50_000

# Milestone statuses: see milestone_status.vy (shared with the committee and the attester).
OPEN: constant(uint8) = milestone_status.OPEN
SUBMITTED: constant(uint8) = milestone_status.SUBMITTED
DISPUTED: constant(uint8) = milestone_status.DISPUTED
PAID: constant(uint8) = milestone_status.PAID
REFUNDED: constant(uint8) = milestone_status.REFUNDED
RESOLVED: constant(uint8) = milestone_status.RESOLVED
CANCELLED: constant(uint8) = milestone_status.CANCELLED

# Revision requests a milestone may receive: a client cannot restart rounds (and void an
# arbiter's pending verdict) without end.
MAX_REVISIONS: constant(uint8) = 3
# Seconds a dispute waits for the arbiter; after that anyone may end it with the fallback
# split (half of what is left to each side, see `resolve`).
ARBITRATION_TIMEOUT: constant(uint64) = 30 * 86_400

# Why a payment to the freelancer happened (MilestonePaid.reason).
PAID_APPROVED: constant(uint8) = 0
PAID_PARTIAL: constant(uint8) = 1
PAID_AUTO_RELEASE: constant(uint8) = 2

_APPLY_TYPEHASH: constant(bytes32) = keccak256("Apply(uint256 jobId,address applicant,bytes32 proposal)")
_SUBMIT_TYPEHASH: constant(bytes32) = keccak256(
    "Submit(uint256 jobId,uint256 milestone,bytes32 deliverable,bytes32 state)"
)


event JobCreated:
    job_id: indexed(uint256)
    client: indexed(address)
    freelancer: indexed(address)
    token: address
    arbiter: address
    deadline: uint64
    review_period: uint64
    fee_bps: uint16
    spec_hash: bytes32
    amounts: DynArray[uint256, MAX_MILESTONES]


event Applied:
    job_id: indexed(uint256)
    applicant: indexed(address)
    proposal: bytes32


event FreelancerAssigned:
    job_id: indexed(uint256)
    freelancer: indexed(address)


event MilestoneSubmitted:
    job_id: indexed(uint256)
    milestone: indexed(uint256)
    deliverable: bytes32
    timestamp: uint64


event RevisionRequested:
    job_id: indexed(uint256)
    milestone: indexed(uint256)
    feedback: bytes32
    timestamp: uint64


event MilestonePaid:
    job_id: indexed(uint256)
    milestone: indexed(uint256)
    gross: uint256
    fee: uint256
    reason: uint8


event MilestoneRefunded:
    job_id: indexed(uint256)
    milestone: indexed(uint256)
    amount: uint256


event CancelProposed:
    job_id: indexed(uint256)
    proposer: indexed(address)
    freelancer_amount: uint256


event JobCancelled:
    job_id: indexed(uint256)
    freelancer_gross: uint256
    fee: uint256
    client_amount: uint256


event FeeChanged:
    fee_bps: uint16


event TreasuryChanged:
    treasury: indexed(address)


event FeesWithdrawn:
    token: indexed(address)
    treasury: indexed(address)
    amount: uint256


event PaymentCredited:
    token: indexed(address)
    account: indexed(address)
    amount: uint256


event Withdrawn:
    token: indexed(address)
    account: indexed(address)
    amount: uint256


# @dev keccak256(abi_encode(job)) of each job's current state; zero for unknown ids.
job_state: public(HashMap[uint256, bytes32])
# @dev Number of jobs created; job ids run from 1 to job_count.
job_count: public(uint256)
# @dev Applicants of open jobs who may be assigned: job id -> account -> applied.
applied: public(HashMap[uint256, HashMap[address, bool]])
# @dev Platform fee in basis points for new jobs; at most MAX_FEE_BPS.
fee_bps: public(uint16)
# @dev Account that receives the platform fees.
treasury: public(address)
# @dev Fees taken but not yet sent to the treasury, per token.
fees_owed: public(HashMap[address, uint256])
# @dev Payments the token refused to deliver (a blocklisted receiver, a receiving hook that
# reverts), per token and account; the account pulls them with `withdraw`.
claimable: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(treasury_: address, fee_bps_: uint16):
    """
    @notice Deploys the escrow; the deployer becomes owner.
    @param treasury_ Account that receives platform fees.
    @param fee_bps_ Initial platform fee in basis points (at most 1,000 = 10 %).
    """
    assert treasury_ != empty(address), "escrow: zero treasury"
    assert fee_bps_ <= MAX_FEE_BPS, "escrow: fee above cap"
    ownable.__init__()
    eip712_domain_separator.__init__("proofwork JobEscrow", "1")
    self.treasury = treasury_
    self.fee_bps = fee_bps_


@external
@nonreentrant
def create_job(
    token: address,
    freelancer: address,
    amounts: DynArray[uint256, MAX_MILESTONES],
    deadline: uint64,
    review_period: uint64,
    spec_hash: bytes32,
    arbiter: address,
) -> uint256:
    """
    @notice Creates a job and pulls its whole budget from the caller (the client),
            who must have approved this contract for the sum of `amounts`.
    @param token ERC-20 the budget is paid in (fee-on-transfer tokens are refused).
    @param freelancer The freelancer, or empty for a job open to applications.
    @param amounts Budget of each milestone, in token units (1 to 16 milestones; at most
           (2**256 - 1) // 10,000 in all, so that every fee can be computed).
    @param deadline Delivery deadline (unix time).
    @param review_period Seconds the client has to review a submission before it can be claimed.
    @param spec_hash Content hash of the job specification.
    @param arbiter Account or contract that may release or split milestones; empty for none.
    @return The new job id.
    """
    return self._create(msg.sender, token, freelancer, amounts, deadline, review_period, spec_hash, arbiter)


@external
@nonreentrant
def create_job_with_permit(
    token: address,
    freelancer: address,
    amounts: DynArray[uint256, MAX_MILESTONES],
    deadline: uint64,
    review_period: uint64,
    spec_hash: bytes32,
    arbiter: address,
    permit_deadline: uint256,
    v: uint8,
    r: bytes32,
    s: bytes32,
) -> uint256:
    """
    @notice Same as `create_job`, authorising the transfer with an EIP-2612 permit
            signature instead of a prior approval: funding in one transaction.
    @dev A permit already used by a front-runner is ignored if the allowance is in place.
    @param permit_deadline The permit's deadline.
    @param v Permit signature recovery id.
    @param r Permit signature r.
    @param s Permit signature s.
    @return The new job id.
    """
    total: uint256 = 0
    for amount: uint256 in amounts:
        total += amount
    # A failed permit is not fatal: a front-runner may have used it already, and
    # the transferFrom below fails anyway if no allowance is in place.
    permit_ok: bool = raw_call(
        token,
        abi_encode(
            msg.sender, self, total, permit_deadline, v, r, s, method_id=method_id("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)")
        ),
        revert_on_failure=False,
    )
    return self._create(msg.sender, token, freelancer, amounts, deadline, review_period, spec_hash, arbiter)


@external
@nonreentrant
def apply(job_id: uint256, job: IJobEscrow.Job, proposal: bytes32):
    """
    @notice Applies to an open job; the client may then assign the applicant.
    @param job_id The job.
    @param job The job's current state.
    @param proposal Content hash of the applicant's proposal.
    """
    self._apply(job_id, job, msg.sender, proposal)


@external
@nonreentrant
def apply_with_sig(job_id: uint256, job: IJobEscrow.Job, applicant: address, proposal: bytes32, signature: Bytes[65]):
    """
    @notice Relays an application signed off chain (EIP-712 `Apply`), so the
            applicant needs no gas money.
    @param job_id The job.
    @param job The job's current state.
    @param applicant The account that signed.
    @param proposal Content hash of the applicant's proposal.
    @param signature The applicant's EIP-712 signature (or ERC-1271 for contract wallets).
    """
    digest: bytes32 = eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(_APPLY_TYPEHASH, job_id, applicant, proposal))
    )
    # snekmate recovers empty(address) from a malformed signature: never let it pass as the zero account
    assert applicant != empty(address), "escrow: zero applicant"
    assert signature_checker._is_valid_signature_now(applicant, digest, signature), "escrow: bad signature"
    self._apply(job_id, job, applicant, proposal)


@external
@nonreentrant
def assign(job_id: uint256, job: IJobEscrow.Job, freelancer: address):
    """
    @notice The client picks one of the applicants of an open job.
    @param job_id The job.
    @param job The job's current state.
    @param freelancer An account that applied.
    """
    self._check(job_id, job)
    j: IJobEscrow.Job = job
    assert msg.sender == j.client, "escrow: caller is not the client"
    assert j.freelancer == empty(address), "escrow: freelancer already assigned"
    assert freelancer != empty(address), "escrow: zero freelancer"
    assert self.applied[job_id][freelancer], "escrow: account did not apply"
    j.freelancer = freelancer
    self._store(job_id, j)
    log FreelancerAssigned(job_id=job_id, freelancer=freelancer)


@external
@nonreentrant
def submit(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, deliverable: bytes32):
    """
    @notice The freelancer submits a deliverable for a milestone; its hash and the
            block time are recorded as proof of authorship, and the review window starts.
    @param job_id The job.
    @param job The job's current state.
    @param milestone Milestone index (from 0).
    @param deliverable Content hash of the deliverable.
    """
    self._check(job_id, job)
    assert msg.sender == job.freelancer, "escrow: caller is not the freelancer"
    self._submit(job_id, job, milestone, deliverable)


@external
@nonreentrant
def submit_with_sig(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, deliverable: bytes32, signature: Bytes[65]):
    """
    @notice Relays a submission signed off chain (EIP-712 `Submit`) by the freelancer,
            so the freelancer needs no gas money.
    @dev The signature covers the job's current state hash, so it can be used once only.
    @param job_id The job.
    @param job The job's current state.
    @param milestone Milestone index.
    @param deliverable Content hash of the deliverable.
    @param signature The freelancer's EIP-712 signature (or ERC-1271 for contract wallets).
    """
    state: bytes32 = self._check(job_id, job)
    digest: bytes32 = eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(_SUBMIT_TYPEHASH, job_id, milestone, deliverable, state))
    )
    assert job.freelancer != empty(address), "escrow: no freelancer assigned"
    assert signature_checker._is_valid_signature_now(job.freelancer, digest, signature), "escrow: bad signature"
    self._submit(job_id, job, milestone, deliverable)


@external
@nonreentrant
def approve(job_id: uint256, job: IJobEscrow.Job, milestone: uint256):
    """
    @notice The client accepts a milestone and pays what is left of it to the freelancer,
            also while it is disputed (conceding the dispute).
    @param job_id The job.
    @param job The job's current state.
    @param milestone Milestone index.
    """
    self._check(job_id, job)
    assert msg.sender == job.client, "escrow: caller is not the client"
    assert milestone < len(job.milestones), "escrow: no such milestone"
    assert job.milestones[milestone].status < PAID, "escrow: milestone not payable"
    assert job.freelancer != empty(address), "escrow: no freelancer assigned"
    self._pay(job_id, job, milestone, job.milestones[milestone].amount, PAID_APPROVED)


@external
@nonreentrant
def pay_partial(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, amount: uint256):
    """
    @notice The client pays part of an unsettled milestone now (a disputed one too); the
            rest stays in escrow.
    @param job_id The job.
    @param job The job's current state.
    @param milestone Milestone index.
    @param amount Gross amount to release, less than what is left of the milestone.
    """
    self._check(job_id, job)
    assert msg.sender == job.client, "escrow: caller is not the client"
    assert milestone < len(job.milestones), "escrow: no such milestone"
    assert job.milestones[milestone].status < PAID, "escrow: milestone not payable"
    assert job.freelancer != empty(address), "escrow: no freelancer assigned"
    assert amount > 0, "escrow: zero amount"
    assert amount < job.milestones[milestone].amount, "escrow: use approve to pay it all"
    self._pay(job_id, job, milestone, amount, PAID_PARTIAL)


@external
@nonreentrant
def request_revision(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, feedback: bytes32):
    """
    @notice Within the review window, the client sends a submission back, at most
            MAX_REVISIONS (3) times per milestone. The freelancer then has until the
            later of the deadline and one review period from now to resubmit.
    @dev The review window is the job's review period, or the arbiter's shorter
         `challenge_window()` (see `_review_window`): on a job judged by an evaluation
         committee the client cannot send back a submission whose verdict may already be
         settled, and the cap bounds how often the client can restart the round.
    @param job_id The job.
    @param job The job's current state.
    @param milestone Milestone index.
    @param feedback Content hash of the client's feedback.
    """
    self._check(job_id, job)
    j: IJobEscrow.Job = job
    assert msg.sender == j.client, "escrow: caller is not the client"
    assert milestone < len(j.milestones), "escrow: no such milestone"
    assert j.milestones[milestone].status == SUBMITTED, "escrow: milestone not submitted"
    assert convert(block.timestamp, uint64) <= j.milestones[milestone].timestamp + self._review_window(
        j.arbiter, j.review_period
    ), "escrow: review window over"
    assert j.milestones[milestone].revisions < MAX_REVISIONS, "escrow: too many revisions"
    j.milestones[milestone].status = OPEN
    j.milestones[milestone].revisions += 1
    j.milestones[milestone].timestamp = convert(block.timestamp, uint64)
    self._store(job_id, j)
    log RevisionRequested(
        job_id=job_id, milestone=milestone, feedback=feedback, timestamp=convert(block.timestamp, uint64)
    )


@external
@nonreentrant
def claim(job_id: uint256, job: IJobEscrow.Job, milestone: uint256):
    """
    @notice After the review window of a submission has passed with no answer from
            the client, releases the milestone to the freelancer. Anyone may trigger
            it (a keeper, say); the money only ever goes to the freelancer.
    @param job_id The job.
    @param job The job's current state.
    @param milestone Milestone index.
    """
    self._check(job_id, job)
    assert milestone < len(job.milestones), "escrow: no such milestone"
    assert job.milestones[milestone].status == SUBMITTED, "escrow: milestone not submitted"
    assert (
        block.timestamp > convert(job.milestones[milestone].timestamp + job.review_period, uint256)
    ), "escrow: review window still open"
    self._pay(job_id, job, milestone, job.milestones[milestone].amount, PAID_AUTO_RELEASE)


@external
@nonreentrant
def reclaim(job_id: uint256, job: IJobEscrow.Job) -> uint256:
    """
    @notice Refunds the client every milestone with nothing submitted by its due
            time: the deadline, or one review period after a revision request if later.
            On a job nobody was assigned to, the client may reclaim everything at once.
    @param job_id The job.
    @param job The job's current state.
    @return The amount refunded.
    """
    self._check(job_id, job)
    j: IJobEscrow.Job = job
    assert msg.sender == j.client, "escrow: caller is not the client"
    refund: uint256 = 0
    unassigned: bool = j.freelancer == empty(address)
    for i: uint256 in range(MAX_MILESTONES):
        if i >= len(j.milestones):
            break
        m: IJobEscrow.Milestone = j.milestones[i]
        if m.status != OPEN:
            continue
        due: uint64 = j.deadline
        if m.revisions > 0:
            due = max(due, m.timestamp + j.review_period)
        if unassigned or convert(block.timestamp, uint64) > due:
            refund += m.amount
            log MilestoneRefunded(job_id=job_id, milestone=i, amount=m.amount)
            j.milestones[i].amount = 0
            j.milestones[i].status = REFUNDED
    assert refund > 0, "escrow: nothing to reclaim yet"
    j.cancel_proposer = empty(address)
    j.cancel_amount = 0
    self._store(job_id, j)
    self._send(j.token, j.client, refund)
    return refund


@external
@nonreentrant
def cancel(job_id: uint256, job: IJobEscrow.Job, freelancer_amount: uint256):
    """
    @notice Mutual cancellation. The first party to call records an offer: the
            freelancer gets `freelancer_amount` (gross) of all that is still in
            escrow, the client the rest. The other party calling with the same
            amount accepts it and the split is paid. Calling again replaces one's own offer.
    @param job_id The job.
    @param job The job's current state.
    @param freelancer_amount Gross share of the freelancer.
    """
    self._check(job_id, job)
    j: IJobEscrow.Job = job
    assert msg.sender == j.client or msg.sender == j.freelancer, "escrow: caller is not a party"
    assert j.freelancer != empty(address), "escrow: no freelancer assigned; use reclaim"
    held: uint256 = 0
    for m: IJobEscrow.Milestone in j.milestones:
        held += m.amount
    assert held > 0, "escrow: nothing left in escrow"
    assert freelancer_amount <= held, "escrow: split exceeds escrow"
    if (
        j.cancel_proposer == empty(address)
        or j.cancel_proposer == msg.sender
        or j.cancel_amount != freelancer_amount
    ):
        j.cancel_proposer = msg.sender
        j.cancel_amount = freelancer_amount
        self._store(job_id, j)
        log CancelProposed(job_id=job_id, proposer=msg.sender, freelancer_amount=freelancer_amount)
        return
    for i: uint256 in range(MAX_MILESTONES):
        if i >= len(j.milestones):
            break
        if j.milestones[i].amount > 0:
            j.milestones[i].amount = 0
            j.milestones[i].status = CANCELLED
    j.cancel_proposer = empty(address)
    j.cancel_amount = 0
    fee: uint256 = freelancer_amount * convert(j.fee_bps, uint256) // BPS
    self.fees_owed[j.token] += fee
    self._store(job_id, j)
    log JobCancelled(job_id=job_id, freelancer_gross=freelancer_amount, fee=fee, client_amount=held - freelancer_amount)
    self._send(j.token, j.freelancer, freelancer_amount - fee)
    self._send(j.token, j.client, held - freelancer_amount)


@external
@nonreentrant
def raise_dispute(job_id: uint256, job: IJobEscrow.Job, milestone: uint256):
    """
    @notice Either party freezes a submitted milestone for the job's arbiter, within its
            review window; its timeouts stop until the arbiter resolves it, or until
            ARBITRATION_TIMEOUT (30 days) has passed, when anyone may end the dispute with
            the fallback split (see `resolve`). Undelivered work cannot be disputed: the
            freelancer delivers it by its due time, or the client reclaims it after.
    @dev The review window is the job's review period, or the arbiter's shorter
         `challenge_window()` (see `_review_window`): a committee's verdict can be
         disputed only before it may be settled.
    @param job_id The job.
    @param job The job's current state.
    @param milestone Milestone index.
    """
    self._check(job_id, job)
    j: IJobEscrow.Job = job
    assert msg.sender == j.client or msg.sender == j.freelancer, "escrow: caller is not a party"
    assert j.arbiter != empty(address), "escrow: job has no arbiter"
    assert milestone < len(j.milestones), "escrow: no such milestone"
    assert j.milestones[milestone].status == SUBMITTED, "escrow: milestone not disputable"
    assert convert(block.timestamp, uint64) <= j.milestones[milestone].timestamp + self._review_window(
        j.arbiter, j.review_period
    ), "escrow: dispute window over"
    j.milestones[milestone].status = DISPUTED
    j.milestones[milestone].timestamp = convert(block.timestamp, uint64)
    self._store(job_id, j)
    log IJobEscrow.DisputeRaised(job_id=job_id, milestone=milestone, by=msg.sender, timestamp=convert(block.timestamp, uint64))


@external
@nonreentrant
def resolve(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, freelancer_amount: uint256):
    """
    @notice The job's arbiter settles an unsettled milestone: `freelancer_amount`
            (gross) to the freelancer, the rest back to the client. This is the hook
            for an evaluation oracle (release on a passing score) and for an ERC-792
            arbitrator adapter (split on a ruling).
            A dispute the arbiter has not ruled on within ARBITRATION_TIMEOUT (30 days)
            of being raised has a defined end: anyone may then call `resolve`, and the
            milestone is split in half (the freelancer gets what is left // 2, gross, the
            client the rest); `freelancer_amount` is then ignored.
    @param job_id The job.
    @param job The job's current state.
    @param milestone Milestone index.
    @param freelancer_amount Gross share of the freelancer, at most what is left of the milestone.
    """
    self._check(job_id, job)
    j: IJobEscrow.Job = job
    assert milestone < len(j.milestones), "escrow: no such milestone"
    m: IJobEscrow.Milestone = j.milestones[milestone]
    share: uint256 = freelancer_amount
    if msg.sender != j.arbiter:
        assert (
            m.status == DISPUTED and block.timestamp > convert(m.timestamp + ARBITRATION_TIMEOUT, uint256)
        ), "escrow: caller is not the arbiter"
        share = m.amount // 2
    assert j.freelancer != empty(address), "escrow: no freelancer assigned"
    assert m.status < PAID, "escrow: milestone settled"
    assert share <= m.amount, "escrow: split exceeds milestone"
    fee: uint256 = share * convert(j.fee_bps, uint256) // BPS
    j.milestones[milestone].paid += share
    j.milestones[milestone].amount = 0
    j.milestones[milestone].status = RESOLVED
    j.cancel_proposer = empty(address)
    j.cancel_amount = 0
    self.fees_owed[j.token] += fee
    self._store(job_id, j)
    log IJobEscrow.MilestoneResolved(
        job_id=job_id,
        milestone=milestone,
        freelancer_gross=share,
        fee=fee,
        client_amount=m.amount - share,
    )
    self._send(j.token, j.freelancer, share - fee)
    self._send(j.token, j.client, m.amount - share)


@external
def set_fee(fee_bps_: uint16):
    """
    @notice Owner sets the platform fee for jobs created from now on.
    @param fee_bps_ Fee in basis points, at most 1,000 (10 %).
    """
    ownable._check_owner()
    assert fee_bps_ <= MAX_FEE_BPS, "escrow: fee above cap"
    self.fee_bps = fee_bps_
    log FeeChanged(fee_bps=fee_bps_)


@external
def set_treasury(treasury_: address):
    """
    @notice Owner sets the account that receives platform fees.
    @param treasury_ The new treasury.
    """
    ownable._check_owner()
    assert treasury_ != empty(address), "escrow: zero treasury"
    self.treasury = treasury_
    log TreasuryChanged(treasury=treasury_)


@external
@nonreentrant
def withdraw_fees(token: address) -> uint256:
    """
    @notice Sends the fees accrued in `token` to the treasury. Anyone may call.
    @param token The token.
    @return The amount sent.
    """
    amount: uint256 = self.fees_owed[token]
    assert amount > 0, "escrow: no fees"
    self.fees_owed[token] = 0
    log FeesWithdrawn(token=token, treasury=self.treasury, amount=amount)
    self._transfer(token, self.treasury, amount)
    return amount


@external
@nonreentrant
def withdraw(token: address) -> uint256:
    """
    @notice Sends the caller every payment of `token` the escrow could not deliver to it
            when it was due (see `_send`); `claimable(token, account)` shows the amount.
            The credit stays in place while the token still refuses the transfer.
    @param token The token.
    @return The amount sent.
    """
    amount: uint256 = self.claimable[token][msg.sender]
    assert amount > 0, "escrow: nothing to withdraw"
    self.claimable[token][msg.sender] = 0
    log Withdrawn(token=token, account=msg.sender, amount=amount)
    self._transfer(token, msg.sender, amount)
    return amount


@internal
def _create(
    client: address,
    token: address,
    freelancer: address,
    amounts: DynArray[uint256, MAX_MILESTONES],
    deadline: uint64,
    review_period: uint64,
    spec_hash: bytes32,
    arbiter: address,
) -> uint256:
    """
    @dev Checks the terms, records the job (hash and `JobCreated`) and pulls the whole
         budget from `client`, refusing tokens that deliver less than was sent.
    @param client The account that pays (msg.sender of the create call).
    @param token ERC-20 the budget is paid in.
    @param freelancer The freelancer, or empty for a job open to applications.
    @param amounts Budget of each milestone.
    @param deadline Delivery deadline (unix time).
    @param review_period Seconds the client has to review a submission.
    @param spec_hash Content hash of the job specification.
    @param arbiter The job's arbiter, or empty.
    @return The new job id.
    """
    assert token.is_contract, "escrow: token is not a contract"
    assert len(amounts) > 0, "escrow: no milestones"
    assert freelancer != client, "escrow: client cannot be the freelancer"
    assert arbiter != client and (arbiter != freelancer or arbiter == empty(address)), "escrow: arbiter is a party"
    assert convert(deadline, uint256) > block.timestamp, "escrow: deadline in the past"
    assert review_period > 0 and review_period <= MAX_REVIEW_PERIOD, "escrow: bad review period"
    job: IJobEscrow.Job = IJobEscrow.Job(
        client=client,
        freelancer=freelancer,
        token=token,
        arbiter=arbiter,
        deadline=deadline,
        review_period=review_period,
        fee_bps=self.fee_bps,
        spec_hash=spec_hash,
        cancel_proposer=empty(address),
        cancel_amount=0,
        milestones=[],
    )
    total: uint256 = 0
    for amount: uint256 in amounts:
        assert amount > 0, "escrow: zero milestone"
        total += amount
        job.milestones.append(
            IJobEscrow.Milestone(amount=amount, paid=0, status=OPEN, revisions=0, timestamp=0, deliverable=empty(bytes32))
        )
    # Every fee is gross * fee_bps // BPS: a budget above max / BPS could never be paid out.
    assert total <= max_value(uint256) // BPS, "escrow: budget too large"
    job_id: uint256 = self.job_count + 1
    self.job_count = job_id
    self._store(job_id, job)
    log JobCreated(
        job_id=job_id,
        client=client,
        freelancer=freelancer,
        token=token,
        arbiter=arbiter,
        deadline=deadline,
        review_period=review_period,
        fee_bps=job.fee_bps,
        spec_hash=spec_hash,
        amounts=amounts,
    )
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    assert extcall IERC20(token).transferFrom(client, self, total, default_return_value=True), "escrow: transfer failed"
    assert staticcall IERC20(token).balanceOf(self) - before == total, "escrow: token delivered less than sent"
    return job_id


@internal
def _apply(job_id: uint256, job: IJobEscrow.Job, applicant: address, proposal: bytes32):
    """
    @dev Records an application by `applicant` to an open job (shared by `apply` and
         `apply_with_sig`).
    @param job_id The job.
    @param job The job's current state.
    @param applicant The applying account.
    @param proposal Content hash of the proposal.
    """
    self._check(job_id, job)
    assert job.freelancer == empty(address), "escrow: job is not open"
    assert applicant != job.client, "escrow: client cannot apply"
    assert applicant != job.arbiter, "escrow: arbiter cannot apply"
    self.applied[job_id][applicant] = True
    log Applied(job_id=job_id, applicant=applicant, proposal=proposal)


@internal
def _submit(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, deliverable: bytes32):
    """
    @dev Records a (re)submission of an OPEN milestone before its due time and stores the
         new state (shared by `submit` and `submit_with_sig`, which check the caller).
    @param job_id The job.
    @param job The job's current state (modified in memory).
    @param milestone Milestone index.
    @param deliverable Content hash of the deliverable.
    """
    assert milestone < len(job.milestones), "escrow: no such milestone"
    assert deliverable != empty(bytes32), "escrow: empty deliverable"
    m: IJobEscrow.Milestone = job.milestones[milestone]
    assert m.status == OPEN, "escrow: milestone not awaiting delivery"
    due: uint64 = job.deadline
    if m.revisions > 0:
        due = max(due, m.timestamp + job.review_period)
    assert convert(block.timestamp, uint64) <= due, "escrow: delivery deadline passed"
    job.milestones[milestone].status = SUBMITTED
    job.milestones[milestone].timestamp = convert(block.timestamp, uint64)
    job.milestones[milestone].deliverable = deliverable
    self._store(job_id, job)
    log MilestoneSubmitted(
        job_id=job_id, milestone=milestone, deliverable=deliverable, timestamp=convert(block.timestamp, uint64)
    )


@internal
def _pay(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, gross: uint256, reason: uint8):
    """
    @dev Releases `gross` of a milestone to the freelancer (fee deducted and accrued),
         marks it PAID once nothing is left, voids a pending cancellation offer and stores
         the new state before the transfer.
    @param job_id The job.
    @param job The job's current state (modified in memory).
    @param milestone Milestone index.
    @param gross Gross amount released.
    @param reason PAID_APPROVED, PAID_PARTIAL or PAID_AUTO_RELEASE (logged).
    """
    fee: uint256 = gross * convert(job.fee_bps, uint256) // BPS
    job.milestones[milestone].amount -= gross
    job.milestones[milestone].paid += gross
    if job.milestones[milestone].amount == 0:
        job.milestones[milestone].status = PAID
    # Money left the escrow, so an offer to split "what is left" no longer means what it said.
    job.cancel_proposer = empty(address)
    job.cancel_amount = 0
    if fee > 0:
        self.fees_owed[job.token] += fee
    self._store(job_id, job)
    log MilestonePaid(job_id=job_id, milestone=milestone, gross=gross, fee=fee, reason=reason)
    self._send(job.token, job.freelancer, gross - fee)


@internal
@view
def _review_window(arbiter: address, review_period: uint64) -> uint64:
    """
    @dev Seconds after a submission during which the client may send it back and either
         party may dispute it: the review period, or less when the job's arbiter is a
         contract whose `challenge_window()` answers a shorter time (an evaluation
         committee settles once its challenge window is over). An account without code,
         or a contract without that function, leaves the review period; so does one whose
         view reverts or needs more than CHALLENGE_WINDOW_GAS (50,000) gas, so an arbiter
         cannot make disputes and revision requests expensive by burning the gas it is
         forwarded. A longer answer is read as its first 32 bytes.
    @param arbiter The job's arbiter (may be empty).
    @param review_period The job's review period.
    @return The window in seconds.
    """
    ok: bool = False
    answer: Bytes[32] = b""
    ok, answer = raw_call(
        arbiter,
        method_id("challenge_window()"),
        max_outsize=32,
        gas=CHALLENGE_WINDOW_GAS,
        is_static_call=True,
        revert_on_failure=False,
    )
    if ok and len(answer) == 32:
        return convert(min(convert(answer, uint256), convert(review_period, uint256)), uint64)
    return review_period


@internal
@view
def _check(job_id: uint256, job: IJobEscrow.Job) -> bytes32:
    """
    @dev The passed job state must be the stored one: known job, same hash.
    @param job_id The job.
    @param job The state the caller passed.
    @return The stored hash (signed by relayed submissions).
    """
    stored: bytes32 = self.job_state[job_id]
    assert stored != empty(bytes32), "escrow: unknown job"
    assert keccak256(abi_encode(job)) == stored, "escrow: stale job state"
    return stored


@internal
def _store(job_id: uint256, job: IJobEscrow.Job):
    """
    @dev Stores keccak256(abi_encode(job)) as the job's state.
    @param job_id The job.
    @param job The new state.
    """
    self.job_state[job_id] = keccak256(abi_encode(job))


@internal
def _send(token: address, to: address, amount: uint256):
    """
    @dev Pays `amount` of `token` to `to` (nothing for zero). A payment the token refuses
         to deliver (the call reverts, runs out of gas or returns False: a blocklisted
         receiver, a receiving hook that reverts) is credited to `to` instead, who pulls it
         with `withdraw`: no party can block a payout to the other, and every exit of a
         job stays open whatever its token does to one account. Tokens that return
         nothing are accepted.
    @param token The ERC-20.
    @param to The receiver.
    @param amount The amount.
    """
    if amount == 0:
        return
    ok: bool = False
    answer: Bytes[32] = b""
    ok, answer = raw_call(
        token,
        abi_encode(to, amount, method_id=method_id("transfer(address,uint256)")),
        max_outsize=32,
        revert_on_failure=False,
    )
    if ok and (len(answer) == 0 or convert(answer, uint256) != 0):
        return
    self.claimable[token][to] += amount
    log PaymentCredited(token=token, account=to, amount=amount)


@internal
def _transfer(token: address, to: address, amount: uint256):
    """
    @dev Transfers `amount` of `token` to `to` or reverts (tokens that return nothing are
         accepted; False or a revert reverts): for pulls (`withdraw`, `withdraw_fees`),
         whose caller can retry later.
    @param token The ERC-20.
    @param to The receiver.
    @param amount The amount.
    """
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "escrow: transfer failed"
