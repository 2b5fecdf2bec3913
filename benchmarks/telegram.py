"""The Telegram bot's throughput and reply latency, beside a bare PTB echo bot.

    .venv/bin/python -m benchmarks.telegram [--messages 600] [--users 1 20] [--rounds 3]
                                            [--paced-users 20] [--pace-ms 100]

Starts the fake Bot API server (``tests/botapi``) in this process, then, one after the
other, runs each bot as a real process pointed at it with ``TELEGRAM_API_BASE_URL``:

- ``echo``: python-telegram-bot's echo bot as its docs write it (PTB defaults: one update
  at a time);
- ``echo, concurrent``: the same with ``concurrent_updates(True)``;
- ``secure base``: ``python -m bot run`` on a fresh database, sending limits off.

Two loads, each bot under both:

- *saturated*: for each number of users, every simulated user writes, waits for the
  reply, and writes again at once (``--messages`` replies in all, after a warm-up). This
  measures throughput: the bot never waits for work. Its latency is users ÷ throughput
  (Little's law): at 20 users, a p99 under 50 ms needs well over 400 replies a second.
- *paced*: ``--paced-users`` users each write at most once every ``--pace-ms`` (100 ms:
  ten times the one message a second Telegram lets a bot send to one chat), waiting for
  each reply as a person would. This measures reply latency while users overlap, below
  saturation.

It prints updates per second (all users together) and reply latency (user's message →
the bot's ``sendMessage`` arriving at the server), p50 and p99: the median of
``--rounds`` runs, taken in turns so that a busy moment of the machine does not favour
one bot. The fake server and the users share this process's core; each bot has its own.

``python -m benchmarks.telegram echo [--concurrent]`` is the echo bot itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.botapi import FakeBotAPI, SentMessage
from tests.botapi.server import Json

TOKEN = "123456789:BENCH-secure-base-token-0123456789abcdef"
WARM_UP = 10  # messages per user before measuring
FIRST_USER = 500_000
START_TIMEOUT = 30.0
REPLY_TIMEOUT = 10.0


@dataclass(frozen=True)
class Contender:
    name: str
    command: tuple[str, ...]


CONTENDERS = (
    Contender("echo", ("-m", "benchmarks.telegram", "echo")),
    Contender("echo, concurrent", ("-m", "benchmarks.telegram", "echo", "--concurrent")),
    Contender("secure base", ("-m", "bot", "run")),
)


@dataclass(frozen=True)
class Load:
    """How many users write, and how often (``pace``: at most one message per ``pace``
    seconds from each user; ``0``: as fast as the bot answers)."""

    users: int
    pace: float = 0.0

    def __str__(self) -> str:
        return "saturated" if not self.pace else f"1 per {self.pace * 1000:.0f} ms"


@dataclass(frozen=True)
class Result:
    contender: str
    load: Load
    per_second: float
    p50_ms: float
    p99_ms: float


class TimedAPI(FakeBotAPI):
    """The fake server, telling each simulated user the moment its reply arrives.

    Waiting through ``wait_for`` would re-check every user on every change of the server,
    and with 20 users that bookkeeping, not the bot, would be what is measured.
    """

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.waiting: dict[int, asyncio.Future[float]] = {}

    def _record(self, m: SentMessage) -> Json:
        answer = super()._record(m)
        future = self.waiting.pop(m.chat_id, None)
        if future is not None and not future.done():
            future.set_result(m.sent_at)
        return answer

    async def ask(self, user_id: int, text: str) -> float:
        """Write ``text`` as ``user_id``; the seconds until the bot's reply arrives."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[user_id] = future
        asked = time.monotonic()
        await self.send_text(user_id, text)
        return await asyncio.wait_for(future, REPLY_TIMEOUT) - asked


async def user(api: TimedAPI, user_id: int, messages: int, pace: float) -> list[float]:
    """Write, wait for the reply, write again; the latencies (s) after the warm-up.

    Paced, the user starts at a random moment of the first ``pace`` and writes again
    between half and one and a half ``pace`` after the last message (or when the reply
    comes, if later): people do not all write in the same millisecond.
    """
    rng = random.Random(user_id)
    await asyncio.sleep(rng.uniform(0, pace))
    latencies = []
    for n in range(WARM_UP + messages):
        started = time.monotonic()
        latencies.append(await api.ask(user_id, f"hello {n}"))
        await asyncio.sleep(rng.uniform(0.5, 1.5) * pace - (time.monotonic() - started))
    return latencies[WARM_UP:]


