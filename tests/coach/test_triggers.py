"""Trigger phrases: which practice a message offers."""

from __future__ import annotations

from typing import Any

from bot.coach.triggers import TriggerPhrases
from bot.dialogue.schema import Dialogue


def dialogue(name: str, phrases: dict[str, list[str]]) -> Dialogue:
    data: dict[str, Any] = {
        "id": name,
        "title": {"en": name},
        "triggers": {"phrases": phrases},
        "start": "only",
        "states": {"only": {"say": {"en": "..."}, "final": True}},
    }
    return Dialogue.model_validate(data)


TRIGGERS = TriggerPhrases.of(
    [
        dialogue("pause", {"en": ["We're Fighting", "so   angry"], "de": ["wütend"]}),
        dialogue("breathe", {"en": ["angry", "panic"]}),
    ]
)


def test_phrases_match_whatever_the_case_spacing_or_apostrophe() -> None:
    assert TRIGGERS.offered_by("WE\u2019RE  fighting again", "en") == "pause"
    assert TRIGGERS.offered_by("I'm so angry", "en") == "pause"
    assert TRIGGERS.offered_by("Ich bin WÜTEND", "de") == "pause"


def test_the_first_dialogue_in_catalogue_order_wins() -> None:
    assert TRIGGERS.offered_by("so angry, close to panic", "en") == "pause"
    assert TRIGGERS.offered_by("angry and in a panic", "en") == "breathe"


def test_nothing_is_offered_without_a_phrase_in_the_user_s_language() -> None:
    assert TRIGGERS.offered_by("we had a nice evening", "en") is None
    assert TRIGGERS.offered_by("wütend", "en") is None
    assert TRIGGERS.offered_by("we're fighting", "fr") is None
