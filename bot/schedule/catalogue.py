"""``dialogues/routines.yaml``: the daily check-in, the routines, and the schedule's words.

Not a dialogue: a catalogue the schedule feature reads, checked here (and by
``python -m bot validate``, through :func:`bot.dialogue.loader.register_special`):

- ``checkin``: the reminder that asks the day's first question;
- ``routines``: each routine someone can switch on in ``/routines``, with its default
  schedule (a local time and a days spec: ``daily``, ``weekdays``, ``weekly:sun``…), its
  reminder text, and the dialogue its button starts (else the button is "Done");
- ``texts``: every other word of ``/routines``, ``/settings``, ``/history`` and the
  reminders. Each key may use exactly the ``{placeholders}`` listed in :data:`TEXTS`.

Reminder texts can show on a locked phone, so they are written neutral; the check here
is of shape (keys, placeholders, translations, length), not of tone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from bot.dialogue.loader import (
    COMMON_FILE,
    CatalogError,
    Problem,
    SourceMap,
    YamlPath,
    parse_yaml,
    register_special,
    validate,
)
from bot.dialogue.schema import TEMPLATE_VAR, LocalText, Name, Strict
from bot.schedule.plan import parse_clock
from bot.schedule.recurrence import parse_days

ROUTINES_FILE = "routines.yaml"
MAX_TEXT = 4096  # Telegram's limit on one message
CHECKIN_KEY = "checkin"
"""The check-in's key, so no routine may take it."""

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

TEXTS: Mapping[str, frozenset[str]] = {
    # reminders and their buttons
    "snooze_button": frozenset(),
    "not_today_button": frozenset(),
    "done_button": frozenset(),
    "snoozed": frozenset(),
    "skipped": frozenset(),
    "done": frozenset(),
    # /settings
    "settings": frozenset({"tz", "checkin", "quiet", "reminders", "safety"}),
    "not_set": frozenset(),
    "off": frozenset(),
    "on": frozenset(),
    "paused": frozenset({"until"}),
    "until_format": frozenset(),
    "button_timezone": frozenset(),
    "button_checkin": frozenset(),
    "button_quiet": frozenset(),
    "button_pause": frozenset(),
    "button_resume": frozenset(),
    "button_routines": frozenset(),
    "button_stop": frozenset(),
    "button_safety": frozenset(),
    "resumed": frozenset(),
    # /routines
    "routines": frozenset(),
    "routine_line_on": frozenset({"title", "days", "time"}),
    "routine_line_off": frozenset({"title"}),
    "routine": frozenset({"title", "about", "status"}),
    "routine_on": frozenset({"days", "time"}),
    "routine_off": frozenset(),
    "button_switch_on": frozenset(),
    "button_switch_off": frozenset(),
    "button_time": frozenset(),
    "button_days": frozenset(),
    "button_back": frozenset(),
    "days_prompt": frozenset({"title"}),
    "days_daily": frozenset(),
    "days_weekdays": frozenset(),
    "days_weekends": frozenset(),
    "days_weekly": frozenset({"day"}),
    **{f"day_{day}": frozenset() for day in _DAYS},
    # the time zone question
    "zone_suggest": frozenset({"query"}),
    "zone_unknown": frozenset({"query"}),
    # /history
    "history_weekly": frozenset(),
    "history_head": frozenset({"days", "checkin_days", "streak"}),
    "history_means": frozenset({"closeness", "tension"}),
    "history_practice": frozenset({"practice"}),
    "history_breathing": frozenset({"better", "same", "worse"}),
    "history_empty": frozenset({"days"}),
    "history_more": frozenset(),
    "chart_title": frozenset({"days"}),
    "chart_closeness": frozenset(),
    "chart_tension": frozenset(),
    "chart_practice": frozenset(),
    "chart_dates": frozenset(),
}
"""Every key of ``texts:`` and the placeholders it may use."""


def _clock(value: str) -> str:
    parse_clock(value)
    return value


def _days(value: str) -> str:
    parse_days(value)
    return value


ClockText = Annotated[str, AfterValidator(_clock)]
"""A wall-clock time as ``HH:MM``, checked as the scheduler will read it."""
DaysText = Annotated[str, AfterValidator(_days)]
"""A days spec (``daily``, ``weekdays``, ``weekly:sun``, ``mon,wed``), checked likewise."""


