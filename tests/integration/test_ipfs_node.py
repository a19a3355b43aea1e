"""KuboStore against a real IPFS node: js-ipfs 0.66 (npm package `ipfs`), which serves the kubo RPC API,
started offline on 127.0.0.1 by the `ipfs_node` fixture (tests/conftest.py).

Every CID the node gives must equal the one proofwork computes (unixfs-v1-2025: CIDv1, raw leaves,
1 MiB chunks, 1024 links per node, balanced layout). js-ipfs honours every profile parameter but
`max-file-links`: its importer links 174 children per node whatever it is asked. Files of up to 174 MiB
make the same DAG either way; trees of several levels are checked here with small chunks and 174 links,
and a profile the node does not build is refused (KuboStore compares its CID with ours on every add).
kubo answers a missing block with an error when offline; js-ipfs waits for the network like an online
kubo does, so a lookup is bounded by its `timeout` (lookup_timeout).
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from proofwork.domain.errors import ArtifactCorrupted, InvalidInput
from proofwork.storage.kubo import KuboStore
from proofwork.storage.store import StoreUnavailable
from proofwork.storage.unixfs import (
    CHUNK_SIZE,
    DAG_PB,
    RAW,
    cid_of_bytes,
    iter_blocks,
    parse_cid,
)
from tests.conftest import IpfsNode

MIB = 1 << 20
LOOKUP = 1.0  # seconds the node may look for a block it does not have
HELLO = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"  # b"hello world", as kubo gives it
EMPTY = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
JSIPFS_LINKS = 174  # js-ipfs's fixed fan-out


def pattern(n: int, seed: bytes = b"ipfs") -> bytes:
    return hashlib.shake_256(seed).digest(n)


@pytest.fixture
def store(ipfs_node: IpfsNode) -> Iterator[KuboStore]:
    with KuboStore(ipfs_node.url, timeout=30, lookup_timeout=LOOKUP) as kubo:
        yield kubo


def _on_node(store: KuboStore, cids: list[str]) -> list[bool]:
    return [store.has(cid) for cid in cids]


def test_the_node_is_a_local_kubo_rpc_api(ipfs_node: IpfsNode) -> None:
    answer = httpx.post(f"{ipfs_node.url}/api/v0/version", timeout=10, trust_env=False).json()
    assert answer["Version"] == "0.18.1"  # ipfs-core 0.18.1, in the npm package ipfs 0.66.1
    peers = httpx.post(f"{ipfs_node.url}/api/v0/swarm/peers", timeout=10, trust_env=False).json()
    assert not peers.get("Peers")  # offline: no bootstrap peers, nothing dialled


@pytest.mark.parametrize(
    ("data", "known"),
    [(b"hello world", HELLO), (b"", EMPTY), (pattern(MIB), None)],
    ids=["hello", "empty", "one-chunk"],
)
def test_a_file_of_one_chunk_is_one_raw_block(
    store: KuboStore, tmp_path: Path, data: bytes, known: str | None
) -> None:
    cid = store.add_bytes(data)
    assert cid == cid_of_bytes(data) and parse_cid(cid).codec == RAW
    if known is not None:
        assert cid == known
    assert store.has(cid) and store.size(cid) == len(data)
    assert store.read_bytes(cid, len(data)) == data
    assert store.get(cid, tmp_path / "out").read_bytes() == data
    assert store.find_by_digest(parse_cid(cid).digest) == cid


def test_a_large_file_is_the_profile_dag_block_for_block(store: KuboStore, tmp_path: Path) -> None:
    data = pattern(5 * MIB + 3)
    src = tmp_path / "model.onnx"
    src.write_bytes(data)
    cid = store.add_file(src)
    ours = list(iter_blocks(io.BytesIO(data)))
    assert cid == ours[-1][0] == cid_of_bytes(data) and parse_cid(cid).codec == DAG_PB
    assert len(ours) == 7  # six 1 MiB raw leaves (the last one 3 bytes) and the root
    assert all(_on_node(store, [c for c, _ in ours]))  # the node holds exactly the blocks we computed
    assert store.size(cid) == len(data)
    out = store.get(cid, tmp_path / "out.bin")
    assert out.read_bytes() == data
    assert store.read_bytes(cid, len(data)) == data
    with pytest.raises(InvalidInput, match="over the limit"):
        store.read_bytes(cid, len(data) - 1)
    started = time.monotonic()
    assert store.find_by_digest(parse_cid(cid).digest) == cid  # raw looked up first: bounded, then dag-pb
    assert time.monotonic() - started < LOOKUP + 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "out.bin"]  # nothing else left


def test_a_tree_of_several_levels_matches(ipfs_node: IpfsNode, tmp_path: Path) -> None:
    chunk = 256
    data = pattern(chunk * (JSIPFS_LINKS * 3 + 7), b"levels")  # 529 leaves under 4 parents under the root
    with KuboStore(
        ipfs_node.url, timeout=60, lookup_timeout=LOOKUP, chunk_size=chunk, max_links=JSIPFS_LINKS
    ) as store:
        cid = store.add_bytes(data)
        ours = list(iter_blocks(io.BytesIO(data), chunk_size=chunk, max_links=JSIPFS_LINKS))
        assert cid == ours[-1][0]
        parents = [c for c, _ in ours if parse_cid(c).codec == DAG_PB]
        assert len(parents) == 5
        leaves = [c for c, _ in ours if parse_cid(c).codec == RAW]
        assert all(_on_node(store, [*parents, leaves[0], leaves[-1]]))
        assert store.size(cid) == len(data)
        assert store.get(cid, tmp_path / "out").read_bytes() == data


def test_a_node_that_does_not_build_the_profile_dag_is_refused(ipfs_node: IpfsNode) -> None:
    """Asked for 4 links per node, js-ipfs links 174: its CID is not ours, and the add is refused."""
    with KuboStore(ipfs_node.url, timeout=30, lookup_timeout=LOOKUP, chunk_size=256, max_links=4) as store:
        data = pattern(256 * 10, b"fan-out")
        with pytest.raises(ArtifactCorrupted, match="does the node honour") as caught:
            store.add_bytes(data)
        assert "\n" not in str(caught.value)
        assert cid_of_bytes(data, chunk_size=256, max_links=4) in str(caught.value)


def test_content_the_node_does_not_have(store: KuboStore, ipfs_node: IpfsNode, tmp_path: Path) -> None:
    absent = cid_of_bytes(b"never added anywhere")
    started = time.monotonic()
    assert not store.has(absent)
    assert store.find_by_digest(hashlib.sha256(b"never added either").digest()) is None
    assert time.monotonic() - started < 3 * LOOKUP + 10  # three bounded lookups, not a hang
    # an unbounded read waits for the network like kubo online does: the client's timeout ends it
    with (
        KuboStore(ipfs_node.url, timeout=2) as impatient,
        pytest.raises(StoreUnavailable, match="did not answer block/get within 2 s"),
    ):
        impatient.get(absent, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def _add_directly(node: IpfsNode, data: bytes, **params: str) -> str:
    """Adds through the node's own API, with its own defaults unless told: content another client put there."""
    answer = httpx.post(
        f"{node.url}/api/v0/add",
        params={"pin": "true", **params},
        files={"file": ("f", data)},
        timeout=30,
        trust_env=False,
    )
    answer.raise_for_status()
    return str(answer.json()["Hash"])


