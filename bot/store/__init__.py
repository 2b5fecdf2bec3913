"""Persistence: the :class:`Store` protocol and its SQLite implementation."""

from bot.store.base import DueTimer, Record, Store, StoreError, UserRow
from bot.store.sqlite import SQLiteStore

__all__ = ["DueTimer", "Record", "SQLiteStore", "Store", "StoreError", "UserRow"]
