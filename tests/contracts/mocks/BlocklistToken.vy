# pragma version ~=0.4.3
"""
@title BlocklistToken
@notice Test-only ERC-20 with a blocklist, like USDC's: a transfer to or from a
        blocked account reverts (or, in `quiet` mode, returns False and moves
        nothing, as ERC-20 allows). Anyone may mint and block (test helper).
"""

from ethereum.ercs import IERC20

implements: IERC20

# @dev Token balances.
balanceOf: public(HashMap[address, uint256])
# @dev Allowances: owner -> spender -> amount.
allowance: public(HashMap[address, HashMap[address, uint256]])
# @dev Total minted.
totalSupply: public(uint256)
# @dev Accounts that may neither send nor receive.
blocked: public(HashMap[address, bool])
# @dev True: a blocked transfer returns False instead of reverting.
quiet: public(bool)


@external
def mint(to: address, amount: uint256):
    """
    @notice Mints `amount` to `to` (anyone may call).
    """
    self.balanceOf[to] += amount
    self.totalSupply += amount
    log IERC20.Transfer(sender=empty(address), receiver=to, value=amount)


@external
def set_blocked(account: address, flag: bool):
    """
    @notice Blocks or unblocks `account` (anyone may call).
    """
    self.blocked[account] = flag


@external
def set_quiet(flag: bool):
    """
    @notice Switches between reverting (False) and returning False (True) on a blocked transfer.
    """
    self.quiet = flag


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice ERC-20 approve.
    """
    self.allowance[msg.sender][spender] = amount
    log IERC20.Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    """
    @notice ERC-20 transfer; reverts (or in quiet mode returns False) for a blocked sender or receiver.
    """
    if self.quiet and (self.blocked[msg.sender] or self.blocked[to]):
        return False
    self._move(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice ERC-20 transferFrom; reverts for a blocked owner or receiver.
    """
    self.allowance[owner][msg.sender] -= amount
    self._move(owner, to, amount)
    return True


@internal
def _move(owner: address, to: address, amount: uint256):
    """
    @dev Moves `amount` unless either side is blocked.
    """
    assert not self.blocked[owner] and not self.blocked[to], "blocklist: account blocked"
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount
    log IERC20.Transfer(sender=owner, receiver=to, value=amount)
