"""The history chart: closeness and tension per day, practices along the bottom.

Rendered headless with matplotlib's Agg canvas on a fresh :class:`Figure` per call (no
pyplot: no global figure registry to leak, nothing shared between threads), so a caller
may render in a worker thread (``asyncio.to_thread``) without blocking replies.

Two steps, so tests can check the chart really shows the data:
:func:`chart_series` turns points into one value (or a gap) per day, and
:func:`build_figure` draws exactly those series; :func:`render_chart` does both and
returns PNG bytes. All text comes in through :class:`ChartLabels`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.history.summary import SCALE_MAX, SCALE_MIN, CheckinPoint, PracticePoint, daily_values

MAX_DAYS = 366
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 100  # 800 x 450 px: sharp in Telegram, small file

CLOSENESS_COLOUR = "#2b6cb0"  # blue and orange stay distinct for colour-blind readers
TENSION_COLOUR = "#dd6b20"
PRACTICE_COLOUR = "#4a5568"
PRACTICE_MARKERS = ("o", "D", "^", "s", "v", "P", "X", "*")


@dataclass(frozen=True)
class ChartLabels:
    """Every string the chart shows, filled by the caller from the content files.

    ``practice_kinds`` names each practice kind for the bottom strip; a kind missing
    from it is shown as ``practice``. Empty ``title`` or ``y_axis`` draw nothing.
    ``date_format`` is a ``strftime`` pattern for the day ticks (numeric by default, so
    no month names depend on the server's locale).
    """

    title: str
    closeness: str
    tension: str
    practice: str
    practice_kinds: Mapping[str, str] = field(default_factory=dict)
    y_axis: str = ""
    date_format: str = "%d.%m"


@dataclass(frozen=True)
class ChartSeries:
    """What the chart plots: one slot per day, oldest first, ``None`` for a gap."""

    days: tuple[date, ...]
    closeness: tuple[float | None, ...]
    tension: tuple[float | None, ...]
    practices: Mapping[str, tuple[date, ...]]

    def index(self, day: date) -> int:
        """The x position of ``day``."""
        return (day - self.days[0]).days


def chart_series(
    points: Sequence[CheckinPoint],
    practices: Sequence[PracticePoint],
    days: int,
    today: date,
) -> ChartSeries:
    """The last ``days`` days ending ``today``: a day's mean values or a gap, and the
    days each practice kind was done (kinds sorted by id, so markers are stable).
    Points outside the window are ignored."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1..{MAX_DAYS}, got {days}")
    window = tuple(today - timedelta(days=days - 1 - n) for n in range(days))
    values = daily_values([p for p in points if window[0] <= p.day <= today])
    kinds: dict[str, set[date]] = {}
    for practice in practices:
        if window[0] <= practice.day <= today:
            kinds.setdefault(practice.kind, set()).add(practice.day)
    return ChartSeries(
        days=window,
        closeness=tuple(values[d].closeness if d in values else None for d in window),
        tension=tuple(values[d].tension if d in values else None for d in window),
        practices={kind: tuple(sorted(kinds[kind])) for kind in sorted(kinds)},
    )


def render_chart(
    points: Sequence[CheckinPoint],
    practices: Sequence[PracticePoint],
    days: int,
    today: date,
    labels: ChartLabels,
) -> bytes:
    """PNG bytes of the chart for the last ``days`` days (7, 30 or 90 in the UI)."""
    figure = build_figure(chart_series(points, practices, days, today), labels)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)  # attaches itself: Agg, whatever pyplot's backend is
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def build_figure(series: ChartSeries, labels: ChartLabels) -> Figure:
    """A new figure drawing ``series``; its lines carry gids ``closeness``/``tension``
    and practice markers ``practice:<kind>``, so tests can read back what was drawn."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    if series.practices:
        grid = figure.add_gridspec(2, 1, height_ratios=(4, 1 + 0.3 * len(series.practices)))
        scores = figure.add_subplot(grid[0])
        strip = figure.add_subplot(grid[1], sharex=scores)
        _draw_practices(strip, series, labels)
        scores.tick_params(labelbottom=False)
        _format_days(strip, series, labels)
    else:
        scores = figure.add_subplot()
        _format_days(scores, series, labels)
    _draw_scores(scores, series, labels)
    if labels.title:
        figure.suptitle(labels.title)
    return figure


def _draw_scores(ax: Axes, series: ChartSeries, labels: ChartLabels) -> None:
    """The two 1..5 lines; a missing day is NaN, which breaks the line into a gap."""
    x = range(len(series.days))
    size = 5 if len(series.days) <= 31 else 3
    for gid, values, colour, marker, label in (
        ("closeness", series.closeness, CLOSENESS_COLOUR, "o", labels.closeness),
        ("tension", series.tension, TENSION_COLOUR, "s", labels.tension),
    ):
        y = [math.nan if v is None else v for v in values]
        (line,) = ax.plot(x, y, color=colour, marker=marker, markersize=size, label=label)
        line.set_gid(gid)
    ax.set_ylim(SCALE_MIN - 0.4, SCALE_MAX + 0.4)
    ax.set_yticks(range(SCALE_MIN, SCALE_MAX + 1))
    ax.set_xlim(-0.5, len(series.days) - 0.5)
    ax.grid(axis="y", alpha=0.3)
    if labels.y_axis:
        ax.set_ylabel(labels.y_axis)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _draw_practices(ax: Axes, series: ChartSeries, labels: ChartLabels) -> None:
    """One row of small markers per practice kind, named on the left."""
    kinds = list(series.practices)
    for row, kind in enumerate(kinds):
        x = [series.index(day) for day in series.practices[kind]]
        marker = PRACTICE_MARKERS[row % len(PRACTICE_MARKERS)]
        (line,) = ax.plot(
            x,
            [row] * len(x),
            linestyle="none",
            marker=marker,
            markersize=4,
            color=PRACTICE_COLOUR,
        )
        line.set_gid(f"practice:{kind}")
    ax.set_yticks(range(len(kinds)), [labels.practice_kinds.get(k, labels.practice) for k in kinds])
    ax.set_ylim(-0.6, len(kinds) - 0.4)
    ax.invert_yaxis()
    ax.tick_params(axis="y", length=0)
    ax.spines[["top", "right", "left"]].set_visible(False)


def _format_days(ax: Axes, series: ChartSeries, labels: ChartLabels) -> None:
    """Day ticks counted back from today, so today is always labelled."""
    step = max(1, math.ceil(len(series.days) / 8))
    positions = list(range(len(series.days) - 1, -1, -step))[::-1]
    ax.set_xticks(positions, [series.days[p].strftime(labels.date_format) for p in positions])
