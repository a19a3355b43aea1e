# pragma version ~=0.4.3
"""
@title CentralizedArbitrator
@notice Test-only ERC-792 arbitrator (fees in an ERC-20 token, as IArbitrator.vyi): a single
        owner rules. With a non-zero appeal window a ruling is first appealable for that many
        seconds (anyone may `appeal` by paying `appeal_fee`; the owner then rules again) and
        final once `execute` is called after the window; with a zero window it is final at once.
@dev arbitrationCost = base_fee + amount_in_dispute * fee_bps / 10,000 (from the extra data).
"""

from ethereum.ercs import IERC20

interface IArbitrableRule:
    def rule(_disputeID: uint256, _ruling: uint256): nonpayable


# One dispute.
struct DisputeInfo:
    arbitrated: address  # the arbitrable that created it
    choices: uint256  # highest ruling
    token: address  # fee token
    ruling: uint256  # current ruling
    status: uint8  # 0 Waiting, 1 Appealable, 2 Solved
    appeal_end: uint256  # end of the appeal period while Appealable


event DisputeCreation:
    _disputeID: indexed(uint256)
    _arbitrable: indexed(address)


event AppealPossible:
    _disputeID: indexed(uint256)
    _arbitrable: indexed(address)


event AppealDecision:
    _disputeID: indexed(uint256)
    _arbitrable: indexed(address)


# @dev The only account that rules.
owner: public(address)
# @dev Fee token when the extra data is shorter than 96 bytes.
default_token: public(address)
# @dev Flat part of the arbitration cost.
base_fee: public(uint256)
# @dev Proportional part, in basis points of the amount in dispute.
fee_bps: public(uint256)
# @dev Cost of one appeal.
appeal_fee: public(uint256)
# @dev Seconds a ruling stays appealable (0: rulings final at once).
appeal_window: public(uint256)
# @dev Disputes by id (from 0, as Kleros' centralized arbitrator).
disputes: public(HashMap[uint256, DisputeInfo])
# @dev Number of disputes created.
dispute_count: public(uint256)


@deploy
def __init__(token_: address, base_fee_: uint256, fee_bps_: uint256, appeal_fee_: uint256, appeal_window_: uint256):
    """
    @notice Deploys the arbitrator; the deployer rules.
    @param token_ Default fee token.
    @param base_fee_ Flat cost.
    @param fee_bps_ Proportional cost in basis points.
    @param appeal_fee_ Appeal cost.
    @param appeal_window_ Appeal period in seconds.
    """
    self.owner = msg.sender
    self.default_token = token_
    self.base_fee = base_fee_
    self.fee_bps = fee_bps_
    self.appeal_fee = appeal_fee_
    self.appeal_window = appeal_window_


@external
def set_fees(base_fee_: uint256, fee_bps_: uint256, appeal_fee_: uint256):
    """
    @notice Owner changes the costs.
    @param base_fee_ Flat cost.
    @param fee_bps_ Proportional cost in basis points.
    @param appeal_fee_ Appeal cost.
    """
    assert msg.sender == self.owner, "arbitrator: not owner"
    self.base_fee = base_fee_
    self.fee_bps = fee_bps_
    self.appeal_fee = appeal_fee_


@internal
@view
def _decode(extra: Bytes[96]) -> (address, uint256):
    """
    @dev Fee token and amount in dispute of the extra data (defaults when short).
    @param extra The extra data.
    @return (token, amount).
    """
    if len(extra) < 96:
        return self.default_token, 0
    token: address = empty(address)
    amount: uint256 = 0
    jurors: uint256 = 0
    token, amount, jurors = abi_decode(extra, (address, uint256, uint256))
    return token, amount


@external
@view
def arbitrationCost(_extraData: Bytes[96]) -> uint256:
    """
    @notice base_fee + amount * fee_bps / 10,000.
    @param _extraData abi_encode(token, amount, jurors).
    @return The cost.
    """
    token: address = empty(address)
    amount: uint256 = 0
    token, amount = self._decode(_extraData)
    return self.base_fee + amount * self.fee_bps // 10_000


