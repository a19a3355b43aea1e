# pragma version ~=0.4.3
"""
@title votes
@custom:contract-name votes
@license GNU Affero General Public License v3.0 only
@notice ERC-5805 vote delegation with ERC-6372 block-number clock: every account's
        delegated voting power and the total supply, checkpointed per block, so
        `getPastVotes` and `getPastTotalSupply` answer for any past block.
        Voting power counts only once delegated: an account that never delegated
        (not even to itself) holds tokens that vote for nobody, as in
        OpenZeppelin's ERC20Votes.
@dev Stateful module: the token `initializes` it and reports every balance change
     through `_transfer_voting_units` (mint: `owner` empty; burn: `to` empty),
     and every delegation through `_delegate` with the delegator's balance. It
     never reads balances itself, so any token can carry it unchanged.
     A checkpoint is one storage word: block number (48 bits) << 208 | votes
     (208 bits); votes and supply must therefore stay below 2**208, which the
     token enforces on mint. At most one checkpoint per account and block: a
     second change in the same block overwrites the value.
     Lookups: the latest checkpoint first (the common case), then a binary
     search over the older ones, O(log n) reads.
"""


# @dev Bits of a checkpoint's value; the block number sits in the bits above.
_VALUE_BITS: constant(uint256) = 208

# @dev Mask of a checkpoint's value bits.
_VALUE_MASK: constant(uint256) = (1 << _VALUE_BITS) - 1

# @dev Largest voting power or supply a checkpoint can hold (2**208 - 1).
MAX_VOTES: constant(uint256) = _VALUE_MASK

# @dev Binary-search rounds: a checkpoint list never outgrows 2**48 entries (one per block).
_SEARCH_ROUNDS: constant(uint256) = 49

# @dev Key of the total-supply checkpoints in `_checkpoints`.
_SUPPLY: constant(address) = empty(address)


# @dev ERC-5805: `delegator` moved its voting power from `fromDelegate` to `toDelegate`.
event DelegateChanged:
    delegator: indexed(address)
    fromDelegate: indexed(address)
    toDelegate: indexed(address)


# @dev ERC-5805: the voting power of `delegate` went from `previousVotes` to `newVotes`.
event DelegateVotesChanged:
    delegate: indexed(address)
    previousVotes: uint256
    newVotes: uint256


# @dev The account each account delegates its voting power to (empty: none yet).
delegates: public(HashMap[address, address])

# @dev Packed checkpoints (block << 208 | value), oldest first, of each delegate's
# votes; those of the empty address (never a delegate: empty means "no delegate")
# hold the total supply.
_checkpoints: HashMap[address, HashMap[uint256, uint256]]

# @dev Number of checkpoints under each key of `_checkpoints`.
_num_checkpoints: HashMap[address, uint256]


@deploy
def __init__():
    """
    @notice Nothing to set: every account starts undelegated with no checkpoint.
    """
    pass


@external
@view
def clock() -> uint48:
    """
    @notice ERC-6372 clock: the current block number.
    @return The block number, as uint48.
    """
    return self._clock()


@external
@view
def CLOCK_MODE() -> String[32]:
    """
    @notice ERC-6372 clock mode: block numbers, counted from genesis.
    @return "mode=blocknumber&from=default".
    """
    return "mode=blocknumber&from=default"


@external
@view
def getVotes(account: address) -> uint256:
    """
    @notice Current voting power of `account` (the tokens delegated to it).
    @param account The delegate.
    @return Its votes now (0 for the empty address).
    """
    if account == _SUPPLY:
        return 0
    return self._latest(account)


@external
@view
def getPastVotes(account: address, timepoint: uint256) -> uint256:
    """
    @notice Voting power of `account` at the end of block `timepoint`.
    @dev Reverts for the current block or later (its value can still change).
    @param account The delegate.
    @param timepoint A past block number.
    @return Its votes at that block (0 for the empty address).
    """
    assert timepoint < convert(self._clock(), uint256), "pwk: future lookup"
    if account == _SUPPLY:
        return 0
    return self._lookup(account, timepoint)


@external
@view
def getPastTotalSupply(timepoint: uint256) -> uint256:
    """
    @notice Total supply at the end of block `timepoint` (delegated or not).
    @dev Reverts for the current block or later.
    @param timepoint A past block number.
    @return The supply at that block.
    """
    assert timepoint < convert(self._clock(), uint256), "pwk: future lookup"
    return self._lookup(_SUPPLY, timepoint)


@external
@view
def numCheckpoints(account: address) -> uint32:
    """
    @notice Number of checkpoints of `account`, as in OpenZeppelin's ERC20Votes.
    @param account The delegate.
    @return How many (0 for the empty address).
    """
    if account == _SUPPLY:
        return 0
    return convert(self._num_checkpoints[account], uint32)


