"""Start-up checks: older databases are migrated; a database that is not ours, or is
damaged, stops the bot with one clear line and is left exactly as it was; broken dialogue
files stop it with the lint's ``file:line`` output. And ``backup``/``restore`` as commands.

The process tests run ``python -m bot`` for real (exit status, standard error, no
traceback); the many kinds of bad file are also checked in-process on the store, which
is fast.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.store.base import Record, StoreError
from bot.store.migrations import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from bot.store.sqlite import SQLiteStore
from tests.coach.conftest import FIXTURE
from tests.ops.conftest import NOW, fill, folder

pytestmark = pytest.mark.timeout(60)

DB = "securebase.db"
PAGE = 4096


@dataclass(frozen=True, slots=True)
class Finished:
    """How a ``python -m bot`` process ended."""

    code: int
    out: str
    err: str


async def python_m_bot(home: Path, *args: str, dialogues: Path = FIXTURE) -> Finished:
    """``python -m bot ARGS`` in ``home``, on ``home/securebase.db``, with no input."""
    env = {**os.environ, "SECUREBASE_DB": str(home / DB), "SECUREBASE_DIALOGUES": str(dialogues)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=home, env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


# --- files that are not a database of ours ----------------------------------------------


async def foreign(path: Path) -> None:
    """Another program's SQLite database."""
    sql(path, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)")


async def foreign_with_its_wal(path: Path) -> None:
    """Another program's WAL database, with the -wal its crash left behind: a read-write
    connection would checkpoint that into the file on closing."""
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "db.execute('PRAGMA journal_mode = WAL')\n"
        "with db:\n"
        "    db.execute('CREATE TABLE accounts (id INTEGER PRIMARY KEY)')\n"
        "os._exit(0)\n"
    )
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, str(path))
    assert await process.wait() == 0


async def random_bytes(path: Path) -> None:
    overwrite(path, 0, os.urandom(16384))


