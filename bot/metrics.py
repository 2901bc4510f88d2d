"""What a running Visnyk counts for Prometheus: one `Metrics` per bot, on its own registry.

Labels stay low-cardinality: lanes, outcomes, update kinds, Telegram methods; never chat ids.
`render` gives the text format `/metrics` serves (bot.server).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The bot's counters, gauges and histograms; each instance has its own registry, so that
    two bots in one process (tests) never share figures."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)

    def render(self) -> bytes:
        """Everything, in Prometheus' text exposition format."""
        return generate_latest(self.registry)
