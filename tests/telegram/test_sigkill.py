"""SIGKILL mid-load: the update in flight may be processed again, but nothing is lost."""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest

from tests.botapi import FakeBotAPI
from tests.telegram.harness import BotProcess, Person
from tests.telegram.test_restarts import load_and_restart

pytestmark = pytest.mark.timeout(150)


async def test_sigkill_mid_load_loses_nothing(
    api: FakeBotAPI, bots: Callable[..., BotProcess], people: Callable[[int], Person]
) -> None:
    _, code = await load_and_restart(api, bots, people, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert api.unanswered_callbacks() == []
    assert api.pending_updates() == 0
