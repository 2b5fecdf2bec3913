"""Measure the crisis screen on its labelled phrases: ``python -m bot.safety.evaluate``.

For each locale with labelled phrases (``dialogues/safety_phrases/<locale>.yaml``) it prints,
for the held-out part (never trained or tuned on) and then for the training part, what each
tier did: how many disclosures the rules answered, how many the learned stage answered, how
many it asked about ("Are you safe right now?"), per category and per style (direct or
indirect); and on the harmless messages, per kind, how often each tier raised an alarm.

How it counts (the project's aims, checked on the held-out part):
- a disclosure is caught when it is answered or asked about: recall >= 0.97 overall and
  >= 0.93 in every category;
- on a harmless message an answer counts as one false positive and a question as half:
  false positives <= 0.03.
The exit status is 1 when a held-out part misses an aim, so CI can use it as a gate.

``--cross-validate`` instead splits the training part in five and prints, for a grid of
thresholds, what the screen would do on each fifth when trained on the rest: that is how
the thresholds in ``safety.yaml`` are chosen, without looking at the held-out part.
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.safety.learned import LearnedStage
from bot.safety.phrases import NONE, LabelledPhrases, Part
from bot.safety.screen import LearnedSpec, Screen, normalise
from bot.safety.tiers import CrisisScreen, Verdict

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SAFETY = ROOT / "dialogues" / "safety.yaml"
MIN_RECALL = 0.97
MIN_CATEGORY_RECALL = 0.93
MAX_FALSE_POSITIVES = 0.03
OUTCOMES = ("rules", "answered", "asked")
"""What the screen can do with a message, besides letting it through."""


def outcome(verdict: Verdict | None) -> str | None:
    """ "rules" (answered by the rules), "answered" (by the learned stage), "asked", or None."""
    if verdict is None:
        return None
    if verdict.ask:
        return "asked"
    return "rules" if verdict.tier == "rules" else "answered"


@dataclass
class Tally:
    """Outcomes for one group of phrases (a category and style, or a kind of negative)."""

    total: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    right_category: int = 0

    def add(self, result: str | None, right: bool) -> None:
        self.total += 1
        if result is not None:
            self.outcomes[result] += 1
            self.right_category += right

    def merged(self, other: Tally) -> Tally:
        return Tally(
            self.total + other.total,
            self.outcomes + other.outcomes,
            self.right_category + other.right_category,
        )

    def share(self, *results: str) -> float:
        return sum(self.outcomes[r] for r in results) / self.total if self.total else 0.0

    @property
    def caught(self) -> float:
        """Share of disclosures answered or asked about."""
        return self.share(*OUTCOMES)

    @property
    def false_positives(self) -> float:
        """Share of harmless messages alarmed, a question counting half."""
        return self.share("rules", "answered") + self.share("asked") / 2


@dataclass
class Report:
    """Tallies for one part of the labelled set."""

    positives: dict[tuple[str, str], Tally] = field(default_factory=dict)
    negatives: dict[str, Tally] = field(default_factory=dict)

    def category(self, name: str) -> Tally:
        return _sum(t for (category, _), t in self.positives.items() if category == name)

    def style(self, name: str) -> Tally:
        return _sum(t for (_, style), t in self.positives.items() if style == name)

    @property
    def all_positives(self) -> Tally:
        return _sum(self.positives.values())

    @property
    def all_negatives(self) -> Tally:
        return _sum(self.negatives.values())

    def categories(self) -> list[str]:
        return sorted({category for category, _ in self.positives})

    def misses(self) -> list[str]:
        """Why this part misses the aims (empty when it meets them)."""
        found = []
        if self.all_positives.caught < MIN_RECALL:
            found.append(f"recall {self.all_positives.caught:.1%} < {MIN_RECALL:.0%}")
        for name in self.categories():
            if self.category(name).caught < MIN_CATEGORY_RECALL:
                recall = self.category(name).caught
                found.append(f"{name} recall {recall:.1%} < {MIN_CATEGORY_RECALL:.0%}")
        if self.all_negatives.false_positives > MAX_FALSE_POSITIVES:
            rate = self.all_negatives.false_positives
            found.append(f"false positives {rate:.1%} > {MAX_FALSE_POSITIVES:.0%}")
        return found


def _sum(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total = total.merged(tally)
    return total


Assess = Callable[[str], Verdict | None]


def measure(assess: Assess, part: Part) -> Report:
    """Run every phrase of ``part`` through ``assess`` and tally the outcomes."""
    report = Report()
    for category, styles in part.positives.items():
        for style, text in styles.items():
            verdict = assess(text)
            right = verdict is not None and category in verdict.categories
            report.positives.setdefault((category, style), Tally()).add(outcome(verdict), right)
    for kind, texts in part.negatives.items():
        tally = report.negatives.setdefault(kind, Tally())
        for text in texts:
            tally.add(outcome(assess(text)), False)
    return report


def _row(name: str, tally: Tally, *, positive: bool) -> str:
    shares = "  ".join(f"{tally.share(r):6.1%}" for r in OUTCOMES)
    if positive:
        right = tally.right_category / tally.total if tally.total else 0.0
        return f"  {name:<32}{tally.total:>5}  {shares}  {tally.caught:6.1%}  {right:6.1%}"
    return f"  {name:<32}{tally.total:>5}  {shares}  {tally.false_positives:6.1%}"


def render(title: str, report: Report) -> str:
    """A fixed-width table of one part: positives by category and style, negatives by kind."""
    head = f"  {'':<32}{'n':>5}  {'rules':>6}  {'model':>6}  {'asked':>6}"
    lines = [f"{title}:", f"{head}  {'caught':>6}  {'right':>6}"]
    for name in report.categories():
        lines.append(_row(name, report.category(name), positive=True))
    for style in ("direct", "indirect"):
        lines.append(_row(f"({style})", report.style(style), positive=True))
    lines.append(_row("all disclosures", report.all_positives, positive=True))
    lines.append(f"{head}  {'false+':>6}   (a question counts half)")
    for kind in sorted(report.negatives):
        lines.append(_row(f"harmless: {kind}", report.negatives[kind], positive=False))
    lines.append(_row("all harmless", report.all_negatives, positive=False))
    return "\n".join(lines)


# --- choosing thresholds by cross-validation on the training part -------------------------


def cross_validate(
    rules: Screen, phrases: LabelledPhrases, min_words: int, folds: int = 5, seed: int = 12
) -> list[tuple[str, float, float]]:
    """For each fold of the training part, train on the others and record (label, rules
    fired?, risk) for each held-back phrase: enough to score any pair of thresholds. On a
    message shorter than ``min_words`` the rules alone decide, as in the bot: its risk is
    recorded as certain when they fire and as none when they do not."""
    examples = sorted(set(phrases.train.examples()))
    random.Random(seed).shuffle(examples)
    results: list[tuple[str, float, float]] = []
    for fold in range(folds):
        held = examples[fold::folds]
        model = LearnedStage.train([e for i, e in enumerate(examples) if i % folds != fold])
        for text, label in held:
            fired = 1.0 if rules.classify(text, phrases.locale) is not None else 0.0
            short = len(normalise(text).split()) < min_words
            risk = fired if short else model.estimate(text).risk
            results.append((label, fired, risk))
    return results


def threshold_table(results: Sequence[tuple[str, float, float]]) -> str:
    """Recall and false positives (question = half) for a grid of thresholds."""
    lines = ["  ask_at answer_at confirm   recall  false+  (cross-validated, training part)"]
    positives = [(fired, risk) for label, fired, risk in results if label != NONE]
    negatives = [(fired, risk) for label, fired, risk in results if label == NONE]
    for ask_at in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6):
        for answer_at in (0.8, 0.9, 0.95):
            for confirm in (0.0, 0.2, 0.4):
                spec = LearnedSpec(
                    phrases="-", ask_at=ask_at, answer_at=answer_at, confirm_rules_at=confirm
                )
                recall = sum(_alarm(f, r, spec) > 0 for f, r in positives) / len(positives)
                false = sum(_alarm(f, r, spec) for f, r in negatives) / len(negatives)
                lines.append(
                    f"  {ask_at:6.2f} {answer_at:9.2f} {confirm:7.2f}  {recall:7.1%}  {false:6.1%}"
                )
    return "\n".join(lines)


def _alarm(fired: float, risk: float, spec: LearnedSpec) -> float:
    """1 for an answer, 0.5 for a question, 0 for nothing."""
    if fired:
        return 0.5 if risk < spec.confirm_rules_at else 1.0
    if risk >= spec.answer_at:
        return 1.0
    return 0.5 if risk >= spec.ask_at else 0.0


# --- command line -------------------------------------------------------------------------


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.safety.evaluate", description=__doc__)
    parser.add_argument("--safety", type=Path, default=DEFAULT_SAFETY)
    parser.add_argument("--cross-validate", action="store_true", help="choose thresholds")
    parser.add_argument("--train-part", action="store_true", help="also tally the train part")
    return parser.parse_args(argv)


def _assess(screen: CrisisScreen, locale: str, text: str) -> Verdict | None:
    return screen.assess(text, locale)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the reports; return 0 when every held-out part meets the aims, 1 otherwise."""
    args = _arguments(argv)
    screen = CrisisScreen.load(args.safety)
    failed = False
    for code, locale in screen.rules.spec.locales.items():
        if locale.learned is None:
            continue
        phrases = LabelledPhrases.from_yaml(args.safety.resolve().parent / locale.learned.phrases)
        if args.cross_validate:
            results = cross_validate(screen.rules, phrases, locale.learned.min_words)
            print(f"[{code}]\n{threshold_table(results)}")
            continue
        assess = functools.partial(_assess, screen, code)
        held = measure(assess, phrases.heldout)
        print(render(f"[{code}] held-out part (never trained or tuned on)", held))
        if args.train_part:
            trained = measure(assess, phrases.train)
            print(render(f"[{code}] training part (in-sample)", trained))
        misses = held.misses()
        print(f"[{code}] {'FAIL: ' + '; '.join(misses) if misses else 'PASS'}")
        failed = failed or bool(misses)
    aims = (
        f"aims on held-out: recall >= {MIN_RECALL:.0%}, every category >= "
        f"{MIN_CATEGORY_RECALL:.0%}, false positives <= {MAX_FALSE_POSITIVES:.0%}"
    )
    print(aims)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
