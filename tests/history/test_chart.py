"""History chart and summary (bot.history): the chart must show exactly the data given."""

from __future__ import annotations

import io
import math
import struct
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import numpy as np
import pytest
from matplotlib.image import imread
from matplotlib.lines import Line2D

from bot.history import CheckinPoint, PracticePoint, Summary, summarise
from bot.history.chart import (
    ChartLabels,
    build_figure,
    chart_series,
    render_chart,
)

TODAY = date(2026, 5, 10)
KINDS = ("breathe", "pause", "validate", "repair")
LABELS = ChartLabels(
    title="Как дела последние дни",
    closeness="Близость",
    tension="Напряжение",
    practice="Практика",
    practice_kinds={"breathe": "Дыхание", "pause": "Пауза", "repair": "Примирение"},
    y_axis="1\u20135",
)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def full_history(days: int = 90) -> tuple[list[CheckinPoint], list[PracticePoint]]:
    """A check-in every day and every practice every day: the largest chart there is."""
    points = [CheckinPoint(ago(n), 1 + n % 5, 1 + (n * 3) % 5) for n in range(days)]
    practices = [PracticePoint(ago(n), kind) for n in range(days) for kind in KINDS]
    return points, practices


def line(figure_lines: list[Line2D], gid: str) -> Line2D:
    found = [candidate for candidate in figure_lines if candidate.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def xy(drawn: Line2D) -> tuple[list[float], list[float]]:
    """The plotted x and y values as plain floats."""
    x = np.asarray(drawn.get_xdata(), dtype=float).tolist()
    y = np.asarray(drawn.get_ydata(), dtype=float).tolist()
    return x, y


def all_lines(
    points: list[CheckinPoint], practices: list[PracticePoint], days: int
) -> list[Line2D]:
    figure = build_figure(chart_series(points, practices, days, TODAY), LABELS)
    return [ln for ax in figure.axes for ln in ax.get_lines()]


# --- the series ---------------------------------------------------------------------------


def test_series_has_one_slot_per_day_with_gaps() -> None:
    points = [CheckinPoint(ago(0), 4, 2), CheckinPoint(ago(3), 1, 5), CheckinPoint(ago(6), 5, 1)]
    series = chart_series(points, [], 7, TODAY)
    assert series.days == tuple(ago(n) for n in range(6, -1, -1))
    assert series.closeness == (5, None, None, 1, None, None, 4)
    assert series.tension == (1, None, None, 5, None, None, 2)
    assert series.index(TODAY) == 6


def test_series_averages_a_day_and_drops_points_outside_the_window() -> None:
    points = [
        CheckinPoint(ago(1), 2, 5),
        CheckinPoint(ago(1), 3, 4),
        CheckinPoint(ago(7), 5, 5),  # 8 days ago: outside a 7-day window
        CheckinPoint(TODAY + timedelta(days=1), 5, 5),  # future
    ]
    series = chart_series(points, [PracticePoint(ago(9), "pause")], 7, TODAY)
    assert series.closeness[5] == 2.5 and series.tension[5] == 4.5
    assert [v for v in series.closeness if v is not None] == [2.5]
    assert series.practices == {}


def test_series_practices_grouped_by_kind_sorted_and_deduplicated() -> None:
    practices = [
        PracticePoint(ago(2), "pause"),
        PracticePoint(ago(0), "breathe"),
        PracticePoint(ago(2), "breathe"),
        PracticePoint(ago(2), "breathe"),
    ]
    series = chart_series([], practices, 30, TODAY)
    assert list(series.practices) == ["breathe", "pause"]
    assert series.practices["breathe"] == (ago(2), ago(0))


@pytest.mark.parametrize("days", [0, -7, 367])
def test_series_rejects_bad_window(days: int) -> None:
    with pytest.raises(ValueError):
        chart_series([], [], days, TODAY)


# --- the figure draws exactly the series ---------------------------------------------------


@pytest.mark.parametrize("days", [7, 30, 90])
def test_figure_lines_equal_input_at_every_day(days: int) -> None:
    points = [CheckinPoint(ago(n), 1 + n % 5, 5 - n % 5) for n in range(0, days, 3)]
    lines = all_lines(points, [], days)
    given = {p.day: p for p in points}
    for gid in ("closeness", "tension"):
        drawn = line(lines, gid)
        xs, ys = xy(drawn)
        assert xs == list(range(days))
        for x, y in zip(xs, ys, strict=True):
            day = TODAY - timedelta(days=days - 1 - int(x))
            if day in given:
                assert y == getattr(given[day], gid)
            else:
                assert math.isnan(y)  # a gap, not a zero


def test_figure_practice_markers_sit_on_practice_days() -> None:
    practices = [
        PracticePoint(ago(0), "breathe"),
        PracticePoint(ago(4), "breathe"),
        PracticePoint(ago(29), "repair"),
    ]
    lines = all_lines([CheckinPoint(ago(1), 3, 3)], practices, 30)
    assert xy(line(lines, "practice:breathe"))[0] == [25, 29]
    assert xy(line(lines, "practice:repair"))[0] == [0]


def test_figure_text_comes_only_from_labels() -> None:
    practices = [PracticePoint(ago(1), "breathe"), PracticePoint(ago(2), "validate")]
    figure = build_figure(chart_series([CheckinPoint(ago(1), 2, 4)], practices, 7, TODAY), LABELS)
    scores, strip = figure.axes
    legend = scores.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["Близость", "Напряжение"]
    assert scores.get_ylabel() == "1\u20135"
    assert figure.get_suptitle() == LABELS.title
    # "validate" has no name in practice_kinds: the generic label, never the id.
    assert [t.get_text() for t in strip.get_yticklabels()] == ["Дыхание", "Практика"]
    ticks = [t.get_text() for t in strip.get_xticklabels()]
    assert ticks[-1] == "10.05" and ticks[0] == "04.05"


def test_figure_without_practices_has_one_axes_and_no_title_when_empty() -> None:
    labels = ChartLabels(title="", closeness="c", tension="t", practice="p")
    figure = build_figure(chart_series([], [], 7, TODAY), labels)
    assert len(figure.axes) == 1
    assert figure.get_suptitle() == ""


# --- the PNG ---------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("days", [7, 30, 90])
def test_png_decodes_with_expected_size(days: int) -> None:
    points, practices = full_history(days)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a missing Cyrillic glyph would warn
        data = render_chart(points, practices, days, TODAY, LABELS)
    assert png_size(data) == (800, 450)
    pixels = imread(io.BytesIO(data), format="png")
    assert pixels.shape[:2] == (450, 800)
    assert len(data) < 100_000


def test_empty_history_still_renders() -> None:
    assert png_size(render_chart([], [], 30, TODAY, LABELS)) == (800, 450)


def test_render_is_fast_for_90_days() -> None:
    points, practices = full_history(90)
    render_chart(points, practices, 90, TODAY, LABELS)  # warm-up: font cache, imports
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        render_chart(points, practices, 90, TODAY, LABELS)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.3


def test_renders_in_threads_identically() -> None:
    points, practices = full_history(30)
    expected = render_chart(points, practices, 30, TODAY, LABELS)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda _: render_chart(points, practices, 30, TODAY, LABELS), range(4))
        )
    assert all(result == expected for result in results)


