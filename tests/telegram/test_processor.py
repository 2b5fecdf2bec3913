"""One chat's updates in order; different chats at the same time."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.telegram.processor import ChatOrderedProcessor, chat_key


def update(update_id: int, chat_id: int) -> Update:
    message = {
        "message_id": update_id,
        "date": 0,
        "chat": {"id": chat_id, "type": "private"},
        "text": "hi",
    }
    return Update.de_json({"update_id": update_id, "message": message}, None)


async def test_a_chats_updates_run_one_at_a_time_in_order_other_chats_alongside() -> None:
    processor = ChatOrderedProcessor()
    log: list[str] = []
    release = asyncio.Event()

    other_done = asyncio.Event()

    async def handle(name: str, *, hold: bool = False) -> None:
        log.append(f"start {name}")
        if hold:
            await release.wait()
        await asyncio.sleep(0)
        log.append(f"end {name}")
        if name == "b1":
            other_done.set()

    async with processor:
        tasks = [
            asyncio.create_task(processor.process_update(update(1, 7), handle("a1", hold=True))),
            asyncio.create_task(processor.process_update(update(2, 7), handle("a2"))),
            asyncio.create_task(processor.process_update(update(3, 8), handle("b1"))),
            asyncio.create_task(processor.process_update(update(4, 7), handle("a3"))),
        ]
        await other_done.wait()  # the other chat finishes while a1 still holds chat 7
        assert log == ["start a1", "start b1", "end b1"]
        release.set()
        await asyncio.gather(*tasks)
    assert [line for line in log if " a" in line] == [
        "start a1", "end a1", "start a2", "end a2", "start a3", "end a3",
    ]  # fmt: skip
    assert len(processor.locks) == 0  # nothing kept once the chats are idle


def test_what_orders_an_update() -> None:
    assert chat_key(update(1, 7)) == "chat:7"
    assert chat_key(Update(5)) is None and chat_key(object()) is None
