"""Counts for the operators' ``/stats``: how many, never what.

Every query is an aggregate over whole tables; nothing here reads a profile, a note or a
user id into Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiosqlite

from bot.store.sqlite import SQLiteStore

SUBSCRIPTIONS = "subscriptions"
"""The schedule's table, counted when it exists."""


@dataclass(frozen=True, slots=True)
class Counts:
    users: int
    active: int
    in_practice: int
    records: dict[str, int] = field(default_factory=dict)
    subscriptions: int | None = None
    crises: dict[str, int] = field(default_factory=dict)
    """Crisis answers (records of kind ``safety``) by category, harm to a partner included."""


async def counts(store: SQLiteStore) -> Counts:
    """Users (all, and those not marked inactive), users in the middle of a practice,
    records per kind, and subscriptions if the schedule's table exists."""
    db = store.connection
    users, active = await _row(db, "SELECT count(*), coalesce(sum(active), 0) FROM users")
    (in_practice,) = await _row(
        db, "SELECT count(*) FROM users WHERE json_array_length(session, '$.frames') > 0"
    )
    async with db.execute("SELECT kind, count(*) FROM records GROUP BY kind ORDER BY kind") as c:
        records = {str(kind): int(count) async for kind, count in c}
    subscriptions = None
    if SUBSCRIPTIONS in await store.table_names():
        (subscriptions,) = await _row(db, f"SELECT count(*) FROM {SUBSCRIPTIONS}")
    by_category = (
        "SELECT json_extract(data, '$.category') AS category, count(*) FROM records"
        " WHERE kind = 'safety' GROUP BY category ORDER BY category"
    )
    async with db.execute(by_category) as c:
        crises = {str(category): int(count) async for category, count in c}
    return Counts(users, active, in_practice, records, subscriptions, crises)


async def _row(db: aiosqlite.Connection, query: str) -> tuple[int, ...]:
    async with db.execute(query) as cursor:
        found = await cursor.fetchone()
    assert found is not None, "an aggregate always returns a row"
    return tuple(int(value) for value in found)
