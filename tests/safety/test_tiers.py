"""The crisis screen's two tiers together (bot/safety/tiers.py), the learned stage
(bot/safety/learned.py) and its evaluation (bot/safety/evaluate.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.safety import evaluate, learned
from bot.safety.learned import LearnedStage, cache_key, features, load_or_train
from bot.safety.phrases import LabelledPhrases
from bot.safety.screen import Screen, normalise
from bot.safety.tiers import CrisisScreen

ROOT = Path(__file__).resolve().parents[2]
SAFETY = ROOT / "dialogues" / "safety.yaml"
PHRASES = ROOT / "dialogues" / "safety_phrases" / "en.yaml"


@pytest.fixture(scope="module")
def crisis() -> CrisisScreen:
    return CrisisScreen.load(SAFETY)


@pytest.fixture(scope="module")
def phrases() -> LabelledPhrases:
    return LabelledPhrases.from_yaml(PHRASES)


@pytest.fixture(scope="module")
def held_out(crisis: CrisisScreen, phrases: LabelledPhrases) -> evaluate.Report:
    return evaluate.measure(lambda text: crisis.assess(text, "en"), phrases.heldout)


# --- what people really type (the issue's own examples) ---------------------------------

CAUGHT = {
    "suicide_self_harm": [
        "I wish I wasn't alive",
        "I want to disappear",
        "I can't do this anymore",
    ],
    "partner_violence_fear": [
        "he pushed me",
        "he scares me",
        "he smashed a plate next to me",
        "I'm locked in the bathroom",
    ],
    "harm_to_partner": [
        "I just pushed her, I'm so angry",
        "I'm going to hit him if he says that again",
        "I hit her",
        "I could kill him right now",
    ],
}


@pytest.mark.parametrize(
    ("category", "text"), [(c, t) for c, texts in CAUGHT.items() for t in texts]
)
def test_everyday_disclosures_are_caught(crisis: CrisisScreen, category: str, text: str) -> None:
    verdict = crisis.assess(text, "en")
    assert verdict is not None, text
    assert verdict.category == category


def test_the_threat_to_take_the_kids_is_caught(crisis: CrisisScreen) -> None:
    verdict = crisis.assess("he threatened to take the kids", "en")
    assert verdict is not None
    assert verdict.category in {"partner_violence_fear", "child_at_risk"}


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "not now",
        "furious",
        "we argued about the dishes again",
        "I felt hurt when you left",
        "I felt kind of dismissed and small",
        "we're fighting again",
        "we just had a huge fight, my heart is pounding",
    ],
)
def test_ordinary_answers_to_the_coach_go_through(crisis: CrisisScreen, text: str) -> None:
    assert crisis.assess(text, "en") is None


def test_the_rules_answer_at_once(crisis: CrisisScreen) -> None:
    verdict = crisis.assess("i want to kill myself tonight", "en")
    assert verdict is not None and verdict.tier == "rules" and not verdict.ask


def test_a_past_resolved_event_is_asked_about_not_answered(crisis: CrisisScreen) -> None:
    """The rules fire on "used to hit me"; the learned stage knows it is over."""
    text = "my ex used to hit me but that was 15 years ago, my husband now is the gentlest"
    assert crisis.rules.classify(text) is not None
    verdict = crisis.assess(text, "en")
    assert verdict is not None and verdict.ask


def test_short_messages_are_left_to_the_rules(crisis: CrisisScreen) -> None:
    assert crisis.assess("ok", "en") is None
    assert crisis.assess("kms", "en") is not None  # a rule, however short


@pytest.mark.parametrize("value", ["", "   ", "\x00\x01", "a" * 10_000, "🙂" * 500])
def test_assess_is_total_and_quiet_on_noise(crisis: CrisisScreen, value: str) -> None:
    assert crisis.assess(value, "en") is None


def test_another_locale_uses_the_fallback_stage(crisis: CrisisScreen) -> None:
    verdict = crisis.assess("I wish I wasn't alive", "de")
    assert verdict is not None and verdict.category == "suicide_self_harm"


# --- the aims, on the held-out part ----------------------------------------------------


def test_held_out_recall_meets_the_aims(held_out: evaluate.Report) -> None:
    assert held_out.all_positives.caught >= evaluate.MIN_RECALL
    for category in held_out.categories():
        assert held_out.category(category).caught >= evaluate.MIN_CATEGORY_RECALL, category


def test_held_out_harmless_messages_rarely_get_the_crisis_answer(
    held_out: evaluate.Report,
) -> None:
    """Answers (not questions) to harmless messages: the expensive kind of false alarm."""
    assert held_out.all_negatives.share("rules", "answered") <= 0.03


def test_held_out_false_positives_do_not_regress(held_out: evaluate.Report) -> None:
    """NOT the aim (<= 3%): a ceiling just above today's figure (7.5%, nearly all of it
    questions), so that a change that makes it worse is noticed. Lower it as the screen
    improves; the evaluation prints the aim and fails on it."""
    assert held_out.all_negatives.false_positives <= 0.08


def test_evaluate_prints_each_tier_per_category_and_kind(
    capsys: pytest.CaptureFixture[str], held_out: evaluate.Report
) -> None:
    status = evaluate.main([])
    out = capsys.readouterr().out
    assert "held-out" in out and "rules" in out and "asked" in out
    for category in held_out.categories():
        assert category in out
    for kind in ("past_resolved", "media", "ordinary_conflict"):
        assert f"harmless: {kind}" in out
    caught = f"{held_out.all_positives.caught:6.1%}"
    assert any(
        line.strip().startswith("all disclosures") and caught in line for line in out.splitlines()
    )
    assert status == (1 if held_out.misses() else 0)


# --- the learned stage --------------------------------------------------------------------

TINY = [
    ("i want to die tonight", "suicide_self_harm"),
    ("i dont want to be alive", "suicide_self_harm"),
    ("everyone would be better off without me", "suicide_self_harm"),
    ("he hit me again", "partner_violence_fear"),
    ("he hurts me when he drinks", "partner_violence_fear"),
    ("i am scared of him", "partner_violence_fear"),
    ("we watched a film tonight", "none"),
    ("the film was about a man who hits people", "none"),
    ("i want pizza tonight", "none"),
    ("we had a nice walk", "none"),
]


def test_training_is_deterministic() -> None:
    first, second = LearnedStage.train(TINY), LearnedStage.train(list(reversed(TINY)))
    for text in ("i want to die", "he hit me", "pizza and a film"):
        assert first.estimate(text) == second.estimate(text)


def test_the_model_learns_its_categories() -> None:
    stage = LearnedStage.train(TINY * 3)
    assert set(stage.categories) == {"suicide_self_harm", "partner_violence_fear"}
    assert stage.estimate("i want to die").category == "suicide_self_harm"
    assert stage.estimate("he hit me").risk > stage.estimate("a nice walk").risk


def _tiny_phrases(tmp_path: Path) -> Path:
    lines = ["locale: en", "train:", "  positives:"]
    for category in ("suicide_self_harm", "partner_violence_fear"):
        texts = [text for text, label in TINY if label == category]
        lines += [f"    {category}:", f"      direct: {texts!r}"]
    negatives = [text for text, label in TINY if label == "none"]
    lines += ["  negatives:", f"    everyday: {negatives!r}", "heldout: {}"]
    path = tmp_path / "en.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_a_cached_model_is_read_back_instead_of_trained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phrases = _tiny_phrases(tmp_path)
    trained = load_or_train(phrases, tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 1

    def no_training(examples: object) -> LearnedStage:
        raise AssertionError("trained again although the cache holds this model")

    monkeypatch.setattr(LearnedStage, "train", no_training)
    cached = load_or_train(phrases, tmp_path / "cache")
    assert cached.estimate("i want to die") == trained.estimate("i want to die")


def test_a_changed_phrase_file_or_a_broken_cache_trains_again(tmp_path: Path) -> None:
    phrases = _tiny_phrases(tmp_path)
    cache = tmp_path / "cache"
    load_or_train(phrases, cache)
    (file,) = cache.iterdir()
    file.write_bytes(b"not arrays at all")
    stage = load_or_train(phrases, cache)  # a torn file: trained again, rewritten
    assert LearnedStage.load(file).estimate("he hit me") == stage.estimate("he hit me")
    assert stage.estimate("he hit me").category == "partner_violence_fear"
    before = cache_key(phrases)
    phrases.write_text(phrases.read_text() + "\n# changed\n", encoding="utf-8")
    assert cache_key(phrases) != before


def test_a_new_model_replaces_the_old_cache_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    phrases = _tiny_phrases(tmp_path)
    load_or_train(phrases, cache)
    phrases.write_text(phrases.read_text() + "\n# changed\n", encoding="utf-8")
    load_or_train(phrases, cache)
    assert len(list(cache.iterdir())) == 1


def test_the_arrays_score_exactly_as_scikit_learn_does(phrases: LabelledPhrases) -> None:
    """The bot scores without scikit-learn; it must agree with the library it was fitted
    with, on the analyser and on the probabilities."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    examples = sorted(set(phrases.train.examples()))[::7]  # a quick, varied subset
    texts, labels = [t for t, _ in examples], [label for _, label in examples]
    words = TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b").build_analyzer()
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    for text in texts[:300]:
        normal = normalise(text)
        assert sorted(features(text)) == sorted(words(normal) + chars(normal)), text

    stage = LearnedStage.train(examples)
    vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=3)
    model = LogisticRegression(
        C=learned.C,
        max_iter=3000,
        class_weight={"none": learned.NONE_WEIGHT},
        solver="newton-cg",
        tol=1e-3,
    ).fit(vectorizer.fit_transform(texts), labels)
    probabilities = model.predict_proba(vectorizer.transform(texts))
    none = list(model.classes_).index("none")
    for text, row in zip(texts, probabilities, strict=True):
        assert stage.estimate(text).risk == pytest.approx(1 - row[none], abs=1e-6)


