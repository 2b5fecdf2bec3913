"""Driving the real bot process through the fake Bot API, as its users would.

- :class:`BotProcess` runs ``python -m bot run`` as an OS process pointed at the fake
  server with ``TELEGRAM_API_BASE_URL`` (timers sped up with ``SECUREBASE_TIME_SCALE``).
- :class:`Person` is one user: writes, taps buttons by their label, and waits to *see* a
  dialogue step, judged against the dialogue files (so the tests follow the writers'
  wording) and against what is stored in the bot's database.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.dialogue.loader import Catalog
from bot.dialogue.schema import ButtonSpec, LocalText, State
from bot.store.sqlite import SQLiteStore
from tests.botapi import FakeBotAPI, SentMessage

TOKEN = "123456789:TEST-secure-base-token-0123456789abcdef"
LOCALE = "en"
START_TIMEOUT = 30.0
POLL_SECONDS = 0.02


_runs = itertools.count(1)


class BotProcess:
    """``python -m bot run`` as a child process; its output goes to a file of its own."""

    def __init__(self, api: FakeBotAPI, workdir: Path, **env: str) -> None:
        self.api = api
        self.workdir = workdir
        self.db = workdir / "coach.db"
        self.log_path = workdir / f"bot-{next(_runs)}.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SECURE"))}
        self.env = {
            **clean,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.url,
            "SECUREBASE_DB": str(self.db),
            "TELEGRAM_CHAT_RATE": "0",
            "SECUREBASE_TIME_SCALE": "0.01",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *args: str, ready: bool = True) -> None:
        """Start the bot; with ``ready``, wait until it polls (or set its webhook)."""
        polls = self._readiness()
        with self.log_path.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", *args,
                env=self.env, cwd=self.workdir, stdout=log, stderr=log,
            )  # fmt: skip
        if ready:
            await self.api.wait_until(
                lambda: self._readiness() > polls or self.exited,
                timeout=START_TIMEOUT,
                what="the bot to start polling",
            )
            assert not self.exited, f"the bot exited at start:\n{self.log}"

    async def run_to_exit(self, *args: str, timeout: float = 10) -> int:  # noqa: ASYNC109
        """Start the bot and wait for it to exit by itself; its exit code."""
        await self.start(*args, ready=False)
        return await self.wait(timeout)

    def _readiness(self) -> int:
        return len(self.api.calls_to("getUpdates")) + len(self.api.calls_to("setWebhook"))

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    async def wait(self, timeout: float = 10) -> int:  # noqa: ASYNC109
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:  # noqa: ASYNC109
        """Send ``sig`` and wait for the exit code."""
        assert self.process is not None
        self.process.send_signal(sig)
        return await self.wait(timeout)

    async def kill(self) -> None:
        """SIGKILL: no shutdown at all, as in a crash or an OOM kill."""
        await self.stop(signal.SIGKILL)

    @property
    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


# --- what is stored ------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """One user's rows in the bot's database, read while the bot runs (WAL allows it)."""

    frames: list[dict[str, Any]]
    profile: dict[str, Any]
    active: bool
    records: list[tuple[str, dict[str, Any]]]

    @property
    def step(self) -> tuple[str, str] | None:
        """``(dialogue, state)`` the user rests at, or None when idle."""
        return (self.frames[-1]["dialogue"], self.frames[-1]["state"]) if self.frames else None

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.records]


async def stored(db: Path, user_id: int) -> Stored | None:
    """The stored rows of the Telegram user ``user_id``, or None if never seen."""
    key = f"tg:{user_id}"
    async with await SQLiteStore.open(db) as store:
        row = await store.load(key)
        records = await store.records(key)
    if row is None:
        return None
    frames = list(row.session.get("frames", []))
    return Stored(frames, row.profile, row.active, [(r.kind, r.data) for r in records])


# --- the dialogues, as a user sees them ------------------------------------------------------


def pattern(texts: list[LocalText]) -> re.Pattern[str]:
    """Matches any variation of ``texts`` with its ``{placeholders}`` filled in."""
    options = []
    for text in texts:
        pieces = re.split(r"\{[a-z_][a-z0-9_]*\}", text[LOCALE].strip())
        options.append(".+?".join(re.escape(piece) for piece in pieces))
    return re.compile("|".join(f"(?:{o})" for o in options), re.DOTALL)


class Person:
    """One Telegram user of the bot, acting and looking as a person would."""

    def __init__(self, api: FakeBotAPI, user_id: int, catalog: Catalog, db: Path) -> None:
        self.api = api
        self.id = user_id
        self.catalog = catalog
        self.db = db
        self.since = 0
        """Messages the bot sends after this message id answer the last action."""

    # actions

    async def write(self, text: str) -> None:
        self.since = self._newest_id()
        await self.api.send_text(self.id, text)

    async def tap(self, label: str) -> SentMessage:
        """Press the button labelled ``label`` on the newest new message showing it."""

        def showing() -> list[SentMessage]:
            return [m for m in self.new() if label in m.labels]

        await self.api.wait_until(lambda: bool(showing()), timeout=5, what=f"a {label!r} button")
        message = showing()[-1]
        self.since = self._newest_id()
        await self.api.press(self.id, message.message_id, message.data_for(label))
        return message

    # looking

    def messages(self) -> list[SentMessage]:
        return self.api.messages(self.id)

    def texts(self) -> list[str]:
        return [m.text or "" for m in self.messages()]

    def state(self, dialogue: str, name: str) -> State:
        return self.catalog.dialogues[dialogue].states[name]

    def labels(self, dialogue: str, name: str) -> list[str]:
        return [b.text[LOCALE] for b in self.state(dialogue, name).buttons]

    async def sees(self, dialogue: str, state: str, *, timeout: float = 5) -> SentMessage:  # noqa: ASYNC109
        """Wait for a new message saying one of ``state``'s texts; return it."""
        return await self._sees(pattern(self.state(dialogue, state).say), timeout)

    async def sees_string(self, key: str, *, timeout: float = 5) -> SentMessage:  # noqa: ASYNC109
        """Wait for a new message saying one of the engine's ``common.yaml`` strings."""
        return await self._sees(pattern(self.catalog.string(key)), timeout)

    async def _sees(self, wanted: re.Pattern[str], timeout: float) -> SentMessage:  # noqa: ASYNC109
        found: list[SentMessage] = []

        def arrived() -> bool:
            found[:] = [m for m in self.new() if wanted.fullmatch(m.text or "")]
            return bool(found)

        try:
            await self.api.wait_until(arrived, timeout=timeout, what=wanted.pattern[:60])
        except TimeoutError:
            raise AssertionError(f"never saw {wanted.pattern[:80]!r}; saw {self.texts()}") from None
        return found[0]

    async def stored(self) -> Stored | None:
        return await stored(self.db, self.id)

    async def rests_at(self, dialogue: str, state: str, *, timeout: float = 5) -> Stored:  # noqa: ASYNC109
        """Wait until the database says the user rests at ``dialogue.state``.

        The database belongs to the bot's process, so this polls it; the server-side waits
        (``wait_until``) cover everything the bot sends.
        """
        async with asyncio.timeout(timeout):
            while True:  # the file is another process's: nothing to wait on but time
                row = await self.stored()
                if row is not None and row.step == (dialogue, state):
                    return row
                await asyncio.sleep(POLL_SECONDS)

    def new(self) -> list[SentMessage]:
        """The bot's messages since the last action."""
        return [m for m in self.messages() if m.message_id > self.since]

    def _newest_id(self) -> int:
        sent = self.api.messages(self.id, include_deleted=True)
        return max((m.message_id for m in sent), default=0)

    # whole conversations

    async def onboard(self) -> SentMessage:
        """/start, then through onboarding as an adult who consents, is not afraid of
        their partner, and wants no daily check-in."""
        await self.write("/start")
        return await self.walk("onboarding", answer="", prefer=_no_fear_no_checkin)

    async def walk(
        self,
        dialogue: str,
        *,
        answer: str,
        prefer: Callable[[ButtonSpec], bool] = lambda button: False,
        max_steps: int = 60,
    ) -> SentMessage:
        """Go through ``dialogue`` to its end, reading the screen; return the last message.

        At each step it waits for the step's text with exactly that step's buttons, checks
        that the button pressed before lost its keyboard, then types ``answer`` where the
        step takes words, else presses the first button ``prefer`` likes, else the first
        that moves on within the dialogue.
        """
        pressed: SentMessage | None = None
        for _ in range(max_steps):
            message, name = await self._settled(dialogue)
            if pressed is not None:
                kept = self.api.message(self.id, pressed.message_id).buttons
                assert not kept, f"the pressed message kept its keyboard: {kept}"
            state = self.state(dialogue, name)
            if state.final:
                return message
            if state.input is not None:
                pressed = None
                await self.write(answer)
            else:
                moving = [b for b in state.buttons if b.go]
                button = next((b for b in moving if prefer(b)), moving[0])
                pressed = await self.tap(button.text[LOCALE])
        raise AssertionError(f"{dialogue} did not end within {max_steps} steps")

    async def _settled(self, dialogue: str) -> tuple[SentMessage, str]:
        """The newest message once it shows a step of ``dialogue`` that waits for the user
        (its text and exactly its buttons), or one that ends it; and that step's name."""
        states = self.catalog.dialogues[dialogue].states
        found: list[tuple[SentMessage, str]] = []

        def shows(message: SentMessage, name: str) -> bool:
            state = states[name]
            if not (state.final or state.waits) or not pattern(state.say).fullmatch(
                message.text or ""
            ):
                return False
            return state.final or message.labels == self.labels(dialogue, name)

        def settled() -> bool:
            new = self.new()
            found[:] = [(new[-1], name) for name in states if new and shows(new[-1], name)]
            return bool(found)

        await self.api.wait_until(settled, timeout=5, what=f"a step of {dialogue}")
        return found[0]


def _no_fear_no_checkin(button: ButtonSpec) -> bool:
    return button.set.get("afraid_of_partner") is False or button.go == "done"
