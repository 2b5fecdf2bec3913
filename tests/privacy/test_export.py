"""/export: one JSON file of everything stored about the user, and nobody else."""

from __future__ import annotations

import json

from bot.app import App
from bot.clock import ManualClock
from bot.coach.actions import Document
from bot.privacy.feature import EXPORT_FILE, EXPORT_FORMAT, EXPORT_VERSION
from bot.store.sqlite import USER_TABLES
from tests.privacy.conftest import SECRET, Person

OTHER_SECRET = "a different person's words"


async def test_export_holds_everything_about_the_user(app: App, clock: ManualClock) -> None:
    alice, bob = Person(app, "tg:1001"), Person(app, "tg:2002")
    for who, words in ((alice, SECRET), (bob, OTHER_SECRET)):
        await who.onboard()
        await who.walk("/validate", clock, words)
    await alice("/pause")

    reply = await alice("/export")

    (document,) = reply.actions
    assert isinstance(document, Document)
    assert document.filename == EXPORT_FILE
    assert "Everything I've stored about you" in document.caption
    exported = json.loads(document.content)
    assert exported["format"] == EXPORT_FORMAT
    assert exported["version"] == EXPORT_VERSION
    assert exported["exported_at"] == clock.now().isoformat()
    assert exported["user_id"] == "tg:1001"
    tables = exported["tables"]
    assert set(USER_TABLES) <= set(tables)
    (user,) = tables["users"]
    assert user["profile"]["consented"] is True
    assert user["session"]["frames"][0]["dialogue"] == "pause"
    kinds = {record["kind"] for record in tables["records"]}
    assert {"feeling", "validation"} <= kinds
    assert SECRET in json.dumps(tables["records"])
    text = document.content.decode("utf-8")
    assert "tg:2002" not in text
    assert OTHER_SECRET not in text


async def test_export_is_readable_json_with_the_users_own_characters(app: App) -> None:
    maria = Person(app, "cli:maría")
    await maria.onboard()
    exported = await maria.export()
    text = json.dumps(exported, ensure_ascii=False)
    assert "maría" in text


async def test_a_stranger_gets_an_empty_export_and_nothing_is_stored(app: App) -> None:
    stranger = Person(app, "tg:3003")
    exported = await stranger.export()
    assert all(rows == [] for rows in exported["tables"].values())
    assert await app.store.load("tg:3003") is None
