# pragma version ~=0.4.3
"""
@title CourtToken
@custom:contract-name CourtToken
@license GNU Affero General Public License v3.0 only
@notice PWK, the proofwork court token that jurors stake: ERC-20 ("proofwork
        court", "PWK", 18 decimals) with EIP-2612 permit, EIP-5267 domain,
        ERC-5805 vote delegation and checkpoints, ERC-6372 block-number clock.
        Fixed supply: the whole supply is minted once, to the deployer, at
        deployment; nobody can mint afterwards and nothing burns, so the
        supply never changes. The governance issue uses this token unchanged.
        As in OpenZeppelin's ERC20Votes, tokens vote only once delegated: an
        account delegates to itself (`delegate(self)`) to vote with its own
        balance; after that, every transfer moves its votes along.
@dev ERC-20 and permit come from snekmate's audited `erc20` module; its transfer
     functions are not exported but rewritten here to report each balance change
     to the `votes` module (Vyper modules cannot override hooks). Not exported
     from `erc20`: mint, set_minter, burn, burn_from and the owner functions;
     its constructor still grants the deployer the minter role and logs
     RoleMinterChanged, a role no exported function reads.
     `delegateBySig` shares `nonces` with `permit` (one counter per signer, as
     in OpenZeppelin), so one signature of either kind consumes the next nonce.
"""

from ethereum.ercs import IERC20
from snekmate.auth import ownable
from snekmate.tokens import erc20
from . import votes
from . import ICourtToken

implements: IERC20
implements: ICourtToken

initializes: ownable
initializes: erc20[ownable := ownable]
initializes: votes

exports: (
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.allowance,
    erc20.approve,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
    votes.delegates,
    votes.getVotes,
    votes.getPastVotes,
    votes.getPastTotalSupply,
    votes.numCheckpoints,
    votes.checkpoints,
    votes.clock,
    votes.CLOCK_MODE,
)


# @dev Token name, also the EIP-712 domain name.
NAME: constant(String[25]) = "proofwork court"

# @dev Token symbol.
SYMBOL: constant(String[5]) = "PWK"

# @dev EIP-712 domain version.
VERSION: constant(String[20]) = "1"

# @dev The 32-byte type hash of a `delegateBySig` signature (ERC-5805, as OpenZeppelin's).
_DELEGATION_TYPE_HASH: constant(bytes32) = keccak256("Delegation(address delegatee,uint256 nonce,uint256 expiry)")

# @dev secp256k1 n / 2: signatures with a larger `s` are malleable copies, refused.
_MALLEABILITY_THRESHOLD: constant(uint256) = (
    57896044618658097711785492504343953926418782139537452191302581570759080747168
)


@deploy
def __init__(supply: uint256):
    """
    @notice Deploys PWK and mints its whole, fixed supply to the deployer.
    @param supply The supply in wei of PWK (18 decimals), below 2**208.
    """
    ownable.__init__()
    erc20.__init__(NAME, SYMBOL, 18, NAME, VERSION)
    votes.__init__()
    erc20._mint(msg.sender, supply)
    votes._transfer_voting_units(empty(address), msg.sender, supply)


@external
def transfer(to: address, amount: uint256) -> bool:
    """
    @notice Moves `amount` PWK from the caller to `to`; votes follow delegates.
    @param to The receiver (not the zero address).
    @param amount The tokens moved.
    @return True (failures revert).
    """
    erc20._transfer(msg.sender, to, amount)
    votes._transfer_voting_units(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice Moves `amount` PWK from `owner` to `to` against the caller's allowance
            (not decreased when it is the maximum uint256); votes follow delegates.
    @param owner The account debited.
    @param to The receiver (not the zero address).
    @param amount The tokens moved.
    @return True (failures revert).
    """
    erc20._spend_allowance(owner, msg.sender, amount)
    erc20._transfer(owner, to, amount)
    votes._transfer_voting_units(owner, to, amount)
    return True


@external
def delegate(delegatee: address):
    """
    @notice Gives the caller's voting power (its whole balance, now and after
            every later transfer) to `delegatee`; the caller's own address to vote
            itself, the zero address to stop voting.
    @param delegatee The new delegate.
    """
    votes._delegate(msg.sender, delegatee, erc20.balanceOf[msg.sender])


@external
def delegateBySig(delegatee: address, nonce: uint256, expiry: uint256, v: uint8, r: bytes32, s: bytes32):
    """
    @notice `delegate` on behalf of the signer of an EIP-712
            Delegation(address delegatee,uint256 nonce,uint256 expiry).
    @dev The nonce is the signer's `nonces` entry, shared with `permit`; a valid
         signature by anyone delegates that signer's balance (a wrong key
         therefore delegates another account, whose nonce rarely matches).
    @param delegatee The new delegate.
    @param nonce The signer's current nonce.
    @param expiry Last timestamp at which the signature is valid.
    @param v The signature's recovery id (27 or 28).
    @param r The signature's r.
    @param s The signature's s (lower half of the curve order).
    """
    assert block.timestamp <= expiry, "pwk: signature expired"
    struct_hash: bytes32 = keccak256(abi_encode(_DELEGATION_TYPE_HASH, delegatee, nonce, expiry))
    digest: bytes32 = erc20.eip712_domain_separator._hash_typed_data_v4(struct_hash)
    signer: address = self._recover(digest, v, r, s)
    assert nonce == erc20.nonces[signer], "pwk: invalid nonce"
    erc20.nonces[signer] = nonce + 1
    votes._delegate(signer, delegatee, erc20.balanceOf[signer])


@internal
@pure
def _recover(digest: bytes32, v: uint8, r: bytes32, s: bytes32) -> address:
    """
    @dev The signer of `digest`; reverts on a malleable or unrecoverable signature.
    @param digest The EIP-712 digest signed.
    @param v The recovery id.
    @param r The signature's r.
    @param s The signature's s.
    @return The signer, never the zero address.
    """
    assert convert(s, uint256) <= _MALLEABILITY_THRESHOLD, "pwk: invalid signature"
    signer: address = ecrecover(digest, v, r, s)
    assert signer != empty(address), "pwk: invalid signature"
    return signer
