"""Checks on a catalogue that pydantic cannot make one file at a time.

Each rule is a small function returning :class:`~bot.dialogue.loader.Problem` values at
the file and line an author has to edit. Rules about one dialogue share the signature
:data:`DialogueRule` and are listed in :data:`DIALOGUE_RULES`; rules about texts run on
dialogues and on ``common.yaml`` alike.

**Partner-facing states.** A state marked ``partner_facing: true`` shows words meant for
the user's partner. For users in partner-safe mode (afraid of their partner) the engine
hides every button and skips every branch arm that leads into such a state; it cannot
hide ``next``, ``input``, ``after`` or ``call.then``, nor the state a dialogue starts at.
So the rule, checked on every state that is *not* partner-facing (partner-facing states
themselves are never entered in that mode), is:

1. the ``start`` state of a dialogue is not partner-facing;
2. only buttons and branch arms lead into partner-facing states (a ``next``, ``input``,
   ``after`` or ``call.then`` into one would show it to a partner-safe user);
3. a branch's last arm does not lead into one (skipped, it would leave no arm to take);
4. a state with a button into a partner-facing state also has an edge that does not lead
   into one (to another state, or into another dialogue), so the user always keeps a
   way on, such as a "not now" button.

"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from bot.coach import callback
from bot.dialogue.graph import Edge, edges
from bot.dialogue.loader import Loaded, Problem, SourceMap, YamlPath
from bot.dialogue.schema import TEMPLATE_VAR, Common, Condition, Dialogue, LocalText

MAX_MESSAGE = 4096
"""Telegram's limit on the text of one message, in characters."""

ENGINE_PARAMS = frozenset({"title", "max_length"})
"""Values the engine passes to its own messages from ``common.yaml`` besides the profile
(``{title}`` of an offered dialogue, ``{max_length}`` of a too-long answer)."""


@dataclass(frozen=True)
class Context:
    """What a rule about one dialogue needs to know about the rest of the catalogue."""

    common: Common
    dialogue_ids: frozenset[str]

    def known_vars(self, dialogue: Dialogue) -> frozenset[str]:
        """Names a text or condition of ``dialogue`` may use."""
        return variables(dialogue) | frozenset(self.common.profile) | {self.common.consent_var}


DialogueRule = Callable[[Dialogue, SourceMap, Context], Iterable[Problem]]


def lint(
    common: Loaded[Common],
    dialogues: Sequence[Loaded[Dialogue]],
    unloaded: Collection[str] = (),
) -> list[Problem]:
    """Every problem across the catalogue, sorted by file and line.

    ``unloaded`` names dialogues whose files failed to load: references to them are not
    reported again as unknown dialogues.
    """
    ids = frozenset(loaded.model.id for loaded in dialogues) | frozenset(unloaded)
    context = Context(common.model, ids)
    problems = [*check_common(common), *duplicate_ids(dialogues), *duplicate_commands(dialogues)]
    for loaded in dialogues:
        problems += lint_dialogue(loaded, context)
    return sorted(problems)


def lint_dialogue(loaded: Loaded[Dialogue], context: Context) -> list[Problem]:
    """Every :data:`DIALOGUE_RULES` problem of one dialogue."""
    return [
        problem for rule in DIALOGUE_RULES for problem in rule(loaded.model, loaded.source, context)
    ]


def variables(dialogue: Dialogue) -> frozenset[str]:
    """Every name the dialogue stores: ``input.save_as`` and the keys of ``set``/``add``
    in states and of ``set`` in buttons."""
    names: set[str] = set()
    for state in dialogue.states.values():
        names.update(state.set, state.add)
        names.update(key for button in state.buttons for key in button.set)
        if state.input is not None:
            names.add(state.input.save_as)
    return frozenset(names)


def _dotted(path: YamlPath) -> str:
    return ".".join(str(part) for part in path)


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- targets and the shape of the graph ---------------------------------------------------


def unknown_targets(dialogue: Dialogue, source: SourceMap, context: Context) -> Iterator[Problem]:
    """Every ``go``/``next``/``then`` names a state of this dialogue, and every
    ``start``/``call.dialogue`` a dialogue of the catalogue."""
    for edge in edges(dialogue):
        if edge.state is not None and edge.state not in dialogue.states:
            hint = _suggest(edge.state, dialogue.states)
            message = f"no state '{edge.state}' in dialogue '{dialogue.id}'{hint}"
            yield source.problem(edge.state_path, f"{_dotted(edge.state_path)}: {message}")
        if edge.dialogue is not None and edge.dialogue not in context.dialogue_ids:
            hint = _suggest(edge.dialogue, context.dialogue_ids)
            message = f"no dialogue '{edge.dialogue}' in the catalogue{hint}"
            yield source.problem(edge.dialogue_path, f"{_dotted(edge.dialogue_path)}: {message}")


