"""End to end, the process: crashes, stop signals, bad settings and webhook mode, each
with a bot process (``python -m bot run``) of its own against the fake Bot API server."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable

import aiohttp
import pytest

from tests.botapi import FakeBotAPI
from tests.telegram.harness import TOKEN, BotProcess, Person

pytestmark = pytest.mark.timeout(90)

ANA = 1001

People = Callable[[int], Person]
Bots = Callable[..., BotProcess]


async def test_killed_stopped_restarted_the_user_goes_on_at_the_same_step(
    api: FakeBotAPI, bots: Bots, people: People
) -> None:
    first = bots()
    await first.start()
    ana = people(ANA)
    await ana.onboard()
    await ana.write("/validate")
    await ana.sees("validate", "open")
    await ana.tap("Angry")
    angry = await ana.sees("validate", "f_angry")
    await first.kill()  # SIGKILL: no shutdown at all

    await ana.tap("Frustrated")  # pressed while the bot is down: Telegram keeps the update
    second = bots()
    await second.start()
    await ana.sees("validate", "sense")
    assert api.message(ANA, angry.message_id).buttons == []
    await ana.tap("Go on")
    await ana.sees("validate", "observe")
    await stops_in_time(second, signal.SIGTERM)

    third = bots()
    await third.start()
    await ana.write("you looked at your phone while I was talking")
    await ana.sees("validate", "need")
    stored = await ana.stored()
    assert stored is not None and stored.step == ("validate", "need")
    assert [d["feeling"] for k, d in stored.records if k == "feeling"] == ["frustrated"]

    # Ctrl-C while flood control holds a reply back for 30 s: the exit does not wait.
    api.fail_next(ANA, count=100, retry_after=30)
    await ana.tap(ana.labels("validate", "need")[0])
    await api.wait_until(lambda: any(c.status == 429 for c in api.calls_to("sendMessage", ANA)))
    await stops_in_time(third, signal.SIGINT, clean=False)
    assert "chat 1001: SendText given up" in third.log or "chat 1001 still had" in third.log
    assert "KeyboardInterrupt" not in third.log


async def stops_in_time(bot: BotProcess, sig: int, *, clean: bool = True) -> None:
    """``sig`` ends the bot with exit code 0 within 10 seconds (and, if ``clean``, with
    no error logged)."""
    started = time.monotonic()
    assert await bot.stop(sig) == 0
    assert time.monotonic() - started < 10
    assert "Traceback" not in bot.log
    assert not clean or "ERROR" not in bot.log, bot.log


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("", "TELEGRAM_BOT_TOKEN is not set"),
        ("12345:short", "does not look like a bot token"),
        ("987654321:" + "Z" * 35, "Telegram rejected TELEGRAM_BOT_TOKEN"),
    ],
)
async def test_token_problems_are_one_line(bots: Bots, token: str, says: str) -> None:
    bot = bots(TELEGRAM_BOT_TOKEN=token)
    assert await bot.run_to_exit() == 2
    lines = bot.log.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines
    assert not token or token not in bot.log
    assert TOKEN not in bot.log


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_with_a_secret(api: FakeBotAPI, bots: Bots, people: People) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    secret = "s3cret-Webhook_token"
    bot = bots(
        TELEGRAM_WEBHOOK_URL=url,
        TELEGRAM_WEBHOOK_SECRET=secret,
        TELEGRAM_WEBHOOK_PORT=str(port),
    )
    await bot.start("--webhook")
    assert api.webhook_url == url
    ana = people(ANA)
    await ana.onboard()
    assert {d.secret_token for d in api.webhook_deliveries} == {secret}

    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            forged = {"update_id": 999, "message": {"text": "/start"}}
            async with http.post(url, json=forged, headers=headers) as response:
                assert response.status == 403
    assert await bot.stop() == 0


async def test_webhook_mode_needs_a_secret(bots: Bots) -> None:
    bot = bots(TELEGRAM_WEBHOOK_URL="https://example.org/hook")
    assert await bot.run_to_exit("--webhook") == 2
    assert "TELEGRAM_WEBHOOK_SECRET is not set" in bot.log
