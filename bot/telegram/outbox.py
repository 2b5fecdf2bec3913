"""The outgoing side: every chat's sends in order, every failure handled, none silent.

Each chat has a FIFO queue with two lanes (``reply`` ahead of ``scheduled``) and, while it
has work, one worker task that runs its jobs one at a time; the queue goes when it is
empty. So a chat's messages arrive in the order the engine produced them, and one chat
waiting never holds up another:

- ``429 RetryAfter``: this chat pauses for ``retry_after`` and the same job runs again;
- ``403 Forbidden`` (the user blocked the bot): the chat's queue is dropped, the user is
  marked inactive, and nothing more is sent until they write again (:meth:`Outbox.unblock`);
- network errors, timeouts and 5xx: retried with exponential backoff, then given up with
  an error in the log (counted in :attr:`Outbox.stats`);
- any other error: logged and counted, and the chat goes on with its next job.

A job may run more than once (after a 429 or a lost answer), so jobs are written to be
repeated: at worst a message arrives twice, never not at all.

A reply may carry a *tag*, the order the door gave the update it answers.
:meth:`Outbox.first_unsent` is the lowest tag not yet carried out (queued, in progress, or
left unsent at shutdown), so the door knows below which update every reply is out
(:mod:`.recovery`). A reply given up because the shutdown deadline came first counts as
unsent.

Logs name chats by id only: never a message's text, never the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.ops.metrics import Metrics, telegram_error_kind
from bot.schedule.loop import Lane
from bot.telegram.limits import LANES

log = logging.getLogger(__name__)

LimitedBot = ExtBot[Lane]


class Job(Protocol):
    """One step of sending (a Bot API call or two); safe to run again after a failure."""

    async def __call__(self, bot: LimitedBot, lane: Lane) -> None: ...


OnBlocked = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between attempts after network trouble: ``first``, doubling, up to ``most``."""

    first: float = 0.5
    most: float = 30.0
    attempts: int = 6

    def delay(self, failures: int) -> float:
        return float(min(self.most, self.first * 2 ** (failures - 1)))


@dataclass(slots=True)
class OutboxStats:
    """What the outbox did, for tests and the shutdown log."""

    done: int = 0
    """Jobs carried out."""
    retried: int = 0
    """Attempts repeated after flood control or a network error."""
    failed: int = 0
    """Jobs given up, each logged as an error."""
    dropped: int = 0
    """Jobs not sent because the user blocked the bot."""


SCHEDULED_BACKLOG = 200
"""Scheduled jobs queued (all chats) beyond which :meth:`Outbox.room` makes the scheduler
wait: about seven seconds of sending at Telegram's 30 a second."""


Tagged = tuple[Job, int | None]
"""A job and the tag of the reply it belongs to (``None``: untagged)."""


@dataclass(slots=True)
class _Queue:
    lanes: dict[Lane, deque[Tagged]] = field(default_factory=lambda: {x: deque() for x in LANES})
    worker: asyncio.Task[None] | None = None
    running: int | None = None
    """The tag of the job in progress."""
    waiting_until: float = 0.0
    """When the wait before a retry ends (event-loop time), while the worker waits."""

    def pop(self) -> tuple[Lane, Tagged] | None:
        for lane in LANES:
            if self.lanes[lane]:
                return lane, self.lanes[lane].popleft()
        return None

    def first_tag(self) -> int | None:
        """The lowest tag of the job in progress and the replies queued. (Their tags
        mostly rise; not always after a restart, when replies sent again come first.)"""
        tags = (tag for _, tag in self.lanes["reply"])
        return min((t for t in (self.running, *tags) if t is not None), default=None)

    def __len__(self) -> int:
        return sum(len(jobs) for jobs in self.lanes.values())


