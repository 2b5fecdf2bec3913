"""What can happen to a user, as the coach engine sees it.

Adapters (terminal, Telegram, scheduler) translate their own inputs into these events;
the engine never sees a Telegram object or a line of terminal input.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Text:
    """Free text the user typed."""

    text: str


@dataclass(frozen=True, slots=True)
class Press:
    """A button press, carrying the button's callback data."""

    data: str


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command such as ``/breathe``; ``name`` has no slash and is lower case."""

    name: str
    args: str = ""


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer the engine asked for has run out; ``token`` says which one."""

    token: str


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Something the coach cannot read: a sticker, a voice note, a photo."""

    kind: str


@dataclass(frozen=True, slots=True)
class Scheduled:
    """Something the user subscribed to came due (a check-in, a routine reminder).

    ``kind`` picks the extension that handles it; ``ref`` says which subscription.
    """

    kind: str
    ref: str


@dataclass(frozen=True, slots=True)
class Resume:
    """The user came back through a door that shows history afresh (a new terminal
    session): remind them where they were."""


Event = Text | Press | Command | TimerFired | Unsupported | Resume | Scheduled


def as_command(event: Event) -> Command | None:
    """The command an event carries: a :class:`Command`, or text such as ``/stop`` or
    ``/breathe@SecureBaseBot`` (Telegram appends the bot's name in groups)."""
    if isinstance(event, Command):
        return event
    if isinstance(event, Text) and event.text.startswith("/"):
        head, _, args = event.text[1:].partition(" ")
        name = head.split("@")[0].lower()
        return Command(name, args.strip()) if name else None
    return None
