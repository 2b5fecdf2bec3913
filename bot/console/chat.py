"""The coach in a terminal: one line in per turn, messages out, buttons as numbers.

The same engine and store as on Telegram. A button prints as ``[1] OK, I've stopped``;
typing ``1`` or the label presses it. ``/commands`` work as on Telegram. Timers really
wait (a background runner fires them) unless ``fast`` makes them fire at once, which
keeps scripted sessions and tests quick and deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from bot.coach.actions import (
    Button,
    Document,
    Edit,
    Forgotten,
    Picture,
    Reply,
    Send,
    StartTimer,
)
from bot.coach.engine import Coach
from bot.coach.events import Command, Event, Press, Resume, Text, TimerFired, as_command
from bot.coach.timers import TimerRunner
from bot.schedule.loop import Lane, ScheduleLoop

USER_PREFIX = "cli:"
MAX_FAST_TIMERS = 500  # a guard against a dialogue whose timers never stop


class ConsoleChat:
    """One terminal user talking to the coach."""

    def __init__(self, coach: Coach, user: str, out: TextIO, *, fast: bool, files: Path) -> None:
        self.coach = coach
        self.user_id = USER_PREFIX + user
        self.out = out
        self.fast = fast
        self.files = files
        self._buttons: tuple[Button, ...] = ()
        self._printing = asyncio.Lock()

    async def run(self, lines: AsyncIterator[str]) -> None:
        """Greet (or resume), then answer each line until the input ends. The user's
        check-ins and reminders come due meanwhile, as they would on Telegram."""
        runner = TimerRunner(self.coach, self._deliver_timer, self.user_id)
        schedule = ScheduleLoop(self.coach, self._deliver_scheduled, self.user_id)
        background = [asyncio.create_task(schedule.run())]
        if not self.fast:
            background.append(asyncio.create_task(runner.run()))
        try:
            known = await self.coach.store.load(self.user_id) is not None
            await self.send(Resume() if known else Command("start"))
            # The coach has just greeted a newcomer on its own; the /start many type first
            # (as they would on Telegram) would only print the greeting again.
            greeted = not known
            async for line in lines:
                event = self.event_for(line.rstrip("\r\n"))
                if greeted and as_command(event) == Command("start"):
                    greeted = False
                    continue
                greeted = False
                await self.send(event)
                runner.poke()
                schedule.poke()
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def event_for(self, line: str) -> Event:
        """A number presses the matching button shown last; anything else is text."""
        choice = line.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self._buttons):
            return Press(self._buttons[int(choice) - 1].data)
        return Text(line)

    async def send(self, event: Event) -> None:
        reply = await self.coach.handle(self.user_id, event)
        await self.show(reply)
        for _ in range(MAX_FAST_TIMERS):
            timer = next((a for a in reply.actions if isinstance(a, StartTimer)), None)
            if not self.fast or timer is None:
                return
            reply = await self.coach.handle(self.user_id, TimerFired(timer.token))
            await self.show(reply)

    async def _deliver_timer(self, user_id: str, reply: Reply) -> None:
        await self.show(reply)

    async def _deliver_scheduled(self, user_id: str, reply: Reply, *, lane: Lane) -> None:
        await self.show(reply)

    async def show(self, reply: Reply) -> None:
        async with self._printing:
            for action in reply.actions:
                self._show_one(action)
            self.out.flush()

    def _show_one(self, action: object) -> None:
        match action:
            case Send(text=text, buttons=buttons) | Edit(text=text, buttons=buttons):
                self.out.write(text + "\n")
                for number, button in enumerate(buttons, start=1):
                    self.out.write(f"[{number}] {button.text}\n")
                if buttons:
                    self._buttons = buttons
                self.out.write("\n")
            case Picture(png=png, caption=caption):
                self._save_file("chart.png", png, caption)
            case Document(filename=name, content=content, caption=caption):
                self._save_file(name, content, caption)
            case Forgotten():
                self._delete_files()

    def _file(self, name: str) -> Path:
        return self.files / f"{self.user_id.removeprefix(USER_PREFIX)}-{name}"

    def _delete_files(self) -> None:
        """After /forget, the exports and charts saved for this user go too."""
        for path in self.files.glob(self._file("*").name):
            path.unlink(missing_ok=True)

    def _save_file(self, name: str, content: bytes, caption: str) -> None:
        self.files.mkdir(parents=True, exist_ok=True)
        path = self._file(name)
        path.write_bytes(content)
        self.out.write(f"{caption}\n{path.resolve()}\n\n" if caption else f"{path.resolve()}\n\n")


async def stdin_lines() -> AsyncIterator[str]:
    """Lines from standard input, read without blocking the event loop."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line
