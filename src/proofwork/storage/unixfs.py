"""IPFS content ids (CIDv1) for files, computed exactly as kubo and helia do under IPIP-499 `unixfs-v1-2025`.

The profile: fixed-size chunks of 1 MiB, each chunk a `raw` block (codec 0x55); a file of one chunk
(empty included) is that raw block. Larger files get a balanced DAG of `dag-pb` (0x70) nodes with at
most 1024 links each: chunks are grouped 1024 at a time under a parent, parents 1024 at a time under
a grandparent, and so on until one root remains. Every parent holds a UnixFS `File` message with
`filesize` and one `blocksizes` entry per link. Hashes are sha2-256; CIDs print as multibase base32
lower (`b...`).

Wire forms written by hand (they match @ipld/dag-pb and go-codec-dagpb byte for byte):

    PBNode  = Links (field 2, repeated) ... then Data (field 1)
    PBLink  = Hash (1, the binary CID), Name (2, present and empty), Tsize (3, cumulative DAG size)
    UnixFS  = Type (1, File = 2), filesize (3), blocksizes (4, one varint each, not packed)

Nothing here touches the disk except reading the stream or file it is given. Chunk size and fan-out
are parameters so tests can build deep trees from small inputs; the defaults are the profile's.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotFound

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
DIGEST_SIZE = 32
CHUNK_SIZE = 1 << 20  # 1 MiB
MAX_LINKS = 1024
PROFILE = "unixfs-v1-2025"

_UNIXFS_FILE = 2
_CODEC_NAMES = {RAW: "raw", DAG_PB: "dag-pb"}
_B32_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")


class ParsedCid(NamedTuple):
    version: int
    codec: int
    digest: bytes


# ---------------------------------------------------------------- varints and CIDs


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Read one unsigned LEB128 varint (at most 9 bytes, minimal form) at `pos`; ValueError if bad."""
    value = 0
    for i in range(9):
        if pos + i >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            if byte == 0 and i > 0:
                raise ValueError("non-minimal varint")
            return value, pos + i + 1
    raise ValueError("varint longer than 9 bytes")


def _binary_cid(codec: int, digest: bytes) -> bytes:
    return b"\x01" + _varint(codec) + bytes((SHA2_256, DIGEST_SIZE)) + digest


def _text(binary: bytes) -> str:
    return "b" + base64.b32encode(binary).decode("ascii").lower().rstrip("=")


