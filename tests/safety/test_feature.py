"""The crisis screen inside the coach: every state of every dialogue, and before consent."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.coach.actions import Reply, Send
from bot.coach.events import Press, Text
from bot.store.base import UserRow
from tests.content.test_dialogues import onboard

CRISIS = "honestly i just want to kms"
PARTNER = "he grabbed my throat last night"


def states_with_input(app: App) -> list[tuple[str, str]]:
    return [
        (d.id, name)
        for d in app.catalog.dialogues.values()
        for name, state in d.states.items()
        if state.waits
    ]


async def place(app: App, user: str, dialogue: str, state: str) -> None:
    """Put a user at a step, as if they had walked there."""
    row = await app.store.load(user) or UserRow(user)
    row.session = {"frames": [{"dialogue": dialogue, "state": state, "vars": {}}]}
    await app.store.save(row, [], app.coach.clock.now())


def buttons(reply: Reply) -> dict[str, str]:
    return {b.text: b.data for a in reply.actions if isinstance(a, Send) for b in a.buttons}


async def test_crisis_text_is_caught_in_every_waiting_state_of_every_dialogue(app: App) -> None:
    for number, (dialogue, state) in enumerate(states_with_input(app)):
        user = f"cli:state-{number}"
        await onboard(app, user, afraid=False)
        await place(app, user, dialogue, state)
        reply = await app.coach.handle(user, Text(CRISIS))
        said = "\n".join(reply.texts())
        assert "988" in said or "findahelpline" in said.lower(), f"{dialogue}.{state}"
        row = await app.store.load(user)
        assert row is not None
        assert row.session["frames"][-1]["state"] == state, "the dialogue did not see the text"


async def test_the_way_back_returns_to_the_same_step(app: App) -> None:
    user = "cli:back"
    await onboard(app, user, afraid=False)
    first = await app.coach.handle(user, Text("/validate"))
    reply = await app.coach.handle(user, Text(CRISIS))
    back = await app.coach.handle(user, Press(buttons(reply)["Back to where we were"]))
    assert back.texts() == first.texts()
    assert list(buttons(back))[:2] == ["Angry", "Afraid"]


async def test_grounding_runs_on_top_and_hands_back_the_same_step(app: App) -> None:
    user = "cli:ground"
    await onboard(app, user, afraid=False)
    await app.coach.handle(user, Text("/validate"))
    reply = await app.coach.handle(user, Text(CRISIS))
    reply = await app.coach.handle(user, Press(buttons(reply)["A grounding exercise"]))
    reply = await app.coach.handle(user, Press(buttons(reply)["Okay"]))
    for _ in range(5):
        reply = await app.coach.handle(user, Press(buttons(reply)["Done"]))
    assert "breathe out slowly" in reply.texts()[0]
    assert list(buttons(reply))[:2] == ["Angry", "Afraid"], "back at the feelings step"
    records = await app.store.records(user, "feeling")
    assert records == [], "nothing was saved twice on the way back"


async def test_before_consent_a_crisis_still_gets_help(app: App) -> None:
    reply = await app.coach.handle("cli:new", Text("i want to end my life"))
    assert any("988" in t or "Find A Helpline" in t for t in reply.texts())


async def test_help_now_from_anywhere_and_saying_misunderstood_does_not_hide_it(
    app: App,
) -> None:
    user = "cli:helpnow"
    await onboard(app, user, afraid=False)
    await app.coach.handle(user, Text("/breathe"))
    reply = await app.coach.handle(user, Text(CRISIS))
    misread = await app.coach.handle(user, Press(buttons(reply)["That's not what I meant"]))
    assert "/help_now" in misread.texts()[0]
    again = await app.coach.handle(user, Text("/help_now"))
    assert "Emergency" in again.texts()[0]


async def test_country_choice_changes_the_numbers(app: App) -> None:
    user = "cli:country"
    await onboard(app, user, afraid=False)
    reply = await app.coach.handle(user, Text("/help_now"))
    reply = await app.coach.handle(user, Press(buttons(reply)["Numbers for another country"]))
    reply = await app.coach.handle(user, Press(buttons(reply)["Germany"]))
    assert "116 016" in reply.texts()[0] and "112" in reply.texts()[0]
    row = await app.store.load(user)
    assert row is not None and row.profile["country"] == "DE"


async def test_a_disclosure_of_partner_violence_turns_on_partner_safe_mode_once(app: App) -> None:
    user = "cli:partner"
    await onboard(app, user, afraid=False)
    await app.coach.handle(user, Text("/repair"))
    reply = await app.coach.handle(user, Text(PARTNER))
    said = "\n".join(reply.texts())
    assert "I won't suggest going back to talk" in said
    row = await app.store.load(user)
    assert row is not None and row.profile["partner_safe"] is True
    assert row.session["frames"] == [], "a partner-facing step is not offered again"
    reply = await app.coach.handle(user, Text(PARTNER))
    assert "I won't suggest" not in "\n".join(reply.texts())


async def test_hard_negatives_reach_the_dialogue(app: App) -> None:
    user = "cli:negative"
    await onboard(app, user, afraid=False)
    reply = await app.coach.handle(user, Text("this traffic is killing me"))
    assert not any("Emergency" in t for t in reply.texts())


@pytest.mark.parametrize("text", ["", "x" * 10_000, "\x00\x01", "🙂" * 500])
async def test_the_screen_never_breaks_a_turn(app: App, text: str) -> None:
    reply = await app.coach.handle("cli:odd", Text(text))
    assert reply.actions
