"""A local fake of the Telegram Bot API, for end-to-end tests.

Why: unit tests with a mocked ``telegram.Bot`` cannot show that the real PTB HTTP stack, our
handlers and Telegram's rules fit together.  This module is a real HTTP server
(``aiohttp.web`` on ``127.0.0.1``, free port) that speaks the Bot API wire format, so a
``telegram.Bot``/``Application`` in the test process -- or a bot running as a separate OS
process -- can be pointed at it with::

    Bot(token, base_url=f"{api.url}/bot", base_file_url=f"{api.url}/file/bot")

What it does:

* URL layout and envelopes like Telegram: ``{url}/bot{token}/{method}`` (GET or POST; JSON,
  form-urlencoded or multipart parameters), ``{"ok": true, "result": ...}`` or
  ``{"ok": false, "error_code": N, "description": ...}``; files under
  ``{url}/file/bot{token}/{file_path}``.
* The methods a coach bot uses (see :meth:`FakeBotAPI._method_table`), with Telegram's limits
  and error texts (too long / empty text, 64-byte callback data, "message is not modified",
  blocked users, flood control, long polling, webhooks with a secret token...).
* A test-side *driver* (``send_text``, ``press``, ``block``...) that creates the updates a
  user would cause, and *observers* (``messages``, ``wait_for``, ``calls``...) to check what the
  bot did.

Deliberate simplifications (documented so nobody mistakes them for Telegram behaviour):
lengths are counted in UTF-16 code units (the stricter reading of "characters"); only HTML
``parse_mode`` is parsed and validated (Markdown/MarkdownV2 text is taken as-is); webhooks
may be plain ``http`` on any port (real Telegram wants https on 443/80/88/8443); channels,
inline mode, payments and the global 30 msg/s limit are not modelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import math
import re
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import aiohttp
from aiohttp import web

Json = dict[str, Any]
ButtonRow = list[tuple[str, str | None]]
"""One keyboard row as ``(label, callback_data)``; ``callback_data`` is None for URL buttons."""
MessageKind = Literal["text", "photo", "document"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
DEFAULT_GROUP_ID = -4_000_000_001
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
"""Methods that post a new message: subject to flood control and to :meth:`fail_next`."""

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
ALL_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "message_reaction", "message_reaction_count",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
        "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
    }
)  # fmt: skip
# What Telegram sends when allowed_updates is empty or was never given.
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)?[^<>]*>")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_API_PATH = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?")
_FILE_PATH = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)")


class ApiError(Exception):
    """An error answer, exactly as Telegram would send it (HTTP status = ``error_code``)."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> Json:
        out: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def tg_len(text: str) -> int:
    """Length as Telegram counts it for limits: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def render_html(source: str) -> str:
    """Validate Telegram-HTML and return the plain text a user sees.

    Why: an unescaped ``<`` from user input is a classic bug that only shows in production.
    """
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(source):
        if source[i] != "<":
            out.append(source[i])
            i += 1
            continue
        offset = len(source[:i].encode())
        match = _TAG_RE.match(source, i)
        name = (match.group(2) or "").lower() if match else ""
        if match is None or name not in _HTML_TAGS:
            raise _bad(
                f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
            )
        if match.group(1):
            if not stack:
                raise _bad(f"can't parse entities: Unexpected end tag at byte offset {offset}")
            if stack[-1] != name:
                raise _bad(
                    f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                    f'expected "</{stack[-1]}>", found "</{name}>"'
                )
            stack.pop()
        else:
            stack.append(name)
        i = match.end()
    if stack:
        raise _bad(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return html.unescape("".join(out))


def _render(raw: str, parse_mode: str | None) -> str:
    text = render_html(raw) if (parse_mode or "").lower() == "html" else raw
    return text.strip()  # Telegram trims surrounding whitespace


def _command_entities(text: str) -> list[Json]:
    """The ``bot_command`` entity Telegram adds for a leading ``/command`` (PTB needs it)."""
    match = _COMMAND_RE.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": tg_len(match.group())}]


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height if ``data`` looks like an image Telegram accepts, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith((b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ):
        return 512, 512
    return None


@dataclass
class FakeUser:
    """A Telegram user the tests act as."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    blocked: bool = False
    """The user blocked the bot: every send to them answers 403."""
    started: bool = False
    """The user has written to the bot; before that Telegram refuses to let the bot write."""

    def to_json(self) -> Json:
        out: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def chat_json(self) -> Json:
        out: Json = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            out["last_name"] = self.last_name
        if self.username is not None:
            out["username"] = self.username
        return out


@dataclass
class Revision:
    """An earlier version of an edited bot message."""

    text: str | None
    buttons: list[ButtonRow]
    at: float


