"""Persistence: the `SessionStore` protocol and its SQLAlchemy implementation (SQLite, PostgreSQL)."""

from openliveness.store.migrate import upgrade_to_head
from openliveness.store.protocol import AttemptRejected, SessionStore
from openliveness.store.sql import SqlStore, create_engine
from openliveness.store.startup import DatabaseUnavailable, wait_for_database

__all__ = [
    "AttemptRejected",
    "DatabaseUnavailable",
    "SessionStore",
    "SqlStore",
    "create_engine",
    "open_store",
    "upgrade_to_head",
]


async def open_store(database_url: str, *, migrate: bool = True, wait_seconds: float = 0.0) -> SqlStore:
    """Connect (waiting up to `wait_seconds` for the database to come up) and by default migrate."""
    engine = create_engine(database_url)
    try:
        await wait_for_database(engine, wait_seconds)
        if migrate:
            await upgrade_to_head(engine)
    except BaseException:
        await engine.dispose()
        raise
    return SqlStore(engine)
