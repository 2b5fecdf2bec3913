"""What the schedule's handlers share: the dialogues, the routines, and their words.

Every word comes from ``routines.yaml`` (or a dialogue's title); this module only picks
the user's language and fills ``{placeholders}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.coach.actions import Button, Send
from bot.coach.text import render
from bot.coach.turn import Turn
from bot.dialogue.loader import Catalog
from bot.dialogue.schema import LocalText, Scalar
from bot.schedule.catalogue import Routines, RoutineSpec
from bot.schedule.recurrence import ALL_DAYS, DAY_NAMES, WEEKDAYS, WEEKENDS, parse_days

CHECKIN = "checkin"
"""The check-in dialogue (``dialogues/checkin.yaml``)."""
TIMEZONE = "timezone"
"""The dialogue that asks for the time zone."""
REMINDER_TIME = "reminder_time"
"""The dialogue that sets a reminder's time; started with ``time_for`` (a routine id,
or ``checkin``)."""
QUIET_DIALOGUE = "quiet_hours"
PAUSE_DIALOGUE = "reminder_pause"
STOP_DIALOGUE = "reminder_stop"
SAFETY_DIALOGUE = "partner_mode"
SETTINGS_DIALOGUES = frozenset(
    {
        CHECKIN,
        TIMEZONE,
        REMINDER_TIME,
        QUIET_DIALOGUE,
        PAUSE_DIALOGUE,
        STOP_DIALOGUE,
        SAFETY_DIALOGUE,
    }
)
"""Dialogues the schedule's code starts or offers, which the catalogue must have."""


def local(text: LocalText, locale: str) -> str:
    """``text`` in ``locale`` if it has it, else in the first locale it has."""
    return text.get(locale) or next(iter(text.values()), "")


@dataclass(frozen=True)
class Content:
    """The catalogue and ``routines.yaml``, with the schedule's ways of using them."""

    catalog: Catalog
    routines: Routines

    def missing_dialogues(self) -> list[str]:
        """Dialogues the schedule needs that the catalogue lacks (none, or no start)."""
        needed = SETTINGS_DIALOGUES | self.routines.dialogues()
        return sorted(needed - self.catalog.dialogues.keys())

    def text(self, locale: str, key: str, **values: Scalar) -> str:
        """One of the ``texts`` of ``routines.yaml``, with its placeholders filled."""
        return render(local(self.routines.texts[key], locale), values)

    def say(self, turn: Turn, key: str, buttons: tuple[Button, ...] = (), **values: Scalar) -> None:
        """Send one of the ``texts`` to the turn's user."""
        turn.actions.append(Send(self.text(turn.row.locale, key, **values), buttons))

    def button(self, turn: Turn, key: str, data: str) -> Button:
        """A button labelled with one of the ``texts``."""
        return Button(self.text(turn.row.locale, key), data)

    def visible(self, turn: Turn) -> dict[str, RoutineSpec]:
        """The routines this user is offered: partner-facing ones are hidden in
        partner-safe mode (they would ask for closeness with someone feared)."""
        safe = bool(turn.row.profile.get("partner_safe"))
        return {
            name: spec
            for name, spec in self.routines.routines.items()
            if not (spec.partner_facing and safe)
        }

    def days(self, locale: str, spec: str) -> str:
        """A days spec in words: "Every day", "Weekdays", "Every Sunday", "Monday, Friday"."""
        days = parse_days(spec)
        named = {ALL_DAYS: "days_daily", WEEKDAYS: "days_weekdays", WEEKENDS: "days_weekends"}
        if days in named:
            return self.text(locale, named[days])
        names = [self.text(locale, f"day_{DAY_NAMES[day]}") for day in sorted(days)]
        if len(names) == 1:
            return self.text(locale, "days_weekly", day=names[0])
        return ", ".join(names)
