# pragma version ~=0.4.3
"""
@title Timelock
@custom:contract-name Timelock
@license GNU Affero General Public License v3.0 only
@notice The DAO's executor: it owns the platform's levers (the issuer registry, the
        escrow's fee and treasury, the badge collection) and holds the DAO's money.
        It runs only what its governor queued, and only once the delay has passed:
        the governor schedules a batch of calls (each a target, a value in wei and
        calldata), the batch becomes executable `min_delay` seconds later, and the
        governor executes it (once) or cancels it.
@dev Roles, as in OpenZeppelin's TimelockController but narrowed to one governor:
     the governor is the only proposer, executor and canceller (its own rules say who
     may trigger each: anyone executes a queued proposal once its delay is over), so
     nobody else can cancel, re-queue or front-run an operation (the griefing a shared
     TimelockController allows). The deployer is `admin` until it calls
     `renounce_admin`; the admin may only name the governor. After renouncement only
     the timelock itself (a passed proposal) can name another governor or change
     the delay. snekmate's `timelock_controller` module was not used: its calls are
     `DynArray[Bytes[1_024], 255]`, whose memory alone costs more than the DAO's gas
     budget for a whole proposal cycle, and its open roles are what this contract
     deliberately closes.
     An operation is the governor's proposal id: the governor, which alone can
     schedule, binds the id to the calls (the id is their hash) and passes them at
     execution, so the timelock stores only the time each id becomes ready and
     never re-hashes the calls. `ready_at[id]` is cleared on execution and
     cancellation (the governor records that a proposal was executed, so an id
     never runs twice).
"""


# @dev Most calls in one operation.
MAX_CALLS: constant(uint256) = 8

# @dev Longest calldata of one call, in bytes.
MAX_CALLDATA: constant(uint256) = 1_024

# @dev Shortest delay a passed proposal may set.
MIN_DELAY_FLOOR: constant(uint256) = 3_600

# @dev Longest delay a passed proposal may set.
MAX_DELAY: constant(uint256) = 30 * 86_400


event Scheduled:
    id: indexed(bytes32)
    ready_at: uint256


event Executed:
    id: indexed(bytes32)


event Cancelled:
    id: indexed(bytes32)


event GovernorChanged:
    governor: indexed(address)


event DelayChanged:
    old_delay: uint256
    new_delay: uint256


event AdminRenounced:
    admin: indexed(address)


# @dev Bits of the delay above the governor's address in `_config`.
_DELAY_SHIFT: constant(uint256) = 160

# @dev The governor (low 160 bits: the only account that may schedule, execute and
# cancel) and the delay in seconds (the bits above), one word read once per call.
_config: uint256

# @dev The deployer until it renounces (then empty): it may name the governor, nothing else.
admin: public(address)

# @dev Time from which each scheduled operation may be executed (0: none pending).
ready_at: public(HashMap[bytes32, uint256])


@deploy
def __init__(min_delay_: uint256):
    """
    @notice Deploys the timelock with the deployer as admin and no governor yet.
    @param min_delay_ Seconds an operation waits between scheduling and execution
           (at least 1 second; a passed proposal can move it within 1 hour .. 30 days).
    """
    assert min_delay_ > 0 and min_delay_ <= MAX_DELAY, "timelock: bad delay"
    self._config = min_delay_ << _DELAY_SHIFT
    self.admin = msg.sender
    log DelayChanged(old_delay=0, new_delay=min_delay_)


@external
@payable
def __default__():
    """
    @notice Accepts ether for the DAO's treasury.
    """
    pass


@external
def set_governor(governor_: address):
    """
    @notice Names the governor: by the admin (during set-up) or by the timelock
            itself (a passed proposal installing a new governor).
    @dev Operations already scheduled stay: only the new governor can run or cancel them.
    @param governor_ The governor contract.
    """
    assert msg.sender == self.admin or msg.sender == self, "timelock: caller is not the admin or the timelock"
    assert governor_.is_contract, "timelock: governor is not a contract"
    self._config = (self._config >> _DELAY_SHIFT << _DELAY_SHIFT) | convert(governor_, uint256)
    log GovernorChanged(governor=governor_)


