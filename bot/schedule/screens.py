"""``/settings`` and ``/routines``: what is set now, one tap from changing it.

Both are messages built from the profile (their content changes with the user's
choices, which a dialogue's fixed text cannot show). What needs typing or choosing among
fixed options is a small dialogue (``timezone``, ``reminder_time``, ``quiet_hours``,
``reminder_pause``, ``reminder_stop``), started from a button here.

Callback data: ``y:checkin`` set the check-in time, ``y:resume`` end a pause;
``r:`` the routines, ``r:<id>`` one routine, ``r:<id>:on|off|t|d`` switch it, set its
time, choose its days, ``r:<id>:d:<days spec>`` set them.
"""

from __future__ import annotations

from datetime import UTC

from bot.coach import callback
from bot.coach.actions import Button
from bot.coach.extensions import Extensions
from bot.coach.turn import Turn
from bot.schedule.catalogue import CHECKIN_KEY, RoutineSpec
from bot.schedule.choices import Choices, is_days, pause, set_routine
from bot.schedule.content import (
    PAUSE_DIALOGUE,
    QUIET_DIALOGUE,
    REMINDER_TIME,
    SAFETY_DIALOGUE,
    STOP_DIALOGUE,
    TIMEZONE,
    Content,
    local,
)
from bot.schedule.plan import format_quiet
from bot.schedule.recurrence import DAY_NAMES

DAY_CHOICES = ("daily", "weekdays", "weekends", *(f"weekly:{day}" for day in DAY_NAMES))


def screens(content: Content) -> Extensions:
    """The ``/settings`` and ``/routines`` commands and their buttons."""
    handlers = _Screens(content)
    return Extensions(
        commands={"settings": handlers.settings, "routines": handlers.routines},
        presses={"y": handlers.setting, "r": handlers.routine},
    )


class _Screens:
    def __init__(self, content: Content) -> None:
        self.content = content

    # --- /settings ------------------------------------------------------------------------

    def settings(self, turn: Turn, args: str = "") -> None:
        """The time zone, check-in time, quiet hours, pause and safety focus (partner-safe
        mode, which the safety screen may turn on and points here for), each a tap away."""
        del args
        choices, locale, text = Choices(turn.row.profile), turn.row.locale, self.content.text
        zone, checkin, quiet = choices.zone, choices.checkin_time, choices.quiet
        paused = choices.pause_at(turn.now)
        if paused is None:
            reminders = text(locale, "on")
        else:
            until = paused.astimezone(zone or UTC).strftime(text(locale, "until_format"))
            reminders = text(locale, "paused", until=until)
        self.content.say(
            turn,
            "settings",
            self._settings_buttons(turn, paused=paused is not None),
            tz=zone.key if zone else text(locale, "not_set"),
            checkin=f"{checkin:%H:%M}" if checkin else text(locale, "off"),
            quiet=format_quiet(quiet) if quiet else text(locale, "off"),
            reminders=reminders,
            safety=text(locale, "on" if turn.row.profile.get("partner_safe") else "off"),
        )

    def _settings_buttons(self, turn: Turn, *, paused: bool) -> tuple[Button, ...]:
        button = self.content.button
        return (
            button(turn, "button_timezone", callback.start(TIMEZONE)),
            button(turn, "button_checkin", "y:checkin"),
            button(turn, "button_quiet", callback.start(QUIET_DIALOGUE)),
            button(turn, "button_resume", "y:resume")
            if paused
            else button(turn, "button_pause", callback.start(PAUSE_DIALOGUE)),
            button(turn, "button_routines", "r:"),
            button(turn, "button_stop", callback.start(STOP_DIALOGUE)),
            button(turn, "button_safety", callback.start(SAFETY_DIALOGUE)),
        )

    def setting(self, turn: Turn, data: str) -> None:
        """``y:checkin`` asks for the check-in's time; ``y:resume`` ends a pause."""
        match data.removeprefix("y:"):
            case "checkin":
                turn.start_dialogue(REMINDER_TIME, {"time_for": CHECKIN_KEY})
            case "resume":
                pause(turn.row.profile, None)
                self.content.say(turn, "resumed")
            case _:
                turn.say_string("broken_button")

    # --- /routines ------------------------------------------------------------------------

    def routines(self, turn: Turn, args: str = "") -> None:
        """Every routine offered to this user, with whether it is on, and when."""
        del args
        choices, locale = Choices(turn.row.profile), turn.row.locale
        buttons = []
        for name, spec in self.content.visible(turn).items():
            choice, title = choices.routine(name, spec), local(spec.title, locale)
            label = (
                self.content.text(
                    locale,
                    "routine_line_on",
                    title=title,
                    days=self.content.days(locale, choice.days),
                    time=choice.time,
                )
                if choice.on
                else self.content.text(locale, "routine_line_off", title=title)
            )
            buttons.append(Button(label, f"r:{name}"))
        self.content.say(turn, "routines", tuple(buttons))

    def routine(self, turn: Turn, data: str) -> None:
        """``r:…``: the list, one routine, or a change to it (see the module docstring)."""
        _, name, action, days = (*data.split(":", 3), "", "")[:4]
        spec = self.content.visible(turn).get(name)
        if not name:
            self.routines(turn)
        elif spec is None:
            turn.stale()
        elif action == "t":
            turn.start_dialogue(REMINDER_TIME, {"time_for": name})
        elif action == "d" and not days:
            self._days(turn, name, spec)
        else:
            self._change(turn, name, spec, action, days)

    def _change(self, turn: Turn, name: str, spec: RoutineSpec, action: str, days: str) -> None:
        """Switch a routine on or off, or set its days; then show it (or, switched on
        before the time zone is known, ask for the zone)."""
        profile = turn.row.profile
        if action in ("on", "off"):
            set_routine(profile, name, spec, on=action == "on")
        elif action == "d" and is_days(days):
            set_routine(profile, name, spec, days=days)
        elif action:
            turn.say_string("broken_button")
            return
        if action == "on" and Choices(profile).zone is None:
            turn.start_dialogue(TIMEZONE)
            return
        self._show(turn, name, spec)

    def _show(self, turn: Turn, name: str, spec: RoutineSpec) -> None:
        choice, locale = Choices(turn.row.profile).routine(name, spec), turn.row.locale
        status = (
            self.content.text(
                locale, "routine_on", days=self.content.days(locale, choice.days), time=choice.time
            )
            if choice.on
            else self.content.text(locale, "routine_off")
        )
        switch = "off" if choice.on else "on"
        button = self.content.button
        self.content.say(
            turn,
            "routine",
            (
                button(turn, f"button_switch_{switch}", f"r:{name}:{switch}"),
                button(turn, "button_time", f"r:{name}:t"),
                button(turn, "button_days", f"r:{name}:d"),
                button(turn, "button_back", "r:"),
            ),
            title=local(spec.title, locale),
            about=local(spec.about, locale),
            status=status,
        )

    def _days(self, turn: Turn, name: str, spec: RoutineSpec) -> None:
        locale = turn.row.locale
        buttons = tuple(
            Button(self.content.days(locale, days), f"r:{name}:d:{days}") for days in DAY_CHOICES
        )
        self.content.say(turn, "days_prompt", buttons, title=local(spec.title, locale))
