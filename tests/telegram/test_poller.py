"""The poller confirms a batch to Telegram only once every update of it is handled."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from telegram import Update

from bot.telegram.outbox import Backoff, LimitedBot
from bot.telegram.poller import Poller
from bot.telegram.runner import ALLOWED_UPDATES
from tests.botapi import FakeBotAPI

ANA, BEN = 1001, 1002


class Taker:
    """Takes each chat's updates, in order, holding them until told to finish."""

    def __init__(self) -> None:
        self.taken: dict[int, list[str]] = {}
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.batches = 0
        """Batches the poller reported handled."""

    async def __call__(self, updates: Sequence[Update]) -> None:
        for update in updates:
            assert update.effective_chat is not None and update.effective_message is not None
            texts = self.taken.setdefault(update.effective_chat.id, [])
            texts.append(update.effective_message.text or "")
        self.started.set()
        await self.release.wait()

    def count_batch(self) -> None:
        self.batches += 1


def poller(ptb: LimitedBot, taker: Taker) -> Poller:
    return Poller(
        ptb,
        taker,
        allowed_updates=ALLOWED_UPDATES,
        handled=taker.count_batch,
        poll_seconds=1,
        backoff=Backoff(first=0.01, most=0.05),
    )


async def test_a_batch_is_confirmed_only_once_done_and_on_stop(
    api: FakeBotAPI, ptb: LimitedBot
) -> None:
    for text in ("one", "two", "three"):
        await api.send_text(ANA, text)
    await api.send_text(BEN, "hello")
    taker, stop = Taker(), asyncio.Event()
    running = asyncio.create_task(poller(ptb, taker).run(stop))
    await asyncio.wait_for(taker.started.wait(), 5)
    await asyncio.sleep(0.2)
    assert api.pending_updates() == 4, "nothing confirmed while the batch is in hand"
    assert taker.taken == {ANA: ["one", "two", "three"], BEN: ["hello"]}
    assert taker.batches == 0
    stop.set()
    taker.release.set()
    await asyncio.wait_for(running, 5)
    assert api.pending_updates() == 0, "the batch in hand is finished and confirmed"
    assert taker.batches == 1


async def test_the_next_batch_is_fetched_once_this_one_is_handled(
    api: FakeBotAPI, ptb: LimitedBot
) -> None:
    await api.send_text(ANA, "one")
    taker, stop = Taker(), asyncio.Event()
    taker.release.set()
    running = asyncio.create_task(poller(ptb, taker).run(stop))
    await api.wait_until(lambda: taker.batches == 1)
    await api.send_text(BEN, "two")
    await api.wait_until(lambda: taker.batches == 2)
    assert api.pending_updates() == 0, "the first batch confirmed by the fetch of the second"
    stop.set()
    await asyncio.wait_for(running, 5)
    assert taker.taken == {ANA: ["one"], BEN: ["two"]}


async def test_a_batch_cut_off_unhandled_stays_with_telegram(
    api: FakeBotAPI, ptb: LimitedBot
) -> None:
    await api.send_text(ANA, "one")
    taker, stop = Taker(), asyncio.Event()
    running = asyncio.create_task(poller(ptb, taker).run(stop))
    await asyncio.wait_for(taker.started.wait(), 5)
    running.cancel()  # the shutdown deadline came before the batch was handled
    await asyncio.gather(running, return_exceptions=True)
    assert api.pending_updates() == 1, "delivered again after the restart"
    assert taker.batches == 0


async def test_stop_abandons_a_long_poll(api: FakeBotAPI, ptb: LimitedBot) -> None:
    taker, stop = Taker(), asyncio.Event()
    running = asyncio.create_task(poller(ptb, taker).run(stop))
    await api.wait_until(lambda: bool(api.calls_to("getUpdates")))
    stop.set()
    await asyncio.wait_for(running, 1)
    assert taker.taken == {}
