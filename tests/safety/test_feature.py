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
    assert "Find A Helpline" in again.texts()[0], "numbers at once, before any question"
    assert "Which country are you in?" in again.texts()[-1]
    numbers = await app.coach.handle(user, Press(buttons(again)["United Kingdom"]))
    assert "116 123" in numbers.texts()[0] and "999" in numbers.texts()[0]


async def test_country_choice_changes_the_numbers(app: App) -> None:
    user = "cli:country"
    await onboard(app, user, afraid=False)
    reply = await app.coach.handle(user, Text("/help_now"))
    reply = await app.coach.handle(user, Press(buttons(reply)["Germany"]))
    assert "116 016" in reply.texts()[0] and "112" in reply.texts()[0]
    row = await app.store.load(user)
    assert row is not None and row.profile["country"] == "DE"
    again = await app.coach.handle(user, Text("/help_now"))
    assert "116 016" in again.texts()[0], "a known country is not asked again"
    reply = await app.coach.handle(user, Press(buttons(again)["Numbers for another country"]))
    reply = await app.coach.handle(user, Press(buttons(reply)["Ireland"]))
    assert "1800 341 900" in reply.texts()[0]


@pytest.mark.parametrize(
    ("typed", "number"),
    [("UK", "116 123"), ("Deutschland", "116 016"), ("usa", "988"), ("germny", "116 016")],
)
async def test_help_now_understands_a_typed_country_and_keeps_the_place(
    app: App, typed: str, number: str
) -> None:
    user = f"cli:typed-{typed}"
    await onboard(app, user, afraid=False)
    first = await app.coach.handle(user, Text("/validate"))
    asked = await app.coach.handle(user, Text("/help_now"))
    assert "Which country" in asked.texts()[-1] and "Germany" in buttons(asked)
    reply = await app.coach.handle(user, Text(typed))
    said = "\n".join(reply.texts())
    assert number in said
    assert reply.texts()[-1] == first.texts()[0], "back at the step they were at"


async def test_an_unknown_typed_country_gets_help_that_works_anywhere(app: App) -> None:
    user = "cli:narnia"
    await onboard(app, user, afraid=False)
    await app.coach.handle(user, Text("/help_now"))
    reply = await app.coach.handle(user, Text("Narnia"))
    said = "\n".join(reply.texts())
    assert "Find A Helpline" in said and "local emergency number" in said
    row = await app.store.load(user)
    assert row is not None and "country" not in row.profile


# --- the question when unsure ------------------------------------------------------------

# Asked about, not answered, by today's model (risk about 0.75): retraining may move it.
UNSURE = "I want to disappear"


async def test_an_unsure_message_asks_first_and_yes_goes_back_to_the_same_step(app: App) -> None:
    user = "cli:unsure-yes"
    await onboard(app, user, afraid=False)
    first = await app.coach.handle(user, Text("/validate"))
    asked = await app.coach.handle(user, Text(UNSURE))
    assert asked.texts() == ["That sounded heavy. Are you safe right now?"]
    assert list(buttons(asked)) == ["Yes, I'm safe", "No", "Not sure"]
    back = await app.coach.handle(user, Press(buttons(asked)["Yes, I'm safe"]))
    assert "/help_now" in back.texts()[0]
    assert back.texts()[-1] == first.texts()[0]
    assert list(buttons(back))[:2] == ["Angry", "Afraid"]
    assert [r.data for r in await app.store.records(user, "safety_question")] == [
        {"category": "suicide_self_harm"}
    ]


@pytest.mark.parametrize("answer", ["No", "Not sure"])
async def test_no_or_not_sure_brings_the_crisis_answer(app: App, answer: str) -> None:
    user = f"cli:unsure-{answer}"
    await onboard(app, user, afraid=False)
    asked = await app.coach.handle(user, Text(UNSURE))
    reply = await app.coach.handle(user, Press(buttons(asked)[answer]))
    said = "\n".join(reply.texts())
    assert "not a crisis service" in said and "Find A Helpline" in said
    assert [r.data["category"] for r in await app.store.records(user, "safety")] == [
        "suicide_self_harm"
    ]


async def test_a_forged_answer_to_the_question_is_refused(app: App) -> None:
    user = "cli:forged-answer"
    await onboard(app, user, afraid=False)
    reply = await app.coach.handle(user, Press("h:no:not_a_category"))
    assert "Emergency" not in "\n".join(reply.texts())
    assert await app.store.records(user, "safety") == []


