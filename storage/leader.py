"""Who leads: of the bot's processes sharing one database, exactly one sends and runs the jobs.

On PostgreSQL the leader is the process that holds a session advisory lock, taken on a
connection of its own (not one of the pool's): PostgreSQL lets it go the moment that session
ends, whether the process exited, was killed, or lost its network (TCP keepalives notice a
silent peer within about ten seconds). The same connection counts the live processes (each
has one, named in pg_stat_activity) and carries the wake-ups a follower sends the leader
after it enqueues deliveries (LISTEN/NOTIFY).

On SQLite there is one process per database file (storage.runlock), and it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import make_url

from storage.db import Database
from storage.errors import StorageError

log = logging.getLogger(__name__)
LOCK_KEY = 0x7669736E796B  # "visnyk": one advisory lock per database
APPLICATION = "visnyk-replica"  # the lock connection's name: one per live process
CHANNEL = "visnyk_deliveries"  # NOTIFY: new deliveries were enqueued
CHECK_SECONDS = 2.0  # a check that the session lives that takes longer counts as lost
# A peer that vanished without closing its connection (a dead host, a cut network) is
# noticed by the server's keepalives: idle 4 s, then 3 probes 2 s apart.
KEEPALIVES = {
    "tcp_keepalives_idle": "4",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}


class LeadLost(Exception):
    """The session that held the lead is gone: this process leads no more."""


class Leadership:
    """This process's claim to lead. `try_lead` takes the lock if nobody holds it; `check`
    says whether it is still held (False once the session is gone: stop leading at once)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.shared = db.dialect == "postgresql"  # more than one process may share it
        self._conn: Any = None  # asyncpg.Connection, on PostgreSQL
        self._held = not self.shared
        self._listener: Callable[[], None] | None = None

    @property
    def held(self) -> bool:
        return self._held

    async def try_lead(self) -> bool:
        """Take the lead if it is free; True when this process leads (now or already)."""
        if self._held or not self.shared:
            return self._held
        conn = await self._connection()
        self._held = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY))
        return self._held

    async def check(self) -> bool:
        """Whether the session is still there. When it is lost, a leader is no longer one
        (another process may already have taken over) and `held` turns False."""
        if not self.shared:
            return True
        try:
            conn = await self._connection()
            async with asyncio.timeout(CHECK_SECONDS):
                # A session lock lasts as long as its session: alive, it is still ours.
                await conn.fetchval("SELECT 1")
        except Exception as e:  # whatever went wrong, the session cannot be trusted
            log.warning("database session of the lead lost error=%s", type(e).__name__)
            await self._drop()
            return False
        return True

    async def replicas(self) -> int:
        """How many processes share the database (this one included)."""
        if not self.shared:
            return 1
        conn = await self._connection()
        found = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
            "AND datname = current_database()",
            APPLICATION,
        )
        return max(1, int(found or 0))

    async def wake_leader(self) -> None:
        """Tell the leader that deliveries were enqueued (a follower's command did)."""
        if self.shared:
            with contextlib.suppress(Exception):
                conn = await self._connection()
                await conn.execute(f"NOTIFY {CHANNEL}")

    def on_wake(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever a process says deliveries were enqueued."""
        self._listener = listener

    async def release(self) -> None:
        """Let the lead go (at a clean stop: a follower takes over without waiting)."""
        self._held = not self.shared
        await self._drop()

    async def _connection(self) -> Any:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        if self._held:  # the session that held the lock is gone, and the lock with it
            self._held = False
            raise LeadLost("the lead's database session was closed")
        import asyncpg  # noqa: PLC0415 - PostgreSQL only

        url = make_url(self.db.engine.url).set(drivername="postgresql")
        try:
            self._conn = await asyncpg.connect(
                url.render_as_string(hide_password=False),
                server_settings={"application_name": APPLICATION, **KEEPALIVES},
                timeout=10,
            )
            await self._conn.add_listener(CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            await self._drop()
            raise StorageError(f"database error: {e}") from e
        return self._conn

    def _notified(self, *_: object) -> None:
        if self._listener is not None and self._held:
            self._listener()

    async def _drop(self) -> None:
        self._held = not self.shared
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), CHECK_SECONDS)
            if not conn.is_closed():
                conn.terminate()
