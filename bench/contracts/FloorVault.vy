# pragma version ~=0.4.3
"""
@title FloorVault
@notice The cheapest possible escrow, for the gas benchmark's floor: one
        `transferFrom` into a contract, one `transfer` out. No bookkeeping at all.
"""

from ethereum.ercs import IERC20


@external
def deposit(token: IERC20, amount: uint256):
    """
    @notice Pulls `amount` of `token` from the caller.
    """
    assert extcall token.transferFrom(msg.sender, self, amount, default_return_value=True)


@external
def pay(token: IERC20, to: address, amount: uint256):
    """
    @notice Sends `amount` of `token` to `to`.
    """
    assert extcall token.transfer(to, amount, default_return_value=True)
