"""The learned second stage of the crisis screen.

Why: the rules in ``safety.yaml`` catch what is said plainly, but people in distress often
say it sideways ("everyone would be fine without me", "I sleep with my shoes on"), and no
list of patterns keeps up with that. A linear model over word and character n-grams,
trained on the labelled phrases in the repository, generalises to new wording far better.

What: TF-IDF over word 1-2-grams and ``char_wb`` 2-5-grams of the normalised text (the
same :func:`~bot.safety.screen.normalise` the rules see, so apostrophes, case and repeated
letters do not matter), and a multinomial logistic regression over the crisis categories
plus "none". Logistic regression is fitted by log-loss, so its probabilities are calibrated
by construction (a wrapper calibrating it again by cross-validation cost four fits and
moved nothing measurable). :meth:`LearnedStage.estimate` gives the risk that a message is a
disclosure (one minus the probability of "none") and the likeliest category.

Training is deterministic (ordered data, a deterministic solver) and takes about two seconds;
:func:`load_or_train` keeps the fitted model in a cache file keyed by the phrases' digest,
this module's version and scikit-learn's, so the terminal and each bot process start fast.
The cache is the operator's own directory: a pickle from elsewhere is never loaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.safety.phrases import NONE, LabelledPhrases
from bot.safety.screen import normalise

log = logging.getLogger(__name__)

NONE_WEIGHT = 3.0
MODEL_VERSION = "2"
"""Bump when features or hyperparameters change, so that cached models are not reused."""

_WORDS = TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b").build_analyzer()
_CHARS = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()


def features(text: str) -> list[str]:
    """The n-grams a message is judged by: words and word pairs, and character runs of
    two to five inside each word (which carry typos, inflections and slang spellings).
    Module-level, so that a pickled model refers to it by name."""
    normalised = normalise(text)
    grams: list[str] = _WORDS(normalised) + _CHARS(normalised)
    return grams


@dataclass(frozen=True, slots=True)
class Estimate:
    """The model's view of one message: how likely it is a disclosure of any kind, and
    which category is likeliest if it is."""

    category: str
    risk: float


class LearnedStage:
    """A fitted vectoriser and classifier. Build with :meth:`train` or :func:`load_or_train`."""

    def __init__(self, vectorizer: TfidfVectorizer, model: LogisticRegression) -> None:
        self._vectorizer = vectorizer
        self._model = model
        classes = [str(label) for label in model.classes_]
        self._none = classes.index(NONE)
        self._categories = classes

    @property
    def categories(self) -> tuple[str, ...]:
        """The crisis categories the model knows (without "none")."""
        return tuple(label for label in self._categories if label != NONE)

    @classmethod
    def train(cls, examples: Sequence[tuple[str, str]]) -> LearnedStage:
        """Fit on (text, label) pairs; labels are category ids or :data:`NONE`."""
        ordered = sorted(set(examples))  # the same model whatever the file's order
        texts = [text for text, _ in ordered]
        labels = [label for _, label in ordered]
        vectorizer = TfidfVectorizer(
            analyzer=features, sublinear_tf=True, min_df=2, dtype=np.float32
        )
        matrix = vectorizer.fit_transform(texts)
        # C chosen by cross-validation on the training part (tried 5-30; 10 is as good as
        # any); balanced class weights were tried too, and raised false alarms.
        model = LogisticRegression(C=10.0, max_iter=3000, class_weight={NONE: NONE_WEIGHT})
        model.fit(matrix, labels)
        return cls(vectorizer, model)

    def estimate(self, text: str) -> Estimate:
        """Risk and likeliest category for one message (any string, any length)."""
        probabilities = self._model.predict_proba(self._vectorizer.transform([text]))[0]
        risk = 1.0 - float(probabilities[self._none])
        ranked = np.argsort(probabilities)[::-1]
        category = next(self._categories[i] for i in ranked if i != self._none)
        return Estimate(category, risk)


def default_cache_dir() -> Path:
    """``SECUREBASE_CACHE_DIR``, else ``$XDG_CACHE_HOME/securebase``, else ``~/.cache/...``."""
    configured = os.environ.get("SECUREBASE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "securebase"


def cache_key(phrases: LabelledPhrases) -> str:
    """What a cached model must match: the phrases, this module and scikit-learn."""
    parts = (phrases.digest, MODEL_VERSION, sklearn.__version__, np.__version__)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def load_or_train(phrases: LabelledPhrases, cache_dir: Path | None = None) -> LearnedStage:
    """The model for ``phrases``: from the cache when it holds this exact one, else trained
    on the ``train`` part (never the held-out part) and cached. A cache that cannot be read
    or written is passed over with a warning: the model is then trained in memory."""
    directory = cache_dir if cache_dir is not None else default_cache_dir()
    path = directory / f"crisis-{phrases.locale}-{cache_key(phrases)}.pickle"
    cached = _read(path)
    if cached is not None:
        return cached
    stage = LearnedStage.train(phrases.train.examples())
    _write(path, stage)
    return stage


def _read(path: Path) -> LearnedStage | None:
    try:
        with path.open("rb") as handle:
            stage = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as error:  # a torn or stale file: train again
        log.warning("crisis model cache %s unreadable (%s); training again", path.name, error)
        return None
    return stage if isinstance(stage, LearnedStage) else None


def _write(path: Path, stage: LearnedStage) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            pickle.dump(stage, handle, protocol=pickle.HIGHEST_PROTOCOL)
        Path(handle.name).replace(path)  # atomic: a reader sees the old file or the new
    except OSError as error:
        log.warning("crisis model cache not written (%s); it stays in memory", error)
