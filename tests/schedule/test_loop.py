"""The scheduler loop, driven by a manual clock over real dialogues and a real SQLite file."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import App
from bot.clock import ManualClock
from bot.coach.actions import Reply
from bot.coach.events import Command, Press, Text
from bot.config import DEFAULT_DIALOGUES
from bot.schedule.loop import Deliver, Lane, ScheduleLoop
from bot.schedule.store import ScheduleStore
from tests.conftest import make_app
from tests.schedule.conftest import Outbox, drive, local, rows, subscribe, subscribe_many

USER = "tg:1"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


# --- daylight saving -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "first"),
    [
        ("Europe/Berlin", date(2026, 3, 27)),
        ("Europe/Berlin", date(2026, 10, 23)),
        ("America/New_York", date(2026, 3, 6)),
        ("America/New_York", date(2026, 10, 30)),
        ("Australia/Sydney", date(2026, 4, 3)),
        ("Australia/Sydney", date(2026, 10, 2)),
    ],
)
async def test_eight_oclock_stays_eight_oclock_across_a_dst_change(
    app: App, loop: ScheduleLoop, outbox: Outbox, clock: ManualClock, zone: str, first: date
) -> None:
    await clock.set(midnight(first, zone) - timedelta(hours=1))
    await subscribe(app, USER, tz=zone, checkin_time="08:00")
    await drive(app, loop, midnight(first + timedelta(days=5), zone))
    sent = [local(at, zone) for at in outbox.times(USER)]
    assert [at.date() for at in sent] == [first + timedelta(days=n) for n in range(5)]
    assert {at.time() for at in sent} == {time(8)}
    assert len({at.utcoffset() for at in sent}) == 2, "the UTC instant moved with the clocks"


@pytest.mark.parametrize(
    ("zone", "at", "first", "expected"),
    [
        # spring forward: 02:30 does not exist on the day; sent once, an hour later
        (
            "Europe/Berlin",
            "02:30",
            date(2026, 3, 28),
            ["03-28 01:30", "03-29 01:30", "03-30 00:30"],
        ),
        (
            "America/New_York",
            "02:30",
            date(2026, 3, 7),
            ["03-07 07:30", "03-08 07:30", "03-09 06:30"],
        ),
        (
            "Australia/Sydney",
            "02:30",
            date(2026, 10, 3),
            ["10-02 16:30", "10-03 16:30", "10-04 15:30"],
        ),
        # fall back: the time happens twice on the day; sent once, at the first
        (
            "Europe/Berlin",
            "02:30",
            date(2026, 10, 24),
            ["10-24 00:30", "10-25 00:30", "10-26 01:30"],
        ),
        (
            "America/New_York",
            "01:30",
            date(2026, 10, 31),
            ["10-31 05:30", "11-01 05:30", "11-02 06:30"],
        ),
        (
            "Australia/Sydney",
            "02:30",
            date(2026, 4, 4),
            ["04-03 15:30", "04-04 15:30", "04-05 16:30"],
        ),
    ],
)
async def test_a_time_missing_or_doubled_on_the_dst_day_is_sent_exactly_once(
    app: App,
    loop: ScheduleLoop,
    outbox: Outbox,
    clock: ManualClock,
    zone: str,
    at: str,
    first: date,
    expected: list[str],
) -> None:
    await clock.set(midnight(first, zone) - timedelta(hours=1))
    await subscribe(app, USER, tz=zone, checkin_time=at)
    await drive(app, loop, midnight(first + timedelta(days=3), zone))
    assert [t.strftime("%m-%d %H:%M") for t in outbox.times(USER)] == expected


# --- restarts ------------------------------------------------------------------------------


async def restarted(db: Path, clock: ManualClock) -> App:
    return await make_app(DEFAULT_DIALOGUES, db, clock)


@pytest.mark.parametrize(
    ("down_until", "sent_at"),
    [
        ("2026-02-02 08:45", ["2026-02-02 08:45", "2026-02-03 07:00"]),  # 1 h 45 late: sent
        ("2026-02-02 09:00", ["2026-02-02 09:00", "2026-02-03 07:00"]),  # 2 h late: still sent
        ("2026-02-02 09:30", ["2026-02-03 07:00"]),  # 2 h 30 late: skipped
    ],
)
async def test_after_a_restart_a_missed_reminder_goes_late_within_two_hours_else_is_skipped(
    tmp_path: Path, clock: ManualClock, down_until: str, sent_at: list[str]
) -> None:
    db = tmp_path / "restart.db"
    await clock.set(utc("2026-02-02 00:00"))
    before = await restarted(db, clock)
    await subscribe(before, USER, tz="Europe/Berlin", checkin_time="08:00")  # 07:00 UTC
    await before.close()
    await clock.set(utc(down_until))
    after = await restarted(db, clock)
    outbox = Outbox(clock)
    await drive(after, ScheduleLoop(after.coach, outbox, ""), utc("2026-02-03 12:00"))
    await after.close()
    assert [t.strftime("%Y-%m-%d %H:%M") for t in outbox.times(USER)] == sent_at


class Killed(BaseException):
    """The process dying mid-way (not an Exception: nothing catches it)."""


def dying_after(count: int, sent: list[str]) -> Deliver:
    async def deliver(user_id: str, reply: Reply, *, lane: Lane) -> None:
        sent.append(user_id)  # on its way to Telegram...
        if len(sent) == count:
            raise Killed  # ...and the process is killed before anything else happens

    return deliver


async def test_a_kill_right_after_sending_never_sends_anything_twice(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = tmp_path / "kill.db"
    await clock.set(utc("2026-02-02 06:59"))
    first = await restarted(db, clock)
    users = [f"tg:{n}" for n in range(5)]
    for user in users:
        await subscribe(first, user, tz="Europe/Berlin", checkin_time="08:00")
    await clock.set(utc("2026-02-02 07:00"))
    sent: list[str] = []
    with pytest.raises(Killed):
        await ScheduleLoop(first.coach, dying_after(2, sent), "", batch=1).dispatch_due()
    second = await restarted(db, clock)  # the new process, on the same file
    outbox = Outbox(clock)
    await ScheduleLoop(second.coach, outbox, "", batch=1).dispatch_due()
    await first.close()
    await second.close()
    everything = sent + [user for user, _, _ in outbox.sent]
    assert Counter(everything) == Counter(users), "each exactly once"


async def test_a_kill_mid_batch_loses_the_rest_of_that_batch_rather_than_duplicating(
    tmp_path: Path, clock: ManualClock
) -> None:
    """At most once: the batch was claimed (committed) before sending, so the reminders
    of the batch not yet sent are lost for today, and none is sent twice."""
    db = tmp_path / "kill.db"
    await clock.set(utc("2026-02-02 06:59"))
    first = await restarted(db, clock)
    users = [f"tg:{n}" for n in range(5)]
    for user in users:
        await subscribe(first, user, tz="Europe/Berlin", checkin_time="08:00")
    await clock.set(utc("2026-02-02 07:00"))
    sent: list[str] = []
    with pytest.raises(Killed):
        await ScheduleLoop(first.coach, dying_after(2, sent), "").dispatch_due()
    second = await restarted(db, clock)
    outbox = Outbox(clock)
    await drive(second, ScheduleLoop(second.coach, outbox, ""), utc("2026-02-03 08:00"))
    await first.close()
    await second.close()
    assert sent == users[:2]
    assert sorted(user for user, _, _ in outbox.sent) == users, "only tomorrow's, once each"
    assert {at for _, at, _ in outbox.sent} == {utc("2026-02-03 07:00")}


# --- snooze, not today, quiet hours, pause -------------------------------------------------


async def press(app: App, user: str, data: str) -> Reply:
    return await app.coach.handle(user, Press(data))


async def test_snooze_sends_the_same_reminder_once_more_an_hour_later(
    app: App, loop: ScheduleLoop, outbox: Outbox, clock: ManualClock
) -> None:
    await clock.set(utc("2026-02-02 12:00"))
    await subscribe(app, USER, tz="Europe/Berlin", checkin_time="20:00")
    await drive(app, loop, utc("2026-02-02 19:05"))
    buttons = outbox.last_buttons(USER)
    assert list(buttons) == ["1", "2", "3", "4", "5", "Snooze 1 h", "Not today"]
    reply = await press(app, USER, buttons["Snooze 1 h"])
    assert "in an hour" in reply.texts()[0]
    await drive(app, loop, utc("2026-02-03 20:00"))
    assert [t.strftime("%d %H:%M") for t in outbox.times(USER)] == [
        "02 19:00",
        "02 20:05",
        "03 19:00",
    ]
    assert outbox.texts(USER)[0] == outbox.texts(USER)[1]


async def test_not_today_cancels_a_snooze_and_waits_for_tomorrow(
    app: App, loop: ScheduleLoop, outbox: Outbox, clock: ManualClock
) -> None:
    await clock.set(utc("2026-02-02 12:00"))
    await subscribe(app, USER, tz="Europe/Berlin", checkin_time="20:00")
    await drive(app, loop, utc("2026-02-02 19:05"))
    await press(app, USER, "z:checkin")
    await clock.set(utc("2026-02-02 19:10"))
    reply = await press(app, USER, outbox.last_buttons(USER)["Not today"])
    assert reply.texts() == ["Okay, not today."]
    await drive(app, loop, utc("2026-02-03 20:00"))
    assert [t.strftime("%d %H:%M") for t in outbox.times(USER)] == ["02 19:00", "03 19:00"]


async def test_quiet_hours_hold_a_reminder_and_a_snooze_until_they_end(
    app: App, loop: ScheduleLoop, outbox: Outbox, clock: ManualClock
) -> None:
    await clock.set(utc("2026-02-02 12:00"))
    await subscribe(app, USER, tz="Europe/Berlin", checkin_time="21:30", quiet_hours="22:00-07:00")
    await drive(app, loop, utc("2026-02-02 20:40"))  # 21:40 in Berlin
    await press(app, USER, "z:checkin")  # an hour later is 22:40: quiet
    await drive(app, loop, utc("2026-02-03 12:00"))
    sent = [local(t, "Europe/Berlin").strftime("%d %H:%M") for t in outbox.times(USER)]
    assert sent == ["02 21:30", "03 07:00"]

    await subscribe(app, USER, checkin_time="23:00")  # inside the window: at its end
    await drive(app, loop, utc("2026-02-05 12:00"))
    sent = [local(t, "Europe/Berlin").strftime("%d %H:%M") for t in outbox.times(USER)]
    assert sent == ["02 21:30", "03 07:00", "04 07:00", "05 07:00"]


async def test_a_pause_skips_the_days_inside_it_and_sends_no_burst_after(
    app: App, loop: ScheduleLoop, outbox: Outbox, clock: ManualClock
) -> None:
    await clock.set(utc("2026-02-02 12:00"))
    await subscribe(app, USER, tz="Europe/Berlin", checkin_time="20:00")
    await press(app, USER, "s:reminder_pause")
    reply = await app.coach.handle(USER, Text("3 days"))
    assert "Paused" in reply.texts()[0]
    await drive(app, loop, utc("2026-02-07 12:00"))
    assert [t.strftime("%d %H:%M") for t in outbox.times(USER)] == ["05 19:00", "06 19:00"]


async def test_resume_ends_a_pause_at_once(
    app: App, loop: ScheduleLoop, outbox: Outbox, clock: ManualClock
) -> None:
    await clock.set(utc("2026-02-02 12:00"))
    await subscribe(
        app,
        USER,
        tz="Europe/Berlin",
        checkin_time="20:00",
        paused_until="2026-03-01T00:00:00+00:00",
    )
    settings = await app.coach.handle(USER, Command("settings"))
    assert "paused until Sun 01 Mar, 01:00" in settings.texts()[0]
    assert (await press(app, USER, "y:resume")).texts() == ["Reminders are back on."]
    await drive(app, loop, utc("2026-02-03 12:00"))
    assert [t.strftime("%d %H:%M") for t in outbox.times(USER)] == ["02 19:00"]


# --- many, blocked, busy, scope, the running loop ------------------------------------------


async def test_ten_thousand_due_in_the_same_minute_are_each_sent_exactly_once(
    app: App, loop: ScheduleLoop, outbox: Outbox, clock: ManualClock
) -> None:
    await clock.set(utc("2026-02-02 12:00"))
    zones = {"Europe/Berlin": "20:00", "Europe/London": "19:00", "Africa/Lagos": "20:00"}
    users: list[str] = []
    for n, (zone, at) in enumerate(zones.items()):
        group = [f"tg:{n}{i:05}" for i in range(n, 10_000, len(zones))]
        users += group
        await subscribe_many(app, group, tz=zone, checkin_time=at)
    await clock.set(utc("2026-02-02 19:00:30"))
    assert await loop.dispatch_due() == 10_000
    assert await loop.dispatch_due() == 0
    assert Counter(user for user, _, _ in outbox.sent) == Counter(users)
    cursor = await app.store.connection.execute("SELECT DISTINCT next_due FROM subscriptions")
    assert list(await cursor.fetchall()) == [("2026-02-03T19:00:00+00:00",)]


async def test_a_user_who_blocked_the_bot_gets_nothing_until_they_write_again(
    app: App, loop: ScheduleLoop, outbox: Outbox, clock: ManualClock
) -> None:
    await clock.set(utc("2026-02-02 12:00"))
    await subscribe(app, USER, tz="Europe/Berlin", checkin_time="20:00")
    await app.store.set_active(USER, False)  # what the Telegram door does on a 403
    await drive(app, loop, utc("2026-02-04 12:00"))
    assert outbox.times(USER) == []
    assert (await rows(app, USER))["checkin"]["next_due"] == "2026-02-04T19:00:00+00:00"
    await app.coach.handle(USER, Text("hello again"))
    await drive(app, loop, utc("2026-02-05 12:00"))
    assert [t.strftime("%d %H:%M") for t in outbox.times(USER)] == ["04 19:00"]


async def test_a_reminder_waits_for_a_timed_practice_to_end_and_never_interrupts_it(
    app: App, loop: ScheduleLoop, outbox: Outbox, clock: ManualClock
) -> None:
    await clock.set(utc("2026-02-02 12:00"))
    await subscribe(app, USER, tz="Europe/Berlin", checkin_time="20:00")
    await clock.set(utc("2026-02-02 18:59:58"))
    await app.coach.handle(USER, Text("/breathe"))
    await app.coach.handle(USER, Text("Start"))  # the pacer's first step: 5 s
    await drive(app, loop, utc("2026-02-02 19:01"))
    assert outbox.times(USER) == []
    row = await app.store.load(USER)
    assert row is not None and row.session["frames"][0]["dialogue"] == "breathe", "not abandoned"
    await app.coach.handle(USER, Text("/stop"))
    await drive(app, loop, utc("2026-02-02 19:10"))
    assert [t.strftime("%H:%M:%S") for t in outbox.times(USER)] == ["19:02:03"]


async def test_a_loop_sends_only_to_the_users_of_its_scope(
    app: App, outbox: Outbox, clock: ManualClock
) -> None:
    await clock.set(utc("2026-02-02 12:00"))
    for user in ("tg:1", "cli:ann", "cli:bob"):
        await subscribe(app, user, tz="UTC", checkin_time="13:00")
    await clock.set(utc("2026-02-02 13:00"))
    await ScheduleLoop(app.coach, outbox, "cli:ann").dispatch_due()
    await ScheduleLoop(app.coach, outbox, "tg:").dispatch_due()
    assert [user for user, _, _ in outbox.sent] == ["cli:ann", "tg:1"]


class WatchedClock(ManualClock):
    """A manual clock that tells the test when the loop has gone back to sleep on it, so
    each step is taken only once the loop is idle (no real time is waited on)."""

    def __init__(self) -> None:
        super().__init__()
        self.naps = 0
        self._napping = asyncio.Event()

    async def sleep_until(self, when: datetime) -> None:
        self.naps += 1
        self._napping.set()
        await super().sleep_until(when)

    async def nap(self, count: int) -> None:
        """Until the ``count``-th sleep has begun."""
        while self.naps < count:
            self._napping.clear()
            await asyncio.wait_for(self._napping.wait(), timeout=10)

    async def step(self, seconds: float) -> None:
        """Move on, then wait for the loop to be asleep again."""
        naps = self.naps
        await self.advance(seconds)
        await self.nap(naps + 1)


async def test_the_running_loop_sleeps_until_due_and_wakes_when_poked(tmp_path: Path) -> None:
    clock = WatchedClock()
    await clock.set(utc("2026-02-02 12:00"))
    app = await make_app(DEFAULT_DIALOGUES, tmp_path / "run.db", clock)
    outbox = Outbox(clock)
    loop = ScheduleLoop(app.coach, outbox, "")
    await subscribe(app, "tg:late", tz="UTC", checkin_time="18:00")
    task = asyncio.create_task(loop.run())
    try:
        await clock.nap(1)
        await subscribe(app, "tg:early", tz="UTC", checkin_time="12:30")
        loop.poke()
        await clock.nap(2)
        for _ in range(6 * 60 + 1):  # minute by minute, as a real clock moves
            await clock.step(60)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await app.close()
    assert [(u, t.strftime("%H:%M")) for u, t, _ in outbox.sent] == [
        ("tg:early", "12:30"),
        ("tg:late", "18:00"),
    ]


async def test_the_next_due_instant_is_what_the_loop_sleeps_on(
    app: App, clock: ManualClock
) -> None:
    await clock.set(utc("2026-02-02 12:00"))
    store = ScheduleStore(app.store)
    assert await store.next_due("") is None
    await subscribe(app, USER, tz="Asia/Kolkata", checkin_time="20:00")
    assert await store.next_due("") == utc("2026-02-02 14:30")
    assert await store.next_due("cli:") is None


async def test_claims_and_many_users_saving_at_once_take_turns_on_the_one_connection(
    app: App, loop: ScheduleLoop, outbox: Outbox, clock: ManualClock
) -> None:
    """Saves with a hook and the loop's claims are transactions on one shared connection:
    run together they must queue, not fail with "a transaction within a transaction"."""
    await clock.set(utc("2026-02-02 12:00"))
    await subscribe_many(app, [f"tg:{n}" for n in range(200)], tz="UTC", checkin_time="12:00")
    await clock.set(utc("2026-02-03 12:00"))
    savers = [subscribe(app, f"tg:new{n}", tz="UTC", checkin_time="13:00") for n in range(50)]
    results = await asyncio.gather(loop.dispatch_due(), *savers, return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert results[0] == 200
    assert len(await rows(app, "tg:new7")) == 1


async def test_a_loop_cancelled_just_as_a_poke_wakes_it_still_stops(tmp_path: Path) -> None:
    """A cancel that lands while the loop tidies up after waking must not be lost (the
    terminal would hang at the end of its input). Tried at each step of the tidying."""
    clock = WatchedClock()
    app = await make_app(DEFAULT_DIALOGUES, tmp_path / "stop.db", clock)
    try:
        for steps in range(8):
            loop = ScheduleLoop(app.coach, Outbox(clock), "")
            task = asyncio.create_task(loop.run())
            await clock.nap(clock.naps + 1)
            loop.poke()
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
    finally:
        await app.close()
