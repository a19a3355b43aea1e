"""Loopback names: what the local servers (`proofwork serve`'s JSON-RPC, web app and API) listen on and
accept in a Host header. A request naming any other host reached a loopback server through DNS
rebinding (a web page whose name was made to resolve to 127.0.0.1) and is refused."""

from __future__ import annotations

import ipaddress

from proofwork.domain.errors import InvalidInput


def check_loopback(host: str) -> str:
    """`host` if it is a loopback interface (the only ones served), else a one-line InvalidInput."""
    if host == "localhost":
        return host
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InvalidInput(f"refusing to serve on {host!r}: only a loopback address (127.0.0.1, ::1)")
    return host


def is_loopback_name(host: str) -> bool:
    """Whether a host name (or bracketed IPv6 literal) names this machine's loopback."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_of(header: str) -> str:
    """The host part of a Host header (`127.0.0.1:8545`, `[::1]:8545`, `localhost`)."""
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def loopback_host_header(header: str) -> bool:
    """Whether a request's Host header names a loopback host."""
    return is_loopback_name(host_of(header))
