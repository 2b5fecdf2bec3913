"""What a user chose about reminders, kept in their profile, and what follows from it.

The profile is the one source of truth (so ``/export`` and ``/forget`` cover it with the
rest of the user): these keys, declared in ``common.yaml``'s ``profile:``, are read
leniently (anything unreadable counts as unset) and written only through the functions
here. :func:`wanted` turns them into the subscription rows the save hook keeps in step.

============== ===========================================================================
``tz``          IANA zone name, e.g. ``Europe/Berlin``
``checkin_time`` the daily check-in's local time ``HH:MM``; empty: no check-in
``quiet_hours``  ``HH:MM-HH:MM``; empty: none
``paused_until`` ISO instant; empty: not paused
``routines``     ``{routine id: {"on": bool, "time": "HH:MM", "days": spec}}``
``snoozed``      ``{key: ISO instant}``: a reminder to repeat once, at that instant
``not_today``    ``{key: ISO date}``: the local day the user said "Not today" for
============== ===========================================================================

A reminder's *key* is ``checkin`` or ``r.<routine id>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.schedule.catalogue import CHECKIN_KEY, Routines, RoutineSpec
from bot.schedule.plan import Plan, parse_clock, parse_quiet
from bot.schedule.recurrence import QuietHours, Recurrence, parse_days

TZ = "tz"
CHECKIN_TIME = "checkin_time"
QUIET_HOURS = "quiet_hours"
PAUSED_UNTIL = "paused_until"
ROUTINES = "routines"
SNOOZED = "snoozed"
NOT_TODAY = "not_today"

Kind = Literal["checkin", "routine", "summary"]
ROUTINE_PREFIX = "r."

JSON = dict[str, Any]


def routine_key(routine: str) -> str:
    """The reminder key of a routine."""
    return ROUTINE_PREFIX + routine


@dataclass(frozen=True)
class RoutineChoice:
    """A routine as the user set it (its catalogue defaults until they change it)."""

    on: bool
    time: str
    days: str


@dataclass(frozen=True)
class Wanted:
    """A subscription row the profile asks for; ``snoozed`` is the raw snooze instant."""

    key: str
    kind: Kind
    ref: str
    plan: Plan
    snoozed: datetime | None


class Choices:
    """A lenient, read-only view of the reminder keys of one profile."""

    def __init__(self, profile: JSON) -> None:
        self._profile = profile

    @property
    def zone(self) -> ZoneInfo | None:
        name = self._profile.get(TZ)
        if not isinstance(name, str) or not name:
            return None
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return None

    @property
    def checkin_time(self) -> time | None:
        return _clock(self._profile.get(CHECKIN_TIME))

    @property
    def quiet(self) -> QuietHours | None:
        value = self._profile.get(QUIET_HOURS)
        try:
            return parse_quiet(value) if isinstance(value, str) and value else None
        except ValueError:
            return None

    @property
    def paused_until(self) -> datetime | None:
        return _instant(self._profile.get(PAUSED_UNTIL))

    def pause_at(self, now: datetime) -> datetime | None:
        """When the pause running at ``now`` ends; ``None`` if there is none."""
        until = self.paused_until
        return until if until is not None and now < until else None

    def routine(self, routine: str, spec: RoutineSpec) -> RoutineChoice:
        """The user's setting of ``routine``; off at the catalogue's time and days if
        they never touched it (or the stored one is unreadable)."""
        stored = _mapping(self._profile.get(ROUTINES)).get(routine)
        stored = stored if isinstance(stored, dict) else {}
        return RoutineChoice(
            on=stored.get("on") is True,
            time=_readable(stored.get("time"), parse_clock) or spec.time,
            days=_readable(stored.get("days"), parse_days) or spec.days,
        )

    def snoozed(self, key: str) -> datetime | None:
        return _instant(_mapping(self._profile.get(SNOOZED)).get(key))

    def not_today(self, key: str) -> date | None:
        value = _mapping(self._profile.get(NOT_TODAY)).get(key)
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None

    def today(self, now: datetime) -> date:
        """The user's calendar date (UTC's until they set a zone)."""
        return now.astimezone(self.zone or UTC).date()


def wanted(profile: JSON, routines: Routines) -> list[Wanted]:
    """The subscription rows ``profile`` asks for: none until the zone is known; the
    check-in if it has a time; each routine switched on (a partner-facing one never in
    partner-safe mode)."""
    choices = Choices(profile)
    zone = choices.zone
    if zone is None:
        return []
    safe = bool(profile.get("partner_safe"))
    found: list[Wanted] = []
    for key, kind, ref, rec in _recurrences(choices, routines, safe):
        plan = Plan(rec, zone, choices.quiet, choices.paused_until, choices.not_today(key))
        found.append(Wanted(key, kind, ref, plan, choices.snoozed(key)))
    return found


def _recurrences(
    choices: Choices, routines: Routines, partner_safe: bool
) -> Iterator[tuple[str, Kind, str, Recurrence]]:
    checkin = choices.checkin_time
    if checkin is not None:
        yield CHECKIN_KEY, "checkin", CHECKIN_KEY, Recurrence.daily(checkin)
    for routine, spec in routines.routines.items():
        choice = choices.routine(routine, spec)
        if choice.on and not (spec.partner_facing and partner_safe):
            kind: Kind = "summary" if spec.kind == "summary" else "routine"
            rec = Recurrence.parse(choice.days, parse_clock(choice.time))
            yield routine_key(routine), kind, routine, rec


# --- writing --------------------------------------------------------------------------------


def set_routine(profile: JSON, routine: str, spec: RoutineSpec, **change: bool | str) -> None:
    """Change ``on``, ``time`` or ``days`` of one routine, keeping the rest."""
    current = Choices(profile).routine(routine, spec)
    merged = {"on": current.on, "time": current.time, "days": current.days, **change}
    profile[ROUTINES] = {**_mapping(profile.get(ROUTINES)), routine: merged}


def snooze(profile: JSON, key: str, until: datetime) -> None:
    """Repeat the reminder ``key`` once, at ``until``."""
    profile[SNOOZED] = {**_mapping(profile.get(SNOOZED)), key: until.astimezone(UTC).isoformat()}


def drop_snooze(profile: JSON, key: str) -> None:
    """Forget a snooze of ``key`` (it went out, or the user said "Not today")."""
    profile[SNOOZED] = {k: v for k, v in _mapping(profile.get(SNOOZED)).items() if k != key}


def skip_day(profile: JSON, key: str, day: date) -> None:
    """Send nothing more of ``key`` on the local date ``day``, a repeat included."""
    drop_snooze(profile, key)
    profile[NOT_TODAY] = {**_mapping(profile.get(NOT_TODAY)), key: day.isoformat()}


def pause(profile: JSON, until: datetime | None) -> None:
    """Send nothing before ``until`` (``None``: resume now)."""
    profile[PAUSED_UNTIL] = "" if until is None else until.astimezone(UTC).isoformat()


def stop_all(profile: JSON) -> None:
    """Switch every reminder off: the check-in, each routine, snoozes and the pause."""
    profile[CHECKIN_TIME] = ""
    profile[ROUTINES] = {
        name: {**value, "on": False}
        for name, value in _mapping(profile.get(ROUTINES)).items()
        if isinstance(value, dict)
    }
    profile[SNOOZED] = {}
    profile[PAUSED_UNTIL] = ""


def is_days(value: object) -> bool:
    """Whether ``value`` is a days spec (``daily``, ``weekly:sun``, ``mon,wed``…)."""
    return _readable(value, parse_days) is not None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _readable(value: object, parse: Callable[[str], object]) -> str | None:
    """``value`` if it is text ``parse`` accepts, else ``None``."""
    if not isinstance(value, str):
        return None
    try:
        parse(value)
    except ValueError:
        return None
    return value


def _clock(value: object) -> time | None:
    text = _readable(value, parse_clock)
    return None if text is None else parse_clock(text)


def _instant(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo is not None else None
