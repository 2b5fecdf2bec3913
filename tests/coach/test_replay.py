"""A delivery handled again is a replay: its reply again (unless known sent), nothing run
or stored twice; the replies not known sent are kept with the state."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.coach.actions import Button, Edit, End, Picture, Reply, Send, StartTimer
from bot.coach.events import Event, Press, Text, TimerFired
from bot.coach.replay import UNSENT, Delivery, decode, encode
from bot.store.base import Record, UserRow
from tests.coach.test_engine import USER, Talk, timer_of


@pytest.fixture
def talk(coach_app: App) -> Talk:
    return Talk(coach_app)


async def snapshot(app: App) -> tuple[UserRow | None, list[Record]]:
    return await app.store.load(USER), await app.store.records(USER)


async def deliver(app: App, event: Event, key: int, sent_below: int | None = None) -> Reply:
    """Delivery ``key``, ordered by its key (as Telegram's ids mostly are)."""
    delivery = Delivery(key, order=key)
    return await app.coach.handle(USER, event, delivery=delivery, sent_below=sent_below)


async def test_a_text_answer_delivered_again_is_replayed_not_read_again(
    talk: Talk, coach_app: App
) -> None:
    await talk.onboard()
    await talk("/talk")
    first = await deliver(coach_app, Text("Sam"), 10)
    assert first.texts() == ["Hello Sam. Calm?"]
    before = await snapshot(coach_app)
    assert before[0] is not None and [e[0] for e in before[0].session[UNSENT]] == [10]

    again = await deliver(coach_app, Text("Sam"), 10)
    assert again == first, "the same reply, buttons and all"
    assert await snapshot(coach_app) == before, "state and records unchanged"

    calm = next(b.data for a in first.actions if isinstance(a, Send) for b in a.buttons)
    moved = await deliver(coach_app, Press(calm), 11)
    assert moved.texts() == ["Talk to your partner?"]
    after = await coach_app.store.load(USER)
    assert after is not None and [e[0] for e in after.session[UNSENT]] == [10, 11]
    assert after.session["frames"] != before[0].session["frames"]


async def test_a_press_that_saved_a_record_is_not_recorded_twice(
    talk: Talk, coach_app: App
) -> None:
    await talk.onboard()
    await talk("/talk")
    await talk("Sam")
    await talk.press("Calm")
    just_me = talk.buttons["Just me"]
    reply = await deliver(coach_app, Press(just_me), 20)
    while timer := next((a for a in reply.actions if isinstance(a, StartTimer)), None):
        reply = await talk(TimerFired(timer.token))  # timers carry no delivery
    assert any(isinstance(a, End) for a in reply.actions)
    before = await snapshot(coach_app)
    assert before[1], "the practice saved a record"

    replayed = await deliver(coach_app, Press(just_me), 20)
    assert replayed.texts()[:2] == ["Care for yourself.", "Round 1"]
    assert await snapshot(coach_app) == before


async def test_a_timer_between_keeps_the_last_delivery(talk: Talk, coach_app: App) -> None:
    await talk.onboard()
    await talk("/talk")
    await talk("Sam")
    reply = await deliver(coach_app, Press(talk.buttons["Not calm"]), 30)
    await talk(TimerFired(timer_of(reply).token))
    before = await snapshot(coach_app)
    again = await deliver(coach_app, Press(talk.buttons["Not calm"]), 30)
    assert again.texts() == ["Wait a moment."]
    assert await snapshot(coach_app) == before


async def test_an_earlier_delivery_handed_over_again_is_not_run_again(
    talk: Talk, coach_app: App
) -> None:
    await talk.onboard()
    await talk("/talk")
    named = await deliver(coach_app, Text("Sam"), 50)
    calm = next(b.data for a in named.actions if isinstance(a, Send) for b in a.buttons)
    await deliver(coach_app, Press(calm), 51)  # both in one batch, neither reply sent yet
    before = await snapshot(coach_app)

    again = await deliver(coach_app, Text("Sam"), 50)

    assert again == named, "its own reply, from the replies kept"
    assert await snapshot(coach_app) == before, "not read as an answer to the next step"


async def test_a_delivery_whose_reply_is_known_sent_gets_nothing_again(
    talk: Talk, coach_app: App
) -> None:
    await talk.onboard()
    await talk("/talk")
    await deliver(coach_app, Text("Sam"), 60)
    before = await snapshot(coach_app)
    assert await deliver(coach_app, Text("Sam"), 60, sent_below=61) == Reply()
    assert await snapshot(coach_app) == before


async def test_only_replies_not_known_sent_are_kept(talk: Talk, coach_app: App) -> None:
    await talk.onboard()
    await talk("/talk")
    named = await deliver(coach_app, Text("Sam"), 70)
    calm = next(b.data for a in named.actions if isinstance(a, Send) for b in a.buttons)
    await deliver(coach_app, Press(calm), 71, sent_below=70)
    assert await kept(coach_app) == [70, 71]
    await talk(TimerFired("no such timer"))  # an event without a delivery keeps them
    assert await kept(coach_app) == [70, 71]
    await deliver(coach_app, Text("/stop"), 72, sent_below=71)
    assert await kept(coach_app) == [71, 72]
    await deliver(coach_app, Text("/talk"), 73, sent_below=73)
    assert await kept(coach_app) == [73]


async def test_a_lower_id_after_a_long_silence_is_a_new_delivery(
    talk: Talk, coach_app: App
) -> None:
    # After a week without updates Telegram picks the next update_id at random.
    await talk.onboard()
    await talk("/talk")
    await coach_app.coach.handle(USER, Text("Sam"), delivery=Delivery(900_000, order=1))
    reply = await coach_app.coach.handle(USER, Text("/stop"), delivery=Delivery(17, order=2))
    assert reply.texts() == ["STOPPED"]


async def kept(app: App) -> list[int]:
    row = await app.store.load(USER)
    assert row is not None
    return [key for key, _, _ in row.session[UNSENT]]


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
