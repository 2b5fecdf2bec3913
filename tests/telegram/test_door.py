"""The door in this process: the real coach and store, PTB's bot, the fake server."""

from __future__ import annotations

import logging

import pytest
from telegram import Update

from bot.app import App
from bot.coach.actions import Button, Reply, Send
from bot.coach.events import Event
from bot.telegram.door import TelegramDoor
from bot.telegram.outbox import LimitedBot
from tests.botapi import FakeBotAPI
from tests.telegram.conftest import ANA
from tests.telegram.harness import pattern


def text_update(ptb: LimitedBot, text: str, update_id: int = 1) -> Update:
    message = {
        "message_id": update_id,
        "date": 0,
        "chat": {"id": ANA, "type": "private"},
        "from": {"id": ANA, "is_bot": False, "first_name": "Ana", "language_code": "en"},
        "text": text,
    }
    return Update.de_json({"update_id": update_id, "message": message}, ptb)


def test_the_command_menu_comes_from_the_dialogues(app: App, door: TelegramDoor) -> None:
    (menu,) = door.bot_commands().values()
    described = {c.command: c.description for c in menu}
    assert [c.command for c in menu][:8] == [
        "start", "menu", "pause", "breathe", "validate", "repair", "stop", "help"
    ]  # fmt: skip
    assert described["stop"] == app.catalog.string("command_stop")[0]["en"]
    assert all(0 < len(c.description) <= 256 for c in menu)


async def test_published_for_telegram(api: FakeBotAPI, door: TelegramDoor) -> None:
    await door.publish_commands()
    assert [name for name, _ in api.commands] == [c.command for c in door.bot_commands()[None]]


async def test_a_failing_coach_apologises_without_logging_words(
    app: App,
    api: FakeBotAPI,
    ptb: LimitedBot,
    door: TelegramDoor,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(user_id: str, event: Event, **_: object) -> None:
        raise RuntimeError("a bug in a dialogue")

    monkeypatch.setattr(app.coach, "handle", broken)
    with caplog.at_level(logging.ERROR):
        await door.on_update(text_update(ptb, "my partner said something awful"), None)
        await door.outbox.drain(5)
    (sent,) = api.messages(ANA)
    assert pattern(app.catalog.string("internal_error")).fullmatch(sent.text or "")
    assert "chat 1001: the coach failed on a Text" in caplog.text
    assert "awful" not in caplog.text


async def test_what_timers_produce_reaches_the_chat(api: FakeBotAPI, door: TelegramDoor) -> None:
    await door.deliver("tg:1001", Reply([Send("It's been 20 minutes.", (Button("Calmer", "c"),))]))
    await door.outbox.drain(5)
    (sent,) = api.messages(ANA)
    assert (sent.text, sent.labels) == ("It's been 20 minutes.", ["Calmer"])
