"""The chain index's database, on SQLite and on a real PostgreSQL server: the migrations make exactly
the models' schema, writes are all-or-nothing compare-and-set batches, and reads filter as stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from proofwork.db.index import Checkpoint, CheckpointMoved, IndexedContract, IndexStore
from proofwork.db.index import store as store_module
from proofwork.db.index.migrate import VERSION_TABLE, current, head
from proofwork.db.index.models import Base
from proofwork.domain.errors import DataDirCorrupted, InvalidInput
from proofwork.domain.indexing import IndexedEvent
from tests.conftest import PostgresServer

CHAIN = 31337
ESCROW = "0x" + "ab" * 20
BIG = 2**256 - 1


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "index.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


def event(block: int, tx: int, log: int = 0, name: str = "JobCreated", **args: object) -> IndexedEvent:
    return IndexedEvent(
        block,
        f"0x{block:064x}",
        f"0x{tx:064x}",
        0,
        log,
        ESCROW,
        "JobEscrow",
        name,
        {"job_id": str(tx), **{k: v for k, v in args.items()}},
    )


def engine_url(location: str) -> str:
    return location if "://" in location else f"sqlite:///{location}"


def test_the_migrations_make_exactly_the_models_schema(location: str) -> None:
    IndexStore.open(location).close()
    engine = create_engine(engine_url(location))
    try:
        with engine.connect() as connection:
            assert current(connection) == head()
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            assert compare_metadata(context, Base.metadata) == []
        tables = set(inspect(engine).get_table_names())
        assert tables == {
            "index_events",
            "index_blocks",
            "index_checkpoints",
            "index_contracts",
            "index_jobs",
            "index_job_records",
            VERSION_TABLE,
        }
    finally:
        engine.dispose()


def test_opening_twice_migrates_once_and_keeps_the_rows(location: str) -> None:
    with IndexStore.open(location) as store:
        store.begin(CHAIN, Checkpoint(9, "0x09"))
        store.write_batch(CHAIN, Checkpoint(9, "0x09"), Checkpoint(12, "0x0c"), [event(10, 1)])
    with IndexStore.open(location) as store:
        assert store.checkpoint(CHAIN) == Checkpoint(12, "0x0c")
        assert store.count(CHAIN) == 1


def test_a_batch_is_written_once_however_often_it_is_written(location: str) -> None:
    events = [event(10, 1), event(10, 1, 1, "Transfer", value=str(BIG)), event(11, 2)]
    with IndexStore.open(location) as store:
        start = store.begin(CHAIN, Checkpoint(9, "0x09"))
        store.write_batch(CHAIN, start, Checkpoint(11, "0x0b"), events)
        first = store.dump(CHAIN)
        # the same logs again (a pass killed after its commit, resumed from an older checkpoint)
        store.write_batch(CHAIN, Checkpoint(11, "0x0b"), Checkpoint(11, "0x0b"), events)
        assert store.dump(CHAIN) == first
        assert store.count(CHAIN) == 3
        assert first["blocks"] == [(10, f"0x{10:064x}"), (11, f"0x{11:064x}")]
        # uint256 beyond every SQL integer comes back exact
        (transfer,) = store.events(CHAIN, name="Transfer")
        assert int(transfer.args["value"]) == BIG


def test_a_batch_from_a_stale_checkpoint_writes_nothing(location: str) -> None:
    with IndexStore.open(location) as store:
        start = store.begin(CHAIN, Checkpoint(9, "0x09"))
        store.write_batch(CHAIN, start, Checkpoint(10, "0x0a"), [event(10, 1)])
        before = store.dump(CHAIN)
        for stale in (start, Checkpoint(10, "0xother")):
            with pytest.raises(CheckpointMoved):
                store.write_batch(CHAIN, stale, Checkpoint(11, "0x0b"), [event(11, 2)])
            with pytest.raises(CheckpointMoved):
                store.rollback(CHAIN, stale, start, forget_contracts=False)
        assert store.dump(CHAIN) == before


def test_a_batch_that_fails_half_way_leaves_the_index_as_it_was(
    location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a kill -9 in the middle of a batch leaves: the previous batch's state (the events are
    written before the blocks; the failure comes between them)."""
    with IndexStore.open(location) as store:
        start = store.begin(CHAIN, Checkpoint(9, "0x09"))
        store.write_batch(CHAIN, start, Checkpoint(10, "0x0a"), [event(10, 1)])
        before = store.dump(CHAIN)
        real_insert = store._insert
        calls = []

        def failing_insert(table: object) -> object:
            calls.append(table)
            if len(calls) == 2:  # the blocks' insert, after the events' one has run
                raise RuntimeError("killed")
            return real_insert(table)

        monkeypatch.setattr(store, "_insert", failing_insert)
        with pytest.raises(RuntimeError, match="killed"):
            store.write_batch(
                CHAIN, Checkpoint(10, "0x0a"), Checkpoint(12, "0x0c"), [event(11, 2), event(12, 3)]
            )
        assert store.dump(CHAIN) == before


