"""Runs transcript scenarios written as data: what the user does → what the bot says.

A scenario file (``*.yaml`` beside this module) is a list of scenarios::

    - name: breathing to the end
      given: onboarded            # or partner_safe: onboarding answered "afraid: yes"
      steps:
        - user: /breathe          # or press: <label>, press_old: <label>, timers: true,
          says: [in for 4]        #    sticker: true, restart: true
          offers: [Start, Other ways to breathe, Not now]
        - press: Start
          timers: true            # fire every timer until the dialogue stops waiting
          stored: {breathing: {felt: better}}
          profile: {partner_safe: false}

``says`` are fragments that must appear, in order, in what the bot sent; ``offers`` is
the exact list of buttons under the last message that had buttons; ``stored`` checks the
newest record of a kind; ``profile`` checks the user's stored profile.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.app import App, open_app
from bot.clock import ManualClock
from bot.coach.actions import Edit, Reply, Send
from bot.coach.events import Event, Press, Text, TimerFired, Unsupported
from bot.config import DEFAULT_DIALOGUES, Config

USER = "cli:transcript"
MAX_TIMERS = 400
GIVEN: dict[str, list[dict[str, Any]]] = {
    "onboarded": [
        {"user": "/start"},
        {"press": "Tell me more"},
        {"press": "Okay"},
        {"press": "Yes, I'm 18+ and agree"},
        {"press": "No"},
        {"press": "Got it"},
    ],
    "partner_safe": [
        {"user": "/start"},
        {"press": "Tell me more"},
        {"press": "Okay"},
        {"press": "Yes, I'm 18+ and agree"},
        {"press": "Yes"},
        {"press": "Okay"},
        {"press": "Got it"},
    ],
}


def scenarios(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every scenario of every file, as (test id, scenario)."""
    found = []
    for file in sorted(folder.glob("*.yaml")):
        for scenario in yaml.safe_load(file.read_text(encoding="utf-8")):
            found.append((f"{file.stem}: {scenario['name']}", scenario))
    return found


@dataclass
class Transcript:
    """One user's conversation with a real coach on a real SQLite file."""

    db: Path
    clock: ManualClock = field(default_factory=ManualClock)
    app: App | None = None
    offered: dict[str, str] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    async def open(self) -> None:
        config = Config(db_path=self.db, dialogues=DEFAULT_DIALOGUES)
        self.app = await open_app(config, clock=self.clock, rng=random.Random(11))

    async def close(self) -> None:
        if self.app is not None:
            await self.app.close()

    async def run(self, scenario: dict[str, Any]) -> None:
        for step in GIVEN.get(scenario.get("given", ""), []):
            await self.step(step)
        for number, step in enumerate(scenario["steps"], start=1):
            try:
                await self.step(step)
            except AssertionError as error:
                raise AssertionError(f"step {number} {step}: {error}\n" + self.tail()) from None

    async def step(self, step: dict[str, Any]) -> None:
        texts: list[str] = []
        if step.get("restart"):
            await self.close()
            await self.open()
        for event in self.events(step):
            texts += await self.send(event)
        if step.get("timers"):
            texts += await self.fire_timers()
        await self.check(step, texts)

    def events(self, step: dict[str, Any]) -> list[Event]:
        if "user" in step:
            return [Text(str(step["user"]))]
        if "press" in step:
            label = str(step["press"])
            assert label in self.offered, f"no button {label!r}; offered {list(self.offered)}"
            return [Press(self.offered[label])]
        if "press_old" in step:
            return [Press(self.seen[str(step["press_old"])])]
        if step.get("sticker"):
            return [Unsupported("sticker")]
        return []

    async def send(self, event: Event) -> list[str]:
        assert self.app is not None
        self.pending = await self.app.coach.handle(USER, event)
        return self.record(self.pending)

    def record(self, reply: Reply) -> list[str]:
        for action in reply.actions:
            if isinstance(action, Send | Edit):
                self.log.append(action.text)
                if action.buttons:
                    self.offered = {b.text: b.data for b in action.buttons}
                    self.seen.update(self.offered)
        return reply.texts()

    async def fire_timers(self) -> list[str]:
        """Move the clock to each pending timer in the database and fire it, as the
        real timer runner does, until nothing is pending."""
        assert self.app is not None
        texts: list[str] = []
        for _ in range(MAX_TIMERS):
            due = await self.app.store.next_timer_due(USER)
            if due is None:
                return texts
            await self.clock.set(max(due, self.clock.now()))
            for timer in await self.app.store.due_timers(self.clock.now(), USER):
                texts += await self.send(TimerFired(timer.token))
        raise AssertionError("timers never stopped")

    async def check(self, step: dict[str, Any], texts: list[str]) -> None:
        said = "\n".join(texts)
        position = 0
        for fragment in step.get("says", []):
            found = said.find(fragment, position)
            assert found >= 0, f"expected {fragment!r} in what the bot said:\n{said}"
            position = found + len(fragment)
        if "offers" in step:
            assert list(self.offered) == step["offers"], f"offered {list(self.offered)}"
        for kind, expected in step.get("stored", {}).items():
            await self.check_stored(kind, expected)
        if "profile" in step:
            row = await self.loaded()
            for name, value in step["profile"].items():
                assert row.profile.get(name) == value, f"profile {name}={row.profile.get(name)}"

    async def check_stored(self, kind: str, expected: dict[str, Any]) -> None:
        assert self.app is not None
        records = await self.app.store.records(USER, kind)
        assert records, f"no {kind} record stored"
        newest = records[-1].data
        for name, value in expected.items():
            assert newest.get(name) == value, f"{kind}.{name} = {newest.get(name)!r}"

    async def loaded(self) -> Any:
        assert self.app is not None
        row = await self.app.store.load(USER)
        assert row is not None, "nothing stored for the user"
        return row

    def tail(self) -> str:
        return "--- last messages ---\n" + "\n".join(self.log[-6:])
