"""The HTTP stack under python-telegram-bot, as installed."""

from __future__ import annotations

import importlib.util


def test_sniffio_is_installed_so_each_request_skips_a_failed_import() -> None:
    # httpcore imports sniffio inside every request; without it, each Bot API call pays a
    # failed import (a search of sys.path): a fifth of the bot's CPU under load.
    assert importlib.util.find_spec("sniffio") is not None
