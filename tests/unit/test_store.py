"""Content stores: LocalStore on disk; KuboStore against what a real node does not do.

KuboStore's work with a real node (add, get, size, has, find_by_digest, CIDs equal to ours) is tested
against js-ipfs in tests/integration/test_ipfs_node.py. `FakeKubo` here serves the few RPC endpoints
KuboStore uses (`add`, `block/get`, `cat`) from a LocalStore, with kubo's error shapes, for what a real
node cannot be made to do: wrong or truncated blocks and contents, garbage answers, another server on the
port, and the answers of kubo itself where js-ipfs differs (the parameters of `add`, "not found" offline).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotFound, ProofworkError
from proofwork.storage.kubo import KuboStore
from proofwork.storage.store import ContentStore, LocalStore, StoreUnavailable, open_store, write_atomically
from proofwork.storage.unixfs import (
    DAG_PB,
    RAW,
    cid_from_digest,
    cid_of_bytes,
    cid_to_bytes,
    iter_blocks,
    parse_cid,
)

CHUNK, LINKS = 256, 4  # small profile parameters: multi-level trees from a few KiB
HELLO = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


def pattern(n: int, seed: bytes = b"store") -> bytes:
    return hashlib.shake_256(seed).digest(n)


def small_store(root: Path) -> LocalStore:
    return LocalStore(root, chunk_size=CHUNK, max_links=LINKS, durable=False)


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# ---------------------------------------------------------------- LocalStore


def test_local_round_trip_multi_level(tmp_path: Path) -> None:
    store = small_store(tmp_path / "store")
    data = pattern(CHUNK * 70 + 11)  # 71 chunks: 4 levels of parents
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    cid = store.add_file(src)
    assert cid == cid_of_bytes(data, chunk_size=CHUNK, max_links=LINKS)
    assert parse_cid(cid).codec == DAG_PB
    assert store.has(cid) and store.size(cid) == len(data)
    out = store.get(cid, tmp_path / "out.bin")
    assert out.read_bytes() == data
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary new file, not mkstemp's 0600
    assert store.read_bytes(cid, max_bytes=len(data)) == data
    assert listing(tmp_path) == ["out.bin", "src.bin", "store"]  # no temporary file left
    blocks = list((tmp_path / "store" / "blocks").rglob("*"))
    assert sum(p.is_file() for p in blocks) == 71 + 18 + 5 + 2 + 1  # 71 distinct leaves + parents + root


def test_local_default_profile_matches_ipfs(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    assert store.add_bytes(b"hello world") == HELLO
    assert store.add_bytes(b"") == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    big = pattern((1 << 20) * 2 + 5)
    cid = store.add_bytes(big)
    assert cid == cid_of_bytes(big)
    assert store.read_bytes(cid, len(big)) == big
    assert store.read_bytes(HELLO, 11) == b"hello world"
    assert (
        store.get("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", tmp_path / "e").read_bytes()
        == b""
    )


def test_local_unknown_and_malformed_cids(tmp_path: Path) -> None:
    store = small_store(tmp_path / "s")
    assert not store.has(HELLO)
    with pytest.raises(NotFound, match=HELLO):
        store.get(HELLO, tmp_path / "out")
    with pytest.raises(NotFound):
        store.size(HELLO)
    with pytest.raises(InvalidInput, match="invalid CID"):
        store.has("not-a-cid")
    with pytest.raises(InvalidInput, match="CIDv0"):
        store.get("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", tmp_path / "out")
    assert listing(tmp_path) == []  # the missing root left nothing behind
    with pytest.raises(InvalidInput, match="no such file"):
        store.add_file(tmp_path / "missing.bin")


def test_local_read_bytes_refuses_before_reading(tmp_path: Path) -> None:
    store = small_store(tmp_path / "s")
    data = pattern(CHUNK * 10)
    cid = store.add_bytes(data)
    for leaf in (tmp_path / "s" / "blocks").rglob("bafk*"):
        leaf.unlink()  # had it read any leaf, this would be ArtifactCorrupted, not InvalidInput
    with pytest.raises(InvalidInput, match="2,560 bytes, over the limit of 2,559"):
        store.read_bytes(cid, max_bytes=len(data) - 1)
    with pytest.raises(InvalidInput, match="over the limit"):
        store.get(cid, tmp_path / "out", max_bytes=100)
    assert not (tmp_path / "out").exists()


def _corrupt(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("victim", ["leaf", "last leaf", "parent", "root"])
def test_local_corrupted_block_detected_and_no_partial_output(tmp_path: Path, victim: str) -> None:
    store = small_store(tmp_path / "s")
    data = pattern(CHUNK * 21 + 7)
    blocks = list(iter_blocks(io.BytesIO(data), chunk_size=CHUNK, max_links=LINKS))
    cid = store.add_bytes(data)
    leaves = [c for c, _ in blocks if parse_cid(c).codec == RAW]
    parents = [c for c, _ in blocks if parse_cid(c).codec == DAG_PB]
    target = {"leaf": leaves[3], "last leaf": leaves[-1], "parent": parents[1], "root": cid}[victim]
    _corrupt(tmp_path / "s" / "blocks" / target[-2:] / target)
    out = tmp_path / "out" / "model.onnx"
    out.parent.mkdir()
    out.write_bytes(b"previous version")
    with pytest.raises(ArtifactCorrupted, match=f"block {target} does not match its content id"):
        store.get(cid, out)
    assert out.read_bytes() == b"previous version"  # untouched
    assert listing(out.parent) == ["model.onnx"]  # no temporary file left
    with pytest.raises(ArtifactCorrupted):
        store.read_bytes(cid, 1 << 20)
    assert store.add_bytes(data) == cid  # adding again repairs the damaged block
    assert store.get(cid, out).read_bytes() == data


def test_local_missing_inner_block_is_corruption_not_absence(tmp_path: Path) -> None:
    store = small_store(tmp_path / "s")
    data = pattern(CHUNK * 9)
    cid = store.add_bytes(data)
    leaf = next(c for c, _ in iter_blocks(io.BytesIO(data), chunk_size=CHUNK, max_links=LINKS))
    (tmp_path / "s" / "blocks" / leaf[-2:] / leaf).unlink()
    with pytest.raises(ArtifactCorrupted, match="missing: the DAG is incomplete"):
        store.get(cid, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_local_substituted_block_file_is_refused(tmp_path: Path) -> None:
    """A block file replaced by another valid block (a rename attack on disk) is caught by its hash."""
    store = small_store(tmp_path / "s")
    cid = store.add_bytes(b"the real model")
    other = store.add_bytes(b"a malicious model")
    (tmp_path / "s" / "blocks" / cid[-2:] / cid).write_bytes(b"a malicious model")
    with pytest.raises(ArtifactCorrupted):
        store.read_bytes(cid, 100)
    assert store.read_bytes(other, 100) == b"a malicious model"


def test_local_concurrent_adds_of_the_same_content(tmp_path: Path) -> None:
    data = pattern(CHUNK * 40 + 3)
    src = tmp_path / "src.bin"
    src.write_bytes(data)

    def add(_: int) -> str:
        return small_store(tmp_path / "s").add_file(src)

    with ThreadPoolExecutor(max_workers=8) as pool:
        cids = set(pool.map(add, range(16)))
    assert cids == {cid_of_bytes(data, chunk_size=CHUNK, max_links=LINKS)}
    store = small_store(tmp_path / "s")
    assert store.read_bytes(cids.pop(), len(data)) == data
    assert not [p for p in (tmp_path / "s").rglob("*.part")]


def test_local_find_by_digest(tmp_path: Path) -> None:
    store = small_store(tmp_path / "s")
    small = store.add_bytes(b"small")
    big = store.add_bytes(pattern(CHUNK * 3))
    assert parse_cid(small).codec == RAW and parse_cid(big).codec == DAG_PB
    assert store.find_by_digest(parse_cid(small).digest) == small
    assert store.find_by_digest(parse_cid(big).digest) == big
    assert store.find_by_digest(hashlib.sha256(b"absent").digest()) is None
    with pytest.raises(InvalidInput, match="32 bytes"):
        store.find_by_digest(b"\x00" * 20)


def test_local_refuses_a_dag_pb_root_over_one_chunk_of_data(tmp_path: Path) -> None:
    """A hand-made dag-pb node wrapping a single small leaf verifies block by block but is not the profile."""
    store = small_store(tmp_path / "s")
    leaf = store.add_bytes(b"tiny")
    node = (
        b"\x12\x2a\x0a\x24" + cid_to_bytes(leaf) + b"\x12\x00\x18\x04" + b"\x0a\x06\x08\x02\x18\x04\x20\x04"
    )
    wrapper = cid_from_digest(hashlib.sha256(node).digest(), DAG_PB)
    store._put(wrapper, node)
    assert store.size(wrapper) == 4
    with pytest.raises(ArtifactCorrupted, match="not a unixfs-v1-2025 file"):
        store.get(wrapper, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_write_atomically_refuses_bad_targets(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        write_atomically(tmp_path / "no" / "such" / "dir.bin", [b"x"])
    with pytest.raises(InvalidInput, match="is a directory"):
        write_atomically(tmp_path, [b"x"])

    def boom() -> Iterator[bytes]:
        yield b"partial"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(tmp_path / "f", boom())
    assert listing(tmp_path) == []


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    local = open_store(tmp_path / "s")
    assert isinstance(local, LocalStore) and isinstance(local, ContentStore)
    kubo = open_store("http://127.0.0.1:5001/api/v0/")
    assert isinstance(kubo, KuboStore) and kubo.url == "http://127.0.0.1:5001"
    assert isinstance(kubo, ContentStore)
    kubo.close()
    with pytest.raises(InvalidInput, match="empty store location"):
        open_store(" ")


# ---------------------------------------------------------------- KuboStore against a stand-in


class FakeKubo(BaseHTTPRequestHandler):
    """kubo's RPC API as KuboStore uses it, over a LocalStore; `mode` selects a misbehaviour."""

    store: LocalStore
    mode = "honest"
    calls: list[tuple[str, dict[str, str]]]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, message: str) -> None:
        self._reply(500, json.dumps({"Message": message, "Code": 0, "Type": "error"}).encode())

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while size := int(self.rfile.readline().split(b";")[0], 16):
                out += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return bytes(out)
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_POST(self) -> None:
        url = urlparse(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        command = url.path.removeprefix("/api/v0/")
        type(self).calls.append((command, params))
        body = self._body()
        if self.mode == "garbage":
            return self._reply(200, b"<html>I am a teapot</html>", "text/html")
        if self.mode == "not kubo" or not url.path.startswith("/api/v0/"):
            return self._reply(404, b"404 page not found", "text/plain")
        try:
            if command == "add":
                return self._add(params, body)
            if command == "block/get":
                return self._block_get(params["arg"])
            if command == "cat":
                return self._cat(params["arg"])
        except NotFound:
            return self._error(f"block was not found locally (offline): ipld: could not find {params['arg']}")
        return self._reply(404, b"404 page not found", "text/plain")

    def _add(self, params: dict[str, str], body: bytes) -> None:
        profile = {"cid-version": "1", "raw-leaves": "true", "hash": "sha2-256", "trickle": "false"}
        if any(params.get(k) != v for k, v in profile.items()):
            return self._error(f"stand-in: add without the profile parameters: {params}")
        chunk = int(params["chunker"].removeprefix("size-"))
        links = int(params["max-file-links"])
        boundary = self.headers["Content-Type"].split("boundary=")[1].encode()
        part = body.split(b"--" + boundary)[1]
        content = part[part.index(b"\r\n\r\n") + 4 : -2]
        store = LocalStore(self.store.root, chunk_size=chunk, max_links=links, durable=False)
        cid = store.add_bytes(content)
        if self.mode == "wrong cid":
            cid = cid_of_bytes(content + b"!", chunk_size=chunk, max_links=links)
        line = {"Name": "f", "Hash": cid, "Size": str(len(content))}
        return self._reply(200, json.dumps(line).encode() + b"\n")

    def _block_get(self, cid: str) -> None:
        # like kubo and js-ipfs, blocks are found by multihash, whatever codec the CID names
        digest = parse_cid(cid).digest
        stored = [
            c for c in (cid_from_digest(digest, RAW), cid_from_digest(digest, DAG_PB)) if self.store.has(c)
        ]
        if not stored:
            raise NotFound(cid)
        block = self.store._fetch(stored[0])
        if self.mode == "wrong block":
            block = block[:-1] + bytes([block[-1] ^ 1])
        return self._reply(200, block, "text/plain")

    def _cat(self, cid: str) -> None:
        data = self.store.read_bytes(cid, 1 << 30)
        if self.mode == "wrong cat":
            data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
        elif self.mode == "short cat":
            data = data[:-1]
        elif self.mode == "long cat":
            data = data + b"and more"
        return self._reply(200, data, "text/plain")


@pytest.fixture
def kubo(tmp_path: Path) -> Iterator[tuple[KuboStore, type[FakeKubo]]]:
    handler = type("Node", (FakeKubo,), {"store": small_store(tmp_path / "node"), "calls": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    store = KuboStore(f"http://127.0.0.1:{server.server_port}", timeout=10, chunk_size=CHUNK, max_links=LINKS)
    try:
        yield store, handler
    finally:
        store.close()
        server.shutdown()
        server.server_close()


def test_kubo_add_asks_the_node_for_the_profile(
    tmp_path: Path, kubo: tuple[KuboStore, type[FakeKubo]]
) -> None:
    """What `add` asks for, including max-file-links, which js-ipfs (the real node of the integration
    tests) ignores; kubo honours it, and KuboStore refuses a CID that is not ours either way."""
    store, node = kubo
    data = pattern(CHUNK * 30 + 1)
    src = tmp_path / "model.onnx"
    src.write_bytes(data)
    assert store.add_file(src) == cid_of_bytes(data, chunk_size=CHUNK, max_links=LINKS)
    [(command, params)] = node.calls
    assert command == "add"
    assert params == {
        "cid-version": "1",
        "raw-leaves": "true",
        "chunker": f"size-{CHUNK}",
        "max-file-links": str(LINKS),
        "hash": "sha2-256",
        "trickle": "false",
        "inline": "false",
        "pin": "true",
        "quieter": "true",
        "progress": "false",
        "cid-base": "base32",
    }


def test_kubo_not_found_answers(tmp_path: Path, kubo: tuple[KuboStore, type[FakeKubo]]) -> None:
    """An offline kubo answers a missing block at once with "not found": absent, not unavailable."""
    store, _ = kubo
    absent = cid_of_bytes(b"absent")
    assert not store.has(absent)
    assert store.find_by_digest(parse_cid(absent).digest) is None
    with pytest.raises(NotFound, match="does not have"):
        store.get(absent, tmp_path / "absent")
    with pytest.raises(NotFound):
        store.size(absent)
    assert listing(tmp_path) == []


def test_kubo_find_by_digest_on_a_node_keyed_by_multihash(kubo: tuple[KuboStore, type[FakeKubo]]) -> None:
    """A node finds a dag-pb root under its raw CID too (same multihash): the block tells which it is."""
    store, _ = kubo
    big = store.add_bytes(pattern(CHUNK * 3))
    small = store.add_bytes(b"small")
    assert parse_cid(big).codec == DAG_PB and parse_cid(small).codec == RAW
    assert store.find_by_digest(parse_cid(big).digest) == big
    assert store.find_by_digest(parse_cid(small).digest) == small
    # a small file whose bytes are the dag-pb root of a file of one chunk or less (not the profile's)
    tiny = next(
        b for c, b in iter_blocks(io.BytesIO(pattern(10)), chunk_size=4, max_links=LINKS) if c[:4] == "bafy"
    )
    assert store.find_by_digest(parse_cid(store.add_bytes(tiny)).digest) == cid_of_bytes(tiny)
    with pytest.raises(InvalidInput, match="32 bytes"):
        store.find_by_digest(b"\x00" * 20)


def test_kubo_defaults_are_the_profile() -> None:
    store = KuboStore("http://127.0.0.1:1")
    assert (store.chunk_size, store.max_links) == (1 << 20, 1024)
    store.close()


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        ("wrong block", ArtifactCorrupted, "returned a block that does not match"),
        ("wrong cat", ArtifactCorrupted, "hash to"),
        ("short cat", ArtifactCorrupted, "truncated"),
        ("long cat", ArtifactCorrupted, "more than"),
        ("garbage", ArtifactCorrupted, "returned a block that does not match"),
        ("not kubo", StoreUnavailable, "does not answer the kubo RPC API"),
    ],
)
def test_kubo_misbehaving_node_on_read(
    tmp_path: Path,
    kubo: tuple[KuboStore, type[FakeKubo]],
    mode: str,
    error: type[ProofworkError],
    message: str,
) -> None:
    store, node = kubo
    data = pattern(CHUNK * 12 + 5)
    cid = store.add_bytes(data)
    node.mode = mode
    out = tmp_path / "out.bin"
    with pytest.raises(error, match=message) as caught:
        store.get(cid, out)
    assert "\n" not in str(caught.value)
    assert not out.exists() and listing(tmp_path) == ["node"]
    with pytest.raises(error):
        store.read_bytes(cid, len(data))


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        ("wrong cid", ArtifactCorrupted, "but its unixfs-v1-2025 CID is"),
        ("garbage", StoreUnavailable, "unreadable answer to add"),
        ("not kubo", StoreUnavailable, "is it the node's RPC address"),
    ],
)
def test_kubo_misbehaving_node_on_add(
    tmp_path: Path,
    kubo: tuple[KuboStore, type[FakeKubo]],
    mode: str,
    error: type[ProofworkError],
    message: str,
) -> None:
    store, node = kubo
    node.mode = mode
    with pytest.raises(error, match=message) as caught:
        store.add_bytes(pattern(CHUNK * 5))
    assert "\n" not in str(caught.value)


