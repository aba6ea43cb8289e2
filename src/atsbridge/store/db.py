"""The database engine and its migrations.

``create_engine`` accepts any SQLAlchemy URL; ``postgresql://`` (and ``postgres://``) are normalised to the psycopg 3
driver. Without a URL the store is the SQLite file ``<ATSBRIDGE_DATA_DIR or ./.atsbridge>/atsbridge.sqlite3``.
Every SQLite connection runs in WAL mode (new files get pages of ``SQLITE_PAGE_SIZE``) with ``synchronous=NORMAL``,
enforced foreign keys (needed for the ``ON DELETE CASCADE`` of an integration's data), a busy timeout, so API
processes and a sync can share the file, and ``text_match``'s lower-casing function.
``bulk_writes`` tunes one connection for a sync's large write transactions while it lasts; ``named_session`` and
``end_named_sessions`` let one process end another's PostgreSQL session (a sync run given up for dead); ``erasing``
and ``drop_wal_history`` make SQLite forget deleted data (an integration's) on disk, not only in its tables.

``migrate`` runs Alembic's ``upgrade head`` in code, with the script directory inside this package, so it works from
an installed wheel without an ``alembic.ini``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy
from sqlalchemy import Connection, Engine, NestedTransaction, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError

from atsbridge.private_dirs import make_private_dir
from atsbridge.store.first_load import build_missing_indexes
from atsbridge.store.text_match import register_sqlite_functions

if TYPE_CHECKING:
    from alembic.config import Config

DATA_DIR_ENV = "ATSBRIDGE_DATA_DIR"
SQLITE_FILE_NAME = "atsbridge.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 30_000
WAL_DROP_WAIT_MS = 200
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Pages of 16 KiB instead of 4 KiB: a record with its RECRU payload takes ~1 KiB, so a 4 KiB page holds a few and
# the random ids split pages all the time; a first FULL sync's SQLite work measured ~20-30% less (the page size
# counts only when a store file is created: an existing store keeps its own).
SQLITE_PAGE_SIZE = 16_384

_SQLITE_PRAGMAS = (
    f"PRAGMA page_size={SQLITE_PAGE_SIZE}",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
)

# A session left idle inside a transaction for this long is ended by PostgreSQL, and its locks with it: a process
# stopped (SIGSTOP, a frozen VM) mid-transaction would otherwise block every writer of the rows it holds for as long
# as it stays stopped; a sync run taking over from it kept waiting for it. Nothing of ours idles in a transaction
# for long (a sync's store worker commits within seconds of its last write).
PG_IDLE_IN_TRANSACTION_TIMEOUT_MS = 120_000
MIGRATION_LOCK = 0x61747363  # PostgreSQL advisory lock key of migrating the store
END_SESSION_WAIT_MS = 5_000  # how long ending a session waits for it to be gone (and its locks free)

# (pragma, value while bulk writing): see ``bulk_writes``; the checkpoint interval is in pages, set per file.
_SQLITE_BULK_PRAGMAS = (("cache_size", -64 * 1024), ("temp_store", 2))
BULK_CHECKPOINT_BYTES = 100 * 1024 * 1024


def default_database_url() -> str:
    """The SQLite file in ``$ATSBRIDGE_DATA_DIR`` (default ``./.atsbridge``)."""
    data_dir = Path(os.environ.get(DATA_DIR_ENV) or ".atsbridge")
    return f"sqlite:///{(data_dir / SQLITE_FILE_NAME).resolve()}"


def normalise_url(url: str) -> URL:
    """Parse ``url``; a PostgreSQL URL gets psycopg 3, whatever driver it names (``postgresql+psycopg2://``,
    ``+asyncpg``: the drivers atsbridge ships are psycopg 3 and Python's sqlite3, and the URL means the same
    database), a SQLite URL Python's sqlite3."""
    parsed = make_url(url)
    backend = "postgresql" if parsed.get_backend_name() in {"postgresql", "postgres"} else parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    return parsed


def _prepare_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    register_sqlite_functions(dbapi_connection)
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _prepare_postgresql_connection(dbapi_connection: Any, _record: Any) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a SET inside the pool's transaction would be rolled back with it
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET idle_in_transaction_session_timeout = {PG_IDLE_IN_TRANSACTION_TIMEOUT_MS}")
    finally:
        dbapi_connection.autocommit = autocommit


