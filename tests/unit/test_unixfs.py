"""CIDs under IPIP-499 `unixfs-v1-2025`: known vectors, wire bytes, and a cross-check against helia's importer.

The cross-check runs tests/unit/cid_reference.mjs (npm ipfs-unixfs-importer, the helia/js-ipfs importer)
with Node; Node or the package missing is a failure, not a skip.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotFound
from proofwork.storage.unixfs import (
    CHUNK_SIZE,
    DAG_PB,
    MAX_LINKS,
    RAW,
    CidBuilder,
    cid_digest,
    cid_from_bytes,
    cid_from_digest,
    cid_of_bytes,
    cid_of_file,
    cid_of_stream,
    cid_to_bytes,
    decode_file_node,
    iter_blocks,
    iter_file,
    parse_cid,
    verify_stream,
)

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".tools" / "node_modules"
REFERENCE = Path(__file__).with_name("cid_reference.mjs")
# the Makefile's single npm install line installs every node tool the tests use (a partial
# `npm install --no-save` would remove the others)
NPM_INSTALL = "make .tools/node_modules/ipfs-unixfs-importer/package.json"
MiB = 1 << 20
HELLO = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
EMPTY = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def pattern(n: int) -> bytes:
    """n deterministic pseudo-random bytes."""
    return hashlib.shake_256(b"proofwork-unixfs").digest(n)


# Computed by ipfs-unixfs-importer 17.1.1 (`profile: 'unixfs-v1-2025'`, or the explicit chunk size and
# fan-out) on the same bytes; the cross-check below recomputes them.
PROFILE_VECTORS = [
    (b"", EMPTY),
    (b"hello world", HELLO),
    (pattern(1), "bafkreihfs2uolre52ifhtpimdj65defgorih2ejjpblun7gbyxtezwcbnq"),
    (pattern(MiB), "bafkreigdl7pmiqdmciztqpbjt7sejtw66xmflfa7zfw6xm2h2yy3yax3b4"),
    (pattern(MiB + 1), "bafybeiar4wrcvg7l6fjisrhgzrggfjmoszohaznkpof2tbrzhlts7pgt5q"),
    (pattern(5 * MiB + 123), "bafybeibdoclv3txorntyop4tmpu6hzqlsu6vchca5stx6ugfcclmdjw4em"),
    (bytes(3 * MiB), "bafybeigdsjup7aizxrrjn7yqtcmqg6ffksaugwr7is2ind3cf7esaqrz4m"),
]
SMALL_TREE_VECTORS = [  # (data, chunk size, max links, CID)
    (pattern(2000), 256, 4, "bafybeihyptdkawf6jquzmo7b7gdbk5qvn5znpufmktj5ipk3jsnpkplq2m"),
    (pattern(256 * 27 + 5), 256, 3, "bafybeifahprf5bhcaxzijbejiorrbscuxyn3lu2nba34visne2lfyxqyjy"),
    (pattern(256 * 64), 256, 4, "bafybeict5ujcgytyaonx7rjxi36rbetuhx7sovvm7nrciaapnnpdxcofga"),
    (pattern(256 * 65), 256, 4, "bafybeih2ccv3k73mzugcb6txdjj43rsudlfitiqwwazfw7sjplok7ezisq"),
    (pattern(1000), 1, 2, "bafybeicxcoz2yhfj2nmhiurbv2hqytnukvch2dh3dpthj6vajn3rpiajii"),
]
GIB_PLUS_ONE = "bafybeig74a23efczkf5pjimuyipi3zcirqlh2vzti5lcwfkepjy372u3be"


# ---------------------------------------------------------------- known vectors, no Node needed


@pytest.mark.parametrize(
    ("data", "cid"), PROFILE_VECTORS, ids=lambda v: str(len(v)) if isinstance(v, bytes) else ""
)
def test_profile_vectors(data: bytes, cid: str) -> None:
    assert cid_of_bytes(data) == cid
    assert cid_of_stream(io.BytesIO(data)) == cid


@pytest.mark.parametrize(("data", "chunk", "links", "cid"), SMALL_TREE_VECTORS)
def test_multi_level_vectors(data: bytes, chunk: int, links: int, cid: str) -> None:
    assert cid_of_bytes(data, chunk_size=chunk, max_links=links) == cid


def test_hello_world_is_the_raw_sha256_of_the_bytes() -> None:
    assert parse_cid(HELLO) == (1, RAW, hashlib.sha256(b"hello world").digest())
    assert cid_from_digest(hashlib.sha256(b"hello world").digest()) == HELLO
    assert cid_to_bytes(HELLO) == bytes.fromhex("01551220") + hashlib.sha256(b"hello world").digest()
    assert cid_from_bytes(cid_to_bytes(HELLO)) == HELLO
    assert cid_digest(HELLO) == hashlib.sha256(b"hello world").digest()


def test_one_chunk_is_a_raw_block_and_two_make_a_dag_pb_root() -> None:
    assert parse_cid(cid_of_bytes(pattern(CHUNK_SIZE))).codec == RAW
    assert parse_cid(cid_of_bytes(pattern(CHUNK_SIZE + 1))).codec == DAG_PB


def test_parent_node_bytes_are_canonical_dag_pb() -> None:
    """Two one-byte chunks: Links before Data, empty Name present, UnixFS File with filesize and blocksizes."""
    blocks = list(iter_blocks(io.BytesIO(b"ab"), chunk_size=1, max_links=2))
    assert [cid for cid, _ in blocks[:2]] == [cid_of_bytes(b"a"), cid_of_bytes(b"b")]
    root_cid, root = blocks[-1]
    link_a, link_b = (cid_to_bytes(cid_of_bytes(c)) for c in (b"a", b"b"))
    expected = (
        b"\x12\x2a" + b"\x0a\x24" + link_a + b"\x12\x00" + b"\x18\x01"
        b"\x12\x2a" + b"\x0a\x24" + link_b + b"\x12\x00" + b"\x18\x01"
        b"\x0a\x08" + b"\x08\x02" + b"\x18\x02" + b"\x20\x01" + b"\x20\x01"
    )
    assert root == expected
    assert root_cid == cid_from_digest(hashlib.sha256(expected).digest(), DAG_PB)
    node = decode_file_node(root)
    assert (node.filesize, node.blocksizes, [t for _, t in node.links]) == (2, [1, 1], [1, 1])


def test_iter_blocks_root_last_children_first_and_tsize_cumulative() -> None:
    data = pattern(256 * 17 + 3)  # 18 chunks, fan-out 4: 5 parents, 2 grandparents, 1 root
    blocks = list(iter_blocks(io.BytesIO(data), chunk_size=256, max_links=4))
    cids = [cid for cid, _ in blocks]
    assert cids[-1] == cid_of_bytes(data, chunk_size=256, max_links=4)
    assert sum(parse_cid(c).codec == RAW for c in cids) == 18
    assert sum(parse_cid(c).codec == DAG_PB for c in cids) == 5 + 2 + 1
    by_cid = dict(blocks)
    seen: set[str] = set()
    for cid, block in blocks:  # every link points to a block already yielded
        assert hashlib.sha256(block).digest() == parse_cid(cid).digest
        if parse_cid(cid).codec == DAG_PB:
            node = decode_file_node(block)
            assert {cid_from_bytes(b) for b, _ in node.links} <= seen
        seen.add(cid)

    def tsize(cid: str) -> int:
        block = by_cid[cid]
        if parse_cid(cid).codec == RAW:
            return len(block)
        return len(block) + sum(tsize(cid_from_bytes(b)) for b, _ in decode_file_node(block).links)

    root = decode_file_node(by_cid[cids[-1]])
    assert root.filesize == len(data)
    assert [t for _, t in root.links] == [tsize(cid_from_bytes(b)) for b, _ in root.links]


def test_cid_of_file_streams_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as out:
        for i in range(24):
            out.write(pattern(MiB)[:-1] + bytes([i]))
    tracemalloc.start()
    try:
        cid = cid_of_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB  # 24 MiB file, a chunk or two in memory at a time
    assert cid == cid_of_bytes(path.read_bytes())


def test_builder_accepts_any_split_of_the_input() -> None:
    data = pattern(5000)
    want = cid_of_bytes(data, chunk_size=300, max_links=3)
    for step in (1, 7, 299, 300, 301, 4999, 5000):
        builder = CidBuilder(300, 3)
        for i in range(0, len(data), step):
            builder.update(data[i : i + step])
        assert builder.finish() == want


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", "CIDv0"),
        ("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA", "base32"),
        ("BAFKREIFZJUT3TE2NHYEKKLSS27NH3K72YSCO7Y32KOAO5EEI66WOF36N5E", "base32"),
        ("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5", "base32"),
        ("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e1", "base32"),
        ("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n", "digest"),
        ("b" + "a" * 58, "version 0"),
        (cid_from_digest(bytes(32)).replace("bafk", "bagq", 1), "codec"),
        ("bafkrmifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e", "sha2-256"),
        ("b", "base32"),
    ],
)
def test_parse_cid_refuses_malformed(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_cid(text)


def test_parse_cid_accepts_surrounding_whitespace_and_both_codecs() -> None:
    assert parse_cid(f"  {HELLO}\n").codec == RAW
    dag = cid_from_digest(bytes(range(32)), DAG_PB)
    assert dag.startswith("bafybe") and parse_cid(dag) == (1, DAG_PB, bytes(range(32)))
    with pytest.raises(InvalidInput, match="32 bytes"):
        cid_from_digest(b"\x00" * 31)
    with pytest.raises(InvalidInput, match="codec"):
        cid_from_digest(bytes(32), 0x71)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(InvalidInput, match="chunk size"):
        cid_of_bytes(b"x", chunk_size=0)
    with pytest.raises(InvalidInput, match="at least 2 links"):
        cid_of_bytes(b"x", max_links=1)


def test_cid_of_file_missing_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        cid_of_file(tmp_path / "nope")
    with pytest.raises(InvalidInput, match="directory"):
        cid_of_file(tmp_path)


# ---------------------------------------------------------------- verified reading


def _blockstore(data: bytes, chunk: int = 256, links: int = 4) -> tuple[str, dict[str, bytes]]:
    blocks = dict(iter_blocks(io.BytesIO(data), chunk_size=chunk, max_links=links))
    return list(blocks)[-1], blocks


def _fetcher(blocks: dict[str, bytes]) -> Callable[[str], bytes]:
    def fetch(cid: str) -> bytes:
        if cid not in blocks:
            raise NotFound(f"no {cid}")
        return blocks[cid]

    return fetch


def test_iter_file_reassembles_a_deep_tree() -> None:
    data = pattern(256 * 70 + 9)  # 71 chunks, fan-out 4: four levels of parents
    root, blocks = _blockstore(data)
    assert b"".join(iter_file(root, _fetcher(blocks), chunk_size=256, max_links=4)) == data


def test_iter_file_detects_a_substituted_leaf_missing_block_and_oversize() -> None:
    data = pattern(256 * 9)
    root, blocks = _blockstore(data)
    leaf = next(c for c in blocks if parse_cid(c).codec == RAW)
    bad = dict(blocks, **{leaf: b"x" * 256})
    with pytest.raises(ArtifactCorrupted, match="does not match its content id"):
        b"".join(iter_file(root, _fetcher(bad), chunk_size=256, max_links=4))
    missing = {c: b for c, b in blocks.items() if c != leaf}
    with pytest.raises(ArtifactCorrupted, match="missing"):
        b"".join(iter_file(root, _fetcher(missing), chunk_size=256, max_links=4))
    with pytest.raises(InvalidInput, match="over the limit"):
        next(iter_file(root, _fetcher(blocks), max_bytes=1000, chunk_size=256, max_links=4))
    with pytest.raises(NotFound):
        next(iter_file(cid_of_bytes(b"unknown"), _fetcher(blocks)))


def test_iter_file_refuses_a_valid_dag_of_another_shape() -> None:
    """Same bytes chunked at 128 instead of 256: every block verifies, but it is not a profile DAG."""
    data = pattern(1000)
    root, blocks = _blockstore(data, chunk=128, links=4)
    with pytest.raises(ArtifactCorrupted, match="not a balanced unixfs-v1-2025 DAG"):
        b"".join(iter_file(root, _fetcher(blocks), chunk_size=256, max_links=4))


def test_iter_file_refuses_a_well_formed_dag_whose_cid_is_not_the_profile_cid() -> None:
    """A root whose first Tsize is off by one: sizes, depth and blocks all check, only the final CID does not."""
    data = pattern(256 * 3)
    root, blocks = _blockstore(data)
    link = cid_to_bytes(next(iter(blocks)))
    honest = b"\x0a\x24" + link + b"\x12\x00\x18\x80\x02"  # Tsize 256
    forged_root = blocks[root].replace(honest, b"\x0a\x24" + link + b"\x12\x00\x18\x81\x02", 1)
    assert forged_root != blocks[root]
    forged = cid_from_digest(hashlib.sha256(forged_root).digest(), DAG_PB)
    store = dict(blocks, **{forged: forged_root})
    with pytest.raises(ArtifactCorrupted, match="not the unixfs-v1-2025 DAG of its own content"):
        b"".join(iter_file(forged, _fetcher(store), chunk_size=256, max_links=4))


def test_verify_stream_checks_length_and_content() -> None:
    data = pattern(3000)
    cid = cid_of_bytes(data, chunk_size=256, max_links=4)
    opts = {"chunk_size": 256, "max_links": 4}
    assert b"".join(verify_stream(cid, [data[:10], data[10:]], 3000, **opts)) == data
    with pytest.raises(ArtifactCorrupted, match="truncated"):
        b"".join(verify_stream(cid, [data[:-1]], 3000, **opts))
    with pytest.raises(ArtifactCorrupted, match="more data"):
        b"".join(verify_stream(cid, [data, b"x"], 3000, **opts))
    with pytest.raises(ArtifactCorrupted, match="hash to"):
        b"".join(verify_stream(cid, [b"y" + data[1:]], 3000, **opts))


# ---------------------------------------------------------------- cross-check against helia's importer


def _require_reference() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "Node.js is needed for the CID cross-check (tests/unit/cid_reference.mjs): install node >= 20"
        )
    if (
        not (NODE_MODULES / "ipfs-unixfs-importer" / "package.json").exists()
        or not (NODE_MODULES / "blockstore-core" / "package.json").exists()
    ):
        pytest.fail(f"npm package ipfs-unixfs-importer missing from {NODE_MODULES}: run `{NPM_INSTALL}`")
    return node


def _reference_args(path: Path, chunk: int | None, links: int | None, blocks: bool) -> list[str]:
    node = _require_reference()
    params = ["profile"] if chunk is None else [str(chunk), str(links)]
    return [node, str(REFERENCE), str(NODE_MODULES), str(path), *params, *(["--blocks"] if blocks else [])]


def reference(
    path: Path, chunk: int | None = None, links: int | None = None, *, blocks: bool = False
) -> list[str]:
    done = subprocess.run(
        _reference_args(path, chunk, links, blocks), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"cid_reference.mjs failed: {done.stderr.strip()[-500:]}"
    return done.stdout.split()


@pytest.mark.parametrize(
    ("data", "cid"), PROFILE_VECTORS, ids=lambda v: str(len(v)) if isinstance(v, bytes) else ""
)
def test_reference_agrees_on_profile_vectors(tmp_path: Path, data: bytes, cid: str) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert reference(path) == [cid]
    assert cid_of_file(path) == cid


@pytest.mark.parametrize(
    ("size", "chunk", "links"),
    [
        (256 * 64 + 1, 256, 4),  # 65 chunks: 4 levels, last subtree a single leaf
        (256 * 4**3, 256, 4),  # exactly a full 3-level tree
        (256 * 40 + 77, 256, 3),  # 41 chunks, not a power of the fan-out: 4 levels
        (256 * 27, 256, 3),
        (999, 100, 2),
        (13 * 50, 13, 7),  # 50 chunks, fan-out 7
    ],
)
def test_reference_agrees_block_by_block(tmp_path: Path, size: int, chunk: int, links: int) -> None:
    data = pattern(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    theirs = reference(path, chunk, links, blocks=True)
    ours = [cid for cid, _ in iter_blocks(io.BytesIO(data), chunk_size=chunk, max_links=links)]
    assert theirs[-1] == ours[-1]  # the root
    assert set(theirs[:-1]) == set(ours)  # every block the importer wrote, ours too
    assert len({c for c in ours if parse_cid(c).codec == DAG_PB}) > 2


def write_gib_plus_one(path: Path) -> None:
    """1024 distinct 1 MiB chunks and one more byte (1 GiB + 1): a two-level tree under the real profile."""
    block = bytearray(hashlib.shake_256(b"proofwork-cid-1gib").digest(MiB))
    with path.open("wb") as out:
        for i in range(MAX_LINKS):
            block[:8] = i.to_bytes(8, "big")
            out.write(block)
        out.write(b"\x5a")


def test_reference_agrees_on_a_file_just_over_one_gib(tmp_path: Path) -> None:
    path = tmp_path / "gib.bin"
    args = _reference_args(path, None, None, False)
    started = time.monotonic()
    try:
        write_gib_plus_one(path)
        assert path.stat().st_size == 1024 * MiB + 1
        with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as node:
            ours = cid_of_file(path)  # while Node hashes the same file
            out, err = node.communicate(timeout=300)
        assert node.returncode == 0, f"cid_reference.mjs failed: {err.strip()[-500:]}"
    finally:
        path.unlink(missing_ok=True)  # 1 GiB: do not leave it to pytest's tmp retention
    assert out.split() == [GIB_PLUS_ONE]
    assert ours == GIB_PLUS_ONE
    assert time.monotonic() - started < 40
