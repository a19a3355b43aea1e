"""Fetching signed reports from other oracles' endpoints; a dead or garbled peer yields nothing.

A peer's endpoint URL is whatever it published on chain and its answers are whatever it sends:
`reports` never raises, whatever the peer does. The body is read as a stream, at most
`MAX_BODY_BYTES`, within an overall deadline (a peer dripping one byte per second does not hold
a pass), and parsed with bounded nesting. Every report returned is still only a claim: callers
check each signature themselves.
"""

from __future__ import annotations

import functools
import logging
import ssl
import threading
import time
from typing import Any

import httpcore
import httpx

from proofwork.domain.errors import InvalidInput, ProofworkError
from proofwork.domain.jsonsafe import safe_json_loads

log = logging.getLogger("proofwork.peers")

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_REPORTS = 1000
MAX_DEPTH = 8
MAX_URL_BYTES = 256
KINDS = ("job", "public", "final", "labels")


def endpoint_url(endpoint: str) -> httpx.URL:
    """An oracle endpoint as published: an http(s) URL with a host, at most 256 bytes (the contract's limit).

    Raises InvalidInput otherwise.
    """
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise InvalidInput("the endpoint URL is empty")
    if len(endpoint.encode("utf-8", "replace")) > MAX_URL_BYTES:
        raise InvalidInput(f"the endpoint URL is longer than {MAX_URL_BYTES} bytes")
    try:
        url = httpx.URL(endpoint.strip())
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise InvalidInput(f"the endpoint {_show(endpoint)} is not a valid URL") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidInput(f"the endpoint {_show(endpoint)} is not an http(s) URL with a host")
    return url


def reports_url(endpoint: str, contract: str, kind: str, subject: int) -> httpx.URL:
    base = endpoint_url(endpoint)
    if kind not in KINDS:
        raise InvalidInput(f"unknown report kind {kind!r}")
    if not (isinstance(contract, str) and contract.startswith("0x") and len(contract) == 42):
        raise InvalidInput("the contract must be a 0x address")
    int(contract[2:], 16)  # ValueError for non-hex digits: caught by the caller
    if isinstance(subject, bool) or not isinstance(subject, int) or not 0 <= subject < 2**256:
        raise InvalidInput("the id must be a whole number from 0 to 2^256 - 1")
    path = f"{base.path.rstrip('/')}/v1/reports/{contract.lower()}/{kind}/{subject}"
    return base.copy_with(path=path, query=None, fragment=None)


def one_line(text: object, limit: int = 300) -> str:
    """A peer's text as one printable line of at most `limit` characters (no newline, no terminal escape)."""
    line = " ".join(str(text).split())
    line = "".join(ch if ch.isprintable() else "?" for ch in line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


class Deadline(threading.local):
    at: float | None = None

    def clamp(self, timeout: float | None) -> float | None:
        """`timeout` shortened to what is left of the call's deadline; ReadTimeout once it passed."""
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the overall deadline passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """Every socket operation waits at most until the call's deadline: a peer dripping its
    headers or body one byte at a time cannot hold a call past it."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._deadline.clamp(timeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: Deadline) -> None:
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, self._deadline.clamp(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once: loading the CA store takes about 20 ms, and
    an oracle or CLI command makes a client per peer call (an SSLContext is safe to share)."""
    return httpx.create_ssl_context()


def deadline_client(timeout: float) -> tuple[Deadline, httpx.Client]:
    """An httpx client whose every socket wait goes through the returned `Deadline` (set its `at`
    around a call to bound the whole call), never following redirects, ignoring proxy settings."""
    clock = Deadline()
    transport = httpx.HTTPTransport(verify=_ssl_context())
    # httpx takes no network backend: every connection's socket waits go through the deadline
    transport._pool = httpcore.ConnectionPool(
        ssl_context=_ssl_context(), network_backend=DeadlineBackend(clock)
    )
    return clock, httpx.Client(timeout=timeout, follow_redirects=False, transport=transport, trust_env=False)


class HttpPeers:
    """`timeout`: per connect or read; `deadline`: the most one call may take in all."""

    def __init__(self, timeout: float = 3.0, deadline: float = 10.0, max_bytes: int = MAX_BODY_BYTES) -> None:
        self._clock, self._client = deadline_client(timeout)
        self._deadline = deadline
        self._max_bytes = max_bytes

    def reports(self, endpoint: str, contract: str, kind: str, subject: int) -> list[dict[str, Any]]:
        """The reports a peer serves for (contract, kind, subject); [] on anything wrong. Never raises."""
        self._clock.at = time.monotonic() + self._deadline
        try:
            body = self._fetch(reports_url(endpoint, contract, kind, subject))
            if body is None:
                return []
            data = safe_json_loads(body, max_bytes=self._max_bytes, max_depth=MAX_DEPTH)
        except (ProofworkError, httpx.HTTPError, httpx.InvalidURL) as exc:
            log.info("peer %s: %s: %s", _show(endpoint), exc.__class__.__name__, _show(str(exc)))
            return []
        except Exception as exc:  # a peer must never break an oracle's pass
            log.warning(
                "peer %s: unexpected %s: %s", _show(endpoint), exc.__class__.__name__, _show(str(exc))
            )
            return []
        finally:
            self._clock.at = None
        if not isinstance(data, list):
            return []
        return [item for item in data[:MAX_REPORTS] if isinstance(item, dict)]

    def _fetch(self, url: httpx.URL) -> bytes | None:
        """The body of a 200 answer, or None when it is refused, too large or too slow."""
        started = time.monotonic()
        # identity: a compressed body could expand far beyond what was read
        with self._client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
            if response.status_code != 200:
                log.info("peer %s: HTTP %s", url.host, response.status_code)
                return None
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                log.info("peer %s: body of %s bytes refused", url.host, declared)
                return None
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_raw():
                size += len(chunk)
                if size > self._max_bytes:
                    log.info("peer %s: body larger than %d bytes refused", url.host, self._max_bytes)
                    return None
                if time.monotonic() - started > self._deadline:
                    log.info("peer %s: no full answer within %.0f s", url.host, self._deadline)
                    return None
                chunks.append(chunk)
            return b"".join(chunks)

    def close(self) -> None:
        self._client.close()


def _show(text: str) -> str:
    text = repr(text) if not isinstance(text, str) else text
    return text if len(text) <= 80 else text[:77] + "..."
