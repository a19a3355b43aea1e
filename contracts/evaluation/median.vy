# pragma version ~=0.4.3
"""
@title median
@custom:contract-name median
@license GNU Affero General Public License v3.0 only
@notice Pure helpers for aggregating oracle scores, shared by the oracle committee
        (settlement) and the job attester (attested score), so both take the same
        median: Chainlink OCR2's sorted[len // 2] (the upper median for an even count).
@dev Stateless: importing it needs no `initializes`.
"""


# @dev Most scores aggregated at once (the committee has at most 16 oracles).
MAX_SCORES: constant(uint256) = 16


@internal
@pure
def _median(scores: DynArray[int256, MAX_SCORES]) -> int256:
    """
    @dev Insertion sort of a copy, then the element at len // 2.
    @param scores One to 16 scores (fixed point); reverts on an empty list.
    @return sorted(scores)[len(scores) // 2].
    """
    s: DynArray[int256, MAX_SCORES] = scores
    n: uint256 = len(s)
    for i: uint256 in range(1, MAX_SCORES):
        if i >= n:
            break
        x: int256 = s[i]
        j: uint256 = i
        for _: uint256 in range(MAX_SCORES):
            if j == 0:
                break
            y: int256 = s[j - 1]
            if y <= x:
                break
            s[j] = y
            j -= 1
        s[j] = x
    return s[n // 2]


@internal
@pure
def _distance(a: int256, b: int256) -> uint256:
    """
    @dev |a - b| for any two int256 values, without overflow: the difference of the
         two's complement bit patterns modulo 2**256 is exact because |a - b| < 2**256.
    @param a A score.
    @param b Another score.
    @return The absolute difference.
    """
    ua: uint256 = convert(convert(a, bytes32), uint256)
    ub: uint256 = convert(convert(b, bytes32), uint256)
    if a >= b:
        return unsafe_sub(ua, ub)
    return unsafe_sub(ub, ua)
