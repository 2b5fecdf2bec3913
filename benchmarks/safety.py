"""Crisis-screen cost: start-up (rules compiled, model trained or read from the cache),
memory, and time per message for each tier.

.venv/bin/python -m benchmarks.safety

Training is timed on one core (BLAS threads pinned to one through threadpoolctl) on the
``train`` part of ``dialogues/safety_phrases/en.yaml``, as a bot process does it on its
first start; later starts read the model from the cache.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from threadpoolctl import threadpool_limits

from bot.safety.learned import LearnedStage, load_or_train
from bot.safety.phrases import NONE, LabelledPhrases
from bot.safety.screen import Screen
from bot.safety.tiers import CrisisScreen

REPO = Path(__file__).resolve().parent.parent
SAFETY = REPO / "dialogues" / "safety.yaml"
PHRASES = REPO / "dialogues" / "safety_phrases" / "en.yaml"
ROUNDS = 3


def main() -> None:
    phrases = LabelledPhrases.from_yaml(PHRASES)
    examples = phrases.train.examples()
    rows: list[tuple[str, str]] = []

    started = time.perf_counter()
    rules = Screen.from_yaml(SAFETY)
    rows.append(("rules: compile at start-up", f"{time.perf_counter() - started:.2f} s"))

    started = time.perf_counter()
    import sklearn.linear_model  # noqa: F401 - the first training imports it

    rows.append(
        ("learned: import scikit-learn (cold start only)", f"{time.perf_counter() - started:.2f} s")
    )
    with threadpool_limits(limits=1):
        started = time.perf_counter()
        LearnedStage.train(examples)
        seconds = time.perf_counter() - started
        tracemalloc.start()  # a second run: tracing slows Python code several times
        LearnedStage.train(examples)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rows.append((f"learned: train on {len(examples):,} phrases, one core", f"{seconds:.2f} s"))
    rows.append(("learned: peak memory while training", f"{peak / 2**20:.0f} MiB"))

    with tempfile.TemporaryDirectory() as cache:
        load_or_train(PHRASES, Path(cache))
        tracemalloc.start()
        started = time.perf_counter()
        stage = load_or_train(PHRASES, Path(cache))
        seconds = time.perf_counter() - started
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rows.append(("learned: read from the cache", f"{seconds:.2f} s"))
    rows.append(("learned: memory held by the model", f"{held / 2**20:.0f} MiB"))

    crisis = CrisisScreen.load(SAFETY)
    ordinary = [text for text, label in examples if label == NONE]
    disclosures = [text for text, label in examples if label != NONE]
    longest = ("we argued again and i'm tired, nothing else. " * 100)[:4096]
    rows += [
        ("rules only, ordinary message (median)", _per_call(rules.classify, ordinary)),
        ("learned only, ordinary message (median)", _per_call(stage.estimate, ordinary)),
        ("both tiers, ordinary message (median)", _per_call(crisis.assess, ordinary)),
        ("both tiers, disclosure (median)", _per_call(crisis.assess, disclosures)),
        ("both tiers, 4,096 characters (Telegram's most)", _per_call(crisis.assess, [longest])),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def _per_call(function: Callable[[str], object], texts: list[str]) -> str:
    timings = []
    for _ in range(ROUNDS):
        for text in texts:
            started = time.perf_counter()
            function(text)
            timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    return f"{median * 1e6:,.0f} µs" if median < 1e-3 else f"{median * 1e3:,.1f} ms"


if __name__ == "__main__":
    main()
