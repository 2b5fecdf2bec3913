"""Fixtures: the fake Bot API, the bot as a real process, the dialogues, people."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from telegram.ext import ExtBot

from bot.app import App
from bot.config import DEFAULT_DIALOGUES
from bot.dialogue.loader import Catalog, load_catalog
from bot.telegram.door import TelegramDoor
from bot.telegram.limits import SendLimiter
from bot.telegram.outbox import LimitedBot
from tests.botapi import FakeBotAPI
from tests.telegram.harness import TOKEN, BotProcess, Person


@pytest.fixture(autouse=True)
def timedelta_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB 23's timedelta durations, as the bot must read both (no warnings)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(DEFAULT_DIALOGUES)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as server:
        yield server
        assert not server.internal_errors


@pytest.fixture
async def bots(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[Callable[..., BotProcess]]:
    """Makes bot processes on one database; any still running at the end are killed."""
    made: list[BotProcess] = []

    def make(**env: str) -> BotProcess:
        made.append(BotProcess(api, tmp_path, **env))
        return made[-1]

    yield make
    for bot in made:
        if bot.process is not None and bot.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                bot.process.kill()
            await bot.process.wait()


@pytest.fixture
async def bot(bots: Callable[..., BotProcess]) -> BotProcess:
    """A bot process, started and polling."""
    started = bots()
    await started.start()
    return started


@pytest.fixture
async def ptb(api: FakeBotAPI) -> AsyncIterator[LimitedBot]:
    """PTB's bot in this process, pointed at the fake server, with limits off."""
    limiter = SendLimiter(send_rate=0, chat_rate=0)
    bot: LimitedBot = ExtBot(
        TOKEN, base_url=api.base_url, base_file_url=api.base_file_url, rate_limiter=limiter
    )
    async with bot:
        yield bot


@pytest.fixture
def people(api: FakeBotAPI, catalog: Catalog, tmp_path: Path) -> Callable[[int], Person]:
    return lambda user_id: Person(api, user_id, catalog, tmp_path / "coach.db")


ANA = 1001
"""The user of the in-process door."""


@pytest.fixture
def door(app: App, api: FakeBotAPI, ptb: LimitedBot) -> TelegramDoor:
    """The door in this process (not polling), with Ana's chat started."""
    api.user(ANA, started=True)
    return TelegramDoor(app.coach, app.catalog, ptb)
