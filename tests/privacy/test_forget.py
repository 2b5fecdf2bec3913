"""/forget: asked first, then every row of the user gone from every table."""

from __future__ import annotations

from pathlib import Path

from bot.app import App
from bot.clock import ManualClock
from bot.coach.actions import End, Forgotten
from bot.coach.engine import Coach
from bot.coach.events import Text
from bot.coach.extensions import Extensions
from bot.coach.moves import DialogueMachines
from bot.coach.turn import Turn
from bot.dialogue.loader import load_catalog
from bot.store.sqlite import SQLiteStore
from tests.coach.conftest import FIXTURE
from tests.privacy.conftest import SECRET, Person, cells_mentioning

ALICE, BOB = "tg:1001", "tg:2002"


async def alice_and_bob(app: App, clock: ManualClock) -> tuple[Person, Person]:
    """Two people with a profile, records and a place in a practice each."""
    alice, bob = Person(app, ALICE), Person(app, BOB)
    for who in (alice, bob):
        await who.onboard()
        await who.walk("/repair", clock)
        await who("/breathe")
    return alice, bob


async def test_forget_asks_first_and_keeping_changes_nothing(app: App, clock: ManualClock) -> None:
    alice, _ = await alice_and_bob(app, clock)
    before = await alice.export()

    asked = await alice("/forget")

    assert "can't be undone" in asked.texts()[0]
    assert list(alice.buttons) == ["Delete everything", "Keep my data"]
    kept = await alice.press("Keep my data")
    assert kept.texts() == ["Okay, nothing is deleted. /forget is here whenever you need it."]
    after = await alice.export()
    assert after["tables"]["records"] == before["tables"]["records"]
    assert after["tables"]["users"][0]["profile"] == before["tables"]["users"][0]["profile"]


async def test_forget_leaves_no_row_of_the_user_in_any_table(app: App, clock: ManualClock) -> None:
    alice, _ = await alice_and_bob(app, clock)
    db = app.store.path
    assert cells_mentioning(db, ALICE) and cells_mentioning(db, SECRET)

    await alice("/forget")
    reply = await alice.press("Delete everything")

    assert Forgotten() in reply.actions and reply.actions[-1] == End()
    (goodbye,) = reply.texts()
    assert "Delete chat" in goodbye
    assert cells_mentioning(db, ALICE) == []
    bobs = {table for table, _ in cells_mentioning(db, BOB)}
    assert {"users", "records"} <= bobs
    assert {table for table, _ in cells_mentioning(db, SECRET)} == {"records"}


async def test_after_forgetting_the_user_is_greeted_as_new(app: App, clock: ManualClock) -> None:
    alice, _ = await alice_and_bob(app, clock)
    await alice("/forget")
    await alice.press("Delete everything")

    reply = await alice("/start")

    assert reply.texts()[0].startswith("Hi. I'm Secure Base")
    assert list(alice.buttons) == ["Tell me more"]


async def test_someone_who_never_consented_can_forget(app: App) -> None:
    declined = Person(app, "tg:4004")
    for step in ("/start", "Tell me more", "Okay", "Not now"):
        await (declined(step) if step.startswith("/") else declined.press(step))
    assert cells_mentioning(app.store.path, "tg:4004")

    await declined("/forget")
    await declined.press("Delete everything")

    assert cells_mentioning(app.store.path, "tg:4004") == []


async def test_practices_still_ask_for_consent_through_onboarding(app: App) -> None:
    """The privacy dialogue needs no consent; it must not become the onboarding."""
    reply = await Person(app, "tg:5005")("/breathe")
    assert reply.texts()[1].startswith("Hi. I'm Secure Base")


async def test_the_engine_deletes_instead_of_saving_on_forgotten(tmp_path: Path) -> None:
    """A turn whose actions hold Forgotten is not saved: the user's rows are deleted."""

    def wipe(turn: Turn, args: str) -> None:
        turn.actions.append(Forgotten())

    ext = Extensions(commands={"wipe": wipe})
    catalog = load_catalog(FIXTURE)
    async with await SQLiteStore.open(tmp_path / "engine.db") as store:
        coach = Coach(catalog, store, DialogueMachines(catalog.dialogues), extensions=ext)
        await coach.handle("cli:a", Text("/hello"))
        assert await store.load("cli:a") is not None
        reply = await coach.handle("cli:a", Text("/wipe"))
        assert reply.actions == [Forgotten()]
        assert await store.load("cli:a") is None
