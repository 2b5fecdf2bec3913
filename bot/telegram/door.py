"""The Telegram door: updates in through the coach, replies out through the outbox.

It mirrors the terminal door (:mod:`bot.console.chat`): the same engine, the same store,
the same :class:`~bot.coach.timers.TimerRunner` firing timers from the database and the
same :class:`~bot.schedule.loop.ScheduleLoop` sending check-ins (in the outbox's
``scheduled`` lane, behind every reply). What it
adds is Telegram's: button presses are answered at once (the spinner on the user's button
stops before the reply is even computed), groups are asked to write privately, a user who
blocks the bot is marked inactive, and every reply goes out through the :class:`Outbox`.

Each update reaches the engine as a :class:`~bot.coach.replay.Delivery` named by its
``update_id``, so an update Telegram hands over again after a crash is replayed, never
run twice, and ordered by the :class:`~bot.telegram.recovery.SentMark`; its reply goes
into the outbox tagged with that order, so the mark knows which replies are out.
:meth:`TelegramDoor.take` is the poller's way in: one chat's updates in order, each
handled (committed) before the next; their replies go out in the background.

Every word a user sees comes from the dialogues, including the apology sent when the coach
fails on a message (``internal_error``) and the command menu (``command_*`` strings, else
the dialogue's title).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from telegram import BotCommand, CallbackQuery, Update
from telegram.error import TelegramError

from bot.coach.actions import Reply, Send, StartTimer
from bot.coach.engine import Coach
from bot.coach.replay import Delivery
from bot.coach.timers import TimerRunner
from bot.dialogue.loader import Catalog
from bot.dialogue.schema import LocalText
from bot.ops.metrics import Metrics, update_kind
from bot.schedule.loop import Lane, ScheduleLoop
from bot.telegram.outbox import Backoff, LimitedBot, Outbox
from bot.telegram.recovery import SentMark
from bot.telegram.render import Renderer
from bot.telegram.updates import (
    USER_PREFIX,
    GroupAddress,
    Inbound,
    Membership,
    chat_id_of,
    read,
    user_id_of,
)

log = logging.getLogger(__name__)

COMMAND_STRING = "command_"
MAX_COMMAND_DESCRIPTION = 256
SCHEDULE_LOOK_AGAIN = 1.0


class TelegramDoor:
    """The coach for every Telegram user of one bot."""

    def __init__(
        self,
        coach: Coach,
        catalog: Catalog,
        bot: LimitedBot,
        *,
        backoff: Backoff | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.coach = coach
        self.catalog = catalog
        self.bot = bot
        self.metrics = metrics or Metrics()
        self.renderer = Renderer()
        self.outbox = Outbox(
            bot, on_blocked=self.mark_inactive, backoff=backoff, metrics=self.metrics
        )
        self.mark = SentMark(self.outbox, coach.store, coach.clock)
        self.timers = TimerRunner(coach, self.deliver, USER_PREFIX)
        self.schedule = ScheduleLoop(coach, self.deliver_scheduled, USER_PREFIX)
        self._schedule_poke: asyncio.TimerHandle | None = None

    async def on_update(self, update: Update, context: object) -> None:
        """Handle one update (PTB calls this for each, in order within a chat)."""
        del context
        started = time.monotonic()
        self.metrics.update(update_kind(update))
        if update.callback_query is not None:
            await self._answer(update.callback_query)
        match read(update, self.bot.username):
            case Inbound() as inbound:
                await self._converse(inbound, update.update_id)
                self.metrics.reply_latency(time.monotonic() - started)
            case GroupAddress(chat_id=chat_id, locale=locale):
                self.send(chat_id, self._say("group_chat", locale))
            case Membership(chat_id=chat_id, blocked=True):
                self.outbox.block(chat_id)
                await self.mark_inactive(chat_id)
            case Membership(chat_id=chat_id, blocked=False):
                self.outbox.unblock(chat_id)

    async def take(self, updates: Sequence[Update]) -> None:
        """Handle one chat's ``updates`` in order (the poller's way in). An update that
        fails is logged and counts as handled: retrying it would fail again."""
        for update in updates:
            try:
                await self.on_update(update, None)
            except Exception:
                self.metrics.error()
                log.exception("update %s failed", update.update_id)

    async def recover(self) -> int:
        """Send again the replies that may not have gone out before a crash (before
        polling starts); how many."""
        return await self.mark.recover(self._resend)

    async def deliver(self, user_id: str, reply: Reply) -> None:
        """Send what a fired timer produced (the :class:`TimerRunner`'s callback)."""
        self.send(chat_id_of(user_id), reply)

    async def deliver_scheduled(self, user_id: str, reply: Reply, *, lane: Lane) -> None:
        """Send a check-in or reminder (the :class:`ScheduleLoop`'s callback); returns once
        the outbox has room, which paces the scheduler to Telegram's sending rate."""
        self.send(chat_id_of(user_id), reply, lane=lane)
        self.metrics.scheduled_send()
        await self.outbox.room(lane)

    def send(
        self, chat_id: int, reply: Reply, *, lane: Lane = "reply", order: int | None = None
    ) -> None:
        """Queue ``reply`` for ``chat_id`` (the answer to the update ordered ``order``, if
        it is one); wake the timer runner if it asks for a timer."""
        jobs = self.renderer.jobs(chat_id, reply)
        self.outbox.submit(chat_id, jobs, lane=lane, tag=order)
        if any(isinstance(action, StartTimer) for action in reply.actions):
            self.timers.poke()

    async def mark_inactive(self, chat_id: int) -> None:
        """The user of a private chat blocked the bot: keep that in the store (the engine
        marks them active again with their next message)."""
        if chat_id <= 0:
            return  # a group: there is no one user to mark
        user_id = user_id_of(chat_id)
        async with self.coach.locks.hold(user_id):
            await self.coach.store.set_active(user_id, False)

    def bot_commands(self) -> dict[str | None, list[BotCommand]]:
        """The command menu per language (``None``: the default, in the first locale)."""
        locales = self.catalog.common.locales
        return {
            (None if i == 0 else locale): self._commands(locale) for i, locale in enumerate(locales)
        }

    async def publish_commands(self) -> None:
        """``setMyCommands`` for every language the dialogues speak."""
        for language, commands in self.bot_commands().items():
            try:
                await self.bot.set_my_commands(commands, language_code=language)
            except TelegramError as exc:
                log.warning("the command menu could not be set: %s", exc.message)

    async def _answer(self, query: CallbackQuery) -> None:
        try:
            await query.answer()
        except TelegramError as exc:  # too old (after a restart), or Telegram unreachable
            log.info("a button press could not be answered: %s", exc.message)

    def _resend(self, user_id: str, order: int, reply: Reply) -> None:
        self.send(chat_id_of(user_id), reply, order=order)

    async def _converse(self, inbound: Inbound, update_id: int) -> None:
        chat_id = inbound.chat_id
        self.outbox.unblock(chat_id)
        if inbound.pressed is not None:
            self.renderer.views.learn_pressed(chat_id, inbound.pressed)
        order = self.mark.next_order()
        try:
            reply = await self.coach.handle(
                inbound.user_id,
                inbound.event,
                locale=inbound.locale,
                delivery=Delivery(update_id, order),
                sent_below=self.mark.sent_below(order),
            )
        except Exception:
            self.metrics.error()
            log.exception(
                "chat %s: the coach failed on a %s", chat_id, type(inbound.event).__name__
            )
            reply = self._say("internal_error", inbound.locale)
        self.send(chat_id, reply, order=order)
        self._poke_schedule()  # the user may have changed their check-ins

    def _poke_schedule(self) -> None:
        """Have the scheduler look again within :data:`SCHEDULE_LOOK_AGAIN` seconds: one
        look (a short write transaction) for all the events of that second, not one each."""
        if self._schedule_poke is None:
            self._schedule_poke = asyncio.get_running_loop().call_later(
                SCHEDULE_LOOK_AGAIN, self._poke_schedule_now
            )

    def _poke_schedule_now(self) -> None:
        self._schedule_poke = None
        self.schedule.poke()

    def _say(self, key: str, locale: str | None) -> Reply:
        return Reply([Send(self._local(self.catalog.string(key)[0], locale))])

    def _commands(self, locale: str) -> list[BotCommand]:
        strings = self.catalog.common.strings
        described = {
            key.removeprefix(COMMAND_STRING): variations[0]
            for key, variations in strings.items()
            if key.startswith(COMMAND_STRING)
        }
        for dialogue in self.catalog.dialogues.values():
            for name in dialogue.triggers.commands:
                described.setdefault(name, dialogue.title)
        return [
            BotCommand(name, self._local(text, locale)[:MAX_COMMAND_DESCRIPTION])
            for name, text in described.items()
        ]

    def _local(self, text: LocalText, locale: str | None) -> str:
        """``text`` in ``locale`` when it has it, else in its first language."""
        return (text.get(locale) if locale else None) or next(iter(text.values()), "")
