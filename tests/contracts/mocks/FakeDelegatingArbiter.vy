# pragma version ~=0.4.3
"""
@title FakeDelegatingArbiter
@notice Test-only arbiter of a plain escrow job that claims a court adapter as its `court()`
        (as an oracle committee does) and answers the adapter's `resolve_by_court` as told:
        mode 0 resolves on the escrow as asked, 1 reverts, 2 does nothing, 3 first makes a
        prepared call (recording whether it succeeded), then resolves as asked. It relays any
        call as itself (`forward`).
"""


# The escrow's milestone and job (IJobEscrow.vyi), for the ABI of `resolve`.
struct Milestone:
    amount: uint256  # held
    paid: uint256  # released
    status: uint8  # milestone_status
    revisions: uint8  # revision requests
    timestamp: uint64  # last status change
    deliverable: bytes32  # latest submission


struct Job:
    client: address  # the client
    freelancer: address  # the freelancer
    token: address  # the job's token
    arbiter: address  # this contract
    deadline: uint64  # delivery deadline
    review_period: uint64  # review period
    fee_bps: uint16  # platform fee
    spec_hash: bytes32  # spec
    cancel_proposer: address  # pending cancellation
    cancel_amount: uint256  # its split
    milestones: DynArray[Milestone, 16]  # the milestones


interface IEscrow:
    def resolve(job_id: uint256, job: Job, milestone: uint256, freelancer_amount: uint256): nonpayable


# @dev The escrow resolved on.
escrow: public(address)
# @dev What `court()` answers.
court: public(address)
# @dev How `resolve_by_court` answers (see the notice).
mode: public(uint256)
# @dev Mode 3: the call made first.
target: public(address)
# @dev Mode 3: its calldata.
payload: public(Bytes[4096])
# @dev Mode 3: calls attempted, and whether the last one succeeded.
attempts: public(uint256)
# @dev Mode 3: whether the last prepared call succeeded.
last_ok: public(bool)
# @dev `resolve_by_court` calls received.
calls: public(uint256)


@deploy
def __init__(escrow_: address, court_: address):
    """
    @notice Deploys the arbiter, claiming `court_`.
    @param escrow_ The escrow.
    @param court_ The adapter claimed.
    """
    self.escrow = escrow_
    self.court = court_


@external
def set_mode(mode_: uint256, target_: address, payload_: Bytes[4096]):
    """
    @notice Switches the behaviour (anyone may call).
    @param mode_ The mode.
    @param target_ Mode 3's target.
    @param payload_ Mode 3's calldata.
    """
    self.mode = mode_
    self.target = target_
    self.payload = payload_


@external
def resolve_by_court(job_id: uint256, job: Job, milestone: uint256, freelancer_amount: uint256):
    """
    @notice Answers the adapter as `mode` says.
    @param job_id The job.
    @param job Its state.
    @param milestone The milestone.
    @param freelancer_amount The freelancer's share.
    """
    self.calls += 1
    mode: uint256 = self.mode
    if mode == 1:
        raise "fake: refused"
    if mode == 2:
        return
    if mode == 3:
        self.attempts += 1
        self.last_ok = raw_call(self.target, self.payload, revert_on_failure=False)
    extcall IEscrow(self.escrow).resolve(job_id, job, milestone, freelancer_amount)


@external
def forward(target: address, payload: Bytes[4096]):
    """
    @notice Calls `target` with `payload` as this contract, bubbling up a revert.
    @param target The contract to call.
    @param payload The calldata.
    """
    raw_call(target, payload)
