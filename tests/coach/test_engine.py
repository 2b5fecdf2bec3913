"""The engine's rules, on a small fixture catalogue whose every word is known."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from transitions import MachineError

from bot.app import App
from bot.clock import ManualClock
from bot.coach.actions import Edit, End, Reply, Send, StartTimer
from bot.coach.events import Command, Event, Press, Resume, Text, TimerFired, Unsupported
from bot.coach.moves import DialogueMachines
from tests.coach.conftest import FIXTURE
from tests.conftest import make_app

USER = "cli:tester"


class Talk:
    """Drives one user and remembers the buttons last offered, as a person would."""

    def __init__(self, app: App, user: str = USER) -> None:
        self.app, self.user = app, user
        self.buttons: dict[str, str] = {}

    async def __call__(self, event: Event | str) -> Reply:
        if isinstance(event, str):
            event = Text(event)
        reply = await self.app.coach.handle(self.user, event)
        for action in reply.actions:
            if isinstance(action, Send | Edit) and action.buttons:
                self.buttons = {b.text: b.data for b in action.buttons}
        return reply

    async def press(self, label: str) -> Reply:
        return await self(Press(self.buttons[label]))

    async def onboard(self) -> None:
        await self(Command("start"))
        await self.press("I agree")


@pytest.fixture
def talk(coach_app: App) -> Talk:
    return Talk(coach_app)


def timer_of(reply: Reply) -> StartTimer:
    return next(a for a in reply.actions if isinstance(a, StartTimer))


async def test_consent_is_asked_before_any_practice(talk: Talk) -> None:
    reply = await talk("/talk")
    assert reply.texts() == ["CONSENT FIRST", "Agree?"]
    assert list(talk.buttons) == ["I agree", "No"]


async def test_answer_is_stored_and_used_in_later_messages(talk: Talk) -> None:
    await talk.onboard()
    await talk.press("Talk")
    reply = await talk("Sam")
    assert reply.texts() == ["Hello Sam. Calm?"]


async def test_typing_a_button_label_presses_it(talk: Talk) -> None:
    await talk.onboard()
    await talk("/talk")
    reply = await talk("  skip ")
    assert reply.texts() == ["Hello …. Calm?"]


async def test_bad_input_reprompts_and_keeps_the_step(talk: Talk, coach_app: App) -> None:
    await talk.onboard()
    await talk("/talk")
    before = await coach_app.store.load(USER)
    for bad in ["", "   ", "\x00\x07\x1b", "x" * 10_000]:
        reply = await talk(bad)
        assert reply.texts() in (["TYPE SOMETHING"], ["TOO LONG, MAX 20"])
    after = await coach_app.store.load(USER)
    assert before is not None and after is not None
    assert after.session["frames"] == before.session["frames"]
    assert (await talk("🙂🙂")).texts() == ["Hello 🙂🙂. Calm?"]


async def test_text_where_buttons_are_expected_reprompts_with_the_buttons(talk: Talk) -> None:
    await talk.onboard()
    await talk("/talk")
    await talk("Sam")
    reply = await talk("hmm what")
    assert reply.texts() == ["PICK A BUTTON"]
    assert list(talk.buttons) == ["Calm", "Not calm"]


async def test_stale_and_forged_buttons_are_answered_without_moving(talk: Talk) -> None:
    await talk.onboard()
    await talk("/talk")
    skip = talk.buttons["Skip"]
    await talk("Sam")
    reply = await talk(Press(skip))
    assert reply.texts() == ["STALE", "Hello Sam. Calm?"]
    assert (await talk(Press("g:talk:mood:99"))).texts()[0] == "STALE"
    assert (await talk(Press("garbage"))).texts()[0] == "BROKEN"
    assert (await talk(Press("s:nonexistent"))).texts()[0] == "BROKEN"
    assert (await talk.press("Calm")).texts() == ["Talk to your partner?"]


async def test_start_buttons_stay_valid_from_old_messages(talk: Talk) -> None:
    await talk.onboard()
    start_talk = talk.buttons["Talk"]
    await talk(Press(start_talk))
    reply = await talk(Press(start_talk))
    assert reply.texts()[1] == "Your name?"


async def test_variations_never_repeat_immediately(talk: Talk) -> None:
    await talk.onboard()
    greetings = [(await talk("/talk")).texts()[0] for _ in range(30)]
    assert set(greetings) == {"Hi A", "Hi B", "Hi C"}
    assert all(a != b for a, b in itertools.pairwise(greetings))


async def test_call_returns_to_the_caller_and_timers_are_exact(
    talk: Talk, clock: ManualClock
) -> None:
    await talk.onboard()
    await talk("/talk")
    await talk("Sam")
    reply = await talk.press("Not calm")
    assert reply.texts() == ["Wait a moment."]
    timer = timer_of(reply)
    assert timer.seconds == 60
    await clock.advance(59)
    assert await talk.app.store.due_timers(clock.now()) == []
    await clock.advance(1)
    due = await talk.app.store.due_timers(clock.now())
    assert [t.token for t in due] == [timer.token]
    reply = await talk(TimerFired(timer.token))
    assert reply.texts() == ["Welcome back from the wait.", "Hello Sam. Calm?"]
    sends = [a for a in reply.actions if isinstance(a, Send)]
    assert sends[0].buttons == (), "a called dialogue's ending must not offer to abandon"
    assert (await talk(TimerFired(timer.token))).actions == []


async def test_pacing_edits_in_place_and_loops_by_condition(talk: Talk) -> None:
    await talk.onboard()
    await talk("/talk")
    await talk("Sam")
    await talk.press("Calm")
    reply = await talk.press("Just me")
    assert [type(a) for a in reply.actions[:3]] == [Send, Edit, StartTimer]
    texts = reply.texts()
    while timer := next((a for a in reply.actions if isinstance(a, StartTimer)), None):
        reply = await talk(TimerFired(timer.token))
        texts += reply.texts()
    assert texts == ["Care for yourself.", "Round 1", "Round 2", "Round 3", "Done."]
    assert any(isinstance(a, End) for a in reply.actions)
    records = await talk.app.store.records(USER, "talk")
    assert [r.data for r in records] == [{"dialogue": "talk", "who": "Sam"}]


async def test_partner_safe_mode_hides_partner_facing_steps(talk: Talk, coach_app: App) -> None:
    await talk.onboard()
    row = await coach_app.store.load(USER)
    assert row is not None
    row.profile["partner_safe"] = True
    await coach_app.store.save(row, [], coach_app.coach.clock.now())
    await talk("/talk")
    await talk("Sam")
    await talk.press("Calm")
    assert list(talk.buttons) == ["Just me"]
    assert (await talk(Press("g:talk:partner:0"))).texts()[0] == "STALE"


async def test_stop_menu_help_and_unknown_commands_work_anywhere(talk: Talk) -> None:
    await talk.onboard()
    await talk("/talk")
    assert (await talk("/help")).texts() == ["HELP"]
    assert (await talk("/nonsense")).texts() == ["UNKNOWN"]
    reply = await talk("/stop")
    assert reply.texts() == ["STOPPED"]
    assert (await talk("/stop")).texts() == ["NOTHING TO STOP"]
    assert (await talk("anything")).texts() == ["IDLE"]


async def test_trigger_phrases_offer_the_practice(talk: Talk) -> None:
    await talk.onboard()
    reply = await talk("I am SO ANGRY right now")
    assert reply.texts() == ["OFFER a talk?"]
    reply = await talk.press("Yes")
    assert reply.texts()[-1] == "Your name?"
    await talk("/stop")
    await talk("so angry")
    assert (await talk.press("No")).texts() == ["DECLINED"]
    assert (await talk("I just CAN\u2019T calm down")).texts() == ["OFFER a talk?"]


async def test_unsupported_input_gets_a_kind_answer(talk: Talk) -> None:
    await talk.onboard()
    await talk("/talk")
    await talk("Sam")
    reply = await talk(Unsupported("sticker"))
    assert reply.texts() == ["TEXT ONLY", "PICK A BUTTON"]


async def test_restart_resumes_at_the_same_step(tmp_path: Path, clock: ManualClock) -> None:
    db = tmp_path / "restart.db"
    first = await make_app(FIXTURE, db, clock)
    talk = Talk(first)
    await talk.onboard()
    await talk("/talk")
    await talk("Sam")
    await first.close()

    second = await make_app(FIXTURE, db, clock)
    again = Talk(second)
    reply = await again(Resume())
    assert reply.texts() == ["WELCOME BACK", "Hello Sam. Calm?"]
    assert (await again.press("Calm")).texts() == ["Talk to your partner?"]
    await second.close()


async def test_users_do_not_share_state(coach_app: App) -> None:
    alice, bob = Talk(coach_app, "cli:alice"), Talk(coach_app, "cli:bob")
    await alice.onboard()
    await bob.onboard()
    await alice("/talk")
    await bob("/talk")
    await alice("Alice")
    assert (await bob("Bob")).texts() == ["Hello Bob. Calm?"]


def test_the_dialogue_machine_refuses_moves_the_yaml_does_not_allow(coach_app: App) -> None:
    machines = DialogueMachines(coach_app.catalog.dialogues)
    machines("talk", "mood", "partner")
    with pytest.raises(MachineError):
        machines("talk", "greet", "done")
    with pytest.raises(MachineError):
        machines("talk", "mood", "nowhere")


async def test_a_timer_does_not_make_a_blocked_user_active_again(
    talk: Talk, coach_app: App
) -> None:
    await talk.onboard()
    await talk("/talk")
    await talk("Sam")
    reply = await talk.press("Not calm")
    await coach_app.store.set_active(USER, False)
    await talk(TimerFired(timer_of(reply).token))
    row = await coach_app.store.load(USER)
    assert row is not None and row.active is False
    await talk("hello")
    row = await coach_app.store.load(USER)
    assert row is not None and row.active is True
