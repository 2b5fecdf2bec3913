"""Retention: notes older than N days go, the rest of the history stays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import App
from bot.clock import ManualClock
from bot.coach.events import Text
from bot.coach.replay import UNSENT, Delivery
from bot.config import ConfigError
from bot.dialogue.schema import Dialogue
from bot.privacy.retention import (
    NOTE_KINDS,
    PURGE_EVERY,
    purge_old_notes,
    retention,
    retention_days,
)
from bot.store.base import Record, UserRow
from tests.privacy.conftest import SECRET, Person, cells_mentioning


async def save_record(app: App, user: str, kind: str, age: timedelta, clock: ManualClock) -> None:
    row = await app.store.load(user) or UserRow(user)
    when = clock.now() - age
    await app.store.save(row, [Record(kind, {"note": f"{SECRET} {kind}"}, when)], clock.now())


async def test_only_notes_older_than_the_limit_are_deleted(app: App, clock: ManualClock) -> None:
    for kind in ("feeling", "repair_plan", "breathing"):
        await save_record(app, "tg:1", kind, timedelta(days=31), clock)
    await save_record(app, "tg:1", "validation", timedelta(days=29), clock)

    deleted = await purge_old_notes(app.store, clock.now(), 30)

    assert deleted == 2
    left = sorted(record.kind for record in await app.store.records("tg:1"))
    assert left == ["breathing", "validation"]


async def test_a_practice_left_longer_than_the_limit_forgets_its_answers(
    app: App, clock: ManualClock
) -> None:
    left_behind, recent = Person(app, "tg:1"), Person(app, "tg:2")
    for who in (left_behind, recent):
        await who.onboard()
        await who("/validate")
        for label in ("Angry", "Annoyed", "Go on"):
            await who.press(label)
        await who(SECRET)  # the observation, kept in the session until the practice ends
    await clock.advance(days=2)
    await recent.press(next(iter(recent.buttons)))

    await purge_old_notes(app.store, clock.now(), 1)

    assert await left_behind.state() is None
    assert await recent.state() is not None
    assert cells_mentioning(app.store.path, SECRET) == [("users", "session")]


async def test_the_purge_runs_at_start_and_then_daily(app: App, clock: ManualClock) -> None:
    await save_record(app, "tg:1", "feeling", timedelta(days=8), clock)
    async with retention(app.store, clock, 7):
        await clock.advance(0)
        assert await app.store.records("tg:1") == []
        await save_record(app, "tg:1", "feeling", timedelta(0), clock)
        for _ in range(7):
            await clock.advance(PURGE_EVERY.total_seconds())
            assert len(await app.store.records("tg:1")) == 1
        await clock.advance(PURGE_EVERY.total_seconds())
        assert await app.store.records("tg:1") == []


async def test_without_a_limit_nothing_runs(app: App, clock: ManualClock) -> None:
    await save_record(app, "tg:1", "feeling", timedelta(days=4000), clock)
    async with retention(app.store, clock, None):
        await clock.advance(days=2)
    assert len(await app.store.records("tg:1")) == 1


def test_the_limit_is_read_from_the_environment() -> None:
    assert retention_days({}) is None
    assert retention_days({"SECUREBASE_RETENTION_DAYS": " "}) is None
    assert retention_days({"SECUREBASE_RETENTION_DAYS": "30"}) == 30
    for bad in ("0", "-3", "30d", "1.5", "٣"):
        with pytest.raises(ConfigError, match="SECUREBASE_RETENTION_DAYS"):
            retention_days({"SECUREBASE_RETENTION_DAYS": bad})


def test_every_kind_that_can_hold_typed_text_is_a_note_kind(app: App) -> None:
    """A dialogue saving an ``input`` answer under a new kind must be listed."""

    def typed_kinds(dialogue: Dialogue) -> set[str]:
        typed = {s.input.save_as for s in dialogue.states.values() if s.input is not None}
        return {
            state.save.kind
            for state in dialogue.states.values()
            if state.save is not None and typed & set(state.save.fields)
        }

    found = set().union(*(typed_kinds(d) for d in app.catalog.dialogues.values()))
    assert found and found <= set(NOTE_KINDS)


async def test_replies_kept_for_a_replay_go_with_the_place(app: App, clock: ManualClock) -> None:
    who = Person(app, "tg:1")
    await who.onboard()
    await app.coach.handle(who.user, Text("/validate"), delivery=Delivery(9, order=9))
    row = await app.store.load(who.user)
    assert row is not None and UNSENT in row.session
    await clock.advance(days=2)

    await purge_old_notes(app.store, clock.now(), 1)

    row = await app.store.load(who.user)
    assert row is not None and UNSENT not in row.session
