"""The shape of ``dialogues/*.yaml``, checked with pydantic.

A dialogue is a set of named states. Entering a state runs, in this order: ``set`` and
``add`` (store values), ``save`` (write a record for the user's history), ``say`` (one
message, picked among variations), then it either moves on by itself (``call``, ``branch``,
``next``) or waits (``buttons``, ``input``, ``after``), or ends the dialogue (``final``).

Text is always a locale map (``{en: "..."}``) so that translations slot in beside English.
``{name}`` in a text is replaced by a stored value; nothing else is interpreted.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Scalar = str | int | float | bool
LocalText = dict[str, str]
NAME = r"^[a-z][a-z0-9_]*$"
Name = Annotated[str, Field(pattern=NAME)]
TEMPLATE_VAR = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a dialogue must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(Strict):
    """Where something leads: a state of this dialogue (``go``) or another dialogue
    (``start``, which ends this one). Exactly one of the two."""

    go: Name | None = None
    start: Name | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Target:
        if (self.go is None) == (self.start is None):
            raise ValueError("give exactly one of 'go' (a state) or 'start' (a dialogue)")
        return self


class ButtonSpec(Target):
    """A button under a message. ``set`` stores values when it is pressed."""

    text: LocalText
    set: dict[Name, Scalar] = Field(default_factory=dict)


class InputSpec(Strict):
    """Wait for free text, store it (trimmed, at most ``max_length`` characters) as
    ``save_as``, then go on."""

    save_as: Name
    go: Name
    max_length: int = Field(default=500, ge=1, le=4000)


class AfterSpec(Strict):
    """Move on by itself after a number of seconds, or after the number stored in a
    variable (``seconds: inhale``)."""

    seconds: int | Name
    go: Name

    @field_validator("seconds")
    @classmethod
    def _positive(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 0:
            raise ValueError("seconds cannot be negative")
        return value


class Condition(Strict):
    """A test on a stored value. Comparison values that are strings starting with ``$``
    name another variable (``less_than: $rounds``)."""

    var: Name
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    less_than: int | str | None = None
    at_least: int | str | None = None
    is_set: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [self.equals, self.not_equals, self.less_than, self.at_least, self.is_set]
        if sum(test is not None for test in tests) != 1:
            raise ValueError(
                "a condition needs exactly one of equals, not_equals, less_than, at_least, is_set"
            )
        return self


class BranchSpec(Target):
    """One arm of a branch: taken when ``if`` holds (or always, when there is no ``if``)."""

    when: Condition | None = Field(default=None, alias="if")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CallSpec(Strict):
    """Run another dialogue, then come back to ``then`` when it ends."""

    dialogue: Name
    then: Name


class SaveSpec(Strict):
    """Write a record of ``kind`` with the named values into the user's history."""

    kind: Name
    fields: list[Name]


class EffectSpec(Strict):
    """A named piece of code the engine runs on entering a state (``set_timezone``,
    ``subscribe``…), with arguments that may use ``{name}`` placeholders. Effects are
    registered by the packages that own them; unknown names stop the coach at start-up."""

    name: Name
    args: dict[Name, Scalar] = Field(default_factory=dict)


class State(Strict):
    """One step of a dialogue. See the module docstring for the order things happen in."""

    say: list[LocalText] = Field(default_factory=list)
    edit: bool = False
    set: dict[Name, Scalar] = Field(default_factory=dict)
    add: dict[Name, int] = Field(default_factory=dict)
    effects: list[EffectSpec] = Field(default_factory=list)
    save: SaveSpec | None = None
    buttons: list[ButtonSpec] = Field(default_factory=list)
    input: InputSpec | None = None
    after: AfterSpec | None = None
    call: CallSpec | None = None
    branch: list[BranchSpec] = Field(default_factory=list)
    next: Name | None = None
    final: bool = False
    partner_facing: bool = False

    @field_validator("say", mode="before")
    @classmethod
    def _variations(cls, value: Any) -> Any:
        """``say`` may be one text or a list of variations."""
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _moves_one_way(self) -> State:
        automatic = [self.call is not None, bool(self.branch), self.next is not None]
        if sum(automatic) > 1:
            raise ValueError("use only one of call, branch and next in a state")
        if any(automatic) and (self.buttons or self.input or self.after or self.final):
            raise ValueError(
                "a state that moves on by itself (call/branch/next) cannot also wait "
                "(buttons/input/after) or be final"
            )
        if self.final and (self.input or self.after):
            raise ValueError("a final state cannot wait for input or a timer")
        if self.final and any(button.go for button in self.buttons):
            raise ValueError("buttons of a final state can only 'start' a dialogue")
        return self

    @property
    def waits(self) -> bool:
        """Whether the dialogue rests here until the user (or a timer) acts."""
        return bool(self.buttons or self.input or self.after) and not self.final

    def targets(self) -> list[Target | InputSpec | AfterSpec | CallSpec]:
        """Everything in this state that leads somewhere, for the lint and the graph."""
        found: list[Target | InputSpec | AfterSpec | CallSpec] = [*self.buttons, *self.branch]
        found += [spec for spec in (self.input, self.after, self.call) if spec is not None]
        return found


class Triggers(Strict):
    """How a user reaches a dialogue from anywhere: slash commands and phrases."""

    commands: list[Name] = Field(default_factory=list)
    phrases: dict[str, list[str]] = Field(default_factory=dict)


class Dialogue(Strict):
    """One conversation, such as ``breathe``."""

    id: Name
    title: LocalText
    triggers: Triggers = Field(default_factory=Triggers)
    needs_consent: bool = True
    start: Name
    states: dict[Name, State]

    @model_validator(mode="after")
    def _start_exists(self) -> Dialogue:
        if self.start not in self.states:
            raise ValueError(f"start state '{self.start}' is not among the states")
        return self


class Common(Strict):
    """``dialogues/common.yaml``: declared locales, values kept across dialogues
    (the profile), and the engine's own messages (re-prompts, /help, /stop...)."""

    locales: list[str] = Field(min_length=1)
    profile: list[Name] = Field(default_factory=list)
    consent_var: Name = "consented"
    strings: dict[Name, list[LocalText]]

    @field_validator("strings", mode="before")
    @classmethod
    def _string_variations(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, dict) else v for k, v in value.items()}
        return value


Kind = Literal["dialogue", "common"]
