"""People talking to the real dialogues, and a look at every cell of the SQLite file."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.coach.actions import Document, End, Reply, StartTimer
from bot.coach.events import TimerFired
from bot.coach.session import Session
from bot.dialogue.schema import State
from tests.coach.test_engine import Talk
from tests.transcripts.runner import GIVEN

SECRET = "purple otter 7731 on the bookshelf"
"""A phrase typed into every free-text answer, easy to search for afterwards."""

MAX_STEPS = 300


class Person(Talk):
    """A user of the real dialogues, who can walk a practice to its end."""

    async def onboard(self, given: str = "onboarded") -> None:
        """Onboarding as the transcripts' ``given`` steps do it."""
        for step in GIVEN[given]:
            await (self(step["user"]) if "user" in step else self.press(step["press"]))

    async def walk(self, command: str, clock: ManualClock, typed: str = SECRET) -> None:
        """Run a practice to its end: type ``typed`` wherever free text is asked, else
        press the first button offered; timers fire as the clock reaches them."""
        reply = await self(command)
        for _ in range(MAX_STEPS):
            if any(isinstance(action, End) for action in reply.actions):
                return
            reply = await self.next_move(reply, clock, typed)
        raise AssertionError(f"{command} did not end within {MAX_STEPS} steps")

    async def next_move(self, reply: Reply, clock: ManualClock, typed: str) -> Reply:
        timer = next((a for a in reply.actions if isinstance(a, StartTimer)), None)
        if timer is not None:
            await clock.advance(timer.seconds)
            return await self(TimerFired(timer.token))
        state = await self.state()
        if state is not None and state.input is not None:
            return await self(typed)
        return await self.press(next(iter(self.buttons)))

    async def state(self) -> State | None:
        row = await self.app.store.load(self.user)
        frame = Session.from_json(row.session).top if row else None
        if frame is None:
            return None
        return self.app.catalog.dialogues[frame.dialogue].states[frame.state]

    async def export(self) -> dict[str, Any]:
        """The user's ``/export``, parsed."""
        reply = await self("/export")
        (document,) = reply.actions
        assert isinstance(document, Document)
        loaded: dict[str, Any] = json.loads(document.content)
        return loaded


def cells(db: Path) -> Iterator[tuple[str, str, str]]:
    """(table, column, value as text) of every non-empty cell of every table, read with
    a connection of its own, so tables added later are covered without a change here."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        yield table, column, str(value)


def cells_mentioning(db: Path, needle: str) -> list[tuple[str, str]]:
    """(table, column) of every cell whose text contains ``needle``."""
    return [(table, column) for table, column, value in cells(db) if needle in value]
