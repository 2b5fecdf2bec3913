"""Long polling that confirms an update to Telegram only once it is handled.

``getUpdates(offset)`` confirms every update below ``offset``: Telegram forgets them. PTB's
``Updater`` asks for the next batch (so confirms the last) as soon as it has queued a
batch for processing, so a crash loses what sits in its queue. This poller fetches a
batch, hands it to the door, chat by chat (a chat's updates one after the other, in
order; different chats at the same time), and asks for the next batch, confirming this
one, once every update of the batch was handled: the engine committed its state and
the reply with it (:mod:`bot.coach.replay`). A crash before that gets the batch again:
updates already handled are replayed by the engine, not run twice.

It does not wait for the replies to be sent: one chat under flood control must not hold
up everyone's next messages. A reply still in the outbox at a crash is sent again after
the restart (:mod:`bot.telegram.recovery`), for which the poller tells ``handled`` when
each batch is.

On stop, the batch in hand is finished, then confirmed with a last ``getUpdates`` that
waits for nothing; a long poll in progress is simply abandoned (what it would have
brought stays with Telegram). Network trouble is retried with a growing pause, flood
control after the pause Telegram asks for.

Webhook mode does not come through here: PTB's webhook server answers Telegram once an
update is queued, and Telegram's own retries of unanswered deliveries are its only
at-least-once window (out of scope; the engine's replay makes those retries harmless).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.telegram.outbox import Backoff, LimitedBot, retry_after_seconds
from bot.telegram.processor import chat_key

log = logging.getLogger(__name__)

T = TypeVar("T")

POLL_SECONDS = 10
"""How long a ``getUpdates`` waits for an update (long polling), as PTB's default."""

TakeChat = Callable[[Sequence[Update]], Awaitable[None]]
"""Handles one chat's updates in order."""
Handled = Callable[[], None]
"""Called once every update of a batch is handled."""


class Poller:
    """Fetches updates and hands them to ``take``; see the module docstring."""

    def __init__(
        self,
        bot: LimitedBot,
        take: TakeChat,
        *,
        allowed_updates: Sequence[str],
        handled: Handled | None = None,
        poll_seconds: int = POLL_SECONDS,
        backoff: Backoff | None = None,
    ) -> None:
        self._bot = bot
        self._take = take
        self._handled = handled
        self._allowed = list(allowed_updates)
        self._poll_seconds = poll_seconds
        self._backoff = backoff or Backoff()
        self.offset: int | None = None
        """The next ``getUpdates`` offset: every update below it is done."""

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; then finish the batch in hand and confirm it."""
        if not await self._retrying(self._drop_webhook, stop):
            return
        while not stop.is_set():
            updates = await self._retrying(self._fetch, stop)
            if not updates:
                continue  # a long poll with nothing new, or stopped while waiting
            await self._process(updates)
            self.offset = updates[-1].update_id + 1
            if self._handled is not None:
                self._handled()
        await self._confirm()

    async def _drop_webhook(self) -> bool:
        """A webhook left set would make every ``getUpdates`` fail; pending updates stay."""
        return await self._bot.delete_webhook(drop_pending_updates=False)

    async def _fetch(self) -> tuple[Update, ...]:
        return await self._bot.get_updates(
            offset=self.offset, timeout=self._poll_seconds, allowed_updates=self._allowed
        )

    async def _process(self, updates: Sequence[Update]) -> None:
        """Each chat's updates in order, the chats concurrently."""
        chats: dict[str, list[Update]] = {}
        for update in sorted(updates, key=lambda u: u.update_id):
            key = chat_key(update) or f"update:{update.update_id}"
            chats.setdefault(key, []).append(update)
        await asyncio.gather(*(self._take(chat) for chat in chats.values()))

    async def _confirm(self) -> None:
        """Tell Telegram the updates below the offset are done (waiting for nothing)."""
        if self.offset is None:
            return
        try:
            await self._bot.get_updates(
                offset=self.offset, timeout=0, allowed_updates=self._allowed
            )
        except TelegramError as exc:  # they will come again, and be replayed
            log.warning("the last updates could not be confirmed: %s", exc.message)

    async def _retrying(self, call: Callable[[], Awaitable[T]], stop: asyncio.Event) -> T | None:
        """``call()`` until it succeeds; None if ``stop`` is set first (the call in
        progress is abandoned). :class:`~telegram.error.InvalidToken` is not retried."""
        failures = 0
        while not stop.is_set():
            task = asyncio.ensure_future(call())
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if task.cancelled():
                return None
            try:
                return task.result()
            except InvalidToken:
                raise
            except TimedOut:
                pause = 0.0  # a long poll outlived its read timeout: ask again
            except RetryAfter as exc:
                pause = retry_after_seconds(exc)
                log.warning("flood control on getUpdates: waiting %.1f s", pause)
            except (Conflict, NetworkError, TelegramError) as exc:
                failures += 1
                pause = self._backoff.delay(failures)
                log.warning("getUpdates failed (%s); again in %.1f s", exc.message, pause)
            if pause:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
        return None
