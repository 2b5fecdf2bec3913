"""The numbers behind a user's history: check-in points, practices and a summary.

Pure data in, numbers out. No wording here: the caller turns a :class:`Summary` into
text from the content files, in the user's language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import fmean
from typing import Literal

BreathingOutcome = Literal["better", "same", "worse"]
BREATHING_OUTCOMES: tuple[BreathingOutcome, ...] = ("better", "same", "worse")

SCALE_MIN = 1
SCALE_MAX = 5


@dataclass(frozen=True)
class CheckinPoint:
    """One daily check-in: how close and how tense the day felt, each 1..5."""

    day: date
    closeness: int
    tension: int

    def __post_init__(self) -> None:
        for name, value in (("closeness", self.closeness), ("tension", self.tension)):
            if not SCALE_MIN <= value <= SCALE_MAX:
                raise ValueError(f"{name} must be {SCALE_MIN}..{SCALE_MAX}, got {value}")


@dataclass(frozen=True)
class PracticePoint:
    """A practice done on a day, by kind id (``breathe``, ``pause``, ``validate``...)."""

    day: date
    kind: str


@dataclass(frozen=True)
class DayValues:
    """A day's mean closeness and tension (several check-ins on one day are averaged)."""

    closeness: float
    tension: float


@dataclass(frozen=True)
class Summary:
    """Counts and averages over the points given (the caller picks the window).

    ``streak``: consecutive days with a check-in ending today, or ending yesterday when
    today has none yet (the day is not over, so the streak is not broken).
    Means are over days (each day's mean counts once), ``None`` without check-ins.
    ``most_used_practice``: highest count; ties go to the most recently used, then to
    the kind id in alphabetical order, so the answer is stable.
    """

    checkin_days: int
    streak: int
    mean_closeness: float | None
    mean_tension: float | None
    practice_counts: Mapping[str, int] = field(default_factory=dict)
    most_used_practice: str | None = None
    breathing_better: int = 0
    breathing_same: int = 0
    breathing_worse: int = 0


def daily_values(points: Sequence[CheckinPoint]) -> dict[date, DayValues]:
    """One :class:`DayValues` per day that has check-ins, in day order."""
    by_day: dict[date, list[CheckinPoint]] = {}
    for point in sorted(points, key=lambda p: p.day):
        by_day.setdefault(point.day, []).append(point)
    return {
        day: DayValues(fmean(p.closeness for p in group), fmean(p.tension for p in group))
        for day, group in by_day.items()
    }


def summarise(
    points: Sequence[CheckinPoint],
    practices: Sequence[PracticePoint],
    breathing_after: Sequence[str],
    today: date,
) -> Summary:
    """Streak, averages, practice use and how breathing left the user feeling.

    Points dated after ``today`` are ignored. ``breathing_after`` holds one answer per
    breathing practice, each ``"better"``, ``"same"`` or ``"worse"`` (else ValueError).
    """
    values = {day: v for day, v in daily_values(points).items() if day <= today}
    used = [p for p in practices if p.day <= today]
    outcomes = _count_outcomes(breathing_after)
    return Summary(
        checkin_days=len(values),
        streak=streak(values.keys(), today),
        mean_closeness=fmean(v.closeness for v in values.values()) if values else None,
        mean_tension=fmean(v.tension for v in values.values()) if values else None,
        practice_counts=dict(Counter(p.kind for p in used)),
        most_used_practice=_most_used(used),
        breathing_better=outcomes["better"],
        breathing_same=outcomes["same"],
        breathing_worse=outcomes["worse"],
    )


def streak(days: Iterable[date], today: date) -> int:
    """Consecutive days in ``days`` ending today (or yesterday if today is missing)."""
    present = set(days)
    cursor = today if today in present else today - timedelta(days=1)
    count = 0
    while cursor in present:
        count += 1
        cursor -= timedelta(days=1)
    return count


def _most_used(practices: Sequence[PracticePoint]) -> str | None:
    """The kind used most; ties: most recently used, then alphabetical."""
    if not practices:
        return None
    counts = Counter(p.kind for p in practices)
    last_used: dict[str, date] = {}
    for p in practices:
        last_used[p.kind] = max(p.day, last_used.get(p.kind, p.day))
    return min(counts, key=lambda kind: (-counts[kind], -last_used[kind].toordinal(), kind))


def _count_outcomes(answers: Sequence[str]) -> Counter[str]:
    """Count breathing answers, rejecting anything but the three known values."""
    unknown = sorted(set(answers) - set(BREATHING_OUTCOMES))
    if unknown:
        raise ValueError(f"unknown breathing outcome(s) {unknown}; use {BREATHING_OUTCOMES}")
    return Counter(answers)  # a missing key counts 0
