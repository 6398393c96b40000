"""The sliding-window limiter on every backend: counting, refusing with a usable Retry-After, the previous
window's weight, and subjects stored only as keyed hashes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from openliveness.errors import TooManyRequests
from openliveness.sessions.limits import Limit, LimitPolicy, RateLimiter
from openliveness.store import SqlStore
from openliveness.store.tables import rate_counters
from tests.conftest import Clock

WINDOW = 60
# Mid-window, so that the previous window's weight is easy to reason about.
START = datetime(2026, 11, 21, 12, 0, 30, tzinfo=UTC)


def limiter(store: SqlStore, clock: Clock, most: int = 3) -> tuple[RateLimiter, Limit]:
    limit = Limit("attempts_per_ip", most, WINDOW)
    off = Limit("off", 0, WINDOW)
    policy = LimitPolicy(
        sessions_per_device=off,
        failed_attempts_per_device=off,
        failed_attempts_per_ip=off,
        attempts_per_ip=limit,
        guidance_per_ip=off,
    )
    return RateLimiter(store, b"k" * 32, policy, clock), limit


async def test_hits_up_to_the_limit_then_refuses_until_retry_after(store: SqlStore) -> None:
    clock = Clock(START)
    rl, limit = limiter(store, clock)
    for _ in range(3):
        await rl.hit(limit, "198.51.100.7")
    with pytest.raises(TooManyRequests) as refused:
        await rl.hit(limit, "198.51.100.7")
    wait = refused.value.retry_after_seconds
    assert 1 <= wait <= 2 * WINDOW
    await rl.hit(limit, "198.51.100.8")  # another subject is not affected
    clock.advance(wait)
    # After Retry-After the estimate (refused hits included) is under the limit again.
    await rl.check(limit, "198.51.100.7")


async def test_refused_hits_count_so_hammering_stays_blocked(store: SqlStore) -> None:
    clock = Clock(START)
    rl, limit = limiter(store, clock)
    for _ in range(3):
        await rl.hit(limit, "a")
    waits = []
    for _ in range(5):
        with pytest.raises(TooManyRequests) as refused:
            await rl.hit(limit, "a")
        waits.append(refused.value.retry_after_seconds)
    assert waits == sorted(waits) and waits[-1] > waits[0]


async def test_the_previous_window_still_weighs(store: SqlStore) -> None:
    clock = Clock(START)
    rl, limit = limiter(store, clock, most=4)
    for _ in range(4):
        await rl.hit(limit, "dev")
    clock.advance(WINDOW / 2 + 5)  # next window, 5 s in: the previous 4 still weigh 4 * (1 - 5/60) = 3.67
    await rl.hit(limit, "dev")  # 3.67 before it: allowed
    with pytest.raises(TooManyRequests):
        await rl.check(limit, "dev")  # 4.67
    clock.advance(45)  # 50 s in: 4 * (1 - 50/60) + 1 = 1.67
    for _ in range(3):  # 1.67, 2.67, 3.67 before each (the refused check above did not count)
        await rl.hit(limit, "dev")
    with pytest.raises(TooManyRequests):
        await rl.hit(limit, "dev")  # 4.67 before it


async def test_check_and_record_for_outcome_limits(store: SqlStore) -> None:
    clock = Clock(START)
    rl, limit = limiter(store, clock, most=2)
    await rl.check(limit, "x")
    await rl.record(limit, "x")
    await rl.check(limit, "x")  # one failure recorded: still allowed
    await rl.record(limit, "x")
    with pytest.raises(TooManyRequests):
        await rl.check(limit, "x")


async def test_disabled_limit_and_unknown_subject_never_refuse(store: SqlStore) -> None:
    clock = Clock(START)
    rl, limit = limiter(store, clock, most=1)
    for _ in range(5):
        await rl.hit(Limit("off", 0, WINDOW), "x")
        await rl.hit(limit, None)
        await rl.hit(limit, "")


async def test_subjects_are_stored_as_keyed_hashes(store: SqlStore) -> None:
    clock = Clock(START)
    rl, limit = limiter(store, clock)
    await rl.hit(limit, "203.0.113.99")
    async with store.engine.connect() as conn:
        keys = list((await conn.execute(select(rate_counters.c.key))).scalars())
    assert len(keys) == 1 and "203.0.113" not in keys[0] and len(keys[0]) == 48


async def test_old_counters_are_purged(store: SqlStore) -> None:
    clock = Clock(START)
    rl, limit = limiter(store, clock)
    await rl.hit(limit, "a")
    clock.advance(3 * WINDOW)
    await rl.hit(limit, "b")
    removed = await store.purge_counters(int(clock.now.timestamp()) - 2 * WINDOW)
    assert removed == 1
    async with store.engine.connect() as conn:
        assert len((await conn.execute(select(rate_counters))).all()) == 1
