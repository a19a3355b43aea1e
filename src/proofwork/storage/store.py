"""Artifact stores keyed by IPFS content ids (unixfs-v1-2025): a local block directory, or a kubo node.

Every read is verified: each block against its CID and the reassembled file against the CID requested
(recomputed under the profile), so a store or node can lose data but never substitute it. Outputs are
written to a temporary file beside the target and renamed into place only once verified: a failed read
leaves no partial file (and an existing file at the target untouched).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotFound, ProofworkError
from proofwork.storage.files import write_atomic
from proofwork.storage.unixfs import (
    CHUNK_SIZE,
    DAG_PB,
    MAX_LINKS,
    RAW,
    check_params,
    cid_from_digest,
    file_size,
    iter_blocks,
    iter_file,
    parse_cid,
)


class StoreUnavailable(ProofworkError):
    """The storage node cannot be reached, or answers something that is not its API; nothing was written."""


@runtime_checkable
class ContentStore(Protocol):
    """Where artifacts live, addressed by their unixfs-v1-2025 CID (the same CID IPFS gives them)."""

    def add_file(self, path: str | Path) -> str: ...

    def add_bytes(self, data: bytes) -> str: ...

    def get(self, cid: str, out_path: str | Path, *, max_bytes: int | None = None) -> Path: ...

    def read_bytes(self, cid: str, max_bytes: int) -> bytes: ...

    def has(self, cid: str) -> bool: ...

    def size(self, cid: str) -> int: ...

    def find_by_digest(self, digest: bytes) -> str | None: ...


def write_atomically(out_path: str | Path, chunks: Iterable[bytes]) -> Path:
    """Write `chunks` to `out_path` through a temporary file in the same directory, renamed at the end.

    If iterating `chunks` raises (a failed verification, a broken connection, Ctrl-C), the temporary
    file is removed and `out_path` is left as it was.
    """
    out = Path(out_path).expanduser()
    if out.is_dir():
        raise InvalidInput(f"{out} is a directory: give a file path to write to")
    if not out.parent.is_dir():
        raise InvalidInput(f"cannot write {out}: directory {out.parent} does not exist")
    try:
        return write_atomic(out, chunks, mode=None)
    except OSError as err:
        raise InvalidInput(f"cannot write {out}: {err.strerror}") from None


def find_by_digest(store: ContentStore, digest: bytes) -> str | None:
    """The CID in `store` whose sha2-256 digest is `digest`: the raw-codec CID first, then dag-pb."""
    if len(digest) != 32:
        raise InvalidInput(f"a content digest is 32 bytes, got {len(digest)}")
    for codec in (RAW, DAG_PB):
        cid = cid_from_digest(digest, codec)
        if store.has(cid):
            return cid
    return None


# ---------------------------------------------------------------- local directory


class LocalStore:
    """Blocks as files under `root/blocks/<last 2 characters of CID>/<CID>`.

    Blocks are written through a temporary file and renamed, children before parents and the root last,
    so the root exists only once the whole DAG does, and concurrent adds of the same content (threads or
    processes) are safe. A block damaged on disk is detected when it is read.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        chunk_size: int = CHUNK_SIZE,
        max_links: int = MAX_LINKS,
        durable: bool = True,
    ) -> None:
        check_params(chunk_size, max_links)
        self.root = Path(root).expanduser()
        self.chunk_size = chunk_size
        self.max_links = max_links
        self.durable = durable  # fsync each block before its rename

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _block_path(self, cid: str) -> Path:
        return self.root / "blocks" / cid[-2:] / cid

    def _fetch(self, cid: str) -> bytes:
        try:
            return self._block_path(cid).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no artifact {cid} in {self.root}") from None
        except OSError as err:
            raise StoreUnavailable(f"cannot read block {cid} in {self.root}: {err.strerror}") from None

    def _put(self, cid: str, block: bytes) -> None:
        path = self._block_path(cid)
        with contextlib.suppress(OSError):
            if path.stat().st_size == len(block) and hashlib.sha256(path.read_bytes()).digest() == (
                parse_cid(cid).digest
            ):
                return  # already there and intact (a damaged copy is replaced below)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, block, mode=None, durable=self.durable)
        except OSError as err:
            raise StoreUnavailable(f"cannot write to the store {self.root}: {err.strerror}") from None

    def _add_stream(self, stream: BinaryIO) -> str:
        cid = ""
        for cid, block in iter_blocks(stream, chunk_size=self.chunk_size, max_links=self.max_links):
            self._put(cid, block)
        return cid

    def add_file(self, path: str | Path) -> str:
        try:
            with open(Path(path).expanduser(), "rb") as stream:
                return self._add_stream(stream)
        except FileNotFoundError:
            raise InvalidInput(f"no such file: {path}") from None
        except IsADirectoryError:
            raise InvalidInput(f"{path} is a directory, not a file") from None
        except PermissionError:
            raise InvalidInput(f"cannot read {path}: permission denied") from None

    def add_bytes(self, data: bytes) -> str:
        return self._add_stream(io.BytesIO(data))

    def _iter(self, cid: str, max_bytes: int | None) -> Iterator[bytes]:
        try:
            yield from iter_file(
                cid, self._fetch, max_bytes=max_bytes, chunk_size=self.chunk_size, max_links=self.max_links
            )
        except ArtifactCorrupted as err:
            raise ArtifactCorrupted(f"{err} (store {self.root})") from None

    def get(self, cid: str, out_path: str | Path, *, max_bytes: int | None = None) -> Path:
        parse_cid(cid)
        return write_atomically(out_path, self._iter(cid, max_bytes))

    def read_bytes(self, cid: str, max_bytes: int) -> bytes:
        return b"".join(self._iter(cid, max_bytes))

    def has(self, cid: str) -> bool:
        parse_cid(cid)
        return self._block_path(cid).is_file()

    def size(self, cid: str) -> int:
        parse_cid(cid)
        return file_size(cid, self._fetch(cid))

    def find_by_digest(self, digest: bytes) -> str | None:
        return find_by_digest(self, digest)


# ---------------------------------------------------------------- kubo over its HTTP RPC API


def open_store(
    location: str | Path, *, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS
) -> ContentStore:
    """`http(s)://...` is a kubo node's RPC API; anything else a local directory (created on first add)."""
    text = str(location)
    if text.startswith(("http://", "https://")):
        from proofwork.storage.kubo import KuboStore  # httpx loads only for a node

        return KuboStore(text, chunk_size=chunk_size, max_links=max_links)
    if not text.strip():
        raise InvalidInput("empty store location: give a directory or a kubo RPC URL")
    return LocalStore(Path(text), chunk_size=chunk_size, max_links=max_links)
