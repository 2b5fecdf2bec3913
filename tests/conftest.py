"""Shared fixtures: a real SQLite file per test, a drivable clock, and a coach."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, open_app
from bot.clock import ManualClock
from bot.config import DEFAULT_DIALOGUES, Config

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def make_app(dialogues: Path, db: Path, clock: ManualClock) -> App:
    config = Config(db_path=db, dialogues=dialogues)
    return await open_app(config, clock=clock, rng=random.Random(7))


@pytest.fixture
async def app(tmp_path: Path, clock: ManualClock) -> AsyncIterator[App]:
    """The real dialogues on a fresh database file."""
    opened = await make_app(DEFAULT_DIALOGUES, tmp_path / "coach.db", clock)
    yield opened
    await opened.close()
