"""Updates of one chat in order, different chats at the same time (webhook mode; long
polling goes through :mod:`bot.telegram.poller`, which orders its batches itself).

PTB's ``concurrent_updates(True)`` runs every update as soon as it arrives, so two quick
presses of one user could overtake each other. This processor holds one lock per chat
around each update: PTB starts update tasks in arrival order and an ``asyncio.Lock`` wakes
its waiters first come, first served, so a chat's updates run one after the other, in
order. The locks are the engine's :class:`~bot.coach.engine.UserLocks`, dropped as soon as
a chat has nothing waiting.

Every waiting update holds one of PTB's ``max_concurrent_updates`` slots, so the bound is
generous: one chat flooding the bot cannot take them all.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.coach.engine import UserLocks

MAX_CONCURRENT_UPDATES = 512


class ChatOrderedProcessor(BaseUpdateProcessor):
    """A :class:`~telegram.ext.BaseUpdateProcessor` with one lock per chat."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self.locks = UserLocks()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        async with self.locks.hold(key):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up: locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to release: locks go when their chat is idle."""


def chat_key(update: object) -> str | None:
    """What orders an update: its chat, else its user; ``None`` for neither (a poll...)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return f"chat:{update.effective_chat.id}"
    if update.effective_user is not None:
        return f"user:{update.effective_user.id}"
    return None
