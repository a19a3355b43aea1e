"""A competition's scores tree: OpenZeppelin's StandardMerkleTree over `["uint256", "int256"]`
values `(entry, score)`, one per revealed entry, as `Competition.verify_score` checks proofs.

Pure hashing (murky-tree, a Python port of @openzeppelin/merkle-tree; eth_abi and keccak, no web3):
leaf = keccak256(keccak256(abi_encode(entry, score))), leaves sorted by hash, parents hash their
sorted children; the root is 32 zero bytes when nothing was revealed (the contract's convention).
`winners_hash` is the other value the committee signs with the root."""

from __future__ import annotations

from collections.abc import Iterable

from eth_abi import encode as abi_encode
from murky_tree import StandardMerkleTree
from murky_tree.standard import standard_leaf_hash

from proofwork.chain.encoding import keccak
from proofwork.domain.errors import InvalidInput, NotFound

LEAF_TYPES = ["uint256", "int256"]
EMPTY_ROOT = bytes(32)
INT256 = (-(2**255), 2**255)


def _checked(entry: object, score: object) -> tuple[int, int]:
    if isinstance(entry, bool) or not isinstance(entry, int) or not 0 <= entry < 2**256:
        raise InvalidInput(f"invalid entry {entry!r} in a scores tree: expected a uint256")
    if isinstance(score, bool) or not isinstance(score, int) or not INT256[0] <= score < INT256[1]:
        raise InvalidInput(f"invalid score {score!r} of entry {entry} in a scores tree: expected an int256")
    return entry, score


class ScoresTree:
    """Every revealed entry's private score, as the committee signs its root."""

    def __init__(self, scores: Iterable[tuple[int, int]]) -> None:
        pairs = [_checked(entry, score) for entry, score in scores]
        self.scores: dict[int, int] = {}
        for entry, score in pairs:
            if entry in self.scores:
                raise InvalidInput(f"entry {entry} appears twice in a scores tree")
            self.scores[entry] = score
        self._index = {entry: i for i, (entry, _) in enumerate(pairs)}
        self._tree = StandardMerkleTree.of([list(p) for p in pairs], LEAF_TYPES) if pairs else None

    @property
    def root(self) -> bytes:
        return EMPTY_ROOT if self._tree is None else bytes(self._tree.tree[0])

    def proof(self, entry: int) -> list[bytes]:
        """The sibling hashes from `entry`'s leaf to the root (what `verify_score` takes)."""
        if self._tree is None or entry not in self._index:
            raise NotFound(f"entry {entry} is not in the scores tree")
        return [bytes.fromhex(node.removeprefix("0x")) for node in self._tree.get_proof(self._index[entry])]

    def __len__(self) -> int:
        return len(self.scores)


def score_leaf(entry: int, score: int) -> bytes:
    """The leaf of (entry, score), as the contract's `score_leaf` computes it."""
    entry, score = _checked(entry, score)
    return bytes(standard_leaf_hash([entry, score], LEAF_TYPES))


def verify_score(root: bytes, entry: int, score: int, proof: list[bytes]) -> bool:
    """Whether `proof` shows `entry` scored `score` in the tree of `root` (never true for the
    empty root, like the contract)."""
    if not isinstance(root, bytes) or len(root) != 32 or root == EMPTY_ROOT:
        return False
    if any(not isinstance(p, bytes) or len(p) != 32 for p in proof):
        return False
    try:
        entry, score = _checked(entry, score)
    except InvalidInput:
        return False
    return bool(
        StandardMerkleTree.verify(
            "0x" + root.hex(), LEAF_TYPES, [entry, score], ["0x" + p.hex() for p in proof]
        )
    )


def winners_hash(winners: list[tuple[int, int]]) -> bytes:
    """keccak256(abi_encode(Score[] winners)): the `winnersHash` of `FinalScores`."""
    return keccak(abi_encode(["(uint256,int256)[]"], [[_checked(e, s) for e, s in winners]]))
