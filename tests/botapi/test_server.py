"""The fake Bot API answers the real PTB client the way Telegram does.

Every test drives the server through ``telegram.Bot`` (PTB's own HTTP stack), never a mock,
so what passes here is what PTB will see in end-to-end tests.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import struct
import sys
import time
import zlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from .server import FakeBotAPI

TOKEN = "123456789:TEST-secure-base-token"
ALICE = 1001
BOB = 1002


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid PNG, so the fake's image check (IMAGE_PROCESS_FAILED) is satisfied."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB's settings."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.fixture(autouse=True)
def timedelta_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB 23's timedelta durations (RetryAfter warns without it)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{api.url}/bot", base_file_url=f"{api.url}/file/bot") as client:
        yield client


async def started(api: FakeBotAPI, user_id: int) -> None:
    """The user writes first (Telegram won't let a bot open a private chat)."""
    await api.send_text(user_id, "/start")


async def test_get_me(api: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456789, api.bot_username, True)
    assert [c.method for c in api.calls] == ["getMe", "getMe"]  # initialize() + get_me()


async def test_wrong_token_is_rejected(api: FakeBotAPI) -> None:
    wrong = Bot("123456789:WRONG", base_url=api.base_url)
    with pytest.raises(InvalidToken):
        await wrong.get_me()
    assert api.calls[-1].status == 401


async def test_unknown_method_is_not_found(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
    assert (api.calls[-1].status, api.calls[-1].description) == (
        404,
        "Not Found: method not found",
    )


async def test_send_edit_and_identical_edit(api: FakeBotAPI, bot: Bot) -> None:
    await started(api, ALICE)
    markup = keyboard([("Breathe", "s:breathe"), ("Later", "o:-")])
    sent = await bot.send_message(ALICE, "Pause.", reply_markup=markup)
    assert sent.text == "Pause." and sent.reply_markup == markup

    (message,) = api.messages(ALICE)
    assert message.message_id == sent.message_id
    assert message.buttons == [[("Breathe", "s:breathe"), ("Later", "o:-")]]
    assert message.data_for("Later") == "o:-"

    edited = await bot.edit_message_text("Breathe in.", ALICE, sent.message_id, reply_markup=markup)
    assert isinstance(edited, type(sent)) and edited.text == "Breathe in."
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Breathe in.", ALICE, sent.message_id, reply_markup=markup)

    # Like Telegram, editing the text without reply_markup removes the keyboard.
    await bot.edit_message_text("Breathe out.", ALICE, sent.message_id)
    assert message.text == "Breathe out." and message.buttons == []
    assert [r.text for r in message.edits] == ["Pause.", "Breathe in."]
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(ALICE, sent.message_id)  # already no keyboard

    with pytest.raises(BadRequest, match=r"[Mm]essage to edit not found"):
        await bot.edit_message_text("x", ALICE, 9999)
    assert await bot.delete_message(ALICE, sent.message_id)
    with pytest.raises(BadRequest, match=r"[Mm]essage to edit not found"):
        await bot.edit_message_text("x", ALICE, sent.message_id)
    assert api.messages(ALICE) == [] and api.messages(ALICE, include_deleted=True)[0].deleted


async def test_callback_data_is_limited_to_64_bytes(api: FakeBotAPI, bot: Bot) -> None:
    await started(api, ALICE)
    ok = "é" * 32  # 32 characters, 64 bytes
    await bot.send_message(ALICE, "ok", reply_markup=keyboard([("fits", ok)]))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "no", reply_markup=keyboard([("too big", ok + "a")]))
    assert [m.text for m in api.messages(ALICE)] == ["ok"]


async def test_text_and_caption_limits(api: FakeBotAPI, bot: Bot) -> None:
    await started(api, ALICE)
    await bot.send_message(ALICE, "x" * 4096)
    with pytest.raises(BadRequest, match=r"[Mm]essage is too long"):
        await bot.send_message(ALICE, "x" * 4097)
    with pytest.raises(BadRequest, match=r"[Mm]essage is too long"):
        await bot.send_message(ALICE, "🙂" * 2049)  # 2049 chars but 4098 UTF-16 units
    with pytest.raises(BadRequest, match=r"[Mm]essage text is empty"):
        await bot.send_message(ALICE, "  \n")
    with pytest.raises(BadRequest, match=r"[Mm]essage caption is too long"):
        await bot.send_photo(ALICE, tiny_png(), caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"[Cc]an't parse entities"):
        await bot.send_message(ALICE, "you <3 them", parse_mode="HTML")
    html = await bot.send_message(ALICE, "<b>Pause</b> &amp; breathe", parse_mode="HTML")
    assert html.text == "Pause & breathe"
    assert api.last_message(ALICE).raw_text == "<b>Pause</b> &amp; breathe"


async def test_blocked_unknown_and_unstarted_users(api: FakeBotAPI, bot: Bot) -> None:
    await started(api, ALICE)
    await api.block(ALICE)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(ALICE, "still there?")
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_chat_action(ALICE, "typing")
    await api.unblock(ALICE)
    await bot.send_message(ALICE, "welcome back")

    api.user(BOB, "Bob")  # known to Telegram but never wrote to the bot
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(BOB, "hi")
    with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
        await bot.send_message(424242, "hi")
    updates = await bot.get_updates()
    kinds = [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member]
    assert kinds == ["kicked", "member"]


async def test_flood_control_per_chat(api: FakeBotAPI, bot: Bot) -> None:
    await started(api, ALICE)
    await started(api, BOB)
    api.rate_limit_per_chat = True
    for i in range(3):  # the burst
        await bot.send_message(ALICE, f"burst {i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ALICE, "one too many")
    assert retry_seconds(caught.value) >= 1
    assert api.calls[-1].status == 429
    await bot.send_message(BOB, "other chats are unaffected")
    assert len(api.messages(ALICE)) == 3


async def test_fail_next_429_storm_and_5xx(api: FakeBotAPI, bot: Bot) -> None:
    await started(api, ALICE)
    api.fail_next(ALICE, count=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(ALICE, "hi")
        assert retry_seconds(caught.value) == 7
    await bot.send_message(ALICE, "third time lucky")

    api.fail_next_with_status(ALICE, status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(ALICE, "lost")
    api.fail_next_with_status(ALICE, status=502, performed=True)
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "sent but unacknowledged")
    api.disconnect_next(ALICE)
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "dropped")
    assert [m.text for m in api.messages(ALICE)] == [
        "third time lucky",
        "sent but unacknowledged",
    ]
    statuses = [c.status for c in api.calls_to("sendMessage", ALICE)]
    assert statuses == [429, 429, 200, 502, 502, 599]


async def test_long_polling_returns_as_soon_as_an_update_arrives(api: FakeBotAPI, bot: Bot) -> None:
    started_at = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until(lambda: bool(api.calls_to("getUpdates")), what="the poll")
    await asyncio.sleep(0.05)
    assert not poll.done()
    await api.send_text(ALICE, "/start now")
    (update,) = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started_at < 1.5
    assert update.message is not None and update.message.text == "/start now"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.chat.type == "private"

    empty_started = time.monotonic()
    short = dtm.timedelta(seconds=0.3)
    assert await bot.get_updates(offset=update.update_id + 1, timeout=short) == ()
    assert 0.25 < time.monotonic() - empty_started < 1.5


async def test_offset_confirms_updates(api: FakeBotAPI, bot: Bot) -> None:
    for text in ("one", "two", "three"):
        await api.send_text(ALICE, text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    assert api.pending_updates() == 3 and api.confirmed_offset == 0
    again = await bot.get_updates()  # not confirmed yet: delivered again
    assert [u.update_id for u in again] == [u["update_id"] for u in api.updates]
    last = again[-1].update_id
    assert await bot.get_updates(offset=last + 1) == ()
    assert api.pending_updates() == 0 and api.confirmed_offset == last + 1

    await bot.get_updates(allowed_updates=["callback_query"])
    await api.send_text(ALICE, "filtered out")
    assert api.pending_updates() == 0


async def test_second_poller_terminates_the_first(api: FakeBotAPI, bot: Bot) -> None:
    """Two bot instances polling: Telegram ends the older long poll with 409 Conflict."""
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until(lambda: bool(api.calls_to("getUpdates")), what="the first poll")
    await asyncio.sleep(0.05)
    async with Bot(TOKEN, base_url=api.base_url) as other_instance:
        short = dtm.timedelta(seconds=0.2)
        second = asyncio.create_task(other_instance.get_updates(timeout=short))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 2)
        assert await second == ()


async def test_press_and_answer_callback(api: FakeBotAPI, bot: Bot) -> None:
    await started(api, ALICE)
    sent = await bot.send_message(ALICE, "Ready?", reply_markup=keyboard([("Yes", "g:a:b:0")]))
    with pytest.raises(ValueError, match="no button"):
        await api.press(ALICE, sent.message_id, "g:a:b:9")
    query_id = await api.press(ALICE, sent.message_id, "g:a:b:0")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None and query.id == query_id and query.data == "g:a:b:0"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert api.unanswered_callbacks() == [query_id]

    assert await bot.answer_callback_query(query_id, text="Noted")
    (answered,) = api.answered_callbacks
    assert (answered.data, answered.text, answered.chat_id) == ("g:a:b:0", "Noted", ALICE)
    assert api.unanswered_callbacks() == []
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)


async def test_multipart_document_and_photo(api: FakeBotAPI, bot: Bot) -> None:
    await started(api, ALICE)
    payload = b'{"moods": [1, 2, 3]}\x00\xff'
    sent = await bot.send_document(ALICE, payload, filename="export.json", caption="Your data")
    assert sent.document is not None and sent.document.file_name == "export.json"
    doc = api.last_message(ALICE)
    assert (doc.kind, doc.file_bytes, doc.filename, doc.text) == (
        "document",
        payload,
        "export.json",
        "Your data",
    )
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == payload

    photo = await bot.send_photo(ALICE, tiny_png(3, 2), caption="Your week")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (3, 2)
    assert api.last_message(ALICE).kind == "photo"
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ALICE, b"not an image")


