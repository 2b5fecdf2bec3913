"""When a routine is due: local wall-clock rules turned into UTC instants.

A subscription stores a :class:`Recurrence` (a local time on some weekdays) and an IANA
zone, never a fixed interval, so that "08:00" stays 08:00 on the user's clock across
daylight-saving changes. Everything here is pure: instants in, instants out, no clock,
no database, no transport.

Instants are aware datetimes. Every function accepts any aware datetime, rejects naive
ones (a naive datetime has no defined instant), and returns UTC.

One rule turns a wall-clock time on a date into an instant, used everywhere
(:func:`local_to_utc`), PEP 495's ``fold=0``:

* a time that does not exist that day (spring-forward gap) is read with the offset in
  force before the jump, which moves it forward by the gap's length: 02:30 in
  Europe/Berlin on 2026-03-29 is sent at 03:30 CEST. It is sent once, never skipped;
* a time that happens twice (fall-back) means its first occurrence, so it is sent once:
  02:30 in Europe/Berlin on 2026-10-25 is 02:30 CEST (00:30 UTC), not 02:30 CET.

The caller keeps one column, the next due instant, and moves it with :func:`next_send`,
which combines the recurrence, a pause and quiet hours in the one order that is right.
After a restart, :func:`catch_up` says whether a reminder that came due while the bot was
down still goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Spec tokens for weekdays, index = ``date.weekday()`` (0 = Monday)."""
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

ALL_DAYS: frozenset[int] = frozenset(range(7))
WEEKDAYS: frozenset[int] = frozenset(range(5))
WEEKENDS: frozenset[int] = frozenset({5, 6})

# Search window for the next occurrence: one day back (a gap shift can carry yesterday's
# occurrence past midnight), a full week, and slack for zones that skipped a whole date.
_SEARCH_DAYS = 16

DEFAULT_GRACE = timedelta(hours=2)

CatchUp = Literal["send", "skip"]


def _require_aware(value: datetime, name: str) -> datetime:
    """``value`` in UTC; a naive datetime is a bug in the caller, so it raises."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Recurrence:
    """A local wall-clock time on a set of weekdays (0 = Monday .. 6 = Sunday).

    The zone is not part of it: the same recurrence means the same wall-clock rule for
    every user, and the zone is stored beside it.
    """

    local_time: time
    days: frozenset[int]

    def __post_init__(self) -> None:
        if self.local_time.tzinfo is not None:
            raise ValueError("local_time is a wall-clock time: it must be naive")
        if not self.days:
            raise ValueError("a recurrence needs at least one day")
        if not self.days <= ALL_DAYS:
            raise ValueError(f"days must be within 0..6, got {sorted(self.days)}")

    @classmethod
    def daily(cls, at: time) -> Recurrence:
        """Every day at ``at``."""
        return cls(at, ALL_DAYS)

    @classmethod
    def weekdays(cls, at: time) -> Recurrence:
        """Monday to Friday at ``at``."""
        return cls(at, WEEKDAYS)

    @classmethod
    def weekly(cls, day: int, at: time) -> Recurrence:
        """Once a week, on ``day`` (0 = Monday) at ``at``."""
        return cls(at, frozenset({day}))

    @classmethod
    def parse(cls, spec: str, at: time) -> Recurrence:
        """Build from a days spec (see :func:`parse_days`) and a local time."""
        return cls(at, parse_days(spec))

    @property
    def spec(self) -> str:
        """The canonical days spec; ``Recurrence.parse(r.spec, r.local_time) == r``."""
        return format_days(self.days)


def parse_days(spec: str) -> frozenset[int]:
    """Weekdays from a machine spec (not user prose; the UI offers buttons).

    Accepted, case- and space-insensitive: ``daily``, ``weekdays``, ``weekends``,
    ``weekly:sun``, a comma list ``mon,wed,fri``, ranges ``mon-fri`` (also inside a list),
    full English day names. Raises ``ValueError`` on anything else.
    """
    text = "".join(spec.split()).casefold()
    named = {"daily": ALL_DAYS, "weekdays": WEEKDAYS, "weekends": WEEKENDS}
    if text in named:
        return named[text]
    if text.startswith("weekly:"):
        return frozenset({_parse_day(text.removeprefix("weekly:"))})
    days: set[int] = set()
    for part in text.split(","):
        days |= _parse_range(part)
    return frozenset(days)


def _parse_range(part: str) -> set[int]:
    """One comma-separated item: a day, or a range that may wrap (``sat-mon``)."""
    if "-" not in part:
        return {_parse_day(part)}
    first, _, last = part.partition("-")
    start, stop = _parse_day(first), _parse_day(last)
    length = (stop - start) % 7 + 1
    return {(start + step) % 7 for step in range(length)}


def _parse_day(token: str) -> int:
    """A day token (``mon`` or ``monday``) to its index."""
    for index, (short, full) in enumerate(zip(DAY_NAMES, _FULL_DAY_NAMES, strict=True)):
        if token in (short, full):
            return index
    raise ValueError(f"unknown day {token!r}; use one of {', '.join(DAY_NAMES)}")


def format_days(days: frozenset[int]) -> str:
    """The shortest canonical spec for ``days``, the inverse of :func:`parse_days`."""
    named = {ALL_DAYS: "daily", WEEKDAYS: "weekdays", WEEKENDS: "weekends"}
    if days in named:
        return named[days]
    if len(days) == 1:
        return f"weekly:{DAY_NAMES[next(iter(days))]}"
    return ",".join(DAY_NAMES[day] for day in sorted(days))


def local_to_utc(day: date, at: time, tz: ZoneInfo, *, fold: int = 0) -> datetime:
    """The instant at which the wall clock in ``tz`` reads ``at`` on ``day``, in UTC.

    ``fold=0`` (the default and the rule used throughout): a nonexistent time moves
    forward by the gap's length, a repeated one means its first occurrence. ``fold=1``
    asks for the second occurrence of a repeated time.
    """
    return datetime.combine(day, at, tzinfo=tz).replace(fold=fold).astimezone(UTC)


def next_due(rec: Recurrence, tz: ZoneInfo, after: datetime) -> datetime:
    """The first occurrence of ``rec`` in ``tz`` strictly after ``after`` (UTC out).

    Strictly after, so feeding a result back in always moves on: consecutive calls never
    return the same instant twice. See the module docstring for the DST rule.
    """
    return _occurrence(rec, tz, _require_aware(after, "after"), inclusive=False)


def _occurrence(rec: Recurrence, tz: ZoneInfo, bound: datetime, *, inclusive: bool) -> datetime:
    """The first occurrence after ``bound`` (or at it, if ``inclusive``)."""
    start = bound.astimezone(tz).date() - timedelta(days=1)
    for offset in range(_SEARCH_DAYS):
        day = start + timedelta(days=offset)
        if day.weekday() not in rec.days:
            continue
        candidate = local_to_utc(day, rec.local_time, tz)
        if candidate > bound or (inclusive and candidate == bound):
            return candidate
    raise AssertionError(f"no occurrence of {rec} within {_SEARCH_DAYS} days of {bound}")


@dataclass(frozen=True)
class QuietHours:
    """A daily local window in which nothing is sent: ``start`` <= wall time < ``end``.

    ``start > end`` wraps midnight (22:00-07:00); ``start == end`` is an empty window.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are wall-clock times: they must be naive")

    def contains(self, wall: time) -> bool:
        """Whether the wall-clock time ``wall`` lies inside the window."""
        if self.start <= self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end


