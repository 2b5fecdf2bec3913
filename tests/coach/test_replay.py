"""A delivery handled again is a replay: the same reply, nothing run or stored twice."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.coach.actions import Button, Edit, End, Picture, Reply, Send, StartTimer
from bot.coach.events import Event, Press, Text, TimerFired
from bot.coach.replay import DELIVERY, decode, encode
from bot.store.base import Record, UserRow
from tests.coach.test_engine import USER, Talk, timer_of


@pytest.fixture
def talk(coach_app: App) -> Talk:
    return Talk(coach_app)


async def snapshot(app: App) -> tuple[UserRow | None, list[Record]]:
    return await app.store.load(USER), await app.store.records(USER)


async def deliver(app: App, event: Event, delivery: str) -> Reply:
    return await app.coach.handle(USER, event, delivery=delivery)


async def test_a_text_answer_delivered_again_is_replayed_not_read_again(
    talk: Talk, coach_app: App
) -> None:
    await talk.onboard()
    await talk("/talk")
    first = await deliver(coach_app, Text("Sam"), "tg:10")
    assert first.texts() == ["Hello Sam. Calm?"]
    before = await snapshot(coach_app)
    assert before[0] is not None and before[0].session[DELIVERY] == "tg:10"

    again = await deliver(coach_app, Text("Sam"), "tg:10")
    assert again == first, "the same reply, buttons and all"
    assert await snapshot(coach_app) == before, "state and records unchanged"

    calm = next(b.data for a in first.actions if isinstance(a, Send) for b in a.buttons)
    moved = await deliver(coach_app, Press(calm), "tg:11")
    assert moved.texts() == ["Talk to your partner?"]
    after = await coach_app.store.load(USER)
    assert after is not None and after.session[DELIVERY] == "tg:11"
    assert after.session["frames"] != before[0].session["frames"]


async def test_a_press_that_saved_a_record_is_not_recorded_twice(
    talk: Talk, coach_app: App
) -> None:
    await talk.onboard()
    await talk("/talk")
    await talk("Sam")
    await talk.press("Calm")
    just_me = talk.buttons["Just me"]
    reply = await deliver(coach_app, Press(just_me), "tg:20")
    while timer := next((a for a in reply.actions if isinstance(a, StartTimer)), None):
        reply = await talk(TimerFired(timer.token))  # timers carry no delivery
    assert any(isinstance(a, End) for a in reply.actions)
    before = await snapshot(coach_app)
    assert before[1], "the practice saved a record"

    replayed = await deliver(coach_app, Press(just_me), "tg:20")
    assert replayed.texts()[:2] == ["Care for yourself.", "Round 1"]
    assert await snapshot(coach_app) == before


async def test_a_timer_between_keeps_the_last_delivery(talk: Talk, coach_app: App) -> None:
    await talk.onboard()
    await talk("/talk")
    await talk("Sam")
    reply = await deliver(coach_app, Press(talk.buttons["Not calm"]), "tg:30")
    await talk(TimerFired(timer_of(reply).token))
    before = await snapshot(coach_app)
    again = await deliver(coach_app, Press(talk.buttons["Not calm"]), "tg:30")
    assert again.texts() == ["Wait a moment."]
    assert await snapshot(coach_app) == before


def test_replies_are_stored_as_json_without_pictures() -> None:
    buttons = (Button("Yes", "g:a:b:0"), Button("No", "g:a:b:1"))
    actions = [
        Send("hello", buttons),
        Edit("phase 2"),
        Picture(b"\x89PNG", "chart"),
        StartTimer("a.b.1", 4.0),
        End(),
    ]
    assert decode(encode(actions)) == Reply([a for a in actions if not isinstance(a, Picture)])
    assert decode(None) == Reply()
    assert decode([{"do": "what"}, {"text": "no kind"}]) == Reply()
