"""A labeling round's payout tree: OpenZeppelin's StandardMerkleTree over `["address", "uint256"]`
values `(labeler, cumulative amount)`, as `LabelPayouts.claim` checks proofs.

Same conventions as murky-tree (the Python port of @openzeppelin/merkle-tree, which the tests check
this against): leaf = keccak256(keccak256(abi_encode(labeler, cumulative))), leaves sorted by hash and
laid out at the end of the node array in reverse, parents hash their sorted children. Written out here
because murky-tree's per-proof walk takes about 0.15 ms a leaf, too slow for 100,000 labelers a round;
hashing is safe-pysha3's keccak (a C backend of eth-hash)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sha3 import keccak_256

from proofwork.domain.errors import InvalidInput, NotFound


def keccak(data: bytes) -> bytes:
    """keccak256 through safe-pysha3's C code: about 1 µs a hash against 7 µs through eth-hash's
    pycryptodome backend."""
    return keccak_256(data).digest()  # type: ignore[no-any-return]


UINT256 = 2**256
_PAD = bytes(12)
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def payout_leaf(labeler: str, cumulative: int) -> bytes:
    """keccak256(keccak256(abi_encode(labeler, cumulative))), as the contract's `payout_leaf`."""
    if not isinstance(labeler, str) or not _ADDRESS.fullmatch(labeler):
        raise InvalidInput(f"invalid labeler {labeler!r} in a payout tree: expected an address")
    if isinstance(cumulative, bool) or not isinstance(cumulative, int) or not 0 <= cumulative < UINT256:
        raise InvalidInput(f"invalid amount {cumulative!r} of {labeler} in a payout tree: expected a uint256")
    return keccak(keccak(_PAD + bytes.fromhex(labeler[2:]) + cumulative.to_bytes(32, "big")))


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b if a < b else b + a)


class PayoutsTree:
    """Every labeler's cumulative amount in one round, as the committee signs its root and total."""

    def __init__(self, amounts: Iterable[tuple[str, int]]) -> None:
        self.amounts: dict[str, int] = {}  # by lower-case address
        leaves: list[tuple[bytes, str]] = []
        for labeler, cumulative in amounts:
            leaf = payout_leaf(labeler, cumulative)
            key = labeler.lower()
            if key in self.amounts:
                raise InvalidInput(f"labeler {key} appears twice in a payout tree")
            self.amounts[key] = cumulative
            leaves.append((leaf, key))
        if not leaves:
            raise InvalidInput("a payout tree needs at least one labeler")
        leaves.sort()
        n = len(leaves)
        nodes: list[bytes] = [b""] * (2 * n - 1)
        self._position: dict[str, int] = {}
        for i, (leaf, key) in enumerate(leaves):
            nodes[2 * n - 2 - i] = leaf
            self._position[key] = 2 * n - 2 - i
        for j in range(n - 2, -1, -1):
            nodes[j] = _pair(nodes[2 * j + 1], nodes[2 * j + 2])
        self._nodes = nodes
        self.total = sum(self.amounts.values())

    @property
    def root(self) -> bytes:
        return self._nodes[0]

    def proof(self, labeler: str) -> list[bytes]:
        """The sibling hashes from `labeler`'s leaf to the root (what `claim` takes)."""
        key = labeler.lower() if isinstance(labeler, str) else labeler
        if key not in self._position:
            raise NotFound(f"labeler {labeler} is not in the payout tree")
        j, proof = self._position[key], []
        while j > 0:
            proof.append(self._nodes[j + 1 if j % 2 else j - 1])
            j = (j - 1) // 2
        return proof

    def __len__(self) -> int:
        return len(self.amounts)
