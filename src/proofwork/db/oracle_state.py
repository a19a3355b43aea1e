"""An oracle's memory: every submission it scored and every report it signed.

Written before a report is shared, so a restarted oracle never scores the same submission
twice and always serves the report it already signed (signing two different scores for
one submission would be equivocation). SQLite by default, PostgreSQL by URL.

Every row carries the oracle's address and the chain id, both in the unique key, and an
`OracleState` is bound to one (oracle, chain) pair: oracles sharing one PostgreSQL database,
or an embedded chain reset under an old database, never read each other's reports.

Both databases hold and refuse the same things: every field is checked before it is written (PostgreSQL
enforces column lengths and refuses NUL characters, SQLite does neither), oracles starting together on
a new database all open it (whichever creates the table), and a PostgreSQL connection the server dropped
is replaced before use.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from proofwork.domain.errors import DataDirCorrupted, InvalidInput

# SQL BIGINT: ids, milestones, entries and rounds stored must fit in a signed 64-bit integer
MAX_STORED_INT = 2**63 - 1
KINDS = ("job", "public", "private", "final", "labels")
# scores are int256: at most 78 digits and a sign, stored as text
MIN_SCORE, MAX_SCORE = -(2**255), 2**255 - 1


def oracle_db_path(data_dir: Path, oracle: str) -> Path:
    """Where an oracle's SQLite database lives by default (the one place that names it)."""
    return data_dir / "oracles" / f"{oracle.lower()}.sqlite3"


class _Base(DeclarativeBase):
    pass


