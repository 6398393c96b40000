"""Group commit: jobs share a transaction, see each other's writes, and one failure never costs the others."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from openliveness.store import SqlStore
from openliveness.store.batching import WriteBatcher
from openliveness.store.sql import create_engine

items = Table("items", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(20)))


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> SqlStore:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(items.metadata.create_all)
    store = SqlStore(engine)
    yield store
    await store.close()


def insert_job(item_id: int):
    async def job(conn: AsyncConnection) -> int:
        await conn.execute(insert(items).values(id=item_id, name=f"n{item_id}"))
        return item_id

    return job


async def stored_ids(store: SqlStore) -> list[int]:
    async with store.engine.connect() as conn:
        return sorted((await conn.execute(select(items.c.id))).scalars())


async def test_concurrent_jobs_share_transactions(sqlite_store: SqlStore) -> None:
    transactions = 0
    real = sqlite_store._transaction

    def counting():
        nonlocal transactions
        transactions += 1
        return real()

    batcher = WriteBatcher(counting)
    results = await asyncio.gather(*(batcher.run(insert_job(i)) for i in range(50)))
    assert results == list(range(50))
    assert await stored_ids(sqlite_store) == list(range(50))
    assert transactions < 10  # grouped, not one transaction per job


async def test_one_failing_job_does_not_roll_back_the_others(sqlite_store: SqlStore) -> None:
    batcher = WriteBatcher(sqlite_store._transaction)

    async def failing(conn: AsyncConnection) -> None:
        await conn.execute(insert(items).values(id=1000, name="x"))
        raise RuntimeError("boom")

    jobs = [insert_job(i) for i in range(10)]
    jobs.insert(5, failing)
    outcomes = await asyncio.gather(*(batcher.run(job) for job in jobs), return_exceptions=True)
    assert next(o for o in outcomes if isinstance(o, Exception)).args == ("boom",)
    assert sum(isinstance(o, Exception) for o in outcomes) == 1
    assert await stored_ids(sqlite_store) == list(range(10))  # the failing job's own insert is gone


async def test_later_jobs_see_earlier_writes(sqlite_store: SqlStore) -> None:
    batcher = WriteBatcher(sqlite_store._transaction)

    async def count(conn: AsyncConnection) -> int:
        return len((await conn.execute(select(items.c.id))).all())

    outcomes = await asyncio.gather(batcher.run(insert_job(1)), batcher.run(count), batcher.run(insert_job(2)))
    assert outcomes == [1, 1, 2]


async def test_a_cancelled_caller_does_not_cancel_the_write(sqlite_store: SqlStore) -> None:
    batcher = WriteBatcher(sqlite_store._transaction)
    task = asyncio.create_task(batcher.run(insert_job(7)))
    await asyncio.sleep(0)
    task.cancel()
    await batcher.aclose()
    assert await stored_ids(sqlite_store) == [7]
