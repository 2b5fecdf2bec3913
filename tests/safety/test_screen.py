"""Tests for the crisis screen's rules (bot/safety/screen.py, dialogues/safety.yaml) and the
labelled phrases both tiers are measured on (dialogues/safety_phrases/en.yaml).

The two tiers together are tested in test_tiers.py; here: the shape of the labelled set,
that the rules stay precise, normalisation, totality on hostile input, that a detection
never carries the text, that the fast matcher is exactly the patterns, and that the words
the bot says keep to the project's tone rules.
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
from bot.safety.phrases import LabelledPhrases
from bot.safety.screen import (
    Detection,
    Screen,
    _checked,
    _mask,
    normalise,
)

ROOT = Path(__file__).resolve().parents[2]
SAFETY = ROOT / "dialogues" / "safety.yaml"
PHRASES = ROOT / "dialogues" / "safety_phrases" / "en.yaml"
CATEGORIES = (
    "suicide_self_harm",
    "partner_violence_fear",
    "sexual_coercion",
    "child_at_risk",
    "eating_disorder",
    "medical_emergency",
    "harm_to_partner",
)


@pytest.fixture(scope="module")
def screen() -> Screen:
    """The real screen, compiled once for the module (compiling takes about a second)."""
    return Screen.from_yaml(SAFETY)


@pytest.fixture(scope="module")
def phrases() -> LabelledPhrases:
    """The labelled set."""
    return LabelledPhrases.from_yaml(PHRASES)


def _all_phrases(phrases: LabelledPhrases) -> list[str]:
    return [text for part in (phrases.train, phrases.heldout) for text, _ in part.examples()]


# --- the labelled set ------------------------------------------------------------------------


def test_labelled_set_is_big_varied_and_keeps_a_held_out_part(phrases: LabelledPhrases) -> None:
    whole = phrases.train.size + phrases.heldout.size
    assert whole >= 3000
    for part in (phrases.train, phrases.heldout):
        assert set(part.positives) == set(CATEGORIES)
        assert all(len(list(s.items())) >= 50 for s in part.positives.values())
        assert len(part.negatives) >= 8  # figurative, media, sport, cooking, past events...
    positives = [
        style
        for part in (phrases.train, phrases.heldout)
        for styles in part.positives.values()
        for style, _ in styles.items()
    ]
    assert positives.count("indirect") / len(positives) >= 0.40
    assert 0.10 <= phrases.heldout.size / whole <= 0.25


def test_no_phrase_is_in_both_parts_or_labelled_two_ways(phrases: LabelledPhrases) -> None:
    def key(text: str) -> str:
        return " ".join(text.casefold().split())

    train = {key(text): label for text, label in phrases.train.examples()}
    held = {key(text): label for text, label in phrases.heldout.examples()}
    assert not train.keys() & held.keys()
    for part in (phrases.train, phrases.heldout):
        labels: dict[str, str] = {}
        for text, label in part.examples():
            assert labels.setdefault(key(text), label) == label, text


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
    "medical_emergency": [
        "took a bunch of pills",
        "he's passed out and won't wake up",
        "i think i overdosed",
    ],
    "harm_to_partner": [
        "I just pushed her, I'm so angry",
        "I'm going to hit him if he says that again",
        "I hit her",
        "I could kill him right now",
        "i slapped my wife",
        "im scared of what i might do to her",
        "i had my hands around his throat",
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
    "i pushed him to apply for the job",
    "i pushed her away when she tried to talk",
    "i could kill him for eating my leftovers",
    "i hit him up after work",
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
    phrases: LabelledPhrases, monkeypatch: pytest.MonkeyPatch
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
def test_hostile_input_is_screened_as_nothing(screen: Screen, value: Any) -> None:
    """None of these is a disclosure: the screen must neither raise nor fire on them."""
    assert screen.classify(value) is None
    assert isinstance(normalise(value), str)


def test_random_characters_never_fire(screen: Screen) -> None:
    """Noise in any script, at any length, in any locale: no crisis answer for keyboard
    mash, and no exception (a fired category here would be a pattern matching nothing)."""
    rng = random.Random(20240607)
    alphabet = [chr(c) for c in range(0, 0x3000) if not 0xD800 <= c <= 0xDFFF] + ["\U0001f480"]
    fired = []
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        if screen.classify(text, rng.choice(["en", "de", "", "xx-YY", "EN_gb"])) is not None:
            fired.append(text)
    assert fired == []


def test_long_input_cannot_backtrack_catastrophically(screen: Screen) -> None:
    """A guard against a pattern that backtracks without bound (seconds to minutes on
    10,000 characters), not a speed target: benchmarks/safety.py measures speed."""
    text = ("we argued again and i'm tired, nothing else. " * 300)[:10_000]
    started = time.perf_counter()
    screen.classify(text)
    assert time.perf_counter() - started < 2.0


# --- the compiled form is exactly the patterns ---------------------------------------------


def test_fast_matcher_agrees_with_plain_patterns(screen: Screen, phrases: LabelledPhrases) -> None:
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
    if category == "harm_to_partner":  # distance first, no lecture, never "go back and talk"
        assert "put down" in lowered and "don't follow" in lowered and "emergency" in lowered
        assert "talk" not in lowered and "fault" not in lowered
    else:
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
    broken = _with_pattern(r"\b(unclosed")
    del broken["locales"]["en"]["learned"]  # its phrases are not beside this copy
    bad.write_text(yaml.safe_dump(broken), encoding="utf-8")
    data, source, _ = parse_yaml(bad)
    found = screen_module.check_file(data, source)
    assert len(found) == 1 and "invalid regular expression" in found[0].message
    assert found[0].line > 1
    assert screen_module.check_file({"patterns": ["whatever"]}, source)


def test_validate_points_at_labelled_phrases_that_cannot_train(tmp_path: Path) -> None:
    from bot.dialogue.loader import parse_yaml

    data: dict[str, Any] = yaml.safe_load(SAFETY.read_text(encoding="utf-8"))
    data["locales"]["en"]["learned"]["phrases"] = "phrases.yaml"
    (tmp_path / "safety.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    cases = {
        "No such file": None,
        "unknown categories ['gambling']": {
            "locale": "en",
            "train": {"positives": {"gambling": {"direct": ["x"]}}, "negatives": {"a": ["y"]}},
            "heldout": {},
        },
        "needs positives and negatives": {"locale": "en", "train": {}, "heldout": {}},
    }
    for expected, phrases in cases.items():
        if phrases is not None:
            (tmp_path / "phrases.yaml").write_text(yaml.safe_dump(phrases), encoding="utf-8")
        parsed, source, _ = parse_yaml(tmp_path / "safety.yaml")
        (found,) = screen_module.check_file(parsed, source)
        assert expected in found.message and found.line > 1
