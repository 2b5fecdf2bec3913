"""What the engine asks an adapter to do, in order.

Actions are plain data so that every door (terminal, Telegram, tests) renders the same
conversation. Button callback data is opaque to adapters: they hand it back in a
:class:`~bot.coach.events.Press`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Button:
    """One button: the label a user sees and the data pressed back (at most 64 bytes)."""

    text: str
    data: str


@dataclass(frozen=True, slots=True)
class Send:
    """Send a new message, with buttons offered under it (possibly none)."""

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text of the last message sent (a pacer changing phase in place).

    An adapter that cannot edit (or no longer knows the message) sends it anew.
    """

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, slots=True)
class Picture:
    """Send an image (PNG bytes) with a caption."""

    png: bytes
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Document:
    """Send a file, such as the user's data export."""

    filename: str
    content: bytes
    caption: str = ""


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Deliver ``TimerFired(token)`` after ``seconds``; a newer timer replaces older ones."""

    token: str
    seconds: float


@dataclass(frozen=True, slots=True)
class End:
    """The conversation reached a resting point: nothing is pending for this user."""


@dataclass(frozen=True, slots=True)
class Forgotten:
    """Every row about the user was deleted; adapters drop what they cache about them."""


Action = Send | Edit | Picture | Document | StartTimer | End | Forgotten


@dataclass(slots=True)
class Reply:
    """The actions for one event, in the order they must be carried out."""

    actions: list[Action] = field(default_factory=list)

    def texts(self) -> list[str]:
        """The texts of every message sent or edited, for logs-free inspection in tests."""
        return [a.text for a in self.actions if isinstance(a, Send | Edit)]
