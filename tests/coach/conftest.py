"""A coach over the fixture catalogue, whose every word the tests know."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.clock import ManualClock
from tests.conftest import make_app

FIXTURE = Path(__file__).parent / "fixture"


@pytest.fixture
async def coach_app(tmp_path: Path, clock: ManualClock) -> AsyncIterator[App]:
    opened = await make_app(FIXTURE, tmp_path / "engine.db", clock)
    yield opened
    await opened.close()
