"""Replicas: any number of `visnyk run` processes share one PostgreSQL database; one leads.

The leader (storage.leader: an advisory lock on a session of its own) runs the delivery
engine, the scheduled jobs (ingest, digests, prune, progress) and, in polling mode,
getUpdates; the others follow: they serve the webhook, /healthz and /metrics, and answer
commands, and they take over within a few seconds when the leader's session ends (a kill,
a crash, a lost network). `Roles.step` runs every `LEAD_SECONDS`.

Telegram counts every message of the bot against one limit, whichever process sends it: the
followers together answer within `FOLLOWERS_SHARE` of the bot's rate, split between them, and
the leader sends within the rest. The number of live processes is read from the database at
every step, so the shares follow replicas as they come and go.

On SQLite there is one process, always the leader, and none of this does anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot import logs
from bot.runtime import Runtime

log = logging.getLogger(__name__)
LEAD_SECONDS = 2.0  # how often a follower tries to lead, and a leader checks it still does
FOLLOWERS_SHARE = 0.2  # of the bot's messages a second, for all the followers' replies


def shares(per_second: float, replicas: int) -> tuple[float, float]:
    """(the leader's rate, each follower's rate) for `replicas` processes sharing the bot."""
    if replicas <= 1:
        return per_second, per_second
    followers = per_second * FOLLOWERS_SHARE
    return per_second - followers, followers / (replicas - 1)


Hook = Callable[[], Awaitable[None]]


class Roles:
    """This process's role, kept up to date: `step` leads when the lead is free, follows when
    it was lost, and sets this process's share of the rate. `on_lead` and `on_follow` hooks
    (the lifecycle's polling) run after the engine starts and before it stops."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.replicas = 1
        self.on_lead: list[Hook] = []
        self.on_follow: list[Hook] = []
        self._failures = logs.Limited(log)
        self._shared_as: tuple[int, bool] | None = None
        if runtime.leadership is not None:
            runtime.leadership.on_wake(self._wake)

    @property
    def shared(self) -> bool:
        return self.runtime.leadership is not None and self.runtime.leadership.shared

    async def step(self) -> None:
        """One look at who leads; a database that does not answer is said once a minute."""
        leadership = self.runtime.leadership
        if leadership is None or not leadership.shared:
            return
        try:
            if leadership.held:
                await leadership.check()
            if not leadership.held and self.runtime.engine is not None:
                log.warning("lead lost: following")
                await self._follow()
            if not leadership.held and await leadership.try_lead():
                await self._lead()
            self._share(await leadership.replicas())
        except Exception as e:
            self._failures.warning("lead check failed error=%s", logs.short(e))

    async def _lead(self) -> None:
        runtime = self.runtime
        await runtime.lead()
        for hook in self.on_lead:
            await hook()
        log.info("leading")

    def _wake(self) -> None:
        """A follower enqueued deliveries: the engine, when this process runs it, looks now."""
        if self.runtime.engine is not None:
            self.runtime.engine.notify()

    async def _follow(self) -> None:
        for hook in self.on_follow:
            await hook()
        await self.runtime.follow()

    def _share(self, replicas: int) -> None:
        pacer, leading = self.runtime.pacer, self.runtime.leading
        if pacer is None or (replicas, leading) == self._shared_as:
            return
        if self._shared_as is None and not leading:
            # The leader learns of a new follower at its next step: until then the newcomer's
            # replies wait, or the two together could go over the bot's limit.
            pacer.hold(LEAD_SECONDS + 0.5)
        self._shared_as = (replicas, leading)
        self.replicas = replicas
        self.runtime.metrics.leader.set(1 if leading else 0)
        self.runtime.metrics.replicas.set(replicas)
        leader, follower = shares(self.runtime.config.delivery.messages_per_second, replicas)
        pacer.resize(leader if leading else follower)
        log.info(
            "replicas=%d role=%s messages_per_second=%.3g",
            replicas,
            "leader" if leading else "follower",
            pacer.per_second,
        )
