"""A labeling service's state: its campaigns, their items (and the secret gold salts and labels), the
batches served, the signed answers and the rounds published.

SQLite under the data directory (`DATA_DIR/labeling.sqlite3`), so `proofwork serve`, the API and CLI
commands on one data directory share it. Every row carries the chain id and the LabelPayouts address:
an embedded chain reset under an old database, or a redeployment, never mixes campaigns. Each write is
one transaction: a refused batch stores nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, create_engine, event, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from proofwork.domain.errors import DataDirCorrupted, NotAllowed, NotFound


def labeling_db_path(data_dir: Path) -> Path:
    return data_dir / "labeling.sqlite3"


class _Base(DeclarativeBase):
    pass


class _Campaign(_Base):
    __tablename__ = "label_campaigns"
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payouts: Mapped[str] = mapped_column(String(42), primary_key=True)  # LabelPayouts, lower case
    campaign_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    client: Mapped[str] = mapped_column(String(42))
    spec: Mapped[str] = mapped_column(Text)  # the canonical spec JSON
    spec_hash: Mapped[str] = mapped_column(String(64))
    spec_cid: Mapped[str] = mapped_column(String(128))
    commitments_cid: Mapped[str] = mapped_column(String(128))
    close_time: Mapped[int] = mapped_column(BigInteger)
    uncertain: Mapped[str] = mapped_column(Text, default="[]")  # the last round's uncertain items (JSON)


class _Item(_Base):
    __tablename__ = "label_items"
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payouts: Mapped[str] = mapped_column(String(42), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    salt: Mapped[str] = mapped_column(String(64))  # hex: the commitment's salt (secret until revealed)
    gold: Mapped[str] = mapped_column(String(80), default="")  # the gold label, "" for other items
    revealed_round: Mapped[int] = mapped_column(BigInteger, default=0)  # gold revealed in (0: not yet)


class _Batch(_Base):
    __tablename__ = "label_batches"
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex
    chain_id: Mapped[int] = mapped_column(BigInteger, index=True)
    payouts: Mapped[str] = mapped_column(String(42))
    campaign_id: Mapped[int] = mapped_column(BigInteger, index=True)
    labeler: Mapped[str] = mapped_column(String(42), index=True)
    items: Mapped[str] = mapped_column(Text)  # JSON list of item CIDs
    issued_at: Mapped[int] = mapped_column(BigInteger)  # chain time
    issued_ms: Mapped[int] = mapped_column(BigInteger)  # wall clock, for the time spent per label
    expires_at: Mapped[int] = mapped_column(BigInteger)  # as signed by the labeler
    ended_at: Mapped[int] = mapped_column(BigInteger, default=0)  # ended early (gold revealed); 0: not
    answered_at: Mapped[int] = mapped_column(BigInteger, default=0)  # 0: not answered
    ms: Mapped[int] = mapped_column(BigInteger, default=0)  # milliseconds per answer
    signature: Mapped[str] = mapped_column(String(130), default="")


class _Answer(_Base):
    __tablename__ = "label_answers"
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payouts: Mapped[str] = mapped_column(String(42), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    labeler: Mapped[str] = mapped_column(String(42), primary_key=True)
    item: Mapped[str] = mapped_column(String(128), primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    batch_id: Mapped[str] = mapped_column(String(64), index=True)


class _Round(_Base):
    __tablename__ = "label_rounds"
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payouts: Mapped[str] = mapped_column(String(42), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    round: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bundle_cid: Mapped[str] = mapped_column(String(128))
    root: Mapped[str] = mapped_column(String(64))
    total: Mapped[str] = mapped_column(String(80))  # uint256 as decimal text
    owed: Mapped[str] = mapped_column(Text)  # JSON {labeler: cumulative} as decimal text
    tx_hash: Mapped[str] = mapped_column(String(66))


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: int
    client: str
    spec: str
    spec_hash: str
    spec_cid: str
    commitments_cid: str
    close_time: int
    uncertain: tuple[tuple[str, int], ...]  # the last round's uncertain items and their labels then


@dataclass(frozen=True)
class ItemRow:
    item: str
    position: int
    salt: bytes
    gold: str
    revealed_round: int


@dataclass(frozen=True)
class BatchRow:
    batch_id: bytes
    campaign_id: int
    labeler: str
    items: tuple[str, ...]
    issued_at: int
    issued_ms: int
    expires_at: int
    answered_at: int
    ms: int
    signature: bytes
    ended_at: int = 0  # ended before its expiry: a gold item of it was revealed

    @property
    def answered(self) -> bool:
        return self.answered_at != 0

    def open_at(self, now: int) -> bool:
        """Unanswered, unexpired and not ended: its items are out with its labeler."""
        return not self.answered and not self.ended_at and now <= self.expires_at


@dataclass(frozen=True)
class RoundRow:
    round: int
    bundle_cid: str
    root: bytes
    total: int
    owed: dict[str, int]
    tx_hash: str


def _batch(row: _Batch) -> BatchRow:
    return BatchRow(
        bytes.fromhex(row.batch_id),
        row.campaign_id,
        row.labeler,
        tuple(json.loads(row.items)),
        row.issued_at,
        row.issued_ms,
        row.expires_at,
        row.answered_at,
        row.ms,
        bytes.fromhex(row.signature),
        row.ended_at,
    )


class LabelingStore:
    """The state of one labeling service on one chain and LabelPayouts deployment."""

    def __init__(self, path: Path, chain_id: int, payouts: str) -> None:
        self._lock_path = path.with_name(path.name + ".lock")
        self.chain_id = chain_id
        self.payouts = payouts.lower()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._engine = create_engine(
            f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(self._engine, "connect", _sqlite_pragmas)
        self._lock = threading.Lock()
        try:
            _Base.metadata.create_all(self._engine)
        except SQLAlchemyError as exc:
            raise DataDirCorrupted(f"the labeling database {path} cannot be opened") from exc
        path.chmod(0o600)

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Held across a read-decide-write step (serving a batch, taking one, publishing a round), so
        processes sharing the data directory (`serve`, the API, CLI commands) never serve past the
        budget or take a batch twice."""
        import fcntl

        with open(self._lock_path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def __enter__(self) -> LabelingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with self._lock, Session(self._engine) as s, s.begin():
                yield s
        except (NotFound, NotAllowed):
            raise
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise DataDirCorrupted(f"the labeling database cannot be used: {exc.__class__.__name__}") from exc

    def _key(self, campaign_id: int) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "payouts": self.payouts, "campaign_id": campaign_id}

    # --- campaigns ---------------------------------------------------------------------------------

    def add_campaign(self, row: CampaignRow, items: Sequence[tuple[str, bytes, str]]) -> None:
        """Records a campaign created on chain with its items (item, salt, gold label or "")."""
        with self._session() as s:
            s.add(
                _Campaign(
                    **self._key(row.campaign_id),
                    client=row.client.lower(),
                    spec=row.spec,
                    spec_hash=row.spec_hash,
                    spec_cid=row.spec_cid,
                    commitments_cid=row.commitments_cid,
                    close_time=row.close_time,
                    uncertain="[]",
                )
            )
            for position, (item, salt, gold) in enumerate(items):
                s.add(
                    _Item(
                        **self._key(row.campaign_id), item=item, position=position, salt=salt.hex(), gold=gold
                    )
                )

    def campaign(self, campaign_id: int) -> CampaignRow:
        with self._session() as s:
            row = s.get(_Campaign, (self.chain_id, self.payouts, campaign_id))
            if row is None:
                raise NotFound(f"campaign {campaign_id} is not served by this labeling service")
            return CampaignRow(
                row.campaign_id,
                row.client,
                row.spec,
                row.spec_hash,
                row.spec_cid,
                row.commitments_cid,
                row.close_time,
                tuple((str(item), int(n)) for item, n in json.loads(row.uncertain)),
            )

    def campaign_ids(self) -> list[int]:
        with self._session() as s:
            q = select(_Campaign.campaign_id).where(
                _Campaign.chain_id == self.chain_id, _Campaign.payouts == self.payouts
            )
            return sorted(s.scalars(q))

    def set_uncertain(self, campaign_id: int, items: Sequence[tuple[str, int]]) -> None:
        with self._session() as s:
            s.execute(
                update(_Campaign)
                .where(*self._where(_Campaign, campaign_id))
                .values(uncertain=json.dumps([list(i) for i in items]))
            )

    def _where(self, table: Any, campaign_id: int) -> tuple[Any, ...]:
        return (
            table.chain_id == self.chain_id,
            table.payouts == self.payouts,
            table.campaign_id == campaign_id,
        )

    def items(self, campaign_id: int) -> list[ItemRow]:
        with self._session() as s:
            q = (
                select(_Item.item, _Item.position, _Item.salt, _Item.gold, _Item.revealed_round)
                .where(*self._where(_Item, campaign_id))
                .order_by(_Item.position)
            )
            return [
                ItemRow(item, position, bytes.fromhex(salt), gold, revealed)
                for item, position, salt, gold, revealed in s.execute(q)
            ]

    def reveal_gold(self, campaign_id: int, items: Sequence[str], round_: int) -> None:
        with self._session() as s:
            s.execute(
                update(_Item)
                .where(
                    *self._where(_Item, campaign_id), _Item.item.in_(list(items)), _Item.revealed_round == 0
                )
                .values(revealed_round=round_)
            )

    # --- batches -----------------------------------------------------------------------------------

    def add_batch(self, batch: BatchRow) -> None:
        with self._session() as s:
            s.add(
                _Batch(
                    batch_id=batch.batch_id.hex(),
                    chain_id=self.chain_id,
                    payouts=self.payouts,
                    campaign_id=batch.campaign_id,
                    labeler=batch.labeler.lower(),
                    items=json.dumps(list(batch.items)),
                    issued_at=batch.issued_at,
                    issued_ms=batch.issued_ms,
                    expires_at=batch.expires_at,
                    answered_at=0,
                    ended_at=0,
                    ms=0,
                    signature="",
                )
            )

    def batch(self, batch_id: bytes) -> BatchRow | None:
        with self._session() as s:
            row = s.get(_Batch, batch_id.hex())
            if row is None or row.chain_id != self.chain_id or row.payouts != self.payouts:
                return None
            return _batch(row)

    def batches(self, campaign_id: int, *, labeler: str | None = None) -> list[BatchRow]:
        with self._session() as s:
            q = select(_Batch).where(*self._where(_Batch, campaign_id))
            if labeler is not None:
                q = q.where(_Batch.labeler == labeler.lower())
            return [_batch(r) for r in s.scalars(q.order_by(_Batch.issued_at, _Batch.batch_id))]

    def expire_batches(self, campaign_id: int, items: Sequence[str], now: int) -> int:
        """Ends every unanswered, unexpired batch holding one of `items` (gold about to be revealed)."""
        wanted = set(items)
        ended = 0
        with self._session() as s:
            q = select(_Batch).where(
                *self._where(_Batch, campaign_id),
                _Batch.answered_at == 0,
                _Batch.ended_at == 0,
                _Batch.expires_at >= now,
            )
            for row in s.scalars(q):
                if wanted & set(json.loads(row.items)):
                    row.ended_at = now
                    ended += 1
        return ended

    def answer_batch(
        self,
        batch_id: bytes,
        labeler: str,
        answers: Sequence[tuple[str, str]],
        answered_at: int,
        ms: int,
        signature: bytes,
    ) -> None:
        """Stores a signed batch's answers, once: the batch must still be unanswered (a second
        submission races nobody into storing twice)."""
        with self._session() as s:
            row = s.get(_Batch, batch_id.hex())
            if row is None:
                raise NotFound(f"no batch 0x{batch_id.hex()}")
            if row.answered_at:
                raise NotAllowed(f"batch 0x{batch_id.hex()} was already answered")
            row.answered_at = answered_at
            row.ms = ms
            row.signature = signature.hex()
            for item, label in answers:
                s.add(
                    _Answer(
                        **self._key(row.campaign_id),
                        labeler=labeler.lower(),
                        item=item,
                        label=label,
                        batch_id=row.batch_id,
                    )
                )

    def answers(self, campaign_id: int) -> list[tuple[str, str, str, str]]:
        """Every answer (labeler, item, label, batch id hex), in a canonical order."""
        with self._session() as s:
            q = select(_Answer.labeler, _Answer.item, _Answer.label, _Answer.batch_id).where(
                *self._where(_Answer, campaign_id)
            )
            return sorted((str(a), str(b), str(c), str(d)) for a, b, c, d in s.execute(q))

    def labels_given(self, campaign_id: int, labeler: str | None = None) -> int:
        with self._session() as s:
            q = select(func.count()).select_from(_Answer).where(*self._where(_Answer, campaign_id))
            if labeler is not None:
                q = q.where(_Answer.labeler == labeler.lower())
            return int(s.scalar(q) or 0)

    # --- rounds ------------------------------------------------------------------------------------

    def add_round(self, campaign_id: int, row: RoundRow) -> None:
        with self._session() as s:
            s.add(
                _Round(
                    **self._key(campaign_id),
                    round=row.round,
                    bundle_cid=row.bundle_cid,
                    root=row.root.hex(),
                    total=str(row.total),
                    owed=json.dumps({k: str(v) for k, v in row.owed.items()}, sort_keys=True),
                    tx_hash=row.tx_hash,
                )
            )

    def rounds(self, campaign_id: int) -> list[RoundRow]:
        with self._session() as s:
            q = select(_Round).where(*self._where(_Round, campaign_id)).order_by(_Round.round)
            return [
                RoundRow(
                    r.round,
                    r.bundle_cid,
                    bytes.fromhex(r.root),
                    int(r.total),
                    {k: int(v) for k, v in json.loads(r.owed).items()},
                    r.tx_hash,
                )
                for r in s.scalars(q)
            ]


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
