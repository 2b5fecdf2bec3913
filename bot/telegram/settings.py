"""The Telegram settings checked before anything starts, each failure one clear line.

A bot that cannot start should say why in a sentence, not a traceback, and never echo the
token: the messages here name the variable to fix, never its value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.config import Config

TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as a webhook secret


class SetupError(Exception):
    """The bot cannot start with these settings; ``str()`` says what to fix, in one line."""


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where Telegram posts updates, and where this process listens for them."""

    url: str
    secret: str = field(repr=False)
    listen: str
    port: int

    @property
    def path(self) -> str:
        """The path part of the public URL, served by the local listener."""
        return urlsplit(self.url).path.lstrip("/")


def token(config: Config) -> str:
    """The bot token, if it is set and looks like one."""
    if not config.token:
        raise SetupError(
            "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token"
        )
    if not TOKEN.fullmatch(config.token.strip()):
        raise SetupError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then at "
            "least 30 letters, digits, - or _)"
        )
    return config.token.strip()


def webhook(config: Config) -> Webhook:
    """The webhook settings, when running with ``--webhook``."""
    if not config.webhook_url:
        raise SetupError("TELEGRAM_WEBHOOK_URL is not set: the public URL Telegram posts to")
    if urlsplit(config.webhook_url).scheme not in ("http", "https"):
        raise SetupError("TELEGRAM_WEBHOOK_URL must be an https:// URL")
    if not config.webhook_secret:
        raise SetupError(
            "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode refuses requests without it"
        )
    if not SECRET.fullmatch(config.webhook_secret):
        raise SetupError(
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 letters, digits, - or _ (Telegram's rule)"
        )
    if not 0 < config.webhook_port < 65536:
        raise SetupError("TELEGRAM_WEBHOOK_PORT must be a port number (1-65535)")
    return Webhook(
        config.webhook_url, config.webhook_secret, config.webhook_listen, config.webhook_port
    )
