"""Versioned schema changes, applied in order on open.

``PRAGMA user_version`` records how far a file has been migrated, and
``PRAGMA application_id`` marks the file as ours, so that a database of another program
is refused rather than altered. Add a migration by appending; never edit a shipped one.
"""

from __future__ import annotations

APPLICATION_ID = 0x53426173  # "SBas"

MIGRATIONS: list[str] = [
    # 1: users with their place in a dialogue (one row: one write per event), and what
    # the dialogues save.
    """
    CREATE TABLE users (
        id          TEXT PRIMARY KEY,
        locale      TEXT NOT NULL DEFAULT 'en',
        profile     TEXT NOT NULL DEFAULT '{}',
        active      INTEGER NOT NULL DEFAULT 1,
        session     TEXT NOT NULL DEFAULT '{}',
        timer_token TEXT,
        timer_due   TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE INDEX users_timer_due ON users(timer_due) WHERE timer_due IS NOT NULL;
    CREATE TABLE records (
        id          INTEGER PRIMARY KEY,
        user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind        TEXT NOT NULL,
        data        TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX records_user_kind ON records(user_id, kind, created_at);
    """,
    # 2: the schedule (bot/schedule). One row per reminder a user switched on, kept in
    # step with the choices in their profile by a save hook: the wall-clock rule (local
    # time, days, IANA zone, quiet hours, pause, a day skipped) and the next instants in
    # UTC. The loop waits on due_at, the earlier of next_due and a snooze; fired_due is
    # the last occurrence it claimed, committed before that occurrence is sent.
    """
    CREATE TABLE subscriptions (
        id            INTEGER PRIMARY KEY,
        user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key           TEXT NOT NULL,
        kind          TEXT NOT NULL CHECK (kind IN ('checkin', 'routine', 'summary')),
        ref           TEXT NOT NULL,
        local_time    TEXT NOT NULL,
        days          TEXT NOT NULL,
        tz            TEXT NOT NULL,
        quiet         TEXT,
        paused_until  TEXT,
        skip_date     TEXT,
        next_due      TEXT NOT NULL,
        snoozed_until TEXT,
        due_at        TEXT NOT NULL,
        fired_due     TEXT,
        fired_at      TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        UNIQUE (user_id, key)
    );
    CREATE INDEX subscriptions_due ON subscriptions(due_at);
    """,
    # 3: numbers a door keeps between runs, such as the Telegram door's "every reply to
    # an update below this one was sent" (bot/telegram/recovery.py).
    """
    CREATE TABLE marks (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
