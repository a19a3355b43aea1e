"""The API's sign-in state: single-use SIWE nonces and sessions, in SQLite under the data directory.

Kept on disk so that sessions survive a restart of the server. Session tokens are stored only as
their SHA-256 digest: a copy of the database does not let anyone act as a signed-in user.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from sqlalchemy import String, create_engine, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from proofwork.domain.errors import DataDirCorrupted


class _Base(DeclarativeBase):
    pass


class _Nonce(_Base):
    __tablename__ = "siwe_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires: Mapped[int] = mapped_column()


class _Session(_Base):
    __tablename__ = "api_sessions"
    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(42), index=True)
    expires: Mapped[int] = mapped_column()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Nonces (issued, then consumed once) and sessions (token digest -> address, expiry)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
        self._lock = threading.Lock()
        try:
            _Base.metadata.create_all(self._engine)
        except SQLAlchemyError as exc:
            raise DataDirCorrupted(f"the API session database {path} cannot be opened") from exc

    def close(self) -> None:
        self._engine.dispose()

    def add_nonce(self, nonce: str, expires: int, now: int) -> None:
        with self._lock, Session(self._engine) as s, s.begin():
            s.execute(delete(_Nonce).where(_Nonce.expires <= now))  # forget the expired ones
            s.add(_Nonce(nonce=nonce, expires=expires))

    def consume_nonce(self, nonce: str, now: int) -> bool:
        """True once for a nonce issued here and not expired; False ever after (or for any other)."""
        with self._lock, Session(self._engine) as s, s.begin():
            row = s.get(_Nonce, nonce)
            if row is None:
                return False
            s.delete(row)
            return row.expires > now

    def add_session(self, token: str, address: str, expires: int, now: int) -> None:
        with self._lock, Session(self._engine) as s, s.begin():
            s.execute(delete(_Session).where(_Session.expires <= now))
            s.add(_Session(token_digest=_digest(token), address=address, expires=expires))

    def session(self, token: str, now: int) -> tuple[str, int] | None:
        """(address, expiry) of a live session, else None."""
        with self._lock, Session(self._engine) as s:
            row = s.execute(
                select(_Session).where(_Session.token_digest == _digest(token))
            ).scalar_one_or_none()
            if row is None or row.expires <= now:
                return None
            return row.address, row.expires

    def end_session(self, token: str) -> None:
        with self._lock, Session(self._engine) as s, s.begin():
            s.execute(delete(_Session).where(_Session.token_digest == _digest(token)))
