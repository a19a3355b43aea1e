# pragma version ~=0.4.3
"""
@title CommitteeStub
@notice Test-only stand-in for the oracle committee: a fixed member list and
        threshold, both settable by anyone, behind the `ICommitteeMembers` views.
"""

# @dev Whether an account is a member.
is_oracle: public(HashMap[address, bool])
# @dev Signatures a result needs.
threshold: public(uint256)


@deploy
def __init__(oracles: DynArray[address, 16], threshold_: uint256):
    """
    @notice Deploys the stub with members `oracles` and threshold `threshold_`.
    """
    for oracle: address in oracles:
        self.is_oracle[oracle] = True
    self.threshold = threshold_


@external
def set_oracle(addr: address, member: bool):
    """
    @notice Adds or removes a member (test helper, anyone may call).
    """
    self.is_oracle[addr] = member


@external
def set_threshold(threshold_: uint256):
    """
    @notice Sets the threshold (test helper, anyone may call).
    """
    self.threshold = threshold_
