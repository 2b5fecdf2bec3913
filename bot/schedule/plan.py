"""One subscription's rule, as stored in its row: when it is next due.

A :class:`Plan` is the wall-clock part of a ``subscriptions`` row (local time, days, IANA
zone) plus what shifts or drops occurrences (quiet hours, a pause, a day skipped with
"Not today"). The save hook and the loop both move ``next_due`` with
:meth:`Plan.next_after`, so the two can never disagree on the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.schedule.recurrence import QuietHours, Recurrence, apply_quiet_hours, next_send

Columns = tuple[str, str, str, str | None, str | None, str | None]
"""``(local_time, days, tz, quiet, paused_until, skip_date)`` as the row stores them."""


@dataclass(frozen=True)
class Plan:
    """When one subscription is due. See the module docstring."""

    rec: Recurrence
    zone: ZoneInfo
    quiet: QuietHours | None = None
    paused_until: datetime | None = None
    skip_date: date | None = None

    def next_after(self, after: datetime) -> datetime:
        """The next instant to send strictly after ``after`` (UTC): the recurrence with
        the pause and quiet hours applied (:func:`next_send`), then past the skipped day."""
        due = self._next_send(after)
        while self.skip_date is not None and self.local_date(due) == self.skip_date:
            due = self._next_send(due)
        return due

    def _next_send(self, after: datetime) -> datetime:
        return next_send(
            self.rec, self.zone, after, quiet=self.quiet, paused_until=self.paused_until
        )

    def snooze_at(self, wanted: datetime) -> datetime:
        """When a reminder snoozed until ``wanted`` goes out: after quiet hours."""
        if self.quiet is None:
            return wanted.astimezone(UTC)
        return apply_quiet_hours(wanted, self.zone, self.quiet.start, self.quiet.end)

    def paused_at(self, now: datetime) -> bool:
        """Whether ``now`` falls inside the pause (snoozes are dropped then too)."""
        return self.paused_until is not None and now < self.paused_until

    def local_date(self, moment: datetime) -> date:
        """The user's calendar date at ``moment``."""
        return moment.astimezone(self.zone).date()

    def columns(self) -> Columns:
        """The plan as the row's columns; :meth:`from_columns` reads them back."""
        return (
            self.rec.local_time.strftime("%H:%M"),
            self.rec.spec,
            self.zone.key,
            None if self.quiet is None else format_quiet(self.quiet),
            None if self.paused_until is None else self.paused_until.isoformat(),
            None if self.skip_date is None else self.skip_date.isoformat(),
        )

    @classmethod
    def from_columns(cls, columns: Columns) -> Plan:
        """Rebuild from a row; raises ValueError (or ``ZoneInfoNotFoundError``, a
        subclass of KeyError) on a row no hook could have written."""
        local_time, days, tz, quiet, paused_until, skip_date = columns
        return cls(
            rec=Recurrence.parse(days, parse_clock(local_time)),
            zone=ZoneInfo(tz),
            quiet=None if quiet is None else parse_quiet(quiet),
            paused_until=None if paused_until is None else datetime.fromisoformat(paused_until),
            skip_date=None if skip_date is None else date.fromisoformat(skip_date),
        )


def parse_clock(value: str) -> time:
    """``"20:00"`` as a wall-clock time (``HH:MM``, 24-hour); ValueError otherwise."""
    hours, sep, minutes = value.partition(":")
    readable = sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2
    if not readable or int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"a time is HH:MM, like 20:00, not {value!r}")
    return time(int(hours), int(minutes))


def parse_quiet(value: str) -> QuietHours:
    """``"22:00-07:00"`` as quiet hours; ValueError otherwise."""
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError(f"quiet hours are HH:MM-HH:MM, not {value!r}")
    return QuietHours(parse_clock(start.strip()), parse_clock(end.strip()))


def format_quiet(quiet: QuietHours) -> str:
    """The inverse of :func:`parse_quiet`."""
    return f"{quiet.start:%H:%M}-{quiet.end:%H:%M}"
