"""A first sync's load into an empty SQLite table: its secondary indexes are built after the rows, not row by row.

Our ids are random, so each row a sync inserts lands somewhere in every index of its table; at 300,000 applications
the five secondary indexes are well over half of the insert's cost, and it grows with the table. Building an index
over the loaded table (a sort) costs a fraction of that. So on SQLite, when an integration's first sync is about to
list a model whose table holds no row at all, ``defer_indexes`` drops that table's secondary indexes (the primary
key and the unique constraint stay: the upserts need them), and once the listing is written the sync engine builds
them again (``build_missing_indexes``) before anything reads the table by them. Meanwhile nothing does: a first sync
writes without nested-change marks (``writer``), and the table holds only the rows of that integration, which the
API does not serve before its first sync succeeds. Join tables keep their indexes (each batch looks its parents'
join rows up by them).

Two first syncs (of two integrations) may both find a table empty, and any run may build what another is building:
every drop and build is ``IF [NOT] EXISTS``, one statement each (pysqlite runs DDL outside a transaction, so a
look-then-act would race). A run killed in between leaves indexes missing: every sync run and every ``migrate`` at
the newest revision (so every command and ``serve``) first builds what is missing.

PostgreSQL keeps its indexes: there other workers may read and write the same table meanwhile, and the DDL would
lock them out.
"""

from __future__ import annotations

from sqlalchemy import Connection, literal, select
from sqlalchemy.schema import CreateIndex, DropIndex

from atsbridge.store.tables import MODEL_TABLES
from atsbridge.unified.ids import ModelName


def defer_indexes(conn: Connection, model: ModelName) -> bool:
    """Drop the secondary indexes of ``model``'s table if it is empty, on SQLite; whether they were dropped."""
    table = MODEL_TABLES[model]
    if conn.dialect.name != "sqlite" or conn.execute(select(literal(1)).select_from(table).limit(1)).first():
        return False
    for index in table.indexes:  # IF EXISTS: a first sync of another integration may be dropping them too
        conn.execute(DropIndex(index, if_exists=True))
    return True


def build_missing_indexes(conn: Connection) -> list[str]:
    """Build every index of the model tables that the database lacks (SQLite only); their names."""
    if conn.dialect.name != "sqlite":
        return []
    present = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
    missing = [index for table in MODEL_TABLES.values() for index in table.indexes if index.name not in present]
    for index in missing:  # IF NOT EXISTS: another run may be building it too
        conn.execute(CreateIndex(index, if_not_exists=True))
    return [str(index.name) for index in missing]