@dataclass
class SentMessage:
    """A message the bot sent, as the user would see it now (plus its history)."""

    chat_id: int
    message_id: int
    kind: MessageKind
    text: str | None
    """Text (or caption) as shown to the user: markup parsed out, whitespace trimmed."""
    raw_text: str | None = None
    """Text (or caption) exactly as the bot sent it."""
    parse_mode: str | None = None
    buttons: list[ButtonRow] = field(default_factory=list)
    reply_markup: Json | None = None
    """The raw reply_markup last sent (inline, reply keyboard, remove or force reply)."""
    edits: list[Revision] = field(default_factory=list)
    """Earlier versions, oldest first: ``len(edits)`` is the number of edits."""
    deleted: bool = False
    file_bytes: bytes | None = None
    """Uploaded photo/document bytes (None when sent by file_id or URL)."""
    filename: str | None = None
    mime_type: str | None = None
    file_id: str | None = None
    params: Json = field(default_factory=dict)
    """All parameters of the send call (files summarised), e.g. ``reply_parameters``."""
    date: int = 0
    edit_date: int | None = None
    sent_at: float = 0.0

    @property
    def button_data(self) -> list[str]:
        """All callback_data values, row by row."""
        return [data for row in self.buttons for _, data in row if data is not None]

    @property
    def labels(self) -> list[str]:
        """All button labels, row by row."""
        return [label for row in self.buttons for label, _ in row]

    def data_for(self, label: str) -> str:
        """The callback_data of the button labelled ``label`` (KeyError if none)."""
        for row in self.buttons:
            for text, data in row:
                if text == label and data is not None:
                    return data
        raise KeyError(f"no callback button {label!r} in {self.labels}")


@dataclass
class ApiCall:
    """One HTTP request the bot made, for ordering and rate checks."""

    method: str
    chat_id: int | None
    at: float
    """``time.monotonic()`` when the request arrived."""
    params: Json
    status: int = 0
    """HTTP status answered (0 while a long poll is still open)."""
    description: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class AnsweredCallback:
    """An ``answerCallbackQuery`` the bot made for a :meth:`FakeBotAPI.press`."""

    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    text: str | None
    show_alert: bool
    url: str | None
    at: float


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook."""

    update_id: int
    status: int
    """HTTP status the bot answered; 0 if the connection failed."""
    secret_token: str | None
    at: float


@dataclass
class _Upload:
    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class _StoredFile:
    file_id: str
    unique_id: str
    data: bytes
    path: str


@dataclass
class _Fault:
    chat_id: int | None
    methods: frozenset[str] | None
    remaining: int
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    disconnect: bool = False
    delay: float = 0.0
    performed: bool = False

    def error(self) -> ApiError:
        return ApiError(self.status, self.description, self.retry_after)


@dataclass
class _Query:
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


class _Params:
    """Request parameters from any encoding; form values arrive as (JSON-encoded) strings."""

    def __init__(self, raw: Json, files: dict[str, _Upload], call: ApiCall) -> None:
        self.raw = raw
        self.files = files
        self.call = call

    def get_str(self, key: str) -> str | None:
        value = self.raw.get(key)
        return None if value is None else str(value)

    def get_int(self, key: str, default: int | None = None) -> int | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {key} specified") from None

    def get_float(self, key: str, default: float) -> float:
        value = self.raw.get(key)
        try:
            return default if value in (None, "") else float(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {key} specified") from None

    def get_bool(self, key: str) -> bool:
        return self.raw.get(key) in (True, "true", "True", "1", 1)

    def get_json(self, key: str) -> Any:
        value = self.raw.get(key)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {key} JSON object") from None

    def chat_id(self) -> int:
        value = self.raw.get("chat_id")
        if value in (None, ""):
            raise _bad("chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise _bad("chat not found") from None  # @usernames: channels are not modelled
        self.call.chat_id = chat_id
        return chat_id

    def get_file(self, key: str) -> _Upload | str | None:
        """An uploaded file, or a string (file_id / URL); resolves ``attach://`` references."""
        if key in self.files:
            return self.files[key]
        value = self.get_str(key)
        if value is not None and value.startswith("attach://"):
            upload = self.files.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad(f"file {value} not found")
            return upload
        return value


