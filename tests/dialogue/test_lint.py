"""The lint: one broken fixture directory per rule, each with the exact problems expected.

Every directory under ``fixtures/`` is named after the rule it breaks (``clean`` breaks
none); the table below lists each problem as ``(file, line, message)``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialogue import lint
from bot.dialogue.loader import Loaded, Problem, SourceMap, check_directory
from bot.dialogue.schema import Common, Dialogue

FIXTURES = Path(__file__).parent / "fixtures"

EXPECTED: dict[str, list[tuple[str, int, str]]] = {
    "clean": [],
    "unknown_targets": [
        (
            "talk.yaml",
            9,
            "states.ask.buttons.1.go: no state 'dnoe' in dialogue 'talk' (did you mean 'done'?)",
        ),
        ("talk.yaml", 10, "states.ask.buttons.2.start: no dialogue 'nowhere' in the catalogue"),
        ("talk.yaml", 12, "states.ask.input.go: no state 'missing' in dialogue 'talk'"),
        ("talk.yaml", 14, "states.later.call.dialogue: no dialogue 'nothing' in the catalogue"),
    ],
    "unreachable_states": [
        ("talk.yaml", 9, "state 'orphan' cannot be reached from the start state 'ask'"),
    ],
    "dead_ends": [
        (
            "talk.yaml",
            10,
            "state 'stuck' is a dead end: it neither waits (buttons/input/after), "
            "moves on (call/branch/next), nor is final",
        ),
    ],
    "branch_fall_through": [
        (
            "talk.yaml",
            13,
            "states.check.branch.1: the branch can fall through: give its last arm no 'if'",
        ),
        (
            "talk.yaml",
            16,
            "states.recheck.branch.0: this arm has no 'if', so the arms after it are never taken",
        ),
        (
            "talk.yaml",
            17,
            "states.recheck.branch.1: the branch can fall through: give its last arm no 'if'",
        ),
    ],
    "partner_facing_alternatives": [
        (
            "talk.yaml",
            5,
            "state 'ask' leads only to partner-facing states (note), which partner-safe mode "
            "hides: also offer a way that does not (a 'not now' button)",
        ),
        (
            "talk.yaml",
            23,
            "states.check.branch.1: the last arm leads into partner-facing state 'more': "
            "partner-safe mode skips it and the branch has no arm left to take",
        ),
        (
            "talk.yaml",
            26,
            "states.later.after.go: leads into partner-facing state 'note', which partner-safe "
            "mode cannot hide: only buttons and branch arms may lead into partner-facing states",
        ),
    ],
    "unknown_variables": [
        (
            "talk.yaml",
            10,
            "states.wait.after.seconds: unknown variable 'pause_length': nothing stores it",
        ),
        (
            "talk.yaml",
            12,
            "states.check.save.fields.1: unknown variable 'feelings': nothing stores it",
        ),
        (
            "talk.yaml",
            14,
            "states.check.branch.0.if.var: unknown variable 'moood': "
            "nothing stores it (did you mean 'mood'?)",
        ),
        (
            "talk.yaml",
            15,
            "states.check.branch.1.if.less_than: unknown variable 'limit': nothing stores it",
        ),
    ],
    "unknown_template_vars": [
        (
            "common.yaml",
            5,
            "strings.offer.0: unknown variable {titel}: nothing stores it (did you mean 'title'?)",
        ),
        (
            "talk.yaml",
            6,
            "states.ask.say.0: unknown variable {nmae}: nothing stores it (did you mean 'name'?)",
        ),
        ("talk.yaml", 11, "states.done.say.0: unknown variable {mood}: nothing stores it"),
    ],
    "missing_translations": [
        ("common.yaml", 4, "strings.stopped.0: missing translation for ru"),
        ("talk.yaml", 2, "title: missing translation for ru"),
        (
            "talk.yaml",
            4,
            "triggers.phrases.de: locale 'de' is not declared in common.yaml (en, ru)",
        ),
        ("talk.yaml", 8, "states.ask.say.0: locale 'de' is not declared in common.yaml (en, ru)"),
        ("talk.yaml", 10, "states.ask.buttons.0.text: missing translation for ru"),
    ],
    "message_too_long": [
        (
            "talk.yaml",
            13,
            "states.done.say.1: the 'en' text is 4149 characters long; Telegram sends at most 4096",
        ),
    ],
    "callback_too_long": [
        (
            "talk.yaml",
            8,
            "states.and_a_state_name_that_is_long.buttons.0: callback data "
            "'g:a_dialogue_with_a_rather_long_identifier:and_a_state_name_that_is_long:0' "
            "is 74 bytes, over Telegram's 64: shorten the dialogue id or the state name",
        ),
    ],
    "duplicate_ids": [
        ("b.yaml", 1, "dialogue id 'talk' is already defined at a.yaml:1"),
    ],
    "duplicate_commands": [
        ("b.yaml", 5, "triggers.commands.0: command /talk already triggers 'one' at a.yaml:3"),
        ("b.yaml", 7, "triggers.commands.2: command /chat already triggers 'two' at b.yaml:6"),
    ],
}


def _found(directory: Path) -> list[tuple[str, int, str]]:
    return [(p.file.name, p.line, p.message) for p in check_directory(directory)]


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_fixture_yields_exactly_its_problems(fixture: str) -> None:
    assert _found(FIXTURES / fixture) == EXPECTED[fixture]


def test_every_rule_has_a_fixture_and_every_fixture_an_entry() -> None:
    rules = {rule.__name__ for rule in lint.DIALOGUE_RULES}
    rules |= {lint.duplicate_ids.__name__, lint.duplicate_commands.__name__}
    fixtures = {path.name for path in FIXTURES.iterdir() if path.is_dir()}
    assert rules | {"clean"} == fixtures == set(EXPECTED)


def test_problem_prints_as_file_line_message() -> None:
    problem = check_directory(FIXTURES / "dead_ends")[0]
    assert str(problem) == f"{FIXTURES / 'dead_ends' / 'talk.yaml'}:10: {problem.message}"


# --- rules on dialogues built in code, for the cases a fixture does not show -----------------

COMMON = Common(locales=["en"], strings={"help": [{"en": "Help"}]})
SOURCE = SourceMap(Path("talk.yaml"))


def _dialogue(states: dict[str, object], start: str = "ask") -> Dialogue:
    return Dialogue.model_validate(
        {"id": "talk", "title": {"en": "Talk"}, "start": start, "states": states}
    )


def _messages(dialogue: Dialogue, rule: lint.DialogueRule) -> list[str]:
    context = lint.Context(COMMON, frozenset({"talk", "other"}))
    return [problem.message for problem in rule(dialogue, SOURCE, context)]


def _button(go: str, text: str = "Go") -> dict[str, object]:
    return {"text": {"en": text}, "go": go}


DONE = {"final": True, "say": {"en": "Bye."}}
NOTE = {"partner_facing": True, "say": {"en": "Dear partner"}, "next": "done"}


def test_partner_facing_start_state_is_refused() -> None:
    dialogue = _dialogue({"ask": {**NOTE}, "done": DONE})
    assert _messages(dialogue, lint.partner_facing_alternatives) == [
        "the start state 'ask' cannot be partner-facing"
    ]


def test_moving_on_by_itself_into_a_partner_facing_state_is_refused() -> None:
    dialogue = _dialogue({"ask": {"next": "note"}, "note": NOTE, "done": DONE})
    assert _messages(dialogue, lint.partner_facing_alternatives) == [
        "states.ask.next: leads into partner-facing state 'note', which partner-safe mode cannot "
        "hide: only buttons and branch arms may lead into partner-facing states"
    ]


def test_partner_facing_states_may_lead_on_to_partner_facing_states() -> None:
    """Partner-safe mode never enters them, so only their entrances are checked."""
    ask = {"say": {"en": "Draft?"}, "buttons": [_button("note"), _button("done", "No")]}
    note = {**NOTE, "next": "more"}
    dialogue = _dialogue({"ask": ask, "note": note, "more": NOTE, "done": DONE})
    assert _messages(dialogue, lint.partner_facing_alternatives) == []


@pytest.mark.parametrize(
    "alternative",
    [_button("done", "Not now"), {"text": {"en": "Elsewhere"}, "start": "other"}],
    ids=["state", "other dialogue"],
)
def test_a_sibling_way_out_satisfies_the_partner_facing_rule(
    alternative: dict[str, object],
) -> None:
    ask = {"say": {"en": "Draft?"}, "buttons": [_button("note"), alternative]}
    dialogue = _dialogue({"ask": ask, "note": NOTE, "done": DONE})
    assert _messages(dialogue, lint.partner_facing_alternatives) == []


def test_a_call_names_another_dialogue_and_a_state_of_this_one() -> None:
    ask = {"call": {"dialogue": "other", "then": "done"}}
    assert _messages(_dialogue({"ask": ask, "done": DONE}), lint.unknown_targets) == []


def test_vars_stored_anywhere_in_the_dialogue_or_profile_are_known() -> None:
    ask = {
        "set": {"a": 1},
        "add": {"b": 1},
        "say": {"en": "{a}{b}{c}{d}{name}{consented}"},
        "buttons": [{"text": {"en": "x"}, "go": "typed", "set": {"c": 1}}],
    }
    typed = {"input": {"save_as": "d", "go": "done"}}
    dialogue = _dialogue({"ask": ask, "typed": typed, "done": DONE})
    context = lint.Context(COMMON.model_copy(update={"profile": ["name"]}), frozenset())
    assert list(lint.unknown_template_vars(dialogue, SOURCE, context)) == []


def test_lint_does_not_call_a_dialogue_that_failed_to_load_unknown() -> None:
    ask = {"say": {"en": "x"}, "buttons": [{"text": {"en": "x"}, "start": "broken"}]}
    loaded = Loaded(_dialogue({"ask": ask}), SOURCE)
    assert lint.lint(Loaded(COMMON, SourceMap(Path("common.yaml"))), [loaded]) != []
    assert lint.lint(Loaded(COMMON, SourceMap(Path("c.yaml"))), [loaded], ["broken"]) == []


def test_problems_sort_by_file_then_line() -> None:
    late, early = Problem(Path("a.yaml"), 9, "x"), Problem(Path("a.yaml"), 2, "y")
    assert sorted([late, early]) == [early, late]
