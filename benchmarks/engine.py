"""Engine + store throughput, latency and memory, on a real SQLite file.

    .venv/bin/python -m benchmarks.engine [--users 10000] [--events 20000]

Opens 10,000 users in the middle of a dialogue (open sessions), then sends events to
random users — each the next thing that user would do (press the first button offered,
let a timer fire, or start a practice again) — and prints events/s, p50/p99 per event,
and memory. One process, one event loop: what one core of the bot can do.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from bot.app import App, open_app
from bot.coach.actions import Edit, Reply, Send, StartTimer
from bot.coach.events import Event, Press, Text, TimerFired
from bot.config import Config
from bot.store.base import UserRow

PRACTICES = ["/breathe", "/validate", "/pause", "/repair"]


def next_event(reply: Reply | None, rng: random.Random) -> Event:
    if reply is not None:
        for action in reply.actions:
            if isinstance(action, StartTimer):
                return TimerFired(action.token)
        buttons = [b for a in reply.actions if isinstance(a, Send | Edit) for b in a.buttons]
        if buttons:
            return Press(buttons[0].data)
    return Text(rng.choice(PRACTICES))


async def open_sessions(app: App, users: int, rng: random.Random) -> dict[str, Reply]:
    now = app.coach.clock.now()
    replies: dict[str, Reply] = {}
    for number in range(users):
        user = f"cli:bench-{number}"
        profile = {"consented": True, "onboarded": True, "partner_safe": False}
        await app.store.save(UserRow(user, profile=profile), [], now)
        replies[user] = await app.coach.handle(user, Text(rng.choice(PRACTICES)))
    return replies


async def measure(users: int, events: int) -> None:
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as folder:
        config = Config(db_path=Path(folder) / "bench.db")
        gc.collect()
        tracemalloc.start()
        app = await open_app(config, rng=random.Random(2))
        before = tracemalloc.get_traced_memory()[0]
        replies = await open_sessions(app, users, rng)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        names = list(replies)
        latencies: list[float] = []
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        for _ in range(events):
            user = rng.choice(names)
            event = next_event(replies[user], rng)
            started = time.perf_counter()
            replies[user] = await app.coach.handle(user, event)
            latencies.append(time.perf_counter() - started)
        wall = time.perf_counter() - wall_start
        cpu = time.process_time() - cpu_start
        await app.close()
    report(users, events, wall, cpu, latencies, held)


def report(
    users: int, events: int, wall: float, cpu: float, latencies: list[float], held: int
) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        ("users with open sessions", f"{users:,}"),
        ("events", f"{events:,}"),
        ("events/s (wall)", f"{events / wall:,.0f}"),
        ("CPU per event", f"{cpu / events * 1e6:,.0f} µs"),
        ("p50 per event", f"{cuts[49] * 1e3:.2f} ms"),
        ("p99 per event", f"{cuts[98] * 1e3:.2f} ms"),
        ("Python memory held for the open sessions", f"{held / 2**20:.1f} MiB"),
        ("peak RSS of the process", f"{rss:.0f} MiB"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(measure(args.users, args.events))


if __name__ == "__main__":
    main()