async def drive(
    api: TimedAPI, load: Load, messages: int, first_id: int
) -> tuple[float, list[float]]:
    """All users at once; (replies per second, every measured latency)."""
    ids = range(first_id, first_id + load.users)
    started = time.monotonic()
    results = await asyncio.gather(*(user(api, i, messages, load.pace) for i in ids))
    elapsed = time.monotonic() - started
    latencies = [latency for result in results for latency in result]
    return load.users * (WARM_UP + messages) / elapsed, latencies


async def measure(contender: Contender, load: Load, messages: int) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        async with TimedAPI(TOKEN) as api:
            env = {
                **os.environ,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": api.url,
                "SECUREBASE_DB": str(Path(folder) / "bench.db"),
                "TELEGRAM_SEND_RATE": "0",
                "TELEGRAM_CHAT_RATE": "0",
                "PTB_TIMEDELTA": "1",
            }
            bot = await asyncio.create_subprocess_exec(
                sys.executable, *contender.command, env=env, stdout=asyncio.subprocess.DEVNULL
            )
            try:
                await api.wait_until(
                    lambda: bool(api.calls_to("getUpdates")), timeout=START_TIMEOUT
                )
                rate, latencies = await drive(api, load, messages, FIRST_USER)
            finally:
                bot.terminate()
                await bot.wait()
    quantiles = statistics.quantiles(latencies, n=100)
    return Result(contender.name, load, rate, quantiles[49] * 1000, quantiles[98] * 1000)


def table(results: list[Result]) -> str:
    heading = f"{'bot':<18} {'users':>5} {'load':>14} {'updates/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
    lines = [heading]
    for r in results:
        figures = f"{r.per_second:>10.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f}"
        lines.append(f"{r.contender:<18} {r.load.users:>5} {r.load!s:>14} {figures}")
    for load in sorted({r.load for r in results if not r.load.pace}, key=lambda x: x.users):
        ours = next(r for r in results if r.load == load and r.contender == "secure base")
        for echo in (r for r in results if r.load == load and r.contender.startswith("echo")):
            share = ours.per_second / echo.per_second
            lines.append(f"{load.users:>3} users: secure base = {share:.0%} of {echo.contender}")
    return "\n".join(lines)


def median(results: list[Result]) -> Result:
    """Each figure's median over the rounds (the machine may be busy with other work)."""
    first = results[0]
    return Result(
        first.contender,
        first.load,
        statistics.median(r.per_second for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
    )


async def benchmark(loads: list[Load], messages: int, rounds: int) -> None:
    """Every contender under every load, in turns, ``rounds`` times."""
    runs: dict[tuple[str, Load], list[Result]] = {}
    for round_number in range(rounds):
        for load in loads:
            for contender in CONTENDERS:
                result = await measure(contender, load, max(messages // load.users, 20))
                runs.setdefault((contender.name, load), []).append(result)
                print(f"round {round_number + 1}: {result}", file=sys.stderr)
    print(table([median(results) for results in runs.values()]))


# --- the echo bot --------------------------------------------------------------------------


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


def run_echo(concurrent: bool) -> None:
    """PTB's echo bot, as in its examples, pointed at ``TELEGRAM_API_BASE_URL``."""
    base = os.environ["TELEGRAM_API_BASE_URL"]
    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .concurrent_updates(concurrent)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    bot = commands.add_parser("echo", help="run the bare PTB echo bot")
    bot.add_argument("--concurrent", action="store_true")
    parser.add_argument("--messages", type=int, default=600, help="measured replies per run")
    parser.add_argument("--users", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--rounds", type=int, default=3, help="the median of this many runs")
    parser.add_argument("--paced-users", type=int, nargs="*", default=[20])
    parser.add_argument("--pace-ms", type=float, default=100.0, help="per user, when paced")
    args = parser.parse_args()
    if args.command == "echo":
        run_echo(args.concurrent)
    else:
        paced = [Load(users, args.pace_ms / 1000) for users in args.paced_users]
        loads = [*(Load(users) for users in args.users), *paced]
        asyncio.run(benchmark(loads, args.messages, args.rounds))


if __name__ == "__main__":
    main()