def test_rollback_removes_everything_above_the_ancestor(location: str) -> None:
    contract = IndexedContract(ESCROW, "JobEscrow", "escrow", 10)
    with IndexStore.open(location) as store:
        start = store.begin(CHAIN, Checkpoint(9, "0x09"))
        store.write_batch(
            CHAIN, start, Checkpoint(13, "0x0d"), [event(10, 1), event(12, 2), event(13, 3)], [contract]
        )
        assert store.blocks_below(CHAIN, 14, 2) == [(13, f"0x{13:064x}"), (12, f"0x{12:064x}")]
        removed = store.rollback(
            CHAIN, Checkpoint(13, "0x0d"), Checkpoint(10, f"0x{10:064x}"), forget_contracts=False
        )
        assert removed == 2
        dump = store.dump(CHAIN)
        assert [e[2] for e in dump["events"]] == [10]
        assert dump["blocks"] == [(10, f"0x{10:064x}")]
        assert dump["checkpoint"] == [(10, f"0x{10:064x}")]
        assert store.contracts(CHAIN) == [contract]
        store.rollback(CHAIN, Checkpoint(10, f"0x{10:064x}"), start, forget_contracts=True)
        assert store.contracts(CHAIN) == [] and store.count(CHAIN) == 0


def test_chains_share_a_database_without_seeing_each_other(location: str) -> None:
    with IndexStore.open(location) as store:
        a = store.begin(CHAIN, Checkpoint(9, "0x09"))
        b = store.begin(1, Checkpoint(99, "0x63"))
        store.write_batch(CHAIN, a, Checkpoint(10, "0x0a"), [event(10, 1)])
        store.write_batch(1, b, Checkpoint(100, "0x64"), [event(100, 1)])  # the same tx hash: another chain
        assert [e.block_number for e in store.events(CHAIN)] == [10]
        assert [e.block_number for e in store.events(1)] == [100]
        assert (
            store.latest_block(CHAIN) == 10 and store.latest_block(1) == 100 and store.latest_block(5) is None
        )


def test_events_filter_on_contract_name_address_blocks_and_arguments(location: str) -> None:
    client = "0x" + "cd" * 20
    events = [
        event(10, 1, client=client.lower()),
        event(11, 2, client="0x" + "ee" * 20),
        event(12, 3, 0, "MilestonePaid", gross="5", milestone="0"),
        event(12, 3, 1, "MilestonePaid", gross=str(BIG), milestone="1"),
    ]
    with IndexStore.open(location) as store:
        store.write_batch(CHAIN, store.begin(CHAIN, Checkpoint(9, "0x09")), Checkpoint(12, "0x0c"), events)
        assert [e.tx_hash for e in store.events(CHAIN, name="JobCreated")] == [f"0x{1:064x}", f"0x{2:064x}"]
        # addresses match whatever their case; numbers match as integers however large
        assert [
            e.block_number for e in store.events(CHAIN, args={"client": client.upper().replace("0X", "0x")})
        ] == [10]
        assert [e.log_index for e in store.events(CHAIN, args={"gross": BIG})] == [1]
        assert [
            e.log_index for e in store.events(CHAIN, name="MilestonePaid", args={"job_id": 3, "milestone": 0})
        ] == [0]
        assert store.events(CHAIN, contract="Court") == []
        assert len(store.events(CHAIN, contract="JobEscrow", address=ESCROW.upper().replace("0X", "0x"))) == 4
        assert [e.block_number for e in store.events(CHAIN, from_block=11, to_block=11)] == [11]
        assert [e.log_index for e in store.events(CHAIN, from_block=12, limit=1)] == [0]
        with pytest.raises(InvalidInput, match="filtered"):
            store.events(CHAIN, args={"passed": None})


def test_bad_locations_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown database kind"):
        IndexStore.open("mysql://u:p@127.0.0.1/x")
    with pytest.raises(InvalidInput, match="not a valid SQLAlchemy URL"):
        IndexStore.open("postgresql://u:p@[::1/x")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DataDirCorrupted, match="cannot create"):
        IndexStore.open(blocker / "sub" / "index.sqlite3")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataDirCorrupted, match="cannot be opened"):
        IndexStore.open(junk)


def test_a_database_from_a_newer_proofwork_is_refused_in_one_line(tmp_path: Path) -> None:
    location = tmp_path / "index.sqlite3"
    IndexStore.open(location).close()
    engine = create_engine(f"sqlite:///{location}")
    with engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = 'ffff'")
    engine.dispose()
    with pytest.raises(DataDirCorrupted, match="written by a newer proofwork"):
        IndexStore.open(location)


def test_rows_per_insert_stay_under_sqlites_parameter_limit() -> None:
    assert store_module._ROWS_PER_INSERT * 10 < 32_766


# --- the jobs projection --------------------------------------------------------------------------

CLIENT = "0x" + "c1" * 20
WORKER = "0x" + "f2" * 20


