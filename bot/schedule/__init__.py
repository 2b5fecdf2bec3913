"""The schedule: daily check-ins, opt-in routines, and when each is due.

Exported here are the pure rules, transport- and database-agnostic: when a routine is
due in the user's zone (:func:`next_send`, :func:`catch_up`) and which zone a user means
(:func:`match_zone`, :func:`zone_from_location`). The feature built on them lives in
the modules beside: :mod:`.feature` (the hooks for :func:`bot.app.features`),
:mod:`.store` (the ``subscriptions`` table) and :mod:`.loop` (the scheduler a door runs).
"""

from bot.schedule.recurrence import (
    DEFAULT_GRACE,
    CatchUp,
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
from bot.schedule.timezones import (
    SHORT_LIST,
    ZoneMatch,
    match_zone,
    nearest_zones,
    zone_from_location,
)

__all__ = [
    "DEFAULT_GRACE",
    "SHORT_LIST",
    "CatchUp",
    "QuietHours",
    "Recurrence",
    "ZoneMatch",
    "apply_pause",
    "apply_quiet_hours",
    "catch_up",
    "format_days",
    "local_to_utc",
    "match_zone",
    "nearest_zones",
    "next_due",
    "next_send",
    "parse_days",
    "zone_from_location",
]
