"""An oracle's memory: every submission it scored and every report it signed.

Written before a report is shared, so a restarted oracle never scores the same submission
twice and always serves the report it already signed (signing two different scores for
one submission would be equivocation). SQLite by default, PostgreSQL by URL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Boolean, Float, Integer, String, Text, UniqueConstraint, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from proofwork.domain.errors import DataDirCorrupted


class _Base(DeclarativeBase):
    pass


class _Report(_Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("contract", "kind", "subject", "item", "round", "deliverable"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract: Mapped[str] = mapped_column(String(42))  # committee or competition address, lower case
    kind: Mapped[str] = mapped_column(String(24))  # job | public | final
    subject: Mapped[int] = mapped_column(Integer)  # job id or competition id
    item: Mapped[int] = mapped_column(Integer)  # milestone or entry (0 for final rankings)
    round: Mapped[int] = mapped_column(Integer)
    deliverable: Mapped[str] = mapped_column(String(66))  # hex digest of what was scored
    ok: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[str] = mapped_column(String(80))  # int256 as decimal text (beyond SQLite's int64)
    reason: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="")  # JSON of extra signed content (rankings)
    signature: Mapped[str] = mapped_column(String(140))
    created_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class Report:
    contract: str
    kind: str
    subject: int
    item: int
    round: int
    deliverable: str
    ok: bool
    score: int
    reason: str
    signature: str
    payload: str = ""

    @classmethod
    def _of(cls, row: _Report) -> Report:
        return cls(
            row.contract,
            row.kind,
            row.subject,
            row.item,
            row.round,
            row.deliverable,
            row.ok,
            int(row.score),
            row.reason,
            row.signature,
            row.payload,
        )


class OracleState:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        try:
            _Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise DataDirCorrupted(f"the oracle database cannot be opened: {exc.__class__.__name__}") from exc

    @classmethod
    def open(cls, location: str | Path) -> OracleState:
        """`location`: a SQLAlchemy URL (postgresql+psycopg://...) or a SQLite file path."""
        text = str(location)
        url = text if "://" in text else f"sqlite:///{Path(text).resolve()}"
        if url.startswith("sqlite"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine)

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise DataDirCorrupted(f"the oracle database failed: {exc.__class__.__name__}") from exc

    def find(
        self, contract: str, kind: str, subject: int, item: int, round_: int, deliverable: str
    ) -> Report | None:
        with self._session() as session:
            row = session.scalars(
                select(_Report).where(
                    _Report.contract == contract.lower(),
                    _Report.kind == kind,
                    _Report.subject == subject,
                    _Report.item == item,
                    _Report.round == round_,
                    _Report.deliverable == deliverable,
                )
            ).first()
            return Report._of(row) if row else None

    def save(self, report: Report) -> Report:
        """Stores a report once; if one is already there (a restart raced us), that one wins."""
        try:
            with self._session() as session:
                session.add(
                    _Report(
                        contract=report.contract.lower(),
                        kind=report.kind,
                        subject=report.subject,
                        item=report.item,
                        round=report.round,
                        deliverable=report.deliverable,
                        ok=report.ok,
                        score=str(report.score),
                        reason=report.reason,
                        payload=report.payload,
                        signature=report.signature,
                        created_at=time.time(),
                    )
                )
        except IntegrityError:
            existing = self.find(
                report.contract, report.kind, report.subject, report.item, report.round, report.deliverable
            )
            assert existing is not None
            return existing
        return report

    def reports(self, contract: str, kind: str, subject: int, item: int | None = None) -> list[Report]:
        with self._session() as session:
            query = select(_Report).where(
                _Report.contract == contract.lower(), _Report.kind == kind, _Report.subject == subject
            )
            if item is not None:
                query = query.where(_Report.item == item)
            return [Report._of(r) for r in session.scalars(query.order_by(_Report.id))]

    def count(self) -> int:
        with self._session() as session:
            return len(list(session.scalars(select(_Report.id))))


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
