"""Brings an index database to the schema of this proofwork, with the Alembic migrations it ships
(package data: no alembic.ini, no `alembic` command at run time)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from proofwork.db.index.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# its own version table: the database may hold other proofwork state (an oracle's reports) beside it
VERSION_TABLE = "proofwork_index_version"
# PostgreSQL advisory lock taken while migrating: indexers starting together migrate one at a time
_PG_LOCK = 0x70776B69  # "pwki"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


class UnknownRevision(Exception):
    """The database's schema is of a revision these migrations do not know (a newer proofwork's)."""

    def __init__(self, revision: str) -> None:
        super().__init__(revision)
        self.revision = revision


def head() -> str:
    revision = script_directory().get_current_head()
    assert revision is not None
    return revision


def _known() -> set[str]:
    return {script.revision for script in script_directory().walk_revisions()}


def current(connection: Connection) -> str | None:
    """The revision the database is at (None: no index there yet)."""
    return MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE}
    ).get_current_revision()


def _upgrade(connection: Connection) -> None:
    config = _config()
    script = ScriptDirectory.from_config(config)

    def steps(revision: Any, _context: Any) -> Any:
        return script._upgrade_revs("head", revision)

    with EnvironmentContext(config, script, fn=steps, destination_rev="head") as env:
        env.configure(connection=connection, target_metadata=Base.metadata, version_table=VERSION_TABLE)
        with env.begin_transaction():
            env.run_migrations()


def upgrade(engine: Engine) -> None:
    """Upgrades the database to the head revision (nothing when it is there). Two processes opening a
    new database together: PostgreSQL serialises them with an advisory lock; on SQLite the one whose
    CREATE TABLE lost the race tries again and finds the schema there."""
    target = head()
    for attempt in range(3):
        try:
            with engine.begin() as connection:
                found = current(connection)
                if found == target:
                    return
                if found is not None and found not in _known():
                    raise UnknownRevision(found)
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
                _upgrade(connection)
            return
        except SQLAlchemyError:
            if attempt == 2:
                raise
            time.sleep(0.2 * (attempt + 1))
