"""Group commit for SQLite: concurrent write jobs of one process share a transaction (one BEGIN and COMMIT).

SQLite admits one writer at a time, and every statement is a hop to the driver's thread, so a transaction per
write caps throughput at a few hundred a second under load. Jobs run one after another inside the shared
transaction, so each sees the writes of those before it: the same outcome as running them serially. If any
job fails, the whole transaction is rolled back and every job of the batch is run again in its own, so one
failure never costs the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["WriteBatcher", "WriteJob"]

T = TypeVar("T")
WriteJob = Callable[[AsyncConnection], Awaitable[T]]

_MAX_BATCH = 64


class WriteBatcher:
    def __init__(self, transaction: Callable[[], AbstractAsyncContextManager[AsyncConnection]]) -> None:
        self._transaction = transaction
        self._pending: list[tuple[WriteJob[Any], asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def run(self, job: WriteJob[T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((job, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        # shield: a caller that goes away (client disconnect) must not cancel a write others share.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:_MAX_BATCH], self._pending[_MAX_BATCH:]
            try:
                await self._run_batch(batch)
            except BaseException as exc:  # never leave a caller waiting forever
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                raise

    async def _run_batch(self, batch: list[tuple[WriteJob[Any], asyncio.Future[Any]]]) -> None:
        if len(batch) > 1:
            try:
                async with self._transaction() as conn:
                    results = [await job(conn) for job, _ in batch]
            except Exception:
                pass  # rolled back: fall through and give each job a transaction of its own
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    future.set_result(result)
                return
        for job, future in batch:
            try:
                async with self._transaction() as conn:
                    result = await job(conn)
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    async def aclose(self) -> None:
        if self._drainer is not None:
            await asyncio.gather(self._drainer, return_exceptions=True)
