"""The learned second stage of the crisis screen.

Why: the rules in ``safety.yaml`` catch what is said plainly, but people in distress often
say it sideways ("everyone would be fine without me", "I sleep with my shoes on"), and no
list of patterns keeps up with that. A linear model over word and character n-grams,
trained on the labelled phrases in the repository, generalises to new wording far better.

What: TF-IDF over word 1-2-grams and ``char_wb`` 2-5-grams of the normalised text (the
same :func:`~bot.safety.screen.normalise` the rules see, so apostrophes, case and repeated
letters do not matter), and a multinomial logistic regression over the crisis categories
plus "none", both fitted by scikit-learn. Logistic regression is fitted by log-loss, so its
probabilities are calibrated by construction, up to one deliberate shift: harmless
examples weigh three times (``NONE_WEIGHT``), which lowers every risk by the same log-odds
(a wrapper calibrating it again by cross-validation cost four fits and moved nothing).
:meth:`LearnedStage.estimate` gives the risk that a message is a disclosure (one minus the
probability of "none") and the likeliest category.

Training is deterministic (ordered data, a deterministic solver) and takes about two seconds
on one core. The fitted model is kept as plain arrays (vocabulary, idf, coefficients) in a
cache file keyed by the phrase file's bytes, this module's version and the libraries', so a bot
process or the terminal starts without training and without importing scikit-learn (most
of a second per process), scores a message with one sparse dot product (tens of
microseconds rather than half a millisecond through scikit-learn's pipeline), and loads no
pickle: the cache is read with ``allow_pickle=False``.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bot.safety.phrases import NONE, LabelledPhrases
from bot.safety.screen import normalise

log = logging.getLogger(__name__)

MODEL_VERSION = "5"
"""Bump when features, hyperparameters or :func:`~bot.safety.screen.normalise` change: the
cache key covers the phrases and library versions, not this code."""
C = 10.0
"""Inverse regularisation, chosen by cross-validation on the training part (5 to 30 tried:
no difference beyond noise)."""
NONE_WEIGHT = 3.0
"""Harmless messages weigh three times a disclosure in training: crises are rare among real
messages, and this keeps the risk of a message with little evidence either way (a name, a
place, "ok") below the question threshold. Balanced weights raised false alarms."""

_TOKEN = re.compile(r"(?u)\b\w+\b")
_CHAR_SIZES = range(2, 6)


def features(text: str) -> list[str]:
    """The n-grams a message is judged by: words and word pairs, and character runs of two
    to five inside each word padded by a space (which carry typos, inflections and slang).
    The same as scikit-learn's ``word`` (1-2) and ``char_wb`` (2-5) analysers, written out
    so that scoring needs no scikit-learn (tests/safety/test_tiers.py checks they agree)."""
    return _grams(normalise(text))


def _grams(normalised: str) -> list[str]:
    """:func:`features` of text already normalised."""
    words = _TOKEN.findall(normalised)
    grams = words + [f"{first} {second}" for first, second in itertools.pairwise(words)]
    for word in normalised.split():
        grams += _character_grams(word)
    return grams


@functools.lru_cache(maxsize=1 << 16)
def _character_grams(word: str) -> tuple[str, ...]:
    """A word's character runs, padded by a space. Cached: the same few thousand words make
    up most messages, and this was half of training time."""
    padded = f" {word} "
    return tuple(
        padded[i : i + size]
        for size in _CHAR_SIZES
        if size <= len(padded)
        for i in range(len(padded) - size + 1)
    )


@dataclass(frozen=True, slots=True)
class Estimate:
    """The model's view of one message: how likely it is a disclosure of any kind, and
    which category is likeliest if it is."""

    category: str
    risk: float


class LearnedStage:
    """A fitted model as plain arrays. Build with :meth:`train` or :func:`load_or_train`."""

    def __init__(
        self,
        terms: Sequence[str],
        idf: NDArray[np.float64],
        coef: NDArray[np.float64],
        intercept: NDArray[np.float64],
        classes: Sequence[str],
    ) -> None:
        self._index = {term: i for i, term in enumerate(terms)}
        self._idf = idf
        self._coef = coef
        self._intercept = intercept
        self._classes = [str(label) for label in classes]
        self._none = self._classes.index(NONE)

    @property
    def categories(self) -> tuple[str, ...]:
        """The crisis categories the model knows (without "none")."""
        return tuple(label for label in self._classes if label != NONE)

    @classmethod
    def train(cls, examples: Sequence[tuple[str, str]]) -> LearnedStage:
        """Fit on (text, label) pairs; labels are category ids or :data:`NONE`."""
        from sklearn.feature_extraction.text import TfidfVectorizer  # training only
        from sklearn.linear_model import LogisticRegression

        ordered = sorted(set(examples))  # the same model whatever the file's order
        # An n-gram seen in fewer than three phrases says more about a phrase than about
        # people; dropping them (a quarter of the vocabulary) saves a third of a second and
        # moved the held-out figures by a few tenths of a point.
        vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=3)
        matrix = vectorizer.fit_transform([text for text, _ in ordered])
        # newton-cg reaches lbfgs's optimum in a third of the time; tol 1e-3 stops it two
        # iterations earlier, within the same tenths (together: training <= 3 s on a core).
        model = LogisticRegression(
            C=C, max_iter=3000, class_weight={NONE: NONE_WEIGHT}, solver="newton-cg", tol=1e-3
        )
        model.fit(matrix, [label for _, label in ordered])
        return cls(
            vectorizer.get_feature_names_out().tolist(),
            vectorizer.idf_,
            model.coef_,
            model.intercept_,
            model.classes_.tolist(),
        )

    def estimate(self, text: str) -> Estimate:
        """Risk and likeliest category for one message (any string, any length): TF-IDF
        with sublinear term frequency and unit length, then the regression's softmax."""
        return self.estimate_normalised(normalise(text))

    def estimate_normalised(self, normalised: str) -> Estimate:
        """:meth:`estimate` for text already passed through :func:`normalise`."""
        grams = _grams(normalised)
        counts = Counter(i for gram in grams if (i := self._index.get(gram)) is not None)
        scores = self._intercept.copy()
        if counts:
            columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = np.fromiter((1.0 + math.log(n) for n in counts.values()), float, len(counts))
            weights = tf * self._idf[columns]
            scores += self._coef[:, columns] @ (weights / np.linalg.norm(weights))
        probabilities = _probabilities(scores)
        risk = 1.0 - float(probabilities[self._none])
        ranked = np.argsort(probabilities)[::-1]
        category = next(self._classes[i] for i in ranked if i != self._none)
        return Estimate(category, risk)

    def save(self, path: Path) -> None:
        """Write the arrays to ``path`` (``.npz``), atomically."""
        terms = sorted(self._index, key=self._index.__getitem__)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as out:
            np.savez(
                out,
                terms=np.array(terms, dtype=str),
                idf=self._idf,
                coef=self._coef,
                intercept=self._intercept,
                classes=np.array(self._classes, dtype=str),
            )
        Path(out.name).replace(path)  # a reader sees the old file or the new, never half

    @classmethod
    def load(cls, path: Path) -> LearnedStage:
        """Read arrays written by :meth:`save` (no pickle is ever loaded)."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                data["terms"].tolist(),
                data["idf"],
                data["coef"],
                data["intercept"],
                data["classes"].tolist(),
            )


def _probabilities(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    """Class probabilities from decision scores: softmax over several classes; with two,
    scikit-learn keeps one score for the second class and the first is its complement."""
    if scores.shape[0] == 1:
        second = 1.0 / (1.0 + math.exp(-float(scores[0])))
        return np.array([1.0 - second, second])
    exponents = np.exp(scores - scores.max())
    probabilities: NDArray[np.float64] = exponents / exponents.sum()
    return probabilities


def default_cache_dir() -> Path:
    """``SECUREBASE_CACHE_DIR``, else ``$XDG_CACHE_HOME/securebase``, else ``~/.cache/...``."""
    configured = os.environ.get("SECUREBASE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "securebase"


def cache_key(phrases_file: Path) -> str:
    """What a cached model must match: the phrase file's bytes, this module, the libraries."""
    from importlib.metadata import version

    digest = hashlib.sha256(phrases_file.read_bytes()).hexdigest()
    parts = (digest, MODEL_VERSION, version("scikit-learn"), np.__version__)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def load_or_train(phrases_file: Path, cache_dir: Path | None = None) -> LearnedStage:
    """The model for a phrase file: from the cache when it holds this exact one (the file
    is then not even parsed), else trained on its ``train`` part (never the held-out part)
    and cached, older models of the file removed. A cache that cannot be read or written is
    passed over with a warning: the model is then trained in memory."""
    directory = cache_dir if cache_dir is not None else default_cache_dir()
    name = f"crisis-{phrases_file.stem}"
    path = directory / f"{name}-{cache_key(phrases_file)}.npz"
    try:
        return LearnedStage.load(path)
    except FileNotFoundError:
        pass
    except Exception as error:  # torn, empty or foreign (EOFError, BadZipFile...): train again
        log.warning("crisis model cache %s unreadable (%s); training again", path.name, error)
    stage = LearnedStage.train(LabelledPhrases.from_yaml(phrases_file).train.examples())
    try:
        stage.save(path)
        for stale in directory.glob(f"{name}-*.npz"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError as error:
        log.warning("crisis model cache not written (%s); it stays in memory", error)
    return stage
