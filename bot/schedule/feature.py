"""The schedule feature, for :func:`bot.app.features`: check-ins, routines, history.

Everything the user sets is kept in their profile (:mod:`bot.schedule.choices`); a save
hook projects it into the ``subscriptions`` table in the same transaction, and the
:class:`~bot.schedule.loop.ScheduleLoop` a door runs reads only that table. The hooks:

- reminders and their buttons (:mod:`.reminders`);
- ``/settings`` and ``/routines`` (:mod:`.screens`);
- the effects of the settings dialogues (:mod:`.effects`);
- ``/history`` and the weekly summary (:mod:`.report`).

A catalogue without ``routines.yaml`` (a test fixture, say) has no schedule at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.coach.extensions import Extensions, SaveHook
from bot.config import Config
from bot.dialogue.loader import Catalog
from bot.schedule.catalogue import ROUTINES_FILE, Routines, load_routines
from bot.schedule.choices import wanted
from bot.schedule.content import Content
from bot.schedule.effects import effects
from bot.schedule.reminders import reminders
from bot.schedule.report import report
from bot.schedule.screens import screens
from bot.schedule.store import ScheduleStore
from bot.store.base import UserRow


def schedule(catalog: Catalog, config: Config) -> Extensions:
    """Every hook of the schedule feature; raises if ``routines.yaml`` is broken or
    names a dialogue the catalogue lacks."""
    file = config.dialogues / ROUTINES_FILE
    if not file.is_file():
        return Extensions()
    content = Content(catalog, load_routines(file))
    missing = content.missing_dialogues()
    if missing:
        raise LookupError(f"{file}: no such dialogues: {', '.join(missing)}")
    return (
        reminders(content)
        + screens(content)
        + effects(content)
        + report(content)
        + Extensions(save_hooks=(keep_in_step(content.routines),))
    )


def keep_in_step(routines: Routines) -> SaveHook:
    """The save hook: the user's subscription rows follow their profile."""

    async def hook(store: Any, row: UserRow, now: datetime) -> None:
        await ScheduleStore(store).sync(row.user_id, wanted(row.profile, routines), now)

    return hook
