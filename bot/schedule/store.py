"""The ``subscriptions`` table (migration 2): kept in step with profiles, claimed by the loop.

Two writers, each in a transaction of the shared SQLite store:

- :meth:`ScheduleStore.sync`, from the save hook, inside the transaction that saves the
  user's profile: rows appear, change or go as the profile's choices do. ``next_due`` is
  recomputed only when the rule itself changed, so a save never moves an occurrence the
  loop has already claimed back into the past.
- :meth:`ScheduleStore.claim`, from the loop: takes the due rows (earliest first, a batch
  at a time), decides for each whether this occurrence goes out, and moves ``next_due`` on,
  all in one transaction committed *before* anything is sent.

So delivery is at most once per occurrence: a crash after the claim and before the send
loses that one reminder; nothing can make it go out twice. A reminder more than the
grace (two hours) late, after a restart or behind a long fan-out, is skipped; so is one
for a user marked inactive (they blocked the bot), whose rows simply move on and start
sending again the day they write.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.schedule.choices import Kind, Wanted
from bot.schedule.plan import Columns, Plan
from bot.schedule.recurrence import DEFAULT_GRACE, catch_up
from bot.store.sqlite import SQLiteStore, scope_clause, scope_params

log = logging.getLogger(__name__)

RETRY_UNREADABLE = timedelta(days=1)

# A scope is a door's prefix ending in ":" ("tg:"), one exact user id, or "" (everyone):
# the same rule as the timers of bot.store.
_SCOPE = scope_clause("s.user_id")

_SELECT_USER = (
    "SELECT s.id, s.key, s.kind, s.ref, s.local_time, s.days, s.tz, s.quiet, s.paused_until,"
    " s.skip_date, s.next_due, s.snoozed_until FROM subscriptions s WHERE s.user_id = ?"
)
_INSERT = (
    "INSERT INTO subscriptions (kind, ref, local_time, days, tz, quiet, paused_until,"
    " skip_date, next_due, snoozed_until, due_at, updated_at, user_id, key, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE = (
    "UPDATE subscriptions SET kind = ?, ref = ?, local_time = ?, days = ?, tz = ?, quiet = ?,"
    " paused_until = ?, skip_date = ?, next_due = ?, snoozed_until = ?, due_at = ?,"
    " updated_at = ? WHERE id = ?"
)
_DELETE = "DELETE FROM subscriptions WHERE id = ?"
_DUE = (
    "SELECT s.id, s.user_id, s.kind, s.ref, s.local_time, s.days, s.tz, s.quiet,"
    " s.paused_until, s.skip_date, s.next_due, s.snoozed_until, u.active"
    f" FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE s.due_at <= ? AND {_SCOPE}"
    " ORDER BY s.due_at LIMIT ?"
)
_CLAIM = (
    "UPDATE subscriptions SET next_due = ?, snoozed_until = ?, due_at = ?,"
    " fired_due = coalesce(?, fired_due), fired_at = coalesce(?, fired_at), updated_at = ?"
    " WHERE id = ?"
)
_NEXT = f"SELECT s.due_at FROM subscriptions s WHERE {_SCOPE} ORDER BY s.due_at LIMIT 1"


@dataclass(frozen=True, slots=True)
class Due:
    """An occurrence claimed for sending: whose, and which reminder (its kind, and the
    routine it is of)."""

    user_id: str
    kind: Kind
    ref: str


@dataclass(frozen=True, slots=True)
class Claim:
    """One batch: how many due rows were taken, and which of them go out now."""

    taken: int
    due: list[Due]


class ScheduleStore:
    """The schedule's queries, on the shared connection of a :class:`SQLiteStore`."""

    def __init__(self, store: object) -> None:
        if not isinstance(store, SQLiteStore):
            raise TypeError("the schedule lives in the SQLite store's database")
        self._store = store
        self._db = store.connection

    # --- the save hook's side -----------------------------------------------------------------

    async def sync(self, user_id: str, wanted: Sequence[Wanted], now: datetime) -> None:
        """Make the user's rows match ``wanted``. Runs inside the caller's transaction."""
        found = {
            row[1]: _Row(row[0], tuple(row[2:]))
            for row in await self._db.execute_fetchall(_SELECT_USER, (user_id,))
        }
        keys = {item.key for item in wanted}
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for item in wanted:
            row = found.get(item.key)
            values = _values(item, row, now)
            if row is None:
                inserts.append((*_with_due(values), _iso(now), user_id, item.key, _iso(now)))
            elif values != row.values:
                updates.append((*_with_due(values), _iso(now), row.id))
        await _many(self._db, _DELETE, [(r.id,) for k, r in found.items() if k not in keys])
        await _many(self._db, _INSERT, inserts)
        await _many(self._db, _UPDATE, updates)

    # --- the loop's side --------------------------------------------------------------------

    async def claim(
        self, now: datetime, scope: str, limit: int, grace: timedelta = DEFAULT_GRACE
    ) -> Claim:
        """Take up to ``limit`` rows due by ``now`` in ``scope`` and move each on to its
        next occurrence, committed before this returns; those that go out come back."""
        async with self._store.transaction():
            rows = await self._db.execute_fetchall(_DUE, (_iso(now), *scope_params(scope), limit))
            outcomes = [_decide(_DueRow.read(row), now, grace) for row in rows]
            await _many(self._db, _CLAIM, [params for params, _ in outcomes])
        return Claim(len(outcomes), [due for _, due in outcomes if due is not None])

    async def next_due(self, scope: str) -> datetime | None:
        """The earliest instant anything in ``scope`` is due, for the loop to sleep on."""
        rows = await self._db.execute_fetchall(_NEXT, scope_params(scope))
        return next((_instant(due) for (due,) in rows), None)