async def test_user_side_updates_parse_in_ptb(api: FakeBotAPI, bot: Bot) -> None:
    text_id = await api.send_text(ALICE, "hello")
    await api.send_sticker(ALICE)
    voice_id = await api.send_voice(ALICE, duration=3, data=b"OggS-voice")
    await api.send_location(ALICE, 52.5, 13.4)
    await api.edit_text(ALICE, text_id, "hello again")
    api.group()
    await api.send_text(BOB, "chatter", chat_type="group")  # hidden by privacy mode
    await api.send_text(BOB, "/checkin@SecureBaseTestBot", chat_type="group")
    updates: tuple[Update, ...] = await bot.get_updates()
    messages = [u.message for u in updates if u.message]
    assert messages[1].sticker is not None and messages[1].sticker.emoji == "🙂"
    assert messages[2].voice is not None and messages[2].message_id == voice_id
    assert messages[3].location is not None and messages[3].location.latitude == 52.5
    assert updates[4].edited_message is not None
    assert updates[4].edited_message.text == "hello again"
    group_msg = messages[-1]
    assert group_msg.chat.type == "group" and (group_msg.text or "").startswith("/checkin")
    assert len(updates) == 6
    voice_file = await bot.get_file(messages[2].voice.file_id)
    assert bytes(await voice_file.download_as_bytearray()) == b"OggS-voice"


