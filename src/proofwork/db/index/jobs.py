"""The jobs projection of the chain index (`index_jobs`): every job of every indexed escrow, folded from
its events with the domain's fold (`job.fold`, the one the log-based reads use), with the fields
lists filter on and the skill its client declared (the job attester's `SkillDeclared`).

It is written in the transaction of the batch of events it comes from (`IndexStore.write_batch`,
`IndexStore.rollback`), so the projection is always the fold of the events stored beside it:
- a batch folds its events into the jobs' stored state, each job remembering the position of the last
  event folded in, so a batch written twice folds nothing twice (idempotent);
- a rollback folds the jobs it touched again from the events that remain (and removes the jobs
  created above the ancestor), which is what a fresh index of the chain holds.

A skill is matched to its job by job id and client (the attester lets only the client declare it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, delete, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from proofwork.db.index.models import UINT256_BYTES, EventRow, JobRecordRow, JobRow
from proofwork.domain import job as J
from proofwork.domain.indexed_jobs import (
    ATTESTER_CONTRACT,
    ESCROW_CONTRACT,
    EVENT_TYPES,
    SKILL_EVENT,
    job_event,
    job_from_record,
    job_id_of,
    job_record,
)
from proofwork.domain.indexing import IndexedEvent

Db = Session | Connection
Position = tuple[int, int, int]  # (block, transaction index, log index)

# job ids per IN (...) (SQLite allows 32,766 bound parameters)
_IDS_PER_QUERY = 1000
_JOB_EVENTS = tuple(EVENT_TYPES)
MAX_UINT256 = 2**256 - 1


def _table() -> Table:
    table = JobRow.__table__
    assert isinstance(table, Table)
    return table


def _records() -> Table:
    table = JobRecordRow.__table__
    assert isinstance(table, Table)
    return table


def _joined() -> Any:
    t, r = _table(), _records()
    return t.join(r, and_(r.c.chain_id == t.c.chain_id, r.c.escrow == t.c.escrow, r.c.job_id == t.c.job_id))


def _insert(db: Db) -> Callable[[Table], Any]:
    dialect = db.get_bind().dialect if isinstance(db, Session) else db.dialect
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


@dataclass
class _State:
    job: J.Job
    created_block: int
    cursor: Position
    skill: str | None = None
    skill_block: int | None = None
    changed: bool = False


def _chunks(values: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(values)
    for i in range(0, len(ordered), _IDS_PER_QUERY):
        yield ordered[i : i + _IDS_PER_QUERY]


def _relevant(events: Iterable[IndexedEvent]) -> tuple[list[tuple[IndexedEvent, int]], list[IndexedEvent]]:
    escrow = []
    skills = []
    for e in events:
        if e.contract == ESCROW_CONTRACT and e.name in EVENT_TYPES:
            job_id = job_id_of(e.args)
            if job_id is not None:
                escrow.append((e, job_id))
        elif e.contract == ATTESTER_CONTRACT and e.name == SKILL_EVENT and job_id_of(e.args) is not None:
            skills.append(e)
    return escrow, skills


def _fold(
    states: dict[tuple[str, int], _State],
    escrow_events: Sequence[tuple[IndexedEvent, int]],
    skills: Sequence[IndexedEvent],
) -> None:
    """Folds the events (in chain order) into `states`, skipping those already folded in."""
    for e, job_id in escrow_events:
        key = (e.address, job_id)
        state = states.get(key)
        position = (e.block_number, e.tx_index, e.log_index)
        if state is not None and position <= state.cursor:
            continue  # folded in already (the batch is written again)
        event = job_event(e.name, e.args)
        if event is None:
            continue
        job = J.fold(state.job if state is not None else None, event)
        if job is None:
            continue  # an event before its job's creation: none on a proofwork escrow
        if state is None or isinstance(event, J.JobCreated):
            kept = (state.skill, state.skill_block) if state is not None else (None, None)
            state = states[key] = _State(job, e.block_number, position, *kept)
        state.job = job
        state.cursor = position
        state.changed = True
    for e in skills:
        declared = job_id_of(e.args)
        client = str(e.args.get("client", "")).lower()
        skill = e.args.get("skill")
        if not isinstance(skill, str) or not skill:
            continue
        for (_, state_id), found in states.items():
            same_job = state_id == declared and found.job.client.lower() == client
            if same_job and (found.skill, found.skill_block) != (skill, e.block_number):
                found.skill, found.skill_block = skill, e.block_number
                found.changed = True


def _load(db: Db, chain_id: int, job_ids: set[int]) -> dict[tuple[str, int], _State]:
    """The stored state of the jobs with these ids (on every escrow of the chain)."""
    table = _table()
    states: dict[tuple[str, int], _State] = {}
    for ids in _chunks(job_ids):
        query = select(table, _records().c.job).select_from(_joined())
        rows = db.execute(query.where(table.c.chain_id == chain_id, table.c.job_id.in_(ids)))
        for r in rows:
            states[(r.escrow, r.job_id)] = _State(
                job_from_record(r.job),
                r.created_block,
                (r.last_block, r.last_tx_index, r.last_log_index),
                r.skill,
                r.skill_block,
            )
    return states


def _write(db: Db, chain_id: int, states: dict[tuple[str, int], _State]) -> None:
    changed = [(key, s) for key, s in sorted(states.items()) if s.changed]
    if not changed:
        return
    rows = [
        {
            "chain_id": chain_id,
            "escrow": escrow,
            "job_id": job_id,
            "client": s.job.client.lower(),
            "freelancer": s.job.freelancer.lower(),
            "arbiter": s.job.arbiter.lower(),
            "state": s.job.status,
            "budget": s.job.budget,
            "skill": s.skill,
            "skill_block": s.skill_block,
            "created_block": s.created_block,
            "last_block": s.cursor[0],
            "last_tx_index": s.cursor[1],
            "last_log_index": s.cursor[2],
        }
        for (escrow, job_id), s in changed
    ]
    records = [
        {"chain_id": chain_id, "escrow": escrow, "job_id": job_id, "job": job_record(s.job)}
        for (escrow, job_id), s in changed
    ]
    for table, values in ((_table(), rows), (_records(), records)):
        db.execute(_upsert(_insert(db), table), values)


_KEYS = ("chain_id", "escrow", "job_id")
_UPSERTS: dict[tuple[Any, str], Any] = {}


def _upsert(insert: Callable[[Table], Any], table: Table) -> Any:
    """INSERT ... ON CONFLICT (the job) DO UPDATE every other column; built once per dialect."""
    key = (insert, table.name)
    statement = _UPSERTS.get(key)
    if statement is None:
        statement = insert(table)
        statement = _UPSERTS[key] = statement.on_conflict_do_update(
            index_elements=list(_KEYS),
            set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in _KEYS},
        )
    return statement


def project_batch(db: Db, chain_id: int, events: Sequence[IndexedEvent]) -> None:
    """Folds a batch's events into the jobs they are about (in the batch's transaction)."""
    escrow_events, skills = _relevant(events)
    if not escrow_events and not skills:
        return
    ids = {job_id for _, job_id in escrow_events} | {job_id_of(e.args) or 0 for e in skills}
    states = _load(db, chain_id, ids)
    _fold(states, escrow_events, skills)
    _write(db, chain_id, states)


def _stored_events(db: Db, chain_id: int, job_ids: set[int] | None) -> list[IndexedEvent]:
    """The stored job events and skill declarations (of these jobs; of all when None), in chain order."""
    wanted = or_(
        and_(EventRow.contract == ESCROW_CONTRACT, EventRow.name.in_(_JOB_EVENTS)),
        and_(EventRow.contract == ATTESTER_CONTRACT, EventRow.name == SKILL_EVENT),
    )
    base = select(EventRow.__table__).where(EventRow.chain_id == chain_id, wanted)
    queries = (
        [base]
        if job_ids is None
        else [
            base.where(EventRow.args["job_id"].as_string().in_([str(i) for i in ids]))
            for ids in _chunks(job_ids)
        ]
    )
    found = []
    for query in queries:
        for r in db.execute(query):
            found.append(IndexedEvent.from_row(r))
    found.sort(key=lambda e: (e.block_number, e.tx_index, e.log_index))
    return found


def _refold(db: Db, chain_id: int, job_ids: set[int] | None) -> None:
    """The jobs (these ids; all when None) folded again from the stored events alone."""
    states: dict[tuple[str, int], _State] = {}
    escrow_events, skills = _relevant(_stored_events(db, chain_id, job_ids))
    _fold(states, escrow_events, skills)
    _write(db, chain_id, states)


def project_rollback(db: Db, chain_id: int, to_block: int) -> None:
    """After the events above `to_block` were removed (same transaction): the jobs created above it
    are removed, those changed above it folded again from what remains."""
    table = _table()
    touched = {
        int(r.job_id)
        for r in db.execute(
            select(table.c.job_id).where(
                table.c.chain_id == chain_id,
                or_(table.c.last_block > to_block, table.c.skill_block > to_block),
            )
        )
    }
    if not touched:
        return
    for ids in _chunks(touched):
        for each in (table, _records()):
            db.execute(delete(each).where(each.c.chain_id == chain_id, each.c.job_id.in_(ids)))
    _refold(db, chain_id, touched)


def project_all(db: Db) -> None:
    """Every chain's jobs folded from the stored events (an index made before the projection)."""
    chains = [int(c) for (c,) in db.execute(select(EventRow.chain_id).distinct())]
    for chain_id in chains:
        _refold(db, chain_id, None)


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobQuery:
    client: str | None = None  # lower case
    freelancer: str | None = None
    involving: str | None = None  # client, freelancer or arbiter
    state: str | None = None
    skill: str | None = None
    min_budget: int | None = None
    max_budget: int | None = None


