"""Alembic's environment, for developers writing a new revision against the models:

    alembic -c /dev/null -x url=sqlite:///tmp/index.sqlite3 ... (see README in this directory)

proofwork itself never runs this file: `proofwork.db.index.migrate` upgrades a database in process.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from proofwork.db.index.migrate import VERSION_TABLE
from proofwork.db.index.models import Base

url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///index-dev.sqlite3")
with create_engine(url).begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
    )
    context.run_migrations()
