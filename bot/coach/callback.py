"""Button callback data: what a button press carries back to the engine.

Telegram limits callback data to 64 bytes, so the format is terse:

- ``g:<dialogue>:<state>:<index>`` presses button ``index`` of a state; it is honoured
  only while the user is still at that state (otherwise the button is stale).
- ``s:<dialogue>`` starts a dialogue, and stays valid from any old message.
- ``o:<dialogue>`` / ``o:-`` accept or decline a practice the coach offered.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64


@dataclass(frozen=True, slots=True)
class GoData:
    dialogue: str
    state: str
    index: int


@dataclass(frozen=True, slots=True)
class StartData:
    dialogue: str


@dataclass(frozen=True, slots=True)
class OfferData:
    dialogue: str | None


Parsed = GoData | StartData | OfferData


def go(dialogue: str, state: str, index: int) -> str:
    return f"g:{dialogue}:{state}:{index}"


def start(dialogue: str) -> str:
    return f"s:{dialogue}"


def offer(dialogue: str | None) -> str:
    return f"o:{dialogue or '-'}"


def parse(data: str) -> Parsed | None:
    """Read callback data; ``None`` for anything malformed or forged."""
    kind, _, rest = data.partition(":")
    parts = rest.split(":")
    if kind == "g" and len(parts) == 3 and parts[2].isdigit():
        return GoData(parts[0], parts[1], int(parts[2]))
    if kind == "s" and len(parts) == 1 and parts[0]:
        return StartData(parts[0])
    if kind == "o" and len(parts) == 1 and parts[0]:
        return OfferData(None if parts[0] == "-" else parts[0])
    return None


def fits(data: str) -> bool:
    """Whether Telegram will accept this callback data."""
    return 0 < len(data.encode()) <= MAX_BYTES
