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

:meth:`Outbox.sent` waits until a chat's replies queued so far are carried out, so the
poller (:mod:`.poller`) confirms an update to Telegram only once its reply is out. A reply
given up because the shutdown deadline came first (:meth:`Outbox.closing`) counts as not
sent: its update stays unconfirmed and, redelivered after the restart, is replayed.

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


@dataclass(slots=True)
class _Queue:
    lanes: dict[Lane, deque[Job]] = field(default_factory=lambda: {x: deque() for x in LANES})
    worker: asyncio.Task[None] | None = None
    waiting_until: float = 0.0
    """When the wait before a retry ends (event-loop time), while the worker waits."""
    replies: int = 0
    """Jobs ever queued in the ``reply`` lane."""
    replied: int = 0
    """Of those, the jobs carried out, given up or dropped."""
    cut_short: bool = False
    """A reply was given up because of the shutdown deadline: not sent."""
    waiters: list[tuple[int, asyncio.Future[bool]]] = field(default_factory=list)
    """:meth:`Outbox.sent` calls waiting for ``replied`` to reach a count."""

    def settle(self, *, finished: bool = True) -> None:
        """Wake the waiters whose replies are done (all of them unless ``finished``)."""
        waiting = []
        for count, future in self.waiters:
            if future.done():
                continue
            if count <= self.replied:
                future.set_result(not self.cut_short)
            elif not finished:
                future.set_result(False)
            else:
                waiting.append((count, future))
        self.waiters = waiting

    def pop(self) -> tuple[Lane, Job] | None:
        for lane in LANES:
            if self.lanes[lane]:
                return lane, self.lanes[lane].popleft()
        return None

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
        self._room = asyncio.Event()
        self.stats = OutboxStats()
        self.metrics = metrics or Metrics()

    def submit(self, chat_id: int, jobs: Iterable[Job], *, lane: Lane = "reply") -> None:
        """Queue ``jobs`` for ``chat_id`` behind what that chat already has in ``lane``."""
        jobs = list(jobs)
        if not jobs:
            return
        if chat_id in self._blocked:
            self.stats.dropped += len(jobs)
            log.info("chat %s blocked the bot: %d jobs not sent", chat_id, len(jobs))
            return
        queue = self._queues.setdefault(chat_id, _Queue())
        queue.lanes[lane].extend(jobs)
        if lane == "reply":
            queue.replies += len(jobs)
        self._count(lane, len(jobs))
        if queue.worker is None:
            queue.worker = asyncio.create_task(self._work(chat_id, queue), name=f"outbox:{chat_id}")

    def block(self, chat_id: int) -> None:
        """Send nothing more to ``chat_id`` (its user blocked the bot); drop what is queued."""
        self._blocked.add(chat_id)
        queue = self._queues.get(chat_id)
        if queue is not None:
            self.stats.dropped += len(queue)
            queue.replied += len(queue.lanes["reply"])
            for lane, jobs in queue.lanes.items():
                self._count(lane, -len(jobs))
                jobs.clear()
            queue.settle()

    async def sent(self, chat_id: int) -> bool:
        """Wait until every reply queued so far for ``chat_id`` is carried out (or given
        up, or dropped for a block). False when one was left unsent at shutdown (given up
        for the deadline, or cancelled by :meth:`drain`)."""
        queue = self._queues.get(chat_id)
        if queue is None:
            return True  # nothing queued: all sent
        if queue.replied >= queue.replies:
            return not queue.cut_short
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        queue.waiters.append((queue.replies, future))
        return await future

    def closing(self, deadline: float) -> None:
        """Shutting down by ``deadline`` (event-loop time): from now on a retry that
        would wait past it is given up at once rather than waited for, and a chat already
        waiting past it counts as unsent for :meth:`sent`."""
        self._deadline = deadline
        for queue in self._queues.values():
            if queue.waiting_until > deadline:
                queue.cut_short = True
                queue.settle(finished=False)

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
            if queue.worker is not None:
                queue.worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await queue.worker
        self.stats.failed += unsent
        return unsent

    async def _work(self, chat_id: int, queue: _Queue) -> None:
        try:
            while (item := queue.pop()) is not None:
                lane, job = item
                self._count(lane, -1)
                await self._carry_out(chat_id, queue, lane, job)
                if lane == "reply":
                    queue.replied += 1
                    queue.settle()
        finally:
            queue.worker = None
            queue.settle(finished=False)  # cancelled by drain: what is left is unsent
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
                    queue.cut_short = queue.cut_short or lane == "reply"
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
                    queue.cut_short = queue.cut_short or lane == "reply"
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
