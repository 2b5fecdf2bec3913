"""The ``effects:`` the schedule's dialogues use, and the time zone suggestions' press.

Each effect reads what the user typed or picked (its args, placeholders filled), writes
the profile, and leaves a flag the dialogue branches on (``zone_ok``, ``time_ok``):

- ``set_zone {query}``: a city, zone name, offset, or coordinates (a shared location, as
  ``"52.52, 13.40"``) to an IANA zone; when unsure, it sends the likely zones as buttons
  (``t:<zone>``, pressed as if typed) and the dialogue waits for another try;
- ``set_time {target, value}``: a reminder's time, ``target`` being ``checkin`` or a
  routine id (switched on by it); ``switch_off {target}`` turns it off;
- ``set_quiet {value}``: quiet hours such as ``22:00-07:00``, or none when empty;
- ``pause_reminders {days}``, ``stop_reminders``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time, timedelta

from bot.coach.actions import Button
from bot.coach.extensions import Extensions
from bot.coach.turn import Turn
from bot.schedule.catalogue import CHECKIN_KEY
from bot.schedule.choices import (
    CHECKIN_TIME,
    QUIET_HOURS,
    TZ,
    pause,
    set_routine,
    stop_all,
)
from bot.schedule.content import TIMEZONE, Content
from bot.schedule.plan import format_quiet
from bot.schedule.recurrence import QuietHours
from bot.schedule.timezones import match_zone, zone_from_location

MAX_PAUSE_DAYS = 90
_CLOCK = re.compile(r"(\d{1,2})(?:[:.h]?(\d{2}))?(am|pm|a\.m\.|p\.m\.)?")
_RANGE = re.compile(r"(.+?)\s*[-\u2013\u2014]\s*(.+)")
_COORDINATES = re.compile(r"([+-]?\d{1,2}(?:\.\d+)?)\s*[,;\s]\s*([+-]?\d{1,3}(?:\.\d+)?)")


def effects(content: Content) -> Extensions:
    """The schedule dialogues' effects and the ``t:`` press of zone suggestions."""
    handlers = _Effects(content)
    return Extensions(
        effects={
            "set_zone": handlers.set_zone,
            "set_time": handlers.set_time,
            "switch_off": handlers.switch_off,
            "set_quiet": handlers.set_quiet,
            "pause_reminders": handlers.pause,
            "stop_reminders": handlers.stop,
        },
        presses={"t": handlers.pick_zone},
    )


class _Effects:
    def __init__(self, content: Content) -> None:
        self.content = content

    def set_zone(self, turn: Turn, args: Mapping[str, str]) -> None:
        """Store the zone ``query`` names, or offer the likely ones."""
        query = args.get("query", "").strip()
        zone, suggestions = _zone(query)
        turn.store("zone_ok", zone is not None)
        if zone is not None:
            turn.store(TZ, zone)
            return
        buttons = tuple(Button(name.replace("_", " "), f"t:{name}") for name in suggestions)
        self.content.say(turn, "zone_suggest" if buttons else "zone_unknown", buttons, query=query)

    def pick_zone(self, turn: Turn, data: str) -> None:
        """``t:<zone>``: a suggested zone pressed, taken as the answer typed."""
        frame, state = turn.session.top, turn.current_state()
        if frame is None or frame.dialogue != TIMEZONE or state is None or state.input is None:
            turn.stale()
            return
        turn.answer(state, data.removeprefix("t:"))

    def set_time(self, turn: Turn, args: Mapping[str, str]) -> None:
        """Set the time of the check-in or of a routine (switching the routine on)."""
        clock = read_clock(args.get("value", ""))
        target = args.get("target", "")
        ok = clock is not None and self._set(turn, target, on=True, at=f"{clock:%H:%M}")
        turn.store("time_ok", ok)
        if clock is not None:
            turn.store("time_text", f"{clock:%H:%M}")

    def switch_off(self, turn: Turn, args: Mapping[str, str]) -> None:
        """Turn the check-in or a routine off."""
        self._set(turn, args.get("target", ""), on=False)

    def _set(self, turn: Turn, target: str, *, on: bool, at: str = "") -> bool:
        """Switch ``target`` on at ``at`` (or off); False if there is no such target."""
        profile = turn.row.profile
        if target == CHECKIN_KEY:
            profile[CHECKIN_TIME] = at if on else ""
            return True
        spec = self.content.routines.routines.get(target)
        if spec is None:
            return False
        set_routine(profile, target, spec, on=on, **({"time": at} if at else {}))
        return True

    def set_quiet(self, turn: Turn, args: Mapping[str, str]) -> None:
        """Quiet hours from text like ``22:00-07:00``; an empty value removes them."""
        value = args.get("value", "").strip()
        quiet = read_quiet(value) if value else None
        turn.store("time_ok", quiet is not None or not value)
        if quiet is not None or not value:
            turn.row.profile[QUIET_HOURS] = format_quiet(quiet) if quiet else ""

    def pause(self, turn: Turn, args: Mapping[str, str]) -> None:
        """Pause every reminder for ``days`` days (1 to 90)."""
        days = args.get("days", "")
        if days.isdigit() and 1 <= int(days) <= MAX_PAUSE_DAYS:
            pause(turn.row.profile, turn.now + timedelta(days=int(days)))

    def stop(self, turn: Turn, args: Mapping[str, str]) -> None:
        """Switch every reminder off."""
        del args
        stop_all(turn.row.profile)


def _zone(query: str) -> tuple[str | None, tuple[str, ...]]:
    """The zone ``query`` names (or coordinates point at), else suggestions."""
    found = _COORDINATES.fullmatch(query)
    if found is not None:
        lat, lon = float(found.group(1)), float(found.group(2))
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return zone_from_location(lat, lon), ()
    match = match_zone(query)
    return match.zone, match.suggestions


def read_clock(text: str) -> time | None:
    """A typed time: ``20:30``, ``20.30``, ``2030``, ``8``, ``8pm``, ``8:30 pm``."""
    found = _CLOCK.fullmatch("".join(text.casefold().split()))
    if found is None:
        return None
    hours, minutes, half = int(found.group(1)), int(found.group(2) or 0), found.group(3)
    if half is not None:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if half.startswith("p") else 0)
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


def read_quiet(text: str) -> QuietHours | None:
    """Typed quiet hours: two times with a dash between, ``22:00-07:00`` or ``10pm-7am``."""
    found = _RANGE.fullmatch(text.strip())
    if found is None:
        return None
    start, end = read_clock(found.group(1)), read_clock(found.group(2))
    return None if start is None or end is None else QuietHours(start, end)