class CheckinSpec(Strict):
    """The daily check-in's reminder (its time is the user's: onboarding suggests one)."""

    text: LocalText


class RoutineSpec(Strict):
    """One routine of ``/routines``. A ``reminder`` sends ``text`` with a button that
    starts ``start`` (labelled ``button``) or, without one, a "Done" button; a
    ``summary`` sends the week's chart and summary instead."""

    kind: Literal["reminder", "summary"] = "reminder"
    time: ClockText
    days: DaysText = "daily"
    title: LocalText
    about: LocalText
    text: LocalText | None = None
    start: Name | None = None
    button: LocalText | None = None
    partner_facing: bool = False

    @model_validator(mode="after")
    def _complete(self) -> RoutineSpec:
        if self.kind == "reminder" and self.text is None:
            raise ValueError("a reminder routine needs a 'text'")
        if (self.start is None) != (self.button is None):
            raise ValueError("give 'start' (a dialogue) and 'button' (its label) together")
        return self


class Routines(Strict):
    """The whole of ``routines.yaml``."""

    checkin: CheckinSpec
    routines: dict[Name, RoutineSpec] = Field(default_factory=dict)
    texts: dict[Name, LocalText]

    def dialogues(self) -> set[str]:
        """The dialogues the routines' buttons start."""
        return {spec.start for spec in self.routines.values() if spec.start is not None}


def load_routines(file: Path) -> Routines:
    """Read and check ``file``; raises :class:`CatalogError` listing every problem."""
    data, source, problems = parse_yaml(file)
    if data is not None:
        problems += check(data, source)
    if problems:
        raise CatalogError(problems)
    return Routines.model_validate(data)


def check(data: Any, source: SourceMap) -> list[Problem]:
    """Every problem in parsed ``routines.yaml`` data, at its line."""
    model, problems = validate(Routines, data, source)
    if model is None:
        return problems
    locales = _locales(source.file.parent / COMMON_FILE)
    if CHECKIN_KEY in model.routines:
        problems.append(source.problem(("routines", CHECKIN_KEY), "'checkin' is taken"))
    problems += _text_keys(model, source)
    for path, text in _texts(model):
        problems += _text_problems(path, text, source, locales)
    return problems


def _text_keys(model: Routines, source: SourceMap) -> Iterator[Problem]:
    for key in sorted(TEXTS.keys() - model.texts.keys()):
        yield source.problem(("texts",), f"texts: missing '{key}'")
    for key in sorted(model.texts.keys() - TEXTS.keys()):
        yield source.problem(("texts", key), f"texts.{key}: no such text (a typo?)")


def _texts(model: Routines) -> Iterator[tuple[YamlPath, LocalText]]:
    """Every text with its path; texts keys carry their allowed placeholders."""
    yield ("checkin", "text"), model.checkin.text
    for name, spec in model.routines.items():
        for field in ("title", "about", "text", "button"):
            text = getattr(spec, field)
            if text is not None:
                yield ("routines", name, field), text
    for key, text in model.texts.items():
        yield ("texts", key), text


def _text_problems(
    path: YamlPath, text: LocalText, source: SourceMap, locales: frozenset[str] | None
) -> Iterator[Problem]:
    dotted = ".".join(str(part) for part in path)
    allowed = TEXTS.get(str(path[1]), frozenset()) if path[0] == "texts" else frozenset()
    if locales is not None:
        for locale in sorted(locales - {k for k, v in text.items() if v.strip()}):
            yield source.problem(path, f"{dotted}: missing translation for {locale}")
        for locale in sorted(text.keys() - locales):
            yield source.problem(path, f"{dotted}: locale '{locale}' is not declared")
    for value in text.values():
        for name in sorted(set(TEMPLATE_VAR.findall(value)) - allowed):
            yield source.problem(path, f"{dotted}: unknown placeholder {{{name}}}")
        if len(value) > MAX_TEXT:
            yield source.problem(path, f"{dotted}: longer than {MAX_TEXT} characters")


def _locales(common: Path) -> frozenset[str] | None:
    """The locales ``common.yaml`` declares, or ``None`` if it cannot tell (its own
    problems are reported by the loader)."""
    data, _, _ = parse_yaml(common)
    found = data.get("locales") if isinstance(data, dict) else None
    return frozenset(map(str, found)) if isinstance(found, list) else None


register_special(ROUTINES_FILE, check)
