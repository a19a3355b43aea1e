# pragma version ~=0.4.3
"""
@title sortition
@custom:contract-name sortition
@license GNU Affero General Public License v3.0 only
@notice Stake-weighted sortition over a Fenwick (binary indexed) sum tree: one storage
        slot read per level when drawing, O(log n) slots written per stake change.
@dev Leaves are numbered from 1; node i holds the sum of leaves (i - lowbit(i), i]. The
     tree is sized to `_cap`, the smallest power of two >= the number of leaves, so node
     `_cap` is the total and a draw reads log2(_cap) nodes: the cost grows with the
     number of stakers, not with a fixed capacity. A leaf is never freed (a juror keeps
     its leaf for life).
"""

# @dev Fenwick nodes by index (1-based).
_nodes: HashMap[uint256, uint256]
# @dev Number of leaves ever allocated.
leaf_count: public(uint256)
# @dev Smallest power of two >= leaf_count (at least 1): the root node's index.
_cap: uint256

# @dev Upper bound on the tree's depth (2**40 leaves) for bounded loops.
MAX_DEPTH: constant(uint256) = 41


@deploy
def __init__():
    """
    @notice Starts an empty tree (capacity one leaf).
    """
    self._cap = 1


@internal
def _add_leaf() -> uint256:
    """
    @dev Allocates the next leaf (weight 0); doubles the capacity when full, the new
         root then holding the old total.
    @return The new leaf's index.
    """
    n: uint256 = self.leaf_count + 1
    cap: uint256 = self._cap
    if n > cap:
        self._nodes[2 * cap] = self._nodes[cap]
        self._cap = 2 * cap
    self.leaf_count = n
    return n


@internal
def _update(leaf: uint256, delta: uint256, add: bool):
    """
    @dev Adds (or subtracts) `delta` to a leaf's weight.
    @param leaf The leaf (1-based).
    @param delta The amount.
    @param add True to add, False to subtract.
    """
    cap: uint256 = self._cap
    i: uint256 = leaf
    for _: uint256 in range(MAX_DEPTH):
        if i > cap:
            break
        if add:
            self._nodes[i] += delta
        else:
            self._nodes[i] -= delta
        i += i & (~i + 1)


@internal
@view
def _total() -> uint256:
    """
    @dev The sum of all weights.
    @return The total weight.
    """
    return self._nodes[self._cap]


@internal
@view
def _find(target: uint256) -> uint256:
    """
    @dev The leaf whose cumulative range holds `target` (target < total).
    @param target A number below the total weight.
    @return The leaf index (1-based).
    """
    pos: uint256 = 0
    rest: uint256 = target
    step: uint256 = self._cap >> 1
    for _: uint256 in range(MAX_DEPTH):
        if step == 0:
            break
        node: uint256 = self._nodes[pos + step]
        if node <= rest:
            rest -= node
            pos += step
        step >>= 1
    return pos + 1