def reachable(dialogue: Dialogue) -> set[str]:
    """The states reachable from ``start`` by following every edge."""
    following: dict[str, list[str]] = {}
    for edge in edges(dialogue):
        if edge.state is not None:
            following.setdefault(edge.source, []).append(edge.state)
    seen = {dialogue.start}
    todo = [dialogue.start]
    while todo:
        for name in following.get(todo.pop(), []):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def unreachable_states(
    dialogue: Dialogue, source: SourceMap, context: Context
) -> Iterator[Problem]:
    """Every state can be reached from ``start``: an orphan is a forgotten link or a typo."""
    found = reachable(dialogue)
    for name in dialogue.states:
        if name not in found:
            message = f"state '{name}' cannot be reached from the start state '{dialogue.start}'"
            yield source.problem(("states", name), message)


def dead_ends(dialogue: Dialogue, source: SourceMap, context: Context) -> Iterator[Problem]:
    """A state that is not final must wait (buttons/input/after) or move on
    (call/branch/next); otherwise the user is stuck there with nothing to do."""
    for name, state in dialogue.states.items():
        moves = state.call is not None or bool(state.branch) or state.next is not None
        if not (state.final or state.waits or moves):
            message = (
                f"state '{name}' is a dead end: it neither waits (buttons/input/after), "
                "moves on (call/branch/next), nor is final"
            )
            yield source.problem(("states", name), message)


def branch_fall_through(
    dialogue: Dialogue, source: SourceMap, context: Context
) -> Iterator[Problem]:
    """A branch's last arm, and only its last, has no ``if``: otherwise the branch can
    fall through with nowhere to go, or has arms that are never taken."""
    for name, state in dialogue.states.items():
        last = len(state.branch) - 1
        for index, arm in enumerate(state.branch):
            path = ("states", name, "branch", index)
            if index == last and arm.when is not None:
                message = "the branch can fall through: give its last arm no 'if'"
                yield source.problem(path, f"{_dotted(path)}: {message}")
            elif index < last and arm.when is None:
                message = "this arm has no 'if', so the arms after it are never taken"
                yield source.problem(path, f"{_dotted(path)}: {message}")


HIDEABLE = frozenset({"button", "branch"})
"""Edge kinds the engine hides when they lead into a partner-facing state."""


def partner_facing_alternatives(
    dialogue: Dialogue, source: SourceMap, context: Context
) -> Iterator[Problem]:
    """Partner-safe mode can hide every partner-facing state without stranding the user
    (the four points of the module docstring)."""
    if dialogue.states[dialogue.start].partner_facing:
        message = f"the start state '{dialogue.start}' cannot be partner-facing"
        yield source.problem(("states", dialogue.start, "partner_facing"), message)
    by_source: dict[str, list[Edge]] = {}
    for edge in edges(dialogue):
        by_source.setdefault(edge.source, []).append(edge)
    for name, leaving in by_source.items():
        if not dialogue.states[name].partner_facing:
            yield from _partner_facing_exits(dialogue, source, name, leaving)


def _partner_facing_exits(
    dialogue: Dialogue, source: SourceMap, name: str, leaving: list[Edge]
) -> Iterator[Problem]:
    """Points 2-4 of the rule for one state that is not partner-facing."""
    into = [edge for edge in leaving if _is_partner_facing(dialogue, edge)]
    unhideable = [edge for edge in into if edge.kind not in HIDEABLE]
    for edge in unhideable:
        message = (
            f"leads into partner-facing state '{edge.state}', which partner-safe mode "
            "cannot hide: only buttons and branch arms may lead into partner-facing states"
        )
        yield source.problem(edge.state_path, f"{_dotted(edge.state_path)}: {message}")
    last_arm = next((edge for edge in reversed(leaving) if edge.kind == "branch"), None)
    if last_arm is not None and last_arm in into:
        message = (
            f"the last arm leads into partner-facing state '{last_arm.state}': partner-safe "
            "mode skips it and the branch has no arm left to take"
        )
        yield source.problem(last_arm.path, f"{_dotted(last_arm.path)}: {message}")
    elif into and not unhideable and len(into) == len(leaving):
        targets = ", ".join(sorted({str(edge.state) for edge in into}))
        message = (
            f"state '{name}' leads only to partner-facing states ({targets}), which "
            "partner-safe mode hides: also offer a way that does not (a 'not now' button)"
        )
        yield source.problem(("states", name), message)


