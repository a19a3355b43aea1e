# pragma version ~=0.4.3
"""
@title RulingRecorder
@notice Test-only arbitrable: opens disputes on a court, paying its fee in a token it
        holds, appeals, and records every `rule` call.
"""

from ethereum.ercs import IERC20

interface ICourt:
    def createDispute(_choices: uint256, _extraData: Bytes[96]) -> uint256: payable
    def appeal(_disputeID: uint256, _extraData: Bytes[96]): payable

# @dev Number of rule() calls per dispute.
rule_calls: public(HashMap[uint256, uint256])
# @dev Last ruling per dispute.
rulings: public(HashMap[uint256, uint256])


@external
def open(court: address, token: address, choices: uint256, extra: Bytes[96]) -> uint256:
    """
    @notice Approves the court and opens a dispute.
    """
    extcall IERC20(token).approve(court, max_value(uint256))
    return extcall ICourt(court).createDispute(choices, extra)


@external
def appeal(court: address, d: uint256):
    """
    @notice Appeals dispute `d`.
    """
    extcall ICourt(court).appeal(d, b"")


@external
def rule(_disputeID: uint256, _ruling: uint256):
    """
    @notice Records the ruling.
    """
    self.rule_calls[_disputeID] += 1
    self.rulings[_disputeID] = _ruling
