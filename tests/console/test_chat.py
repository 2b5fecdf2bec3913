"""The terminal coach as a person runs it: a real process, lines in, messages out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def chat(db: Path, *lines: str, user: str = "sam", fast: bool = True) -> str:
    """Run ``python -m bot chat`` with these lines on standard input; return its output."""
    env = {**os.environ, "SECUREBASE_DB": str(db)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    args = [sys.executable, "-m", "bot", "chat", "--user", user] + (["--fast"] if fast else [])
    done = subprocess.run(
        args,
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_buttons_print_as_numbers_and_numbers_or_labels_press_them(tmp_path: Path) -> None:
    out = chat(tmp_path / "c.db", "1", "okay")
    assert "[1] Tell me more" in out
    assert "not therapy" in out
    assert "[1] Yes, I'm 18+ and agree" in out


def test_a_newcomer_typing_start_sees_the_greeting_once(tmp_path: Path) -> None:
    out = chat(tmp_path / "c.db", "/start", "1")
    assert out.count("Hi. I'm Secure Base") == 1
    assert "not therapy" in out, "the next line still presses the greeting's button"
    again = chat(tmp_path / "c.db", "/start")  # later, /start is a command like any other
    assert "Hi. I'm Secure Base" in again


def test_end_of_input_keeps_the_place_and_the_next_run_resumes(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    chat(db, "1", "1", "1", "2", "1", "/breathe", "2")
    out = chat(db)
    assert "Pick a way to breathe" in out
    assert "[2] Physiological sigh" in out


def test_fast_timers_run_a_whole_breathing_session(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    chat(db, "1", "1", "1", "2", "1")
    out = chat(db, "/breathe", "Start", "1")
    assert out.count("Breathe in") == 6
    assert "[1] Calmer" in out
    assert out.rstrip().endswith("[1] Back to the menu")


def test_users_have_separate_conversations(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    chat(db, "1", "1", "1", "2", "1", "/validate", user="ann")
    out = chat(db, user="ben")
    assert "a coach for tense moments" in out
    assert "find a word" not in out


def test_a_broken_dialogue_stops_the_start_with_the_lint_output(tmp_path: Path) -> None:
    broken = tmp_path / "dialogues"
    broken.mkdir()
    for source in (REPO / "dialogues").glob("*.yaml"):
        (broken / source.name).write_text(source.read_text())
    menu = broken / "menu.yaml"
    menu.write_text(menu.read_text().replace("start: pause", "start: nowhere", 1))
    env = {
        **os.environ,
        "SECUREBASE_DB": str(tmp_path / "c.db"),
        "SECUREBASE_DIALOGUES": str(broken),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input="",
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "menu.yaml:" in done.stderr and "nowhere" in done.stderr
    assert "Traceback" not in done.stderr


def test_export_is_saved_to_a_file_and_forget_deletes_it_with_the_data(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    out = chat(db, "1", "1", "1", "2", "1", "/export")
    exported = next(Path(line) for line in out.splitlines() if line.endswith(".json"))
    assert '"consented": true' in exported.read_text()
    chat(db, "/forget", "Delete everything")
    assert not exported.exists()
    assert "a coach for tense moments" in chat(db)
