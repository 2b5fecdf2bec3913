"""Deliveries a door may hand over twice, and the replies it may not have sent yet.

A door that can deliver an event again (Telegram hands an update over again until it is
told the update was received) numbers its deliveries, in increasing order for each user
(Telegram's ``update_id``). The user's stored session (``users.session``) keeps, in the
same row write that commits the state:

- ``delivered``: the highest delivery number handled. A delivery at or below it is a
  *replay*: nothing runs or moves, so a text answer is never read twice.
- ``unsent``: ``[number, reply]`` for each delivery whose reply the door has not yet
  reported sent, oldest first. A replay gets its reply back from here (or nothing, when
  it was sent); after a crash, the door sends these again. The door reports what is sent
  as a number, ``sent_below``: every reply of a lower delivery is out, and is dropped
  from the list at the user's next event.

A reply is stored as JSON: the messages sent or edited, with their buttons, the timer
started and the end of a conversation. Pictures and documents (a chart, a data export)
are left out: a replay shows the words, not the bytes, and a redelivered ``/export`` is
a special command the engine simply runs again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from bot.coach.actions import Action, Button, Edit, End, Reply, Send, StartTimer

DELIVERED = "delivered"
"""Session key: the highest delivery number handled for the user."""
UNSENT = "unsent"
"""Session key: ``[number, reply]`` pairs whose replies may not have been sent yet."""


def replayed(session: Mapping[str, Any], delivery: int, sent_below: int | None) -> Reply | None:
    """None when ``delivery`` is new; else what to send for it again: nothing when its
    reply is known to be sent."""
    if delivery > _number(session.get(DELIVERED)):
        return None
    if sent_below is not None and delivery < sent_below:
        return Reply()
    stored = next((reply for number, reply in _entries(session) if number == delivery), None)
    return decode(stored)


def after_turn(
    before: Mapping[str, Any],
    delivery: int | None,
    actions: Iterable[Action],
    sent_below: int | None,
) -> dict[str, Any]:
    """The delivery keys to write with a turn's state: the replies not reported sent,
    plus this delivery's. An event without a delivery (a timer) keeps them as they were."""
    unsent = [
        [number, reply]
        for number, reply in _entries(before)
        if sent_below is None or number >= sent_below
    ]
    delivered = before.get(DELIVERED)
    if delivery is not None:
        unsent.append([delivery, encode(actions)])
        delivered = delivery
    keys: dict[str, Any] = {} if delivered is None else {DELIVERED: delivered}
    if unsent:
        keys[UNSENT] = unsent
    return keys


def unsent_since(session: Mapping[str, Any], first: int) -> Iterator[tuple[int, Reply]]:
    """The stored replies of deliveries numbered ``first`` or later, oldest first."""
    for number, reply in _entries(session):
        if number >= first:
            yield number, decode(reply)


def _entries(session: Mapping[str, Any]) -> Iterator[tuple[int, object]]:
    stored = session.get(UNSENT)
    for entry in stored if isinstance(stored, list) else []:
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int):
            yield entry[0], entry[1]


def _number(value: object) -> int:
    return value if isinstance(value, int) else -1


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