def _uint(value: int) -> bytes:
    return value.to_bytes(UINT256_BYTES, "big")  # as the Uint256 columns store it


def _conditions(chain_id: int, escrow: str, q: JobQuery) -> tuple[list[str], dict[str, Any]] | None:
    """The WHERE of a query, as SQL fragments and their bound values (None: nothing can match).

    Plain SQL text (the same on SQLite and PostgreSQL; every value bound): a job list is the API's
    busiest read, and building the statement from expressions cost more than running it."""
    where = ["j.chain_id = :chain_id", "j.escrow = :escrow"]
    values: dict[str, Any] = {"chain_id": chain_id, "escrow": escrow.lower()}
    if q.client:
        where.append("j.client = :client")
        values["client"] = q.client.lower()
    if q.freelancer:
        where.append("j.freelancer = :freelancer")
        values["freelancer"] = q.freelancer.lower()
    if q.involving:
        where.append("(j.client = :who OR j.freelancer = :who OR j.arbiter = :who)")
        values["who"] = q.involving.lower()
    if q.state:
        where.append("j.state = :state")
        values["state"] = q.state
    if q.skill:
        where.append("j.skill = :skill")
        values["skill"] = q.skill
    if q.min_budget is not None:
        if q.min_budget > MAX_UINT256:
            return None
        where.append("j.budget >= :min_budget")
        values["min_budget"] = _uint(max(0, q.min_budget))
    if q.max_budget is not None:
        if q.max_budget < 0:
            return None
        where.append("j.budget <= :max_budget")
        values["max_budget"] = _uint(min(MAX_UINT256, q.max_budget))
    return where, values


