"""A user's place in the conversation, as stored in the ``users.session`` column (JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from bot.dialogue.schema import Scalar


@dataclass(slots=True)
class Frame:
    """One running dialogue. A called dialogue stacks a frame that returns to ``then``;
    an interruption (grounding after a crisis message) stacks one with ``resume`` set,
    which hands back by showing the caller's step again, without re-entering it."""

    dialogue: str
    state: str
    vars: dict[str, Scalar] = field(default_factory=dict)
    then: str | None = None
    resume: bool = False


_FRAME_FIELDS = tuple(f.name for f in fields(Frame))


@dataclass(slots=True)
class Session:
    """The dialogue stack plus what the engine remembers between events."""

    frames: list[Frame] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    timers: int = 0
    offered: str | None = None
    asked: str | None = None
    """The category a feature's question ("Are you safe right now?") is waiting on, so that
    a typed answer is read as one; ``None`` when nothing is asked."""

    @property
    def top(self) -> Frame | None:
        return self.frames[-1] if self.frames else None

    def to_json(self) -> dict[str, Any]:
        """The stored form. Field by field: ``dataclasses.asdict`` deep-copies every
        value, a tenth of a turn's time, and a turn's session is not used after it."""
        stored = {name: getattr(self, name) for name in _SESSION_FIELDS}
        stored["frames"] = [
            {name: getattr(frame, name) for name in _FRAME_FIELDS} for frame in self.frames
        ]
        return stored

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        """Rebuild from stored JSON; anything unreadable starts the user afresh."""
        try:
            frames = [Frame(**frame) for frame in data.get("frames", [])]
            return cls(
                frames=frames,
                seen=dict(data.get("seen", {})),
                timers=int(data.get("timers", 0)),
                offered=data.get("offered"),
                asked=data.get("asked"),
            )
        except (TypeError, ValueError):
            return cls()


_SESSION_FIELDS = tuple(f.name for f in fields(Session))