def _make_private_file(database: Path) -> None:
    """Create the SQLite file (and its directory) readable by their owner only, before SQLite opens it: it holds
    candidates' personal data, and SQLite gives its journal files the database file's permissions."""
    try:
        make_private_dir(database.parent)
    except OSError as failed:
        reason = "a file is there, not a directory" if isinstance(failed, FileExistsError) else failed.strerror
        raise OSError(f"the store's directory {database.parent} (ATSBRIDGE_DATA_DIR): {reason}") from failed
    try:
        if not database.exists():
            database.touch(mode=0o600)  # an empty file is an empty database to SQLite
    except OSError as failed:
        raise OSError(f"the store's file {database} (ATSBRIDGE_DATA_DIR): {failed.strerror}") from failed


def create_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: ``default_database_url()``); extra ``kwargs`` go to SQLAlchemy."""
    parsed = normalise_url(url or default_database_url())
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ArgumentError(f"{parsed.get_backend_name()} is not supported: the store is SQLite or PostgreSQL")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _make_private_file(Path(parsed.database))
    if parsed.get_backend_name() == "postgresql":
        # a pooled connection the server ended (a restart, a failover, an administrator) is replaced when taken,
        # instead of failing the request or the run that takes it
        kwargs.setdefault("pool_pre_ping", True)
    engine = sqlalchemy.create_engine(
        parsed,
        json_serializer=partial(json.dumps, ensure_ascii=False, separators=(",", ":")),
        hide_parameters=True,  # statement parameters are record data: personal data stays out of logs and errors
        **kwargs,
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _prepare_sqlite_connection)
    else:
        event.listen(engine, "connect", _prepare_postgresql_connection)
    return engine


def savepoint(conn: Connection) -> NestedTransaction:
    """``conn.begin_nested()``, part of the connection's transaction on SQLite too. Python's sqlite3 begins a
    transaction only before a write, so a savepoint taken before any would be a transaction of its own, committed
    as it is released, whatever the transaction around it does after (rolled back: what the savepoint held stayed).
    """
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN")
    return conn.begin_nested()


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see the store as of one moment: a list page and the nested objects read for it
    by other statements agree (read each at its own moment, an application read before its candidate's deletion
    was committed was served live with ``candidate: null``). PostgreSQL: a REPEATABLE READ transaction; SQLite (WAL):
    one read transaction, begun here, as Python's sqlite3 begins none before a read."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            yield conn
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN")
        yield conn


@contextmanager
def bulk_writes(conn: Connection) -> Iterator[Connection]:
    """``conn`` tuned for large write transactions (a sync) until the block ends, then as it was.

    SQLite only: a 64 MiB page cache instead of 2 MiB (our ids are random, so every batch touches index pages all
    over each index; with a small cache they are read and spilled again and again), statement journals in memory
    (every multi-row statement journals the pages it changes; in temp files that is gigabytes of writes per sync),
    and a WAL checkpoint every ``BULK_CHECKPOINT_BYTES`` (100 MiB: 6,400 pages of 16 KiB) instead of every 1,000
    pages: a checkpoint copies each page changed since the last one, so with random ids each one copied nearly every
    index page of the tables being written.
    """
    if conn.dialect.name != "sqlite":
        yield conn
        return
    checkpoint_pages = BULK_CHECKPOINT_BYTES // conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    tuned = (*_SQLITE_BULK_PRAGMAS, ("wal_autocheckpoint", checkpoint_pages))
    before = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name, _ in tuned}
    for name, value in tuned:
        conn.exec_driver_sql(f"PRAGMA {name}={value}")
    try:
        yield conn
    finally:
        for name, previous in before.items():
            conn.exec_driver_sql(f"PRAGMA {name}={previous}")


@contextmanager
def named_session(conn: Connection, name: str) -> Iterator[Connection]:
    """``conn``'s PostgreSQL session named ``name`` (its ``application_name``, at most 63 bytes) until the block
    ends, so that ``end_named_sessions`` can find it; elsewhere ``conn`` as it is."""
    if conn.dialect.name != "postgresql":
        yield conn
        return
    conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name})
    conn.commit()
    try:
        yield conn
    finally:
        try:
            conn.rollback()
            conn.execute(text("RESET application_name"))
            conn.commit()
        except DBAPIError:  # the session is gone (ended by another process): never pooled again
            conn.invalidate()


ADMIN_SHUTDOWN = "57P01"  # PostgreSQL's SQLSTATE for a session ended by pg_terminate_backend (or a shutdown)


def session_ended(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is the server ending the session: another process ended it
    (``end_named_sessions``), or the server shut down."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(getattr(seen, "orig", seen), "sqlstate", None) == ADMIN_SHUTDOWN:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def end_named_sessions(conn: Connection, names: list[str]) -> int:
    """End the other PostgreSQL sessions of this database named one of ``names`` (``named_session``), rolling back
    their transactions and freeing their locks; returns how many. Elsewhere, or where this role may not end them
    (another role's sessions), 0. A session of a process stopped in the middle of sending a statement holds its
    locks for as long as the process stays stopped: neither a timeout nor the process itself ends it."""
    if conn.dialect.name != "postgresql" or not names:
        return 0
    query = text(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, :wait_ms)) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = ANY(:names) AND pid <> pg_backend_pid()"
    )
    try:
        with conn.begin_nested():
            return int(conn.execute(query, {"names": names, "wait_ms": END_SESSION_WAIT_MS}).scalar_one())
    except DBAPIError:  # not allowed to: the sessions end when their process goes on or dies
        return 0


@contextmanager
def erasing(conn: Connection) -> Iterator[Connection]:
    """``conn`` overwriting what it deletes with zeros until the block ends (SQLite's ``secure_delete``; whether a
    build does so by default varies). Elsewhere ``conn`` as it is."""
    if conn.dialect.name != "sqlite":
        yield conn
        return
    before = conn.exec_driver_sql("PRAGMA secure_delete").scalar()
    conn.exec_driver_sql("PRAGMA secure_delete=ON")
    try:
        yield conn
    finally:
        conn.exec_driver_sql(f"PRAGMA secure_delete={before}")


def drop_wal_history(engine: Engine) -> bool:
    """SQLite: copy the write-ahead log into the database file and empty it, so the earlier versions of pages it
    holds (deleted rows among them) are gone from disk. Best effort: while another connection reads an older
    snapshot the log cannot be emptied yet (``False``); the next checkpoint reuses it. Elsewhere a no-op (``True``)."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        # waiting holds other writers off: a reader or writer that is busy now leaves it to the next checkpoint
        conn.exec_driver_sql(f"PRAGMA busy_timeout={WAL_DROP_WAIT_MS}")
        try:
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    return busy is None or busy[0] == 0


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration that runs this package's migrations on ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration: revisions are numbered, and each file's name starts with its number."""
    return max(path.name.partition("_")[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))


class StoreTooNew(Exception):
    """The store's schema is newer than this atsbridge's migrations: a newer version upgraded it."""


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema of ``engine``'s database to ``revision``, in one transaction.

    A store already at the newest revision is left alone without loading Alembic: importing it would be a third of
    the time an ``atsbridge sync --delta`` takes. At the newest revision, indexes a killed first sync left unbuilt
    are built (``first_load``).
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # processes started together on a new database take turns
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        stored, newest = _stored_revision(connection), head_revision()
        if stored is not None and stored > newest:  # numbered revisions of one width compare as text
            raise StoreTooNew(
                f"the store's schema is at revision {stored}, newer than this atsbridge's newest ({newest}): a newer "
                "version of atsbridge upgraded it; run that version (or a newer one) on this store"
            )
        if revision != "head" or stored != newest:
            from alembic import command

            command.upgrade(alembic_config(connection), revision)
        if revision == "head":
            build_missing_indexes(connection)


def stored_revision(engine: Engine) -> str | None:
    """The schema revision of ``engine``'s store (``None``: not made yet)."""
    with engine.connect() as connection:
        return _stored_revision(connection)


def _stored_revision(connection: Connection) -> str | None:
    if not sqlalchemy.inspect(connection).has_table("alembic_version"):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
