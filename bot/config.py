"""Settings, read once from the environment.

Nothing here is secret-aware beyond this: the token and the webhook secret are kept out
of ``repr`` so they can never end up in a log line or a traceback by way of printing the
settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
DEFAULT_DIALOGUES = PACKAGE_ROOT.parent / "dialogues"
DEFAULT_DB = Path("data") / "securebase.db"
DEFAULT_API = "https://api.telegram.org"
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1"
DEFAULT_WEBHOOK_PORT = 8443
DEFAULT_SEND_RATE = 30.0
DEFAULT_CHAT_RATE = 1.0


class ConfigError(ValueError):
    """A setting in the environment cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Config:
    db_path: Path = DEFAULT_DB
    dialogues: Path = DEFAULT_DIALOGUES
    token: str | None = field(default=None, repr=False)
    api_base_url: str = DEFAULT_API
    admins: frozenset[int] = frozenset()
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    send_rate: float = DEFAULT_SEND_RATE
    """Messages per second the bot sends in all (Telegram allows about 30); 0 = no limit."""
    chat_rate: float = DEFAULT_CHAT_RATE
    """Messages per second to one chat (Telegram allows about 1); 0 = no pacing."""
    time_scale: float = 1.0
    """Real seconds per coach second: 0.01 makes timers run 100 times faster (for tests)."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        """Read the settings; raises :class:`ConfigError` for a malformed number."""
        env = dict(os.environ) if env is None else env
        return cls(
            db_path=Path(env.get("SECUREBASE_DB") or DEFAULT_DB),
            dialogues=Path(env.get("SECUREBASE_DIALOGUES") or DEFAULT_DIALOGUES),
            token=env.get("TELEGRAM_BOT_TOKEN") or None,
            api_base_url=(env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API).rstrip("/"),
            admins=_ids(env.get("SECUREBASE_ADMINS", "")),
            webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            webhook_listen=env.get("TELEGRAM_WEBHOOK_LISTEN") or DEFAULT_WEBHOOK_LISTEN,
            webhook_port=_port(env.get("TELEGRAM_WEBHOOK_PORT", "")),
            send_rate=_number(env, "TELEGRAM_SEND_RATE", DEFAULT_SEND_RATE),
            chat_rate=_number(env, "TELEGRAM_CHAT_RATE", DEFAULT_CHAT_RATE),
            time_scale=_number(env, "SECUREBASE_TIME_SCALE", 1.0, allow_zero=False),
        )


def _ids(text: str) -> frozenset[int]:
    return frozenset(int(part) for part in text.replace(",", " ").split() if part.isdigit())


def _number(env: dict[str, str], name: str, default: float, *, allow_zero: bool = True) -> float:
    """A non-negative number from ``env[name]`` (``default`` when unset)."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {text!r}") from None
    if not value >= 0 or (value == 0 and not allow_zero) or value == float("inf"):
        raise ConfigError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} number")
    return value


def _port(text: str) -> int:
    """``TELEGRAM_WEBHOOK_PORT``: a whole number (its range is checked where it is used)."""
    text = text.strip()
    if not text:
        return DEFAULT_WEBHOOK_PORT
    if not text.isascii() or not text.isdigit():
        raise ConfigError(f"TELEGRAM_WEBHOOK_PORT must be a port number, not {text!r}")
    return int(text)