@dataclass(frozen=True, slots=True)
class _Row:
    """A stored row as :meth:`ScheduleStore.sync` compares it: ``values`` are kind, ref,
    the plan's columns, ``next_due`` and ``snoozed_until``, as text."""

    id: int
    values: tuple[Any, ...]

    @property
    def rule(self) -> tuple[Any, ...]:
        return self.values[:8]

    @property
    def next_due(self) -> datetime | None:
        return _instant(self.values[8])

    @property
    def snoozed(self) -> datetime | None:
        return _instant(self.values[9])


def _values(item: Wanted, row: _Row | None, now: datetime) -> tuple[Any, ...]:
    """The row ``item`` asks for. ``next_due`` stays as stored unless the rule changed
    (or the row is new); a snooze already in the past is left as stored: it has gone
    out, or the loop is about to send it."""
    rule = (item.kind, item.ref, *item.plan.columns())
    kept = row.next_due if row is not None and row.rule == rule else None
    next_due = kept or item.plan.next_after(now)
    wanted = None if item.snoozed is None else item.plan.snooze_at(item.snoozed)
    stored = None if row is None else row.snoozed
    snoozed = wanted if wanted is None or wanted > now else stored
    return (*rule, _iso(next_due), _iso(snoozed))


def _with_due(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """``values`` followed by ``due_at``: the earlier of next_due and the snooze."""
    next_due, snoozed = values[8], values[9]
    return (*values, next_due if snoozed is None else min(next_due, snoozed))


@dataclass(frozen=True, slots=True)
class _DueRow:
    """A due row as :meth:`ScheduleStore.claim` reads it."""

    id: int
    user_id: str
    kind: Kind
    ref: str
    columns: Columns
    next_due: datetime
    snoozed: datetime | None
    active: bool

    @classmethod
    def read(cls, row: Sequence[Any]) -> _DueRow:
        """From a row of the ``_DUE`` query."""
        row_id, user_id, kind, ref = row[:4]
        local_time, days, tz, quiet, paused_until, skip_date = row[4:10]
        return cls(
            id=row_id,
            user_id=user_id,
            kind=kind,
            ref=ref,
            columns=(local_time, days, tz, quiet, paused_until, skip_date),
            next_due=datetime.fromisoformat(row[10]),
            snoozed=_instant(row[11]),
            active=bool(row[12]),
        )


def _decide(row: _DueRow, now: datetime, grace: timedelta) -> tuple[tuple[Any, ...], Due | None]:
    """The claim of one due row: its new columns, and the occurrence to send if any.

    The regular occurrence moves on to the next one after ``now`` (missed ones are not
    saved up) and a due snooze is used up; one of them goes out if the user is active
    and it is at most ``grace`` late (a snooze, too, only outside a pause)."""
    try:
        plan = Plan.from_columns(row.columns)
    except (ValueError, KeyError):
        log.error("subscription %s is unreadable; trying again in a day", row.id)
        retry = _iso(now + RETRY_UNREADABLE)
        return (retry, None, retry, None, None, _iso(now), row.id), None
    next_due, snoozed, fire = row.next_due, row.snoozed, None
    if next_due <= now:
        fire = next_due if catch_up(next_due, now, grace) == "send" else None
        next_due = plan.next_after(now)
    if snoozed is not None and snoozed <= now:
        on_time = catch_up(snoozed, now, grace) == "send" and not plan.paused_at(now)
        fire = fire or (snoozed if on_time else None)
        snoozed = None
    fire = fire if row.active else None
    due_at = next_due if snoozed is None else min(next_due, snoozed)
    fired = None if fire is None else _iso(now)
    params = (_iso(next_due), _iso(snoozed), _iso(due_at), _iso(fire), fired, _iso(now), row.id)
    return params, None if fire is None else Due(row.user_id, row.kind, row.ref)


async def _many(db: Any, sql: str, params: Iterable[tuple[Any, ...]]) -> None:
    batch = list(params)
    if batch:
        await db.executemany(sql, batch)


def _iso(moment: datetime | None) -> str | None:
    """An instant as stored: ISO 8601 in UTC, so text order is time order."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
