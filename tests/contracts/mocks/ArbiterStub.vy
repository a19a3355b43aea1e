# pragma version ~=0.4.3
"""
@title ArbiterStub
@notice Test-only contract arbiter: declares a settable `challenge_window()` (as the
        oracle committee does) and relays any call as itself (to call the escrow's
        `resolve` as the job's arbiter).
"""

# @dev What `challenge_window()` answers.
window: public(uint64)


@deploy
def __init__(window_: uint64):
    """
    @notice Deploys the stub with its challenge window.
    """
    self.window = window_


@external
@view
def challenge_window() -> uint64:
    """
    @notice Seconds after a submission during which it may be sent back or disputed.
    """
    return self.window


@external
def set_window(window_: uint64):
    """
    @notice Changes the answer of `challenge_window()` (anyone may call).
    """
    self.window = window_


@external
def forward(target: address, payload: Bytes[4096]):
    """
    @notice Calls `target` with `payload` as this contract, bubbling up a revert.
    """
    raw_call(target, payload)
