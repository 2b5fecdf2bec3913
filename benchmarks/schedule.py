"""Benchmark: a check-in due for 100,000 users in the same minute.

    .venv/bin/python -m benchmarks.schedule [--users 100000] [--batch 100]

Drives the real :class:`~bot.schedule.loop.ScheduleLoop`, coach, dialogues and SQLite
store (a temporary file). The users are written straight into the database with their
profile and, through :meth:`ScheduleStore.sync` (what the save hook runs), their
subscription row; their zones differ (Berlin 20:00, London 19:00, Lagos 20:00, UTC
19:00) but all fall on the same UTC minute. Three fan-outs, on three days:

1. **unlimited**: ``deliver`` only counts. CPU time (process, all threads) and wall time
   per dispatched message: claim, coach turn, commit, deliver.
2. **30 msg/s**: a model of Telegram's outgoing side (:class:`SimOutbox`): a reply lane
   served before a bounded scheduled lane, one message per 1/30 s for the whole bot, on
   a simulated clock. Meanwhile other users talk to the coach (Poisson arrivals, one a
   second on average); each reply's delay is its wait for a sending slot (simulated
   time) plus the real time the coach took to answer it while the loop was running
   flat out (measured), reported apart and summed.
3. **memory**: the unlimited fan-out again under ``tracemalloc``; with the process's
   resident set size (RSS) after the users were stored and at its peak.

The simulated clock is discrete-event time (:class:`SimClock`): it stands still while
anything computes, and when every actor (the loop, the outbox, the arrivals, each
answer in progress) waits, it jumps to the earliest instant one of them waits for. So
the sending model is exact, and CPU work is charged in real time, separately.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import heapq
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import App, open_app
from bot.coach.actions import Document, Edit, Picture, Reply, Send
from bot.coach.events import Command, Event, Text
from bot.config import DEFAULT_DIALOGUES, Config
from bot.schedule.catalogue import ROUTINES_FILE, load_routines
from bot.schedule.choices import wanted
from bot.schedule.loop import Lane, ScheduleLoop
from bot.schedule.store import ScheduleStore

DAY_ONE = datetime(2026, 2, 2, 19, 0, tzinfo=UTC)  # a Monday; 19:00 UTC is 20:00 in Berlin
ZONES = (("Europe/Berlin", "20:00"), ("Europe/London", "19:00"), ("Africa/Lagos", "20:00"),
         ("UTC", "19:00"))  # fmt: skip
RATE = 30.0
LANE_CAPACITY = 100
TALKERS = 1_000
TALK_RATE = 1.0  # arrivals per simulated second
TALK = (Text("/menu"), Text("I'm so angry, can't calm down"), Command("breathe"), Text("/help"))
CHUNK = 5_000


# --- simulated time -----------------------------------------------------------------------------


class SimClock:
    """Discrete-event time (see the module docstring). ``running`` counts the actors not
    waiting; a waker counts the actor it wakes, so time never jumps past a woken actor
    that has not run yet."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.running = 0
        self._idle = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Between runs only."""
        self._now = when

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._order), future))
        self.block()
        try:
            await future
        except asyncio.CancelledError:
            if future.cancelled():  # cancelled while asleep: nobody counted the wake
                self.unblock()
            raise

    def block(self) -> None:
        self.running -= 1
        if self.running == 0:
            self._idle.set()

    def unblock(self) -> None:
        self.running += 1

    async def drive(self) -> None:
        """Whenever every actor waits, jump to the earliest sleeper and wake all due."""
        while True:
            await self._idle.wait()
            self._idle.clear()
            self._sleepers = [s for s in self._sleepers if not s[2].cancelled()]
            heapq.heapify(self._sleepers)
            if self.running or not self._sleepers:
                continue
            self._now = max(self._now, self._sleepers[0][0])
            while self._sleepers and self._sleepers[0][0] <= self._now:
                future = heapq.heappop(self._sleepers)[2]
                if not future.done():
                    self.unblock()
                    future.set_result(None)


# --- the outgoing side ------------------------------------------------------------------------


@dataclass
class Message:
    user_id: str
    lane: Lane
    arrived: datetime | None = None  # replies: when the user's message came in
    processing: float = 0.0  # replies: real seconds the coach took to answer


@dataclass
class SimOutbox:
    """Replies ahead of scheduled sends, ``rate`` messages a second for the whole bot;
    the scheduled lane holds ``capacity`` messages and ``deliver`` waits while it is full
    (which paces the loop to the sending rate)."""

    clock: SimClock
    rate: float
    capacity: int = LANE_CAPACITY
    replies: deque[Message] = field(default_factory=deque)
    scheduled: deque[Message] = field(default_factory=deque)
    sent_scheduled: int = 0
    delays: list[float] = field(default_factory=list)
    processing: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)
    _last: datetime | None = None
    _worker_waiting: bool = False
    _work: asyncio.Event = field(default_factory=asyncio.Event)
    _loop_waiting: bool = False
    _space: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    async def deliver(self, user_id: str, reply: Reply, *, lane: Lane) -> None:
        """The loop's way out: waits while the scheduled lane is full."""
        while len(self.scheduled) >= self.capacity:
            self._space.clear()
            self._loop_waiting = True
            self.clock.block()
            await self._space.wait()  # the outbox counted us as running again
        self._put([Message(user_id, lane) for _ in range(_messages(reply))], self.scheduled)

    def answer(self, user_id: str, reply: Reply, arrived: datetime, processing: float) -> None:
        """An interactive reply, into the reply lane (the first message carries its times)."""
        count = _messages(reply)
        first = Message(user_id, "reply", arrived, processing)
        self._put([first, *(Message(user_id, "reply") for _ in range(count - 1))], self.replies)

    def _put(self, messages: list[Message], lane: deque[Message]) -> None:
        lane.extend(messages)
        if self._worker_waiting:
            self._worker_waiting = False
            self.clock.unblock()
            self._work.set()

    async def run(self) -> None:
        gap = timedelta(seconds=1 / self.rate)
        while True:
            if not (self.replies or self.scheduled):
                self._work.clear()
                self._worker_waiting = True
                self.clock.block()
                await self._work.wait()
                continue
            slot = (
                self.clock.now() if self._last is None else max(self.clock.now(), self._last + gap)
            )
            await self.clock.sleep_until(slot)
            self._send(self.replies.popleft() if self.replies else self.scheduled.popleft())

    def _send(self, message: Message) -> None:
        self._last = now = self.clock.now()
        if message.lane == "scheduled":
            self.sent_scheduled += 1
            if self._loop_waiting:
                self._loop_waiting = False
                self.clock.unblock()
                self._space.set()
            if self.sent_scheduled == self.expected:
                self.done.set()
        elif message.arrived is not None:
            delay = (now - message.arrived).total_seconds()
            self.delays.append(delay)
            self.processing.append(message.processing)
            self.totals.append(delay + message.processing)


