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
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

import httpx

from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotFound, ProofworkError
from proofwork.storage.files import write_atomic
from proofwork.storage.unixfs import (
    CHUNK_SIZE,
    DAG_PB,
    MAX_LINKS,
    PROFILE,
    RAW,
    check_params,
    cid_from_digest,
    cid_of_bytes,
    cid_of_file,
    decode_file_node,
    file_size,
    iter_blocks,
    iter_file,
    parse_cid,
    verify_block,
    verify_stream,
)

# How long (seconds) `KuboStore.has` lets the node search the IPFS network for a block.
LOOKUP_TIMEOUT = 20.0


class StoreUnavailable(ProofworkError):
    """The storage node cannot be reached, or answers something that is not its API; nothing was written."""


class _NodeGaveUp(StoreUnavailable):
    """The node itself stopped searching at the deadline it was given (kubo: "context deadline
    exceeded"; js-ipfs, which serves the same RPC API: "request timed out")."""


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


def _one_line(text: object, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


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


class KuboStore:
    """A kubo node through its HTTP RPC API (`http://127.0.0.1:5001` by default on a node).

    `add` asks the node for the profile explicitly (CIDv1, raw leaves, 1 MiB chunks, 1024 links per
    node, sha2-256, balanced layout, no inlining) and refuses the result unless the node's CID equals
    the one computed here. Reads fetch the root block (checked against its CID), then the content
    (`cat`), which must hash back to the requested CID; nothing unverified reaches the caller.
    The RPC API is admin-level and local: proxies from the environment are not used.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        chunk_size: int = CHUNK_SIZE,
        max_links: int = MAX_LINKS,
        lookup_timeout: float | None = None,
    ) -> None:
        check_params(chunk_size, max_links)
        if lookup_timeout is None:  # the node must give up before the client does
            lookup_timeout = min(LOOKUP_TIMEOUT, timeout / 2)
        if not 0 < lookup_timeout < timeout:
            raise InvalidInput(
                f"the lookup timeout ({lookup_timeout:g} s) must be positive and shorter than the "
                f"node timeout ({timeout:g} s)"
            )
        url = url.rstrip("/")
        url = url.removesuffix("/api/v0")
        self.url = url
        self.timeout = timeout
        self.lookup_timeout = lookup_timeout
        self.chunk_size = chunk_size
        self.max_links = max_links
        # the largest block the profile makes: a chunk, or a parent with max_links links
        self._max_block = max(chunk_size, 80 * max_links + 64)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), trust_env=False
        )

    def __repr__(self) -> str:
        return f"KuboStore({self.url!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> KuboStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport

    @contextlib.contextmanager
    def _call(
        self,
        command: str,
        params: dict[str, str],
        files: dict[str, tuple[str, BinaryIO | bytes]] | None = None,
    ) -> Iterator[httpx.Response]:
        """POST one RPC command and yield the streaming response (status checked); errors are one line."""
        try:
            request = self._client.build_request(
                "POST", f"{self.url}/api/v0/{command}", params=params, files=files
            )
            response = self._client.send(request, stream=True)
        except httpx.ConnectError as err:
            raise StoreUnavailable(f"cannot reach the IPFS node at {self.url}: {_one_line(err)}") from None
        except httpx.TimeoutException:
            raise StoreUnavailable(
                f"the IPFS node at {self.url} did not answer {command} within {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as err:
            raise StoreUnavailable(
                f"the IPFS node at {self.url} failed {command}: {_one_line(err)}"
            ) from None
        try:
            if response.status_code != 200:
                self._refuse(command, params, response)
            yield response
        finally:
            response.close()

    def _refuse(self, command: str, params: dict[str, str], response: httpx.Response) -> None:
        try:
            body = response.read()[:4096]
        except httpx.HTTPError:
            body = b""
        message = ""
        with contextlib.suppress(ValueError, AttributeError):
            message = str(json.loads(body).get("Message", ""))
        if not message:
            if response.status_code in (404, 405):
                raise StoreUnavailable(
                    f"{self.url} does not answer the kubo RPC API ({command}: HTTP {response.status_code}); "
                    "is it the node's RPC address (port 5001)?"
                )
            message = body.decode("utf-8", "replace") or f"HTTP {response.status_code}"
        lowered = message.lower()
        if "arg" in params and ("not found" in lowered or "could not find" in lowered):
            raise NotFound(f"the IPFS node at {self.url} does not have {params['arg']}")
        if "timeout" in params and ("deadline exceeded" in lowered or "timed out" in lowered):
            raise _NodeGaveUp(f"the IPFS node at {self.url} gave up {command}: {_one_line(message)}")
        raise StoreUnavailable(f"the IPFS node at {self.url} refused {command}: {_one_line(message)}")

    def _body(self, command: str, response: httpx.Response, limit: int) -> Iterator[bytes]:
        """The response body in pieces, refusing more than `limit` bytes; transport errors are one line."""
        received = 0
        try:
            for piece in response.iter_bytes():
                received += len(piece)
                if received > limit:
                    raise ArtifactCorrupted(
                        f"the IPFS node at {self.url} sent more than the {limit:,} bytes expected for {command}"
                    )
                yield piece
        except httpx.TimeoutException:
            raise StoreUnavailable(
                f"the IPFS node at {self.url} stalled during {command} (no data for {self.timeout:g} s)"
            ) from None
        except httpx.HTTPError as err:
            raise StoreUnavailable(
                f"the IPFS node at {self.url} broke off {command}: {_one_line(err)}"
            ) from None

    def _block(self, cid: str, *, offline: bool = False, lookup_timeout: float | None = None) -> bytes:
        """One block, verified against its CID."""
        params = {"arg": cid}
        if offline:
            params["offline"] = "true"
        if lookup_timeout is not None:
            # the RPC API's global option (a Go duration): the node gives up its network search
            params["timeout"] = f"{max(1, round(lookup_timeout * 1000))}ms"
        with self._call("block/get", params) as response:
            block = b"".join(self._body("block/get", response, self._max_block))
        try:
            verify_block(cid, block)
        except ArtifactCorrupted:
            raise ArtifactCorrupted(
                f"the IPFS node at {self.url} returned a block that does not match {cid}: refused"
            ) from None
        return block

    # -- ContentStore

    def _add(self, name: str, content: BinaryIO | bytes, expected: str) -> str:
        params = {
            "cid-version": "1",
            "raw-leaves": "true",
            "chunker": f"size-{self.chunk_size}",
            "max-file-links": str(self.max_links),
            "hash": "sha2-256",
            "trickle": "false",
            "inline": "false",
            "pin": "true",
            "quieter": "true",
            "progress": "false",
            "cid-base": "base32",
        }
        with self._call("add", params, files={"file": (name, content)}) as response:
            text = b"".join(self._body("add", response, 1 << 20)).decode("utf-8", "replace")
        try:
            lines = [json.loads(line) for line in text.splitlines() if line.strip()]
            got = lines[-1]["Hash"]
            if not isinstance(got, str):
                raise TypeError
        except (ValueError, IndexError, KeyError, TypeError):
            raise StoreUnavailable(
                f"the IPFS node at {self.url} gave an unreadable answer to add: {_one_line(text, 80)!r}"
            ) from None
        if got != expected:
            raise ArtifactCorrupted(
                f"the IPFS node at {self.url} stored {name} as {_one_line(got, 80)}, but its {PROFILE} CID is "
                f"{expected}: refused (does the node honour cid-version=1, raw-leaves, "
                f"chunker=size-{self.chunk_size}, max-file-links={self.max_links}?)"
            )
        return got

    def add_file(self, path: str | Path) -> str:
        path = Path(path).expanduser()
        expected = cid_of_file(path, chunk_size=self.chunk_size, max_links=self.max_links)
        try:
            with open(path, "rb") as stream:
                return self._add(path.name, stream, expected)
        except OSError as err:
            raise InvalidInput(f"cannot read {path}: {err.strerror}") from None

    def add_bytes(self, data: bytes) -> str:
        return self._add(
            "data", bytes(data), cid_of_bytes(data, chunk_size=self.chunk_size, max_links=self.max_links)
        )

    def _open(self, cid: str, max_bytes: int | None) -> tuple[bytes, int]:
        parse_cid(cid)
        root = self._block(cid)
        size = file_size(cid, root)
        if max_bytes is not None and size > max_bytes:
            raise InvalidInput(f"{cid} is {size:,} bytes, over the limit of {max_bytes:,}")
        return root, size

    @contextlib.contextmanager
    def _content(self, cid: str, max_bytes: int | None) -> Iterator[Iterator[bytes]]:
        root, size = self._open(cid, max_bytes)
        opts = {"chunk_size": self.chunk_size, "max_links": self.max_links}
        if parse_cid(cid).codec == RAW:
            yield verify_stream(cid, [root], size, **opts)
            return
        with self._call("cat", {"arg": cid}) as response:
            yield verify_stream(cid, self._body("cat", response, size), size, **opts)

    def get(self, cid: str, out_path: str | Path, *, max_bytes: int | None = None) -> Path:
        with self._content(cid, max_bytes) as chunks:
            return write_atomically(out_path, chunks)

    def read_bytes(self, cid: str, max_bytes: int) -> bytes:
        with self._content(cid, max_bytes) as chunks:
            return b"".join(chunks)

    def has(self, cid: str) -> bool:
        """Whether the block can be had: from this node or, within a bounded search, from the IPFS
        network (an oracle must find a freelancer's submission wherever it was published). A node
        that cannot be reached is an error, not a "no"."""
        parse_cid(cid)
        try:
            self._block(cid, lookup_timeout=self.lookup_timeout)
        except (NotFound, _NodeGaveUp):
            return False
        return True

    def size(self, cid: str) -> int:
        return self._open(cid, None)[1]

    def find_by_digest(self, digest: bytes) -> str | None:
        """The CID of the content whose sha2-256 is `digest`, found with one bounded lookup.

        IPFS nodes key blocks by multihash (kubo since 0.12, js-ipfs): the raw and the dag-pb CID of one
        digest name the same block, so asking for the raw CID finds a dag-pb root too, and the block
        decides. The profile makes a dag-pb root only for a file of more than one chunk: a block that is
        such a root is the dag-pb CID, anything else the raw CID (whose content is the block itself)."""
        if len(digest) != 32:
            raise InvalidInput(f"a content digest is 32 bytes, got {len(digest)}")
        raw = cid_from_digest(digest, RAW)
        try:
            block = self._block(raw, lookup_timeout=self.lookup_timeout)
        except (NotFound, _NodeGaveUp):
            return None
        try:
            root = decode_file_node(block)
        except ValueError:
            return raw
        return cid_from_digest(digest, DAG_PB) if root.filesize > self.chunk_size else raw


def open_store(
    location: str | Path, *, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS
) -> LocalStore | KuboStore:
    """`http(s)://...` is a kubo node's RPC API; anything else a local directory (created on first add)."""
    text = str(location)
    if text.startswith(("http://", "https://")):
        return KuboStore(text, chunk_size=chunk_size, max_links=max_links)
    if not text.strip():
        raise InvalidInput("empty store location: give a directory or a kubo RPC URL")
    return LocalStore(Path(text), chunk_size=chunk_size, max_links=max_links)
