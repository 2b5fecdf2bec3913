"""Crisis-screen speed: compile time at start-up and time per message.

.venv/bin/python -m benchmarks.safety
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bot.safety.evaluate import PhraseSet
from bot.safety.screen import Screen

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 5


def main() -> None:
    started = time.perf_counter()
    screen = Screen.from_yaml(REPO / "dialogues" / "safety.yaml")
    compile_seconds = time.perf_counter() - started
    phrases = PhraseSet.from_yaml(REPO / "tests" / "safety" / "phrases.yaml")
    negatives = phrases.negatives
    positives = [p for items in phrases.positives.values() for p in items]
    long_text = ("we argued again and i'm tired, nothing else. " * 300)[:10_000]
    rows = [
        ("compile at start-up", f"{compile_seconds:.2f} s"),
        ("per ordinary message (median)", _per_call(screen, negatives)),
        ("per crisis message (median)", _per_call(screen, positives)),
        ("10,000-character message", _per_call(screen, [long_text])),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def _per_call(screen: Screen, texts: list[str]) -> str:
    timings = []
    for _ in range(ROUNDS):
        for text in texts:
            started = time.perf_counter()
            screen.classify(text)
            timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    return f"{median * 1e6:,.0f} µs" if median < 1e-3 else f"{median * 1e3:,.1f} ms"


if __name__ == "__main__":
    main()