@external
@view
def checkpoints(account: address, pos: uint32) -> (uint48, uint208):
    """
    @notice Checkpoint number `pos` of `account`, as in OpenZeppelin's ERC20Votes.
    @param account The delegate (not the empty address).
    @param pos Index, 0 the oldest; must be below `numCheckpoints(account)`.
    @return The block it was written in, and the votes from that block on.
    """
    assert account != _SUPPLY and convert(pos, uint256) < self._num_checkpoints[account], "pwk: no such checkpoint"
    packed: uint256 = self._checkpoints[account][convert(pos, uint256)]
    return convert(packed >> _VALUE_BITS, uint48), convert(packed & _VALUE_MASK, uint208)


@internal
@view
def _clock() -> uint48:
    """
    @dev The ERC-6372 clock: the block number.
    @return block.number as uint48 (reverts past 2**48, centuries away).
    """
    return convert(block.number, uint48)


@internal
def _delegate(account: address, delegatee: address, units: uint256):
    """
    @dev Makes `delegatee` the delegate of `account` and moves `account`'s voting
         units (its balance) from the old delegate to the new one.
    @param account The delegator.
    @param delegatee The new delegate (empty: stop voting).
    @param units The delegator's balance now.
    """
    old: address = self.delegates[account]
    self.delegates[account] = delegatee
    log DelegateChanged(delegator=account, fromDelegate=old, toDelegate=delegatee)
    self._move_delegate_votes(old, delegatee, units)


@internal
def _transfer_voting_units(owner: address, to: address, amount: uint256):
    """
    @dev Records a balance change: `amount` left `owner` for `to`. An empty
         `owner` is a mint and an empty `to` a burn; both move the total supply.
         The votes follow the two accounts' delegates.
    @param owner The account debited (empty for a mint).
    @param to The account credited (empty for a burn).
    @param amount The tokens moved.
    """
    if owner == empty(address):
        supply: uint256 = self._latest(_SUPPLY) + amount
        assert supply <= MAX_VOTES, "pwk: supply over 2**208"
        self._push(_SUPPLY, supply)
    elif to == empty(address):
        self._push(_SUPPLY, self._latest(_SUPPLY) - amount)
    self._move_delegate_votes(self.delegates[owner], self.delegates[to], amount)


@internal
def _move_delegate_votes(src: address, dst: address, amount: uint256):
    """
    @dev Moves `amount` votes from delegate `src` to delegate `dst`; an empty side
         stands for tokens that vote for nobody and is skipped.
    @param src The delegate losing votes.
    @param dst The delegate gaining votes.
    @param amount The votes moved.
    """
    if src == dst or amount == 0:
        return
    if src != empty(address):
        old: uint256 = self._latest(src)
        new: uint256 = old - amount
        self._push(src, new)
        log DelegateVotesChanged(delegate=src, previousVotes=old, newVotes=new)
    if dst != empty(address):
        old: uint256 = self._latest(dst)
        new: uint256 = old + amount
        self._push(dst, new)
        log DelegateVotesChanged(delegate=dst, previousVotes=old, newVotes=new)


@internal
def _push(key: address, amount: uint256):
    """
    @dev Records `amount` under `key` from the current block on: overwrites the
         latest checkpoint if it was written in this block, appends one otherwise.
    @param key A delegate, or `_SUPPLY`.
    @param amount The new value (below 2**208: the supply is capped on mint).
    """
    n: uint256 = self._num_checkpoints[key]
    now: uint256 = convert(self._clock(), uint256)
    packed: uint256 = (now << _VALUE_BITS) | amount
    if n > 0 and (self._checkpoints[key][n - 1] >> _VALUE_BITS) == now:
        self._checkpoints[key][n - 1] = packed
        return
    self._checkpoints[key][n] = packed
    self._num_checkpoints[key] = n + 1


@internal
@view
def _latest(key: address) -> uint256:
    """
    @dev The value of the latest checkpoint under `key`.
    @param key A delegate, or `_SUPPLY`.
    @return That value, 0 without checkpoints.
    """
    n: uint256 = self._num_checkpoints[key]
    if n == 0:
        return 0
    return self._checkpoints[key][n - 1] & _VALUE_MASK


@internal
@view
def _lookup(key: address, timepoint: uint256) -> uint256:
    """
    @dev The value under `key` at the end of block `timepoint`: that of the last
         checkpoint written in a block <= `timepoint`. Checks the latest one
         first, then binary-searches the others.
    @param key A delegate, or `_SUPPLY`.
    @param timepoint The block.
    @return The value then, 0 before the first checkpoint.
    """
    n: uint256 = self._num_checkpoints[key]
    if n == 0:
        return 0
    last: uint256 = self._checkpoints[key][n - 1]
    if (last >> _VALUE_BITS) <= timepoint:
        return last & _VALUE_MASK
    # Invariant: checkpoints below `low` are at blocks <= timepoint, those at `high`
    # or above (high <= n - 1) after it; the answer is checkpoint low - 1.
    low: uint256 = 0
    high: uint256 = n - 1
    for _: uint256 in range(_SEARCH_ROUNDS):
        if low >= high:
            break
        mid: uint256 = unsafe_div(unsafe_add(low, high), 2)
        if (self._checkpoints[key][mid] >> _VALUE_BITS) > timepoint:
            high = mid
        else:
            low = mid + 1
    if low == 0:
        return 0
    return self._checkpoints[key][low - 1] & _VALUE_MASK