async def truncated(path: Path) -> None:
    """Our database, cut in half (a disk that filled up, a copy that stopped)."""
    await fill(path, 300)
    with path.open("r+b") as file:
        file.truncate(file.seek(0, os.SEEK_END) // 2)


async def damaged_page(path: Path) -> None:
    """Our database with one page in the middle overwritten."""
    await fill(path, 300)
    overwrite(path, PAGE * 15, b"\xff" * PAGE)


async def newer(path: Path) -> None:
    await fill(path, 1)
    sql(path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")


async def wal_without_its_database(path: Path) -> None:
    """A -wal whose database was moved or deleted: SQLite would replay it into a new file."""
    overwrite(path.with_name(f"{path.name}-wal"), 0, os.urandom(8192))


def sql(path: Path, statement: str) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(statement)


def overwrite(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b" if path.exists() else "wb") as file:
        file.seek(offset)
        file.write(data)


Make = Callable[[Path], Awaitable[None]]

REFUSED: dict[str, tuple[Make, str]] = {
    "foreign": (foreign, "is a database of another program"),
    "foreign_with_its_wal": (foreign_with_its_wal, "is a database of another program"),
    "random_bytes": (random_bytes, "is not a readable SQLite database"),
    "truncated": (truncated, "is not a readable SQLite database"),
    "damaged_page": (damaged_page, "is damaged"),
    "newer": (newer, "was written by a newer Secure Base"),
    "wal_without_its_database": (wal_without_its_database, "has no database beside it"),
}


@pytest.mark.parametrize("kind", REFUSED)
async def test_the_store_refuses_a_file_that_is_not_a_database_of_ours_and_changes_nothing(
    tmp_path: Path, kind: str
) -> None:
    make, message = REFUSED[kind]
    await make(tmp_path / DB)
    before = folder(tmp_path)
    with pytest.raises(StoreError, match=message):
        await SQLiteStore.open(tmp_path / DB)
    assert folder(tmp_path) == before  # every file's bytes and mtime, and no new file


async def test_the_bot_stops_on_a_foreign_or_corrupt_database_with_one_line_touching_nothing(
    tmp_path: Path,
) -> None:
    """As a process: exit 2, one line naming the file, no traceback. Run side by side,
    since each start-up compiles the crisis screen."""
    kinds = ["foreign", "random_bytes", "truncated"]
    homes = [tmp_path / kind for kind in kinds]
    for kind, home in zip(kinds, homes, strict=True):
        home.mkdir()
        await REFUSED[kind][0](home / DB)
    before = [folder(home) for home in homes]

    results = await asyncio.gather(*(python_m_bot(home, "chat") for home in homes))

    for kind, home, was, result in zip(kinds, homes, before, results, strict=True):
        assert result.code == 2, (kind, result.err)
        assert result.err.splitlines() == [result.err.strip()], kind
        assert result.err.startswith(f"error: {home / DB} {REFUSED[kind][1]}"), result.err
        assert "Traceback" not in result.err
        assert folder(home) == was, kind


async def test_broken_dialogues_stop_the_bot_with_the_lint_output(tmp_path: Path) -> None:
    dialogues = tmp_path / "dialogues"
    shutil.copytree(FIXTURE, dialogues)
    hello = dialogues / "hello.yaml"
    hello.write_text(hello.read_text().replace("go: bye", "go: nowhere"))

    result = await python_m_bot(tmp_path, "chat", dialogues=dialogues)

    assert result.code == 1
    assert re.search(rf"^{re.escape(str(hello))}:\d+: .*nowhere", result.err, re.MULTILINE)
    assert "Traceback" not in result.err
    assert not (tmp_path / DB).exists()  # the database is not even opened


# --- files the bot starts on -------------------------------------------------------------


async def test_a_database_of_the_previous_schema_is_migrated_with_its_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / DB
    with closing(sqlite3.connect(path)) as db, db:
        for script in MIGRATIONS[:1]:
            db.executescript(script)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 1")
        stamp = NOW.isoformat()
        db.execute(
            "INSERT INTO users (id, session, created_at, updated_at) VALUES (?, ?, ?, ?)",
            ("tg:7", '{"frames": [{"dialogue": "pause", "state": "stop"}]}', stamp, stamp),
        )
        db.execute(
            "INSERT INTO records (user_id, kind, data, created_at) VALUES (?, ?, ?, ?)",
            ("tg:7", "feeling", '{"feeling": "hurt"}', stamp),
        )

    async with await SQLiteStore.open(path) as store:
        version = await store.connection.execute_fetchall("PRAGMA user_version")
        assert list(version) == [(SCHEMA_VERSION,)]
        row = await store.load("tg:7")
        assert row is not None
        assert row.session == {"frames": [{"dialogue": "pause", "state": "stop"}]}
        assert await store.records("tg:7") == [Record("feeling", {"feeling": "hurt"}, NOW)]
        assert set(await store.table_names()) >= {"users", "records", "subscriptions"}


async def test_an_empty_file_is_a_new_database(tmp_path: Path) -> None:
    (tmp_path / DB).write_bytes(b"")
    async with await SQLiteStore.open(tmp_path / DB) as store:
        assert set(await store.table_names()) >= {"users", "records"}


async def test_a_bot_killed_before_its_first_checkpoint_starts_again(tmp_path: Path) -> None:
    """Its tables, and the mark that the file is ours, are still only in the -wal."""
    script = (
        "import asyncio, os, sys\n"
        "from bot.store.sqlite import SQLiteStore\n"
        "async def main():\n"
        "    await SQLiteStore.open(sys.argv[1])\n"
        "    os._exit(9)\n"
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, str(tmp_path / DB))
    assert await process.wait() == 9
    with sqlite3.connect(f"{(tmp_path / DB).as_uri()}?immutable=1", uri=True) as db:
        assert db.execute("PRAGMA application_id").fetchone() == (0,)  # not in the file yet
    async with await SQLiteStore.open(tmp_path / DB) as store:
        assert "users" in await store.table_names()


# --- backup and restore as commands ------------------------------------------------------


async def test_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    await fill(tmp_path / DB, 3)
    copy = tmp_path / "backups" / "monday.db"

    made = await python_m_bot(tmp_path, "backup", str(copy))
    assert (made.code, made.err) == (0, "")
    assert made.out == f"backed up {tmp_path / DB} to {copy} (checked)\n"

    again = await python_m_bot(tmp_path, "backup", str(copy))
    assert again.code == 2
    assert (
        again.err == f"error: {copy} exists: choose another name, or pass --force to replace it\n"
    )

    restored = await python_m_bot(tmp_path, "restore", str(copy))
    assert (restored.code, restored.err) == (0, "")
    first, kept = restored.out.splitlines()
    assert first == f"restored {tmp_path / DB} from {copy}"
    assert re.fullmatch(r"the file it replaced is kept as .*before-restore-\w+: .*", kept)
