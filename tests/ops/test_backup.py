"""Backups taken while the bot writes, and restores, on real SQLite files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.ops.backup import BackupError, backup, restore
from bot.store.base import Record, UserRow
from bot.store.migrations import SCHEMA_VERSION
from bot.store.sqlite import SQLiteStore
from tests.ops.conftest import NOW, fill, folder

CRASH = """
import asyncio, datetime, os, sys
from bot.store.base import UserRow
from bot.store.sqlite import SQLiteStore

async def main():
    store = await SQLiteStore.open(sys.argv[1])
    await store.save(UserRow("cli:late"), [], datetime.datetime.now(datetime.UTC))
    os._exit(9)  # killed: no checkpoint, the write stays in the -wal

asyncio.run(main())
"""


async def test_a_backup_taken_while_the_bot_writes_is_consistent(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "backups" / "copy.db"
    await fill(live, 2000)  # enough pages that the copy takes a while
    written = 0
    first_write, copied = asyncio.Event(), asyncio.Event()

    async def write(store: SQLiteStore) -> None:
        """Each user saved with one record, in one transaction, until the copy is made."""
        nonlocal written
        while not copied.is_set():
            row = UserRow(f"tg:{written}", session={"step": written})
            await store.save(row, [Record("feeling", {"n": written}, NOW)], NOW)
            written += 1
            first_write.set()

    async with await SQLiteStore.open(live) as store:
        writer = asyncio.create_task(write(store))
        await first_write.wait()
        await asyncio.to_thread(backup, live, copy)
        copied.set()
        await writer

    async with await SQLiteStore.open(copy) as restored:
        [(users, records)] = await restored.connection.execute_fetchall(
            "SELECT (SELECT count(*) FROM users WHERE id LIKE 'tg:%'),"
            " (SELECT count(*) FROM records WHERE user_id LIKE 'tg:%')"
        )
        assert 1 <= users <= written
        assert records == users  # each user with its record: one transaction, all or nothing
        assert (await restored.load("cli:u1999")) is not None
        assert await restored.records("cli:u0") == [Record("feeling", {"feeling": "calm"}, NOW)]


async def test_a_backup_is_one_private_file_not_in_wal_mode(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    await fill(live, 3)
    backup(live, copy)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert list(folder(tmp_path)) == ["copy.db", "live.db"]


async def test_a_backup_never_replaces_a_file_unless_forced(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    await fill(live, 3)
    copy.write_bytes(b"last week's backup")
    with pytest.raises(BackupError, match=r"copy\.db exists: .* --force"):
        backup(live, copy)
    assert copy.read_bytes() == b"last week's backup"

    backup(live, copy, force=True)
    async with await SQLiteStore.open(copy) as store:
        assert await store.load("cli:u2") is not None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: None, r"live\.db does not exist"),
        (lambda path: path.write_bytes(b""), r"live\.db does not exist"),
        (
            lambda path: path.write_bytes(os.urandom(4096)),
            r"cannot copy .*live\.db to .*copy\.db: file is not a database",
        ),
        (
            lambda path: sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close(),
            r"live\.db is not a Secure Base database",
        ),
    ],
)
def test_a_backup_of_something_else_fails_and_writes_nothing(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    live = tmp_path / "live.db"
    make(live)
    before = folder(tmp_path)
    with pytest.raises(BackupError, match=message):
        backup(live, tmp_path / "copy.db")
    assert folder(tmp_path) == before


async def test_restore_puts_the_backup_back_and_keeps_what_it_replaced(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    await fill(live, 3)
    backup(live, copy)
    async with await SQLiteStore.open(live) as store:
        await store.forget("cli:u1")
        await store.save(UserRow("cli:new"), [], NOW)

    kept = restore(copy, live)

    async with await SQLiteStore.open(live) as store:
        assert await store.load("cli:u1") is not None
        assert await store.load("cli:new") is None
    assert len(kept) == 1 and kept[0].name.startswith("live.db.before-restore-")
    async with await SQLiteStore.open(kept[0]) as replaced:
        assert await replaced.load("cli:new") is not None
    assert copy.exists()


async def test_restore_refuses_while_the_database_is_open(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    await fill(live, 3)
    backup(live, copy)
    async with await SQLiteStore.open(live) as running:
        await running.save(UserRow("cli:new"), [], NOW)
        before = folder(tmp_path)
        with pytest.raises(BackupError, match=r"live\.db is in use: stop the bot first"):
            restore(copy, live)
        assert folder(tmp_path) == before
        assert await running.load("cli:new") is not None


async def test_restore_folds_in_the_wal_of_a_crashed_bot_and_drops_its_shm(
    tmp_path: Path,
) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    await fill(live, 3)
    backup(live, copy)
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", CRASH, str(live))
    assert await process.wait() == 9
    assert (tmp_path / "live.db-wal").stat().st_size > 0

    kept = restore(copy, live)

    assert list(folder(tmp_path)) == sorted(["copy.db", "live.db", kept[0].name])
    async with await SQLiteStore.open(kept[0]) as replaced:
        assert await replaced.load("cli:late") is not None  # the crashed bot's last write
    async with await SQLiteStore.open(live) as restored:
        assert await restored.load("cli:late") is None


async def test_restore_moves_a_wal_left_without_its_database(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    await fill(copy, 3)
    (tmp_path / "live.db-wal").write_bytes(os.urandom(8192))
    (tmp_path / "live.db-shm").write_bytes(os.urandom(32768))

    kept = restore(copy, live)

    assert len(kept) == 1
    assert kept[0].name.startswith("live.db.before-restore-") and kept[0].name.endswith("-wal")
    assert not (tmp_path / "live.db-shm").exists()
    async with await SQLiteStore.open(live) as restored:
        assert await restored.load("cli:u2") is not None


async def test_restore_gives_the_database_the_owner_and_mode_it_had(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    await fill(live, 3)
    backup(live, copy)
    live.chmod(0o640)
    restore(copy, live)
    assert stat.S_IMODE(live.stat().st_mode) == 0o640
    assert live.stat().st_uid == os.getuid()


@pytest.mark.parametrize("damage", ["truncated", "foreign", "newer"])
async def test_restore_refuses_a_bad_backup_and_touches_nothing(
    tmp_path: Path, damage: str
) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    await fill(live, 300)
    backup(live, copy)
    if damage == "truncated":
        copy.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    elif damage == "foreign":
        with sqlite3.connect(copy) as db:
            db.execute("PRAGMA application_id = 42")
    else:
        with sqlite3.connect(copy) as db:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = folder(tmp_path)
    with pytest.raises(BackupError):
        restore(copy, live)
    assert folder(tmp_path) == before
