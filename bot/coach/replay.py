"""Deliveries a door may hand over twice, and the replies it may not have sent yet.

A door that can deliver an event again (Telegram hands an update over again until it is
told the update was received) names each :class:`Delivery` twice over: by a ``key``, the
same each time it is handed over (Telegram's ``update_id``), and by an ``order`` the door
gives it, rising with each delivery it handles, across restarts too. (Telegram's ids
rise too, but after a week without updates the next is chosen at random: they name a
delivery, they cannot order them.)

The user's stored session (``users.session``) keeps, in the same row write that commits
the state, ``unsent``: ``[key, order, reply]`` for each delivery whose reply the door has
not yet reported sent, oldest first. A delivery found there is a *replay*: nothing runs
or moves, so a text answer is never read twice, and its reply comes back, unless it is
known to be sent. The door reports what is sent as an order, ``sent_below``: every reply
to an earlier delivery is out. Those are dropped at the user's next event; after a
crash, the door sends the others again.

A reply is stored as JSON: the messages sent or edited, with their buttons, the timer
started and the end of a conversation. Pictures and documents (a chart, a data export)
are left out: a replay shows the words, not the bytes, and a redelivered ``/export`` is
a special command the engine simply runs again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.coach.actions import Action, Button, Edit, End, Reply, Send, StartTimer

UNSENT = "unsent"
"""Session key: ``[key, order, reply]`` of the deliveries whose replies may not be sent."""
ORDER = 1
"""Where an ``unsent`` entry holds its order."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery of an event by a door that may hand it over again."""

    key: int
    """The same each time the event is handed over (Telegram's ``update_id``)."""
    order: int
    """Given by the door, rising with each delivery it handles, across restarts."""


def replayed(session: Mapping[str, Any], key: int, sent_below: int | None) -> Reply | None:
    """None when the delivery ``key`` is new; else what to send for it again: nothing
    when its reply is known to be sent."""
    for stored_key, order, reply in _entries(session):
        if stored_key == key:
            return Reply() if sent_below is not None and order < sent_below else decode(reply)
    return None


def after_turn(
    before: Mapping[str, Any],
    delivery: Delivery | None,
    actions: Iterable[Action],
    sent_below: int | None,
) -> dict[str, Any]:
    """The ``unsent`` key to write with a turn's state: the replies not known to be sent,
    plus this delivery's (an event without a delivery, a timer, adds none)."""
    unsent = [
        [key, order, reply]
        for key, order, reply in _entries(before)
        if sent_below is None or order >= sent_below
    ]
    if delivery is not None:
        unsent.append([delivery.key, delivery.order, encode(actions)])
    return {UNSENT: unsent} if unsent else {}


def unsent_since(session: Mapping[str, Any], first: int) -> Iterator[tuple[int, Reply]]:
    """``(order, reply)`` of the stored replies ordered ``first`` or later, oldest first."""
    for _, order, reply in _entries(session):
        if order >= first:
            yield order, decode(reply)


def _entries(session: Mapping[str, Any]) -> Iterator[tuple[int, int, object]]:
    stored = session.get(UNSENT)
    for entry in stored if isinstance(stored, list) else []:
        match entry:
            case [int(key), int(order), reply]:  # the order at ORDER
                yield key, order, reply


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
