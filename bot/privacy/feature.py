"""``/export``, ``/forget`` and ``/stats``: a user's data stays theirs; operators see
counts, never content.

- ``/export`` sends one JSON file of every row stored about the user (all of
  :data:`bot.store.sqlite.USER_TABLES`), with a small header.
- ``/forget`` is the ``privacy`` dialogue (``dialogues/privacy.yaml``): it asks first,
  and on "Delete everything" enters a state with the ``forget`` effect. The effect adds a
  :class:`~bot.coach.actions.Forgotten` action, on which the engine deletes the user's
  rows instead of saving the turn — so not even the goodbye is stored.
- ``/stats`` answers the Telegram ids in ``SECUREBASE_ADMINS`` with counts; to anyone
  else it is an unknown command, word for word.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from bot.coach.actions import Document, Forgotten, Reply, Send
from bot.coach.engine import Coach
from bot.coach.extensions import AsyncCommand, Extensions
from bot.coach.turn import Turn
from bot.config import Config
from bot.privacy.stats import Counts, counts
from bot.store.base import UserRow
from bot.store.sqlite import SQLiteStore

EXPORT_FILE = "securebase-export.json"
EXPORT_FORMAT = "securebase-export"
EXPORT_VERSION = 1
TELEGRAM = "tg:"


def privacy(config: Config) -> Extensions:
    """The privacy feature's hooks, for :func:`bot.app.features`."""
    return Extensions(
        async_commands={"export": export, "stats": stats_for(config.admins)},
        effects={"forget": forget},
    )


async def export(coach: Coach, row: UserRow, args: str) -> Reply:
    """``/export``: everything stored about the user, as a pretty-printed JSON file."""
    del args
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": coach.clock.now().isoformat(),
        "user_id": row.user_id,
        "tables": await coach.store.export(row.user_id),
    }
    content = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return Reply([Document(EXPORT_FILE, content, phrase(coach, row, "export_caption"))])


def forget(turn: Turn, args: Mapping[str, str]) -> None:
    """The ``forget`` effect: tell the engine to delete the user instead of saving."""
    del args
    turn.actions.append(Forgotten())


def stats_for(admins: frozenset[int]) -> AsyncCommand:
    """``/stats`` for the Telegram user ids in ``admins``; everyone else, console users
    included, gets the ordinary unknown-command reply, so the command stays invisible."""

    async def stats(coach: Coach, row: UserRow, args: str) -> Reply:
        del args
        if not is_admin(row.user_id, admins):
            return Reply([Send(phrase(coach, row, "unknown_command"))])
        if not isinstance(coach.store, SQLiteStore):
            raise TypeError("/stats counts rows of the SQLite store")
        return Reply([Send(stats_text(coach, row, await counts(coach.store)))])

    return stats


def is_admin(user_id: str, admins: frozenset[int]) -> bool:
    """Whether ``user_id`` is ``tg:<id>`` with ``<id>`` among ``admins``."""
    number = user_id.removeprefix(TELEGRAM)
    return (
        user_id.startswith(TELEGRAM)
        and number.isascii()
        and number.isdigit()
        and int(number) in admins
    )


def stats_text(coach: Coach, row: UserRow, found: Counts) -> str:
    """The counts, one labelled line each, with the records broken down by kind."""

    def line(key: str, count: int) -> str:
        return f"{phrase(coach, row, key)}: {count}"

    text = [
        phrase(coach, row, "stats_title"),
        line("stats_users", found.users),
        line("stats_active", found.active),
        line("stats_in_practice", found.in_practice),
        line("stats_records", sum(found.records.values())),
        *(f"• {kind}: {count}" for kind, count in found.records.items()),
    ]
    if found.subscriptions is not None:
        text.append(line("stats_subscriptions", found.subscriptions))
    if found.crises:
        text.append(line("stats_crises", sum(found.crises.values())))
        text += [f"• {category}: {count}" for category, count in found.crises.items()]
    return "\n".join(text)


def phrase(coach: Coach, row: UserRow, key: str) -> str:
    """One of ``common.yaml``'s strings in the user's language (its first variation),
    for replies made outside a turn."""
    text = coach.catalogue.string(key)[0]
    return text.get(row.locale) or next(iter(text.values()), "")
