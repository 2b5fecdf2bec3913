"""The coach's actions as a user sees them on Telegram (through the fake server)."""

from __future__ import annotations

import pytest

from bot.coach.actions import (
    Action,
    Button,
    Document,
    Edit,
    End,
    Picture,
    Reply,
    Send,
    StartTimer,
)
from bot.telegram.outbox import LimitedBot
from bot.telegram.render import (
    MAX_CAPTION,
    ChatViews,
    EditText,
    Renderer,
    SendText,
    keyboard,
    split_text,
    tg_len,
)
from tests.botapi import FakeBotAPI
from tests.botapi.test_server import tiny_png

ANA = 1001
STOP = (Button("Stop", "g:breathe:inhale:0"),)


@pytest.fixture
def renderer(api: FakeBotAPI) -> Renderer:
    api.user(ANA, started=True)
    return Renderer()


async def show(renderer: Renderer, bot: LimitedBot, *actions: Action) -> None:
    for job in renderer.jobs(ANA, Reply(list(actions))):
        await job(bot, "reply")


def test_long_text_is_split_at_paragraphs_within_the_limit() -> None:
    paragraphs = [f"Paragraph {i}. " + "word " * 300 for i in range(10)]
    text = "\n\n".join(paragraphs)
    pieces = split_text(text)
    assert len(pieces) > 1 and all(tg_len(p) <= 4096 for p in pieces)
    assert all(p.startswith("Paragraph") for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())


def test_splitting_counts_as_telegram_does() -> None:
    assert [tg_len(p) for p in split_text("🙂" * 3000)] == [4096, 1904]
    assert [len(p) for p in split_text("x" * 9000)] == [4096, 4096, 808]
    assert split_text("  short  ") == ["short"] and split_text(" ") == []


def test_two_buttons_a_row_unless_a_label_is_long() -> None:
    short = [Button(t, t) for t in "abc"]
    markup = keyboard(short)
    assert markup is not None and [len(row) for row in markup.inline_keyboard] == [2, 1]
    wide = [*short, Button("A label much longer than twenty-four", "d")]
    markup = keyboard(wide)
    assert markup is not None and [len(row) for row in markup.inline_keyboard] == [1, 1, 1, 1]
    assert keyboard([]) is None


def test_only_so_many_chats_are_remembered() -> None:
    views = ChatViews(limit=2)
    for chat_id in (1, 2, 1, 3):
        views[chat_id].last_id = chat_id
    assert len(views) == 2
    assert views[1].last_id == 1 and views[2].last_id is None  # 2 was the least recent


def test_actions_become_jobs() -> None:
    renderer = Renderer()
    long = "word " * 1000
    jobs = renderer.jobs(
        ANA,
        Reply([Send(long, STOP), Edit("in", STOP), Edit(long), StartTimer("t", 4), End()]),
    )
    kinds = [type(job).__name__ for job in jobs]
    assert kinds == ["SendText", "SendText", "EditText", "SendText", "SendText", "Forget"]
    assert isinstance(jobs[0], SendText) and jobs[0].buttons == ()
    assert isinstance(jobs[1], SendText) and jobs[1].buttons == STOP
    assert isinstance(jobs[2], EditText)


async def test_a_new_message_retires_the_last_keyboard_an_edit_keeps_it(
    api: FakeBotAPI, ptb: LimitedBot, renderer: Renderer
) -> None:
    await show(renderer, ptb, Send("Ready?", (Button("Start", "s"),)))
    await show(renderer, ptb, Send("Get comfortable", STOP))
    ready, pacer = api.messages(ANA)
    assert ready.buttons == [] and pacer.labels == ["Stop"]
    await show(renderer, ptb, Edit("in 1", STOP))
    await show(renderer, ptb, Edit("out 1", STOP))
    await show(renderer, ptb, Edit("out 1", STOP))  # nothing to change: no call at all
    assert [r.text for r in pacer.edits] == ["Get comfortable", "in 1"]
    assert pacer.text == "out 1" and pacer.labels == ["Stop"]
    assert len(api.calls_to("editMessageText")) == 2
    await show(renderer, ptb, Edit("done"), Send("How do you feel?", (Button("Calmer", "c"),)))
    assert pacer.text == "done" and pacer.buttons == []
    assert len(api.messages(ANA)) == 3


async def test_an_edit_without_a_known_message_is_sent_anew(
    api: FakeBotAPI, ptb: LimitedBot, renderer: Renderer
) -> None:
    await show(renderer, ptb, Edit("in 1", STOP))  # e.g. after a restart
    await show(renderer, ptb, Edit("out 1", STOP))
    (message,) = api.messages(ANA)
    assert message.text == "out 1"
    await ptb.delete_message(ANA, message.message_id)  # the user deleted it
    await show(renderer, ptb, Edit("in 2", STOP))
    assert [m.text for m in api.messages(ANA)] == ["in 2"]


async def test_the_end_of_a_conversation_leaves_its_last_keyboard(
    api: FakeBotAPI, ptb: LimitedBot, renderer: Renderer
) -> None:
    menu = (Button("Breathe with me", "s:breathe"),)
    await show(renderer, ptb, Send("What would help?", menu), End())
    await show(renderer, ptb, Send("I'm here."))
    assert [m.labels for m in api.messages(ANA)] == [["Breathe with me"], []]


async def test_after_a_restart_the_pressed_message_is_the_live_one(
    api: FakeBotAPI, ptb: LimitedBot, renderer: Renderer
) -> None:
    await show(renderer, ptb, Send("Get comfortable", STOP))
    (pacer,) = api.messages(ANA)
    restarted = Renderer()
    restarted.views.learn_pressed(ANA, pacer.message_id)
    await show(restarted, ptb, Edit("Stopped.", (Button("Menu", "s:menu"),)))
    await show(restarted, ptb, Send("How do you feel?"))
    assert pacer.text == "Stopped." and pacer.buttons == []


async def test_pictures_and_documents(api: FakeBotAPI, ptb: LimitedBot, renderer: Renderer) -> None:
    png = tiny_png()
    long_caption = "c" * (MAX_CAPTION + 10)
    await show(
        renderer,
        ptb,
        Picture(png, "Your week"),
        Document("export.json", b"{}", "Everything stored"),
        Picture(png, long_caption),
    )
    photo, document, bare, caption = api.messages(ANA)
    assert (photo.kind, photo.text, photo.file_bytes) == ("photo", "Your week", png)
    assert (document.kind, document.filename, document.file_bytes) == (
        "document",
        "export.json",
        b"{}",
    )
    assert bare.kind == "photo" and bare.text is None and caption.text == long_caption
