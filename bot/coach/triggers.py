"""Trigger phrases: free text that offers a practice (typing "we're fighting" offers pause).

The phrases are folded (:func:`~bot.coach.text.fold`) once, when the coach starts: folding
every phrase of every dialogue for each message typed was a third of a text turn's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.coach.text import fold
from bot.dialogue.schema import Dialogue


@dataclass(frozen=True, slots=True)
class TriggerPhrases:
    """Each locale's folded phrases with the dialogue they offer, in catalogue order."""

    by_locale: Mapping[str, tuple[tuple[str, str], ...]]

    @classmethod
    def of(cls, dialogues: Iterable[Dialogue]) -> TriggerPhrases:
        found: dict[str, list[tuple[str, str]]] = {}
        for dialogue in dialogues:
            for locale, phrases in dialogue.triggers.phrases.items():
                found.setdefault(locale, []).extend((fold(p), dialogue.id) for p in phrases)
        return cls({locale: tuple(pairs) for locale, pairs in found.items()})

    def offered_by(self, text: str, locale: str) -> str | None:
        """The id of the first dialogue one of whose phrases ``text`` contains, if any."""
        folded = fold(text)
        pairs = self.by_locale.get(locale, ())
        return next((dialogue for phrase, dialogue in pairs if phrase in folded), None)
