# pragma version ~=0.4.3
"""
@title FeeOnTransferToken
@custom:contract-name FeeOnTransferToken
@notice Test token that burns 1 % of every transfer, to prove the escrow
        refuses tokens that deliver less than the amount sent.
"""

from ethereum.ercs import IERC20

implements: IERC20

# @dev Token balance of each account.
balanceOf: public(HashMap[address, uint256])
# @dev Allowance granted by an owner to a spender.
allowance: public(HashMap[address, HashMap[address, uint256]])
# @dev Tokens in existence.
totalSupply: public(uint256)


@external
def mint(to: address, amount: uint256):
    """
    @notice Creates `amount` tokens for `to` (anyone may mint: test token).
    """
    self.balanceOf[to] += amount
    self.totalSupply += amount
    log IERC20.Transfer(sender=empty(address), receiver=to, value=amount)


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Lets `spender` move up to `amount` of the caller's tokens.
    """
    self.allowance[msg.sender][spender] = amount
    log IERC20.Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    """
    @notice Sends `amount`, of which 1 % is burnt on the way.
    """
    self._move(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice Moves `amount` from `owner`, of which 1 % is burnt on the way.
    """
    self.allowance[owner][msg.sender] -= amount
    self._move(owner, to, amount)
    return True


@internal
def _move(owner: address, to: address, amount: uint256):
    """
    @dev Moves `amount` from `owner` to `to`.
    @param owner The sender.
    @param to The receiver.
    @param amount The amount.
    """
    burnt: uint256 = amount // 100
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount - burnt
    self.totalSupply -= burnt
    log IERC20.Transfer(sender=owner, receiver=to, value=amount - burnt)
