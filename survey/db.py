"""Engine, session factories, one session per request, and the declarative base.

SQLite locking, decided here and nowhere else: a SQLite transaction that began as a read
cannot become a write once another connection has committed (SQLITE_BUSY_SNAPSHOT; the busy
timeout does not help). So every session that will write begins with `BEGIN IMMEDIATE`,
which waits for the write lock up front, and read-only sessions stay deferred so that they
never wait. Writing sessions are: `session_scope` (CLI commands, scheduler jobs), web
requests whose method is not GET/HEAD/OPTIONS, views marked `@writes_on_get`, requests
carrying a bearer token (its use is recorded), and APScheduler's job store. On PostgreSQL
the choice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime, stored naive-UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Convert an aware datetime to naive UTC; refuse naive ones."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint predictably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}  # noqa: RUF012 - SQLAlchemy reads it


# The connection execution option that makes a SQLite transaction begin IMMEDIATE.
WRITING_OPTION = "peerpulse_writing"
# Request methods that only read, unless the view is marked with @writes_on_get.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES_ON_GET = "_peerpulse_writes_on_get"

ViewT = TypeVar("ViewT", bound=Callable[..., Any])


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    # hide_parameters: an error's message (and so the log) never holds a statement's bound
    # values, which may be a participant's email or name.
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name != "sqlite":
        _ping_after_idle(engine)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # pysqlite's own transaction handling is off (above); begin explicitly so that
            # SAVEPOINT and locking work as on other databases. A writing connection takes
            # the write lock now (waiting up to the busy timeout), not at its first write.
            writing = conn.get_execution_options().get(WRITING_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


# A pooled server connection left idle this long is tested before it is used again; one in
# steady use is not, which saves a round trip on every request under load.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "peerpulse_idle_since"


def _ping_after_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for connections that have been idle.

    A connection that fails its test is replaced before the request sees it (the pool takes a
    new one). One in steady use that the server dropped fails its statement instead, and that
    failure invalidates every older connection in the pool, so only requests already under way
    see the outage.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _test_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection was dropped while idle") from exc
        if not alive:
            raise DisconnectionError("the pooled connection was dropped while idle")


def writing_engine(engine: Engine) -> Engine:
    """The same engine (pool, events) whose transactions begin IMMEDIATE on SQLite."""
    return engine.execution_options(**{WRITING_OPTION: True})


def insert_on_conflict(session: Session, entity: Any) -> Any:
    """The database's own INSERT for `entity`, which has ON CONFLICT clauses (SQLite and PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(entity)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(entity)
    raise NotImplementedError(f"PeerPulse supports SQLite and PostgreSQL, not {dialect}")


def init_app(app: Flask) -> None:
    """Create the engine and session factories and close the request's session on teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["db_writing_sessionmaker"] = sessionmaker(
        bind=writing_engine(engine), expire_on_commit=False
    )
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None, *, writing: bool = False) -> Engine:
    """The application's engine; `writing=True` for one whose transactions will write."""
    engine: Engine = (app or current_app).extensions["db_engine"]
    return writing_engine(engine) if writing else engine


def get_sessionmaker(app: Flask | None = None, *, writing: bool = False) -> sessionmaker[Session]:
    """A session factory: read-only (deferred) by default, or for sessions that will write."""
    key = "db_writing_sessionmaker" if writing else "db_sessionmaker"
    factory: sessionmaker[Session] = (app or current_app).extensions[key]
    return factory


def writes_on_get(view: ViewT) -> ViewT:
    """Mark a view that writes even on GET (an audited view, a first visit that starts a record).

    Put it directly under the route decorator. The request's session then begins as a
    writing one, whatever the method.
    """
    setattr(view, _WRITES_ON_GET, True)
    return view


def request_writes() -> bool:
    """Whether this context's session will write: outside a request, or by method and view."""
    if not has_request_context():
        return True
    if request.method not in READ_METHODS:
        return True
    if request.authorization is not None and request.authorization.type == "bearer":
        return True  # a personal API token's use is recorded (survey.services.api_tokens)
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _WRITES_ON_GET, False))


def get_session() -> Session:
    """The session of the current request or app context, created on first use."""
    if "db_session" not in g:
        g.db_session = get_sessionmaker(writing=request_writes())()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    """Close the context's session; uncommitted work is rolled back."""
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """A writing session for work outside a request (CLI, scheduler): commit on success."""
    session = get_sessionmaker(app, writing=True)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
