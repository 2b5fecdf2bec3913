"""Restarts: several users under load, the bot stopped mid-load with SIGTERM and started
again. Every update Telegram considers delivered is processed exactly once, and every
user goes on at the right step."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Callable

import pytest

from tests.botapi import FakeBotAPI
from tests.telegram.harness import BotProcess, Person, pattern

pytestmark = pytest.mark.timeout(150)

USERS = range(3001, 3007)
PRESSES = 6  # per user; an even number brings each back to the feelings step
STOP_AFTER = 10  # presses answered in all before the stop signal


async def toggle(person: Person) -> None:
    """Angry, Back, Angry, Back…: each press waits for its answer, as a person would."""
    for number in range(PRESSES):
        label, step = ("Angry", "f_angry") if number % 2 == 0 else ("Back", "open")
        await person.tap(label)
        await person.sees("validate", step, timeout=60)


async def load_and_restart(
    api: FakeBotAPI, bots: Callable[..., BotProcess], people: Callable[[int], Person], sig: int
) -> tuple[list[Person], int]:
    first = bots()
    await first.start()
    persons = [people(user) for user in USERS]
    for person in persons:
        await person.onboard()
        await person.write("/validate")
        await person.sees("validate", "open")
    before = len(api.answered_callbacks)
    drivers = [asyncio.create_task(toggle(person)) for person in persons]
    await api.wait_until(
        lambda: len(api.answered_callbacks) - before >= STOP_AFTER, timeout=30, what="load"
    )
    code = await first.stop(sig)
    second = bots()
    await second.start()
    await asyncio.gather(*drivers)
    for person in persons:
        stored = await person.rests_at("validate", "open", timeout=10)
        assert stored.step == ("validate", "open")
    assert await second.stop() == 0
    return persons, code


def answers_per_press(api: FakeBotAPI) -> Counter[str]:
    return Counter(answer.query_id for answer in api.answered_callbacks)


async def test_sigterm_mid_load_processes_every_delivered_update_exactly_once(
    api: FakeBotAPI, bots: Callable[..., BotProcess], people: Callable[[int], Person]
) -> None:
    persons, code = await load_and_restart(api, bots, people, signal.SIGTERM)
    assert code == 0
    assert api.unanswered_callbacks() == []
    assert set(answers_per_press(api).values()) == {1}, "a press was processed twice"
    assert api.pending_updates() == 0
    for person in persons:
        feelings = pattern(person.state("validate", "open").say)
        shown = [m for m in person.messages() if feelings.fullmatch(m.text or "")]
        assert len(shown) == PRESSES // 2 + 1, "/validate and each Back answered once"