def _short(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def cid_from_digest(digest: bytes, codec: int = RAW) -> str:
    """The CIDv1 text for a sha2-256 `digest` under `codec` (RAW or DAG_PB)."""
    if len(digest) != DIGEST_SIZE:
        raise InvalidInput(f"a sha2-256 digest is {DIGEST_SIZE} bytes, got {len(digest)}")
    if codec not in _CODEC_NAMES:
        raise InvalidInput(f"unsupported CID codec 0x{codec:x}: only raw (0x55) and dag-pb (0x70)")
    return _text(_binary_cid(codec, bytes(digest)))


def cid_from_bytes(binary: bytes) -> str:
    """The text form of a binary CID (the inverse of `cid_to_bytes`)."""
    text = _text(bytes(binary))
    parse_cid(text)  # validates
    return text


def parse_cid(text: str) -> ParsedCid:
    """Split a CIDv1 (base32, sha2-256, raw or dag-pb) into (version, codec, digest); InvalidInput if not one."""
    if not isinstance(text, str):
        raise InvalidInput(f"a CID must be text, got {type(text).__name__}")
    text = text.strip()
    if not text:
        raise InvalidInput("invalid CID: empty")
    if text.startswith("Qm") and len(text) == 46:
        raise InvalidInput(f"CIDv0 {_short(text)} is not supported: proofwork uses CIDv1 (bafk.../bafy...)")
    if text[0] != "b":
        raise InvalidInput(f"invalid CID {_short(text)}: expected CIDv1 in base32 (starting with 'b')")
    body = text[1:]
    if not body or not set(body) <= _B32_ALPHABET:
        raise InvalidInput(f"invalid CID {_short(text)}: not lower-case base32")
    try:
        binary = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
    except ValueError:
        raise InvalidInput(f"invalid CID {_short(text)}: not valid base32") from None
    if _text(binary) != text:
        raise InvalidInput(f"invalid CID {_short(text)}: not valid base32 (wrong length or padding bits)")
    try:
        version, pos = _read_varint(binary, 0)
        codec, pos = _read_varint(binary, pos)
        hash_code, pos = _read_varint(binary, pos)
        length, pos = _read_varint(binary, pos)
    except ValueError:
        raise InvalidInput(f"invalid CID {_short(text)}: truncated") from None
    if version != 1:
        raise InvalidInput(f"invalid CID {_short(text)}: version {version}, expected 1")
    if codec not in _CODEC_NAMES:
        raise InvalidInput(
            f"unsupported CID {_short(text)}: codec 0x{codec:x}, expected raw (0x55) or dag-pb (0x70)"
        )
    if hash_code != SHA2_256 or length != DIGEST_SIZE:
        raise InvalidInput(f"unsupported CID {_short(text)}: hash must be sha2-256 (32 bytes)")
    digest = binary[pos:]
    if len(digest) != DIGEST_SIZE:
        raise InvalidInput(f"invalid CID {_short(text)}: digest is {len(digest)} bytes, expected 32")
    return ParsedCid(version, codec, digest)


def cid_to_bytes(cid: str) -> bytes:
    """The binary CID (36 bytes: version, codec, multihash), as used inside dag-pb links."""
    parsed = parse_cid(cid)
    return _binary_cid(parsed.codec, parsed.digest)


def cid_digest(cid: str) -> bytes:
    """The 32-byte sha2-256 digest inside `cid`: what a bytes32 on chain commits to."""
    return parse_cid(cid).digest


# ---------------------------------------------------------------- encoding


def _field_bytes(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _encode_parent(links: list[_Link]) -> bytes:
    """A dag-pb PBNode (links first, then Data) holding a UnixFS File over `links`."""
    filesize = sum(link.filesize for link in links)
    data = bytearray(b"\x08\x02\x18")  # Type = File, then the filesize key
    data += _varint(filesize)
    for link in links:
        data += b"\x20" + _varint(link.filesize)
    out = bytearray()
    for link in links:
        out += _field_bytes(2, _field_bytes(1, link.cid) + b"\x12\x00\x18" + _varint(link.tsize))
    out += _field_bytes(1, bytes(data))
    return bytes(out)


@dataclass(frozen=True)
class _Link:
    cid: bytes  # binary CID
    tsize: int  # bytes of the whole sub-DAG (blocks)
    filesize: int  # bytes of file data under it


class CidBuilder:
    """Push file bytes in (`update`), get the root CID out (`finish`); never holds more than a chunk.

    `on_block(binary_cid, block)` sees every block as soon as it is final, children before parents,
    the root last. `size` counts the bytes pushed so far.
    """

    def __init__(
        self,
        chunk_size: int = CHUNK_SIZE,
        max_links: int = MAX_LINKS,
        on_block: Callable[[bytes, bytes], None] | None = None,
    ) -> None:
        check_params(chunk_size, max_links)
        self.chunk_size = chunk_size
        self.max_links = max_links
        self.on_block = on_block
        self.size = 0
        self._buffer = bytearray()
        self._levels: list[list[_Link]] = [[]]
        self._chunks = 0
        self._root: str | None = None

    def update(self, data: bytes | bytearray | memoryview) -> None:
        if self._root is not None:
            raise RuntimeError("CidBuilder.update after finish")
        view = memoryview(data).cast("B")
        self.size += len(view)
        if self._buffer:
            take = min(len(view), self.chunk_size - len(self._buffer))
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) == self.chunk_size:
                self._leaf(bytes(self._buffer))
                self._buffer.clear()
        while len(view) >= self.chunk_size:
            self._leaf(bytes(view[: self.chunk_size]))
            view = view[self.chunk_size :]
        if len(view):
            self._buffer += view

    def finish(self) -> str:
        """The root CID; once called, the builder is done."""
        if self._root is not None:
            return self._root
        if self._buffer or self._chunks == 0:
            self._leaf(bytes(self._buffer))
            self._buffer.clear()
        level = 0
        while True:
            pending = self._levels[level]
            higher = any(self._levels[level + 1 :])
            if not higher and len(pending) == 1:
                self._root = _text(pending[0].cid)
                return self._root
            if pending:
                self._reduce(level)
            level += 1

    def _emit(self, binary: bytes, block: bytes) -> None:
        if self.on_block is not None:
            self.on_block(binary, block)

    def _leaf(self, chunk: bytes) -> None:
        binary = _binary_cid(RAW, hashlib.sha256(chunk).digest())
        self._chunks += 1
        self._emit(binary, chunk)
        self._push(0, _Link(binary, len(chunk), len(chunk)))

    def _push(self, level: int, link: _Link) -> None:
        self._levels[level].append(link)
        if len(self._levels[level]) == self.max_links:
            self._reduce(level)

    def _reduce(self, level: int) -> None:
        links = self._levels[level]
        self._levels[level] = []
        if len(self._levels) == level + 1:
            self._levels.append([])
        block = _encode_parent(links)
        binary = _binary_cid(DAG_PB, hashlib.sha256(block).digest())
        self._emit(binary, block)
        tsize = len(block) + sum(link.tsize for link in links)
        self._push(level + 1, _Link(binary, tsize, sum(link.filesize for link in links)))


def check_params(chunk_size: int, max_links: int) -> None:
    if chunk_size < 1:
        raise InvalidInput(f"chunk size must be at least 1 byte, got {chunk_size}")
    if max_links < 2:
        raise InvalidInput(f"a DAG node needs room for at least 2 links, got {max_links}")


def _read_chunks(stream: BinaryIO, size: int) -> Iterator[bytes]:
    while chunk := stream.read(size):
        yield chunk


def cid_of_stream(stream: BinaryIO, *, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS) -> str:
    """The CID of everything left in a binary stream, read one chunk at a time."""
    builder = CidBuilder(chunk_size, max_links)
    for chunk in _read_chunks(stream, chunk_size):
        builder.update(chunk)
    return builder.finish()


def cid_of_bytes(data: bytes, *, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS) -> str:
    """The CID IPFS gives these bytes as a file under the profile."""
    builder = CidBuilder(chunk_size, max_links)
    builder.update(data)
    return builder.finish()


def cid_of_file(path: str | Path, *, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS) -> str:
    """The CID of a file's content, streamed (memory stays at about one chunk whatever the size)."""
    try:
        with open(path, "rb") as stream:
            return cid_of_stream(stream, chunk_size=chunk_size, max_links=max_links)
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not a file") from None
    except PermissionError:
        raise InvalidInput(f"cannot read {path}: permission denied") from None


def iter_blocks(
    stream: BinaryIO, *, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS
) -> Iterator[tuple[str, bytes]]:
    """Every block of the file's DAG as (CID, block bytes): leaves before their parents, the root last."""
    ready: list[tuple[bytes, bytes]] = []
    builder = CidBuilder(chunk_size, max_links, on_block=lambda cid, block: ready.append((cid, block)))
    for chunk in _read_chunks(stream, chunk_size):
        builder.update(chunk)
        yield from ((_text(cid), block) for cid, block in ready)
        ready.clear()
    builder.finish()
    yield from ((_text(cid), block) for cid, block in ready)


def block_cid(block: bytes, codec: int) -> str:
    """The CID of one block under `codec` (not the file CID unless the file is a single raw chunk)."""
    return _text(_binary_cid(codec, hashlib.sha256(block).digest()))


# ---------------------------------------------------------------- decoding and verified reading


@dataclass(frozen=True)
class FileNode:
    """A decoded dag-pb UnixFS File node: its links (binary CID, Tsize) and the sizes under them."""

    links: list[tuple[bytes, int]]
    filesize: int
    blocksizes: list[int]


def _fields(data: bytes, what: str) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each protobuf field; only varint and length-delimited."""
    pos = 0
    view = memoryview(data)
    while pos < len(view):
        key, pos = _read_varint(view, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(view, pos)
            yield number, wire, value
        elif wire == 2:
            length, pos = _read_varint(view, pos)
            if pos + length > len(view):
                raise ValueError(f"{what}: field {number} runs past the end")
            yield number, wire, bytes(view[pos : pos + length])
            pos += length
        else:
            raise ValueError(f"{what}: unexpected wire type {wire}")


def decode_file_node(block: bytes) -> FileNode:
    """Decode a dag-pb block holding a UnixFS File with no inline data; ValueError if it is anything else."""
    links: list[tuple[bytes, int]] = []
    data: bytes | None = None
    for number, wire, value in _fields(block, "PBNode"):
        if number == 2 and wire == 2 and data is None:
            assert isinstance(value, bytes)
            cid: bytes | None = None
            tsize: int | None = None
            for n, w, v in _fields(value, "PBLink"):
                if n == 1 and w == 2 and cid is None:
                    assert isinstance(v, bytes)
                    cid = v
                elif n == 2 and w == 2 and v == b"":
                    pass
                elif n == 3 and w == 0 and tsize is None:
                    assert isinstance(v, int)
                    tsize = v
                else:
                    raise ValueError(f"PBLink: unexpected field {n}")
            if cid is None or tsize is None:
                raise ValueError("PBLink without Hash or Tsize")
            links.append((cid, tsize))
        elif number == 1 and wire == 2 and data is None:
            assert isinstance(value, bytes)
            data = value
        else:
            raise ValueError(f"PBNode: unexpected field {number}")
    if data is None:
        raise ValueError("dag-pb node without UnixFS data")
    kind: int | None = None
    filesize: int | None = None
    blocksizes: list[int] = []
    for number, wire, value in _fields(data, "UnixFS"):
        if number == 1 and wire == 0 and kind is None:
            assert isinstance(value, int)
            kind = value
        elif number == 3 and wire == 0 and filesize is None:
            assert isinstance(value, int)
            filesize = value
        elif number == 4 and wire == 0:
            assert isinstance(value, int)
            blocksizes.append(value)
        else:
            raise ValueError(f"UnixFS: unexpected field {number} (only Type, filesize, blocksizes)")
    if kind != _UNIXFS_FILE:
        raise ValueError(f"UnixFS type {kind} is not File")
    if filesize is None or filesize != sum(blocksizes):
        raise ValueError("UnixFS filesize does not equal the sum of its blocksizes")
    if len(blocksizes) != len(links) or not links:
        raise ValueError("UnixFS blocksizes do not match the node's links")
    return FileNode(links, filesize, blocksizes)


def verify_block(cid: str, block: bytes) -> None:
    """ArtifactCorrupted unless `block` hashes to `cid`'s digest."""
    if hashlib.sha256(block).digest() != parse_cid(cid).digest:
        raise ArtifactCorrupted(f"block {cid} does not match its content id: damaged or substituted")


def _depth_for(filesize: int, chunk_size: int, max_links: int) -> int:
    """How many dag-pb levels the profile puts above the leaves of a file of `filesize` bytes."""
    leaves = max(1, -(-filesize // chunk_size))
    depth, capacity = 0, 1
    while capacity < leaves:
        depth, capacity = depth + 1, capacity * max_links
    return depth


def file_size(cid: str, root_block: bytes) -> int:
    """The file size a verified root block declares (raw: its length; dag-pb: UnixFS filesize)."""
    verify_block(cid, root_block)
    if parse_cid(cid).codec == RAW:
        return len(root_block)
    try:
        return decode_file_node(root_block).filesize
    except ValueError as err:
        raise ArtifactCorrupted(f"{cid} is not a UnixFS file: {err}") from None


def iter_file(
    cid: str,
    fetch: Callable[[str], bytes],
    *,
    max_bytes: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    max_links: int = MAX_LINKS,
) -> Iterator[bytes]:
    """The file behind `cid`, chunk by chunk, walking its DAG with `fetch(block cid) -> block bytes`.

    Every block is checked against its CID before it is used; the node structure is checked as it is
    walked (sizes, depth, fan-out); at the end the CID of everything yielded, recomputed under the
    profile, must equal `cid`. Anything else raises ArtifactCorrupted (after some chunks may have been
    yielded: callers write to a temporary file and discard it). `fetch` raises NotFound for a missing
    block; for any block below the root that becomes ArtifactCorrupted (the DAG is incomplete).
    InvalidInput if the declared size is over `max_bytes`.
    """
    parsed = parse_cid(cid)
    root = fetch(cid)
    size = file_size(cid, root)
    if max_bytes is not None and size > max_bytes:
        raise InvalidInput(f"{cid} is {size:,} bytes, over the limit of {max_bytes:,}")
    if parsed.codec == RAW:
        if len(root) > chunk_size:
            raise ArtifactCorrupted(
                f"{cid} is a single raw block of {len(root):,} bytes: not a {PROFILE} file "
                f"(chunks are at most {chunk_size:,} bytes)"
            )
        yield root
        return
    if size <= chunk_size:
        raise ArtifactCorrupted(f"{cid} is a dag-pb node over {size:,} bytes: not a {PROFILE} file")
    builder = CidBuilder(chunk_size, max_links)

    def child(binary: bytes, expected_codec: int) -> tuple[str, bytes]:
        try:
            text = cid_from_bytes(binary)
        except InvalidInput:
            raise ArtifactCorrupted(f"{cid} links to a malformed CID") from None
        if parse_cid(text).codec != expected_codec:
            raise ArtifactCorrupted(f"{cid} is not a balanced {PROFILE} DAG (unexpected codec at {text})")
        try:
            block = fetch(text)
        except NotFound:
            raise ArtifactCorrupted(f"block {text} of {cid} is missing: the DAG is incomplete") from None
        verify_block(text, block)
        return text, block

    def walk(node: FileNode, depth: int) -> Iterator[bytes]:
        if len(node.links) > max_links:
            raise ArtifactCorrupted(f"{cid} has a node with {len(node.links)} links (max {max_links})")
        for (binary, _tsize), declared in zip(node.links, node.blocksizes, strict=True):
            if depth == 1:
                _text_cid, leaf = child(binary, RAW)
                if len(leaf) != declared or len(leaf) > chunk_size:
                    raise ArtifactCorrupted(f"{cid} has a leaf whose size does not match its parent")
                builder.update(leaf)
                if builder.size > size:
                    raise ArtifactCorrupted(f"{cid} holds more data than the {size:,} bytes it declares")
                yield leaf
            else:
                text, block = child(binary, DAG_PB)
                try:
                    sub = decode_file_node(block)
                except ValueError as err:
                    raise ArtifactCorrupted(
                        f"block {text} of {cid} is not a UnixFS file node: {err}"
                    ) from None
                if sub.filesize != declared:
                    raise ArtifactCorrupted(f"{cid} has a node whose size does not match its parent")
                yield from walk(sub, depth - 1)

    try:
        top = decode_file_node(root)
    except ValueError as err:  # pragma: no cover - file_size decoded it already
        raise ArtifactCorrupted(f"{cid} is not a UnixFS file: {err}") from None
    yield from walk(top, _depth_for(size, chunk_size, max_links))
    if builder.size != size or builder.finish() != cid:
        raise ArtifactCorrupted(f"{cid} is not the {PROFILE} DAG of its own content: refused")


def verify_stream(
    cid: str,
    chunks: Iterable[bytes],
    size: int,
    *,
    chunk_size: int = CHUNK_SIZE,
    max_links: int = MAX_LINKS,
) -> Iterator[bytes]:
    """Pass `chunks` through, checking they are exactly `size` bytes whose CID is `cid`.

    For content read as one stream (kubo's `cat`): more bytes than `size` stop it at once; at the end
    the recomputed CID must equal `cid` (which checks every block). ArtifactCorrupted otherwise.
    """
    builder = CidBuilder(chunk_size, max_links)
    for chunk in chunks:
        builder.update(chunk)
        if builder.size > size:
            raise ArtifactCorrupted(f"more data than the {size:,} bytes {cid} declares: refused")
        yield chunk
    if builder.size != size:
        raise ArtifactCorrupted(f"got {builder.size:,} of the {size:,} bytes of {cid}: truncated")
    if builder.finish() != cid:
        raise ArtifactCorrupted(f"the bytes received for {cid} hash to {builder.finish()}: refused")
