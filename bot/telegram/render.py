"""The coach's actions as outbox jobs: what a user sees on Telegram.

- ``Send`` is a new message with its buttons as an inline keyboard (two a row, one a row
  if a label is long); text over Telegram's 4096 limit is split at a paragraph, else a
  line, else a space, and the buttons go under the last piece.
- Before a new message, the keyboard of the previous message that had one is removed, so
  the buttons on screen are always the ones that count now. An edit of that same message
  keeps it (the pacer's "Stop" stays under the pacer). So does the keyboard of any other
  message pressed since (one that kept its buttons through a restart).
- ``Edit`` changes the last message the bot sent in the chat (a breathing pacer moving
  phase by phase in one message). An edit that would change nothing is skipped: Telegram
  answers those with "message is not modified". When the message is unknown (after a
  restart) or gone, the text is sent as a new message instead.
- ``Picture`` and ``Document`` are a photo and a file; ``End`` and ``Forgotten`` forget
  what is remembered about the chat, so the last keyboard of a finished conversation
  (buttons that start practices, valid from any old message) stays in place.

What is remembered lives in memory only, per chat (:class:`ChatViews`): a restart forgets
it, and the worst that follows is an old keyboard left in place or a new message where an
edit would have done.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest

from bot.coach.actions import (
    Action,
    Button,
    Document,
    Edit,
    End,
    Forgotten,
    Picture,
    Reply,
    Send,
    StartTimer,
)
from bot.schedule.loop import Lane
from bot.telegram.outbox import Job, LimitedBot

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
WIDE_LABEL = 24  # a label longer than this gets a row of its own
MAX_VIEWS = 100_000  # chats remembered; the least recently used is forgotten first
SEPARATORS = ("\n\n", "\n", " ")

Buttons = tuple[Button, ...]
Shown = tuple[str, Buttons]
FileKind = Literal["photo", "document"]


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit`` units, each cut at the latest paragraph
    break, else line break, else space that keeps the piece at least half full."""
    pieces: list[str] = []
    rest = text.strip()
    while tg_len(rest) > limit:
        head = _prefix(rest, limit)
        cut = next(
            (at for sep in SEPARATORS if (at := head.rfind(sep)) >= len(head) // 2),
            len(head),
        )
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*pieces, rest] if rest else pieces


def _prefix(text: str, limit: int) -> str:
    """The longest start of ``text`` within ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """Buttons two a row, or one a row when any label is long; ``None`` for no buttons."""
    if not buttons:
        return None
    per_row = 1 if any(len(b.text) > WIDE_LABEL for b in buttons) else 2
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in rows]
    )


@dataclass(slots=True)
class ChatView:
    """What the bot remembers of one chat's messages."""

    last_id: int | None = None
    """The newest message the bot sent: the one an ``Edit`` changes."""
    shown: Shown | None = None
    """Its text and buttons, when it is a text message."""
    keyboard_id: int | None = None
    """The message whose buttons are still live."""
    pressed: set[int] = field(default_factory=set)
    """Other messages whose buttons were pressed (an older message that kept its keyboard
    through a restart): their keyboards go with the live one."""

    def sent(self, message: Message, shown: Shown | None) -> None:
        self.last_id, self.shown = message.message_id, shown
        if shown is not None and shown[1]:
            self.keyboard_id = message.message_id

    def edited(self, shown: Shown) -> None:
        self.shown = shown
        if shown[1]:
            self.keyboard_id = self.last_id
        elif self.keyboard_id == self.last_id:
            self.keyboard_id = None


class ChatViews:
    """A :class:`ChatView` per chat, made on first use, least recently used forgotten."""

    def __init__(self, limit: int = MAX_VIEWS) -> None:
        self._views: OrderedDict[int, ChatView] = OrderedDict()
        self._limit = limit

    def __getitem__(self, chat_id: int) -> ChatView:
        view = self._views.pop(chat_id, None) or ChatView()
        self._views[chat_id] = view
        if len(self._views) > self._limit:
            self._views.popitem(last=False)
        return view

    def __len__(self) -> int:
        return len(self._views)

    def drop(self, chat_id: int) -> None:
        self._views.pop(chat_id, None)

    def learn_pressed(self, chat_id: int, message_id: int) -> None:
        """A button of ``message_id`` was pressed: when nothing is known about the chat
        (after a restart), that message is the live one, the one to edit or tidy up."""
        view = self[chat_id]
        if view.last_id is None:
            view.last_id = message_id
        if view.keyboard_id is None:
            view.keyboard_id = message_id
        elif view.keyboard_id != message_id:
            view.pressed.add(message_id)


async def _retire_keyboard(
    bot: LimitedBot, lane: Lane, views: ChatViews, chat_id: int, keep: int | None = None
) -> None:
    """Remove the live keyboard of the chat (and those of messages pressed since) unless
    it is on message ``keep``."""
    view = views[chat_id]
    target = view.keyboard_id
    pressed, view.pressed = view.pressed - {keep, target}, set()
    for stale in sorted(pressed):
        await _remove_keyboard(bot, lane, chat_id, stale)
    if target is None or target == keep:
        return
    await _remove_keyboard(bot, lane, chat_id, target)
    if view.keyboard_id == target:
        view.keyboard_id = None


