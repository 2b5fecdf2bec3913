"""Logging that is safe to keep: no bot token, no words a user wrote.

People write to Secure Base at the worst moments of their relationships, and a log file
outlives any conversation. So, for every module:

- **Never log what a user wrote** — message text, notes, answers, button labels they
  typed, export contents. Log what is needed to operate the bot instead: user ids,
  event and record kinds, dialogue and state names, counts, durations.
- The bot token must never appear. :class:`RedactTokens` removes anything shaped like a
  token (and the configured token itself) from every record a handler it sits on sees:
  the message, its arguments, the traceback and the stack.
- Chatty libraries are held at WARNING: httpx and httpcore log every request URL, which
  carries the token; python-telegram-bot logs updates; aiosqlite logs each statement
  with its parameters at DEBUG, which would be the users' own words.

``SECUREBASE_LOG_FORMAT=json`` writes one JSON object per line instead of plain text.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

TOKEN_SHAPE = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")
"""What a Telegram bot token looks like: the bot's numeric id, a colon, a secret."""

REDACTED = "[REDACTED]"

QUIET_LOGGERS = ("httpx", "httpcore", "telegram", "aiosqlite")
"""Libraries whose INFO and DEBUG lines could carry the token or a user's words."""

PLAIN_FORMAT = "%(levelname)s %(name)s: %(message)s"


class RedactTokens(logging.Filter):
    """Replaces bot tokens in a record before any handler formats it.

    The record is changed in place (its message is formatted once, with the tokens cut
    out), so handlers that run after this one see the redacted text too.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


class _SecureBaseHandler(logging.StreamHandler[TextIO]):
    """Marks the handler :func:`setup_logging` installed, so a second call replaces it."""


def setup_logging(
    token: str | None = None,
    *,
    level: int = logging.WARNING,
    json_lines: bool | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Log to ``stream`` (standard error) through :class:`RedactTokens`; return the handler.

    The filter also goes on every handler already on the root logger (a host's, a test
    runner's), so no handler there sees a token. ``json_lines`` defaults to
    ``SECUREBASE_LOG_FORMAT=json``.
    """
    if json_lines is None:
        json_lines = os.environ.get("SECUREBASE_LOG_FORMAT", "").strip().lower() == "json"
    redact = RedactTokens([token] if token else [])
    handler = _SecureBaseHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines() if json_lines else logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _SecureBaseHandler)]:
        root.removeHandler(old)
    for other in root.handlers:
        other.addFilter(redact)
    handler.addFilter(redact)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return handler
