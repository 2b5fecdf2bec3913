"""/stats: counts for the admins, an ordinary unknown command for everyone else."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, open_app
from bot.clock import ManualClock
from bot.config import Config
from tests.privacy.conftest import SECRET, Person

ADMIN = 42


@pytest.fixture
async def admin_app(tmp_path: Path, clock: ManualClock) -> AsyncIterator[App]:
    config = Config(db_path=tmp_path / "stats.db", admins=frozenset({ADMIN}))
    opened = await open_app(config, clock=clock, rng=random.Random(3))
    yield opened
    await opened.close()


async def test_an_admin_gets_counts_and_no_content(admin_app: App, clock: ManualClock) -> None:
    admin, user, busy = (Person(admin_app, u) for u in (f"tg:{ADMIN}", "tg:7", "cli:sam"))
    await user.onboard()
    await user.walk("/validate", clock)
    await busy.onboard()
    await busy("/pause")
    await admin_app.store.set_active("tg:7", False)

    (text,) = (await admin("/stats")).texts()

    lines = text.splitlines()
    assert lines[0] == "Secure Base in numbers (counts only, no content):"
    assert "People: 2" in lines  # the admin's own /stats stores nothing
    assert "Not blocked: 1" in lines
    assert "In a practice right now: 1" in lines
    assert "• validation: 1" in lines
    assert SECRET not in text and "tg:7" not in text and "sam" not in text
    assert await admin_app.store.load(f"tg:{ADMIN}") is None


async def test_crisis_answers_are_counted_by_category_own_violence_included(
    admin_app: App,
) -> None:
    for number, text in enumerate(["i want to kill myself", "I hit her", "I slapped my wife"]):
        person = Person(admin_app, f"cli:crisis-{number}")
        await person.onboard()
        await person(text)
    (text,) = (await Person(admin_app, f"tg:{ADMIN}")("/stats")).texts()
    lines = text.splitlines()
    assert "Crisis answers, by category: 3" in lines
    assert "• harm_to_partner: 2" in lines and "• suicide_self_harm: 1" in lines
    assert "i want to kill myself" not in text and "slapped" not in text


async def test_subscriptions_are_counted_when_the_schedule_table_exists(admin_app: App) -> None:
    await admin_app.store.connection.execute(
        "CREATE TABLE IF NOT EXISTS subscriptions (user_id TEXT NOT NULL)"
    )
    (text,) = (await Person(admin_app, f"tg:{ADMIN}")("/stats")).texts()
    assert "Check-in subscriptions: 0" in text.splitlines()


@pytest.mark.parametrize("user", ["tg:7", f"cli:{ADMIN}", f"tg:{ADMIN}0", "tg:"])
async def test_anyone_else_gets_the_ordinary_unknown_command_reply(
    admin_app: App, user: str
) -> None:
    asker = Person(admin_app, user)
    await asker.onboard()
    await asker("/pause")
    unknown = await asker("/nosuchcommand")

    reply = await asker("/stats")

    assert reply.actions == unknown.actions