@external
@payable
def createDispute(_choices: uint256, _extraData: Bytes[96]) -> uint256:
    """
    @notice Opens a dispute, pulling the cost from the caller.
    @param _choices Highest ruling.
    @param _extraData abi_encode(token, amount, jurors).
    @return The dispute id.
    """
    assert msg.value == 0, "arbitrator: no ether"
    token: address = empty(address)
    amount: uint256 = 0
    token, amount = self._decode(_extraData)
    cost: uint256 = self.base_fee + amount * self.fee_bps // 10_000
    if cost > 0:
        assert extcall IERC20(token).transferFrom(msg.sender, self, cost), "arbitrator: fee"
    dispute_id: uint256 = self.dispute_count
    self.dispute_count = dispute_id + 1
    self.disputes[dispute_id] = DisputeInfo(
        arbitrated=msg.sender, choices=_choices, token=token, ruling=0, status=0, appeal_end=0
    )
    log DisputeCreation(_disputeID=dispute_id, _arbitrable=msg.sender)
    return dispute_id


@external
def give_ruling(dispute_id: uint256, ruling: uint256):
    """
    @notice Owner rules a waiting dispute: final at once without an appeal window.
    @param dispute_id The dispute.
    @param ruling The ruling (at most its choices).
    """
    assert msg.sender == self.owner, "arbitrator: not owner"
    d: DisputeInfo = self.disputes[dispute_id]
    assert d.arbitrated != empty(address) and d.status == 0, "arbitrator: not waiting"
    assert ruling <= d.choices, "arbitrator: invalid ruling"
    self.disputes[dispute_id].ruling = ruling
    if self.appeal_window == 0:
        self.disputes[dispute_id].status = 2
        extcall IArbitrableRule(d.arbitrated).rule(dispute_id, ruling)
        return
    self.disputes[dispute_id].status = 1
    self.disputes[dispute_id].appeal_end = block.timestamp + self.appeal_window
    log AppealPossible(_disputeID=dispute_id, _arbitrable=d.arbitrated)


@external
def execute(dispute_id: uint256):
    """
    @notice Anyone makes an appealable ruling final once its window is over.
    @param dispute_id The dispute.
    """
    d: DisputeInfo = self.disputes[dispute_id]
    assert d.status == 1, "arbitrator: not appealable"
    assert block.timestamp >= d.appeal_end, "arbitrator: appeal period open"
    self.disputes[dispute_id].status = 2
    extcall IArbitrableRule(d.arbitrated).rule(dispute_id, d.ruling)


@external
@payable
def appeal(_disputeID: uint256, _extraData: Bytes[96]):
    """
    @notice Appeals an appealable ruling within its window, pulling `appeal_fee`.
    @param _disputeID The dispute.
    @param _extraData Ignored.
    """
    assert msg.value == 0, "arbitrator: no ether"
    d: DisputeInfo = self.disputes[_disputeID]
    assert d.status == 1 and block.timestamp < d.appeal_end, "arbitrator: not appealable"
    if self.appeal_fee > 0:
        assert extcall IERC20(d.token).transferFrom(msg.sender, self, self.appeal_fee), "arbitrator: fee"
    self.disputes[_disputeID].status = 0
    self.disputes[_disputeID].appeal_end = 0
    log AppealDecision(_disputeID=_disputeID, _arbitrable=d.arbitrated)


@external
@view
def appealCost(_disputeID: uint256, _extraData: Bytes[96]) -> uint256:
    """
    @notice The appeal fee.
    @param _disputeID The dispute.
    @param _extraData Ignored.
    @return appeal_fee.
    """
    return self.appeal_fee


@external
@view
def appealPeriod(_disputeID: uint256) -> (uint256, uint256):
    """
    @notice Appeal period of an appealable ruling, (0, 0) otherwise.
    @param _disputeID The dispute.
    @return (start, end).
    """
    d: DisputeInfo = self.disputes[_disputeID]
    if d.status != 1:
        return 0, 0
    return d.appeal_end - self.appeal_window, d.appeal_end


@external
@view
def disputeStatus(_disputeID: uint256) -> uint8:
    """
    @notice 0 Waiting, 1 Appealable, 2 Solved.
    @param _disputeID The dispute.
    @return The status.
    """
    return self.disputes[_disputeID].status


@external
@view
def currentRuling(_disputeID: uint256) -> uint256:
    """
    @notice The ruling as it stands.
    @param _disputeID The dispute.
    @return The ruling.
    """
    return self.disputes[_disputeID].ruling
