"""One event for one user: the dialogue logic, synchronous and free of I/O.

A :class:`Turn` is made with the user's stored row, handles one event, and leaves behind
the actions to carry out, the records to save and the updated row. The async
:class:`~bot.coach.engine.Coach` loads and commits around it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from bot.coach import callback
from bot.coach.actions import Action, Button, Edit, End, Send, StartTimer
from bot.coach.events import (
    Command,
    Event,
    Press,
    Resume,
    Scheduled,
    Text,
    TimerFired,
    Unsupported,
    as_command,
)
from bot.coach.extensions import Extensions
from bot.coach.session import Frame, Session
from bot.coach.text import clean, fold, render
from bot.coach.triggers import TriggerPhrases
from bot.dialogue.schema import (
    ButtonSpec,
    Condition,
    Dialogue,
    LocalText,
    Scalar,
    State,
    Target,
)
from bot.store.base import Record, UserRow

MAX_AUTOMATIC_STEPS = 200  # a guard against a cycle of states that never wait


class Catalogue(Protocol):
    """What the turn needs from the loaded dialogues."""

    @property
    def dialogues(self) -> Mapping[str, Dialogue]: ...

    def string(self, key: str) -> list[LocalText]: ...

    @property
    def profile_vars(self) -> frozenset[str]: ...

    @property
    def consent_var(self) -> str: ...

    @property
    def locales(self) -> frozenset[str]: ...

    def by_command(self, name: str) -> Dialogue | None: ...


Mover = Callable[[str, str, str], None]


class Turn:
    """Handles one event against one user's state. See the module docstring."""

    def __init__(
        self,
        catalogue: Catalogue,
        row: UserRow,
        now: datetime,
        rng: random.Random,
        move: Mover,
        triggers: TriggerPhrases,
        extensions: Extensions | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.triggers = triggers
        self.row = row
        self.now = now
        self.rng = rng
        self._move = move
        self.ext = extensions or Extensions()
        self.session = Session.from_json(row.session)
        self.actions: list[Action] = []
        self.records: list[Record] = []

    # --- entry point -------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        """Advance the conversation by one event, then write the session back to the row."""
        match event:
            case Text(text=raw):
                self.on_text(clean(raw))
            case Command(name=name, args=args):
                self.on_command(name, args)
            case Press(data=data):
                self.on_press(data)
            case TimerFired(token=token):
                self.on_timer(token)
            case Unsupported():
                self.say_string("unsupported")
                self.reshow(with_text=False)
            case Resume():
                self.on_resume()
            case Scheduled(kind=kind, ref=ref):
                self.ext.scheduled[kind](self, ref)
        self.row.session = self.session.to_json()

    # --- inputs --------------------------------------------------------------------------

    def on_text(self, text: str) -> None:
        command = as_command(Text(text))
        if command is not None:
            self.on_command(command.name, command.args)
            return
        if any(screen(self, text) for screen in self.ext.text_screens):
            return
        state = self.current_state()
        if state is None:
            self.on_idle_text(text)
        elif (button := self.button_named(state, text)) is not None:
            self.press_button(*button)
        elif state.input is not None:
            self.answer(state, text)
        else:
            self.say_string("reprompt_buttons", buttons=self.visible_buttons())

    def on_command(self, name: str, args: str) -> None:
        if name in self.ext.commands:
            self.ext.commands[name](self, args)
        elif name == "stop":
            self.stop()
        elif name == "help":
            self.say_string("help")
        elif (dialogue := self.catalogue.by_command(name)) is not None:
            self.start_dialogue(dialogue.id)
        else:
            self.say_string("unknown_command")

    def on_press(self, data: str) -> None:
        handler = self.ext.presses.get(data.partition(":")[0])
        if handler is not None:
            handler(self, data)
            return
        parsed = callback.parse(data)
        match parsed:
            case callback.GoData(dialogue=dialogue, state=state, index=index):
                self.press_go(dialogue, state, index)
            case callback.StartData(dialogue=dialogue) if dialogue in self.catalogue.dialogues:
                self.start_dialogue(dialogue)
            case callback.OfferData(dialogue=dialogue):
                self.answer_offer(dialogue)
            case _:
                self.say_string("broken_button")
                self.reshow(with_text=False)

    def on_timer(self, token: str) -> None:
        if token != self.row.timer_token:
            return  # a timer of a step the user has already left
        self.clear_timer()
        state = self.current_state()
        if state is not None and state.after is not None:
            self.go(state.after.go)

    def on_resume(self) -> None:
        if self.current_state() is None:
            self.say_string("idle")
            return
        self.say_string("welcome_back")
        self.reshow(with_text=True)

    def on_idle_text(self, text: str) -> None:
        if not text:
            self.say_string("idle")
            return
        offered = self.matching_dialogue(text)
        if offered is None:
            self.say_string("idle")
            return
        self.session.offered = offered.id
        buttons = (
            Button(self.local(self.catalogue.string("offer_yes")[0]), callback.offer(offered.id)),
            Button(self.local(self.catalogue.string("offer_no")[0]), callback.offer(None)),
        )
        self.say_string("offer", buttons=buttons, extra={"title": self.local(offered.title)})

    # --- dialogue moves ------------------------------------------------------------------

    def start_dialogue(self, dialogue_id: str, values: Mapping[str, Scalar] | None = None) -> None:
        """Begin a dialogue afresh, ending whatever was running. ``values`` are set in the
        new dialogue before its first state (a feature starting it with an answer given
        elsewhere, such as a check-in score pressed under a reminder)."""
        dialogue = self.catalogue.dialogues[dialogue_id]
        if dialogue.needs_consent and not self.row.profile.get(self.catalogue.consent_var):
            self.say_string("needs_consent")
            dialogue, values = self._onboarding(), None
        self.clear_timer()
        self.session.offered = None
        self.session.frames = [Frame(dialogue.id, dialogue.start, dict(values or {}))]
        self.enter(dialogue.start)

    def _onboarding(self) -> Dialogue:
        """The dialogue ``/start`` begins: it is where consent is asked."""
        found = self.catalogue.by_command("start")
        if found is None or found.needs_consent:
            raise LookupError("the /start dialogue must exist and not need consent")
        return found

    def interrupt(self, dialogue_id: str) -> None:
        """Run a dialogue on top of the current one (if any), then hand back to the very
        step the user was at. Used for help that must not cost them their place."""
        if self.session.top is None:
            self.start_dialogue(dialogue_id)
            return
        dialogue = self.catalogue.dialogues[dialogue_id]
        self.clear_timer()
        self.session.frames.append(Frame(dialogue.id, dialogue.start, resume=True))
        self.enter(dialogue.start)

    def go(self, state_name: str) -> None:
        """Move the running dialogue to another of its states."""
        frame = self.top()
        self._move(frame.dialogue, frame.state, state_name)
        self.enter(state_name)

    def follow(self, target: Target) -> None:
        if target.start is not None:
            self.start_dialogue(target.start)
        elif target.go is not None:
            self.go(target.go)

    def enter(self, state_name: str) -> None:
        """Run states from ``state_name`` on until one waits, or the stack empties."""
        for _ in range(MAX_AUTOMATIC_STEPS):
            frame = self.top()
            frame.state = state_name
            state = self.dialogue(frame).states[state_name]
            self.clear_timer()
            self.apply_entry(frame, state)
            self.emit_say(frame, state)
            following = self.next_step(frame, state)
            if following is None:
                return
            state_name = following
        raise RuntimeError(f"dialogue '{self.top().dialogue}' never waits after {state_name}")

    def next_step(self, frame: Frame, state: State) -> str | None:
        """Where an automatic state leads, or ``None`` once the turn can rest."""
        if state.call is not None:
            called = self.catalogue.dialogues[state.call.dialogue]
            self.session.frames.append(Frame(called.id, called.start, then=state.call.then))
            return called.start
        if state.branch:
            arm = next(a for a in state.branch if self.arm_open(a.when, a))
            if arm.start is not None:
                self.start_dialogue(arm.start)
                return None
            return arm.go
        if state.next is not None:
            return state.next
        if state.final:
            return self.finish(frame)
        if state.after is not None:
            self.start_timer(state.after.seconds)
        return None

    def finish(self, frame: Frame) -> str | None:
        """End the top dialogue; resume its caller, if any, at the caller's ``then``
        (or, after an interruption, at the step the caller was resting at)."""
        self.session.frames.pop()
        if self.session.frames and frame.resume:
            self.reshow(with_text=True)
            return None
        if self.session.frames and frame.then is not None:
            return frame.then
        self.session.frames.clear()
        self.actions.append(End())
        return None

    def stop(self) -> None:
        if not self.session.frames:
            self.say_string("nothing_to_stop")
            return
        self.session.frames.clear()
        self.clear_timer()
        self.say_string("stopped")
        self.actions.append(End())

    def answer(self, state: State, text: str) -> None:
        spec = state.input
        assert spec is not None
        if not text:
            self.say_string("reprompt_text")
        elif len(text) > spec.max_length:
            self.say_string("too_long", extra={"max_length": spec.max_length})
        else:
            self.store(spec.save_as, text)
            self.go(spec.go)

    def press_go(self, dialogue: str, state_name: str, index: int) -> None:
        frame, state = self.session.top, self.current_state()
        if frame is None or state is None or frame.dialogue != dialogue:
            self.stale()
            return
        visible = dict(self.visible_indexed(state))
        if frame.state != state_name:
            index = self.same_button_here(state_name, index, visible)
        if index not in visible:
            self.stale()
            return
        self.press_button(index, visible[index])

    def same_button_here(
        self, pressed_state: str, index: int, visible: Mapping[int, ButtonSpec]
    ) -> int:
        """A press that raced a step change (Stop while the pacer moved on) still counts
        when the current step offers the same button: same label, same destination."""
        states = self.dialogue(self.top()).states
        pressed = states.get(pressed_state)
        if pressed is None or not 0 <= index < len(pressed.buttons):
            return -1
        wanted = pressed.buttons[index]
        same = (
            i
            for i, b in visible.items()
            if (b.text, b.go, b.start) == (wanted.text, wanted.go, wanted.start)
        )
        return next(same, -1)

    def press_button(self, index: int, button: ButtonSpec) -> None:
        del index  # the position only matters for the callback data
        self.clear_timer()
        for name, value in button.set.items():
            self.store(name, value)
        self.follow(button)

    def answer_offer(self, dialogue: str | None) -> None:
        offered, self.session.offered = self.session.offered, None
        if dialogue is not None and dialogue == offered:
            self.start_dialogue(dialogue)
        elif dialogue is None and offered is not None:
            self.say_string("offer_declined")
        else:
            self.stale()

    def stale(self) -> None:
        self.say_string("stale_button")
        self.reshow(with_text=True)

    # --- state entry ---------------------------------------------------------------------

    def apply_entry(self, frame: Frame, state: State) -> None:
        for name, value in state.set.items():
            self.store(name, value)
        for name, step in state.add.items():
            current = self.values(frame).get(name, 0)
            self.store(name, (current if isinstance(current, int | float) else 0) + step)
        for effect in state.effects:
            values = self.values(frame)
            args = {k: render(str(v), values) for k, v in effect.args.items()}
            self.ext.effects[effect.name](self, args)
        if state.save is not None:
            values = self.values(frame)
            data: dict[str, Scalar] = {"dialogue": frame.dialogue}
            data.update({f: values[f] for f in state.save.fields if f in values})
            self.records.append(Record(state.save.kind, dict(data), self.now))

    def emit_say(self, frame: Frame, state: State) -> None:
        # A called dialogue's ending hands back to its caller: its own "what next"
        # buttons would abandon the caller, so they are not offered.
        returning = state.final and (frame.then is not None or frame.resume)
        buttons = self.visible_buttons() if state.buttons and not returning else ()
        if not state.say:
            if buttons:
                self.say_string("reprompt_buttons", buttons=buttons)
            return
        key = f"{frame.dialogue}.{frame.state}"
        index = self.pick_variation(key, len(state.say))
        text = render(self.local(state.say[index]), self.values(frame))
        self.actions.append(Edit(text, buttons) if state.edit else Send(text, buttons))

    def reshow(self, *, with_text: bool) -> None:
        """Offer the current step again after an interruption (re-prompt, stale button)."""
        frame, state = self.session.top, self.current_state()
        if frame is None or state is None or not state.waits:
            return
        if with_text and state.say:
            index = self.session.seen.get(f"{frame.dialogue}.{frame.state}", 0) % len(state.say)
            text = render(self.local(state.say[index]), self.values(frame))
            self.actions.append(Send(text, self.visible_buttons()))
        elif state.buttons:
            self.say_string("reprompt_buttons", buttons=self.visible_buttons())

    def pick_variation(self, key: str, count: int) -> int:
        """A variation other than the one this user saw last time here."""
        last = self.session.seen.get(key)
        choices = [i for i in range(count) if i != last] or [0]
        index = self.rng.choice(choices)
        self.session.seen[key] = index
        return index

    def start_timer(self, seconds: int | str) -> None:
        frame = self.top()
        value = seconds if isinstance(seconds, int) else self.values(frame).get(seconds, 0)
        delay = max(float(value), 0.0) if isinstance(value, int | float) else 0.0
        self.session.timers += 1
        self.row.timer_token = f"{frame.dialogue}.{frame.state}.{self.session.timers}"
        self.row.timer_due = self.now + timedelta(seconds=delay)
        self.actions.append(StartTimer(self.row.timer_token, delay))

    def clear_timer(self) -> None:
        self.row.timer_token = None
        self.row.timer_due = None

    # --- values, buttons, text -----------------------------------------------------------

    def store(self, name: str, value: Scalar) -> None:
        """Keep a value: in the profile if it is a profile var, else in the dialogue."""
        if name in self.catalogue.profile_vars:
            self.row.profile[name] = value
        else:
            self.top().vars[name] = value

    def values(self, frame: Frame) -> dict[str, Scalar]:
        return {**self.row.profile, **frame.vars}

    def arm_open(self, condition: Condition | None, target: Target) -> bool:
        if target.go is not None and not self.allowed(self.top().dialogue, target.go):
            return False
        return condition is None or self.holds(condition)

    def holds(self, condition: Condition) -> bool:
        values = self.values(self.top())
        value = values.get(condition.var)
        if condition.is_set is not None:
            return (value is not None and value != "") == condition.is_set
        if condition.equals is not None:
            return value == condition.equals
        if condition.not_equals is not None:
            return value != condition.not_equals
        bound = condition.less_than if condition.less_than is not None else condition.at_least
        if isinstance(bound, str) and bound.startswith("$"):
            bound = values.get(bound[1:])  # type: ignore[assignment]
        if not isinstance(value, int | float) or not isinstance(bound, int | float):
            return False
        return value < bound if condition.less_than is not None else value >= bound

    def allowed(self, dialogue_id: str, state_name: str) -> bool:
        """Partner-facing steps are hidden from users in partner-safe mode."""
        if not self.row.profile.get("partner_safe"):
            return True
        return not self.catalogue.dialogues[dialogue_id].states[state_name].partner_facing

    def visible_indexed(self, state: State) -> list[tuple[int, ButtonSpec]]:
        dialogue = self.top().dialogue
        return [
            (i, b)
            for i, b in enumerate(state.buttons)
            if b.go is None or self.allowed(dialogue, b.go)
        ]

    def visible_buttons(self) -> tuple[Button, ...]:
        state, frame = self.current_state(), self.session.top
        if state is None or frame is None:
            return ()
        return tuple(
            Button(self.local(b.text), button_data(frame, i, b))
            for i, b in self.visible_indexed(state)
        )

    def button_named(self, state: State, text: str) -> tuple[int, ButtonSpec] | None:
        """Typing a button's label presses it, in the terminal and on Telegram alike."""
        wanted = fold(text)
        return next(
            ((i, b) for i, b in self.visible_indexed(state) if fold(self.local(b.text)) == wanted),
            None,
        )

    def matching_dialogue(self, text: str) -> Dialogue | None:
        offered = self.triggers.offered_by(text, self.row.locale)
        return None if offered is None else self.catalogue.dialogues[offered]

    def local(self, text: LocalText) -> str:
        """The user's language if the text has it, else the first declared locale."""
        return text.get(self.row.locale) or next(iter(text.values()), "")

    def say_string(
        self,
        key: str,
        *,
        buttons: tuple[Button, ...] = (),
        extra: Mapping[str, Scalar] | None = None,
    ) -> None:
        """Send one of the engine's own messages from ``common.yaml``."""
        variations = self.catalogue.string(key)
        index = self.pick_variation(f"_.{key}", len(variations))
        frame = self.session.top
        values = {**(self.values(frame) if frame else self.row.profile), **(extra or {})}
        self.actions.append(Send(render(self.local(variations[index]), values), buttons))

    # --- lookups -------------------------------------------------------------------------

    def top(self) -> Frame:
        frame = self.session.top
        if frame is None:
            raise LookupError("no dialogue is running")
        return frame

    def dialogue(self, frame: Frame) -> Dialogue:
        return self.catalogue.dialogues[frame.dialogue]

    def current_state(self) -> State | None:
        """The state the user is resting at, or ``None`` when idle (or if the stored
        dialogue or state no longer exists after an update of the dialogue files)."""
        frame = self.session.top
        if frame is None:
            return None
        dialogue = self.catalogue.dialogues.get(frame.dialogue)
        state = dialogue.states.get(frame.state) if dialogue else None
        if state is None:
            self.session.frames.clear()
        return state


def button_data(frame: Frame, index: int, button: ButtonSpec) -> str:
    """Start-buttons stay valid from any old message; the others only at their step."""
    if button.start is not None:
        return callback.start(button.start)
    return callback.go(frame.dialogue, frame.state, index)
