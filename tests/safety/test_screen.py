"""Tests for the crisis screen (bot/safety/screen.py) and its data (dialogues/safety.yaml).

The recall / false-positive bar is checked on the labelled phrases in phrases.yaml; the rest
pins down behaviour that the bar alone would not: normalisation, totality on hostile input,
that a detection never carries the text, that the fast matcher is exactly the patterns, and
that the words the bot says keep to the project's tone rules.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

import bot.safety.screen as screen_module
from bot.safety import evaluate
from bot.safety.evaluate import (
    HELDOUT_MAX_FPR,
    HELDOUT_MIN_RECALL,
    MAX_FPR,
    MIN_RECALL,
    PhraseSet,
    score,
)
from bot.safety.screen import (
    Detection,
    Screen,
    _checked,
    _mask,
    normalise,
)

ROOT = Path(__file__).resolve().parents[2]
SAFETY = ROOT / "dialogues" / "safety.yaml"
PHRASES = Path(__file__).with_name("phrases.yaml")
CATEGORIES = (
    "suicide_self_harm",
    "partner_violence_fear",
    "sexual_coercion",
    "child_at_risk",
    "eating_disorder",
    "substance_emergency",
)


@pytest.fixture(scope="module")
def screen() -> Screen:
    """The real screen, compiled once for the module (compiling takes about a second)."""
    return Screen.from_yaml(SAFETY)


@pytest.fixture(scope="module")
def phrases() -> PhraseSet:
    """The labelled evaluation set."""
    return PhraseSet.from_yaml(PHRASES)


def _all_phrases(phrases: PhraseSet) -> list[str]:
    positives, negatives = phrases.whole()
    return [p for items in positives.values() for p in items] + negatives


# --- the bar -------------------------------------------------------------------------------


def test_labelled_set_is_big_enough_and_has_a_heldout_fifth(phrases: PhraseSet) -> None:
    positives, negatives = phrases.whole()
    assert set(positives) == set(CATEGORIES)
    assert sum(len(items) for items in positives.values()) >= 200
    assert len(negatives) >= 200
    assert all(len(items) >= 20 for items in positives.values())
    held = sum(len(items) for items in phrases.heldout_positives.values())
    assert 0.18 <= held / sum(len(items) for items in positives.values()) <= 0.25
    assert 0.18 <= len(phrases.heldout_negatives) / len(negatives) <= 0.25


def test_no_phrase_is_labelled_both_ways(phrases: PhraseSet) -> None:
    positives, negatives = phrases.whole()
    assert not {p for items in positives.values() for p in items} & set(negatives)


def test_labelled_set_meets_the_bar_and_held_out_stays_above_its_floor(
    screen: Screen, phrases: PhraseSet
) -> None:
    labelled = score(screen, phrases.positives, phrases.negatives, locale=phrases.locale)
    assert labelled.recall >= MIN_RECALL
    assert labelled.fpr <= MAX_FPR
    held = score(screen, phrases.heldout_positives, phrases.heldout_negatives, phrases.locale)
    assert held.recall >= HELDOUT_MIN_RECALL
    assert held.fpr <= HELDOUT_MAX_FPR


def test_no_category_is_left_far_behind(screen: Screen, phrases: PhraseSet) -> None:
    scores = score(screen, *phrases.whole(), locale=phrases.locale)
    for category in CATEGORIES:
        assert scores.category_recall(category) >= 0.9, category


def test_evaluate_command_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate.main([]) == 0
    out = capsys.readouterr().out
    assert "held-out" in out and "whole set" in out and "PASS" in out


# --- each category, and the hard negatives -------------------------------------------------

FIRES = {
    "suicide_self_harm": [
        "kms",
        "i want to unalive myself",
        "dont want to live anymore",
        "wanna die",
        "I just want it all to stop",
        "i want to d1e",
    ],
    "partner_violence_fear": [
        "he grabbed my throat",
        "I'm scared to go home",
        "im scared to go home",
        "she hits me",
        "he said he'd hurt me if i leave",
    ],
    "sexual_coercion": [
        "he forced me to have sex",
        "i said no but he kept going",
        "he threatened to post my nudes",
    ],
    "child_at_risk": [
        "my kid is scared of him",
        "he hits the kids",
        "my daughter said he touched her",
    ],
    "eating_disorder": [
        "I haven't eaten in days on purpose",
        "i've been throwing up after every meal",
        "im starving myself",
    ],
    "substance_emergency": [
        "took a bunch of pills",
        "he's passed out and won't wake up",
        "i think i overdosed",
    ],
}


@pytest.mark.parametrize(
    ("category", "text"), [(c, t) for c, texts in FIRES.items() for t in texts]
)
def test_category_fires(screen: Screen, category: str, text: str) -> None:
    detection = screen.classify(text)
    assert detection is not None
    assert category in detection.categories


HARD_NEGATIVES = [
    "I'm dying to see you",
    "this traffic is killing me",
    "my partner hit the gym",
    "I could kill for a coffee",
    "we killed it at trivia",
    "I'm scared of spiders",
    "she beat me at chess",
    "I'm scared he'll leave me",
    "he hurt my feelings",
    "we had a huge fight about the dishes",
    "I'm so angry I could scream",
    "i'm starving, what should we cook",
    "we got wasted at the wedding",
    "she hit me up last night",
    "i want to end things with her",
    "",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negative_does_not_fire(screen: Screen, text: str) -> None:
    assert screen.classify(text) is None


def test_priority_order_and_all_categories_reported(screen: Screen) -> None:
    detection = screen.classify("he hits me and i want to kill myself")
    assert detection is not None
    assert detection.category == "suicide_self_harm"
    assert detection.categories[:2] == ("suicide_self_harm", "partner_violence_fear")


def test_detection_carries_ids_never_the_text(screen: Screen) -> None:
    text = "he grabbed my throat last Tuesday"
    detection = screen.classify(text)
    assert isinstance(detection, Detection)
    assert {f.name for f in fields(detection)} == {"category", "pattern_id", "categories"}
    assert re.fullmatch(r"[a-z][a-z0-9_]*", detection.pattern_id)
    assert "tuesday" not in repr(detection).lower()


# --- normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I'm SCARED", "im scared"),
        ("I\u2019m scared", "im scared"),
        ("Im scared", "im scared"),
        ("don\u2018t   want\tto\u00a0live", "dont want to live"),
        ("sooooo tired", "soo tired"),
        ("KILLLLL", "kill"),
        ("i want to d13", "i want to die"),
        ("k1ll myself", "kill myself"),
        ("i took 30 pills at 3am", "i took 30 pills at 3am"),
        ("help!!! now", "help . now"),
        ("first line\nsecond line", "first line . second line"),
        ("zero\u200bwidth", "zerowidth"),
        ("\uff48\uff45 hit me", "he hit me"),
        ("emoji \U0001f62d here", "emoji here"),
        ("under_score", "under score"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_apostrophe_variants_classify_alike(screen: Screen) -> None:
    variants = ["I'm scared to go home", "I\u2019m scared to go home", "im scared to go home"]
    found = {screen.classify(v) for v in variants}
    assert len(found) == 1 and None not in found


def test_ascii_fast_path_matches_full_unicode_path(
    phrases: PhraseSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = [*_all_phrases(phrases), "A\tB\x00C!?;..", "it's `quoted` -- ok!!!", "x_y~z"]
    fast = [normalise(text) for text in samples]
    monkeypatch.setattr(screen_module, "_fold", screen_module._fold_unicode)
    assert fast == [normalise(text) for text in samples]


# --- totality and speed --------------------------------------------------------------------

HOSTILE: list[Any] = [
    "",
    " ",
    "\x00\x01\x02\x1b[31m",
    "\ud800\udfff lone surrogates",
    "\U0001f600" * 10_000,
    "a" * 10_000,
    ("he said . " * 1000)[:10_000],
    "\u202e\u200f\u200d reversed and joined",
    "\ufdfd\ufb01\u2126 compatibility characters",
    "(((((((((( [[[[ \\\\ $$$ ^^^ |||| ))))",
    None,
    b"bytes are not text",
    12345,
    ["a", "list"],
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_classify_is_total(screen: Screen, value: Any) -> None:
    result = screen.classify(value)
    assert result is None or isinstance(result, Detection)
    assert normalise(value) == "" or isinstance(normalise(value), str)


def test_classify_is_total_on_random_text(screen: Screen) -> None:
    rng = random.Random(20240607)
    alphabet = [chr(c) for c in range(0, 0x3000) if not 0xD800 <= c <= 0xDFFF] + ["\U0001f480"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        screen.classify(text, rng.choice(["en", "de", "", "xx-YY", "EN_gb"]))


def test_long_input_cannot_backtrack_catastrophically(screen: Screen) -> None:
    """A guard against a pattern that backtracks without bound (seconds to minutes on
    10,000 characters), not a speed target: benchmarks/safety.py measures speed."""
    text = ("we argued again and i'm tired, nothing else. " * 300)[:10_000]
    started = time.perf_counter()
    screen.classify(text)
    assert time.perf_counter() - started < 2.0


# --- the compiled form is exactly the patterns ---------------------------------------------


def test_fast_matcher_agrees_with_plain_patterns(screen: Screen, phrases: PhraseSet) -> None:
    spec = screen.spec.locales["en"]
    texts = [normalise(t) for t in _all_phrases(phrases)]
    for compiled in screen._locales["en"].categories:
        plain = [pattern for _, pattern in compiled.patterns]
        for text in texts:
            fast = compiled.match.start(text) is not None
            assert fast == any(p.search(text) for p in plain), (compiled.category, text)
        unless = spec.patterns[compiled.category].unless
        if unless:
            sources = [_checked(p, spec.fragments, "test") for p in unless]
            exact = re.compile("|".join(f"(?:{s})" for s in sources))
            mask = _mask(sources)
            for text in texts:
                assert mask.mask(text) == exact.sub(" ~ ", text), (compiled.category, text)


# --- locales ---------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "EN", "en-GB", "en_us", "de", "xx", "", None])
def test_any_locale_gets_the_fallback_patterns(screen: Screen, locale: Any) -> None:
    detection = screen.classify("he grabbed my throat", locale)
    assert detection is not None and detection.category == "partner_violence_fear"


# --- what the bot says ---------------------------------------------------------------------


@pytest.mark.parametrize("category", CATEGORIES)
def test_message_tone(screen: Screen, category: str) -> None:
    text = screen.message(category, "en")
    lowered = text.lower()
    assert "not alone" in lowered
    assert "not a crisis service" in lowered
    assert "below" in lowered
    assert "you should" not in lowered
    assert len(text) < 500
    assert not re.search(r"[*_`<>\[\]]", text)


def test_grounding_and_way_back(screen: Screen) -> None:
    grounding = screen.grounding("de")
    assert grounding.intro and len(grounding.steps) >= 4
    assert all("you should" not in step.lower() for step in grounding.steps)
    assert "/help_now" in screen.way_back("en")


# --- loading errors ------------------------------------------------------------------------


def _with_pattern(regex: str, category: str = "suicide_self_harm") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SAFETY.read_text(encoding="utf-8"))
    data["locales"]["en"]["patterns"][category]["match"].append({"id": "extra", "re": regex})
    return data


@pytest.mark.parametrize(
    "regex",
    [r"\b(unclosed", r"\b(capturing) group", r"\b<no_such_fragment> x"],
)
def test_bad_pattern_is_refused_at_load(regex: str) -> None:
    with pytest.raises(ValueError):
        Screen.from_dict(_with_pattern(regex))


def test_unknown_category_is_refused() -> None:
    data: dict[str, Any] = yaml.safe_load(SAFETY.read_text(encoding="utf-8"))
    data["locales"]["en"]["patterns"]["gambling"] = {"match": [{"id": "x", "re": "x"}]}
    with pytest.raises(ValueError):
        Screen.from_dict(data)


def test_validate_hook_accepts_the_real_file_and_points_at_bad_patterns(tmp_path: Path) -> None:
    from bot.dialogue.loader import parse_yaml

    data, source, problems = parse_yaml(SAFETY)
    assert problems == [] and screen_module.check_file(data, source) == []
    bad = tmp_path / "safety.yaml"
    bad.write_text(yaml.safe_dump(_with_pattern(r"\b(unclosed")), encoding="utf-8")
    data, source, _ = parse_yaml(bad)
    found = screen_module.check_file(data, source)
    assert len(found) == 1 and "invalid regular expression" in found[0].message
    assert found[0].line > 1
    assert screen_module.check_file({"patterns": ["whatever"]}, source)
