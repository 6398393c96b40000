"""`CpuPool`: where CPU-bound work (decoding, models, the engine) runs, off the event loop and at most
`workers` jobs at once per process, with its queue depth and stage latencies measured; and the threads a job
spreads its own independent parts over (`parts`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, TypeVarTuple, Unpack

import anyio
import anyio.to_thread

from openliveness.metrics import CPU_QUEUE, MODEL_LATENCY

__all__ = ["CpuPool"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class CpuPool:
    def __init__(self, workers: int) -> None:
        self._slots = anyio.CapacityLimiter(workers)
        # A job's parts (a capture's frames to decode, its keyframes to detect on) run here, so that one call uses
        # every core of a quiet server; under load the jobs' parts queue here and the cores are just as busy. Parts
        # never submit parts of their own, so a full pool cannot deadlock.
        self.parts = ThreadPoolExecutor(workers, thread_name_prefix="openliveness-part")

    def close(self) -> None:
        self.parts.shutdown(wait=False, cancel_futures=True)

    async def run(self, stage: str, fn: Callable[[Unpack[Ts]], T], *args: *Ts) -> T:
        """Run `fn(*args)` in a worker thread once a slot is free; `stage` names it in the metrics."""
        CPU_QUEUE.inc()
        try:
            await self._slots.acquire()
        finally:
            CPU_QUEUE.dec()  # got a slot, or cancelled while waiting
        started = time.perf_counter()
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        finally:
            MODEL_LATENCY.labels(stage=stage).observe(time.perf_counter() - started)
            self._slots.release()
