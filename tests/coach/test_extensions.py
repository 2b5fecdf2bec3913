"""Feature packages plug in through Extensions; clashes and gaps fail loudly at start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import App
from bot.coach.actions import Reply
from bot.coach.engine import Coach
from bot.coach.events import Press, Scheduled, Text
from bot.coach.extensions import Extensions
from bot.coach.moves import DialogueMachines
from bot.coach.timers import TimerRunner
from bot.coach.turn import Turn
from bot.dialogue.loader import load_catalog
from bot.dialogue.schema import EffectSpec
from bot.store.sqlite import SQLiteStore
from tests.coach.conftest import FIXTURE


def _noop(turn: Turn, arg: str) -> None:
    del turn, arg


def test_a_name_claimed_twice_is_refused() -> None:
    one = Extensions(commands={"settings": _noop})
    with pytest.raises(ValueError, match="settings"):
        _ = one + Extensions(commands={"settings": _noop})


async def test_hooks_are_reached_from_a_turn(tmp_path: Path) -> None:
    seen: list[str] = []

    def screen(turn: Turn, text: str) -> bool:
        seen.append(f"screen:{len(text)}")
        return text == "caught"

    ext = Extensions(
        presses={"z": lambda turn, data: seen.append(data)},
        scheduled={"checkin": lambda turn, ref: seen.append(f"due:{ref}")},
        text_screens=(screen,),
    )
    catalog = load_catalog(FIXTURE)
    async with await SQLiteStore.open(tmp_path / "x.db") as store:
        coach = Coach(catalog, store, DialogueMachines(catalog.dialogues), extensions=ext)
        assert (await coach.handle("cli:a", Text("caught"))).actions == []
        assert (await coach.handle("cli:a", Text("other"))).texts() == ["IDLE"]
        await coach.handle("cli:a", Press("z:7"))
        await coach.handle("cli:a", Scheduled("checkin", "3"))
    assert seen == ["screen:6", "screen:5", "z:7", "due:3"]


def test_a_dialogue_naming_an_unprovided_effect_stops_the_start(coach_app: App) -> None:
    catalog = coach_app.catalog
    wait = catalog.dialogues["wait"]
    pause = wait.states["pause"].model_copy(update={"effects": [EffectSpec(name="subscribe")]})
    catalog.dialogues["wait"] = wait.model_copy(update={"states": {**wait.states, "pause": pause}})
    with pytest.raises(LookupError, match="wait: subscribe"):
        Coach(catalog, coach_app.store, DialogueMachines(catalog.dialogues))


async def test_the_timer_runner_finishes_its_round_when_stopped(coach_app: App) -> None:
    delivered: list[str] = []

    async def deliver(user: str, reply: Reply) -> None:
        delivered.append(user)

    runner = TimerRunner(coach_app.coach, deliver, "cli:")
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0)
    runner.stop()
    await asyncio.wait_for(task, 5)
    assert task.done() and not task.cancelled()
