"""The narrow interface between the coach and wherever its data lives.

Everything is keyed by user id (``"tg:123"``, ``"cli:alice"``) so that one person's data
can be exported or deleted whole. Only :mod:`bot.store.sqlite` implements it today; a
PostgreSQL store would implement the same protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.coach.extensions import SaveHook

JSON = dict[str, Any]


@dataclass(slots=True)
class UserRow:
    """What is stored about one user, as loaded at the start of an event."""

    user_id: str
    locale: str = "en"
    profile: JSON = field(default_factory=dict)
    session: JSON = field(default_factory=dict)
    timer_token: str | None = None
    timer_due: datetime | None = None
    active: bool = True
    loaded_profile: str | None = field(default=None, repr=False, compare=False)
    """The profile as it was loaded, so a save can tell whether it changed."""


@dataclass(frozen=True, slots=True)
class Record:
    """One thing a dialogue saved: a feeling named, a breathing session, a plan."""

    kind: str
    data: JSON
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DueTimer:
    user_id: str
    token: str
    due: datetime


class StoreError(Exception):
    """The database cannot be used: not ours, corrupt, or from a newer version."""


class Store(Protocol):
    """Persistence for the coach. Every write is committed before the call returns."""

    async def load(self, user_id: str) -> UserRow | None:
        """The user's row, or ``None`` for someone never seen (or forgotten)."""

    async def save(
        self,
        row: UserRow,
        records: list[Record],
        now: datetime,
        hooks: Sequence[SaveHook] = (),
    ) -> None:
        """Write the user's state and new records and, when the profile changed, run
        ``hooks(store, row, now)``, all in one transaction."""

    async def due_timers(self, until: datetime, scope: str = "") -> list[DueTimer]:
        """Timers due at or before ``until``, earliest first, of the users in ``scope``:
        a door's id prefix ending in ``:`` (``"tg:"``), one exact user id, or everyone."""

    async def next_timer_due(self, scope: str = "") -> datetime | None:
        """The earliest pending timer in ``scope``, so a runner knows how long to sleep."""

    async def records(self, user_id: str, kind: str | None = None) -> list[Record]:
        """The user's saved records, oldest first."""

    async def set_active(self, user_id: str, active: bool) -> None:
        """Mark a user (in)active, e.g. after they blocked the bot."""

    async def export(self, user_id: str) -> JSON:
        """Everything stored about the user, as JSON-ready data."""

    async def forget(self, user_id: str) -> None:
        """Delete every row about the user, in every table."""

    async def sessions_listing(
        self, key: str, *, position: int, at_least: int, scope: str = ""
    ) -> list[tuple[str, JSON]]:
        """``(user id, session)`` of the users in ``scope`` whose session holds a list
        ``key`` with an entry (itself a list) whose item ``position`` is ``at_least``
        or more."""

    async def mark(self, name: str) -> int | None:
        """A number kept between runs under ``name``; ``None`` if it was never set."""

    async def set_mark(self, name: str, value: int) -> None:
        """Keep ``value`` under ``name`` (committed before the call returns)."""

    async def close(self) -> None: ...
