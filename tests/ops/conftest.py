"""Helpers for the operations tests: real database files, and what a folder holds."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from bot.store.base import Record, UserRow
from bot.store.sqlite import SQLiteStore

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def fill(path: Path, users: int, *, prefix: str = "cli:u") -> None:
    """A real Secure Base database at ``path`` with ``users`` users, a record each."""
    async with await SQLiteStore.open(path) as store:
        for number in range(users):
            row = UserRow(f"{prefix}{number}", session={"note": "x" * 200})
            await store.save(row, [Record("feeling", {"feeling": "calm"}, NOW)], NOW)


def folder(directory: Path) -> dict[str, tuple[str, int] | None]:
    """Every file in ``directory``: a hash of its bytes and its mtime. A -shm file counts
    by its name only: it is SQLite's shared-memory index of a -wal, which any reader may
    rebuild, not data."""
    return {
        path.name: None
        if path.name.endswith("-shm")
        else (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in sorted(directory.iterdir())
        if path.is_file()
    }
