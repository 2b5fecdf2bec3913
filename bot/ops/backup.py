"""Backups of the live database, and putting one back.

``python -m bot backup PATH`` copies the database with SQLite's online backup API while
the bot keeps running: the pages are read in one step inside one read transaction, which
in WAL mode is a consistent snapshot and does not hold up the bot's writes. The copy is
made beside ``PATH`` (readable by its owner only), switched out of WAL mode so that it is
one self-contained file, checked (``PRAGMA integrity_check``, and that it is ours), and
only then renamed onto ``PATH``: a failed backup never leaves a half file, nor replaces an
older backup (which it does only with ``--force``).

``python -m bot restore BACKUP`` does the documented procedure (stop the bot, put the
backup in place of the database, remove the stale -wal and -shm files, start the bot)
safely:

- the backup is copied beside the database the same way (so even a raw copy that came
  with its own -wal gives one consistent file) and checked, before anything is touched;
- it refuses while any process has the database open. Every connection to a WAL database
  holds a shared lock on the file for as long as it is open, idle or not, so an attempt to
  take an exclusive lock fails exactly while a bot (or a ``sqlite3`` shell) has it open.
  A lock file would need the bot's cooperation and could outlive a crash; this needs
  neither, and it covers every other program that opens the file;
- the database it replaces is renamed, not deleted, together with its -wal (so the pair
  stays readable), to ``NAME.before-restore-<time>``: delete it once the restored bot
  works. Then the copy is renamed into place, with the replaced file's owner and mode, so
  a restore run as root still leaves a file the bot's user can open.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from bot.store.base import StoreError
from bot.store.migrations import APPLICATION_ID, SCHEMA_VERSION

BUSY_SECONDS = 10.0
"""How long a backup waits for the database when SQLite reports it busy."""

MOVED_ALONG = ("", "-wal", "-journal")
"""A database file and the journals holding its latest transactions: they move together.
The -shm file is only an index of the -wal, rebuilt from it, so it is deleted."""


class BackupError(StoreError):
    """A backup or restore cannot be done; ``str()`` says why, in one line."""


def backup(database: Path, target: Path, *, force: bool = False) -> None:
    """Copy ``database`` to ``target``, consistently, while the bot may be writing it."""
    if target.exists() and not force:
        raise BackupError(f"{target} exists: choose another name, or pass --force to replace it")
    if not database.is_file() or database.stat().st_size == 0:
        raise BackupError(f"{database} does not exist: there is nothing to back up")
    with _file_errors():
        target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial")
    try:
        _copy(database, partial, target)
        _move(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def restore(source: Path, database: Path) -> list[Path]:
    """Put the backup ``source`` in place of ``database``, which no process may have
    open; returns the files it replaced, kept under a new name.

    Nothing is touched until the copy is made and checked beside the database.
    """
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    with _file_errors():
        database.parent.mkdir(parents=True, exist_ok=True)
        previous = database.stat() if database.exists() else None
    partial = database.with_name(f"{database.name}.restoring")
    try:
        version = _copy(source, partial, database, like=previous)
        if version > SCHEMA_VERSION:
            raise BackupError(
                f"{source} was made by a newer Secure Base (schema {version} >"
                f" {SCHEMA_VERSION}): upgrade first"
            )
        _refuse_if_open(database)
        with _file_errors():
            kept = _set_aside(database)
        _move(partial, database)
    finally:
        partial.unlink(missing_ok=True)
    return kept


def _copy(source: Path, partial: Path, final: Path, like: os.stat_result | None = None) -> int:
    """Copy the database ``source`` into a new file ``partial`` with SQLite's backup
    API, as one self-contained file (not in WAL mode), and check the copy; returns its
    schema version. Errors about the copy name ``final``, the file it is made for.

    The new file gets the owner and mode of ``like`` (the file it will replace), else
    only its owner can read it: a database holds people's words.
    """
    with _file_errors():
        _create(partial, like)
    try:
        # Read-write, though only read: closing the last connection then tidies up (folds
        # a crashed bot's -wal in, removes the -wal and -shm) instead of leaving files.
        with closing(_connect(source, "rw")) as db, closing(_connect(partial, "rw")) as copy:
            version = _identify(db, source)
            db.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
        with closing(_connect(partial, "ro")) as copy:
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check(1)")]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"cannot copy {source} to {final}: {error}") from None
    if problems != ["ok"]:
        raise BackupError(f"the copy of {source} for {final} is damaged: {problems[0]}")
    return version


def _create(path: Path, like: os.stat_result | None) -> None:
    """An empty file at ``path`` (replacing the leftover of an interrupted run), mode 0600
    or the mode and owner of ``like``."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        if like is not None:
            os.fchmod(descriptor, stat.S_IMODE(like.st_mode))
            with suppress(PermissionError):  # only root may give a file away
                os.fchown(descriptor, like.st_uid, like.st_gid)
    finally:
        os.close(descriptor)


def _move(partial: Path, final: Path) -> None:
    """Rename the finished copy into place, durably."""
    with _file_errors():
        partial.replace(final)
        descriptor = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)  # the rename survives a power cut
        finally:
            os.close(descriptor)


def _connect(path: Path, mode: str, *, timeout: float = BUSY_SECONDS) -> sqlite3.Connection:
    """A connection to an existing file only (``mode``: ``ro`` or ``rw``): SQLite would
    otherwise create an empty database where a path is wrong."""
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    return sqlite3.connect(uri, uri=True, timeout=timeout)


def _identify(db: sqlite3.Connection, path: Path) -> int:
    """The schema version of a Secure Base database; refuses any other."""
    (app_id,) = db.execute("PRAGMA application_id").fetchone()
    if app_id != APPLICATION_ID:
        raise BackupError(f"{path} is not a Secure Base database")
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    return version


def _refuse_if_open(database: Path) -> None:
    """Raise if any connection has ``database`` open (see the module's docstring).

    A file SQLite cannot read is open in no bot (the bot refuses to start on one), so
    only "busy" stops a restore. Closing this connection, the only one, also folds the
    database's -wal into it.
    """
    if not database.exists():
        return
    try:
        with closing(_connect(database, "rw", timeout=0)) as db:
            db.execute("PRAGMA locking_mode = EXCLUSIVE")
            db.execute("BEGIN EXCLUSIVE")
            db.execute("COMMIT")
    except sqlite3.DatabaseError as error:
        if error.sqlite_errorname == "SQLITE_BUSY":
            raise BackupError(f"{database} is in use: stop the bot first") from None


def _set_aside(database: Path) -> list[Path]:
    """Rename the database and its journals to ``NAME.before-restore-<time>`` and delete
    its -shm. A -wal left without its database moves too: SQLite would replay it into
    the restored file."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = database.with_name(f"{database.name}.before-restore-{stamp}")
    if kept.exists():
        raise BackupError(f"{kept} exists: restore again in a second")
    moved = []
    for suffix in MOVED_ALONG:
        current = database.with_name(database.name + suffix)
        if current.exists():
            moved.append(current.rename(kept.with_name(kept.name + suffix)))
    database.with_name(f"{database.name}-shm").unlink(missing_ok=True)
    return moved


@contextmanager
def _file_errors() -> Iterator[None]:
    """A file-system failure, as one line for the command line."""
    try:
        yield
    except OSError as error:
        raise BackupError(f"{error.filename or ''}: {error.strerror}") from None