async def _remove_keyboard(bot: LimitedBot, lane: Lane, chat_id: int, message_id: int) -> None:
    # Already gone, too old to edit, or already bare: then there is nothing to remove.
    with contextlib.suppress(BadRequest):
        await bot.edit_message_reply_markup(
            chat_id, message_id, reply_markup=None, rate_limit_args=lane
        )


@dataclass(frozen=True, slots=True)
class SendText:
    """A new text message, after the previous keyboard is removed."""

    views: ChatViews
    chat_id: int
    text: str
    buttons: Buttons = ()

    async def __call__(self, bot: LimitedBot, lane: Lane) -> None:
        await _retire_keyboard(bot, lane, self.views, self.chat_id)
        message = await bot.send_message(
            self.chat_id, self.text, reply_markup=keyboard(self.buttons), rate_limit_args=lane
        )
        self.views[self.chat_id].sent(message, (self.text, self.buttons))


@dataclass(frozen=True, slots=True)
class EditText:
    """The last message's new text and buttons, or a new message if it cannot be edited."""

    views: ChatViews
    chat_id: int
    text: str
    buttons: Buttons = ()

    async def __call__(self, bot: LimitedBot, lane: Lane) -> None:
        view = self.views[self.chat_id]
        shown = (self.text, self.buttons)
        if view.last_id is None:
            await self._send_instead(bot, lane)
            return
        if view.shown == shown:
            return
        if self.buttons:
            await _retire_keyboard(bot, lane, self.views, self.chat_id, keep=view.last_id)
        try:
            await bot.edit_message_text(
                self.text,
                chat_id=self.chat_id,
                message_id=view.last_id,
                reply_markup=keyboard(self.buttons),
                rate_limit_args=lane,
            )
        except BadRequest as exc:
            if "not modified" not in exc.message:
                log.info("chat %s: the message to edit is gone; sending anew", self.chat_id)
                await self._send_instead(bot, lane)
                return
        view.edited(shown)

    async def _send_instead(self, bot: LimitedBot, lane: Lane) -> None:
        await SendText(self.views, self.chat_id, self.text, self.buttons)(bot, lane)


@dataclass(frozen=True, slots=True)
class SendFile:
    """A photo or a document, after the previous keyboard is removed."""

    views: ChatViews
    chat_id: int
    kind: FileKind
    filename: str
    content: bytes
    caption: str = ""

    async def __call__(self, bot: LimitedBot, lane: Lane) -> None:
        await _retire_keyboard(bot, lane, self.views, self.chat_id)
        upload = InputFile(self.content, filename=self.filename)
        caption = self.caption or None
        if self.kind == "photo":
            message = await bot.send_photo(
                self.chat_id, upload, caption=caption, rate_limit_args=lane
            )
        else:
            message = await bot.send_document(
                self.chat_id, upload, caption=caption, rate_limit_args=lane
            )
        self.views[self.chat_id].sent(message, None)


@dataclass(frozen=True, slots=True)
class Forget:
    """Forget what is remembered about the chat (a conversation ended, or the user's data
    was deleted). No Bot API call."""

    views: ChatViews
    chat_id: int

    async def __call__(self, bot: LimitedBot, lane: Lane) -> None:
        del bot, lane
        self.views.drop(self.chat_id)


class Renderer:
    """Turns a :class:`~bot.coach.actions.Reply` into outbox jobs for one chat.

    ``StartTimer`` makes no job: the door pokes the timer runner itself.
    """

    def __init__(self, views: ChatViews | None = None) -> None:
        self.views = views or ChatViews()

    def jobs(self, chat_id: int, reply: Reply) -> list[Job]:
        return [job for action in reply.actions for job in self._jobs(chat_id, action)]

    def _jobs(self, chat_id: int, action: Action) -> list[Job]:
        match action:
            case Send(text=text, buttons=buttons):
                return self._texts(chat_id, text, buttons)
            case Edit(text=text, buttons=buttons) if 0 < tg_len(text.strip()) <= MAX_TEXT:
                return [EditText(self.views, chat_id, text.strip(), buttons)]
            case Edit(text=text, buttons=buttons):
                return self._texts(chat_id, text, buttons)
            case Picture(png=png, caption=caption):
                return self._file(chat_id, "photo", "chart.png", png, caption)
            case Document(filename=name, content=content, caption=caption):
                return self._file(chat_id, "document", name, content, caption)
            case End() | Forgotten():
                return [Forget(self.views, chat_id)]
            case StartTimer():
                return []

    def _texts(self, chat_id: int, text: str, buttons: Buttons) -> list[Job]:
        pieces = split_text(text)
        last = len(pieces) - 1
        return [
            SendText(self.views, chat_id, piece, buttons if i == last else ())
            for i, piece in enumerate(pieces)
        ]

    def _file(
        self, chat_id: int, kind: FileKind, name: str, content: bytes, caption: str
    ) -> list[Job]:
        caption = caption.strip()
        if tg_len(caption) <= MAX_CAPTION:
            return [SendFile(self.views, chat_id, kind, name, content, caption)]
        return [
            SendFile(self.views, chat_id, kind, name, content),
            *self._texts(chat_id, caption, ()),
        ]
