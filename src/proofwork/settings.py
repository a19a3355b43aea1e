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
| PROOFWORK_MAX_FEE_GWEI | the most a transaction on a node may pay per gas, replacements included | 200 |
| PROOFWORK_TX_REPLACE_AFTER | seconds a transaction may stay unmined before it is replaced with higher fees | 30 |
| PROOFWORK_TX_FEE_BUMP | percent a replacement raises both fees by (at least 10, as geth requires) | 12.5 |
| PROOFWORK_TX_MAX_WAIT | seconds a command waits for its transaction to be mined before it gives up | 300 |
| PROOFWORK_DEBUG | internal errors print their traceback | off |
| PROOFWORK_SANDBOX_DEBUG | the evaluation sandbox keeps its worker's stderr | off |
| PROOFWORK_INDEX_DB | the chain index: a SQLite file or a SQLAlchemy URL (postgresql+psycopg://...) | DATA_DIR/index.sqlite3 |
| PROOFWORK_INDEX_CONFIRMATIONS | blocks the indexer stays behind the head (reorgs deeper are rolled back) | 0 on dev chains, else 12 |
| PROOFWORK_INDEX_CHUNK | most blocks in one eth_getLogs request (halved when a node refuses the range) | 2000 |
| PROOFWORK_WEB_DEV_MODE | the web app may sign with the dev accounts (local chains only; marked on every page) | off |
| PROOFWORK_EXPLORER_URL | a block explorer's transaction URL prefix for the web app's links (`.../tx/`) | (the app's own page) |
| PROOFWORK_API_DOMAIN | the host[:port] Sign-In with Ethereum messages must name | (the request's Host) |
| PROOFWORK_API_UPLOAD_LIMIT | largest artifact upload, bytes | 10485760 |
| PROOFWORK_API_RATE_LIMIT | API requests per minute per client address (burst as large) | 600 |
| PROOFWORK_API_SESSION_TTL | seconds an API session lasts | 86400 |
| PROOFWORK_SERVE_HOST | `proofwork serve`: the loopback interface it listens on | 127.0.0.1 |
| PROOFWORK_SERVE_PORT | `proofwork serve`: the port of the web app and API (0: any free port) | 8000 |
| PROOFWORK_RPC_PORT | `proofwork serve`: the port of the embedded chain's JSON-RPC (0: any free port) | 8545 |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from proofwork.domain.errors import InvalidInput

MAX_LOCK_TIMEOUT = 86_400.0
MAX_INDEX_CONFIRMATIONS = 10_000
MAX_INDEX_CHUNK = 1_000_000
GWEI = 10**9
MAX_FEE_CAP_GWEI = 1_000_000  # 1 ETH per gas: any larger cap is a typo
MIN_FEE_BUMP, MAX_FEE_BUMP = 10.0, 1000.0


def _home() -> Path:
    return Path.home()


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: _home() / ".proofwork")
    rpc_url: str | None = None
    store: str | None = None
    password: str | None = field(default=None, repr=False)
    lock_timeout: float = 30.0
    # transactions on a JSON-RPC node (the embedded chain mines each one as it is sent)
    max_fee_per_gas: int = 200 * GWEI  # wei
    tx_replace_after: float = 30.0
    tx_fee_bump: float = 12.5  # percent
    tx_max_wait: float = 300.0
    debug: bool = False
    sandbox_debug: bool = False
    index_db: str | None = None  # None: DATA_DIR/index.sqlite3 (see `index_location`)
    index_confirmations: int | None = None  # None: 0 on a local dev chain, else DEFAULT_CONFIRMATIONS
    index_chunk: int = 2000
    web_dev_mode: bool = False
    # the API's dev mode (it may sign with the dev accounts): None decides by the chain, on when the
    # embedded chain is opened in-process (no rpc_url); `proofwork serve` sets it, since it reaches even
    # its own embedded chain through an RPC URL
    api_dev_mode: bool | None = None
    explorer_url: str | None = None
    api_domain: str | None = None
    api_upload_limit: int = 10 * 1024 * 1024
    api_rate_limit: int = 600
    api_session_ttl: int = 86_400
    serve_host: str = "127.0.0.1"
    serve_port: int = 8000
    rpc_port: int = 8545

    @property
    def index_location(self) -> str:
        """Where the chain index lives: the configured SQLite path or URL, else DATA_DIR/index.sqlite3."""
        return self.index_db or str(self.data_dir / "index.sqlite3")

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
            "max_fee_per_gas": _gwei(get("PROOFWORK_MAX_FEE_GWEI") or "200", "PROOFWORK_MAX_FEE_GWEI"),
            "tx_replace_after": _positive_seconds(
                get("PROOFWORK_TX_REPLACE_AFTER") or "30", "PROOFWORK_TX_REPLACE_AFTER"
            ),
            "tx_fee_bump": _bump(get("PROOFWORK_TX_FEE_BUMP") or "12.5"),
            "tx_max_wait": _positive_seconds(get("PROOFWORK_TX_MAX_WAIT") or "300", "PROOFWORK_TX_MAX_WAIT"),
            "debug": bool(get("PROOFWORK_DEBUG")),
            "sandbox_debug": bool(get("PROOFWORK_SANDBOX_DEBUG")),
            "index_db": get("PROOFWORK_INDEX_DB"),
            "index_confirmations": _count(
                get("PROOFWORK_INDEX_CONFIRMATIONS"),
                "PROOFWORK_INDEX_CONFIRMATIONS",
                0,
                MAX_INDEX_CONFIRMATIONS,
            ),
            "index_chunk": _count(get("PROOFWORK_INDEX_CHUNK"), "PROOFWORK_INDEX_CHUNK", 1, MAX_INDEX_CHUNK)
            or 2000,
            "web_dev_mode": bool(get("PROOFWORK_WEB_DEV_MODE")),
            "explorer_url": get("PROOFWORK_EXPLORER_URL"),
            "api_domain": get("PROOFWORK_API_DOMAIN"),
            "api_upload_limit": _count(
                get("PROOFWORK_API_UPLOAD_LIMIT"), "PROOFWORK_API_UPLOAD_LIMIT", 1, 2**53 - 1
            )
            or 10 * 1024 * 1024,
            "api_rate_limit": _count(
                get("PROOFWORK_API_RATE_LIMIT"), "PROOFWORK_API_RATE_LIMIT", 1, 2**53 - 1
            )
            or 600,
            "api_session_ttl": _count(
                get("PROOFWORK_API_SESSION_TTL"), "PROOFWORK_API_SESSION_TTL", 1, 2**53 - 1
            )
            or 86_400,
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


def _count(text: str | None, name: str, low: int, high: int) -> int | None:
    """A whole number from `low` to `high` (None when unset), or a one-line InvalidInput."""
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidInput(f"invalid {name} {text!r}: expected a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise InvalidInput(f"invalid {name} {text!r}: expected a whole number from {low} to {high}")
    return value


def _positive_seconds(text: str, name: str) -> float:
    value = _seconds(text, name)
    if value <= 0:
        raise InvalidInput(f"invalid {name} {text!r}: expected seconds above 0")
    return value


def _gwei(text: str, name: str) -> int:
    """A fee per gas given in gwei (decimals allowed, to the wei), in wei."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(f"invalid {name} {text!r}: expected gwei, e.g. 200 or 0.05") from None
    if not value.is_finite() or not 0 < value <= MAX_FEE_CAP_GWEI or (value * GWEI) % 1:
        raise InvalidInput(
            f"invalid {name} {text!r}: expected gwei above 0, at most {MAX_FEE_CAP_GWEI}, to the wei"
        )
    return int(value * GWEI)


def _bump(text: str) -> float:
    name = "PROOFWORK_TX_FEE_BUMP"
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"invalid {name} {text!r}: expected a percentage") from None
    if not MIN_FEE_BUMP <= value <= MAX_FEE_BUMP:
        raise InvalidInput(
            f"invalid {name} {text!r}: expected {MIN_FEE_BUMP:g} to {MAX_FEE_BUMP:g} percent "
            "(nodes refuse a replacement raising fees by less than 10 %)"
        )
    return value