class FakeBotAPI:
    """A fake Telegram Bot API server for one bot token.

    Start it with ``async with FakeBotAPI() as api:`` (or ``await api.start()`` /
    ``await api.stop()``) inside the running event loop; it serves on ``api.url``.
    Driver methods are coroutines; observers are plain attributes and methods, plus the
    ``wait_*`` coroutines.  All state lives in this object, so one instance = one test.
    """

    def __init__(
        self,
        token: str = "123456789:TEST-secure-base-token",
        *,
        bot_username: str = "SecureBaseTestBot",
        bot_name: str = "Secure Base",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.host = host
        self.port = port
        # Switches tests may flip.
        self.privacy_mode = True
        """Group privacy: in groups the bot only sees commands, @mentions and replies to it."""
        self.rate_limit_per_chat = False
        """Flood control: token bucket per chat (see ``rate_per_second``/``rate_burst``)."""
        self.rate_per_second = 1.0
        self.rate_burst = 3
        self.group_rate_per_minute = 20
        self.callback_query_ttl = 15.0
        """Seconds after a press within which answerCallbackQuery is accepted."""
        self.webhook_retry_delay = 0.2
        self.webhook_timeout = 5.0
        # Observable state.
        self.calls: list[ApiCall] = []
        self.updates: list[Json] = []
        """Every update ever created (delivered or not), in order."""
        self.confirmed_offset = 0
        """Updates with ``update_id`` below this are confirmed (Telegram will not resend)."""
        self.answered_callbacks: list[AnsweredCallback] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.settings: dict[str, Json] = {}
        """Last params of record-only methods such as setMyDescription or setChatMenuButton."""
        self.closed = False
        self.logged_out = False
        self.internal_errors: list[Exception] = []
        """Unexpected exceptions inside the fake (answered as 500); should stay empty."""
        # Internal state.
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, Json] = {}
        self._sent: dict[int, list[SentMessage]] = {}
        self._inbox: dict[tuple[int, int], Json] = {}
        self._next_message_id: dict[int, int] = {}
        self._queue: list[Json] = []
        self._next_update_id = 1
        self._allowed = DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._queries: dict[str, _Query] = {}
        self._next_query = 1
        self._files: dict[str, _StoredFile] = {}
        self._commands: dict[tuple[str, str], list[Json]] = {}
        self._faults: list[_Fault] = []
        self._buckets: dict[int, tuple[float, float]] = {}
        self._webhook: _Webhook | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._methods = self._method_table()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind ``host`` on ``port`` (0 = a free one) and start serving."""
        app = web.Application(client_max_size=MAX_DOCUMENT_BYTES + 16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._http = aiohttp.ClientSession()
        self._closing = False

    async def stop(self) -> None:
        """Release open long polls, stop webhook pushes and close the server."""
        self._closing = True
        self._notify()
        await self._stop_webhook_task()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; use ``{url}/bot`` as PTB's base_url."""
        if self._runner is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` (the token is appended by PTB)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url``."""
        return f"{self.url}/file/bot"

    @property
    def bot_user(self) -> Json:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------------ test switches

    def fail_next(
        self,
        chat_id: int,
        count: int = 1,
        retry_after: int = 5,
        *,
        methods: Iterable[str] | None = SEND_METHODS,
    ) -> None:
        """A "429 storm": the next ``count`` sends to ``chat_id`` answer flood control."""
        self._faults.append(
            _Fault(
                chat_id,
                frozenset(methods) if methods is not None else None,
                count,
                status=429,
                description=f"Too Many Requests: retry after {retry_after}",
                retry_after=retry_after,
            )
        )

    def fail_next_with_status(
        self,
        chat_id: int | None,
        count: int = 1,
        status: int = 502,
        description: str = "Bad Gateway",
        *,
        methods: Iterable[str] | None = None,
        performed: bool = False,
    ) -> None:
        """The next ``count`` matching calls answer ``status`` (e.g. 502, 500, 504).

        ``chat_id=None`` matches calls of any chat, getUpdates included; ``methods=None``
        matches any method.  With ``performed=True`` the call takes effect first and only
        the answer is lost -- the case that makes naive retries send duplicates.
        """
        self._faults.append(
            _Fault(
                chat_id,
                frozenset(methods) if methods is not None else None,
                count,
                status=status,
                description=description,
                performed=performed,
            )
        )

    def disconnect_next(
        self,
        chat_id: int | None,
        count: int = 1,
        *,
        methods: Iterable[str] | None = None,
        performed: bool = False,
    ) -> None:
        """The next ``count`` matching calls get their connection dropped (PTB: NetworkError)."""
        self._faults.append(
            _Fault(
                chat_id,
                frozenset(methods) if methods is not None else None,
                count,
                disconnect=True,
                performed=performed,
            )
        )

    def delay_next(
        self,
        chat_id: int | None,
        seconds: float,
        count: int = 1,
        *,
        methods: Iterable[str] | None = None,
    ) -> None:
        """The next ``count`` matching calls are answered ``seconds`` late (for TimedOut)."""
        self._faults.append(
            _Fault(
                chat_id,
                frozenset(methods) if methods is not None else None,
                count,
                delay=seconds,
            )
        )

    # ------------------------------------------------------------------ driver (user side)

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool | None = None,
    ) -> FakeUser:
        """Create the user ``user_id`` (or replace its profile) and return it.

        ``started`` defaults to False for a new user: Telegram only lets a bot write to a
        user who wrote to it first (any driver message from the user sets it).
        """
        old = self._users.get(user_id)
        user = FakeUser(
            user_id,
            first_name or (old.first_name if old else f"User{user_id}"),
            last_name,
            username,
            language_code,
            blocked=old.blocked if old else False,
            started=old.started if old else False,
        )
        if started is not None:
            user.started = started
        self._users[user_id] = user
        return user

    def _user(self, user_id: int) -> FakeUser:
        """The user ``user_id``, created with default profile if unknown."""
        return self._users.get(user_id) or self.user(user_id)

    def group(
        self,
        chat_id: int = DEFAULT_GROUP_ID,
        title: str = "Test group",
        *,
        chat_type: Literal["group", "supergroup"] = "group",
    ) -> Json:
        """Create (or return) a group chat the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        return self._groups.setdefault(chat_id, {"id": chat_id, "type": chat_type, "title": title})

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_type: Literal["private", "group", "supergroup"] = "private",
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> int:
        """The user writes ``text``; returns its message_id.

        ``/commands`` get their ``bot_command`` entity.  In groups (``chat_type="group"``,
        default group unless ``chat_id``) privacy mode hides plain text from the bot.
        """
        extra: Json = {"text": text}
        entities = _command_entities(text)
        if entities:
            extra["entities"] = entities
        if chat_type != "private" and chat_id is None:
            chat_id = self.group(DEFAULT_GROUP_ID, chat_type=chat_type)["id"]
        return self._incoming(user_id, chat_id, extra, reply_to=reply_to)

    async def send_sticker(
        self, user_id: int, emoji: str = "🙂", *, chat_id: int | None = None
    ) -> int:
        """The user sends a sticker; returns its message_id."""
        stored = self._store_file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "stickers", "webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        return self._incoming(user_id, chat_id, {"sticker": sticker})

    async def send_voice(
        self,
        user_id: int,
        duration: int = 2,
        data: bytes = b"OggS\x00fake-voice",
        *,
        chat_id: int | None = None,
    ) -> int:
        """The user sends a voice note (downloadable via getFile); returns its message_id."""
        stored = self._store_file(data, "voice", "oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self._incoming(user_id, chat_id, {"voice": voice})

    async def send_location(
        self, user_id: int, lat: float, lon: float, *, chat_id: int | None = None
    ) -> int:
        """The user shares a location; returns its message_id."""
        return self._incoming(user_id, chat_id, {"location": {"latitude": lat, "longitude": lon}})

    async def edit_text(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> None:
        """The user edits their own earlier text message (an ``edited_message`` update)."""
        chat = user_id if chat_id is None else chat_id
        original = self._inbox.get((chat, message_id))
        if original is None or original["from"]["id"] != user_id or "text" not in original:
            raise ValueError(f"user {user_id} has no text message {message_id} in chat {chat}")
        original = {**original, "text": text, "edit_date": int(time.time())}
        original.pop("entities", None)
        if entities := _command_entities(text):
            original["entities"] = entities
        self._inbox[(chat, message_id)] = original
        if self._visible_to_bot(original):
            self._enqueue({"edited_message": original})

    async def press(
        self,
        user_id: int,
        message_id: int,
        data: str,
        *,
        chat_id: int | None = None,
        strict: bool = True,
    ) -> str:
        """The user presses the inline button carrying ``data``; returns the query id.

        With ``strict`` (default) the message must be a live bot message that currently has
        that button -- a user cannot press what is not on screen.
        """
        chat = user_id if chat_id is None else chat_id
        user = self._user(user_id)
        message = self.message(chat, message_id)
        if strict and (message.deleted or data not in message.button_data):
            raise ValueError(
                f"message {message_id} in chat {chat} has no button {data!r} "
                f"(buttons: {message.buttons}, deleted: {message.deleted})"
            )
        query_id = f"{self.bot_id}{self._next_query:08d}"
        self._next_query += 1
        self._queries[query_id] = _Query(user_id, chat, message_id, data, time.monotonic())
        self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.to_json(),
                    "message": self._message_json(message),
                    "chat_instance": f"ci{abs(chat)}",
                    "data": data,
                }
            }
        )
        return query_id

    async def block(self, user_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends to them now answer 403 (my_chat_member if notify)."""
        user = self._user(user_id)
        user.blocked = True
        if notify:
            self._enqueue(self._member_update(user, "member", "kicked"))

    async def unblock(self, user_id: int, *, notify: bool = True) -> None:
        """The user unblocks the bot (my_chat_member back to member if notify)."""
        user = self._user(user_id)
        user.blocked = False
        if notify:
            self._enqueue(self._member_update(user, "kicked", "member"))

    # ------------------------------------------------------------------ observers

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """The bot's messages in ``chat_id``, oldest first."""
        sent = self._sent.get(chat_id, [])
        return list(sent) if include_deleted else [m for m in sent if not m.deleted]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        """The bot's message ``message_id`` in ``chat_id`` (KeyError if the bot never sent it)."""
        for m in self._sent.get(chat_id, []):
            if m.message_id == message_id:
                return m
        raise KeyError(f"the bot sent no message {message_id} in chat {chat_id}")

    def last_message(self, chat_id: int) -> SentMessage:
        """The bot's newest live message in ``chat_id``."""
        live = self.messages(chat_id)
        if not live:
            raise LookupError(f"the bot has no message in chat {chat_id}")
        return live[-1]

    def calls_to(self, method: str | None = None, chat_id: int | None = None) -> list[ApiCall]:
        """Logged calls, filtered by method name and/or chat."""
        return [
            c
            for c in self.calls
            if (method is None or c.method == method) and (chat_id is None or c.chat_id == chat_id)
        ]

    def pending_updates(self) -> int:
        """Updates Telegram still holds for the bot (not yet confirmed or webhook-delivered)."""
        return len(self._queue)

    def unanswered_callbacks(self) -> list[str]:
        """Ids of button presses the bot never answered (the user's spinner keeps spinning)."""
        return [qid for qid, q in self._queries.items() if not q.answered]

    @property
    def commands(self) -> list[tuple[str, str]]:
        """Commands set for the default scope and no language, as (command, description)."""
        return self.commands_for()

    def commands_for(
        self, scope: Json | None = None, language_code: str = ""
    ) -> list[tuple[str, str]]:
        """Commands set for a scope (a BotCommandScope dict) and language."""
        stored = self._commands.get((self._scope_key(scope), language_code), [])
        return [(c["command"], c["description"]) for c in stored]

    @property
    def webhook_url(self) -> str:
        """The webhook currently set ("" when polling)."""
        return self._webhook.url if self._webhook else ""

    async def wait_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper, not a cancellation API
        what: str = "condition",
    ) -> None:
        """Wait until ``condition()`` holds, re-checking on every change of state."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            await self._wait_change(remaining)

    async def wait_for(
        self,
        chat_id: int,
        until: int | Callable[[list[SentMessage]], bool] = 1,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper, not a cancellation API
    ) -> list[SentMessage]:
        """Wait until the bot has sent ``until`` messages to ``chat_id`` in total, or until
        ``until(messages)`` is true; returns the messages (deleted ones included, flagged).

        On timeout raises TimeoutError describing what the bot did send.
        """

        def done() -> bool:
            sent = self.messages(chat_id, include_deleted=True)
            return len(sent) >= until if isinstance(until, int) else until(sent)

        try:
            await self.wait_until(done, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {until!r} in chat {chat_id}; "
                f"bot messages: {[m.text for m in self.messages(chat_id, include_deleted=True)]}; "
                f"last calls: {[(c.method, c.chat_id, c.status) for c in self.calls[-10:]]}"
            ) from None
        return self.messages(chat_id, include_deleted=True)

    async def settle(self, quiet: float = 0.2, *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot made no call (other than getUpdates) for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            active = [c for c in self.calls if c.method != "getUpdates"]
            idle_for = time.monotonic() - active[-1].at if active else quiet
            if idle_for >= quiet:
                return
            if loop.time() + quiet - idle_for > deadline:
                raise TimeoutError(f"the bot did not settle within {timeout}s")
            await asyncio.sleep(quiet - idle_for)

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if file_match := _FILE_PATH.fullmatch(request.path):
            return self._serve_file(file_match["token"], file_match["path"])
        api_match = _API_PATH.fullmatch(request.path)
        if api_match is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        call = ApiCall(api_match["method"], None, time.monotonic(), {})
        self.calls.append(call)
        try:
            raw, files = await self._read_params(request)
            summary = {k: f"<file {u.filename!r}, {len(u.data)} bytes>" for k, u in files.items()}
            call.params = {**raw, **summary}
            with contextlib.suppress(ValueError, TypeError):
                call.chat_id = int(raw["chat_id"]) if "chat_id" in raw else None
            self._notify()
            if api_match["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            entry = self._methods.get(call.method.lower())
            if entry is None:
                raise ApiError(404, "Not Found: method not found")
            call.method, handler = entry
            fault = self._take_fault(call)
            if fault is not None and not fault.performed:
                await self._apply_fault(fault, request)
            result = await handler(_Params(raw, files, call))
            if fault is not None and fault.performed:
                await self._apply_fault(fault, request)
        except ApiError as err:
            call.status, call.description = err.status, err.description
            self._notify()
            return web.json_response(err.body(), status=err.status)
        except Exception as exc:  # a bug in the fake (or absurd input): make it visible
            self.internal_errors.append(exc)
            internal = ApiError(500, f"Internal Server Error: {exc!r}")
            call.status, call.description = internal.status, internal.description
            self._notify()
            return web.json_response(internal.body(), status=500)
        call.status = 200
        self._notify()
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _read_params(request: web.Request) -> tuple[Json, dict[str, _Upload]]:
        raw: Json = dict(request.query)
        files: dict[str, _Upload] = {}
        if request.content_type == "application/json":
            body = await request.read()
            if body.strip():
                try:
                    decoded = json.loads(body)
                except ValueError:
                    raise _bad("can't parse JSON object") from None
                if not isinstance(decoded, dict):
                    raise _bad("can't parse JSON object")
                raw.update(decoded)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = _Upload(value.file.read(), value.filename, value.content_type)
                else:
                    raw[key] = value if isinstance(value, str) else value.decode()
        return raw, files

    def _serve_file(self, token: str, path: str) -> web.Response:
        if token != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        for stored in self._files.values():
            if stored.path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    def _take_fault(self, call: ApiCall) -> _Fault | None:
        for fault in self._faults:
            if (fault.methods is None or call.method in fault.methods) and (
                fault.chat_id is None or fault.chat_id == call.chat_id
            ):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    async def _apply_fault(fault: _Fault, request: web.Request) -> None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        elif fault.disconnect:
            if request.transport is not None:
                request.transport.abort()
            raise ApiError(599, "connection dropped by the fake")  # never reaches the client
        else:
            raise fault.error()

    def _notify(self) -> None:
        """Wake everything waiting for a change (long polls, webhook worker, wait_for)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, timeout: float | None) -> None:  # noqa: ASYNC109
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    # ------------------------------------------------------------------ updates

    def _enqueue(self, payload: Json) -> Json | None:
        """Create an update; Telegram drops it at once if allowed_updates excludes its type."""
        (kind,) = payload
        if kind not in self._allowed:
            return None
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        self.updates.append(update)
        self._queue.append(update)
        self._notify()
        return update

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
            self.confirmed_offset = max(self.confirmed_offset, offset)
        elif offset < 0:
            self._queue = self._queue[offset:]
            first = self._queue[0]["update_id"] if self._queue else self._next_update_id
            self.confirmed_offset = max(self.confirmed_offset, first)

    def _drop_pending(self) -> None:
        self._queue.clear()
        self.confirmed_offset = self._next_update_id

    def _incoming(
        self, user_id: int, chat_id: int | None, extra: Json, *, reply_to: int | None = None
    ) -> int:
        user = self._user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        if chat_id > 0:
            if chat_id != user_id:
                raise ValueError("a private chat's id is the user's id")
            if user.blocked:
                raise ValueError(f"user {user_id} blocked the bot; unblock() first")
            user.started = True
            chat = user.chat_json()
        elif chat_id in self._groups:
            chat = self._groups[chat_id]
        else:
            raise ValueError(f"unknown group {chat_id}; create it with api.group()")
        message: Json = {
            "message_id": self._new_message_id(chat_id),
            "from": user.to_json(),
            "chat": chat,
            "date": int(time.time()),
            **extra,
        }
        if reply_to is not None:
            replied = self._reply_target(chat_id, reply_to)
            if replied is not None:
                message["reply_to_message"] = replied
        self._inbox[(chat_id, message["message_id"])] = message
        if self._visible_to_bot(message):
            self._enqueue({"message": message})
        return int(message["message_id"])

    def _reply_target(self, chat_id: int, message_id: int) -> Json | None:
        if (chat_id, message_id) in self._inbox:
            return self._inbox[(chat_id, message_id)]
        with contextlib.suppress(KeyError):
            return self._message_json(self.message(chat_id, message_id))
        return None

    def _visible_to_bot(self, message: Json) -> bool:
        """Privacy mode: in groups, only commands, mentions and replies to the bot."""
        if message["chat"]["type"] == "private" or not self.privacy_mode:
            return True
        text = str(message.get("text", ""))
        replied = message.get("reply_to_message") or {}
        return (
            text.startswith("/")
            or f"@{self.bot_username}".lower() in text.lower()
            or replied.get("from", {}).get("id") == self.bot_id
        )

    def _member_update(self, user: FakeUser, old: str, new: str) -> Json:
        def member(status: str) -> Json:
            out: Json = {"user": self.bot_user, "status": status}
            if status == "kicked":
                out["until_date"] = 0
            return out

        return {
            "my_chat_member": {
                "chat": user.chat_json(),
                "from": user.to_json(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            }
        }

    # ------------------------------------------------------------------ shared helpers

    def _new_message_id(self, chat_id: int) -> int:
        """Message ids count up per chat, shared by the user's and the bot's messages."""
        next_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = next_id + 1
        return next_id

    def _chat_json(self, chat_id: int) -> Json:
        if chat_id > 0:
            return self._users[chat_id].chat_json()
        return self._groups[chat_id]

    def _target_chat(self, p: _Params, *, sending: bool) -> int:
        """The chat a call addresses, with Telegram's "not found"/"blocked" answers."""
        chat_id = p.chat_id()
        user = self._users.get(chat_id)
        if chat_id > 0 and user is None:
            raise _bad("chat not found")
        if chat_id < 0 and chat_id not in self._groups:
            raise _bad("chat not found")
        if sending and user is not None:
            if user.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not user.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def _flood_check(self, chat_id: int) -> None:
        """Token bucket per chat: ``rate_burst`` at once, then ``rate_per_second`` on average."""
        if not self.rate_limit_per_chat:
            return
        rate = self.rate_per_second if chat_id > 0 else self.group_rate_per_minute / 60
        now = time.monotonic()
        tokens, last = self._buckets.get(chat_id, (float(self.rate_burst), now))
        tokens = min(float(self.rate_burst), tokens + (now - last) * rate)
        if tokens < 1:
            self._buckets[chat_id] = (tokens, now)
            retry_after = max(1, math.ceil((1 - tokens) / rate))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        self._buckets[chat_id] = (tokens - 1, now)

    @staticmethod
    def _text(p: _Params, key: str, limit: int, *, required: bool) -> tuple[str, str, str | None]:
        """(raw, shown, parse_mode) of a text/caption, checked against Telegram's limits."""
        raw = p.get_str(key) or ""
        parse_mode = p.get_str("parse_mode") or None
        shown = _render(raw, parse_mode)
        if required and not shown:
            raise _bad("message text is empty")
        if tg_len(shown) > limit:
            raise _bad("message is too long" if key == "text" else "message caption is too long")
        return raw, shown, parse_mode

    @staticmethod
    def _markup(p: _Params) -> tuple[Json | None, list[ButtonRow]]:
        """Parse and check ``reply_markup``; inline keyboards become button rows."""
        markup = p.get_json("reply_markup")
        if markup is None:
            return None, []
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup, []
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
        buttons: list[ButtonRow] = []
        for row in rows:
            out_row: ButtonRow = []
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad("can't parse inline keyboard button: Text must be non-empty")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise _bad("BUTTON_DATA_INVALID")
                if data is None and len(button) == 1:
                    raise _bad(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                out_row.append((str(button["text"]), None if data is None else str(data)))
            buttons.append(out_row)
        return markup, buttons

    def _store_file(self, data: bytes, folder: str, extension: str) -> _StoredFile:
        number = len(self._files) + 1
        stored = _StoredFile(
            file_id=f"FAKE-{folder}-{number:06d}",
            unique_id=f"u{number:06d}",
            data=data,
            path=f"{folder}/file_{number}.{extension}",
        )
        self._files[stored.file_id] = stored
        return stored

    def _resolve_media(self, value: _Upload | str | None, what: str) -> _Upload | None:
        """An upload as is; a known file_id as its bytes; a URL as None (not fetched)."""
        if value is None or value == "":
            raise _bad(f"there is no {what} in the request")
        if isinstance(value, _Upload):
            if not value.data:
                raise _bad("file must be non-empty")
            return value
        if value in self._files:
            return _Upload(self._files[value].data, None, None)
        if value.startswith(("http://", "https://")):
            return None
        raise _bad("wrong file identifier/HTTP URL specified")

    def _message_json(self, m: SentMessage) -> Json:
        out: Json = {
            "message_id": m.message_id,
            "from": self.bot_user,
            "chat": self._chat_json(m.chat_id),
            "date": m.date,
        }
        if m.edit_date is not None:
            out["edit_date"] = m.edit_date
        if m.kind == "text":
            out["text"] = m.text
        elif m.text:
            out["caption"] = m.text
        if m.kind == "photo":
            stored = self._files[m.file_id or ""]
            width, height = _image_size(stored.data) or (512, 512)
            out["photo"] = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.unique_id,
                    "width": width,
                    "height": height,
                    "file_size": len(stored.data),
                }
            ]
        elif m.kind == "document":
            stored = self._files[m.file_id or ""]
            out["document"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.unique_id,
                "file_name": m.filename,
                "mime_type": m.mime_type,
                "file_size": len(stored.data),
            }
        if m.reply_markup is not None and "inline_keyboard" in m.reply_markup:
            out["reply_markup"] = {"inline_keyboard": m.reply_markup["inline_keyboard"]}
        return out

    def _record(self, m: SentMessage) -> Json:
        self._sent.setdefault(m.chat_id, []).append(m)
        self._notify()
        return self._message_json(m)

    def _editable(self, p: _Params) -> SentMessage:
        if p.get_str("inline_message_id"):
            raise _bad("inline messages are not supported by the fake")
        chat_id = self._target_chat(p, sending=False)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        if (chat_id, message_id) in self._inbox:
            raise _bad("message can't be edited")
        try:
            message = self.message(chat_id, message_id)
        except KeyError:
            raise _bad("message to edit not found") from None
        if message.deleted:
            raise _bad("message to edit not found")
        return message

    @staticmethod
    def _inline(markup: Json | None) -> Any:
        return None if markup is None else markup.get("inline_keyboard")

    @staticmethod
    def _scope_key(scope: Json | None) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    async def _stop_webhook_task(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _webhook_worker(self) -> None:
        """Push queued updates to the webhook one by one, in order, retrying failures."""
        while not self._closing and self._webhook is not None:
            hook = self._webhook
            if not self._queue or self._http is None:
                await self._wait_change(None)
                continue
            update = self._queue[0]
            headers = {}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            status, error = 0, ""
            try:
                async with self._http.post(
                    hook.url,
                    json=update,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                ) as response:
                    status = response.status
                    error = f"Wrong response from the webhook: {status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {exc!r}"
            self.webhook_deliveries.append(
                WebhookDelivery(update["update_id"], status, hook.secret_token, time.monotonic())
            )
            if 200 <= status < 300:
                if self._queue and self._queue[0] is update:
                    self._queue.pop(0)
                self.confirmed_offset = max(self.confirmed_offset, update["update_id"] + 1)
                self._notify()
            else:
                hook.last_error_date, hook.last_error_message = int(time.time()), error
                self._notify()
                await asyncio.sleep(self.webhook_retry_delay)

    # ------------------------------------------------------------------ Bot API methods

    def _method_table(self) -> dict[str, tuple[str, Callable[[_Params], Awaitable[Any]]]]:
        """Supported methods by lower-cased name (Telegram method names are case-insensitive)."""
        table: dict[str, Callable[[_Params], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "close": self._close,
            "logOut": self._log_out,
        }
        for name in ("setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton"):
            table[name] = self._record_only(name)
        return {name.lower(): (name, handler) for name, handler in table.items()}

    def _record_only(self, name: str) -> Callable[[_Params], Awaitable[Any]]:
        async def handler(p: _Params) -> bool:
            self.settings[name] = dict(p.raw)
            return True

        return handler

    async def _get_me(self, p: _Params) -> Json:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, p: _Params) -> list[Json]:
        """Long polling: answer as soon as an update exists, or after ``timeout`` seconds."""
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        limit = min(100, max(1, p.get_int("limit", 100) or 100))
        timeout = max(0.0, p.get_float("timeout", 0.0))
        allowed = p.get_json("allowed_updates")
        if allowed is not None:
            self._allowed = frozenset(allowed) & ALL_UPDATE_TYPES or DEFAULT_UPDATE_TYPES
        self._confirm(p.get_int("offset", 0) or 0)
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._webhook is not None:
                raise ApiError(409, "Conflict: terminated by setWebhook request")
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            remaining = deadline - loop.time()
            if self._queue or self._closing or remaining <= 0:
                return self._queue[:limit]
            await self._wait_change(remaining)

    async def _set_webhook(self, p: _Params) -> bool:
        url = p.get_str("url") or ""
        if not url:
            return await self._delete_webhook(p)
        if not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get_str("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise _bad("secret token contains unallowed characters")
        allowed = p.get_json("allowed_updates")
        if allowed is not None:
            self._allowed = frozenset(allowed) & ALL_UPDATE_TYPES or DEFAULT_UPDATE_TYPES
        if p.get_bool("drop_pending_updates"):
            self._drop_pending()
        self._webhook = _Webhook(url, secret, p.get_int("max_connections", 40) or 40)
        if self._webhook_task is None:
            self._webhook_task = asyncio.create_task(self._webhook_worker())
        self._notify()  # ends any long poll with 409, like Telegram
        return True

    async def _delete_webhook(self, p: _Params) -> bool:
        self._webhook = None
        await self._stop_webhook_task()
        if p.get_bool("drop_pending_updates"):
            self._drop_pending()
        self._notify()
        return True

    async def _get_webhook_info(self, p: _Params) -> Json:
        hook = self._webhook
        info: Json = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if self._allowed != DEFAULT_UPDATE_TYPES:
                info["allowed_updates"] = sorted(self._allowed)
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    def _new_sent(self, chat_id: int, kind: MessageKind, p: _Params, **fields: Any) -> SentMessage:
        now = time.monotonic()
        return SentMessage(
            chat_id=chat_id,
            message_id=self._new_message_id(chat_id),
            kind=kind,
            params=dict(p.call.params),
            date=int(time.time()),
            sent_at=now,
            **fields,
        )

    async def _send_message(self, p: _Params) -> Json:
        chat_id = self._target_chat(p, sending=True)
        raw, shown, parse_mode = self._text(p, "text", MAX_TEXT_LENGTH, required=True)
        markup, buttons = self._markup(p)
        self._flood_check(chat_id)
        message = self._new_sent(
            chat_id, "text", p, text=shown, raw_text=raw, parse_mode=parse_mode,
            buttons=buttons, reply_markup=markup,
        )  # fmt: skip
        return self._record(message)

    async def _send_media(self, p: _Params, kind: Literal["photo", "document"]) -> Json:
        chat_id = self._target_chat(p, sending=True)
        upload = self._resolve_media(p.get_file(kind), kind)
        raw, shown, parse_mode = self._text(p, "caption", MAX_CAPTION_LENGTH, required=False)
        markup, buttons = self._markup(p)
        data = upload.data if upload else b""
        if kind == "photo" and upload is not None and _image_size(data) is None:
            raise _bad("IMAGE_PROCESS_FAILED")
        if len(data) > (10 if kind == "photo" else 50) * 1024 * 1024:
            raise ApiError(413, "Request Entity Too Large")
        self._flood_check(chat_id)
        default_name = "photo.jpg" if kind == "photo" else "file"
        filename = (upload.filename if upload else None) or default_name
        extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        stored = self._store_file(data, "photos" if kind == "photo" else "documents", extension)
        message = self._new_sent(
            chat_id, kind, p, text=shown or None, raw_text=raw or None, parse_mode=parse_mode,
            buttons=buttons, reply_markup=markup, file_bytes=upload.data if upload else None,
            filename=filename, mime_type=(upload.content_type if upload else None),
            file_id=stored.file_id,
        )  # fmt: skip
        return self._record(message)

    async def _send_photo(self, p: _Params) -> Json:
        return await self._send_media(p, "photo")

    async def _send_document(self, p: _Params) -> Json:
        return await self._send_media(p, "document")

    async def _edit_message_text(self, p: _Params) -> Json:
        message = self._editable(p)
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        raw, shown, parse_mode = self._text(p, "text", MAX_TEXT_LENGTH, required=True)
        markup, buttons = self._markup(p)  # no reply_markup = the keyboard is removed
        markup = markup if markup is not None and "inline_keyboard" in markup else None

        def key(text: str | None, source: str | None, inline: Any) -> tuple[Any, ...]:
            return (text, source if source != text else None, inline)

        if key(shown, raw, self._inline(markup)) == key(
            message.text, message.raw_text, self._inline(message.reply_markup)
        ):
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        self._revise(message, markup, buttons)
        message.text, message.raw_text, message.parse_mode = shown, raw, parse_mode
        return self._message_json(message)

    async def _edit_message_reply_markup(self, p: _Params) -> Json:
        message = self._editable(p)
        markup, buttons = self._markup(p)
        markup = markup if markup is not None and "inline_keyboard" in markup else None
        if self._inline(markup) == self._inline(message.reply_markup):
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        self._revise(message, markup, buttons)
        return self._message_json(message)

    def _revise(self, message: SentMessage, markup: Json | None, buttons: list[ButtonRow]) -> None:
        message.edits.append(Revision(message.text, message.buttons, time.monotonic()))
        message.reply_markup, message.buttons = markup, buttons
        message.edit_date = int(time.time())
        self._notify()

    async def _delete_message(self, p: _Params) -> bool:
        chat_id = self._target_chat(p, sending=False)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        if self._inbox.pop((chat_id, message_id), None) is not None:
            return True
        try:
            message = self.message(chat_id, message_id)
        except KeyError:
            raise _bad("message to delete not found") from None
        if message.deleted:
            raise _bad("message to delete not found")
        message.deleted = True
        self._notify()
        return True

    async def _answer_callback_query(self, p: _Params) -> bool:
        query_id = p.get_str("callback_query_id") or ""
        query = self._queries.get(query_id)
        if (
            query is None
            or query.answered
            or time.monotonic() - query.created > self.callback_query_ttl
        ):
            raise _bad(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        query.answered = True
        p.call.chat_id = query.chat_id
        self.answered_callbacks.append(
            AnsweredCallback(
                query_id=query_id,
                user_id=query.user_id,
                chat_id=query.chat_id,
                message_id=query.message_id,
                data=query.data,
                text=p.get_str("text"),
                show_alert=p.get_bool("show_alert"),
                url=p.get_str("url"),
                at=time.monotonic(),
            )
        )
        self._notify()
        return True

    async def _send_chat_action(self, p: _Params) -> bool:
        self._target_chat(p, sending=True)
        if p.get_str("action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _get_file(self, p: _Params) -> Json:
        stored = self._files.get(p.get_str("file_id") or "")
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.data),
            "file_path": stored.path,
        }

    async def _set_my_commands(self, p: _Params) -> bool:
        commands = p.get_json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand JSON object")
            if not _BOT_COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope_key(p.get_json("scope")), p.get_str("language_code") or "")
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, p: _Params) -> list[Json]:
        key = (self._scope_key(p.get_json("scope")), p.get_str("language_code") or "")
        return list(self._commands.get(key, []))

    async def _delete_my_commands(self, p: _Params) -> bool:
        key = (self._scope_key(p.get_json("scope")), p.get_str("language_code") or "")
        self._commands.pop(key, None)
        return True

    async def _close(self, p: _Params) -> bool:
        self.closed = True
        return True

    async def _log_out(self, p: _Params) -> bool:
        self.logged_out = True
        return True