async def test_commands(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("pause", "Take a pause")])
    assert api.commands == [("start", "Begin"), ("pause", "Take a pause")]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "pause"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Command", "x")])
    assert await bot.delete_my_commands()
    assert api.commands == []


async def test_webhook_push_with_secret(api: FakeBotAPI, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []
    fail_first = [True]

    async def hook(request: web.Request) -> web.Response:
        if fail_first.pop() if fail_first else False:
            return web.Response(status=500)
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        api.webhook_retry_delay = 0.05
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret-_")
        await api.send_text(ALICE, "/start")
        await api.wait_until(lambda: bool(received), what="the webhook push")
        secret, update = received[0]
        assert secret == "s3cret-_"
        assert Update.de_json(update, bot).message.text == "/start"  # type: ignore[union-attr]
        assert [d.status for d in api.webhook_deliveries] == [500, 200]
        assert api.pending_updates() == 0
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.last_error_message is not None
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook()
        assert api.webhook_url == ""
    finally:
        await runner.cleanup()


async def test_ptb_application_end_to_end(api: FakeBotAPI) -> None:
    """A real PTB Application polls the fake, handles a command and a button press."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "Hello", reply_markup=keyboard([("Breathe", "s:breathe")])
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Chose {query.data}")

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await api.send_text(ALICE, "/start")
        (hello,) = await api.wait_for(ALICE, 1)
        await api.press(ALICE, hello.message_id, hello.data_for("Breathe"))
        await api.wait_for(ALICE, lambda ms: ms[0].text == "Chose s:breathe")
        await api.wait_until(lambda: not api.unanswered_callbacks(), what="the answer")
        await app.updater.stop()
        await app.stop()
    assert api.pending_updates() == 0
    assert api.confirmed_offset == api.updates[-1]["update_id"] + 1
    methods = [c.method for c in api.calls if c.method != "getUpdates"]
    assert methods[-3:] == ["sendMessage", "answerCallbackQuery", "editMessageText"]


BOT_PROCESS = """
import os, sys
from telegram.ext import Application, CommandHandler

async def start(update, context):
    await update.effective_message.reply_text("Hello from another process")
    context.application.stop_running()

app = (
    Application.builder().token(sys.argv[1]).base_url(sys.argv[2] + "/bot")
    .base_file_url(sys.argv[2] + "/file/bot").build()
)
app.add_handler(CommandHandler("start", start))
app.run_polling(poll_interval=0, timeout=1)
"""


async def test_bot_in_a_separate_process(api: FakeBotAPI) -> None:
    """The fake is a real HTTP server: a bot in another OS process can use it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BOT_PROCESS, TOKEN, api.url
    )
    try:
        await api.send_text(ALICE, "/start")
        (reply,) = await api.wait_for(ALICE, 1, timeout=10)
        assert reply.text == "Hello from another process"
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert api.pending_updates() == 0  # run_polling confirmed the update on its way out
