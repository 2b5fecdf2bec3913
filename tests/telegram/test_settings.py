"""Settings problems are one clear line, and exit code 2, before anything starts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.cli import main
from bot.config import Config, ConfigError
from bot.telegram import settings
from bot.telegram.clock import ScaledClock, clock_for
from bot.telegram.settings import SetupError
from tests.telegram.harness import TOKEN


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (None, "is not set"),
        ("123456789:short", "does not look like"),
        ("bot123:" + "a" * 40, "does not look like"),
        (TOKEN + " extra", "does not look like"),
    ],
)
def test_bad_tokens(token: str | None, says: str) -> None:
    with pytest.raises(SetupError, match=says) as raised:
        settings.token(Config(token=token))
    assert token is None or token not in str(raised.value)


def test_a_good_token() -> None:
    assert settings.token(Config(token=TOKEN)) == TOKEN


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "TELEGRAM_WEBHOOK_URL is not set"),
        ({"TELEGRAM_WEBHOOK_URL": "ftp://x/hook"}, "must be an https"),
        ({"TELEGRAM_WEBHOOK_URL": "https://x/hook"}, "TELEGRAM_WEBHOOK_SECRET is not set"),
        (
            {"TELEGRAM_WEBHOOK_URL": "https://x/hook", "TELEGRAM_WEBHOOK_SECRET": "no spaces"},
            "1-256 letters",
        ),
        (
            {
                "TELEGRAM_WEBHOOK_URL": "https://x/hook",
                "TELEGRAM_WEBHOOK_SECRET": "ok",
                "TELEGRAM_WEBHOOK_PORT": "70000",
            },
            "port number",
        ),
    ],
)
def test_webhook_settings(env: dict[str, str], says: str) -> None:
    with pytest.raises(SetupError, match=says):
        settings.webhook(Config.from_env(env))


def test_webhook_defaults() -> None:
    env = {
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg/hook",
        "TELEGRAM_WEBHOOK_SECRET": "s",
    }
    hook = settings.webhook(Config.from_env(env))
    assert (hook.listen, hook.port, hook.path) == ("127.0.0.1", 8443, "tg/hook")
    assert "s" not in repr(hook).replace("https", "").replace("listen", "")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_SEND_RATE", "fast"),
        ("TELEGRAM_CHAT_RATE", "-1"),
        ("SECUREBASE_TIME_SCALE", "0"),
        ("TELEGRAM_WEBHOOK_PORT", "nan"),
    ],
)
def test_malformed_numbers(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


def test_the_command_line_says_it_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_SEND_RATE", "fast")
    assert main(["run"]) == 2
    assert capsys.readouterr().err == "error: TELEGRAM_SEND_RATE must be a number, not 'fast'\n"
    monkeypatch.delenv("TELEGRAM_SEND_RATE")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:2")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "1:2" not in err


async def test_a_scaled_clock_runs_fast() -> None:
    clock = ScaledClock(0.001)
    start = clock.now()
    await clock.sleep_until(start + timedelta(seconds=20))  # 20 ms of real time
    assert clock.now() - start >= timedelta(seconds=20)
    assert type(clock_for(1.0)).__name__ == "SystemClock"
    assert isinstance(clock_for(0.5), ScaledClock)
    with pytest.raises(ValueError):
        ScaledClock(0)
    await asyncio.sleep(0)
