"""The metrics, as Prometheus reads them: names, label values, and the active-user count."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.clock import ManualClock
from bot.ops.metrics import (
    TELEGRAM_ERROR_KINDS,
    UPDATE_KINDS,
    Metrics,
    active_users_in,
    telegram_error_kind,
    update_kind,
)
from bot.store.base import UserRow
from bot.store.sqlite import SQLiteStore

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(metrics: Metrics) -> Samples:
    """Every sample of the exposition, parsed back as Prometheus would."""
    text = (await metrics.exposition()).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def at(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def test_every_series_is_there_at_zero_from_the_first_scrape() -> None:
    samples = await scrape(Metrics())
    for kind in UPDATE_KINDS:
        assert at(samples, "securebase_updates_total", kind=kind) == 0
    for kind in ("429", "403", "network", "other"):
        assert at(samples, "securebase_telegram_errors_total", kind=kind) == 0
    assert at(samples, "securebase_scheduled_sends_total") == 0
    assert at(samples, "securebase_errors_total") == 0
    assert at(samples, "securebase_reply_latency_seconds_count") == 0
    assert at(samples, "securebase_active_users") == 0


async def test_each_call_is_counted_under_its_name_and_label() -> None:
    metrics = Metrics()
    for kind in ("message", "message", "callback_query", "a kind nobody declared"):
        metrics.update(kind)
    metrics.reply_latency(0.02)
    metrics.reply_latency(3.0)
    for _ in range(3):
        metrics.scheduled_send()
    metrics.telegram_error("429")
    metrics.telegram_error("403")
    metrics.telegram_error("403")
    metrics.error()

    samples = await scrape(metrics)
    assert at(samples, "securebase_updates_total", kind="message") == 2
    assert at(samples, "securebase_updates_total", kind="callback_query") == 1
    assert at(samples, "securebase_updates_total", kind="other") == 1
    assert at(samples, "securebase_reply_latency_seconds_bucket", le="0.01") == 0
    assert at(samples, "securebase_reply_latency_seconds_bucket", le="0.025") == 1
    assert at(samples, "securebase_reply_latency_seconds_bucket", le="5.0") == 2
    assert at(samples, "securebase_reply_latency_seconds_count") == 2
    assert at(samples, "securebase_reply_latency_seconds_sum") == pytest.approx(3.02)
    assert at(samples, "securebase_scheduled_sends_total") == 3
    assert at(samples, "securebase_telegram_errors_total", kind="429") == 1
    assert at(samples, "securebase_telegram_errors_total", kind="403") == 2
    assert at(samples, "securebase_errors_total") == 1


async def test_two_metrics_objects_count_apart() -> None:
    first, second = Metrics(), Metrics()
    first.update("message")
    assert at(await scrape(first), "securebase_updates_total", kind="message") == 1
    assert at(await scrape(second), "securebase_updates_total", kind="message") == 0


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (lambda: RetryAfter(timedelta(seconds=3)), "429"),
        (lambda: Forbidden("Forbidden: bot was blocked by the user"), "403"),
        (TimedOut, "network"),
        (lambda: NetworkError("Bad Gateway"), "network"),
        (lambda: BadRequest("Message is not modified"), "other"),
        (lambda: TelegramError("Unknown error"), "other"),
        (lambda: ValueError("a bug"), "other"),
    ],
)
def test_telegram_errors_are_counted_by_what_went_wrong(
    error: Callable[[], Exception], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB 22's retry_after, without its warning
    assert telegram_error_kind(error()) == kind
    assert kind in TELEGRAM_ERROR_KINDS


def test_an_update_is_counted_by_what_it_carries() -> None:
    user, chat = User(1, "Ana", False), Chat(1, "private")
    message = Message(7, datetime.now(UTC), chat, from_user=user, text="hi")
    press = CallbackQuery("q", user, "instance", message=message, data="x")
    assert update_kind(Update(1, message=message)) == "message"
    assert update_kind(Update(2, edited_message=message)) == "edited_message"
    assert update_kind(Update(3, callback_query=press)) == "callback_query"
    assert update_kind(Update(4)) == "other"


async def test_active_users_are_those_seen_in_the_last_day_who_have_not_blocked_the_bot(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    now = clock.now()
    async with await SQLiteStore.open(tmp_path / "coach.db") as store:
        for user_id, seen in [
            ("tg:1", now),
            ("tg:2", now - timedelta(hours=23)),
            ("tg:3", now - timedelta(hours=25)),
            ("tg:4", now),
        ]:
            await store.save(UserRow(user_id), [], seen)
        await store.set_active("tg:4", False)  # blocked the bot
        metrics = Metrics()
        metrics.watch_active_users(active_users_in(store, clock))
        assert at(await scrape(metrics), "securebase_active_users") == 2

        await clock.advance(hours=2)
        assert at(await scrape(metrics), "securebase_active_users") == 1


async def test_a_busy_database_keeps_the_last_active_user_count() -> None:
    answers: list[int | Exception] = [5, sqlite3.OperationalError("database is locked")]

    async def count() -> int:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    metrics = Metrics()
    metrics.watch_active_users(count)
    assert at(await scrape(metrics), "securebase_active_users") == 5
    assert at(await scrape(metrics), "securebase_active_users") == 5
