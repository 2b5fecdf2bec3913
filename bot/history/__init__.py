"""A user's history as numbers and as a chart.

The data types and :func:`summarise` are importable from here. The chart lives in
:mod:`bot.history.chart` and is imported from there explicitly, so code that only needs
the numbers does not pay for importing matplotlib.
"""

from bot.history.summary import (
    BREATHING_OUTCOMES,
    BreathingOutcome,
    CheckinPoint,
    DayValues,
    PracticePoint,
    Summary,
    daily_values,
    streak,
    summarise,
)

__all__ = [
    "BREATHING_OUTCOMES",
    "BreathingOutcome",
    "CheckinPoint",
    "DayValues",
    "PracticePoint",
    "Summary",
    "daily_values",
    "streak",
    "summarise",
]