@external
def renounce_admin():
    """
    @notice The admin gives up its role for good; from then on only passed
            proposals change the governor and the delay.
    """
    assert msg.sender == self.admin, "timelock: caller is not the admin"
    assert self._governor() != empty(address), "timelock: no governor yet"
    self.admin = empty(address)
    log AdminRenounced(admin=msg.sender)


@external
def update_delay(new_delay: uint256):
    """
    @notice Changes the delay of operations scheduled from now on; only the
            timelock itself (a passed proposal) may call it.
    @param new_delay Seconds, from 1 hour to 30 days.
    """
    assert msg.sender == self, "timelock: caller is not the timelock"
    assert new_delay >= MIN_DELAY_FLOOR and new_delay <= MAX_DELAY, "timelock: bad delay"
    config: uint256 = self._config
    log DelayChanged(old_delay=config >> _DELAY_SHIFT, new_delay=new_delay)
    self._config = (new_delay << _DELAY_SHIFT) | (config & convert(max_value(uint160), uint256))


@external
def schedule(id: bytes32) -> uint256:
    """
    @notice The governor queues operation `id` (a passed proposal); it can run
            `min_delay()` seconds from now.
    @param id The operation (the governor's proposal id).
    @return The time from which it can be executed.
    """
    config: uint256 = self._config
    assert msg.sender == convert(config & convert(max_value(uint160), uint256), address), "timelock: caller is not the governor"
    assert self.ready_at[id] == 0, "timelock: operation already scheduled"
    ready: uint256 = block.timestamp + (config >> _DELAY_SHIFT)
    self.ready_at[id] = ready
    log Scheduled(id=id, ready_at=ready)
    return ready


@external
@payable
def execute(
    id: bytes32,
    targets: DynArray[address, MAX_CALLS],
    values: DynArray[uint256, MAX_CALLS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_CALLS],
):
    """
    @notice The governor runs operation `id`, scheduled and past its delay: the
            calls in order, every one of which must succeed (a failing call
            reverts the whole batch with its reason).
    @dev Cleared before the calls, so a call re-entering cannot run it twice.
    @param id The operation (the governor's proposal id, the hash of these calls).
    @param targets The contracts called.
    @param values Wei sent with each call (from this contract's balance).
    @param calldatas Each call's calldata.
    """
    assert msg.sender == self._governor(), "timelock: caller is not the governor"
    assert len(values) == len(targets) and len(calldatas) == len(targets), "timelock: length mismatch"
    ready: uint256 = self.ready_at[id]
    assert ready != 0, "timelock: operation not scheduled"
    assert block.timestamp >= ready, "timelock: operation not ready"
    self.ready_at[id] = 0
    for i: uint256 in range(len(targets), bound=MAX_CALLS):
        raw_call(targets[i], calldatas[i], value=values[i])
    log Executed(id=id)


@external
def cancel(id: bytes32):
    """
    @notice The governor drops a scheduled operation.
    @param id The operation id.
    """
    assert msg.sender == self._governor(), "timelock: caller is not the governor"
    assert self.ready_at[id] != 0, "timelock: operation not scheduled"
    self.ready_at[id] = 0
    log Cancelled(id=id)


@external
@view
def governor() -> address:
    """
    @notice The only account that may schedule, execute and cancel operations.
    @return The governor (empty before the admin names it).
    """
    return self._governor()


@external
@view
def min_delay() -> uint256:
    """
    @notice Seconds between an operation's scheduling and its first possible execution.
    @return The delay.
    """
    return self._config >> _DELAY_SHIFT


@internal
@view
def _governor() -> address:
    """
    @dev The governor, from the low bits of `_config`.
    @return Its address.
    """
    return convert(self._config & convert(max_value(uint160), uint256), address)