class _Report(_Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("oracle", "chain_id", "contract", "kind", "subject", "item", "round", "deliverable"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    oracle: Mapped[str] = mapped_column(String(42))  # the signing oracle's address, lower case
    chain_id: Mapped[int] = mapped_column(BigInteger)
    contract: Mapped[str] = mapped_column(String(42))  # committee or competition address, lower case
    kind: Mapped[str] = mapped_column(String(24))  # job | public | private | final | labels
    subject: Mapped[int] = mapped_column(BigInteger)  # job id or competition id
    item: Mapped[int] = mapped_column(BigInteger)  # milestone or entry (0 for final rankings)
    round: Mapped[int] = mapped_column(BigInteger)
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
    """The reports of one oracle on one chain (see `open`)."""

    def __init__(self, engine: Engine, *, oracle: str, chain_id: int, where: str = "") -> None:
        if not (isinstance(oracle, str) and len(oracle) == 42 and oracle.startswith("0x")):
            raise InvalidInput(f"invalid oracle address {oracle!r}")
        try:
            int(oracle[2:], 16)
        except ValueError:
            raise InvalidInput(f"invalid oracle address {oracle!r}") from None
        if isinstance(chain_id, bool) or not isinstance(chain_id, int) or not 0 < chain_id <= MAX_STORED_INT:
            raise InvalidInput(f"invalid chain id {chain_id!r}")
        self.oracle = oracle.lower()
        self.chain_id = chain_id
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        where = where or "the oracle database"
        try:
            try:
                _Base.metadata.create_all(engine)
            except SQLAlchemyError:
                # oracles starting together on a new database: another one's CREATE TABLE committed
                # between our check and ours (both SQLite and PostgreSQL refuse the second); it is there now
                _Base.metadata.create_all(engine)
            columns = {c["name"] for c in inspect(engine).get_columns(_Report.__tablename__)}
        except SQLAlchemyError as exc:
            engine.dispose()
            raise DataDirCorrupted(f"{where} cannot be opened: {_reason(exc)}") from exc
        missing = {c.name for c in _Report.__table__.columns} - columns
        if missing:
            engine.dispose()
            raise DataDirCorrupted(
                f"{where} was written by an older proofwork (no {', '.join(sorted(missing))} column): "
                "move it aside and restart the oracle"
            )

    @classmethod
    def open(cls, location: str | Path, *, oracle: str, chain_id: int) -> OracleState:
        """`location`: a SQLAlchemy URL (postgresql+psycopg://...) or a SQLite file path.
        The instance reads and writes only the rows of `oracle` on chain `chain_id`."""
        text = str(location)
        if "://" in text:
            try:
                url = make_url(text)
            except (ArgumentError, ValueError) as exc:
                raise InvalidInput("the oracle database URL is not a valid SQLAlchemy URL") from exc
            if url.drivername == "postgresql":
                url = url.set(drivername="postgresql+psycopg")  # the driver proofwork installs
        else:
            url = make_url("sqlite://").set(database=str(Path(text).expanduser().resolve()))
        shown = url.render_as_string(hide_password=True)
        is_sqlite = url.get_backend_name() == "sqlite"
        if is_sqlite and url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            parent = Path(url.database).parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DataDirCorrupted(
                    f"cannot create {parent} for the oracle database: {exc.strerror}"
                ) from exc
        try:
            options: dict[str, Any] = {}
            if url.get_backend_name() == "postgresql":
                # an unreachable server fails in seconds, not after the OS's TCP timeout; a connection
                # the server dropped (restart, idle timeout) is replaced before use, not reported
                options = {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}
            engine = create_engine(url, **options)
        except NoSuchModuleError as exc:
            raise InvalidInput(
                f"unknown database kind {url.drivername!r} in {shown}: use a SQLite path or postgresql+psycopg://"
            ) from exc
        except ImportError as exc:
            raise InvalidInput(
                f"the database driver for {url.drivername!r} is not installed ({exc.name})"
            ) from exc
        except (ArgumentError, SQLAlchemyError, ValueError, TypeError) as exc:
            raise InvalidInput(f"the oracle database URL {shown} cannot be used: {_reason(exc)}") from exc
        if is_sqlite:
            event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine, oracle=oracle, chain_id=chain_id, where=f"the oracle database {shown}")

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
            raise DataDirCorrupted(f"the oracle database failed: {_reason(exc)}") from exc

    def _mine(self, contract: str, kind: str, subject: int) -> Any:
        return (
            _Report.oracle == self.oracle,
            _Report.chain_id == self.chain_id,
            _Report.contract == contract.lower(),
            _Report.kind == kind,
            _Report.subject == _stored(subject, "id"),
        )

    def find(
        self, contract: str, kind: str, subject: int, item: int, round_: int, deliverable: str
    ) -> Report | None:
        with self._session() as session:
            row = session.scalars(
                select(_Report).where(
                    *self._mine(contract, kind, subject),
                    _Report.item == _stored(item, "item"),
                    _Report.round == _stored(round_, "round"),
                    _Report.deliverable == deliverable,
                )
            ).first()
            return Report._of(row) if row else None

    def save(self, report: Report) -> Report:
        """Stores a report once; if one is already there (a restart raced us), that one wins.

        Fields that no column can hold exactly are refused (InvalidInput) on every database; the
        unsigned `reason` is stored with NUL and unencodable characters escaped instead."""
        report = _checked(report)
        try:
            with self._session() as session:
                session.add(
                    _Report(
                        oracle=self.oracle,
                        chain_id=self.chain_id,
                        contract=report.contract.lower(),
                        kind=report.kind,
                        subject=_stored(report.subject, "id"),
                        item=_stored(report.item, "item"),
                        round=_stored(report.round, "round"),
                        deliverable=report.deliverable,
                        ok=report.ok,
                        score=str(report.score),
                        reason=report.reason,
                        payload=report.payload,
                        signature=report.signature,
                        created_at=time.time(),
                    )
                )
        except IntegrityError as exc:
            existing = self.find(
                report.contract, report.kind, report.subject, report.item, report.round, report.deliverable
            )
            if existing is None:
                raise DataDirCorrupted(
                    f"the oracle database refused a {report.kind} report for {report.subject} "
                    f"but holds none: {_reason(exc)}"
                ) from exc
            return existing
        return report

    def reports(self, contract: str, kind: str, subject: int, item: int | None = None) -> list[Report]:
        with self._session() as session:
            query = select(_Report).where(*self._mine(contract, kind, subject))
            if item is not None:
                query = query.where(_Report.item == _stored(item, "item"))
            return [Report._of(r) for r in session.scalars(query.order_by(_Report.id))]


def _checked(report: Report) -> Report:
    """The report as it will be stored, or InvalidInput: the same answer from SQLite and PostgreSQL."""
    contract = report.contract
    if not (
        isinstance(contract, str) and len(contract) == 42 and contract[:2] == "0x" and _is_hex(contract[2:])
    ):
        raise InvalidInput(f"invalid contract address {_shown(contract)} in a report")
    if report.kind not in KINDS:
        raise InvalidInput(f"invalid report kind {_shown(report.kind)}: expected one of {', '.join(KINDS)}")
    _stored(report.subject, "id")
    _stored(report.item, "item")
    _stored(report.round, "round")
    _ascii(report.deliverable, "deliverable", 66)
    _ascii(report.signature, "signature", 140)
    if not isinstance(report.ok, bool):
        raise InvalidInput(f"invalid report outcome {_shown(report.ok)}: expected true or false")
    score = report.score
    if isinstance(score, bool) or not isinstance(score, int) or not MIN_SCORE <= score <= MAX_SCORE:
        raise InvalidInput(f"invalid score {_shown(score)}: scores are int256")
    if not isinstance(report.payload, str) or _escaped(report.payload) != report.payload:
        raise InvalidInput("a report payload must be text without NUL or unencodable characters")
    if not isinstance(report.reason, str):
        raise InvalidInput(f"invalid report reason {_shown(report.reason)}: expected text")
    return replace(report, reason=_escaped(report.reason))


def _is_hex(value: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in value)


def _ascii(value: object, what: str, limit: int) -> None:
    if not (isinstance(value, str) and len(value) <= limit and value.isascii() and value.isprintable()):
        raise InvalidInput(
            f"invalid report {what} {_shown(value)}: expected at most {limit} printable ASCII characters"
        )


def _escaped(value: str) -> str:
    """`value` with NUL (PostgreSQL refuses it in text) and lone surrogates (not UTF-8) escaped."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _stored(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_STORED_INT:
        raise InvalidInput(f"invalid {what} {value!r}: the oracle database holds 0 to 2^63 - 1")
    return value


def _reason(exc: BaseException) -> str:
    """One line about a database error, without its SQL or parameters."""
    orig = getattr(exc, "orig", None)
    detail = str(orig if orig is not None else exc).strip().splitlines()
    text = f"{exc.__class__.__name__}: {detail[0]}" if detail else exc.__class__.__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
