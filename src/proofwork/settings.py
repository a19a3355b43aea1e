"""Every setting proofwork reads from its environment, in one object.

Nothing else in the package reads `os.environ`: the CLI builds `Settings.from_env()` (its options
override it), the SDK takes one, and everything below receives the values it needs from it.

| variable | setting | default |
|---|---|---|
| PROOFWORK_DATA_DIR | where keys, manifests, the store and the embedded chain live | ~/.proofwork |
| PROOFWORK_RPC_URL | an EVM JSON-RPC node instead of the embedded chain | (embedded chain) |
| PROOFWORK_STORE | the artifact store: a directory or a kubo RPC URL | DATA_DIR/store |
| PROOFWORK_PASSWORD | unlocks stored keys (and encrypts new ones) without a prompt | (prompt) |
| PROOFWORK_LOCK_TIMEOUT | seconds to wait for another process holding the embedded chain | 30 |
| PROOFWORK_DEBUG | internal errors print their traceback | off |
| PROOFWORK_SANDBOX_DEBUG | the evaluation sandbox keeps its worker's stderr | off |
| PROOFWORK_SERVE_HOST | `proofwork serve`: the loopback interface it listens on | 127.0.0.1 |
| PROOFWORK_SERVE_PORT | `proofwork serve`: the port of the web app and API (0: any free port) | 8000 |
| PROOFWORK_RPC_PORT | `proofwork serve`: the port of the embedded chain's JSON-RPC (0: any free port) | 8545 |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from proofwork.domain.errors import InvalidInput

MAX_LOCK_TIMEOUT = 86_400.0


def _home() -> Path:
    return Path.home()


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: _home() / ".proofwork")
    rpc_url: str | None = None
    store: str | None = None
    password: str | None = field(default=None, repr=False)
    lock_timeout: float = 30.0
    debug: bool = False
    sandbox_debug: bool = False
    serve_host: str = "127.0.0.1"
    serve_port: int = 8000
    rpc_port: int = 8545

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings the environment gives (an empty variable counts as unset), then `overrides`
        (command-line options; None leaves the environment's value)."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value else None

        values: dict[str, Any] = {
            "data_dir": Path(get("PROOFWORK_DATA_DIR") or _home() / ".proofwork").expanduser(),
            "rpc_url": get("PROOFWORK_RPC_URL"),
            "store": get("PROOFWORK_STORE"),
            # an empty password is still a password (the keystore refuses it with its own message)
            "password": env.get("PROOFWORK_PASSWORD"),
            "lock_timeout": _seconds(env.get("PROOFWORK_LOCK_TIMEOUT", "30"), "PROOFWORK_LOCK_TIMEOUT"),
            "debug": bool(get("PROOFWORK_DEBUG")),
            "sandbox_debug": bool(get("PROOFWORK_SANDBOX_DEBUG")),
            "serve_host": get("PROOFWORK_SERVE_HOST") or "127.0.0.1",
            "serve_port": parse_port(get("PROOFWORK_SERVE_PORT") or "8000", "PROOFWORK_SERVE_PORT"),
            "rpc_port": parse_port(get("PROOFWORK_RPC_PORT") or "8545", "PROOFWORK_RPC_PORT"),
        }
        settings = cls(**values)
        given = {k: v for k, v in overrides.items() if v is not None}
        if "data_dir" in given:
            given["data_dir"] = Path(given["data_dir"]).expanduser()
        return replace(settings, **given) if given else settings


def parse_port(text: str | int, name: str) -> int:
    """A TCP port from the environment or an option: 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"invalid {name} {text!r}: expected a port, 0 to 65535") from None
    if not 0 <= value <= 65535:
        raise InvalidInput(f"invalid {name} {text!r}: expected a port, 0 to 65535")
    return value


def _seconds(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"invalid {name} {text!r}: expected seconds") from None
    if not 0 <= value <= MAX_LOCK_TIMEOUT:
        raise InvalidInput(f"invalid {name} {text!r}: expected seconds") from None
    return value
