"""Optional retention: what users wrote is deleted after ``SECUREBASE_RETENTION_DAYS``.

Unset, everything is kept until the user sends ``/forget``. Set to N, a daily purge
deletes the records that hold free text (:data:`NOTE_KINDS`) once they are older than N
days, and empties the place in a practice of anyone silent for longer than that, since a
half-finished practice holds the answers typed so far (and so may the replies kept for
a replay, :mod:`bot.coach.replay`). Records without free text (a
breathing session, a pause) stay, so the user's history keeps its shape.

A door starts the purge for as long as it serves users::

    async with retention(app.store, app.coach.clock, retention_days()):
        ...  # serve

It purges at once, then every :data:`PURGE_EVERY`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import ConfigError
from bot.store.sqlite import SQLiteStore

log = logging.getLogger(__name__)

NOTE_KINDS = ("feeling", "repair_plan", "validation", "checkin_note", "trigger")
"""Record kinds whose data can hold what a user typed (a note, a plan, an observation).
A dialogue that saves typed text under a new kind must add the kind here; a test checks
this list against the dialogues."""

PURGE_EVERY = timedelta(days=1)
ENV = "SECUREBASE_RETENTION_DAYS"


def retention_days(env: Mapping[str, str] | None = None) -> int | None:
    """Days to keep notes for, from ``SECUREBASE_RETENTION_DAYS``; ``None`` keeps them.

    Raises :class:`~bot.config.ConfigError` on anything but a whole number of days of 1
    or more, so a typo cannot silently keep data the operator meant to delete.
    """
    text = (os.environ if env is None else env).get(ENV, "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{ENV} must be a whole number of days, 1 or more (got {text!r})")
    return int(text)


async def purge_old_notes(store: SQLiteStore, now: datetime, days: int) -> int:
    """Delete notes older than ``days`` and reset places left for longer; return how many
    notes were deleted.

    Each is one statement, atomic on its own, so the purge can run beside the coach on
    the shared connection without a transaction of its own.
    """
    cutoff = (now - timedelta(days=days)).isoformat()
    marks = ", ".join("?" for _ in NOTE_KINDS)
    db = store.connection
    deleted = await db.execute(
        f"DELETE FROM records WHERE kind IN ({marks}) AND created_at < ?", (*NOTE_KINDS, cutoff)
    )
    await db.execute(
        "UPDATE users SET session = json_remove(json_set(session, '$.frames', json('[]')),"
        " '$.unsent'), timer_token = NULL, timer_due = NULL"
        " WHERE updated_at < ? AND (json_array_length(session, '$.frames') > 0"
        " OR json_type(session, '$.unsent') IS NOT NULL)",
        (cutoff,),
    )
    return deleted.rowcount


async def retention_task(store: SQLiteStore, clock: Clock, days: int) -> None:
    """Purge now, then every :data:`PURGE_EVERY`, until cancelled. A failed purge is
    logged and tried again at the next round rather than ending the task."""
    while True:
        try:
            count = await purge_old_notes(store, clock.now(), days)
            log.info("retention: deleted %d notes older than %d days", count, days)
        except sqlite3.Error:
            log.exception("retention: the purge failed; trying again in %s", PURGE_EVERY)
        await clock.sleep_until(clock.now() + PURGE_EVERY)


@contextlib.asynccontextmanager
async def retention(store: SQLiteStore, clock: Clock, days: int | None) -> AsyncIterator[None]:
    """Run :func:`retention_task` in the background for the duration of the block;
    nothing when ``days`` is ``None``."""
    if days is None:
        yield
        return
    task = asyncio.create_task(retention_task(store, clock, days))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
