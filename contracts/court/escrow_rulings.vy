# pragma version ~=0.4.3
"""
@title escrow_rulings
@custom:contract-name escrow_rulings
@license GNU Affero General Public License v3.0 only
@notice The rulings an ERC-792 arbitrator may give on a disputed escrow milestone, and
        the freelancer's share of the milestone each one means. A module of constants and
        one pure helper: importing it adds no storage.
@dev Rulings (SmartInvoice-style, steps of 25 %): 0 refuse to arbitrate (half each, the
     same split as the escrow's own timeout fallback), 1 pay the freelancer in full,
     2 refund the client in full, 3 75 %, 4 50 %, 5 25 % to the freelancer.
"""


# @dev Number of rulings besides 0 (refuse to arbitrate): what `createDispute` is asked for.
CHOICES: constant(uint256) = 5
# @dev Basis points of a whole milestone.
BPS: constant(uint256) = 10_000

# @dev Refuse to arbitrate: half each.
REFUSED: constant(uint256) = 0
# @dev The freelancer gets the whole milestone.
FREELANCER_WINS: constant(uint256) = 1
# @dev The client gets the whole milestone back.
CLIENT_WINS: constant(uint256) = 2
# @dev 75 % to the freelancer.
SPLIT_75: constant(uint256) = 3
# @dev 50 % to the freelancer.
SPLIT_50: constant(uint256) = 4
# @dev 25 % to the freelancer.
SPLIT_25: constant(uint256) = 5


@internal
@pure
def _freelancer_bps(ruling: uint256) -> uint256:
    """
    @dev The freelancer's share of the milestone, in basis points, for a ruling of at most
         CHOICES (the caller checks the range); 0 (refuse to arbitrate) is half each.
    @param ruling The arbitrator's ruling.
    @return Basis points of the milestone (and of the fee reserve) due to the freelancer.
    """
    if ruling == FREELANCER_WINS:
        return BPS
    if ruling == CLIENT_WINS:
        return 0
    if ruling == SPLIT_75:
        return 7_500
    if ruling == SPLIT_25:
        return 2_500
    return 5_000
