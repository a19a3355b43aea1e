# pragma version ~=0.4.3
"""
@title HostileCourt
@notice Test-only "court adapter" a committee deployer may name: it claims the committee's
        escrow and answers `case_of` as told (mode 0 `answer`, 1 reverts, 2 burns all the gas
        it is given). It relays any call as itself (`forward`), e.g. the committee's
        `resolve_by_court`.
"""

# @dev What `escrow()` answers.
escrow: public(address)
# @dev How `case_of` answers (see the notice).
mode: public(uint256)
# @dev What mode 0 answers.
answer: public(uint256)


@deploy
def __init__(escrow_: address, mode_: uint256):
    """
    @notice Deploys the court for `escrow_` in `mode_`.
    @param escrow_ The escrow claimed.
    @param mode_ The misbehaviour.
    """
    self.escrow = escrow_
    self.mode = mode_


@external
def set_mode(mode_: uint256, answer_: uint256):
    """
    @notice Switches the misbehaviour (anyone may call).
    @param mode_ The mode.
    @param answer_ Mode 0's answer.
    """
    self.mode = mode_
    self.answer = answer_


@external
@view
def case_of(job_id: uint256, milestone: uint256) -> uint256:
    """
    @notice Answers as `mode` says.
    @param job_id Ignored.
    @param milestone Ignored.
    @return `answer` in mode 0.
    """
    mode: uint256 = self.mode
    if mode == 1:
        raise "court: no case for you"
    if mode == 2:
        x: bytes32 = empty(bytes32)
        for i: uint256 in range(100_000_000):
            x = keccak256(x)
        return convert(x, uint256)
    return self.answer


@external
def forward(target: address, payload: Bytes[4096]):
    """
    @notice Calls `target` with `payload` as this contract, bubbling up a revert.
    @param target The contract to call.
    @param payload The calldata.
    """
    raw_call(target, payload)
