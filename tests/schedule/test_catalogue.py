"""``routines.yaml``: the real one is complete and neutral; a broken one is refused with
every problem at its line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.config import DEFAULT_DIALOGUES, Config
from bot.dialogue.loader import check_directory, load_catalog
from bot.schedule.catalogue import ROUTINES_FILE, TEXTS, load_routines
from bot.schedule.feature import schedule
from tests.coach.conftest import FIXTURE

PRIVATE = re.compile(
    r"\b(partner|husband|wife|boyfriend|girlfriend|relationship|fight|argu\w*|conflict|"
    r"abuse|afraid|sex\w*|divorce|therap\w*)\b",
    re.IGNORECASE,
)


def test_the_real_catalogue_is_complete() -> None:
    routines = load_routines(DEFAULT_DIALOGUES / ROUTINES_FILE)
    assert set(routines.texts) == set(TEXTS)
    assert {"reconnect", "weekly_talk", "appreciation", "hug", "breathing", "journal"} <= set(
        routines.routines
    )
    assert routines.routines["summary"].kind == "summary"
    assert {spec.days for spec in routines.routines.values()} >= {"daily", "weekdays", "weekly:sun"}


def test_reminder_texts_are_neutral_enough_for_a_lock_screen() -> None:
    routines = load_routines(DEFAULT_DIALOGUES / ROUTINES_FILE)
    texts = [routines.checkin.text] + [s.text for s in routines.routines.values() if s.text]
    for text in texts:
        for value in text.values():
            assert PRIVATE.search(value) is None, value


COMMON = "locales: [en, ru]\nstrings: {}\n"
BROKEN = """\
checkin:
  text: {en: "Check-in", ru: "Чек-ин"}
routines:
  checkin:
    title: {en: "Taken", ru: "Занято"}
    about: {en: "x", ru: "x"}
    text: {en: "x", ru: "x"}
    time: "08:00"
  late:
    title: {en: "Late"}
    about: {en: "x", ru: "x"}
    text: {en: "x", ru: "x"}
    time: "25:00"
    days: someday
  mute:
    title: {en: "Mute", ru: "Немой"}
    about: {en: "x", ru: "x"}
    time: "08:00"
texts:
  snoozed: {en: "Snoozed until {when}", ru: "Отложено"}
  snozed: {en: "typo", ru: "опечатка"}
"""


def test_a_broken_catalogue_is_refused_with_every_problem_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "common.yaml").write_text(COMMON)
    (tmp_path / ROUTINES_FILE).write_text(BROKEN)
    problems = [
        str(p).removeprefix(f"{tmp_path / ROUTINES_FILE}:") for p in check_directory(tmp_path)
    ]
    assert any(p.startswith("13:") and "25:00" in p for p in problems), problems
    assert any(p.startswith("14:") and "someday" in p for p in problems), problems
    assert any(p.startswith("15:") and "needs a 'text'" in p for p in problems), problems
    (tmp_path / ROUTINES_FILE).write_text(
        BROKEN.replace('"25:00"', '"08:00"')
        .replace("someday", "daily")
        .replace(
            '    time: "08:00"\ntexts', '    text: {en: "x", ru: "x"}\n    time: "08:00"\ntexts'
        )
    )
    problems = [
        str(p).removeprefix(f"{tmp_path / ROUTINES_FILE}:") for p in check_directory(tmp_path)
    ]
    assert any(p.startswith("4:") and "'checkin' is taken" in p for p in problems), problems
    assert any(p.startswith("10:") and "missing translation for ru" in p for p in problems)
    assert any(p.startswith("21:") and "unknown placeholder {when}" in p for p in problems)
    assert any(p.startswith("22:") and "no such text" in p for p in problems)
    assert any("missing 'not_today_button'" in p for p in problems)


def test_a_catalogue_without_routines_has_no_schedule() -> None:
    extensions = schedule(load_catalog(FIXTURE), Config(dialogues=FIXTURE))
    assert not extensions.commands and not extensions.save_hooks


def test_routines_naming_missing_dialogues_stop_the_start(tmp_path: Path) -> None:
    for source in FIXTURE.glob("*.yaml"):
        shutil.copy(source, tmp_path)
    shutil.copy(DEFAULT_DIALOGUES / ROUTINES_FILE, tmp_path)
    shutil.copytree(DEFAULT_DIALOGUES / "safety_phrases", tmp_path / "safety_phrases")
    with pytest.raises(LookupError, match="breathe, checkin, journal"):
        schedule(load_catalog(tmp_path), Config(dialogues=tmp_path))