# --- the summary ------------------------------------------------------------------------------


def test_summary_numbers() -> None:
    points = [
        CheckinPoint(ago(0), 4, 2),
        CheckinPoint(ago(1), 2, 4),
        CheckinPoint(ago(1), 4, 2),  # same day: averaged to 3 / 3 first
        CheckinPoint(ago(2), 3, 3),
        CheckinPoint(ago(5), 1, 5),
        CheckinPoint(TODAY + timedelta(days=1), 5, 5),  # future: ignored
    ]
    practices = [
        PracticePoint(ago(0), "breathe"),
        PracticePoint(ago(3), "breathe"),
        PracticePoint(ago(1), "pause"),
    ]
    summary = summarise(points, practices, ["better", "better", "same", "worse"], TODAY)
    assert summary == Summary(
        checkin_days=4,
        streak=3,
        mean_closeness=(4 + 3 + 3 + 1) / 4,
        mean_tension=(2 + 3 + 3 + 5) / 4,
        practice_counts={"breathe": 2, "pause": 1},
        most_used_practice="breathe",
        breathing_better=2,
        breathing_same=1,
        breathing_worse=1,
    )


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [
        ([0, 1, 2], 3),
        ([1, 2, 3], 3),  # today not done yet: the streak still stands
        ([0, 2, 3], 1),
        ([2, 3], 0),
        ([], 0),
    ],
)
def test_streak(days_ago: list[int], expected: int) -> None:
    points = [CheckinPoint(ago(n), 3, 3) for n in days_ago]
    assert summarise(points, [], [], TODAY).streak == expected


def test_most_used_ties_go_to_most_recent_then_name() -> None:
    recent = [PracticePoint(ago(5), "pause"), PracticePoint(ago(1), "repair")]
    assert summarise([], recent, [], TODAY).most_used_practice == "repair"
    same_day = [PracticePoint(ago(1), "validate"), PracticePoint(ago(1), "breathe")]
    assert summarise([], same_day, [], TODAY).most_used_practice == "breathe"


def test_empty_summary() -> None:
    summary = summarise([], [], [], TODAY)
    assert summary == Summary(checkin_days=0, streak=0, mean_closeness=None, mean_tension=None)
    assert summary.breathing_better == summary.breathing_same == summary.breathing_worse == 0


def test_summary_and_points_validate() -> None:
    with pytest.raises(ValueError, match="great"):
        summarise([], [], ["better", "great"], TODAY)
    with pytest.raises(ValueError):
        CheckinPoint(TODAY, 0, 3)
    with pytest.raises(ValueError):
        CheckinPoint(TODAY, 3, 6)
