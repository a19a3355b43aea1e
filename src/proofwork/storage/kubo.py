"""A kubo (IPFS) node's RPC API as a content store: adds with the unixfs-v1-2025 profile (checked against
our own CID on every add), verified reads, bounded lookups. Any node serving the kubo RPC API will do
(kubo itself; js-ipfs in the tests)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import httpx

from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotFound
from proofwork.storage.store import StoreUnavailable, write_atomically
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
    parse_cid,
    verify_block,
    verify_stream,
)

# How long (seconds) `KuboStore.has` lets the node search the IPFS network for a block.
LOOKUP_TIMEOUT = 20.0


class _NodeGaveUp(StoreUnavailable):
    """The node itself stopped searching at the deadline it was given (kubo: "context deadline
    exceeded"; js-ipfs, which serves the same RPC API: "request timed out")."""


def _one_line(text: object, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


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
