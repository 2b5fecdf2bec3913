"""The schedule against the real dialogues, a real SQLite file and a drivable clock."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import App
from bot.clock import ManualClock
from bot.coach.actions import Reply, Send
from bot.schedule.catalogue import ROUTINES_FILE, Routines, load_routines
from bot.schedule.choices import wanted
from bot.schedule.loop import Lane, ScheduleLoop
from bot.schedule.store import ScheduleStore
from bot.store.base import UserRow

ONBOARDED = {"consented": True, "onboarded": True, "afraid_of_partner": False}


@dataclass
class Outbox:
    """A door's way out, recording what the loop delivered and when."""

    clock: ManualClock
    sent: list[tuple[str, datetime, Reply]] = field(default_factory=list)

    async def __call__(self, user_id: str, reply: Reply, *, lane: Lane) -> None:
        assert lane == "scheduled"
        self.sent.append((user_id, self.clock.now(), reply))

    def times(self, user_id: str) -> list[datetime]:
        return [at for user, at, _ in self.sent if user == user_id]

    def texts(self, user_id: str) -> list[str]:
        return [text for user, _, reply in self.sent if user == user_id for text in reply.texts()]

    def last_buttons(self, user_id: str) -> dict[str, str]:
        replies = [reply for user, _, reply in self.sent if user == user_id]
        sends = [a for a in replies[-1].actions if isinstance(a, Send)]
        return {b.text: b.data for b in sends[-1].buttons}


@pytest.fixture
def outbox(clock: ManualClock) -> Outbox:
    return Outbox(clock)


@pytest.fixture
def loop(app: App, outbox: Outbox) -> ScheduleLoop:
    return ScheduleLoop(app.coach, outbox, "")


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


async def subscribe(app: App, user: str, **profile: Any) -> None:
    """Store ``profile`` changes for ``user`` (onboarded) through the save hook."""
    row = await app.store.load(user) or UserRow(user, profile=dict(ONBOARDED))
    row.profile.update(profile)
    await app.store.save(row, [], app.coach.clock.now(), app.coach.ext.save_hooks)


async def subscribe_many(app: App, users: Iterable[str], **profile: Any) -> None:
    """The same profile for many users at once, in one transaction (fast set-up)."""
    full = {**ONBOARDED, **profile}
    now = app.coach.clock.now()
    routines = _routines(app)
    store = ScheduleStore(app.store)
    ids = list(users)
    text = json.dumps(full, separators=(",", ":"))  # as the store writes it
    rows = [(u, text, now.isoformat(), now.isoformat()) for u in ids]
    async with app.store.transaction():
        await app.store.connection.executemany(
            "INSERT INTO users (id, profile, created_at, updated_at) VALUES (?, ?, ?, ?)", rows
        )
        for user in ids:
            await store.sync(user, wanted(full, routines), now)


def _routines(app: App) -> Routines:
    """The routines catalogue the app was built with."""
    return load_routines(app.config.dialogues / ROUTINES_FILE)


async def drive(app: App, loop: ScheduleLoop, until: datetime) -> None:
    """Move the clock from due row to due row up to ``until``, dispatching at each, as
    the running loop does (without its sleeping)."""
    store = ScheduleStore(app.store)
    clock = app.coach.clock
    assert isinstance(clock, ManualClock)
    while (due := await store.next_due("")) is not None and due <= until:
        await clock.set(max(due, clock.now()))
        await loop.dispatch_due()
    await clock.set(until)


async def rows(app: App, user: str) -> dict[str, dict[str, Any]]:
    """The user's subscription rows by key."""
    cursor = await app.store.connection.execute(
        "SELECT * FROM subscriptions WHERE user_id = ?", (user,)
    )
    names = [d[0] for d in cursor.description]
    found = {row[2]: dict(zip(names, row, strict=True)) for row in await cursor.fetchall()}
    await cursor.close()
    return found
