# pragma version ~=0.4.3
"""
@title HostileArbiter
@notice Test-only contract arbiter whose `challenge_window()` misbehaves as told:
        mode 0 answers `window` (any uint256, also above 2**64), 1 reverts, 2 burns all
        the gas it is given. It relays any call as itself (to call the escrow's `resolve`).
"""

# @dev How `challenge_window()` misbehaves (see the notice).
mode: public(uint256)
# @dev What mode 0 answers.
window: public(uint256)


@deploy
def __init__(mode_: uint256, window_: uint256):
    """
    @notice Deploys the arbiter in `mode_`.
    @param mode_ The misbehaviour.
    @param window_ The answer of mode 0.
    """
    self.mode = mode_
    self.window = window_


@external
def set_mode(mode_: uint256, window_: uint256):
    """
    @notice Switches the misbehaviour (anyone may call).
    @param mode_ The new mode.
    @param window_ The new answer of mode 0.
    """
    self.mode = mode_
    self.window = window_


@external
@view
def challenge_window() -> uint256:
    """
    @notice Answers as `mode` says: `window`, a revert, or all the gas burnt.
    @return The claimed challenge window.
    """
    mode: uint256 = self.mode
    if mode == 1:
        raise "arbiter: no window for you"
    if mode == 2:
        x: bytes32 = empty(bytes32)
        for i: uint256 in range(100_000_000):
            x = keccak256(x)
        return convert(x, uint256)
    return self.window


@external
def forward(target: address, payload: Bytes[4096]):
    """
    @notice Calls `target` with `payload` as this contract, bubbling up a revert.
    @param target The contract to call.
    @param payload The calldata.
    """
    raw_call(target, payload)
