"""End to end, conversations: one bot process (``python -m bot run``, PTB's real HTTP
stack) serves every test of this module through the fake Bot API server, each test with
users of its own, driven the way people use the bot.

Every scenario checks what a person would see (texts from the dialogue files, the buttons
offered, keyboards removed once a step is done, one pacer message edited phase by phase)
and what the bot stored.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio

from bot.dialogue.loader import Catalog
from tests.botapi import DEFAULT_GROUP_ID, FakeBotAPI
from tests.telegram.harness import TOKEN, BotProcess, Person, pattern

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(60)]

COMMANDS = ["start", "pause", "breathe", "validate", "repair", "menu", "stop", "help"]
PRACTICES = [("pause", "pause"), ("validate", "validation"), ("repair", "repair_plan")]
FIRSTS = {"pause": "stop", "breathe": "open", "validate": "open", "repair": "calm_check"}

People = Callable[[], Person]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as server:
        yield server
        assert not server.internal_errors


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bot(
    api: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    process = BotProcess(api, tmp_path_factory.mktemp("bot"))
    await process.start()
    yield process
    assert await process.stop() == 0
    assert "Traceback" not in process.log and "ERROR" not in process.log, process.log


@pytest.fixture(scope="module")
def user_ids() -> Iterator[int]:
    return itertools.count(1001)


@pytest.fixture
def people(api: FakeBotAPI, bot: BotProcess, catalog: Catalog, user_ids: Iterator[int]) -> People:
    """New users, each with a Telegram id no other test of the module uses."""
    return lambda: Person(api, next(user_ids), catalog, bot.db)


def has_new(person: Person, count: int) -> bool:
    return len(person.new()) >= count


async def test_start_runs_onboarding(api: FakeBotAPI, people: People) -> None:
    assert set(COMMANDS) <= {name for name, _ in api.commands}
    ana = people()
    await ana.onboard()
    stored = await ana.stored()
    assert stored is not None
    assert stored.profile["onboarded"] is True and stored.profile["consented"] is True
    assert not api.unanswered_callbacks()
    *done_with, last = ana.messages()
    assert len(done_with) >= 5 and not any(m.buttons for m in done_with)  # keyboards retired
    assert last.labels == ana.labels("onboarding", "done")


@pytest.mark.parametrize(("practice", "kind"), PRACTICES)
async def test_each_practice_to_its_end(
    api: FakeBotAPI, people: People, practice: str, kind: str
) -> None:
    ana = people()
    await ana.onboard()
    await ana.write(f"/{practice}")
    await ana.walk(practice, answer="we both raised our voices at dinner")
    stored = await ana.stored()
    assert stored is not None and stored.step is None
    assert kind in stored.kinds()
    assert not api.unanswered_callbacks()


async def test_words_that_match_a_practice_offer_it(people: People) -> None:
    ana = people()
    await ana.onboard()
    await ana.write("We're fighting again and I'm so angry")
    offer = await ana.sees_string("offer")
    yes, no = (ana.catalog.string(key)[0]["en"] for key in ("offer_yes", "offer_no"))
    assert offer.labels == [yes, no]
    assert ana.catalog.dialogues["pause"].title["en"] in (offer.text or "")
    await ana.tap(yes)
    await ana.sees("pause", "stop")


async def test_breathing_paces_one_message(api: FakeBotAPI, people: People) -> None:
    ana = people()
    await ana.onboard()
    await ana.write("/breathe")
    await ana.sees("breathe", "open")
    await ana.tap("Start")
    pacer = await ana.sees("breathe", "ready")
    felt = await ana.sees("breathe", "felt", timeout=10)

    texts = [revision.text or "" for revision in pacer.edits] + [pacer.text or ""]
    rounds = 6
    assert len(texts) == 1 + 2 * rounds + 1  # ready, in and out each round, done
    assert all(a != b for a, b in itertools.pairwise(texts))
    inhale, exhale = (pattern(ana.state("breathe", s).say) for s in ("inhale", "exhale"))
    assert all(inhale.fullmatch(t) for t in texts[1:-1:2])
    assert all(exhale.fullmatch(t) for t in texts[2:-1:2])
    assert pattern(ana.state("breathe", "done").say).fullmatch(texts[-1])
    assert all(revision.buttons for revision in pacer.edits)  # Stop, all along
    assert pacer.buttons == []  # done: the pacer's Stop is gone
    assert [m.message_id for m in ana.messages()][-2:] == [pacer.message_id, felt.message_id]
    assert all(c.ok for c in api.calls_to("editMessageText", ana.id))  # never "not modified"

    await ana.tap(ana.labels("breathe", "felt")[0])
    await ana.sees("breathe", "end_better")
    stored = await ana.stored()
    assert stored is not None
    (data,) = [d for k, d in stored.records if k == "breathing"]
    assert data["rounds"] == rounds and data["felt"] == "better"


async def test_stopping_the_pacer(api: FakeBotAPI, people: People) -> None:
    ana = people()
    await ana.onboard()
    await ana.write("/breathe")
    await ana.tap("Other ways to breathe")
    await ana.tap(ana.labels("breathe", "choose")[0])
    await ana.tap(ana.labels("breathe", "rounds_slow")[-1])  # the longest: 2 minutes
    pacer = await ana.sees("breathe", "ready")
    await api.wait_until(lambda: len(api.message(ana.id, pacer.message_id).edits) >= 1)
    await ana.tap("Stop")
    await ana.sees("breathe", "felt")
    stopped = pattern(ana.state("breathe", "stopped").say)
    assert stopped.fullmatch(api.message(ana.id, pacer.message_id).text or "")
    await ana.rests_at("breathe", "felt")
    await api.settle(quiet=0.3)  # the phase timer that was pending fires into nothing
    assert stopped.fullmatch(api.message(ana.id, pacer.message_id).text or "")
    assert not api.unanswered_callbacks()


async def test_stale_and_forged_buttons(api: FakeBotAPI, people: People) -> None:
    ana = people()
    await ana.onboard()
    await ana.write("/pause")
    stop = await ana.sees("pause", "stop")
    old_button = stop.button_data[0]
    await ana.tap(ana.labels("pause", "stop")[0])
    await ana.sees("pause", "step_back")

    ana.since = max(m.message_id for m in ana.messages())
    await api.press(ana.id, stop.message_id, old_button, strict=False)  # tapped again, late
    await ana.sees_string("stale_button")
    again = await ana.sees("pause", "step_back")
    assert again.labels == ana.labels("pause", "step_back")

    for forged in ("g:pause:nowhere:7", "x" * 64, "s:no_such_dialogue"):
        ana.since = max(m.message_id for m in ana.messages())
        await api.press(ana.id, stop.message_id, forged, strict=False)
        await ana.sees_string("broken_button" if forged[0] != "g" else "stale_button")
    assert not api.unanswered_callbacks()
    stored = await ana.stored()
    assert stored is not None and stored.step == ("pause", "step_back")


async def test_what_the_coach_cannot_read(api: FakeBotAPI, people: People) -> None:
    ana = people()
    await ana.onboard()
    await ana.write("/pause")
    await ana.sees("pause", "stop")
    sends: list[Callable[[], Awaitable[int]]] = [
        lambda: api.send_sticker(ana.id),
        lambda: api.send_voice(ana.id),
    ]
    for send in sends:
        ana.since = max(m.message_id for m in ana.messages())
        await send()
        await ana.sees_string("unsupported")
        reprompt = await ana.sees_string("reprompt_buttons")
        assert reprompt.labels == ana.labels("pause", "stop")

    sent = len(ana.messages())
    mine = await api.send_text(ana.id, "so angry right now")
    await ana.sees_string("reprompt_buttons")
    await api.edit_text(ana.id, mine, "never mind")  # edits are left alone
    await api.send_text(ana.id, "/start", chat_type="group")
    (group,) = await api.wait_for(DEFAULT_GROUP_ID)
    assert pattern(ana.catalog.string("group_chat")).fullmatch(group.text or "")
    await api.settle(quiet=0.3)
    assert len(ana.messages()) == sent + 1


async def test_two_users_interleaved_each_in_order(api: FakeBotAPI, people: People) -> None:
    ana, ben = people(), people()
    await asyncio.gather(ana.onboard(), ben.onboard())
    order = {
        ana: ["pause", "breathe", "validate", "repair"],
        ben: ["repair", "validate", "pause", "breathe"],
    }
    for person in order:
        person.since = max(m.message_id for m in person.messages())
    for ana_types, ben_types in zip(order[ana], order[ben], strict=True):
        await api.send_text(ana.id, f"/{ana_types}")  # no waiting for replies in between
        await api.send_text(ben.id, f"/{ben_types}")

    for person, practices in order.items():
        await api.wait_until(functools.partial(has_new, person, len(practices)))
        replies = person.new()
        for practice, reply in zip(practices, replies, strict=True):
            say = person.state(practice, FIRSTS[practice]).say
            assert pattern(say).fullmatch(reply.text or ""), (practice, reply.text)
        assert [bool(m.buttons) for m in replies] == [False, False, False, True]


async def test_a_429_storm_pauses_only_that_chat(
    api: FakeBotAPI, bot: BotProcess, people: People
) -> None:
    ana, ben = people(), people()
    await asyncio.gather(ana.onboard(), ben.onboard())
    onboarding = len(ana.messages())
    api.fail_next(ana.id, count=2, retry_after=1)
    started = time.monotonic()
    await ana.write("/pause")
    await ben.write("/pause")
    await ben.sees("pause", "stop")
    ben_waited = time.monotonic() - started
    await ana.sees("pause", "stop", timeout=10)
    ana_waited = time.monotonic() - started
    assert ben_waited < 1.0 <= 2.0 <= ana_waited
    flooded = [c for c in api.calls_to("sendMessage", ana.id) if c.status == 429]
    assert len(flooded) == 2
    assert len(ana.messages()) == onboarding + 1  # and each message exactly once
    assert f"flood control: chat {ana.id} paused" in bot.log


async def test_a_chat_under_flood_control_does_not_hold_up_new_messages_of_others(
    api: FakeBotAPI, bot: BotProcess, people: People
) -> None:
    ana, ben = people(), people()
    await asyncio.gather(ana.onboard(), ben.onboard())
    api.fail_next(ana.id, count=1, retry_after=3)
    await ana.write("/pause")
    await api.wait_until(lambda: any(c.status == 429 for c in api.calls_to(chat_id=ana.id)))
    started = time.monotonic()
    await ben.write("/pause")  # after Ana's update was fetched: a later batch
    await ben.sees("pause", "stop", timeout=10)
    assert time.monotonic() - started < 1.0
    await ana.sees("pause", "stop", timeout=10)


async def test_a_user_who_blocked_the_bot(api: FakeBotAPI, people: People) -> None:
    ana = people()
    await ana.onboard()
    await ana.write("/breathe")
    await ana.tap("Start")
    await ana.sees("breathe", "ready")
    await api.block(ana.id, notify=False)  # the bot learns it from the 403 on its next send
    await api.wait_until(lambda: any(c.status == 403 for c in api.calls_to(chat_id=ana.id)))
    await api.settle(quiet=0.3)
    refused = [c for c in api.calls_to(chat_id=ana.id) if c.status == 403]
    assert [c.method for c in refused] == ["sendMessage"]  # tried once, then never again
    stored = await ana.stored()
    assert stored is not None and not stored.active

    await api.unblock(ana.id, notify=False)
    await ana.write("/menu")
    await ana.sees("menu", "choose")
    stored = await ana.stored()
    assert stored is not None and stored.active


async def test_a_block_notice_stops_sends_at_once(api: FakeBotAPI, people: People) -> None:
    ana = people()
    await ana.onboard()
    await ana.write("/breathe")
    await ana.tap("Start")
    await ana.sees("breathe", "ready")
    blocked_at = time.monotonic()
    await api.block(ana.id)  # my_chat_member: kicked
    await ana.rests_at("breathe", "felt")  # the pacer runs on in the database...
    await api.settle(quiet=0.2)
    sent = [c for c in api.calls_to("sendMessage", ana.id) if c.at > blocked_at]
    assert sent == []  # ...but "how do you feel now?" is never sent

    await api.unblock(ana.id)
    await ana.write("/menu")
    await ana.sees("menu", "choose")
