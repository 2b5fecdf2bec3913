"""Telegram updates read as what the door does with them."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.coach.events import Press, Text, Unsupported
from bot.telegram.updates import (
    GroupAddress,
    Inbound,
    Membership,
    Reading,
    chat_id_of,
    read,
    user_id_of,
)

ANA = 1001
GROUP = -4_000_000_001
BOT = "SecureBaseTestBot"

Json = dict[str, Any]


def user(language: str | None = "en") -> Json:
    out: Json = {"id": ANA, "is_bot": False, "first_name": "Ana"}
    if language:
        out["language_code"] = language
    return out


def chat(chat_id: int = ANA) -> Json:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Ana"}
    return {"id": chat_id, "type": "group", "title": "Friends"}


def message(chat_id: int = ANA, language: str | None = "en", **content: Any) -> Json:
    return {"message_id": 7, "date": 0, "chat": chat(chat_id), "from": user(language), **content}


def reading(**update: Any) -> Reading:
    return read(Update.de_json({"update_id": 1, **update}, None), BOT)


def test_text_in_a_private_chat_is_for_the_coach() -> None:
    assert reading(message=message(text="so angry")) == Inbound(
        ANA, "tg:1001", Text("so angry"), "en"
    )


def test_a_button_press_names_the_pressed_message() -> None:
    query = {
        "id": "q1",
        "from": user(),
        "chat_instance": "c",
        "data": "g:pause:stop:0",
        "message": {
            **message(),
            "message_id": 42,
            "text": "Stop here",
            "from": {"id": 9, "is_bot": True, "first_name": "B"},
        },
    }
    assert reading(callback_query=query) == Inbound(
        ANA, "tg:1001", Press("g:pause:stop:0"), "en", pressed=42
    )


FILE = {"file_id": "f", "file_unique_id": "u"}
STICKER = {**FILE, "type": "regular", "width": 1, "height": 1, "is_animated": False}


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ({"sticker": {**STICKER, "is_video": False}}, "sticker"),
        ({"voice": {**FILE, "duration": 2}}, "voice"),
        ({"photo": [{**FILE, "width": 1, "height": 1}], "caption": "look"}, "photo"),
        ({"contact": {"phone_number": "1", "first_name": "Ben"}}, "contact"),
    ],
)
def test_what_is_not_text_is_unsupported(content: Json, kind: str) -> None:
    found = reading(message=message(**content))
    assert isinstance(found, Inbound) and found.event == Unsupported(kind)


def test_a_shared_location_arrives_as_coordinates_for_the_time_zone_step() -> None:
    found = reading(message=message(location={"latitude": -33.8688, "longitude": 151.2093}))
    assert isinstance(found, Inbound) and found.event == Text("-33.8688, 151.2093")


def test_service_messages_and_edits_are_left_alone() -> None:
    assert reading(message=message(new_chat_title="x")) is None
    assert reading(edited_message=message(text="never mind", edit_date=1)) is None
    assert reading(channel_post={**message(), "chat": {"id": -100, "type": "channel"}}) is None
    assert reading(message_reaction_count={"chat": chat(), "message_id": 7, "date": 0,
                                           "reactions": []}) is None  # fmt: skip


@pytest.mark.parametrize(
    ("text", "addressed"),
    [
        ("/start", True),
        (f"/start@{BOT}", True),
        ("/start@SomeOtherBot", False),
        (f"hello @{BOT.lower()}", True),
        ("hello everyone", False),
    ],
)
def test_in_a_group_only_what_addresses_the_bot(text: str, addressed: bool) -> None:
    found = reading(message=message(GROUP, text=text))
    assert found == (GroupAddress(GROUP, "en") if addressed else None)


def test_blocking_and_unblocking() -> None:
    def change(old: str, new: str) -> Json:
        bot = {"id": 9, "is_bot": True, "first_name": "B"}
        return {
            "chat": chat(),
            "from": user(),
            "date": 0,
            "old_chat_member": {"user": bot, "status": old, "until_date": 0},
            "new_chat_member": {"user": bot, "status": new, "until_date": 0},
        }

    assert reading(my_chat_member=change("member", "kicked")) == Membership(ANA, "tg:1001", True)
    assert reading(my_chat_member=change("kicked", "member")) == Membership(ANA, "tg:1001", False)


@pytest.mark.parametrize(("code", "locale"), [("pt-BR", "pt"), ("RU", "ru"), (None, None)])
def test_the_locale_is_the_language_without_region(code: str | None, locale: str | None) -> None:
    found = reading(message=message(language=code, text="hi"))
    assert isinstance(found, Inbound) and found.locale == locale


def test_user_ids_round_trip() -> None:
    assert chat_id_of(user_id_of(ANA)) == ANA
