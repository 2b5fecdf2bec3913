"""The sent mark: replies still in the outbox at a crash go out again at the next start,
and only those (the door in this process, the real coach and store, the fake server)."""

from __future__ import annotations

from bot.app import App
from bot.telegram.door import TelegramDoor
from bot.telegram.outbox import LimitedBot
from bot.telegram.recovery import MARK
from tests.botapi import FakeBotAPI
from tests.telegram.conftest import ANA
from tests.telegram.harness import pattern
from tests.telegram.test_door import text_update


def restarted(app: App, ptb: LimitedBot) -> TelegramDoor:
    """A new door on the same store: the next process after a crash."""
    return TelegramDoor(app.coach, app.catalog, ptb)


async def held_back(api: FakeBotAPI, ptb: LimitedBot, door: TelegramDoor) -> int:
    """/start handled and confirmed, its reply waiting out flood control; the mark."""
    door.mark.handled()
    api.fail_next(ANA, count=1, retry_after=30)
    await door.take([text_update(ptb, "/start", update_id=5)])
    door.mark.handled()
    await api.wait_until(lambda: any(c.status == 429 for c in api.calls_to(chat_id=ANA)))
    mark = door.mark.value()
    assert mark is not None
    return mark


async def test_the_mark_stays_below_a_reply_not_yet_out(
    app: App, api: FakeBotAPI, ptb: LimitedBot, door: TelegramDoor
) -> None:
    assert door.mark.value() is None, "nothing known before the poller reports"
    mark = await held_back(api, ptb, door)
    assert mark == door.outbox.first_unsent(), "the order of the reply held back"
    assert door.mark.next_order() > mark
    await door.mark.keep()
    assert await app.store.mark(MARK) == mark


async def test_a_reply_held_at_a_crash_is_sent_at_the_next_start(
    app: App, api: FakeBotAPI, ptb: LimitedBot, door: TelegramDoor
) -> None:
    await held_back(api, ptb, door)
    await door.mark.keep()
    await door.outbox.drain(0)  # the crash: the held reply is never sent
    assert api.messages(ANA) == []

    after = restarted(app, ptb)
    assert await after.recover() == 1
    await after.outbox.drain(5)
    (welcome,) = api.messages(ANA)
    first = app.catalog.dialogues["onboarding"].states["welcome"]
    assert pattern(first.say).fullmatch(welcome.text or "")


async def test_replies_known_sent_are_not_sent_again(
    app: App, api: FakeBotAPI, ptb: LimitedBot, door: TelegramDoor
) -> None:
    await door.take([text_update(ptb, "/start", update_id=5)])
    door.mark.handled()
    await door.outbox.drain(5)
    await door.mark.keep()
    assert await app.store.mark(MARK) == door.mark.next_order(), "every order given is out"
    assert await restarted(app, ptb).recover() == 0
    assert len(api.messages(ANA)) == 1


async def test_a_first_start_has_nothing_to_send_again(
    app: App, api: FakeBotAPI, ptb: LimitedBot, door: TelegramDoor
) -> None:
    await door.take([text_update(ptb, "/start", update_id=5)])
    await door.outbox.drain(0)
    assert await app.store.mark(MARK) is None
    assert await restarted(app, ptb).recover() == 0


async def test_orders_rise_across_restarts(
    app: App, api: FakeBotAPI, ptb: LimitedBot, door: TelegramDoor
) -> None:
    mark = await held_back(api, ptb, door)  # the clock stands still: only the mark says
    await door.mark.keep()
    await door.outbox.drain(0)
    after = restarted(app, ptb)
    assert await after.recover() == 1
    assert after.mark.next_order() > mark
    await after.outbox.drain(5)
