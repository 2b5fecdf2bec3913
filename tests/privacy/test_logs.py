"""Logs carry ids, kinds and counts: never what users wrote, never the bot token."""

from __future__ import annotations

import io
import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import open_app
from bot.clock import ManualClock
from bot.config import Config
from bot.logs import QUIET_LOGGERS, REDACTED, RedactTokens, setup_logging
from bot.privacy.retention import purge_old_notes
from tests.privacy.conftest import SECRET, Person

FAKE_TOKEN = "123456789:AAHfakefakefakefakefakefakefake-_xyz"
TOKEN_URL = f"https://api.telegram.org/bot{FAKE_TOKEN}/getUpdates"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """setup_logging changes process-wide state; put it back for the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def emit(logger: logging.Logger, message: str, *args: object) -> str:
    """What one record looks like after the redacting filter and a plain format."""
    stream = io.StringIO()
    setup_logging(FAKE_TOKEN, level=logging.DEBUG, json_lines=False, stream=stream)
    logger.warning(message, *args)
    return stream.getvalue()


def test_tokens_are_cut_from_messages_and_arguments() -> None:
    log = logging.getLogger("bot.test")
    assert emit(log, "polling %s failed", TOKEN_URL).count(REDACTED) == 1
    assert FAKE_TOKEN not in emit(log, f"calling {TOKEN_URL}")
    assert FAKE_TOKEN not in emit(log, "token=%r", {"token": FAKE_TOKEN})
    other = "987654:" + "x" * 40  # any token-shaped text, not only the configured one
    assert other not in emit(log, "saw %s", other)


def test_tokens_are_cut_from_tracebacks_and_stacks() -> None:
    stream = io.StringIO()
    setup_logging(FAKE_TOKEN, stream=stream)
    try:
        raise ConnectionError(f"cannot reach {TOKEN_URL}")
    except ConnectionError:
        logging.getLogger("bot.test").exception("network down", stack_info=True)
    assert "ConnectionError" in stream.getvalue()
    assert FAKE_TOKEN not in stream.getvalue()


def test_a_configured_token_of_any_shape_is_cut() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "key %s", ("short:secret",), None)
    RedactTokens(["short:secret"]).filter(record)
    assert record.getMessage() == f"key {REDACTED}"


def test_json_lines_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECUREBASE_LOG_FORMAT", "json")
    stream = io.StringIO()
    setup_logging(FAKE_TOKEN, stream=stream)
    logging.getLogger("bot.test").error("user %s: %d records", "tg:7", 3)
    line = json.loads(stream.getvalue())
    assert line["level"] == "ERROR" and line["logger"] == "bot.test"
    assert line["message"] == "user tg:7: 3 records"


def test_setting_up_twice_keeps_one_handler_and_quiets_libraries() -> None:
    first = setup_logging(stream=io.StringIO())
    second = setup_logging(level=logging.DEBUG, stream=io.StringIO())
    root = logging.getLogger()
    assert second in root.handlers and first not in root.handlers
    assert all(logging.getLogger(name).level == logging.WARNING for name in QUIET_LOGGERS)


async def test_a_whole_session_at_debug_logs_no_words_and_no_token(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    config = Config(db_path=tmp_path / "logs.db", token=FAKE_TOKEN)
    stream = io.StringIO()
    caplog.set_level(logging.DEBUG)
    setup_logging(config.token, level=logging.DEBUG, stream=stream)
    app = await open_app(config, clock=clock, rng=random.Random(5))
    try:
        alice, sam = Person(app, "tg:1001"), Person(app, "cli:sam")
        await alice.onboard()
        await sam.onboard("partner_safe")
        for who in (alice, sam):
            for practice in ("/pause", "/breathe", "/validate", "/repair"):
                await who.walk(practice, clock)
        assert SECRET in json.dumps(await alice.export())
        await purge_old_notes(app.store, clock.now(), 1)
        logging.getLogger("httpx").info("HTTP Request: POST %s", TOKEN_URL)
        logging.getLogger("telegram.ext.Updater").warning("polling %s failed", TOKEN_URL)
        for who in (alice, sam):
            await who("/forget")
            await who.press("Delete everything")
    finally:
        await app.close()

    captured = [stream.getvalue(), caplog.text, *(r.getMessage() for r in caplog.records)]
    assert caplog.records, "nothing was logged: the capture is not working"
    assert all(SECRET not in text for text in captured)
    assert all(FAKE_TOKEN not in text for text in captured)
    assert "polling" in stream.getvalue()
    assert "HTTP Request" not in stream.getvalue()
