"""The reminders themselves, and their buttons.

A reminder is always a message of its own: it never starts a dialogue, so it cannot
abandon a practice the user is in the middle of. The check-in's reminder asks the day's
first question (how close, 1 to 5); a press on a number starts the ``checkin`` dialogue
with that answer. A routine's reminder offers the routine's dialogue, or "Done". Every
reminder has "Snooze 1 h" and "Not today".

While a timed step runs (a breathing pacer, a break counting down), a reminder would cut
into it, so it waits until just after that step instead.

Callback data: ``k:<1-5>`` a check-in answer, ``z:<key>`` snooze, ``n:<key>`` not today,
``d:<routine>`` done (recorded, so it shows in ``/history``).
"""

from __future__ import annotations

from datetime import timedelta

from bot.coach import callback
from bot.coach.actions import Button, Send
from bot.coach.extensions import Extensions
from bot.coach.turn import Turn
from bot.schedule.catalogue import CHECKIN_KEY, RoutineSpec
from bot.schedule.choices import Choices, drop_snooze, routine_key, skip_day, snooze
from bot.schedule.content import CHECKIN, Content, local
from bot.store.base import Record

SNOOZE = timedelta(hours=1)
AFTER_TIMED_STEP = timedelta(minutes=2)
"""How long after a running timer's end a reminder that came during it waits."""
STALE_TIMER = timedelta(minutes=5)
"""A timer this far overdue is not running (its door is gone): it does not hold reminders."""
SCALE = range(1, 6)
ROUTINE_RECORD = "routine"


def reminders(content: Content) -> Extensions:
    """The scheduled handlers and the reminders' presses."""
    handlers = _Reminders(content)
    return Extensions(
        scheduled={"checkin": handlers.checkin, "routine": handlers.routine},
        presses={
            "k": handlers.answer,
            "z": handlers.snooze,
            "n": handlers.not_today,
            "d": handlers.done,
        },
    )


class _Reminders:
    def __init__(self, content: Content) -> None:
        self.content = content

    # --- scheduled ------------------------------------------------------------------------

    def checkin(self, turn: Turn, ref: str) -> None:
        """The daily check-in came due: ask how close the day felt."""
        del ref
        if Choices(turn.row.profile).checkin_time is None or not self._ready(turn, CHECKIN_KEY):
            return
        answers = tuple(Button(str(n), f"k:{n}") for n in SCALE)
        text = local(self.content.routines.checkin.text, turn.row.locale)
        turn.actions.append(Send(text, answers + self._buttons(turn, CHECKIN_KEY)))

    def routine(self, turn: Turn, ref: str) -> None:
        """A routine came due: its reminder, with its button, snooze and not today."""
        spec = self.content.visible(turn).get(ref)
        if spec is None or spec.text is None:
            return
        key = routine_key(ref)
        if not Choices(turn.row.profile).routine(ref, spec).on or not self._ready(turn, key):
            return
        first = self._action(turn, ref, spec)
        text = local(spec.text, turn.row.locale)
        turn.actions.append(Send(text, (first, *self._buttons(turn, key))))

    def _ready(self, turn: Turn, key: str) -> bool:
        """Whether to send ``key``'s reminder now; if a timed step is running, snooze it
        until just after. A snooze that has come due is used up either way."""
        profile = turn.row.profile
        snoozed = Choices(profile).snoozed(key)
        if snoozed is not None and snoozed <= turn.now:
            drop_snooze(profile, key)
        running = turn.row.timer_due
        if running is None or running < turn.now - STALE_TIMER:
            return True
        snooze(profile, key, max(running, turn.now) + AFTER_TIMED_STEP)
        return False

    def _action(self, turn: Turn, ref: str, spec: RoutineSpec) -> Button:
        if spec.start is not None and spec.button is not None:
            return Button(local(spec.button, turn.row.locale), callback.start(spec.start))
        return self.content.button(turn, "done_button", f"d:{ref}")

    def _buttons(self, turn: Turn, key: str) -> tuple[Button, Button]:
        return (
            self.content.button(turn, "snooze_button", f"z:{key}"),
            self.content.button(turn, "not_today_button", f"n:{key}"),
        )

    # --- presses ------------------------------------------------------------------------------

    def answer(self, turn: Turn, data: str) -> None:
        """``k:<n>``: the first check-in answer; the dialogue goes on from there."""
        value = data.removeprefix("k:")
        if not (value.isdigit() and int(value) in SCALE):
            turn.say_string("broken_button")
            return
        turn.start_dialogue(CHECKIN, {"closeness": int(value)})

    def snooze(self, turn: Turn, data: str) -> None:
        """``z:<key>``: the same reminder again in an hour."""
        key = self._key(turn, data)
        if key is not None:
            snooze(turn.row.profile, key, turn.now + SNOOZE)
            self.content.say(turn, "snoozed")

    def not_today(self, turn: Turn, data: str) -> None:
        """``n:<key>``: nothing more of this reminder today, a snooze included."""
        key = self._key(turn, data)
        if key is not None:
            skip_day(turn.row.profile, key, Choices(turn.row.profile).today(turn.now))
            self.content.say(turn, "skipped")

    def done(self, turn: Turn, data: str) -> None:
        """``d:<routine>``: the routine was done; recorded for the history."""
        routine = data.removeprefix("d:")
        if routine not in self.content.routines.routines:
            turn.say_string("broken_button")
            return
        turn.records.append(Record(ROUTINE_RECORD, {"routine": routine}, turn.now))
        self.content.say(turn, "done")

    def _key(self, turn: Turn, data: str) -> str | None:
        """The reminder key a ``z:``/``n:`` press names, if it is one."""
        key = data.partition(":")[2]
        routines = {routine_key(name) for name in self.content.routines.routines}
        if key == CHECKIN_KEY or key in routines:
            return key
        turn.say_string("broken_button")
        return None
