"""``/history``: a chart of the check-ins with the practices done, and a short summary.

``/history`` shows 30 days; ``/history 7`` (or ``/history_7``, a tappable command on
Telegram) 7, and so on for 30 and 90. The weekly summary routine comes through here as
``/history weekly``: the last 7 days with a line that says it is the week's summary.

It needs the store (records) and renders in a worker thread, so it is an async command,
outside a turn. The chart is one :class:`~bot.coach.actions.Picture` with the summary as
its caption: a door sends it as one photo on Telegram, or saves it and prints the path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.coach.actions import Picture, Reply
from bot.coach.events import Command
from bot.coach.extensions import AsyncCommand, Extensions
from bot.history.summary import (
    BREATHING_OUTCOMES,
    SCALE_MAX,
    SCALE_MIN,
    CheckinPoint,
    PracticePoint,
    Summary,
    summarise,
)
from bot.schedule.choices import Choices
from bot.schedule.content import Content, local
from bot.store.base import Record, UserRow

if TYPE_CHECKING:
    from bot.coach.engine import Coach

HISTORY = "history"
RANGES = (7, 30, 90)
DEFAULT_DAYS = 30
WEEKLY = "weekly"
WEEKLY_SUMMARY = Command(HISTORY, WEEKLY)
"""The event the loop sends for the weekly summary routine."""
NOT_PRACTICES = frozenset({"checkin", "checkin_note"})
"""Record kinds that are check-ins, not practices."""


def report(content: Content) -> Extensions:
    """``/history``, ``/history_7``, ``/history_30`` and ``/history_90``."""
    history = _History(content)
    commands: dict[str, AsyncCommand] = {HISTORY: history.command}
    commands |= {f"{HISTORY}_{days}": history.fixed(days) for days in RANGES}
    return Extensions(async_commands=commands)


@dataclass
class Points:
    """A user's records as the chart and the summary read them, by the user's day."""

    checkins: list[CheckinPoint] = field(default_factory=list)
    practices: set[PracticePoint] = field(default_factory=set)
    breathing: list[tuple[date, str]] = field(default_factory=list)

    @classmethod
    def of(cls, records: Sequence[Record], zone: ZoneInfo) -> Points:
        """Check-in scores, practices (one point per practice and day), and how each
        breathing session left the user; anything malformed is left out."""
        points = cls()
        for record in records:
            points.add(record, record.created_at.astimezone(zone).date())
        return points

    def add(self, record: Record, day: date) -> None:
        """One record, on the user's ``day``."""
        data = record.data
        if record.kind == "checkin":
            closeness, tension = _score(data.get("closeness")), _score(data.get("tension"))
            if closeness is not None and tension is not None:
                self.checkins.append(CheckinPoint(day, closeness, tension))
            return
        if record.kind in NOT_PRACTICES:
            return
        kind = data.get("routine") if record.kind == "routine" else data.get("dialogue")
        if isinstance(kind, str):
            self.practices.add(PracticePoint(day, kind))
        if record.kind == "breathing" and data.get("felt") in BREATHING_OUTCOMES:
            self.breathing.append((day, str(data["felt"])))

    def practices_from(self, first: date = date.min) -> list[PracticePoint]:
        """The practices done on ``first`` or later, in day order."""
        return sorted((p for p in self.practices if first <= p.day), key=lambda p: (p.day, p.kind))

    def summary(self, days: int, today: date) -> Summary:
        """The summary of the last ``days`` days ending ``today``."""
        first = today - timedelta(days=days - 1)
        return summarise(
            [p for p in self.checkins if first <= p.day],
            self.practices_from(first),
            [felt for day, felt in self.breathing if first <= day <= today],
            today,
        )


def _score(value: object) -> int | None:
    """A check-in score (1 to 5), or ``None`` for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and SCALE_MIN <= value <= SCALE_MAX:
        return value
    return None


class _History:
    def __init__(self, content: Content) -> None:
        self.content = content

    async def command(self, coach: Coach, row: UserRow, args: str) -> Reply:
        """``/history [7|30|90|weekly]``."""
        words = args.split()
        if words == [WEEKLY]:  # the weekly summary routine, sent by the loop
            consented = row.profile.get(coach.catalogue.consent_var)
            return await self.reply(coach, row, 7, weekly=True) if consented else Reply()
        asked = int(words[0]) if words and words[0].isdigit() else DEFAULT_DAYS
        return await self.reply(coach, row, asked if asked in RANGES else DEFAULT_DAYS)

    def fixed(self, days: int) -> AsyncCommand:
        """``/history_<days>``."""

        async def command(coach: Coach, row: UserRow, args: str) -> Reply:
            del args
            return await self.reply(coach, row, days)

        return command

    async def reply(self, coach: Coach, row: UserRow, days: int, *, weekly: bool = False) -> Reply:
        """The chart of the last ``days`` days, captioned with its summary."""
        from bot.history.chart import ChartLabels, render_chart  # matplotlib: only when used

        zone = Choices(row.profile).zone or ZoneInfo("UTC")
        now: datetime = coach.clock.now()
        today = now.astimezone(zone).date()
        points = Points.of(await coach.store.records(row.user_id), zone)
        text = self.content.text
        locale = row.locale
        labels = ChartLabels(
            title=text(locale, "chart_title", days=days),
            closeness=text(locale, "chart_closeness"),
            tension=text(locale, "chart_tension"),
            practice=text(locale, "chart_practice"),
            practice_kinds=self.practice_names(locale),
            date_format=text(locale, "chart_dates"),
        )
        png = await asyncio.to_thread(
            render_chart, points.checkins, points.practices_from(), days, today, labels
        )
        caption = self.caption(locale, points.summary(days, today), days, weekly=weekly)
        return Reply([Picture(png, caption)])

    def caption(self, locale: str, summary: Summary, days: int, *, weekly: bool) -> str:
        """The summary in a few short lines."""
        text = self.content.text
        lines = [text(locale, "history_weekly")] if weekly else []
        if summary.mean_closeness is None or summary.mean_tension is None:
            lines.append(text(locale, "history_empty", days=days))
        else:
            lines.append(
                text(
                    locale,
                    "history_head",
                    days=days,
                    checkin_days=summary.checkin_days,
                    streak=summary.streak,
                )
            )
            lines.append(
                text(
                    locale,
                    "history_means",
                    closeness=f"{summary.mean_closeness:.1f}",
                    tension=f"{summary.mean_tension:.1f}",
                )
            )
        if summary.most_used_practice is not None:
            name = self.practice_names(locale).get(summary.most_used_practice)
            lines.append(
                text(locale, "history_practice", practice=name or summary.most_used_practice)
            )
        if summary.breathing_better + summary.breathing_same + summary.breathing_worse:
            lines.append(
                text(
                    locale,
                    "history_breathing",
                    better=summary.breathing_better,
                    same=summary.breathing_same,
                    worse=summary.breathing_worse,
                )
            )
        lines.append(text(locale, "history_more"))
        return "\n".join(lines)

    def practice_names(self, locale: str) -> dict[str, str]:
        """Each practice's name: a dialogue's title, or a routine's."""
        names = {key: local(d.title, locale) for key, d in self.content.catalog.dialogues.items()}
        names |= {key: local(r.title, locale) for key, r in self.content.routines.routines.items()}
        return names