def _is_partner_facing(dialogue: Dialogue, edge: Edge) -> bool:
    state = dialogue.states.get(edge.state) if edge.state is not None else None
    return state is not None and state.partner_facing


# --- variables ---------------------------------------------------------------------------------


def unknown_variables(dialogue: Dialogue, source: SourceMap, context: Context) -> Iterator[Problem]:
    """``after.seconds``, conditions (and their ``$other`` values) and ``save.fields`` name
    values something stores: set in this dialogue, or kept in the profile."""
    known = context.known_vars(dialogue)
    for name, state in dialogue.states.items():
        base: YamlPath = ("states", name)
        used: list[tuple[YamlPath, str]] = []
        if state.after is not None and isinstance(state.after.seconds, str):
            used.append(((*base, "after", "seconds"), state.after.seconds))
        if state.save is not None:
            used += [((*base, "save", "fields", i), f) for i, f in enumerate(state.save.fields)]
        for index, arm in enumerate(state.branch):
            if arm.when is not None:
                used += _condition_vars((*base, "branch", index, "if"), arm.when)
        for path, var in used:
            if var not in known:
                message = f"unknown variable '{var}': nothing stores it{_suggest(var, known)}"
                yield source.problem(path, f"{_dotted(path)}: {message}")


def _condition_vars(path: YamlPath, condition: Condition) -> list[tuple[YamlPath, str]]:
    """The variables a condition reads: ``var`` and any ``$name`` value."""
    found = [((*path, "var"), condition.var)]
    for field in ("equals", "not_equals", "less_than", "at_least"):
        value = getattr(condition, field)
        if isinstance(value, str) and value.startswith("$"):
            found.append(((*path, field), value[1:]))
    return found


def unknown_template_vars(
    dialogue: Dialogue, source: SourceMap, context: Context
) -> Iterator[Problem]:
    """Every ``{name}`` in a text of the dialogue is a value something stores."""
    return _template_vars(dialogue_texts(dialogue), source, context.known_vars(dialogue))


