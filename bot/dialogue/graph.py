"""A dialogue as a graph: its edges, a mermaid diagram of them, and a state machine.

:func:`edges` is the one place that knows every way a state leads somewhere, so the lint
(unknown targets, reachability), the diagram and the machine cannot disagree about it.

The engine builds one :func:`build_machine` per dialogue when the catalogue loads and, for
each event, attaches a fresh model at the user's stored state, fires ``to_<state>``, and
detaches it again (see :func:`advance`). A machine per user would cost memory per user, and
keeping every user's model attached makes ``add_model`` slow as the list grows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from transitions import Machine, MachineError, State
from transitions.extensions import GraphMachine

from bot.dialogue.schema import Condition, Dialogue, LocalText
from bot.dialogue.schema import State as StateSpec

YamlPath = tuple[str | int, ...]
EdgeKind = Literal["button", "input", "after", "branch", "next", "call"]

_SECTION: dict[EdgeKind, str] = {
    "button": "buttons",
    "input": "input",
    "after": "after",
    "branch": "branch",
    "next": "next",
    "call": "call",
}
_STATE_KEY: dict[EdgeKind, str] = {"call": "then", "next": ""}
_DIALOGUE_KEY: dict[EdgeKind, str] = {"call": "dialogue"}


@dataclass(frozen=True)
class Edge:
    """One way out of ``source``: to a state of this dialogue (``state``), into another
    dialogue (``dialogue``: started by a button or branch, or called and returned from),
    or both (a ``call`` runs ``dialogue`` and then goes to ``state``)."""

    source: str
    kind: EdgeKind
    index: int | None
    state: str | None
    dialogue: str | None
    label: str

    @property
    def path(self) -> YamlPath:
        """Where the edge is written, such as ``("states", "stop", "buttons", 1)``."""
        path: YamlPath = ("states", self.source, _SECTION[self.kind])
        return path if self.index is None else (*path, self.index)

    @property
    def state_path(self) -> YamlPath:
        """Where the target state is named (``...buttons.1.go``, ``...call.then``)."""
        key = _STATE_KEY.get(self.kind, "go")
        return (*self.path, key) if key else self.path

    @property
    def dialogue_path(self) -> YamlPath:
        """Where the other dialogue is named (``...buttons.1.start``, ``...call.dialogue``)."""
        return (*self.path, _DIALOGUE_KEY.get(self.kind, "start"))


def edges(dialogue: Dialogue, locale: str = "en") -> list[Edge]:
    """Every edge of the dialogue, state by state, in the order they are written;
    labels in ``locale`` (for the diagram)."""
    return [edge for name, state in dialogue.states.items() for edge in _edges(name, state, locale)]


def _edges(name: str, state: StateSpec, locale: str) -> Iterator[Edge]:
    for index, button in enumerate(state.buttons):
        yield Edge(name, "button", index, button.go, button.start, _local(button.text, locale))
    for index, arm in enumerate(state.branch):
        yield Edge(name, "branch", index, arm.go, arm.start, _condition_label(arm.when))
    if state.input is not None:
        yield Edge(name, "input", None, state.input.go, None, f"input → {state.input.save_as}")
    if state.after is not None:
        yield Edge(name, "after", None, state.after.go, None, _after_label(state.after.seconds))
    if state.call is not None:
        call = state.call
        yield Edge(name, "call", None, call.then, call.dialogue, f"call {call.dialogue}")
    if state.next is not None:
        yield Edge(name, "next", None, state.next, None, "next")


def _local(text: LocalText, locale: str) -> str:
    return text.get(locale) or next(iter(text.values()), "")


def _after_label(seconds: int | str) -> str:
    return f"after {seconds}s" if isinstance(seconds, int) else f"after {seconds} seconds"


_TESTS = {
    "equals": "==",
    "not_equals": "!=",
    "less_than": "<",
    "at_least": ">=",
}


def _condition_label(condition: Condition | None) -> str:
    """``if rounds < $target``; ``else`` for an arm without a condition."""
    if condition is None:
        return "else"
    if condition.is_set is not None:
        return f"if {condition.var} is {'' if condition.is_set else 'not '}set"
    for field, symbol in _TESTS.items():
        value = getattr(condition, field)
        if value is not None:
            return f"if {condition.var} {symbol} {value}"
    return f"if {condition.var}"


# --- the machine ------------------------------------------------------------------------------


def trigger_name(state: str) -> str:
    """The trigger that moves a model to ``state``."""
    return f"to_{state}"


def _transitions(dialogue: Dialogue) -> list[dict[str, Any]]:
    """One ``to_<dest>`` transition per destination, from every state with an edge to it."""
    sources: dict[str, set[str]] = {}
    for edge in edges(dialogue):
        if edge.state is not None:
            sources.setdefault(edge.state, set()).add(edge.source)
    return [
        {"trigger": trigger_name(dest), "source": sorted(names), "dest": dest}
        for dest, names in sources.items()
    ]


def build_machine(dialogue: Dialogue) -> Machine:
    """A plain machine for the dialogue with no model attached: only the moves its edges
    allow are legal (an illegal one raises :class:`transitions.MachineError`).

    Build it from a dialogue that passed the lint: a target that is not a state raises
    :class:`ValueError` here.
    """
    return Machine(
        model=None,
        states=list(dialogue.states),
        initial=dialogue.start,
        transitions=_transitions(dialogue),
        auto_transitions=False,
        name=dialogue.id,
    )


class _Model:
    """What a machine moves: a stand-in for the user, holding only ``state``."""

    state: str


def advance(machine: Machine, current: str, dest: str) -> str:
    """Move from ``current`` to ``dest`` through ``machine``: attach a fresh model,
    trigger, detach. Returns the new state; raises ``MachineError`` if not allowed.

    The model must be fresh: ``add_model`` does not rebind ``trigger`` on an object that
    already has one, so a reused object would keep firing its first machine's events.
    ``add_model`` binds a method per event and state, so a cycle costs about 6 µs per
    state (45 µs for 8 states, 435 µs for 52, on the development machine).
    """
    if trigger_name(dest) not in machine.events:
        raise MachineError(f"{machine.name}no edge leads to state '{dest}'")  # name ends ": "
    model = _Model()
    machine.add_model(model, initial=current)
    try:
        model.trigger(trigger_name(dest))  # type: ignore[attr-defined]
    finally:
        machine.remove_model(model)
    return model.state


# --- the diagram --------------------------------------------------------------------------------

_MERMAID_UNSAFE = str.maketrans({'"': "'", ";": ",", "#": "No.", "{": "(", "}": ")"})
_MAX_LABEL = 40


def mermaid(dialogue: Dialogue, locale: str = "en") -> str:
    """The dialogue as a mermaid ``stateDiagram-v2`` (render it on mermaid.live or in a
    Markdown file). Another dialogue that is started or called shows as a ``▶`` node;
    final states lead to ``[*]``; the start state is highlighted (transitions marks the
    state its model is in). The dialogue must have passed the lint."""
    graph_edges = edges(dialogue, locale)
    states: list[str | State] = [_state(name, spec) for name, spec in dialogue.states.items()]
    states += [_outside(name) for name in _outside_dialogues(graph_edges)]
    model = _Model()
    GraphMachine(
        model=model,
        states=states,
        initial=dialogue.start,
        transitions=[_graph_transition(edge) for edge in graph_edges],
        auto_transitions=False,
        graph_engine="mermaid",
        # transitions writes the title bare between "---" lines, which mermaid reads as
        # YAML front matter: make it the ``title:`` key mermaid expects.
        title="title: " + json.dumps(_local(dialogue.title, locale), ensure_ascii=False),
    )
    source: str = model.get_graph().draw(None)  # type: ignore[attr-defined]
    finals = [f"  {name} --> [*]" for name, spec in dialogue.states.items() if spec.final]
    return "\n".join([source, *finals])


class _Node(State):
    """A state of the diagram with a label of its own (the graph reads ``label``)."""

    def __init__(self, name: str, label: str) -> None:
        super().__init__(name)
        self.label = label


def _state(name: str, spec: StateSpec) -> State:
    flags = (("final", spec.final), ("partner-facing", spec.partner_facing))
    notes = [note for note, on in flags if on]
    return _Node(name, f"{name} ({', '.join(notes)})" if notes else name)


def _outside_id(dialogue: str) -> str:
    """The node of another dialogue; upper case, so it cannot clash with a state name."""
    return f"Start_{dialogue}"


def _outside(dialogue: str) -> State:
    return _Node(_outside_id(dialogue), f"▶ {dialogue}")


def _outside_dialogues(graph_edges: list[Edge]) -> list[str]:
    started = (edge.dialogue for edge in graph_edges if edge.kind != "call" and edge.dialogue)
    return list(dict.fromkeys(started))


def _graph_transition(edge: Edge) -> dict[str, Any]:
    """A call goes on to its ``then`` state in the diagram; a start leaves to a ▶ node."""
    dest = edge.state if edge.state is not None else _outside_id(edge.dialogue or "")
    return {
        "trigger": trigger_name(dest),
        "source": edge.source,
        "dest": dest,
        "label": _mermaid_label(edge.label),
    }


def _mermaid_label(text: str) -> str:
    """One line, without the characters mermaid would read as syntax, at most 40 long."""
    text = re.sub(r"\s+", " ", text).strip().translate(_MERMAID_UNSAFE)
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"