def created(block: int, job_id: int, amounts: list[int], freelancer: str = "0x" + "00" * 20) -> IndexedEvent:
    args = {
        "job_id": str(job_id),
        "client": CLIENT,
        "freelancer": freelancer,
        "token": "0x" + "70" * 20,
        "arbiter": "0x" + "00" * 20,
        "deadline": "2000000000",
        "review_period": "86400",
        "fee_bps": "250",
        "spec_hash": "0x" + "00" * 32,
        "amounts": [str(a) for a in amounts],
    }
    return IndexedEvent(
        block, f"0x{block:064x}", f"0x{block:062x}{job_id:02x}", 0, 0, ESCROW, "JobEscrow", "JobCreated", args
    )


def paid(block: int, job_id: int, gross: int) -> IndexedEvent:
    args = {"job_id": str(job_id), "milestone": "0", "gross": str(gross), "fee": "0", "reason": "0"}
    return IndexedEvent(
        block,
        f"0x{block:064x}",
        f"0x{block:062x}{job_id:02x}",
        0,
        1,
        ESCROW,
        "JobEscrow",
        "MilestonePaid",
        args,
    )


def test_the_jobs_projection_folds_batches_once_and_compares_budgets_beyond_2_63(location: str) -> None:
    from proofwork.db.index.jobs import JobQuery

    huge = 2**200 + 7
    with IndexStore.open(location) as store:
        start = store.begin(CHAIN, Checkpoint(9, "0x09"))
        batch = [created(10, 1, [2**63 + 1]), created(10, 2, [huge], WORKER), created(10, 3, [5, 5], WORKER)]
        escrow = IndexedContract(ESCROW, "JobEscrow", "escrow", 10)
        store.write_batch(CHAIN, start, Checkpoint(10, "0x0a"), batch, [escrow])
        store.write_batch(CHAIN, Checkpoint(10, "0x0a"), Checkpoint(11, "0x0b"), [paid(11, 3, 5)])
        once = store.dump(CHAIN)
        # the same batches again (a pass resumed from an older checkpoint): nothing folds twice
        store.write_batch(CHAIN, Checkpoint(11, "0x0b"), Checkpoint(11, "0x0b"), [*batch, paid(11, 3, 5)])
        assert store.dump(CHAIN) == once

        def ids(**where: object) -> list[int]:
            read = store.jobs(CHAIN, ESCROW, JobQuery(**where))  # type: ignore[arg-type]
            return [job.job_id for job, _ in read.jobs]

        assert ids() == [3, 2, 1]
        assert ids(min_budget=2**63) == [2, 1]
        assert ids(min_budget=2**63 + 2) == [2]
        assert ids(max_budget=2**63 + 1) == [3, 1]
        assert ids(min_budget=huge, max_budget=huge) == [2]
        assert ids(min_budget=2**256) == [] and ids(max_budget=2**300) == [3, 2, 1]
        assert ids(freelancer=WORKER.upper().replace("0X", "0x"), state="active") == [3, 2]
        ((three, _),) = store.jobs(CHAIN, ESCROW, JobQuery(), limit=1).jobs
        assert three.milestones[0].paid == 5 and three.budget == 10
        read = store.jobs(CHAIN, ESCROW, JobQuery(), before=3, limit=1)
        assert [j.job_id for j, _ in read.jobs] == [2] and read.total == 3 and read.more
        assert read.checkpoint == Checkpoint(11, "0x0b")
        assert store.jobs(CHAIN, "0x" + "99" * 20, JobQuery()).checkpoint is None  # not indexed
        # a rollback below job 3's payment folds it again from what remains
        store.rollback(CHAIN, Checkpoint(11, "0x0b"), Checkpoint(10, f"0x{10:064x}"), forget_contracts=False)
        ((three, _),) = store.jobs(CHAIN, ESCROW, JobQuery(), limit=1).jobs
        assert three.milestones[0].paid == 0 and three.held == 10
        store.rollback(CHAIN, Checkpoint(10, f"0x{10:064x}"), start, forget_contracts=True)
        assert store.dump(CHAIN)["jobs"] == []


def test_an_index_made_before_the_projection_gets_its_jobs_when_upgraded(tmp_path: Path) -> None:
    location = tmp_path / "index.sqlite3"
    with IndexStore.open(location) as store:
        start = store.begin(CHAIN, Checkpoint(9, "0x09"))
        store.write_batch(CHAIN, start, Checkpoint(11, "0x0b"), [created(10, 1, [7]), paid(11, 1, 7)])
        projected = store.dump(CHAIN)["jobs"]
    assert len(projected) == 1
    engine = create_engine(f"sqlite:///{location}")
    with engine.begin() as connection:  # the database as revision 0001 left it
        connection.exec_driver_sql("DROP TABLE index_jobs")
        connection.exec_driver_sql("DROP TABLE index_job_records")
        connection.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = '0001'")
    engine.dispose()
    with IndexStore.open(location) as store:
        assert store.dump(CHAIN)["jobs"] == projected