# --- texts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One translatable text: where it is, its translations, and whether it is sent as a
    message of its own (so Telegram's message limit applies)."""

    path: YamlPath
    text: LocalText
    is_message: bool


def dialogue_texts(dialogue: Dialogue) -> Iterator[Text]:
    """The title, every ``say`` variation and every button label of a dialogue."""
    yield Text(("title",), dialogue.title, is_message=False)
    for name, state in dialogue.states.items():
        for index, variation in enumerate(state.say):
            yield Text(("states", name, "say", index), variation, is_message=True)
        for index, button in enumerate(state.buttons):
            yield Text(("states", name, "buttons", index, "text"), button.text, is_message=False)


def common_texts(common: Common) -> Iterator[Text]:
    """Every variation of the engine's own messages."""
    for key, variations in common.strings.items():
        for index, variation in enumerate(variations):
            yield Text(("strings", key, index), variation, is_message=True)


def missing_translations(
    dialogue: Dialogue, source: SourceMap, context: Context
) -> Iterator[Problem]:
    """Every text has a non-empty translation for each locale of ``common.yaml``, and none
    for a locale it does not declare (nor do trigger phrases)."""
    locales = context.common.locales
    yield from _translations(dialogue_texts(dialogue), source, locales)
    for locale in dialogue.triggers.phrases:
        if locale not in locales:
            path = ("triggers", "phrases", locale)
            yield source.problem(path, f"{_dotted(path)}: {_undeclared(locale, locales)}")


def message_too_long(dialogue: Dialogue, source: SourceMap, context: Context) -> Iterator[Problem]:
    """No message text is longer than Telegram accepts (4096 characters)."""
    return _lengths(dialogue_texts(dialogue), source)


def _translations(
    texts: Iterable[Text], source: SourceMap, locales: list[str]
) -> Iterator[Problem]:
    for text in texts:
        missing = [locale for locale in locales if not text.text.get(locale, "").strip()]
        if missing:
            message = f"missing translation for {', '.join(missing)}"
            yield source.problem(text.path, f"{_dotted(text.path)}: {message}")
        for locale in text.text:
            if locale not in locales:
                message = _undeclared(locale, locales)
                yield source.problem(text.path, f"{_dotted(text.path)}: {message}")


def _undeclared(locale: str, locales: list[str]) -> str:
    return f"locale '{locale}' is not declared in common.yaml ({', '.join(locales)})"


def _template_vars(
    texts: Iterable[Text], source: SourceMap, known: frozenset[str]
) -> Iterator[Problem]:
    for text in texts:
        used = {name for value in text.text.values() for name in TEMPLATE_VAR.findall(value)}
        for name in sorted(used - known):
            message = f"unknown variable {{{name}}}: nothing stores it{_suggest(name, known)}"
            yield source.problem(text.path, f"{_dotted(text.path)}: {message}")


def _lengths(texts: Iterable[Text], source: SourceMap) -> Iterator[Problem]:
    for text in texts:
        for locale, value in text.text.items():
            if text.is_message and len(value) > MAX_MESSAGE:
                message = (
                    f"the '{locale}' text is {len(value)} characters long; "
                    f"Telegram sends at most {MAX_MESSAGE}"
                )
                yield source.problem(text.path, f"{_dotted(text.path)}: {message}")


def check_common(common: Loaded[Common]) -> list[Problem]:
    """The text rules, applied to ``common.yaml``: its strings may use the profile and
    :data:`ENGINE_PARAMS`."""
    model, source = common.model, common.source
    known = frozenset(model.profile) | {model.consent_var} | ENGINE_PARAMS
    return [
        *_translations(common_texts(model), source, model.locales),
        *_template_vars(common_texts(model), source, known),
        *_lengths(common_texts(model), source),
    ]


# --- Telegram limits and clashes between dialogues ---------------------------------------------


def callback_too_long(dialogue: Dialogue, source: SourceMap, context: Context) -> Iterator[Problem]:
    """Every button's callback data fits Telegram's 64 bytes."""
    for name, state in dialogue.states.items():
        for index, button in enumerate(state.buttons):
            data = (
                callback.go(dialogue.id, name, index)
                if button.go is not None
                else callback.start(str(button.start))
            )
            if not callback.fits(data):
                path = ("states", name, "buttons", index)
                message = (
                    f"callback data '{data}' is {len(data.encode())} bytes, over Telegram's "
                    f"{callback.MAX_BYTES}: shorten the dialogue id or the state name"
                )
                yield source.problem(path, f"{_dotted(path)}: {message}")


def duplicate_ids(dialogues: Sequence[Loaded[Dialogue]]) -> Iterator[Problem]:
    """No two files define the same dialogue id (the first file in name order wins)."""
    first: dict[str, Loaded[Dialogue]] = {}
    for loaded in dialogues:
        earlier = first.setdefault(loaded.model.id, loaded)
        if earlier is not loaded:
            where = f"{earlier.source.file.name}:{earlier.source.line(('id',))}"
            message = f"dialogue id '{loaded.model.id}' is already defined at {where}"
            yield loaded.source.problem(("id",), message)


def duplicate_commands(dialogues: Sequence[Loaded[Dialogue]]) -> Iterator[Problem]:
    """No command triggers two dialogues, or one dialogue twice."""
    first: dict[str, tuple[Loaded[Dialogue], YamlPath]] = {}
    for loaded in dialogues:
        for index, command in enumerate(loaded.model.triggers.commands):
            path: YamlPath = ("triggers", "commands", index)
            earlier, earlier_path = first.setdefault(command, (loaded, path))
            if earlier_path != path or earlier is not loaded:
                where = f"{earlier.source.file.name}:{earlier.source.line(earlier_path)}"
                message = f"command /{command} already triggers '{earlier.model.id}' at {where}"
                yield loaded.source.problem(path, f"{_dotted(path)}: {message}")


DIALOGUE_RULES: tuple[DialogueRule, ...] = (
    unknown_targets,
    unreachable_states,
    dead_ends,
    branch_fall_through,
    partner_facing_alternatives,
    unknown_variables,
    unknown_template_vars,
    missing_translations,
    message_too_long,
    callback_too_long,
)
"""The rules run on every dialogue, in this order."""
