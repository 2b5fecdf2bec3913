"""The reply to a door's last delivery, kept in the user's stored session for a replay.

Stored as JSON next to the dialogue stack (``users.session``): the messages sent or
edited, with their buttons, the timer started and the end of a conversation. Pictures
and documents (a chart, a data export) are left out: a replay shows the words, not the
bytes, and a redelivered ``/export`` is a special command the engine simply runs again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.coach.actions import Action, Button, Edit, End, Reply, Send, StartTimer

DELIVERY = "delivery"
"""Session key: the last delivery handled for the user (``"tg:<update_id>"``)."""
REPLY = "reply"
"""Session key: the actions that delivery produced, as :func:`encode` wrote them."""


def encode(actions: Iterable[Action]) -> list[dict[str, Any]]:
    """``actions`` as JSON-ready data, pictures and documents left out."""
    encoded: list[dict[str, Any]] = []
    for action in actions:
        match action:
            case Send(text=text, buttons=buttons) | Edit(text=text, buttons=buttons):
                kind = "send" if isinstance(action, Send) else "edit"
                pairs = [[b.text, b.data] for b in buttons]
                encoded.append({"do": kind, "text": text, "buttons": pairs})
            case StartTimer(token=token, seconds=seconds):
                encoded.append({"do": "timer", "token": token, "seconds": seconds})
            case End():
                encoded.append({"do": "end"})
    return encoded


def decode(data: object) -> Reply:
    """The reply :func:`encode` stored; whatever cannot be read is left out."""
    actions: list[Action] = []
    for item in data if isinstance(data, list) else []:
        try:
            actions.append(_action(item))
        except (KeyError, TypeError, ValueError):
            continue
    return Reply(actions)


def _action(item: Any) -> Action:
    match item["do"]:
        case "send" | "edit" as kind:
            buttons = tuple(Button(str(text), str(data)) for text, data in item["buttons"])
            made = Send if kind == "send" else Edit
            return made(str(item["text"]), buttons)
        case "timer":
            return StartTimer(str(item["token"]), float(item["seconds"]))
        case "end":
            return End()
    raise ValueError(item["do"])
