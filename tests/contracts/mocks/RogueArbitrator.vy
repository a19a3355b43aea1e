# pragma version ~=0.4.3
"""
@title RogueArbitrator
@notice Test-only ERC-792 arbitrator (fees in an ERC-20 token) that misbehaves as told: it quotes
        `cost` but pulls `pull`, returns `next_id` as the dispute id (so ids may repeat), may call a
        prepared payload on the arbitrable from inside `createDispute` or `appeal` (reentrancy), and
        lets anyone deliver any ruling on any dispute id, any number of times (`deliver`).
"""

from ethereum.ercs import IERC20

interface IArbitrableRule:
    def rule(_disputeID: uint256, _ruling: uint256): nonpayable


# @dev What arbitrationCost and appealCost quote.
cost: public(uint256)
# @dev What createDispute and appeal actually pull.
pull: public(uint256)
# @dev The id createDispute returns next.
next_id: public(uint256)
# @dev Whether createDispute advances next_id (False: the same id again).
advance: public(bool)
# @dev Payload called on the caller from inside createDispute / appeal (empty: none).
payload: public(Bytes[1024])
# @dev Whether the last re-entrant call succeeded.
reentered: public(bool)
# @dev Whether the last re-entrant call was attempted.
attempted: public(bool)


@deploy
def __init__(cost_: uint256):
    """
    @notice Deploys the arbitrator quoting and pulling `cost_`.
    @param cost_ The fee.
    """
    self.cost = cost_
    self.pull = cost_
    self.advance = True


@external
def configure(cost_: uint256, pull_: uint256, next_id_: uint256, advance_: bool):
    """
    @notice Sets the misbehaviour (anyone may call).
    @param cost_ The fee quoted.
    @param pull_ The fee pulled.
    @param next_id_ The next dispute id.
    @param advance_ Whether ids advance.
    """
    self.cost = cost_
    self.pull = pull_
    self.next_id = next_id_
    self.advance = advance_


@external
def arm(payload_: Bytes[1024]):
    """
    @notice Prepares the re-entrant call.
    @param payload_ The calldata (empty to disarm).
    """
    self.payload = payload_


@external
@view
def arbitrationCost(_extraData: Bytes[96]) -> uint256:
    """
    @notice The quoted fee.
    @param _extraData Ignored.
    @return cost.
    """
    return self.cost


@external
@view
def appealCost(_disputeID: uint256, _extraData: Bytes[96]) -> uint256:
    """
    @notice The quoted fee.
    @param _disputeID Ignored.
    @param _extraData Ignored.
    @return cost.
    """
    return self.cost


@internal
def _misbehave(token: address):
    """
    @dev Pulls `pull` of `token` from the caller and makes the armed re-entrant call.
    @param token The fee token.
    """
    if self.pull > 0:
        assert extcall IERC20(token).transferFrom(msg.sender, self, self.pull, default_return_value=True)
    if len(self.payload) > 0:
        self.attempted = True
        self.reentered = raw_call(msg.sender, self.payload, revert_on_failure=False)


@external
@payable
def createDispute(_choices: uint256, _extraData: Bytes[96]) -> uint256:
    """
    @notice Opens a "dispute" with id `next_id`.
    @param _choices Ignored.
    @param _extraData abi_encode(token, amount, jurors).
    @return The id.
    """
    token: address = abi_decode(_extraData, (address, uint256, uint256))[0]
    self._misbehave(token)
    d: uint256 = self.next_id
    if self.advance:
        self.next_id = d + 1
    return d


@external
@payable
def appeal(_disputeID: uint256, _extraData: Bytes[96]):
    """
    @notice Accepts any appeal and pulls nothing (the approved fee stays with the arbitrable).
    @param _disputeID Ignored.
    @param _extraData Ignored.
    """
    pass


@external
def deliver(arbitrable: address, dispute_id: uint256, ruling: uint256):
    """
    @notice Calls `rule` on any arbitrable with any dispute id and ruling.
    @param arbitrable The arbitrable.
    @param dispute_id The dispute id.
    @param ruling The ruling.
    """
    extcall IArbitrableRule(arbitrable).rule(dispute_id, ruling)