def test_kubo_raw_block_substituted_is_refused(
    tmp_path: Path, kubo: tuple[KuboStore, type[FakeKubo]]
) -> None:
    store, node = kubo
    cid = store.add_bytes(b"weights v1")
    node.mode = "wrong block"
    with pytest.raises(ArtifactCorrupted, match="does not match"):
        store.get(cid, tmp_path / "w")
    with pytest.raises(ArtifactCorrupted):
        store.has(cid)
    assert not (tmp_path / "w").exists()


def test_kubo_dead_node_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    store = KuboStore(f"http://127.0.0.1:{port}", timeout=5)
    for call in (
        lambda: store.add_bytes(b"x"),
        lambda: store.get(HELLO, tmp_path / "out"),
        lambda: store.has(HELLO),
        lambda: store.size(HELLO),
    ):
        with pytest.raises(
            StoreUnavailable, match=f"cannot reach the IPFS node at http://127.0.0.1:{port}"
        ) as e:
            call()
        assert "\n" not in str(e.value)
    assert not (tmp_path / "out").exists()
    store.close()


def test_kubo_node_that_hangs_times_out(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        store = KuboStore(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.5)
        with pytest.raises(StoreUnavailable, match=r"did not answer block/get within 0\.5 s"):
            store.size(HELLO)
        store.close()
    finally:
        listener.close()


def test_kubo_add_file_missing(tmp_path: Path, kubo: tuple[KuboStore, type[FakeKubo]]) -> None:
    store, node = kubo
    with pytest.raises(InvalidInput, match="no such file"):
        store.add_file(tmp_path / "nope.bin")
    assert node.calls == []


def test_store_dirs_are_private_to_the_store(tmp_path: Path) -> None:
    store = small_store(tmp_path / "s")
    cid = store.add_bytes(b"x")
    assert (tmp_path / "s" / "blocks" / cid[-2:] / cid).read_bytes() == b"x"
    assert os.listdir(tmp_path / "s") == ["blocks"]