def apply_quiet_hours(due: datetime, tz: ZoneInfo, start: time, end: time) -> datetime:
    """``due`` unchanged if outside the quiet window, else the window's end (UTC).

    Membership is judged on the local wall clock. The end is the next time the wall
    clock reads ``end`` after ``due``: same day, or the next day when a window that wraps
    midnight was entered in the evening. An end inside a spring-forward gap moves forward
    by the gap like any wall time; an end that happens twice is its first occurrence
    unless ``due`` is already past it, then the second.
    """
    due = _require_aware(due, "due")
    quiet = QuietHours(start, end)
    local = due.astimezone(tz)
    wall = local.time()
    if not quiet.contains(wall):
        return due
    wraps_to_tomorrow = quiet.start > quiet.end and wall >= quiet.start
    end_day = local.date() + timedelta(days=1 if wraps_to_tomorrow else 0)
    release = local_to_utc(end_day, quiet.end, tz)
    if release <= due:
        release = local_to_utc(end_day, quiet.end, tz, fold=1)
    return max(release, due)


def apply_pause(due: datetime, paused_until: datetime | None) -> datetime | None:
    """``due`` if it is not paused, ``None`` if it falls inside the pause.

    A pause skips occurrences before ``paused_until`` (exclusive); it never delays them,
    so a week's pause does not end in a burst. ``None`` means: drop this occurrence and
    ask :func:`next_send` for the next one, which already applies this rule.
    """
    due = _require_aware(due, "due")
    if paused_until is None or due >= _require_aware(paused_until, "paused_until"):
        return due
    return None


def next_send(
    rec: Recurrence,
    tz: ZoneInfo,
    after: datetime,
    *,
    quiet: QuietHours | None = None,
    paused_until: datetime | None = None,
) -> datetime:
    """The next instant to send ``rec`` after ``after``: the value to store as next-due.

    Order: the next occurrence strictly after ``after``; if it falls inside the pause,
    the first occurrence at or after ``paused_until`` instead; then quiet hours move it
    to the window's end. The result is always strictly after ``after``, so calling it
    again with the last result never repeats a send.
    """
    due = next_due(rec, tz, after)
    if paused_until is not None and apply_pause(due, paused_until) is None:
        due = _occurrence(rec, tz, _require_aware(paused_until, "paused_until"), inclusive=True)
    if quiet is not None:
        due = apply_quiet_hours(due, tz, quiet.start, quiet.end)
    return due


def catch_up(due: datetime, now: datetime, grace: timedelta = DEFAULT_GRACE) -> CatchUp:
    """Whether a reminder found overdue at ``now`` (e.g. after a restart) still goes out.

    ``"send"`` if ``now`` is at most ``grace`` past ``due`` (boundary included), else
    ``"skip"``: a morning check-in arriving in the afternoon is noise. Either way the
    caller then stores ``next_send(..., after=now)``, so missed occurrences never pile up.
    """
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    late_by = _require_aware(now, "now") - _require_aware(due, "due")
    return "send" if late_by <= grace else "skip"