@pytest.mark.parametrize("broken", [b"", b"PK\x03\x04 truncated zip", b"not arrays at all"])
def test_an_empty_or_truncated_cache_file_is_trained_over(tmp_path: Path, broken: bytes) -> None:
    phrases, cache = _tiny_phrases(tmp_path), tmp_path / "cache"
    load_or_train(phrases, cache)
    (file,) = cache.iterdir()
    file.write_bytes(broken)
    assert load_or_train(phrases, cache).estimate("i want to die").category == "suicide_self_harm"


def test_an_unwritable_cache_still_gives_a_model(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    stage = load_or_train(_tiny_phrases(tmp_path), blocker / "cache")
    assert stage.estimate("i want to die").category == "suicide_self_harm"


def test_the_held_out_part_is_never_trained_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    original = LearnedStage.train

    def spy(examples: list[tuple[str, str]]) -> LearnedStage:
        seen.extend(text for text, _ in examples)
        return original(examples)

    monkeypatch.setattr(LearnedStage, "train", spy)
    phrases = _tiny_phrases(tmp_path)
    data = LabelledPhrases.from_yaml(phrases).model_dump()
    data["heldout"] = {"positives": {"suicide_self_harm": {"direct": ["held back phrase"]}}}
    phrases.write_text(yaml.safe_dump(data), encoding="utf-8")
    load_or_train(phrases, tmp_path / "cache2")
    assert seen and "held back phrase" not in seen


def test_rules_only_when_no_locale_declares_a_learned_stage() -> None:
    rules = Screen.from_yaml(SAFETY)
    screen = CrisisScreen(rules)
    assert screen.assess("I wish I wasn't alive that much", "en") is None
    verdict = screen.assess("i want to kill myself", "en")
    assert verdict is not None and verdict.tier == "rules"