class Outbox:
    """Sends jobs chat by chat; see the module docstring for the rules."""

    def __init__(
        self,
        bot: LimitedBot,
        *,
        on_blocked: OnBlocked,
        backoff: Backoff | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._bot = bot
        self._on_blocked = on_blocked
        self._backoff = backoff or Backoff()
        self._queues: dict[int, _Queue] = {}
        self._blocked: set[int] = set()
        self._deadline: float | None = None  # set while draining at shutdown
        self._scheduled = 0  # scheduled jobs queued, in all chats
        self._unsent: int | None = None  # the lowest tag left unsent at shutdown
        self._room = asyncio.Event()
        self.stats = OutboxStats()
        self.metrics = metrics or Metrics()

    def submit(
        self, chat_id: int, jobs: Iterable[Job], *, lane: Lane = "reply", tag: int | None = None
    ) -> None:
        """Queue ``jobs`` for ``chat_id`` behind what that chat already has in ``lane``;
        ``tag`` them with the order of the update they answer (see :meth:`first_unsent`)."""
        jobs = list(jobs)
        if not jobs:
            return
        if chat_id in self._blocked:
            self.stats.dropped += len(jobs)
            log.info("chat %s blocked the bot: %d jobs not sent", chat_id, len(jobs))
            return
        queue = self._queues.setdefault(chat_id, _Queue())
        queue.lanes[lane].extend((job, tag) for job in jobs)
        self._count(lane, len(jobs))
        if queue.worker is None:
            queue.worker = asyncio.create_task(self._work(chat_id, queue), name=f"outbox:{chat_id}")

    def block(self, chat_id: int) -> None:
        """Send nothing more to ``chat_id`` (its user blocked the bot); drop what is queued."""
        self._blocked.add(chat_id)
        queue = self._queues.get(chat_id)
        if queue is not None:
            self.stats.dropped += len(queue)
            for lane, jobs in queue.lanes.items():
                self._count(lane, -len(jobs))
                jobs.clear()

    def first_unsent(self) -> int | None:
        """The lowest tag of a reply not yet carried out, given up or dropped for a block:
        queued, in progress, or left unsent at shutdown. ``None`` when there is none."""
        tags = [queue.first_tag() for queue in self._queues.values()]
        return min((t for t in (*tags, self._unsent) if t is not None), default=None)

    def closing(self, deadline: float) -> None:
        """Shutting down by ``deadline`` (event-loop time): from now on a retry that
        would wait past it is given up at once rather than waited for."""
        self._deadline = deadline

    def unblock(self, chat_id: int) -> None:
        """The user wrote again: their chat may be sent to."""
        self._blocked.discard(chat_id)

    def is_blocked(self, chat_id: int) -> bool:
        return chat_id in self._blocked

    async def room(self, lane: Lane) -> None:
        """Wait while the ``scheduled`` lane holds :data:`SCHEDULED_BACKLOG` jobs or more,
        so a scheduler hands over check-ins at the pace they can be sent. Replies never
        wait."""
        while lane == "scheduled" and self._scheduled >= SCHEDULED_BACKLOG:
            self._room.clear()
            await self._room.wait()

    def _count(self, lane: Lane, change: int) -> None:
        if lane != "scheduled":
            return
        self._scheduled += change
        if self._scheduled < SCHEDULED_BACKLOG:
            self._room.set()

    @property
    def pending(self) -> int:
        """Jobs queued and not yet started, in all chats."""
        return sum(len(queue) for queue in self._queues.values())

    @property
    def busy_chats(self) -> int:
        """Chats with a job queued or running."""
        return len(self._queues)

    async def drain(self, timeout: float) -> int:  # noqa: ASYNC109 - a deadline, not a cancel API
        """Wait up to ``timeout`` seconds for every queue to empty, then cancel what is left.

        A job that would have to wait past the deadline (flood control, backoff) is given
        up at once rather than waited for. Returns how many jobs were cancelled unsent
        (each chat left is logged as an error).
        """
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + timeout
        workers = [
            q.worker
            for q in self._queues.values()
            if q.worker is not None and q.waiting_until <= self._deadline
        ]
        if workers:
            await asyncio.wait(workers, timeout=timeout)
        unsent = 0
        for chat_id, queue in list(self._queues.items()):
            unsent += len(queue) + 1  # the job in progress too
            log.error("shutting down: chat %s still had %d jobs to send", chat_id, len(queue) + 1)
            self._left_unsent(queue.first_tag())
            if queue.worker is not None:
                queue.worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await queue.worker
        self.stats.failed += unsent
        return unsent

    async def _work(self, chat_id: int, queue: _Queue) -> None:
        try:
            while (item := queue.pop()) is not None:
                lane, (job, tag) = item
                queue.running = tag
                self._count(lane, -1)
                await self._carry_out(chat_id, queue, lane, job)
                queue.running = None
        finally:
            queue.worker = None
            if self._queues.get(chat_id) is queue:
                del self._queues[chat_id]

    async def _carry_out(self, chat_id: int, queue: _Queue, lane: Lane, job: Job) -> None:
        """Run one job to success or to a decision to give it up."""
        failures = 0
        while True:
            try:
                await self._send(job, lane)
            except RetryAfter as exc:
                pause = retry_after_seconds(exc)
                log.warning("flood control: chat %s paused for %.1f s", chat_id, pause)
                if not await self._wait_to_retry(queue, pause):
                    self._give_up(chat_id, job, exc)
                    self._left_unsent(queue.running)
                    return
                continue
            except Forbidden:
                await self._blocked_by(chat_id)
                return
            except BadRequest as exc:
                self._give_up(chat_id, job, exc)
                return
            except NetworkError as exc:  # timeouts, 5xx, lost connections
                failures += 1
                if failures >= self._backoff.attempts:
                    self._give_up(chat_id, job, exc)
                    return
                if not await self._wait_to_retry(queue, self._backoff.delay(failures)):
                    self._give_up(chat_id, job, exc)
                    self._left_unsent(queue.running)
                    return
                continue
            except TelegramError as exc:
                self._give_up(chat_id, job, exc)
                return
            except Exception:  # a bug in a job must not stop this chat's queue
                log.exception("chat %s: %s failed", chat_id, type(job).__name__)
                self.stats.failed += 1
                return
            self.stats.done += 1
            return

    async def _send(self, job: Job, lane: Lane) -> None:
        """Run ``job``, counting a Bot API error by its kind before it is handled."""
        try:
            await job(self._bot, lane)
        except TelegramError as exc:
            self.metrics.telegram_error(telegram_error_kind(exc))
            raise

    async def _wait_to_retry(self, queue: _Queue, seconds: float) -> bool:
        """Wait ``seconds`` before trying again; False (at once) if that would outlast
        the shutdown deadline, when waiting only delays the exit."""
        resume = asyncio.get_running_loop().time() + seconds
        if self._deadline is not None and resume > self._deadline:
            return False
        self.stats.retried += 1
        queue.waiting_until = resume
        try:
            await asyncio.sleep(seconds)
        finally:
            queue.waiting_until = 0.0
        return True

    async def _blocked_by(self, chat_id: int) -> None:
        log.info("chat %s blocked the bot: marked inactive, its queue dropped", chat_id)
        self.stats.dropped += 1  # the job that met the 403
        self.block(chat_id)
        try:
            await self._on_blocked(chat_id)
        except Exception:
            log.exception("chat %s: marking the user inactive failed", chat_id)

    def _left_unsent(self, tag: int | None) -> None:
        """A reply was given up for the shutdown deadline: it counts as not sent."""
        if tag is not None and (self._unsent is None or tag < self._unsent):
            self._unsent = tag

    def _give_up(self, chat_id: int, job: Job, exc: TelegramError) -> None:
        self.stats.failed += 1
        log.error("chat %s: %s given up: %s", chat_id, type(job).__name__, exc.message)


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whether PTB hands it out as an int or (``PTB_TIMEDELTA``)
    a timedelta; PTB 22 warns about the change on every read, which is not news here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
