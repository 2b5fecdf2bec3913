"""The SQLite store's lookups for a door: marks kept between runs, and sessions found by
what they list."""

from __future__ import annotations

from pathlib import Path

from bot.app import App
from bot.store.base import UserRow
from bot.store.sqlite import SQLiteStore


async def test_a_mark_is_kept_between_runs(app: App, tmp_path: Path) -> None:
    assert await app.store.mark("door.mark") is None
    await app.store.set_mark("door.mark", 41)
    await app.store.set_mark("door.mark", 42)
    reopened = await SQLiteStore.open(tmp_path / "coach.db")
    try:
        assert await reopened.mark("door.mark") == 42
    finally:
        await reopened.close()


async def test_sessions_are_found_by_an_item_of_the_entries_they_list(app: App) -> None:
    now = app.coach.clock.now()
    lists = {
        "tg:1": [[7, 100, "a"], [8, 205, "b"]],
        "tg:2": [[9, 150, "c"]],
        "tg:3": [],
        "cli:4": [[10, 300, "d"]],
    }
    for user_id, entries in lists.items():
        await app.store.save(UserRow(user_id, session={"unsent": entries}), [], now)
    await app.store.save(UserRow("tg:5", session={"frames": []}), [], now)

    found = await app.store.sessions_listing("unsent", position=1, at_least=200, scope="tg:")

    assert found == [("tg:1", {"unsent": lists["tg:1"]})]
    everyone = await app.store.sessions_listing("unsent", position=1, at_least=0)
    assert sorted(user for user, _ in everyone) == ["cli:4", "tg:1", "tg:2"]