# --- the person's own urge to hurt ----------------------------------------------------

OWN = "I just pushed her, I'm so angry"


async def test_own_violence_gets_distance_first_and_lines_for_ones_own_behaviour(
    app: App,
) -> None:
    user = "cli:own"
    await onboard(app, user, afraid=False)
    row = await app.store.load(user)
    assert row is not None
    row.profile["country"] = "GB"
    await app.store.save(row, [], app.coach.clock.now())
    reply = await app.coach.handle(user, Text(OWN))
    said = reply.texts()[0]
    assert said.index("put down anything in your hands") < said.index("Respect Phoneline")
    assert "0808 802 4040" in said and said.endswith("112 also works)")
    assert "go back" not in said.lower()
    row = await app.store.load(user)
    assert row is not None and row.profile.get("partner_safe") is False, "not safety focus"
    assert [r.data["category"] for r in await app.store.records(user, "safety")] == [
        "harm_to_partner"
    ]


@pytest.mark.parametrize(
    "text",
    ["i want to hurt her so bad", "he hit me and i hit him back", "i grabbed her by the throat"],
)
async def test_own_violence_ends_the_practice_and_is_not_taken_for_fear(
    app: App, text: str
) -> None:
    """ "Ready to go back and talk?" is not partner-facing itself, but leads there."""
    user = f"cli:own-{len(text)}"
    await onboard(app, user, afraid=False)
    await place(app, user, "pause", "talk_choice")
    reply = await app.coach.handle(user, Text(text))
    said = "\n".join(reply.texts())
    assert "put down anything in your hands" in said and "never your fault" not in said
    assert "Back to where we were" not in buttons(reply)
    row = await app.store.load(user)
    assert row is not None and row.session["frames"] == []
    assert row.profile.get("partner_safe") is False


async def test_help_now_while_being_asked_for_the_country_does_not_ask_twice(app: App) -> None:
    user = "cli:twice"
    await onboard(app, user, afraid=False)
    await app.coach.handle(user, Text("/help_now"))
    again = await app.coach.handle(user, Text("/help_now"))
    assert "Find A Helpline" in again.texts()[0]
    row = await app.store.load(user)
    assert row is not None and [f["dialogue"] for f in row.session["frames"]] == ["helplines"]


async def test_own_violence_leaves_a_step_that_leads_back_to_the_partner(app: App) -> None:
    user = "cli:own-repair"
    await onboard(app, user, afraid=False)
    talk = next(
        (d.id, name)
        for d in app.catalog.dialogues.values()
        for name, state in d.states.items()
        if state.partner_facing and state.waits
    )
    await place(app, user, *talk)
    await app.coach.handle(user, Text(OWN))
    row = await app.store.load(user)
    assert row is not None and row.session["frames"] == []


# --- safety focus: the gaps --------------------------------------------------------------


async def test_pause_in_safety_focus_asks_about_safety_first(app: App) -> None:
    user = "cli:focus-pause"
    await onboard(app, user, afraid=True)
    reply = await app.coach.handle(user, Text("/pause"))
    assert reply.texts() == ["Before anything else: are you safe right now?"]
    safe = await app.coach.handle(user, Press(buttons(reply)["Yes"]))
    assert "I've stopped" in buttons(safe)
    await app.coach.handle(user, Text("/stop"))
    reply = await app.coach.handle(user, Text("/pause"))
    unsafe = await app.coach.handle(user, Press(buttons(reply)["No"]))
    assert "Find A Helpline" in unsafe.texts()[0] and "Which country" in unsafe.texts()[-1]
    shown = await app.coach.handle(user, Press(buttons(unsafe)["United States"]))
    said = "\n".join(shown.texts())
    assert "1-800-799-7233" in said and "911" in said
    assert {"Breathe with me", "Come back to the present"} <= set(buttons(shown))


async def test_pause_without_safety_focus_starts_at_once(app: App) -> None:
    user = "cli:plain-pause"
    await onboard(app, user, afraid=False)
    reply = await app.coach.handle(user, Text("/pause"))
    assert "I've stopped" in buttons(reply)


