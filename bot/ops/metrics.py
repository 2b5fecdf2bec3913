"""Prometheus metrics: what an operator needs to see that the coach is up and answering.

Every collector lives in the :class:`Metrics` object's own ``CollectorRegistry``, never in
prometheus-client's global one, so that tests (and two apps in one process) each count
their own and never clash over a metric name.

Label values come from fixed sets in this module, never from anything a user sent: a
kind the door does not know is counted as ``other``, so a label can never grow a series
per user or per word, and every series exists (at 0) from the first scrape, which is
what ``rate()`` and alert rules need.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.clock import Clock
from bot.store.sqlite import SQLiteStore

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Prometheus text format that :func:`prometheus_client.generate_latest` writes."""

UPDATE_KINDS = ("message", "edited_message", "callback_query", "my_chat_member", "other")
"""Update kinds counted apart: the fields of a Telegram ``Update`` the bot asks for."""

TelegramErrorKind = Literal["429", "403", "network", "other"]
TELEGRAM_ERROR_KINDS: tuple[TelegramErrorKind, ...] = ("429", "403", "network", "other")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds: from a fast reply (a few milliseconds of engine and SQLite) to one that a
person waiting in a tense moment would call slow."""

ACTIVE_WINDOW = timedelta(hours=24)

ActiveUsers = Callable[[], Awaitable[int]]
"""Counts the active users when Prometheus scrapes (see :func:`active_users_in`)."""


class Metrics:
    """The bot's collectors, and the calls a door makes to count what happens.

    A door calls :meth:`update` for each update it handles, :meth:`reply_latency` once a
    reply is ready, :meth:`scheduled_send` for each check-in it queues to send,
    :meth:`telegram_error` for each failed Bot API call and :meth:`error` for each update
    or background task that failed; :meth:`watch_active_users` once the store is open.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "securebase_updates_total",
            "Updates handled, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "securebase_reply_latency_seconds",
            "Seconds from receiving a user's update to its reply being ready to send.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.scheduled_sends = Counter(
            "securebase_scheduled_sends_total",
            "Scheduled check-ins and reminders queued for sending.",
            registry=self.registry,
        )
        self.telegram_errors = Counter(
            "securebase_telegram_errors_total",
            "Failed Bot API calls: 429 flood control, 403 blocked, network, other.",
            ["kind"],
            registry=self.registry,
        )
        self.errors = Counter(
            "securebase_errors_total",
            "Updates and background tasks that failed with an unexpected error.",
            registry=self.registry,
        )
        self.active_users = Gauge(
            "securebase_active_users",
            "Users with an event in the last 24 hours who have not blocked the bot.",
            registry=self.registry,
        )
        for kind in UPDATE_KINDS:
            self.updates.labels(kind)
        for error_kind in TELEGRAM_ERROR_KINDS:
            self.telegram_errors.labels(error_kind)
        self._count_active: ActiveUsers | None = None

    def update(self, kind: str) -> None:
        """Count one update of ``kind`` (one of :data:`UPDATE_KINDS`, else ``other``)."""
        self.updates.labels(kind if kind in UPDATE_KINDS else "other").inc()

    def reply_latency(self, seconds: float) -> None:
        """Record how long one reply took, from the update's arrival to the reply ready."""
        self.latency.observe(seconds)

    def scheduled_send(self) -> None:
        """Count one scheduled check-in or reminder queued for sending."""
        self.scheduled_sends.inc()

    def telegram_error(self, kind: TelegramErrorKind) -> None:
        """Count one failed Bot API call; :func:`telegram_error_kind` names an exception."""
        self.telegram_errors.labels(kind).inc()

    def error(self) -> None:
        """Count one unexpected failure (an update's handler or a background loop)."""
        self.errors.inc()

    def watch_active_users(self, count: ActiveUsers) -> None:
        """Have every scrape set ``securebase_active_users`` from ``count()``."""
        self._count_active = count

    async def exposition(self) -> bytes:
        """Everything, in the Prometheus text format (:data:`CONTENT_TYPE`).

        The active-user count is taken now, so it costs nothing between scrapes. If the
        database cannot answer (busy, say), the scrape still succeeds with the last count.
        """
        if self._count_active is not None:
            try:
                self.active_users.set(await self._count_active())
            except sqlite3.Error as error:
                log.warning("active users not counted: %s", error)
        return generate_latest(self.registry)


def update_kind(update: object) -> str:
    """The kind of a Telegram ``Update``: the first of :data:`UPDATE_KINDS` it carries."""
    return next((kind for kind in UPDATE_KINDS if getattr(update, kind, None)), "other")


def telegram_error_kind(error: BaseException) -> TelegramErrorKind:
    """How :meth:`Metrics.telegram_error` counts a python-telegram-bot exception.

    The order matters: PTB's ``BadRequest`` is a subclass of ``NetworkError``, but a
    request Telegram refused is no network trouble.
    """
    if isinstance(error, RetryAfter):
        return "429"
    if isinstance(error, Forbidden):
        return "403"
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return "network"
    return "other"


def active_users_in(store: SQLiteStore, clock: Clock) -> ActiveUsers:
    """Counts, for :meth:`Metrics.watch_active_users`, the users of ``store`` with an
    event in the last 24 hours — a message, a button, or a timer or check-in of theirs —
    and not marked inactive (they blocked the bot).

    Read from the ``users`` row each event already writes (``updated_at``), so the count
    survives restarts and costs nothing per event; one scan per scrape (about 20 ms for
    100,000 users).
    """

    async def count() -> int:
        since = (clock.now() - ACTIVE_WINDOW).isoformat()
        query = "SELECT count(*) FROM users WHERE active = 1 AND updated_at >= ?"
        async with store.connection.execute(query, (since,)) as cursor:
            found = await cursor.fetchone()
        return int(found[0]) if found else 0

    return count
