"""Readiness: is this process able to coach right now?

Ready means both: the database is open (checked and migrated), and the door is receiving
updates (long polling started, or the webhook set with Telegram). A door reports each as
it changes; ``/healthz`` (:mod:`bot.ops.server`) answers from this state.

Liveness comes for free: ``/healthz`` is served on the same event loop as the bot, so a
loop that is stuck does not answer at all, and the health check fails on its timeout.
"""

from __future__ import annotations


class Health:
    """What ``/healthz`` reports. Starts not ready."""

    def __init__(self) -> None:
        self.database_open = False
        self.transport_ready = False

    def set_database_open(self, is_open: bool) -> None:
        """Call with True once the store is open, False just before it closes."""
        self.database_open = is_open

    def set_transport_ready(self, ready: bool) -> None:
        """Call with True once polling has started or the webhook is set, False as soon
        as the door stops taking updates (shutting down)."""
        self.transport_ready = ready

    @property
    def problem(self) -> str | None:
        """Why the process is not ready, in a few words; None when it is."""
        if not self.database_open:
            return "database not open"
        if not self.transport_ready:
            return "not receiving updates (polling not started, webhook not set)"
        return None
