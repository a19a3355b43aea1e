# pragma version ~=0.4.3
"""
@title royalty_split
@custom:contract-name royalty_split
@license GNU Affero General Public License v3.0 only
@notice The bounds of an asset's shares and the arithmetic of a one-level revenue
        split, shared by `AssetRegistry` (which checks the bounds at registration) and
        `Licensing` (which splits revenue). A module of constants and pure functions:
        importing it adds no storage.
@dev A split of `amount` gives each parent `amount * bps // BPS`; of the rest, each
     creator gets `rest * bps // BPS`; the owner gets what remains, rounding dust
     included, so the parts always add up to `amount`. The same arithmetic lives in
     `proofwork.domain.assets` (the SDK's reference model).
"""


# @dev 100 % in basis points.
BPS: constant(uint256) = 10_000
# @dev At most this share of an asset's revenue flows to its parents (50 %).
MAX_UPSTREAM_BPS: constant(uint256) = 5_000
# @dev ERC-2981 royalty bound (10 %).
MAX_ROYALTY_BPS: constant(uint256) = 1_000
# @dev Creators per asset.
MAX_CREATORS: constant(uint256) = 8
# @dev Parents per asset (the fan-out of one split).
MAX_PARENTS: constant(uint256) = 8
# @dev Asset kinds: a model, a dataset.
KIND_MODEL: constant(uint8) = 0
KIND_DATASET: constant(uint8) = 1


@internal
@pure
def part(amount: uint256, bps: uint256) -> uint256:
    """
    @dev `bps` basis points of `amount`, rounded down.
    @param amount An amount in token units.
    @param bps A share in basis points (at most BPS).
    @return amount * bps // BPS.
    """
    return amount * bps // BPS
