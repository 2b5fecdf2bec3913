"""``/history`` and the weekly summary: a real PNG of the user's own check-ins and
practices, with a summary that says what the chart shows."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import matplotlib.image
import numpy

from bot.app import App
from bot.clock import ManualClock
from bot.coach.actions import Picture, Reply
from bot.coach.events import Text
from bot.history.chart import ChartLabels, build_figure, chart_series
from bot.history.summary import PracticePoint
from bot.schedule.loop import ScheduleLoop
from bot.schedule.report import Points
from bot.store.base import Record, UserRow
from tests.schedule.conftest import Outbox, drive, subscribe

USER = "cli:ada"
TODAY = date(2026, 2, 10)  # a Tuesday
ZONE = "America/New_York"


def at(day: date, hour: int) -> datetime:
    """``hour`` o'clock New York time on ``day``, in UTC (late evening crosses midnight UTC)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) + timedelta(hours=5)


def history() -> list[Record]:
    """Five evenings of check-ins ending today, breathing on two days, other practices."""
    days = [TODAY - timedelta(days=n) for n in range(4, -1, -1)]
    records = [
        Record("checkin", {"dialogue": "checkin", "closeness": c, "tension": t}, at(day, 21))
        for day, (c, t) in zip(days, [(2, 4), (3, 3), (3, 2), (4, 2), (5, 1)], strict=True)
    ]
    records += [
        Record("checkin_note", {"dialogue": "checkin", "note": "a long walk"}, at(TODAY, 21)),
        Record("breathing", {"dialogue": "breathe", "felt": "better"}, at(days[0], 22)),
        Record("breathing", {"dialogue": "breathe", "felt": "same"}, at(days[2], 22)),
        Record("breathing", {"dialogue": "breathe", "felt": "better"}, at(days[2], 23)),
        Record("pause", {"dialogue": "pause", "heart": "fast"}, at(days[1], 20)),
        Record("routine", {"routine": "appreciation"}, at(days[3], 18)),
        Record("checkin", {"dialogue": "checkin", "closeness": 9, "tension": 1}, at(days[3], 9)),
    ]
    return records


async def prepared(app: App, clock: ManualClock) -> None:
    await clock.set(at(TODAY, 22) + timedelta(minutes=30))
    await subscribe(app, USER, tz=ZONE)
    row = await app.store.load(USER)
    assert row is not None
    await app.store.save(row, history(), clock.now())


def picture(reply: Reply) -> Picture:
    [action] = reply.actions
    assert isinstance(action, Picture)
    return action


def test_records_become_the_points_of_the_users_own_days() -> None:
    points = Points.of(history(), ZoneInfo(ZONE))
    assert [(p.day, p.closeness, p.tension) for p in points.checkins] == [
        (TODAY - timedelta(days=4 - n), c, t)
        for n, (c, t) in enumerate([(2, 4), (3, 3), (3, 2), (4, 2), (5, 1)])
    ], "by New York day, though the evenings are the next day in UTC; a 9 is left out"
    assert PracticePoint(TODAY - timedelta(days=2), "breathe") in points.practices
    assert len([p for p in points.practices if p.kind == "breathe"]) == 2, "one a day"
    assert {p.kind for p in points.practices} == {"breathe", "pause", "appreciation"}


async def test_history_sends_a_chart_png_with_a_summary(app: App, clock: ManualClock) -> None:
    await prepared(app, clock)
    shown = picture(await app.coach.handle(USER, Text("/history 7")))
    image = matplotlib.image.imread(io.BytesIO(shown.png), format="png")
    assert image.shape[:2] == (450, 800)
    lines = shown.caption.splitlines()
    assert lines[0] == "The last 7 days: a check-in on 5 of them. Days in a row, up to today: 5."
    assert lines[1] == "On average, closeness 3.4 and tension 2.4, out of 5."
    assert lines[2] == "The practice you used most: Breathe together."
    assert lines[3] == "After breathing: calmer 2, about the same 1, worse 0."
    assert "/history_90" in lines[-1]
    assert len(shown.caption) <= 1024, "fits a Telegram photo caption"


async def test_the_chart_draws_exactly_the_check_ins_and_marks_the_practices(
    app: App, clock: ManualClock
) -> None:
    await prepared(app, clock)
    points = Points.of(await app.store.records(USER), ZoneInfo(ZONE))
    series = chart_series(points.checkins, points.practices_from(), 30, TODAY)
    figure = build_figure(series, ChartLabels(title="", closeness="c", tension="t", practice="p"))
    drawn = {line.get_gid(): line for ax in figure.axes for line in ax.get_lines()}
    closeness = numpy.asarray(drawn["closeness"].get_ydata(), dtype=float)
    assert closeness[~numpy.isnan(closeness)].tolist() == [2, 3, 3, 4, 5]  # NaN: no check-in
    assert numpy.asarray(drawn["practice:breathe"].get_xdata()).tolist() == [25, 27]
    assert numpy.asarray(drawn["practice:appreciation"].get_xdata()).tolist() == [28]
    assert picture(await app.coach.handle(USER, Text("/history_30"))).png.startswith(b"\x89PNG")


async def test_an_empty_history_still_answers(app: App, clock: ManualClock) -> None:
    await app.store.save(UserRow(USER, profile={"consented": True}), [], clock.now())
    shown = picture(await app.coach.handle(USER, Text("/history")))
    assert shown.caption.startswith("No check-ins in the last 30 days yet.")


async def test_the_weekly_summary_routine_sends_the_weeks_chart(
    app: App, clock: ManualClock
) -> None:
    await prepared(app, clock)
    await subscribe(
        app, USER, routines={"summary": {"on": True, "time": "18:00", "days": "weekly:sun"}}
    )
    outbox = Outbox(clock)
    await drive(app, ScheduleLoop(app.coach, outbox, ""), at(TODAY + timedelta(days=6), 12))
    [(_, when, reply)] = outbox.sent
    assert when.astimezone(ZoneInfo(ZONE)).strftime("%a %H:%M") == "Sun 18:00"
    shown = picture(reply)
    assert shown.caption.startswith("Your week, at a glance.\nThe last 7 days")
