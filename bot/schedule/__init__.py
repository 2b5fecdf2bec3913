"""Pure scheduling rules: when a routine is due, in the user's zone, and which zone.

Transport- and database-agnostic: the scheduler loop stores :func:`next_send`'s result
as a subscription's next due instant and asks :func:`catch_up` after a restart.
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
