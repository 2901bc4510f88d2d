"""What /healthz and /readyz check: each check returns what is wrong, nothing when all is well.

Liveness (/healthz): the event loop answers (it runs this) and so does the database; a
failure there means a restart may help. Readiness (/readyz): the bot is started (migrations
done, the delivery engine running), Telegram answered recently, and no delivery has waited too
long; a failure there means it should not be trusted with traffic, or someone should look.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

from bot.config import ServerConfig
from bot.reach import Reach
from bot.runtime import Runtime
from storage import outbox

DATABASE_TIMEOUT = 5.0  # seconds the database may take to answer a health check


async def liveness(runtime: Runtime | None) -> list[str]:
    """The database answers (before start-up opened it, there is nothing to ask yet)."""
    if runtime is None:
        return []
    try:
        await asyncio.wait_for(runtime.db.revision(), DATABASE_TIMEOUT)
    except TimeoutError:
        return [f"database: no answer in {DATABASE_TIMEOUT:g} s"]
    except Exception as e:
        return [f"database: {type(e).__name__}"]
    return []


async def readiness(
    runtime: Runtime | None,
    reach: Reach,
    server: ServerConfig,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Everything liveness checks, and the bot started, Telegram heard, deliveries moving."""
    if runtime is None:
        return ["starting: database not migrated yet"]
    problems = await liveness(runtime)
    if runtime.leading and (runtime.engine is None or not runtime.engine.running):
        problems.append("delivery engine not running")
    silent = reach.silent_for(clock())
    if silent is None:
        problems.append("Telegram not reached yet")
    elif silent > server.telegram_silence:
        problems.append(f"Telegram silent for {silent:.0f} s")
    if not problems and runtime.leading:  # a follower's deliveries are the leader's to send
        problems += await _backlog(runtime, server.max_pending_age)
    return problems


async def _backlog(runtime: Runtime, bound: float) -> list[str]:
    now = runtime.now()
    late = []
    for lane in await outbox.backlog(runtime.db, now):
        if lane.oldest_due is None:
            continue
        waited = (now - lane.oldest_due) / dt.timedelta(seconds=1)
        if waited > bound:
            late.append(f"{lane.lane.name.lower()}: oldest pending delivery waited {waited:.0f} s")
    return late
