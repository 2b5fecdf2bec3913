"""The terminal coach runs the same schedule: a reminder comes due and is printed, and
its buttons are pressed by number like any other."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from bot.app import App
from bot.clock import ManualClock
from bot.console.chat import ConsoleChat
from tests.schedule.conftest import subscribe

MAX_STEPS = 10_000


async def printed(screen: io.StringIO, clock: ManualClock, text: str) -> None:
    """Let the clock's sleepers run (and the database answer) until ``text`` is shown."""
    for _ in range(MAX_STEPS):
        if text in screen.getvalue():
            return
        await clock.advance(0)
    raise AssertionError(f"never printed {text!r}:\n{screen.getvalue()}")


async def test_a_check_in_comes_due_in_the_terminal_and_is_answered_by_number(
    app: App, clock: ManualClock, tmp_path: Path
) -> None:
    await clock.set(datetime(2026, 2, 2, 12, tzinfo=UTC))
    await subscribe(app, "cli:sam", tz="UTC", checkin_time="12:30")
    screen = io.StringIO()
    chat = ConsoleChat(app.coach, "sam", screen, fast=True, files=tmp_path)

    async def lines() -> AsyncIterator[str]:
        yield "/settings"
        await clock.set(datetime(2026, 2, 2, 12, 30, tzinfo=UTC))
        await printed(screen, clock, "Daily check-in. How close did you feel today?")
        yield "4"  # the fourth button of the reminder: closeness 4
        await printed(screen, clock, "1 is calm, 5 is very tense")

    await chat.run(lines())
    shown = screen.getvalue()
    assert "[6] Snooze 1 h\n[7] Not today" in shown
    assert shown.index("Daily check-in: 12:30") < shown.index("Daily check-in. How close")
