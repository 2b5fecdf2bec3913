"""Health and metrics of a real bot process, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import aiohttp
import pytest

from tests.botapi import FakeBotAPI
from tests.telegram.harness import BotProcess, Person

pytestmark = pytest.mark.timeout(90)

ANA = 2001


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def fetch(port: int, path: str) -> tuple[int | None, str]:
    """Status and body, or ``(None, "")`` when nothing listens."""
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"http://127.0.0.1:{port}{path}", timeout=aiohttp.ClientTimeout(total=2)
            ) as response,
        ):
            return response.status, await response.text()
    except aiohttp.ClientError:
        return None, ""


async def until_ready(port: int) -> None:
    for _ in range(200):
        if (await fetch(port, "/healthz"))[0] == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("/healthz never said ready")


def sample(exposition: str, name: str) -> float:
    """The value of one sample line, e.g. ``securebase_updates_total{kind="message"}``."""
    for line in exposition.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not exposed")


async def test_healthz_and_metrics_follow_what_the_bot_really_does(
    api: FakeBotAPI, bots: Callable[..., BotProcess], people: Callable[[int], Person]
) -> None:
    port = free_port()
    bot = bots(SECUREBASE_OPS_PORT=str(port))
    await bot.start()
    await until_ready(port)
    ana = people(ANA)
    await ana.onboard()
    await ana.write("/breathe")
    await ana.sees("breathe", "open")
    status, text = await fetch(port, "/metrics")
    assert status == 200
    assert sample(text, 'securebase_updates_total{kind="message"}') >= 2
    assert sample(text, 'securebase_updates_total{kind="callback_query"}') >= 1
    assert sample(text, "securebase_reply_latency_seconds_count") >= 3
    assert sample(text, "securebase_active_users") == 1
    assert await bot.stop() == 0
    assert (await fetch(port, "/healthz"))[0] is None, "the ops server stops with the bot"
