"""Fixtures: the fake Telegram, and Visnyk running against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.fakes.web import FakeWeb
from tests.kit import OWNER, TOKEN, Kit, started


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def web() -> AsyncIterator[FakeWeb]:
    fake = FakeWeb()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def kit(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[Kit]:
    async with started(tg, tmp_path) as k:
        yield k


@pytest.fixture
async def room(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[Kit]:
    """The newsroom: an owner in the config, and a send rate that lets flashes go out at once."""
    async with started(
        tg, tmp_path, telegram={"owners": [OWNER]}, delivery={"messages_per_second": 500}
    ) as k:
        yield k
