# pragma version ~=0.4.3
"""
@title LabelerRoyalties
@custom:contract-name LabelerRoyalties
@license GNU Affero General Public License v3.0 only
@notice The labelers' part of what a labeled dataset earns. A campaign's dataset is
        registered as an asset with this contract among its creators; the royalties the
        asset registry credits it (and anything else sent to it, in any ERC-20) are
        shared among the campaign's labelers in proportion to what the campaign paid
        them: the shares are the leaves of the campaign's claimable payout root in
        `LabelPayouts` when this contract is deployed, signed by the campaign's oracle
        committee, so nobody chooses them here. Each labeler (or a relayer for it, paid
        to the labeler) pulls its share of everything received so far minus what it
        has already pulled. No owner key; nothing to configure after deployment.
@dev A labeler's due in a token: floor(received * shares / total_shares) - withdrawn,
     with received = this contract's balance + everything already paid out in that
     token. The floors leave at most one unit per labeler unpaid per token (dust that
     stays here). A token that charges a fee on transfer or rebases downwards can make
     a claim revert for that token only; the other tokens are unaffected.
"""

from ethereum.ercs import IERC20
from snekmate.utils import merkle_proof_verification

from . import ILabelPayouts


# Deepest proof accepted, as LabelPayouts: 2**24 labelers per tree.
MAX_PROOF: constant(uint256) = 24
# Most claims in one `claim_many` call.
MAX_BATCH: constant(uint256) = 128


# One claim of a batch.
struct Claim:
    labeler: address
    shares: uint256
    proof: DynArray[bytes32, MAX_PROOF]


event Released:
    token: indexed(address)
    labeler: indexed(address)
    amount: uint256
    withdrawn: uint256


# @dev The LabelPayouts contract whose campaign defines the shares.
payouts: public(immutable(address))
# @dev That campaign's id.
campaign_id: public(immutable(uint256))
# @dev Root of the (labeler, shares) tree: the campaign's claimable payout root at deployment.
shares_root: public(immutable(bytes32))
# @dev The sum of every labeler's shares: that root's signed total.
total_shares: public(immutable(uint256))
# @dev The payout round the shares come from.
shares_round: public(immutable(uint256))
# @dev Paid out so far, per token.
released: public(HashMap[address, uint256])
# @dev Paid out so far, per token and labeler.
withdrawn: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(payouts_: address, campaign_id_: uint256):
    """
    @notice Binds the shares to a labeling campaign's claimable payout root.
    @param payouts_ The LabelPayouts contract.
    @param campaign_id_ The campaign whose labelers share what this contract receives.
    """
    campaign: ILabelPayouts.Campaign = staticcall ILabelPayouts(payouts_).campaign(campaign_id_)
    assert campaign.root != empty(bytes32), "royalties: the campaign has no claimable payout root"
    assert campaign.total != 0, "royalties: the campaign's payout root shares nothing"
    payouts = payouts_
    campaign_id = campaign_id_
    shares_root = campaign.root
    total_shares = campaign.total
    shares_round = campaign.round


@external
@view
def releasable(token: address, labeler: address, shares: uint256, proof: DynArray[bytes32, MAX_PROOF]) -> uint256:
    """
    @notice What `labeler` may pull in `token` now.
    @param token The ERC-20.
    @param labeler The labeler (the leaf's address).
    @param shares Its shares (the leaf's amount).
    @param proof Sibling hashes from the leaf to the root.
    @return The amount (zero for an invalid proof).
    """
    if not merkle_proof_verification._verify(proof, shares_root, self._leaf(labeler, shares)):
        return 0
    return self._due(token, labeler, shares)


@external
@nonreentrant
def claim(token: address, labeler: address, shares: uint256, proof: DynArray[bytes32, MAX_PROOF]) -> uint256:
    """
    @notice Pays `labeler` its share of everything received in `token` minus what it
            already pulled. Anyone may call it: the tokens go to the labeler.
    @param token The ERC-20.
    @param labeler The labeler (the leaf's address).
    @param shares Its shares (the leaf's amount).
    @param proof Sibling hashes from the leaf to the root.
    @return The amount paid.
    """
    return self._claim(token, labeler, shares, proof)


@external
@nonreentrant
def claim_many(token: address, claims: DynArray[Claim, MAX_BATCH]) -> uint256:
    """
    @notice Pays many labelers in one call (see `claim`); anyone may call it. Every claim
            must be valid and owe something, or nothing is paid.
    @param token The ERC-20.
    @param claims Up to 128 (labeler, shares, proof) claims.
    @return The total amount paid.
    """
    paid: uint256 = 0
    for item: Claim in claims:
        paid += self._claim(token, item.labeler, item.shares, item.proof)
    return paid


@internal
def _claim(token: address, labeler: address, shares: uint256, proof: DynArray[bytes32, MAX_PROOF]) -> uint256:
    """
    @dev Checks the leaf, records and pays the labeler's due.
    @param token The ERC-20.
    @param labeler The labeler.
    @param shares Its shares.
    @param proof The leaf's proof.
    @return The amount paid.
    """
    assert merkle_proof_verification._verify(proof, shares_root, self._leaf(labeler, shares)), "royalties: invalid proof"
    amount: uint256 = self._due(token, labeler, shares)
    assert amount != 0, "royalties: nothing to claim"
    self.withdrawn[token][labeler] += amount
    self.released[token] += amount
    assert extcall IERC20(token).transfer(labeler, amount, default_return_value=True), "royalties: transfer failed"
    log Released(token=token, labeler=labeler, amount=amount, withdrawn=self.withdrawn[token][labeler])
    return amount


@internal
@view
def _due(token: address, labeler: address, shares: uint256) -> uint256:
    """
    @dev floor(received * shares / total_shares) - withdrawn (zero if withdrawn is larger).
    @param token The ERC-20.
    @param labeler The labeler.
    @param shares Its shares (checked by the caller).
    @return The amount due.
    """
    received: uint256 = staticcall IERC20(token).balanceOf(self) + self.released[token]
    earned: uint256 = received * shares // total_shares
    done: uint256 = self.withdrawn[token][labeler]
    if earned <= done:
        return 0
    return earned - done


@internal
@pure
def _leaf(labeler: address, shares: uint256) -> bytes32:
    """
    @dev OpenZeppelin StandardMerkleTree leaf of (labeler, shares), as LabelPayouts's.
    @param labeler The labeler.
    @param shares Its shares.
    @return The leaf.
    """
    return keccak256(keccak256(abi_encode(labeler, shares)))
