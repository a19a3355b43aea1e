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

# @dev Per dispute: number of rule() calls (bits 128-255) and last ruling (0-127), in one
# slot as an arbitrable that records its rulings compactly would (the court benchmark counts it).
_record: HashMap[uint256, uint256]


@external
@view
def rule_calls(d: uint256) -> uint256:
    """
    @notice Number of rule() calls for dispute `d`.
    """
    return self._record[d] >> 128


@external
@view
def rulings(d: uint256) -> uint256:
    """
    @notice Last ruling given for dispute `d`.
    """
    return self._record[d] & (2**128 - 1)


@external
def open(court: address, token: address, choices: uint256, extra: Bytes[96]) -> uint256:
    """
    @notice Approves the court (once) and opens a dispute.
    """
    if staticcall IERC20(token).allowance(self, court) < max_value(uint256) // 2:
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
    self._record[_disputeID] = ((self._record[_disputeID] >> 128) + 1) << 128 | _ruling