def test_content_added_outside_the_profile_is_refused(
    store: KuboStore, ipfs_node: IpfsNode, tmp_path: Path
) -> None:
    data = pattern(600_000, b"other client")
    v0 = _add_directly(ipfs_node, data)  # the node's defaults: CIDv0, 256 KiB chunks
    assert v0.startswith("Qm")
    with pytest.raises(InvalidInput, match="CIDv0"):
        store.get(v0, tmp_path / "out")
    # CIDv1 and raw leaves, but 256 KiB chunks: a valid UnixFS file that is not unixfs-v1-2025
    other = _add_directly(ipfs_node, data, **{"cid-version": "1", "raw-leaves": "true", "cid-base": "base32"})
    assert parse_cid(other).codec == DAG_PB and other != cid_of_bytes(data)
    assert store.size(other) == len(data)  # the root block itself is sound
    with pytest.raises(ArtifactCorrupted) as caught:
        store.get(other, tmp_path / "out")
    assert "\n" not in str(caught.value)
    with pytest.raises(ArtifactCorrupted):
        store.read_bytes(other, len(data))
    assert list(tmp_path.iterdir()) == []  # nothing unverified was written
    # the same bytes added under the profile are served
    assert store.read_bytes(store.add_bytes(data), len(data)) == data


def test_concurrent_adds_of_the_same_file(ipfs_node: IpfsNode, tmp_path: Path) -> None:
    data = pattern(2 * MIB + 17, b"concurrent")
    src = tmp_path / "weights.bin"
    src.write_bytes(data)

    def add(_: int) -> str:
        with KuboStore(ipfs_node.url, timeout=60, lookup_timeout=LOOKUP) as store:
            return store.add_file(src)

    with ThreadPoolExecutor(max_workers=4) as pool:
        cids = set(pool.map(add, range(4)))
    assert cids == {cid_of_bytes(data)}
    with KuboStore(ipfs_node.url, timeout=30) as store:
        assert store.read_bytes(cids.pop(), len(data)) == data


def test_the_default_profile_is_what_the_node_is_asked_for(store: KuboStore) -> None:
    assert (store.chunk_size, store.max_links) == (CHUNK_SIZE, 1024)
