"""Properties of the real dialogues, checked by walking them like many different users."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.app import App
from bot.coach.actions import Edit, Reply, Send, StartTimer
from bot.coach.events import Event, Press, Text, TimerFired
from bot.store.base import UserRow

WALKS_PER_DIALOGUE = 12
STEPS_PER_WALK = 50
PRACTICES = ["pause", "breathe", "validate", "repair", "menu"]


async def onboard(app: App, user: str, *, afraid: bool) -> None:
    """Store a consented, onboarded profile as the onboarding dialogue leaves it."""
    profile = {"consented": True, "onboarded": True}
    profile |= {"afraid_of_partner": afraid, "partner_safe": afraid}
    await app.store.save(UserRow(user, profile=profile), [], app.coach.clock.now())


def partner_facing_now(app: App, row: UserRow | None) -> str | None:
    frames = row.session.get("frames", []) if row else []
    for frame in frames:
        state = app.catalog.dialogues[frame["dialogue"]].states[frame["state"]]
        if state.partner_facing:
            return f"{frame['dialogue']}.{frame['state']}"
    return None


def next_event(reply: Reply, rng: random.Random) -> Event | None:
    """What a random user does next: press a button, type, or wait for the timer."""
    buttons = [b for a in reply.actions if isinstance(a, Send | Edit) for b in a.buttons]
    timers = [a for a in reply.actions if isinstance(a, StartTimer)]
    roll = rng.random()
    if timers and roll < 0.6:
        return TimerFired(timers[-1].token)
    if buttons and roll < 0.9:
        return Press(rng.choice(buttons).data)
    return Text(rng.choice(["not sure really", "we argued about money again", "", "🙂", "ok"]))


@pytest.mark.parametrize("afraid", [False, True], ids=["ordinary", "partner-safe"])
@pytest.mark.parametrize("practice", PRACTICES)
async def test_random_walks_never_stall_and_respect_partner_safe_mode(
    app: App, practice: str, afraid: bool
) -> None:
    rng = random.Random(f"{practice}-{afraid}")
    for walk in range(WALKS_PER_DIALOGUE):
        user = f"cli:walker-{walk}"
        await onboard(app, user, afraid=afraid)
        reply = await app.coach.handle(user, Text(f"/{practice}"))
        for _ in range(STEPS_PER_WALK):
            assert reply.actions, "every user action gets an answer"
            if afraid:
                assert partner_facing_now(app, await app.store.load(user)) is None
            event = next_event(reply, rng)
            if event is None:
                break
            reply = await app.coach.handle(user, event)


async def run_breathing(app: App, user: str) -> list[Send | Edit]:
    await onboard(app, user, afraid=False)
    messages: list[Send | Edit] = []
    reply = await app.coach.handle(user, Text("/breathe"))
    start = next(b for a in reply.actions if isinstance(a, Send) for b in a.buttons)
    reply = await app.coach.handle(user, Press(start.data))
    while True:
        messages += [a for a in reply.actions if isinstance(a, Send | Edit)]
        timer = next((a for a in reply.actions if isinstance(a, StartTimer)), None)
        if timer is None:
            return messages
        reply = await app.coach.handle(user, TimerFired(timer.token))


async def test_the_pacer_is_one_message_edited_phase_by_phase_never_twice_the_same(
    app: App,
) -> None:
    messages = await run_breathing(app, "cli:pacer")
    pacing = list(itertools.takewhile(lambda m: isinstance(m, Edit), messages[1:]))
    assert isinstance(messages[0], Send)
    phases = [m.text for m in pacing if "Breathe in" in m.text or "Breathe out" in m.text]
    assert len(phases) == 12, "6 rounds of in and out, each an edit of the same message"
    assert "6 of 6" in pacing[-1].text, "the pacer closes in the same message"
    assert all(a.text != b.text for a, b in itertools.pairwise([messages[0], *pacing]))
    assert all(len(m.text) <= 4096 for m in messages)


async def test_stop_pressed_as_the_phase_changes_still_stops(app: App) -> None:
    user = "cli:racer"
    await onboard(app, user, afraid=False)
    reply = await app.coach.handle(user, Text("/breathe"))
    start = next(b for a in reply.actions if isinstance(a, Send) for b in a.buttons)
    reply = await app.coach.handle(user, Press(start.data))
    reply = await app.coach.handle(user, TimerFired(_timer(reply)))  # "ready" → inhale
    stop_in_inhale = next(b for a in reply.actions if isinstance(a, Edit) for b in a.buttons)
    await app.coach.handle(user, TimerFired(_timer(reply)))  # the pacer moves on to exhale
    reply = await app.coach.handle(user, Press(stop_in_inhale.data))
    assert "Stopped" in reply.texts()[0]
    assert not any("earlier step" in text for text in reply.texts())


def _timer(reply: Reply) -> str:
    return next(a.token for a in reply.actions if isinstance(a, StartTimer))