_PAGE = (
    "SELECT r.job, j.skill, c.block, c.hash FROM index_jobs j JOIN index_job_records r"
    " ON r.chain_id = j.chain_id AND r.escrow = j.escrow AND r.job_id = j.job_id"
    " JOIN index_checkpoints c ON c.chain_id = j.chain_id"
)


def query_jobs(
    db: Db,
    chain_id: int,
    escrow: str,
    q: JobQuery,
    *,
    before: int | None,
    limit: int | None,
    count: bool = True,
) -> tuple[list[tuple[J.Job, str | None]], int | None, bool, tuple[int, str] | None]:
    """(jobs newest first with their skill, below `before`, at most `limit`; the count matching `q`
    on every page, when `count`; whether more jobs follow the page; the checkpoint (block, hash) the
    page was read at, None when the page is empty)."""
    found = _conditions(chain_id, escrow, q)
    if found is None:
        return [], 0, False, None
    where, values = found
    total = None
    if count:
        counted = db.execute(text(f"SELECT COUNT(*) FROM index_jobs j WHERE {' AND '.join(where)}"), values)
        total = int(counted.scalar_one())
    if before is not None:
        if before <= 0:
            return [], total, False, None
        if before <= MAX_UINT256:
            where = [*where, "j.job_id < :before"]
            values = {**values, "before": _uint(before)}
    sql = f"{_PAGE} WHERE {' AND '.join(where)} ORDER BY j.job_id DESC"
    if limit is not None:
        sql += " LIMIT :limit"
        values = {**values, "limit": limit + 1}
    rows = db.execute(text(sql), values).all()
    more = limit is not None and len(rows) > limit
    at = (int(rows[0][2]), str(rows[0][3])) if rows else None
    rows = rows[:limit] if limit is not None else rows
    return [(job_from_record(_json(r[0])), r[1]) for r in rows], total, more, at


