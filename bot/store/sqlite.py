"""The SQLite store, through aiosqlite, in WAL mode.

Each event is one short transaction, committed before the engine returns its reply, so a
crash or restart never loses an acknowledged step. ``synchronous=NORMAL`` keeps commits
cheap: in WAL mode that survives a process crash; only a power cut can lose the newest
transactions.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import aiosqlite

from bot.store.base import JSON, DueTimer, Record, StoreError, UserRow
from bot.store.migrations import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    from bot.coach.extensions import SaveHook

# Tables that hold rows about a user, with the column naming them. /forget and /export
# walk this list, so a new table only has to be added here to be covered.
USER_TABLES: dict[str, str] = {
    "records": "user_id",
    "subscriptions": "user_id",
    "users": "id",
}


def scope_clause(column: str) -> str:
    """SQL keeping the rows of one scope: a door's user-id prefix ending in ``:``
    (``"tg:"``), one exact user id (``"cli:alice"``), or everyone (``""``). Its
    parameters come from :func:`scope_params`."""
    return f"(substr({column}, 1, ?) = ? OR {column} = ?)"


def scope_params(scope: str) -> tuple[int, str, str]:
    prefix = scope if scope == "" or scope.endswith(":") else "\x00"
    return (len(prefix), prefix, scope)


_SCOPE = scope_clause("id")


_UPSERT_USER = (
    "INSERT INTO users (id, locale, profile, active, session, timer_token, timer_due,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
    " locale = excluded.locale, profile = excluded.profile, active = excluded.active,"
    " session = excluded.session, timer_token = excluded.timer_token,"
    " timer_due = excluded.timer_due, updated_at = excluded.updated_at"
)
_INSERT_RECORD = "INSERT INTO records (user_id, kind, data, created_at) VALUES (?, ?, ?, ?)"


def _user_params(row: UserRow, profile: str, now: datetime) -> tuple[object, ...]:
    stamp = now.isoformat()
    return (
        row.user_id,
        row.locale,
        profile,
        int(row.active),
        _dump(row.session),
        row.timer_token,
        _iso(row.timer_due),
        stamp,
        stamp,
    )


def _record_params(row: UserRow, records: list[Record]) -> list[tuple[str, ...]]:
    return [(row.user_id, r.kind, _dump(r.data), r.created_at.isoformat()) for r in records]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class SQLiteStore:
    """:class:`bot.store.base.Store` on one SQLite file. Open with :meth:`open`."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self._writing = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        """Open (creating if needed) and migrate the database at ``path``.

        Raises :class:`StoreError`, touching nothing, if the file is not a SQLite database,
        belongs to another program, is damaged, or was written by a newer version of
        Secure Base (see :func:`_inspect`).
        """
        path = Path(path)
        version = await _inspect(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await _configure(db)
            await _apply(db, version, MIGRATIONS[version:])
        except BaseException:
            await db.close()
            raise
        return cls(db, path)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def connection(self) -> aiosqlite.Connection:
        """The shared connection, for sibling stores (schedule) in the same file."""
        return self._db

    async def load(self, user_id: str) -> UserRow | None:
        query = (
            "SELECT locale, profile, active, session, timer_token, timer_due FROM users"
            " WHERE id = ?"
        )
        rows = await self._db.execute_fetchall(query, (user_id,))
        for locale, profile, active, session, token, due in rows:
            return UserRow(
                user_id=user_id,
                locale=locale,
                profile=json.loads(profile),
                session=json.loads(session),
                timer_token=token,
                timer_due=_instant(due),
                active=bool(active),
                loaded_profile=profile,
            )
        return None

    async def save(
        self,
        row: UserRow,
        records: list[Record],
        now: datetime,
        hooks: Sequence[SaveHook] = (),
    ) -> None:
        """One UPSERT (atomic on its own) for the common case; a transaction only when
        records or hooks add statements. Each statement is a thread round trip, and
        those round trips are most of an event's cost."""
        profile = _dump(row.profile)
        hooks = hooks if profile != row.loaded_profile else ()
        upsert = (_UPSERT_USER, _user_params(row, profile, now))
        if not records and not hooks:
            await self._db.execute(*upsert)
        else:
            async with self.transaction():
                await self._db.execute(*upsert)
                if records:
                    await self._db.executemany(_INSERT_RECORD, _record_params(row, records))
                for hook in hooks:
                    await hook(self, row, now)
        row.loaded_profile = profile

    def transaction(self) -> _Transaction:
        """``async with store.transaction():`` — BEGIN IMMEDIATE … COMMIT (or ROLLBACK)."""
        return _Transaction(self._db, self._writing)

    async def due_timers(self, until: datetime, scope: str = "") -> list[DueTimer]:
        query = (
            "SELECT id, timer_token, timer_due FROM users WHERE timer_due IS NOT NULL"
            f" AND timer_due <= ? AND {_SCOPE} ORDER BY timer_due"
        )
        async with self._db.execute(query, (until.isoformat(), *scope_params(scope))) as cursor:
            rows = await cursor.fetchall()
        return [DueTimer(user, token, datetime.fromisoformat(due)) for user, token, due in rows]

    async def next_timer_due(self, scope: str = "") -> datetime | None:
        query = f"SELECT MIN(timer_due) FROM users WHERE timer_due IS NOT NULL AND {_SCOPE}"
        async with self._db.execute(query, scope_params(scope)) as cursor:
            found = await cursor.fetchone()
        return _instant(found[0]) if found else None

    async def records(self, user_id: str, kind: str | None = None) -> list[Record]:
        query = "SELECT kind, data, created_at FROM records WHERE user_id = ?"
        params: tuple[str, ...] = (user_id,)
        if kind is not None:
            query += " AND kind = ?"
            params += (kind,)
        async with self._db.execute(query + " ORDER BY created_at, id", params) as cursor:
            rows = await cursor.fetchall()
        return [Record(k, json.loads(d), datetime.fromisoformat(c)) for k, d, c in rows]

    async def set_active(self, user_id: str, active: bool) -> None:
        async with self.transaction():
            await self._db.execute(
                "UPDATE users SET active = ? WHERE id = ?", (int(active), user_id)
            )

    async def export(self, user_id: str) -> JSON:
        exported: JSON = {}
        for table, column in USER_TABLES.items():
            async with self._db.execute(
                f"SELECT * FROM {table} WHERE {column} = ?", (user_id,)
            ) as cursor:
                names = [d[0] for d in cursor.description]
                exported[table] = [_decode(dict(zip(names, r, strict=True))) async for r in cursor]
        return exported

    async def forget(self, user_id: str) -> None:
        async with self.transaction():
            for table, column in USER_TABLES.items():
                await self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (user_id,))

    async def sessions_listing(
        self, key: str, *, position: int, at_least: int, scope: str = ""
    ) -> list[tuple[str, JSON]]:
        # Searched in SQLite: parsing every session in Python takes seconds at 100,000.
        query = (
            f"SELECT id, session FROM users WHERE {_SCOPE} AND EXISTS (SELECT 1 FROM"
            " json_each(session, ?) WHERE json_extract(value, ?) >= ?)"
        )
        params = (*scope_params(scope), f"$.{key}", f"$[{position}]", at_least)
        rows = await self._db.execute_fetchall(query, params)
        return [(user_id, json.loads(session)) for user_id, session in rows]

    async def mark(self, name: str) -> int | None:
        rows = await self._db.execute_fetchall("SELECT value FROM marks WHERE name = ?", (name,))
        return next((int(value) for (value,) in rows), None)

    async def set_mark(self, name: str, value: int) -> None:
        await self._db.execute(
            "INSERT INTO marks (name, value) VALUES (?, ?)"
            " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    async def table_names(self) -> list[str]:
        async with self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ) as cursor:
            return [name async for (name,) in cursor]

    async def close(self) -> None:
        await self._db.close()


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT under the store's lock: every coroutine shares one
    connection, so two open transactions would collide ("cannot start a transaction
    within a transaction"); they take turns instead."""

    def __init__(self, db: aiosqlite.Connection, lock: asyncio.Lock) -> None:
        self._db = db
        self._lock = lock

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        try:
            await self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            await self._abandon()
            raise

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            await self._db.execute("ROLLBACK" if kind else "COMMIT")
        finally:
            self._lock.release()

    async def _abandon(self) -> None:
        """BEGIN failed, or was cancelled while the worker thread ran it, so it may have
        begun after all: roll back (queued behind it) rather than leave the shared
        connection inside a transaction nobody owns."""
        try:
            await self._db.execute("ROLLBACK")
        except sqlite3.OperationalError:
            pass  # it had not begun
        finally:
            self._lock.release()


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    """JSON columns come back as data, so an export reads as one document."""
    for key in ("profile", "session", "data"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row


async def _scalar(db: aiosqlite.Connection, sql: str) -> Any:
    async with db.execute(sql) as cursor:
        found = await cursor.fetchone()
    return found[0] if found else None


async def _inspect(path: Path) -> int:
    """The schema version of the file at ``path`` (0: no database yet), read without
    writing a byte to it.

    Raises :class:`StoreError` if the file is not a SQLite database, belongs to another
    program, is damaged (``PRAGMA quick_check``: a fraction of a second for 100 MB), was
    written by a newer Secure Base, or is a write-ahead log whose database is gone (SQLite
    would replay it into a new, empty file).

    The checks run on a read-only connection, so a refused file keeps its bytes and its
    mtime: a read-write one would, on closing, checkpoint another program's leftover WAL
    into its database. With no WAL beside the file it is opened ``immutable``, which does
    not create -wal and -shm files next to it either.
    """
    uri = _read_only_uri(path)
    if uri is None:
        return 0
    try:
        async with aiosqlite.connect(uri, uri=True) as db:
            version = await _identify(db, path)
            damage = await _scalar(db, "PRAGMA quick_check(1)")
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} is not a readable SQLite database ({error})") from error
    if damage != "ok":
        raise StoreError(f"{path} is damaged ({damage}): restore it from a backup")
    return version


def _read_only_uri(path: Path) -> str | None:
    """How :func:`_inspect` opens ``path``; None when there is no database there yet."""
    wal = path.with_name(f"{path.name}-wal")
    if not path.exists() or path.stat().st_size == 0:
        if wal.exists() and wal.stat().st_size > 0:
            raise StoreError(
                f"{wal} has no database beside it ({path.name} is missing or empty):"
                f" restore the database from a backup, or move {wal.name} away to start afresh"
            )
        return None
    return f"{path.resolve().as_uri()}?{'mode=ro' if wal.exists() else 'immutable=1'}"


async def _identify(db: aiosqlite.Connection, path: Path) -> int:
    """The schema version, if the database is ours (or empty) and not from the future."""
    app_id = await _scalar(db, "PRAGMA application_id")
    version: int = await _scalar(db, "PRAGMA user_version")
    tables = await _scalar(db, "SELECT count(*) FROM sqlite_master")
    if app_id != APPLICATION_ID and (app_id != 0 or tables):
        raise StoreError(f"{path} is a database of another program; refusing to touch it")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer Secure Base (schema {version} > {SCHEMA_VERSION})"
        )
    return version


async def _configure(db: aiosqlite.Connection) -> None:
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute("PRAGMA synchronous = NORMAL")
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute("PRAGMA busy_timeout = 5000")
    # /forget must not leave a user's words readable in free pages of the file.
    await db.execute("PRAGMA secure_delete = ON")


async def _apply(db: aiosqlite.Connection, version: int, pending: Iterable[str]) -> None:
    for number, script in enumerate(pending, start=version + 1):
        # executescript would COMMIT on its own; run statements inside one transaction.
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(str.strip, script.split(";")):
                await db.execute(statement)
            await db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            await db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