def _messages(reply: Reply) -> int:
    return sum(isinstance(a, Send | Edit | Picture | Document) for a in reply.actions)


# --- the runs ------------------------------------------------------------------------------------


@dataclass
class Counter:
    """``deliver`` for the unlimited runs: counts, sends nothing."""

    sent: int = 0

    async def __call__(self, user_id: str, reply: Reply, *, lane: Lane) -> None:
        self.sent += 1


async def populate(app: App, users: int) -> float:
    """Store ``users`` subscribers and their rows; returns the seconds it took."""
    started = time.perf_counter()
    routines = load_routines(app.config.dialogues / ROUTINES_FILE)
    store = ScheduleStore(app.store)
    now = app.coach.clock.now()
    stamp = now.isoformat()
    for first in range(0, users, CHUNK):
        async with app.store.transaction():
            batch = []
            for n in range(first, min(first + CHUNK, users)):
                zone, at = ZONES[n % len(ZONES)]
                profile = {"consented": True, "onboarded": True, "tz": zone, "checkin_time": at}
                batch.append((f"tg:{n}", profile))
            await app.store.connection.executemany(
                "INSERT INTO users (id, profile, created_at, updated_at) VALUES (?, ?, ?, ?)",
                [(user, _dump(profile), stamp, stamp) for user, profile in batch],
            )
            for user, profile in batch:
                await store.sync(user, wanted(profile, routines), now)
    talkers = [
        (f"tg:talk{n}", _dump({"consented": True, "onboarded": True})) for n in range(TALKERS)
    ]
    async with app.store.transaction():
        await app.store.connection.executemany(
            "INSERT INTO users (id, profile, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [(user, profile, stamp, stamp) for user, profile in talkers],
        )
    return time.perf_counter() - started


async def unlimited(app: App, clock: SimClock, due: datetime, batch: int) -> dict[str, float]:
    """Fan-out 1 (and 3): everything due at ``due``, as fast as it goes."""
    clock.set(due + timedelta(seconds=30))
    counter = Counter()
    loop = ScheduleLoop(app.coach, counter, "tg:", batch=batch)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    await loop.dispatch_due()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"sent": counter.sent, "wall": wall, "cpu": cpu}


