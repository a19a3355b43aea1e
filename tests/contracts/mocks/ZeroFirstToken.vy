# pragma version ~=0.4.3
"""
@title ZeroFirstToken
@notice Test-only ERC-20 in the manner of USDT: `approve` of a non-zero amount reverts while the
        current allowance is non-zero; anyone may mint.
"""

from ethereum.ercs import IERC20

implements: IERC20

# @dev Balances.
balanceOf: public(HashMap[address, uint256])
# @dev Allowances.
allowance: public(HashMap[address, HashMap[address, uint256]])
# @dev Supply.
totalSupply: public(uint256)


@external
def mint(to: address, amount: uint256):
    """
    @notice Mints `amount` to `to`.
    @param to Receiver.
    @param amount Amount.
    """
    self.balanceOf[to] += amount
    self.totalSupply += amount


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice USDT's rule: set the allowance to zero before changing it.
    @param spender Spender.
    @param amount Amount.
    @return True.
    """
    assert amount == 0 or self.allowance[msg.sender][spender] == 0, "token: approve from non-zero"
    self.allowance[msg.sender][spender] = amount
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    """
    @notice Moves tokens.
    @param to Receiver.
    @param amount Amount.
    @return True.
    """
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[to] += amount
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice Moves approved tokens (an allowance of max_value is not spent).
    @param owner Payer.
    @param to Receiver.
    @param amount Amount.
    @return True.
    """
    if self.allowance[owner][msg.sender] != max_value(uint256):
        self.allowance[owner][msg.sender] -= amount
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount
    return True
