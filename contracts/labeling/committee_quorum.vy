# pragma version ~=0.4.3
"""
@title committee_quorum
@custom:contract-name committee_quorum
@license GNU Affero General Public License v3.0 only
@notice Checks that an EIP-712 digest carries a quorum of an oracle committee's
        signatures: at least `threshold()` valid signatures, each by a member
        (`is_oracle`), signers in strictly ascending address order (so each member
        counts once, OCR2-style). Stateless: the committee is a parameter, so one
        contract can serve campaigns judged by different committees.
"""

from snekmate.utils import ecdsa

from ..evaluation import ICommitteeMembers


MAX_SIGNATURES: constant(uint256) = 16


@internal
@view
def _check(committee: address, digest: bytes32, signatures: DynArray[Bytes[65], MAX_SIGNATURES]):
    """
    @dev Reverts unless `signatures` hold a quorum of `committee` over `digest`.
    @param committee The committee (`ICommitteeMembers`): its members and threshold are read now.
    @param digest The EIP-712 digest signed.
    @param signatures 65-byte signatures, signers in strictly ascending address order.
    """
    threshold: uint256 = staticcall ICommitteeMembers(committee).threshold()
    # A zero threshold would let a root through unsigned: a broken committee signs nothing.
    assert threshold > 0, "quorum: committee threshold is zero"
    assert len(signatures) >= threshold, "quorum: too few signatures"
    previous: uint256 = 0
    for signature: Bytes[65] in signatures:
        # A malformed signature recovers to empty(address), which is no member.
        signer: address = ecdsa._recover_sig(digest, signature)
        assert staticcall ICommitteeMembers(committee).is_oracle(signer), "quorum: signer is not an oracle"
        assert convert(signer, uint256) > previous, "quorum: signers not strictly ascending"
        previous = convert(signer, uint256)
