"""The key requests an owner's node has answered: each (signer, nonce) once, kept until it expires.

SQLite under the data directory, so a request is refused a second time across restarts and across the
processes of one node (`proofwork serve` and a CLI command on the same data directory).
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import String, create_engine, delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from proofwork.domain.errors import DataDirCorrupted


class _Base(DeclarativeBase):
    pass


class _Used(_Base):
    __tablename__ = "used_key_requests"
    signer: Mapped[str] = mapped_column(String(42), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires: Mapped[int] = mapped_column(index=True)


class UsedKeyRequests:
    """`use(signer, nonce, ...)` is True once per pair; expired pairs are forgotten (their requests are
    refused for their expiry anyway)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
        self._lock = threading.Lock()
        try:
            _Base.metadata.create_all(self._engine)
        except SQLAlchemyError as exc:
            raise DataDirCorrupted(f"the key request database {path} cannot be opened") from exc

    def close(self) -> None:
        self._engine.dispose()

    def use(self, signer: str, nonce: bytes, expires: int, now: int) -> bool:
        try:
            with self._lock, Session(self._engine) as s, s.begin():
                s.execute(delete(_Used).where(_Used.expires < now))
                s.add(_Used(signer=signer.lower(), nonce=nonce.hex(), expires=expires))
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise DataDirCorrupted(
                f"the key request database cannot be written: {exc.__class__.__name__}"
            ) from exc
        return True