async def test_the_fear_answer_in_onboarding_offers_help_now(app: App) -> None:
    user = "cli:fear-onboarding"
    reply = await app.coach.handle(user, Text("/start"))
    for label in ("Tell me more", "Okay", "Yes, I'm 18+ and agree", "Yes"):
        reply = await app.coach.handle(user, Press(buttons(reply)[label]))
    reply = await app.coach.handle(user, Press(buttons(reply)["Show me who can help"]))
    reply = await app.coach.handle(user, Press(buttons(reply)["Australia"]))
    said = "\n".join(reply.texts())
    assert "1800 737 732" in said and "000" in said
    assert "Got it" in buttons(reply), "onboarding carries on"


async def test_a_hard_check_in_day_in_safety_focus_never_suggests_talking(app: App) -> None:
    user = "cli:focus-checkin"
    await onboard(app, user, afraid=True)
    for _ in range(4):  # both variations, whichever comes
        row = await app.store.load(user)
        assert row is not None
        row.session = {"frames": [{"dialogue": "checkin", "state": "note", "vars": {"tension": 5}}]}
        await app.store.save(row, [], app.coach.clock.now())
        reply = await app.coach.handle(user, Text("Nothing to add"))
        said = "\n".join(reply.texts()).lower()
        assert "heavy day" in said or "tense day" in said
        assert "talk" not in said and "pause before" not in said
        assert set(buttons(reply)) == {"Breathe with me", "Come back to the present"}


async def test_hard_negatives_reach_the_dialogue(app: App) -> None:
    user = "cli:negative"
    await onboard(app, user, afraid=False)
    reply = await app.coach.handle(user, Text("this traffic is killing me"))
    assert not any("Emergency" in t for t in reply.texts())


@pytest.mark.parametrize("text", ["", "x" * 10_000, "\x00\x01", "🙂" * 500])
async def test_the_screen_never_breaks_a_turn(app: App, text: str) -> None:
    reply = await app.coach.handle("cli:odd", Text(text))
    assert reply.actions


def test_nothing_on_screen_names_a_disclosure(app: App) -> None:
    """Someone may read over the person's shoulder: no step other than the private question
    itself says what they told us ("since you told me you are afraid...")."""
    texts = [
        (f"{d.id}.{name}", text)
        for d in app.catalog.dialogues.values()
        for name, state in d.states.items()
        if (d.id, name) != ("onboarding", "afraid_q")
        for variation in state.say
        for text in variation.values()
    ]
    texts += [
        (key, t)
        for key in ("partner_safe_on",)
        for v in app.catalog.string(key)
        for t in v.values()
    ]
    for where, text in texts:
        lowered = text.lower()
        assert "told me" not in lowered and "afraid with your partner" not in lowered, where


async def test_the_menu_offers_grounding_and_help_now(app: App) -> None:
    user = "cli:menu-help"
    await onboard(app, user, afraid=False)
    menu = await app.coach.handle(user, Text("/menu"))
    assert {"Come back to the present", "Help now"} <= set(buttons(menu))
    asked = await app.coach.handle(user, Press(buttons(menu)["Help now"]))
    assert "Which country" in asked.texts()[-1]
    shown = await app.coach.handle(user, Press(buttons(asked)["Ireland"]))
    assert "1800 341 900" in "\n".join(shown.texts())


@pytest.mark.parametrize(
    ("typed", "answered"),
    [("no", True), ("Nope.", True), ("I'm not safe", True), ("idk", True), ("yes", False)],
)
async def test_the_question_can_be_answered_in_words(app: App, typed: str, answered: bool) -> None:
    user = f"cli:typed-answer-{typed}"
    await onboard(app, user, afraid=False)
    first = await app.coach.handle(user, Text("/validate"))
    await app.coach.handle(user, Text(UNSURE))
    reply = await app.coach.handle(user, Text(typed))
    said = "\n".join(reply.texts())
    assert ("not a crisis service" in said) is answered
    if not answered:
        assert reply.texts()[-1] == first.texts()[0], "back at the same step"
    row = await app.store.load(user)
    assert row is not None and row.session.get("asked") is None


async def test_a_typed_no_is_an_answer_only_right_after_the_question(app: App) -> None:
    user = "cli:late-no"
    await onboard(app, user, afraid=False)
    reply = await app.coach.handle(user, Text("no"))
    assert "not a crisis service" not in "\n".join(reply.texts())
    await app.coach.handle(user, Text(UNSURE))
    await app.coach.handle(user, Text("we argued about the dishes again"))
    reply = await app.coach.handle(user, Text("no"))
    assert "not a crisis service" not in "\n".join(reply.texts())
