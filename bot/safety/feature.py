"""The crisis screen and helplines, plugged into the engine.

Every free-text message passes :func:`screen_text` before any dialogue sees it, in every
state of every dialogue and before consent: on a disclosure the user gets caring words,
helplines for their country, a grounding exercise that does not cost them their place,
and a way back. ``/help_now`` shows the helplines from anywhere, so one "you
misunderstood" never hides them. A disclosure of fear or violence from a partner turns
on partner-safe mode, said once, without blame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.coach.actions import Button, Send
from bot.coach.extensions import Extensions
from bot.coach.turn import Turn
from bot.safety.resources import ResourcesFile, render, resources_for
from bot.safety.screen import Detection, Screen
from bot.store.base import Record

PREFIX = "h"
PARTNER_CATEGORIES = frozenset({"partner_violence_fear", "sexual_coercion"})
GROUNDING = "grounding"


@lru_cache(maxsize=4)
def _compiled(path: Path, modified: float) -> Screen:
    """Compiling the patterns takes about a second: once per file version, not per app."""
    del modified  # part of the cache key only
    return Screen.from_yaml(path)


@lru_cache(maxsize=4)
def _resources(path: Path, modified: float) -> ResourcesFile:
    del modified
    return ResourcesFile.from_yaml(path)


@dataclass(frozen=True, slots=True)
class Safety:
    """The loaded screen and helplines, and the turn hooks that use them."""

    screen: Screen
    resources: ResourcesFile

    @classmethod
    def load(cls, dialogues: Path) -> Safety:
        screen_file, resources_file = dialogues / "safety.yaml", dialogues / "resources.yaml"
        return cls(
            _compiled(screen_file, screen_file.stat().st_mtime),
            _resources(resources_file, resources_file.stat().st_mtime),
        )

    def extensions(self) -> Extensions:
        return Extensions(
            text_screens=(self.screen_text,),
            commands={"help_now": self.help_now},
            presses={PREFIX: self.press},
        )

    # --- hooks ---------------------------------------------------------------------------

    def screen_text(self, turn: Turn, text: str) -> bool:
        detection = self.screen.classify(text, turn.row.locale)
        if detection is None:
            return False
        turn.records.append(Record("safety", {"category": detection.category}, turn.now))
        self.answer(turn, detection)
        return True

    def help_now(self, turn: Turn, args: str) -> None:
        del args
        self.send_helplines(turn, None)

    def press(self, turn: Turn, data: str) -> None:
        action, _, value = data.removeprefix(f"{PREFIX}:").partition(":")
        if action == "ground":
            turn.interrupt(GROUNDING)
        elif action == "back":
            self.way_back(turn)
        elif action == "misread":
            turn.say_string("crisis_misread")
            self.way_back(turn)
        elif action == "country":
            self.offer_countries(turn)
        elif action == "in" and value in self.resources.countries:
            turn.store("country", value)
            self.send_helplines(turn, None)
        else:
            turn.say_string("broken_button")

    # --- what the user sees ----------------------------------------------------------------

    def answer(self, turn: Turn, detection: Detection) -> None:
        caring = self.screen.message(detection.category, turn.row.locale)
        helplines = self.helplines(turn, detection.categories)
        turn.actions.append(Send(f"{caring}\n\n{helplines}"))
        if PARTNER_CATEGORIES & set(detection.categories):
            self.turn_on_partner_safe(turn)
        buttons = [self.button(turn, "crisis_ground_button", "ground")]
        if turn.current_state() is not None:
            buttons.append(self.button(turn, "crisis_back_button", "back"))
        buttons.append(self.button(turn, "crisis_misread_button", "misread"))
        turn.actions.append(Send(self.screen.way_back(turn.row.locale), tuple(buttons)))

    def send_helplines(self, turn: Turn, categories: tuple[str, ...] | None) -> None:
        buttons = (
            self.button(turn, "crisis_ground_button", "ground"),
            self.button(turn, "country_button", "country"),
        )
        turn.actions.append(Send(self.helplines(turn, categories), buttons))

    def helplines(self, turn: Turn, categories: tuple[str, ...] | None) -> str:
        country = turn.row.profile.get("country")
        found = resources_for(
            country if isinstance(country, str) else None, turn.row.locale, self.resources
        )
        return render(found, categories, turn.row.locale, self.resources)

    def offer_countries(self, turn: Turn) -> None:
        buttons = tuple(
            Button(turn.local(country.name), f"{PREFIX}:in:{code}")
            for code, country in self.resources.countries.items()
        )
        turn.say_string("country_prompt", buttons=buttons)

    def way_back(self, turn: Turn) -> None:
        if turn.current_state() is None:
            turn.say_string("idle")
        else:
            turn.reshow(with_text=True)

    def turn_on_partner_safe(self, turn: Turn) -> None:
        """From a disclosure on, no step asks them to approach their partner; a step of that
        kind they were resting at is left, since going back to it is no longer offered."""
        if turn.row.profile.get("partner_safe") is True:
            return
        turn.store("partner_safe", True)
        turn.store("afraid_of_partner", True)
        turn.say_string("partner_safe_on")
        frame, state = turn.session.top, turn.current_state()
        if frame is not None and state is not None and state.partner_facing:
            turn.session.frames.clear()
            turn.clear_timer()

    @staticmethod
    def button(turn: Turn, label: str, action: str) -> Button:
        return Button(turn.local(turn.catalogue.string(label)[0]), f"{PREFIX}:{action}")


def safety(dialogues: Path) -> Extensions:
    """The safety feature's hooks, for :func:`bot.app.features`."""
    return Safety.load(dialogues).extensions()
