"""Measure the crisis screen against the labelled phrases: ``python -m bot.safety.evaluate``.

Prints recall per category, overall recall and the false-positive rate for the main lists,
the held-out lists and both together, then exits 1 if the labelled set misses the bar
(recall below 0.97 or false positives above 0.03) or the held-out lists, never tuned on,
fall below their regression floor, so CI can run it as a gate.

A positive counts as recalled when its labelled category is among the categories that fired
(the bot shows resources for all of them); a negative is a false positive when anything fires.
``--show-misses`` lists the main-set failures for whoever edits patterns; held-out failures
are only counted, never listed, so that nobody tunes patterns against them by accident.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bot.safety.screen import Screen

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SAFETY = ROOT / "dialogues" / "safety.yaml"
DEFAULT_PHRASES = ROOT / "tests" / "safety" / "phrases.yaml"
MIN_RECALL = 0.97
MAX_FPR = 0.03
# The held-out lists were never tuned on: they measure how the screen does on phrasing it
# has not seen. This floor catches a regression there; it is not the 97% aim.
HELDOUT_MIN_RECALL = 0.80
HELDOUT_MAX_FPR = 0.05


class PhraseSet(BaseModel):
    """``tests/safety/phrases.yaml``: labelled positives by category, and hard negatives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    locale: str = "en"
    positives: dict[str, list[str]]
    negatives: list[str]
    heldout_positives: dict[str, list[str]] = Field(default_factory=dict)
    heldout_negatives: list[str] = Field(default_factory=list)

    @classmethod
    def from_yaml(cls, path: str | Path) -> PhraseSet:
        """Load and validate the phrase file."""
        with Path(path).open(encoding="utf-8") as handle:
            return cls.model_validate(yaml.safe_load(handle))

    def whole(self) -> tuple[dict[str, list[str]], list[str]]:
        """Main and held-out lists merged, for the overall gate."""
        merged = {name: list(items) for name, items in self.positives.items()}
        for name, items in self.heldout_positives.items():
            merged.setdefault(name, []).extend(items)
        return merged, [*self.negatives, *self.heldout_negatives]


@dataclass(frozen=True)
class Scores:
    """Counts for one evaluation run; rates are derived so they can never disagree."""

    hits: Mapping[str, int]
    totals: Mapping[str, int]
    false_positives: int
    negatives: int

    def category_recall(self, category: str) -> float:
        """Share of a category's positives on which that category fired."""
        total = self.totals.get(category, 0)
        return self.hits.get(category, 0) / total if total else 1.0

    @property
    def recall(self) -> float:
        """Share of all positives recalled with their labelled category."""
        total = sum(self.totals.values())
        return sum(self.hits.values()) / total if total else 1.0

    @property
    def fpr(self) -> float:
        """Share of negatives on which any category fired."""
        return self.false_positives / self.negatives if self.negatives else 0.0

    @property
    def passes(self) -> bool:
        """Whether the run meets the project's bar."""
        return self.recall >= MIN_RECALL and self.fpr <= MAX_FPR


def fired(screen: Screen, text: str, locale: str) -> tuple[str, ...]:
    """Every category that fires on ``text`` (empty when none)."""
    detection = screen.classify(text, locale)
    return detection.categories if detection else ()


def missed_positives(
    screen: Screen, positives: Mapping[str, Sequence[str]], locale: str
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(category, phrase, what fired instead) for each positive not recalled."""
    return [
        (category, phrase, found)
        for category, phrases in positives.items()
        for phrase in phrases
        if category not in (found := fired(screen, phrase, locale))
    ]


def false_alarms(
    screen: Screen, negatives: Sequence[str], locale: str
) -> list[tuple[str, tuple[str, ...]]]:
    """(phrase, categories) for each negative on which something fired."""
    return [(p, found) for p in negatives if (found := fired(screen, p, locale))]


def score(
    screen: Screen,
    positives: Mapping[str, Sequence[str]],
    negatives: Sequence[str],
    locale: str = "en",
) -> Scores:
    """Run the screen over labelled phrases and count hits and false positives."""
    misses = missed_positives(screen, positives, locale)
    missed = {name: sum(1 for m in misses if m[0] == name) for name in positives}
    return Scores(
        hits={name: len(items) - missed[name] for name, items in positives.items()},
        totals={name: len(items) for name, items in positives.items()},
        false_positives=len(false_alarms(screen, negatives, locale)),
        negatives=len(negatives),
    )


def report(title: str, scores: Scores, categories: Sequence[str]) -> str:
    """A small fixed-width table of one run."""
    lines = [f"{title}:"]
    for name in categories:
        if scores.totals.get(name):
            recall = scores.category_recall(name)
            count = f"{scores.hits.get(name, 0)}/{scores.totals[name]}"
            lines.append(f"  {name:<24} recall {recall:6.1%}  ({count})")
    positives = f"{sum(scores.hits.values())}/{sum(scores.totals.values())}"
    negatives = f"{scores.false_positives}/{scores.negatives}"
    lines.append(f"  {'overall':<24} recall {scores.recall:6.1%}  ({positives})")
    lines.append(f"  {'false positives':<24} rate   {scores.fpr:6.1%}  ({negatives})")
    return "\n".join(lines)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.safety.evaluate", description=__doc__)
    parser.add_argument("--safety", type=Path, default=DEFAULT_SAFETY)
    parser.add_argument("--phrases", type=Path, default=DEFAULT_PHRASES)
    parser.add_argument("--show-misses", action="store_true", help="list main-set failures")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report; return 0 when both bars are met, 1 otherwise."""
    args = _arguments(argv)
    screen = Screen.from_yaml(args.safety)
    phrases = PhraseSet.from_yaml(args.phrases)
    order = screen.categories
    locale = phrases.locale
    whole = score(screen, *phrases.whole(), locale=locale)
    print(
        report(
            "labelled set (tuned on)",
            score(screen, phrases.positives, phrases.negatives, locale),
            order,
        )
    )
    held = score(screen, phrases.heldout_positives, phrases.heldout_negatives, locale)
    print(report("held-out", held, order))
    print(report("whole set", whole, order))
    if args.show_misses:
        for category, phrase, found in missed_positives(screen, phrases.positives, locale):
            print(f"MISS  {category:<22} {phrase!r}  fired={list(found)}")
        for phrase, found in false_alarms(screen, phrases.negatives, locale):
            print(f"FALSE {phrase!r}  fired={list(found)}")
    main_set = score(screen, phrases.positives, phrases.negatives, locale)
    passed = main_set.passes and held_out_holds(held)
    verdict = "PASS" if passed else "FAIL"
    print(
        f"{verdict}: need recall >= {MIN_RECALL:.0%} and false positives <= {MAX_FPR:.0%} on the"
        f" labelled set, and >= {HELDOUT_MIN_RECALL:.0%} / <= {HELDOUT_MAX_FPR:.0%} held out"
    )
    return 0 if passed else 1


def held_out_holds(scores: Scores) -> bool:
    """Whether recall on never-tuned phrasing stays above its regression floor."""
    return scores.recall >= HELDOUT_MIN_RECALL and scores.fpr <= HELDOUT_MAX_FPR


if __name__ == "__main__":
    sys.exit(main())
