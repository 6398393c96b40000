"""Start-up against a database that may not be up yet (containers and hosts start in any order)."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["DatabaseUnavailable", "wait_for_database"]

log = logging.getLogger("openliveness.store")


class DatabaseUnavailable(Exception):
    """The database could not be reached within the start-up wait."""


async def wait_for_database(engine: AsyncEngine, wait_seconds: float) -> None:
    """Return once `SELECT 1` succeeds; retry with back-off for up to `wait_seconds` (SQLite: no waiting, a
    local file is there or not)."""
    deadline = time.monotonic() + (wait_seconds if engine.dialect.name != "sqlite" else 0.0)
    delay = 0.25
    tries = 0
    while True:
        tries += 1
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            if tries > 1:
                log.info("database reachable after %d tries", tries)
            return
        except (TimeoutError, OSError, DBAPIError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
            if time.monotonic() + delay > deadline:
                where = engine.url.render_as_string(hide_password=True)
                raise DatabaseUnavailable(f"cannot reach the database at {where}: {reason}") from exc
            log.warning("waiting for the database (try %d): %s", tries, reason)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
