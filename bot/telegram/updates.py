"""Telegram updates, read as what the door must do with them.

Only private chats talk to the coach: there an update becomes an :class:`Inbound` coach
event for the user ``"tg:<id>"``. A command or a mention in a group becomes a
:class:`GroupAddress` (the door asks them to write privately: what people share here is
not for a group). A user blocking or unblocking the bot becomes a :class:`Membership`
change. Everything else reads as ``None`` and is left alone, without an error.

Edited messages are deliberately ignored: an edit changes something said earlier, and
taking it as new input would answer the *current* step with words written for another.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import ChatMember, Message, Update
from telegram.constants import ChatType

from bot.coach.events import Event, Press, Text, Unsupported

USER_PREFIX = "tg:"

UNSUPPORTED_KINDS = (
    "sticker", "voice", "video_note", "video", "animation", "audio", "photo", "document",
    "venue", "contact", "poll", "dice", "game", "story", "paid_media", "invoice",
)  # fmt: skip
"""Message contents the coach cannot read; each is answered with a kind "text only"."""

GROUP_CHATS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})


@dataclass(frozen=True, slots=True)
class Inbound:
    """Something a user did in their private chat with the bot, for the coach."""

    chat_id: int
    user_id: str
    event: Event
    locale: str | None
    pressed: int | None = None
    """The bot message whose button was pressed, if the event is a press."""


@dataclass(frozen=True, slots=True)
class GroupAddress:
    """Someone addressed the bot in a group; it only coaches in private."""

    chat_id: int
    locale: str | None


@dataclass(frozen=True, slots=True)
class Membership:
    """The user blocked (``blocked``) or unblocked the bot in their private chat."""

    chat_id: int
    user_id: str
    blocked: bool


Reading = Inbound | GroupAddress | Membership | None


def user_id_of(chat_id: int) -> str:
    """The coach's id for the user of a private chat (whose id is the user's id)."""
    return f"{USER_PREFIX}{chat_id}"


def chat_id_of(user_id: str) -> int:
    """The private chat of a coach user id made by :func:`user_id_of`."""
    return int(user_id.removeprefix(USER_PREFIX))


def read(update: Update, bot_username: str | None = None) -> Reading:
    """What ``update`` asks of the door; ``bot_username`` recognises mentions in groups."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    locale = _locale(user.language_code)
    if update.my_chat_member is not None:
        if chat.type != ChatType.PRIVATE:
            return None
        status = update.my_chat_member.new_chat_member.status
        return Membership(chat.id, user_id_of(chat.id), status == ChatMember.BANNED)
    if chat.type in GROUP_CHATS:
        addressed = update.message is not None and _addresses(update.message, bot_username)
        return GroupAddress(chat.id, locale) if addressed else None
    if chat.type != ChatType.PRIVATE:
        return None
    event, pressed = _event(update)
    return None if event is None else Inbound(chat.id, user_id_of(chat.id), event, locale, pressed)


def _event(update: Update) -> tuple[Event | None, int | None]:
    if (query := update.callback_query) is not None:
        return Press(query.data or ""), query.message.message_id if query.message else None
    if (message := update.message) is not None:
        if message.text is not None:
            return Text(message.text), None
        if message.location is not None:
            # The time-zone step reads coordinates typed as "lat, lon"; a shared location
            # reaches it the same way (elsewhere it is just text that moves nothing).
            where = message.location
            return Text(f"{where.latitude:.4f}, {where.longitude:.4f}"), None
        kind = next((k for k in UNSUPPORTED_KINDS if getattr(message, k, None)), None)
        return (None if kind is None else Unsupported(kind)), None
    return None, None  # edited messages and every kind of update the coach does not use


def _addresses(message: Message, bot_username: str | None) -> bool:
    """A command (not one for another bot), a mention of the bot, or a reply to it: what
    group privacy lets a bot see."""
    text = message.text or ""
    name = (bot_username or "").casefold()
    command, _, target = (text.split(maxsplit=1) or [""])[0].casefold().partition("@")
    replied = message.reply_to_message
    author = replied.from_user if replied is not None else None
    return (
        (command.startswith("/") and target in ("", name))
        or (bool(name) and f"@{name}" in text.casefold())
        or (author is not None and author.is_bot and author.username == bot_username)
    )


def _locale(language_code: str | None) -> str | None:
    """``"pt-br"`` → ``"pt"``: the dialogues declare languages, not regions."""
    if not language_code:
        return None
    return language_code.split("-")[0].lower()
