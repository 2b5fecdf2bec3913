"""Cleaning what users type, and filling ``{name}`` placeholders in what the coach says."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from bot.dialogue.schema import TEMPLATE_VAR, Scalar

_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}
_KEEP = {"\n", "\u200d", "\ufe0f"}  # line breaks, and the joiners emoji sequences need
_SPACES = re.compile(r"[ \t]+")


def clean(text: str) -> str:
    """Drop control and unassigned characters, normalise, and trim.

    What is left is safe to store and to echo back in a message.
    """
    text = unicodedata.normalize("NFC", text)
    kept = "".join(c for c in text if c in _KEEP or unicodedata.category(c) not in _CONTROL)
    lines = (_SPACES.sub(" ", line).strip() for line in kept.split("\n"))
    return "\n".join(line for line in lines if line)


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def fold(text: str) -> str:
    """A form for comparing: case-, space- and apostrophe-style-insensitive."""
    return " ".join(text.casefold().translate(_APOSTROPHES).split())


def render(template: str, values: Mapping[str, Scalar]) -> str:
    """Replace each ``{name}`` with its stored value; nothing else is interpreted.

    Values are inserted as plain text (messages are never parsed as markup), so what a
    user typed cannot change how a message is shown.
    """

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return "…" if value is None else _show(value)

    return TEMPLATE_VAR.sub(fill, template)


def _show(value: Scalar) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