def _json(value: Any) -> dict[str, Any]:
    """A JSON column read through plain SQL: text on SQLite, already decoded by PostgreSQL's driver."""
    return json.loads(value) if isinstance(value, str | bytes) else dict(value)


def dump_jobs(db: Db, chain_id: int) -> list[tuple[Any, ...]]:
    t = _table()
    query = select(t, _records().c.job).select_from(_joined()).where(t.c.chain_id == chain_id)
    return [tuple(r) for r in db.execute(query.order_by(t.c.escrow, t.c.job_id))]


def events_of_jobs(
    db: Db,
    chain_id: int,
    address: str,
    contract: str,
    job_ids: Iterable[int] | None,
    names: Sequence[str] = (),
) -> list[IndexedEvent]:
    """The stored events of one contract (its address and name) about these jobs (all of them when
    None), of these names (all when empty), in chain order."""
    base = select(EventRow.__table__).where(
        EventRow.chain_id == chain_id, EventRow.contract == contract, EventRow.address == address.lower()
    )
    if names:
        base = base.where(EventRow.name.in_(list(names)))
    queries = (
        [base]
        if job_ids is None
        else [
            base.where(EventRow.args["job_id"].as_string().in_([str(i) for i in ids]))
            for ids in _chunks(set(job_ids))
        ]
    )
    found = [IndexedEvent.from_row(r) for query in queries for r in db.execute(query)]
    found.sort(key=lambda e: (e.block_number, e.tx_index, e.log_index))
    return found


def job_by_id(db: Db, chain_id: int, escrow: str, job_id: int) -> tuple[J.Job, str | None] | None:
    """One job of the projection and its declared skill (None: not there)."""
    if not 0 <= job_id <= MAX_UINT256:
        return None
    sql = (
        "SELECT r.job, j.skill FROM index_jobs j JOIN index_job_records r ON r.chain_id = j.chain_id"
        " AND r.escrow = j.escrow AND r.job_id = j.job_id"
        " WHERE j.chain_id = :chain_id AND j.escrow = :escrow AND j.job_id = :job_id"
    )
    row = db.execute(
        text(sql), {"chain_id": chain_id, "escrow": escrow.lower(), "job_id": _uint(job_id)}
    ).first()
    return None if row is None else (job_from_record(_json(row[0])), row[1])
