# pragma version ~=0.4.3
"""
@title DrawGrinder
@notice Test-only juror contract: in one transaction it changes its stake by an amount
        chosen off-chain and then makes the court draw, so the draw sees a sum tree the
        attacker shaped for the seed it already knows (the block's prevrandao is public
        one slot ahead). The transaction reverts if it lands in another block.
"""

from ethereum.ercs import IERC20

interface ICourt:
    def stake(amount: uint256): nonpayable
    def pass_period(d: uint256): nonpayable
    def createDispute(_choices: uint256, _extraData: Bytes[96]) -> uint256: payable


@external
def approve(token: address, court: address):
    """
    @notice Lets the court pull the contract's court tokens.
    @param token The court token.
    @param court The court.
    """
    extcall IERC20(token).approve(court, max_value(uint256))


@external
def stake(court: address, amount: uint256):
    """
    @notice Stakes `amount`.
    @param court The court.
    @param amount Tokens.
    """
    extcall ICourt(court).stake(amount)


@external
def stake_and_draw(court: address, amount: uint256, d: uint256, expected_randao: uint256):
    """
    @notice Stakes `amount` more, then passes dispute `d` out of its evidence period.
    @param court The court.
    @param amount The extra stake ground off-chain.
    @param d The dispute.
    @param expected_randao The prevrandao the amount was ground for.
    """
    assert block.prevrandao == convert(expected_randao, bytes32), "grinder: wrong block"
    if amount > 0:
        extcall ICourt(court).stake(amount)
    extcall ICourt(court).pass_period(d)


@external
def open(court: address, token: address, choices: uint256, extra: Bytes[96]) -> uint256:
    """
    @notice Opens a dispute as its arbitrable (this contract has no `rule`: a hostile
            arbitrable that can never be given its ruling).
    @param court The court.
    @param token The fee token (held by this contract).
    @param choices Number of choices.
    @param extra The extra data.
    @return The dispute id.
    """
    extcall IERC20(token).approve(court, max_value(uint256))
    return extcall ICourt(court).createDispute(choices, extra)
