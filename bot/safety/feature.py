"""The crisis screen and helplines, plugged into the engine.

Every free-text message passes :func:`screen_text` before any dialogue sees it, in every
state of every dialogue and before consent: on a disclosure the user gets caring words,
helplines for their country, a grounding exercise that does not cost them their place,
and a way back. When the screen is unsure (the learned stage in its middle band, or the
rules firing on what the learned stage finds harmless), the person is first asked whether
they are safe: "No" or "Not sure" brings the answer, "Yes" goes back to the very step they
were at. ``/help_now`` shows the helplines from anywhere (the international ones at once,
then asking the country when it is not known), so one "you misunderstood" never hides
them. A disclosure of fear or violence from a partner turns on partner-safe mode, said
once, without blame. The person's own urge or act of violence does not (that mode is for
people who are afraid): it wins over the victim's answer when both fire, and it ends
whatever practice was running, since any of them could lead back to the partner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.coach.actions import Button, Send
from bot.coach.extensions import Extensions
from bot.coach.turn import Turn
from bot.safety.resources import ResourcesFile, find_country, render, resources_for
from bot.safety.tiers import CrisisScreen, Verdict
from bot.store.base import Record

PREFIX = "h"
PARTNER_CATEGORIES = frozenset({"partner_violence_fear", "sexual_coercion"})
OWN_HARM = "harm_to_partner"
GROUNDING = "grounding"
HELPLINES = "helplines"
"""The dialogue that asks for the country (typed or pressed) before showing helplines."""
ANSWERS = ("yes", "no", "unsure")
"""The answers to "Are you safe right now?"; only "yes" goes back without the answer."""


@lru_cache(maxsize=4)
def _compiled(path: Path, modified: float) -> CrisisScreen:
    """Compiling the rules and loading the learned stage takes about a second: once per
    version of ``safety.yaml`` in a process, not per app. The model itself is found by the
    phrase file's bytes (see :func:`~bot.safety.learned.load_or_train`)."""
    del modified  # part of the cache key only
    return CrisisScreen.load(path)


@lru_cache(maxsize=4)
def _resources(path: Path, modified: float) -> ResourcesFile:
    del modified
    return ResourcesFile.from_yaml(path)


@dataclass(frozen=True, slots=True)
class Safety:
    """The loaded screen and helplines, and the turn hooks that use them."""

    screen: CrisisScreen
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
            effects={
                "offer_countries": self.offer_countries_effect,
                "find_country": self.find_country,
                "show_helplines": self.show_helplines,
            },
        )

    # --- hooks ---------------------------------------------------------------------------

    def screen_text(self, turn: Turn, text: str) -> bool:
        asked, turn.session.asked = turn.session.asked, None
        if asked in self.screen.rules.categories:
            answer = self.screen.rules.typed_answer(text, turn.row.locale)
            if answer is not None:
                self.safe_answer(turn, answer, asked)
                return True
        verdict = self.screen.assess(text, turn.row.locale)
        if verdict is None:
            return False
        if verdict.ask:
            turn.records.append(Record("safety_question", {"category": verdict.category}, turn.now))
            self.ask(turn, verdict.category)
        else:
            self.answer(turn, verdict)
        return True

    def help_now(self, turn: Turn, args: str) -> None:
        """Helplines at once when the country is known; otherwise ask for it first, on top
        of whatever was running, so that the person keeps their place."""
        del args
        frame = turn.session.top
        asking = frame is not None and frame.dialogue == HELPLINES  # never ask twice over
        if asking or isinstance(turn.row.profile.get("country"), str):
            self.send_helplines(turn, None)
        else:
            turn.interrupt(HELPLINES)

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
            self.choose_country(turn, value)
        elif action in ANSWERS and value in self.screen.rules.categories:
            self.safe_answer(turn, action, value)
        else:
            turn.say_string("broken_button")

    # --- what the user sees ----------------------------------------------------------------

    def ask(self, turn: Turn, category: str) -> None:
        """Ask "Are you safe right now?" with Yes / No / Not sure. The category rides along
        in the buttons, and the session remembers it so that a typed answer counts too."""
        question = self.screen.rules.question(category, turn.row.locale)
        turn.session.asked = category  # a typed "no" or "not sure" is an answer too
        buttons = tuple(
            self.button(turn, f"safe_{answer}_button", f"{answer}:{category}") for answer in ANSWERS
        )
        turn.actions.append(Send(question, buttons))

    def safe_answer(self, turn: Turn, answer: str, category: str) -> None:
        turn.session.asked = None
        turn.records.append(
            Record("safety_answer", {"category": category, "answer": answer}, turn.now)
        )
        if answer == "yes":
            turn.say_string("safe_yes")
            self.way_back(turn)
        else:
            self.answer(turn, Verdict(category, (category,), "learned"))

    def answer(self, turn: Turn, verdict: Verdict) -> None:
        turn.records.append(Record("safety", {"category": verdict.category}, turn.now))
        caring = self.screen.rules.message(verdict.category, turn.row.locale)
        helplines = self.helplines(turn, verdict.categories)
        turn.actions.append(Send(f"{caring}\n\n{helplines}"))
        if OWN_HARM in verdict.categories:
            turn.session.frames.clear()  # no way back into a practice: distance comes first
            turn.clear_timer()
        elif PARTNER_CATEGORIES & set(verdict.categories):
            self.turn_on_partner_safe(turn)
        buttons = [self.button(turn, "crisis_ground_button", "ground")]
        if turn.current_state() is not None:
            buttons.append(self.button(turn, "crisis_back_button", "back"))
        buttons.append(self.button(turn, "crisis_misread_button", "misread"))
        turn.actions.append(Send(self.screen.rules.way_back(turn.row.locale), tuple(buttons)))

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

    def choose_country(self, turn: Turn, code: str) -> None:
        """A country button: keep it, and show its helplines (finishing the country question
        if it was asked by the helplines dialogue)."""
        turn.store("country", code)
        frame = turn.session.top
        if frame is not None and frame.dialogue == HELPLINES and frame.state == "ask":
            turn.go("typed")  # as if typed: that step sees the country is known
        else:
            self.send_helplines(turn, None)

    # --- effects of dialogues/helplines.yaml ----------------------------------------------

    def offer_countries_effect(self, turn: Turn, args: Mapping[str, str]) -> None:
        """Numbers that work without a country first (nobody waits on a question for
        help), then the question that makes them local."""
        del args
        turn.actions.append(Send(self.helplines(turn, None)))
        self.offer_countries(turn)

    def find_country(self, turn: Turn, args: Mapping[str, str]) -> None:
        """A typed country ("UK", "Deutschland", "usa") kept as its code when recognised."""
        code = find_country(args.get("typed", ""), self.resources)
        if code is not None:
            turn.store("country", code)

    def show_helplines(self, turn: Turn, args: Mapping[str, str]) -> None:
        del args
        self.send_helplines(turn, None)

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
        self.leave_partner_facing_step(turn)

    @staticmethod
    def leave_partner_facing_step(turn: Turn) -> None:
        """A step that would send them back to their partner is not theirs to return to."""
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
