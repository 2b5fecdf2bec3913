"""The crisis screen in two tiers: the rules first, then the learned stage.

The rules (:class:`~bot.safety.screen.Screen`) are precise on what is said plainly: when
they fire, the crisis answer is given at once, unless the learned stage finds the message
harmless (a past, resolved event; a documentary), when the person is asked first.
Otherwise the learned stage estimates the risk that the message is a disclosure said in
other words: above a locale's ``answer_at`` the answer is given as well; between
``ask_at`` and ``answer_at`` the person is asked first ("Are you safe right now?"), so
that a false alarm costs one question and a real disclosure is not missed; below
``ask_at`` the message goes on to the dialogue.

Like the rules, :meth:`CrisisScreen.assess` is pure and total: any input, no I/O, nothing
logged, and a :class:`Verdict` carries category ids, never the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.safety.learned import LearnedStage, load_or_train
from bot.safety.screen import LearnedSpec, Screen, normalise

Tier = Literal["rules", "learned"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the screen concluded about one message.

    ``ask`` is set when the screen is unsure (the learned stage's middle band, or a rule
    hit the learned stage finds harmless): the person is asked whether they are safe
    before anything else. ``categories`` lists every category that fired (rules) or
    the likeliest one (learned), in priority order; ``category`` is the first.
    """

    category: str
    categories: tuple[str, ...]
    tier: Tier
    ask: bool = False


@dataclass(frozen=True, slots=True)
class _Stage:
    model: LearnedStage
    spec: LearnedSpec


class CrisisScreen:
    """Both tiers, per locale. Build once at start-up (see :meth:`load`) and share it."""

    def __init__(self, rules: Screen, stages: Mapping[str, _Stage] | None = None) -> None:
        self.rules = rules
        self._stages = dict(stages or {})

    @classmethod
    def load(cls, safety_file: Path, cache_dir: Path | None = None) -> CrisisScreen:
        """The rules of ``safety_file`` and, for each locale that declares one, its learned
        stage, trained on the phrases it names or read from the cache. Phrase paths are
        relative to the real file (a linked ``safety.yaml`` finds the phrases beside its
        target)."""
        rules = Screen.from_yaml(safety_file)
        stages = {}
        folder = safety_file.resolve().parent
        for code, locale in rules.spec.locales.items():
            if locale.learned is not None:
                model = load_or_train(folder / locale.learned.phrases, cache_dir)
                stages[code] = _Stage(model, locale.learned)
        return cls(rules, stages)

    def assess(self, text: str, locale: str = "en") -> Verdict | None:
        """Screen one message; ``None`` means it goes on to the dialogue."""
        normalised = normalise(text)  # once, for both tiers
        detection = self.rules.classify_normalised(normalised, locale)
        stage = self._stage_for(locale)
        if stage is not None and len(normalised.split()) < stage.spec.min_words:
            stage = None  # too little for n-grams to judge: the rules alone decide
        if detection is not None:
            doubted = stage is not None and self._doubts(stage, normalised)
            return Verdict(detection.category, detection.categories, "rules", ask=doubted)
        if stage is None:
            return None
        estimate = stage.model.estimate_normalised(normalised)
        if estimate.risk < stage.spec.ask_at:
            return None
        ask = estimate.risk < stage.spec.answer_at
        return Verdict(estimate.category, (estimate.category,), "learned", ask=ask)

    @staticmethod
    def _doubts(stage: _Stage, normalised: str) -> bool:
        """Whether the learned stage finds a message the rules fired on harmless."""
        threshold = stage.spec.confirm_rules_at
        return threshold > 0 and stage.model.estimate_normalised(normalised).risk < threshold

    def _stage_for(self, locale: str) -> _Stage | None:
        """The locale's own learned stage, else the fallback locale's."""
        own = self._stages.get(self.rules.resolve(locale))
        return own or self._stages.get(self.rules.spec.fallback_locale)
