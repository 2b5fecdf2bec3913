"""SIGKILL: an update in flight may be processed again, a reply sent twice, but nothing is
lost."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
from collections.abc import Callable

import pytest

from bot.telegram.recovery import MARK
from tests.botapi import FakeBotAPI
from tests.telegram.harness import BotProcess, Person
from tests.telegram.test_restarts import load_and_restart

pytestmark = pytest.mark.timeout(150)


async def test_sigkill_mid_load_loses_nothing(
    api: FakeBotAPI, bots: Callable[..., BotProcess], people: Callable[[int], Person]
) -> None:
    _, code = await load_and_restart(api, bots, people, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert api.unanswered_callbacks() == []
    assert api.pending_updates() == 0


async def test_a_reply_held_back_when_killed_arrives_after_the_restart(
    api: FakeBotAPI, bots: Callable[..., BotProcess], people: Callable[[int], Person]
) -> None:
    first = bots()
    await first.start()
    ana = people(4001)
    await ana.onboard()
    await api.wait_until(lambda: kept_mark(first) is not None, what="a sent mark kept")
    api.fail_next(ana.id, count=1, retry_after=5)
    await ana.write("/pause")
    await api.wait_until(lambda: any(c.status == 429 for c in api.calls_to(chat_id=ana.id)))
    await api.wait_until(lambda: api.pending_updates() == 0, what="the update confirmed")
    await first.kill()  # the reply to /pause never left this process

    second = bots()
    await second.start()
    await ana.sees("pause", "stop", timeout=10)
    await ana.rests_at("pause", "stop")
    assert await second.stop() == 0


def kept_mark(bot: BotProcess) -> int | None:
    with contextlib.closing(sqlite3.connect(bot.db)) as db:
        try:
            rows = db.execute("SELECT value FROM marks WHERE name = ?", (MARK,)).fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return None
    return rows[0][0] if rows else None