async def limited(app: App, clock: SimClock, due: datetime, users: int, batch: int) -> SimOutbox:
    """Fan-out 2: at 30 messages/s, with people talking to the coach meanwhile."""
    clock.set(due + timedelta(seconds=30))
    outbox = SimOutbox(clock, RATE, expected=users)
    loop = ScheduleLoop(app.coach, outbox.deliver, "tg:", batch=batch)
    rng = random.Random(7)
    span = users / RATE
    arrivals: list[float] = list(
        itertools.accumulate(rng.expovariate(TALK_RATE) for _ in range(int(span * TALK_RATE)))
    )
    answering: set[asyncio.Task[None]] = set()

    async def answer(user: str, event: Event, arrived: datetime) -> None:
        try:
            started = time.perf_counter()
            reply = await app.coach.handle(user, event)
            outbox.answer(user, reply, arrived, time.perf_counter() - started)
        finally:
            clock.block()

    async def talk() -> None:
        start = clock.now()
        for n, offset in enumerate(arrivals):
            if offset >= span:
                break
            await clock.sleep_until(start + timedelta(seconds=offset))
            clock.unblock()
            user, event = f"tg:talk{n % TALKERS}", TALK[n % len(TALK)]
            task = asyncio.create_task(answer(user, event, clock.now()))
            answering.add(task)
            task.add_done_callback(answering.discard)
        clock.block()
        await asyncio.Event().wait()

    clock.running = 3  # the loop, the outbox and the arrivals start out running
    tasks = [asyncio.create_task(c) for c in (loop.run(), outbox.run(), talk(), clock.drive())]
    await outbox.done.wait()
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await asyncio.gather(*answering, return_exceptions=True)
    return outbox


async def traced(app: App, clock: SimClock, due: datetime, batch: int) -> tuple[float, float]:
    """Fan-out 3 under tracemalloc: what Python allocated during it, at the end and at
    its peak (in MiB): memory the fan-out holds, not the process's baseline."""
    gc.collect()
    tracemalloc.start()
    try:
        await unlimited(app, clock, due, batch)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return current / 2**20, peak / 2**20


# --- reporting -------------------------------------------------------------------------------


def reset_peak_rss() -> None:
    """Start the peak RSS afresh (Linux: writing 5 to ``clear_refs`` resets VmHWM), so
    the peak read after a run is that run's and not start-up's."""
    Path("/proc/self/clear_refs").write_text("5")


def rss() -> tuple[float, float]:
    """Resident set size now and at its peak since :func:`reset_peak_rss`, in MiB."""
    fields = dict(
        line.split(":", 1)
        for line in Path("/proc/self/status").read_text().splitlines()
        if ":" in line
    )
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def percentiles(values: Sequence[float]) -> tuple[float, float, float]:
    """p50, p99 and max."""
    ordered = sorted(values)
    return (
        statistics.median(ordered),
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        ordered[-1],
    )


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


async def main(users: int, batch: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        clock = SimClock(DAY_ONE - timedelta(hours=12))
        app = await open_app(Config(db_path=db, dialogues=DEFAULT_DIALOGUES), clock=clock)
        try:
            await run(app, clock, db, users, batch)
        finally:
            await app.close()


async def run(app: App, clock: SimClock, db: Path, users: int, batch: int) -> None:
    """The three fan-outs, then the table."""
    setup = await populate(app, users)
    gc.collect()
    after_setup, _ = rss()
    reset_peak_rss()
    size = db.stat().st_size / 2**20  # noqa: ASYNC240 - once, between measurements
    print(f"{users:,} subscriptions stored in {setup:.1f} s; database file {size:.0f} MiB")
    one = await unlimited(app, clock, DAY_ONE, batch)
    _, peak = rss()
    two = await limited(app, clock, DAY_ONE + timedelta(days=1), users, batch)
    kept, traced_peak = await traced(app, clock, DAY_ONE + timedelta(days=2), batch)
    per = 1e3 / max(one["sent"], 1)
    delay, processing, total = (percentiles(v) for v in (two.delays, two.processing, two.totals))
    rows: list[tuple[str, str]] = [
        ("fan-out, unlimited rate", f"{one['sent']:,} sent in {one['wall']:.1f} s wall"),
        (
            "  CPU per dispatched message",
            f"{one['cpu'] * per:.3f} ms (wall {one['wall'] * per:.3f} ms)",
        ),
        ("memory: RSS after storing the users", f"{after_setup:.0f} MiB"),
        ("memory: RSS peak during the fan-out", f"{peak:.0f} MiB"),
        (
            "memory: allocated in a fan-out, peak / kept",
            f"{traced_peak:.1f} / {kept:.1f} MiB (tracemalloc)",
        ),
        (
            "fan-out at 30 msg/s (simulated)",
            f"{two.sent_scheduled:,} sent, {two.sent_scheduled / RATE / 60:.0f} min",
        ),
        ("  interactive replies during it", f"{len(two.delays):,}"),
        ("  wait for a send slot  p50 / p99 / max", _ms(delay)),
        ("  coach's answer (real) p50 / p99 / max", _ms(processing)),
        ("  reply delay, both     p50 / p99 / max", _ms(total)),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def _ms(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v * 1e3:.1f}" for v in values) + " ms"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100, help="rows claimed per transaction")
    args = parser.parse_args()
    asyncio.run(main(args.users, args.batch))
