"""Persistence: the `SessionStore` protocol and its SQLAlchemy implementation (SQLite, PostgreSQL)."""

from openliveness.store.migrate import upgrade_to_head
from openliveness.store.protocol import AttemptRejected, SessionStore
from openliveness.store.sql import SqlStore, create_engine

__all__ = ["AttemptRejected", "SessionStore", "SqlStore", "create_engine", "open_store", "upgrade_to_head"]


async def open_store(database_url: str, *, migrate: bool = True) -> SqlStore:
    """Connect (and by default migrate) the database at `database_url`."""
    engine = create_engine(database_url)
    if migrate:
        await upgrade_to_head(engine)
    return SqlStore(engine)
