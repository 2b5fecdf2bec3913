"""Recurrence, DST, quiet hours, pause and catch-up rules (bot.schedule.recurrence).

Every DST date below was checked against zoneinfo itself (see test_dst_dates_are_real):
Europe/Berlin 2026-03-29 02:00->03:00 and 2026-10-25 03:00->02:00; America/New_York
2026-03-08 02:00->03:00 and 2026-11-01 02:00->01:00; Australia/Sydney 2026-04-05
03:00->02:00 (autumn) and 2026-10-04 02:00->03:00 (spring).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.schedule import (
    QuietHours,
    Recurrence,
    apply_pause,
    apply_quiet_hours,
    catch_up,
    format_days,
    local_to_utc,
    next_due,
    next_send,
    parse_days,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    tz: ZoneInfo,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    """The UTC instant of a local wall time (fold picks the occurrence of a repeated one).

    Converted to UTC because Python never calls an inter-zone pair equal when one side
    is a repeated wall time (PEP 495), so tests compare UTC with UTC.
    """
    return datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold).astimezone(UTC)


def series(rec: Recurrence, tz: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    """``count`` consecutive results of next_due, each fed back in."""
    out = []
    for _ in range(count):
        after = next_due(rec, tz, after)
        out.append(after)
    return out


# --- the DST calendar the assertions rely on -------------------------------------------


@pytest.mark.parametrize(
    ("tz", "instant", "before", "after"),
    [
        (BERLIN, utc(2026, 3, 29, 1), 1, 2),
        (BERLIN, utc(2026, 10, 25, 1), 2, 1),
        (NEW_YORK, utc(2026, 3, 8, 7), -5, -4),
        (NEW_YORK, utc(2026, 11, 1, 6), -4, -5),
        (SYDNEY, utc(2026, 4, 4, 16), 11, 10),
        (SYDNEY, utc(2026, 10, 3, 16), 10, 11),
    ],
)
def test_dst_dates_are_real(tz: ZoneInfo, instant: datetime, before: int, after: int) -> None:
    second = timedelta(seconds=1)
    assert (instant - second).astimezone(tz).utcoffset() == timedelta(hours=before)
    assert instant.astimezone(tz).utcoffset() == timedelta(hours=after)


# --- 08:00 daily stays 08:00 local across every transition -------------------------------


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        # Berlin spring forward: CET (+1) then CEST (+2)
        (BERLIN, utc(2026, 3, 27, 12), [utc(2026, 3, 28, 7), utc(2026, 3, 29, 6)]),
        # Berlin fall back: CEST then CET
        (BERLIN, utc(2026, 10, 24, 0), [utc(2026, 10, 24, 6), utc(2026, 10, 25, 7)]),
        # New York spring forward: EST (-5) then EDT (-4)
        (NEW_YORK, utc(2026, 3, 7, 0), [utc(2026, 3, 7, 13), utc(2026, 3, 8, 12)]),
        # New York fall back: EDT then EST
        (NEW_YORK, utc(2026, 10, 31, 0), [utc(2026, 10, 31, 12), utc(2026, 11, 1, 13)]),
        # Sydney autumn (April): AEDT (+11) then AEST (+10)
        (SYDNEY, utc(2026, 4, 3, 12), [utc(2026, 4, 3, 21), utc(2026, 4, 4, 22)]),
        # Sydney spring (October): AEST then AEDT
        (SYDNEY, utc(2026, 10, 2, 12), [utc(2026, 10, 2, 22), utc(2026, 10, 3, 21)]),
    ],
)
def test_daily_0800_stays_0800_local(
    tz: ZoneInfo, start: datetime, expected: list[datetime]
) -> None:
    got = series(Recurrence.daily(time(8)), tz, start, len(expected))
    assert got == expected
    assert all(instant.tzinfo is UTC for instant in got)
    assert [instant.astimezone(tz).time() for instant in got] == [time(8)] * len(expected)


# --- nonexistent and repeated wall times -----------------------------------------------


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        # 02:30 does not exist on 2026-03-29 in Berlin: sent once at 03:30 CEST.
        (
            BERLIN,
            utc(2026, 3, 27, 12),
            [
                local(BERLIN, 2026, 3, 28, 2, 30),
                local(BERLIN, 2026, 3, 29, 3, 30),
                local(BERLIN, 2026, 3, 30, 2, 30),
            ],
        ),
        (
            NEW_YORK,
            utc(2026, 3, 7, 12),
            [
                local(NEW_YORK, 2026, 3, 8, 3, 30),
                local(NEW_YORK, 2026, 3, 9, 2, 30),
            ],
        ),
        (
            SYDNEY,
            utc(2026, 10, 2, 12),
            [
                local(SYDNEY, 2026, 10, 3, 2, 30),
                local(SYDNEY, 2026, 10, 4, 3, 30),
                local(SYDNEY, 2026, 10, 5, 2, 30),
            ],
        ),
    ],
)
def test_time_in_spring_gap_moves_forward_by_gap(
    tz: ZoneInfo, start: datetime, expected: list[datetime]
) -> None:
    assert series(Recurrence.daily(time(2, 30)), tz, start, len(expected)) == expected


def test_berlin_gap_instants_exact() -> None:
    rec = Recurrence.daily(time(2, 30))
    assert next_due(rec, BERLIN, utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1, 30)
    assert local_to_utc(date(2026, 3, 29), time(2, 30), BERLIN) == utc(2026, 3, 29, 1, 30)


@pytest.mark.parametrize(
    ("tz", "at", "day", "first", "next_day"),
    [
        # Berlin 2026-10-25: 02:30 happens at 00:30Z (CEST) and 01:30Z (CET).
        (
            BERLIN,
            time(2, 30),
            date(2026, 10, 25),
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 26, 1, 30),
        ),
        # New York 2026-11-01: 01:30 happens at 05:30Z (EDT) and 06:30Z (EST).
        (
            NEW_YORK,
            time(1, 30),
            date(2026, 11, 1),
            utc(2026, 11, 1, 5, 30),
            utc(2026, 11, 2, 6, 30),
        ),
        # Sydney 2026-04-05: 02:30 happens at 15:30Z (AEDT) and 16:30Z (AEST) the day before.
        (SYDNEY, time(2, 30), date(2026, 4, 5), utc(2026, 4, 4, 15, 30), utc(2026, 4, 5, 16, 30)),
    ],
)
def test_repeated_time_sent_once_at_first_occurrence(
    tz: ZoneInfo, at: time, day: date, first: datetime, next_day: datetime
) -> None:
    rec = Recurrence.daily(at)
    day_before = local_to_utc(day - timedelta(days=1), at, tz)
    assert next_due(rec, tz, day_before) == first
    # After the first occurrence, the second one (an hour later) is skipped.
    assert next_due(rec, tz, first) == next_day
    second = local_to_utc(day, at, tz, fold=1)
    assert second - first == timedelta(hours=1)
    assert next_due(rec, tz, first + timedelta(minutes=59)) == next_day


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK, SYDNEY, ZoneInfo("UTC")])
@pytest.mark.parametrize(
    "at", [time(0), time(1, 30), time(2), time(2, 30), time(3), time(8), time(23, 59)]
)
def test_one_send_per_day_for_a_whole_year(tz: ZoneInfo, at: time) -> None:
    rec = Recurrence.daily(at)
    start = local_to_utc(date(2025, 12, 31), at, tz)  # strictly after: 1 January first
    got = series(rec, tz, start, 365)
    assert all(a < b for a, b in itertools.pairwise(got))
    days = [instant.astimezone(tz).date() for instant in got]
    assert days == [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    for instant in got:
        wall = instant.astimezone(tz)
        shifted = wall.replace(tzinfo=None) - datetime.combine(wall.date(), at)
        assert shifted in (timedelta(0), timedelta(hours=1))  # +1 h only on a gap day


def test_strictly_after_and_consecutive_calls_never_repeat() -> None:
    rec = Recurrence.daily(time(8))
    first = next_due(rec, BERLIN, utc(2026, 5, 1, 5))
    assert first == utc(2026, 5, 1, 6)
    assert next_due(rec, BERLIN, first) == utc(2026, 5, 2, 6)
    assert next_due(rec, BERLIN, first - timedelta(microseconds=1)) == first


def test_accepts_any_aware_input_and_rejects_naive() -> None:
    rec = Recurrence.daily(time(8))
    in_tokyo = datetime(2026, 5, 1, 14, tzinfo=ZoneInfo("Asia/Tokyo"))  # 05:00Z
    assert next_due(rec, BERLIN, in_tokyo) == utc(2026, 5, 1, 6)
    with pytest.raises(ValueError, match="aware"):
        next_due(rec, BERLIN, datetime(2026, 5, 1, 5))


# --- weekly and weekdays ------------------------------------------------------------------


def test_weekly_on_sunday_across_spring_forward() -> None:
    rec = Recurrence.parse("weekly:sun", time(8))
    wednesday = utc(2026, 3, 25, 12)
    assert series(rec, BERLIN, wednesday, 3) == [
        utc(2026, 3, 29, 6),  # 08:00 CEST, the day clocks change
        utc(2026, 4, 5, 6),
        utc(2026, 4, 12, 6),
    ]


def test_weekly_same_day_later_and_earlier_time() -> None:
    rec = Recurrence.weekly(2, time(19))  # Wednesdays 19:00
    assert next_due(rec, BERLIN, local(BERLIN, 2026, 3, 25, 18)) == local(BERLIN, 2026, 3, 25, 19)
    assert next_due(rec, BERLIN, local(BERLIN, 2026, 3, 25, 19)) == local(BERLIN, 2026, 4, 1, 19)


def test_weekdays_skip_the_weekend() -> None:
    rec = Recurrence.weekdays(time(8))
    friday_send = local(BERLIN, 2026, 3, 27, 8)
    got = series(rec, BERLIN, friday_send - timedelta(hours=1), 3)
    assert got == [
        friday_send,
        local(BERLIN, 2026, 3, 30, 8),  # Monday, after the DST weekend
        local(BERLIN, 2026, 3, 31, 8),
    ]


def test_day_list_in_new_york() -> None:
    rec = Recurrence.parse("mon,wed,fri", time(21, 15))
    got = series(rec, NEW_YORK, utc(2026, 3, 5, 0), 4)  # Wed evening local
    assert [g.astimezone(NEW_YORK).strftime("%a %H:%M") for g in got] == [
        "Wed 21:15",
        "Fri 21:15",
        "Mon 21:15",
        "Wed 21:15",
    ]
    assert got[2] == utc(2026, 3, 10, 1, 15)  # Monday 9 March is EDT


# --- specs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "days"),
    [
        ("daily", {0, 1, 2, 3, 4, 5, 6}),
        ("weekdays", {0, 1, 2, 3, 4}),
        ("weekends", {5, 6}),
        ("weekly:sun", {6}),
        ("Weekly: Mon", {0}),
        ("mon,wed,fri", {0, 2, 4}),
        ("Mon, Wed, Fri", {0, 2, 4}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("tuesday,thu", {1, 3}),
        ("sat", {5}),
    ],
)
def test_parse_days(spec: str, days: set[int]) -> None:
    assert parse_days(spec) == frozenset(days)


@pytest.mark.parametrize("spec", ["", "funday", "weekly:", "weekly:mon,tue", "mon,,fri", "1,2"])
def test_parse_days_rejects(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_days(spec)


@pytest.mark.parametrize(
    "days",
    [{0, 1, 2, 3, 4, 5, 6}, {0, 1, 2, 3, 4}, {5, 6}, {6}, {0, 2, 4}, {1, 5}],
)
def test_spec_round_trip(days: set[int]) -> None:
    rec = Recurrence(time(7, 45), frozenset(days))
    assert Recurrence.parse(rec.spec, rec.local_time) == rec
    assert parse_days(format_days(rec.days)) == rec.days


def test_recurrence_validates() -> None:
    with pytest.raises(ValueError):
        Recurrence(time(8), frozenset())
    with pytest.raises(ValueError):
        Recurrence(time(8), frozenset({7}))
    with pytest.raises(ValueError):
        Recurrence(time(8, tzinfo=UTC), frozenset({1}))


# --- quiet hours -----------------------------------------------------------------------

NIGHT = (time(22), time(7))


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (local(BERLIN, 2026, 5, 4, 23), local(BERLIN, 2026, 5, 5, 7)),  # evening -> tomorrow
        (local(BERLIN, 2026, 5, 4, 3), local(BERLIN, 2026, 5, 4, 7)),  # small hours -> today
        (local(BERLIN, 2026, 5, 4, 22), local(BERLIN, 2026, 5, 5, 7)),  # start is inside
        (local(BERLIN, 2026, 5, 4, 7), local(BERLIN, 2026, 5, 4, 7)),  # end is outside
        (local(BERLIN, 2026, 5, 4, 21, 59), local(BERLIN, 2026, 5, 4, 21, 59)),
        (local(BERLIN, 2026, 5, 4, 12), local(BERLIN, 2026, 5, 4, 12)),
        # across spring forward: released at 07:00 CEST
        (local(BERLIN, 2026, 3, 28, 23), utc(2026, 3, 29, 5)),
        # across fall back: released at 07:00 CET
        (local(BERLIN, 2026, 10, 24, 23), utc(2026, 10, 25, 6)),
    ],
)
def test_quiet_hours_wrapping_midnight(due: datetime, expected: datetime) -> None:
    moved = apply_quiet_hours(due, BERLIN, *NIGHT)
    assert moved == expected
    assert moved.tzinfo is UTC


def test_quiet_hours_new_york_fall_back() -> None:
    due = local(NEW_YORK, 2026, 10, 31, 23)  # EDT
    assert apply_quiet_hours(due, NEW_YORK, *NIGHT) == utc(2026, 11, 1, 12)  # 07:00 EST


def test_quiet_hours_daytime_window_and_empty_window() -> None:
    lunch = (time(13), time(14))
    assert apply_quiet_hours(local(SYDNEY, 2026, 5, 4, 13, 30), SYDNEY, *lunch) == local(
        SYDNEY, 2026, 5, 4, 14
    )
    assert apply_quiet_hours(local(SYDNEY, 2026, 5, 4, 14), SYDNEY, *lunch) == local(
        SYDNEY, 2026, 5, 4, 14
    )
    due = local(SYDNEY, 2026, 5, 4, 3)
    assert apply_quiet_hours(due, SYDNEY, time(7), time(7)) == due


def test_quiet_end_repeated_by_fall_back_never_moves_backwards() -> None:
    # Window 01:00-02:30 on Berlin's fall-back night; due at the *second* 02:15 (CET).
    due = local(BERLIN, 2026, 10, 25, 2, 15, fold=1)
    assert due == utc(2026, 10, 25, 1, 15)
    assert apply_quiet_hours(due, BERLIN, time(1), time(2, 30)) == utc(2026, 10, 25, 1, 30)
    # Due at the first 02:15 (CEST): released at the first 02:30.
    first = local(BERLIN, 2026, 10, 25, 2, 15)
    assert apply_quiet_hours(first, BERLIN, time(1), time(2, 30)) == utc(2026, 10, 25, 0, 30)


def test_quiet_hours_contains() -> None:
    night = QuietHours(*NIGHT)
    assert night.contains(time(23)) and night.contains(time(0)) and night.contains(time(6, 59))
    assert not night.contains(time(7)) and not night.contains(time(21, 59))
    with pytest.raises(ValueError):
        QuietHours(time(22, tzinfo=UTC), time(7))


def test_next_send_with_quiet_hours_one_per_day_never_repeats() -> None:
    rec = Recurrence.daily(time(23))
    quiet = QuietHours(*NIGHT)
    got: list[datetime] = []
    after = utc(2026, 3, 25)
    for _ in range(10):
        after = next_send(rec, BERLIN, after, quiet=quiet)
        got.append(after)
    assert all(a < b for a, b in itertools.pairwise(got))
    assert {g.astimezone(BERLIN).time() for g in got} == {time(7)}
    assert got[:2] == [local(BERLIN, 2026, 3, 26, 7), local(BERLIN, 2026, 3, 27, 7)]


# --- pause -----------------------------------------------------------------------------


def test_apply_pause() -> None:
    due = utc(2026, 5, 4, 6)
    assert apply_pause(due, None) == due
    assert apply_pause(due, due + timedelta(seconds=1)) is None
    assert apply_pause(due, due) == due  # the pause ends at paused_until, exclusive
    assert apply_pause(due, due - timedelta(days=1)) == due


def test_next_send_skips_paused_occurrences_without_a_burst() -> None:
    rec = Recurrence.daily(time(8))
    last_sent = local(BERLIN, 2026, 3, 20, 8)
    until = local(BERLIN, 2026, 3, 29, 12)  # a week off, over the DST change
    assert next_send(rec, BERLIN, last_sent, paused_until=until) == local(BERLIN, 2026, 3, 30, 8)
    # A pause that ends exactly at an occurrence includes it.
    at_send = local(BERLIN, 2026, 3, 29, 8)
    assert next_send(rec, BERLIN, last_sent, paused_until=at_send) == at_send
    # An expired pause changes nothing.
    past = local(BERLIN, 2026, 3, 1)
    assert next_send(rec, BERLIN, last_sent, paused_until=past) == local(BERLIN, 2026, 3, 21, 8)


def test_pause_then_quiet_hours() -> None:
    rec = Recurrence.weekly(6, time(23))  # Sundays 23:00
    until = local(BERLIN, 2026, 4, 1)
    got = next_send(rec, BERLIN, utc(2026, 3, 20), quiet=QuietHours(*NIGHT), paused_until=until)
    assert got == local(BERLIN, 2026, 4, 6, 7)  # Sunday 5 April 23:00, released Monday 07:00


# --- catch-up after a restart ----------------------------------------------------------


@pytest.mark.parametrize(
    ("late_by", "decision"),
    [
        (timedelta(0), "send"),
        (timedelta(minutes=5), "send"),
        (timedelta(hours=1, minutes=59), "send"),
        (timedelta(hours=2), "send"),
        (timedelta(hours=2, seconds=1), "skip"),
        (timedelta(days=3), "skip"),
        (-timedelta(minutes=1), "send"),
    ],
)
def test_catch_up(late_by: timedelta, decision: str) -> None:
    due = utc(2026, 3, 29, 6)
    assert catch_up(due, due + late_by) == decision


def test_catch_up_custom_grace_and_validation() -> None:
    due = utc(2026, 3, 29, 6)
    assert catch_up(due, due + timedelta(minutes=20), grace=timedelta(minutes=15)) == "skip"
    with pytest.raises(ValueError):
        catch_up(due, due, grace=-timedelta(seconds=1))
    with pytest.raises(ValueError):
        catch_up(datetime(2026, 3, 29, 6), due)
