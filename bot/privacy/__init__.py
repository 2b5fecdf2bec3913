"""Privacy: ``/export``, ``/forget``, the admins' ``/stats``, and optional retention.

:func:`privacy` gives the hooks for :func:`bot.app.features`; doors run
:func:`retention` while they serve (see :mod:`bot.privacy.retention`).
"""

from bot.privacy.feature import privacy
from bot.privacy.retention import (
    NOTE_KINDS,
    purge_old_notes,
    retention,
    retention_days,
    retention_task,
)

__all__ = [
    "NOTE_KINDS",
    "privacy",
    "purge_old_notes",
    "retention",
    "retention_days",
    "retention_task",
]
