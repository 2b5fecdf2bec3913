"""Read ``dialogues/*.yaml`` into a :class:`Catalog`, with every problem at its file:line.

Dialogue authors fix problems in YAML, so every problem points at a line of YAML: the
loader records where each key and list item starts (a :class:`SourceMap`), reports
duplicate keys (which PyYAML would silently collapse), and turns pydantic errors and lint
findings into :class:`Problem` values at the line of the offending path.

Each file is a dialogue, except ``common.yaml`` (:class:`~bot.dialogue.schema.Common`) and
the other names in :data:`SPECIAL_FILES`, which other modules validate with their own
checker (see :func:`register_special`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.dialogue.schema import Common, Dialogue, LocalText

YamlPath = tuple[str | int, ...]
"""Where a value sits in a YAML document: mapping keys and list indexes from the root,
such as ``("states", "inhale", "buttons", 0, "go")``."""

COMMON_FILE = "common.yaml"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, order=True)
class Problem:
    """Something wrong in the catalogue, for the author of the YAML to fix."""

    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class CatalogError(Exception):
    """The catalogue cannot be used: the bot refuses to start rather than misbehave."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class SourceMap:
    """The line where each key and list item of one YAML file starts."""

    file: Path
    lines: Mapping[YamlPath, int] = field(default_factory=dict)

    def line(self, path: YamlPath) -> int:
        """The line of ``path``, or of its nearest recorded ancestor (1 if none is known).

        Paths may name things YAML does not hold (a missing key, a ``say`` written as a
        single text): the nearest ancestor is then the best place to look.
        """
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1

    def problem(self, path: YamlPath, message: str) -> Problem:
        """A problem at the line of ``path`` in this file."""
        return Problem(self.file, self.line(path), message)


@dataclass(frozen=True)
class Loaded(Generic[M]):
    """A validated model together with where its parts came from."""

    model: M
    source: SourceMap


SpecialValidator = Callable[[Any, SourceMap], list[Problem]]
"""Checks the parsed YAML of a special file; reports problems through the source map."""

SPECIAL_FILES: dict[str, SpecialValidator | None] = {
    "safety.yaml": None,
    "resources.yaml": None,
    "routines.yaml": None,
}
"""Files that are not dialogues (besides ``common.yaml``), with their validator; ``None``
means the owning module has not plugged one in yet, and the file is skipped."""


def register_special(name: str, validator: SpecialValidator) -> None:
    """Let another module validate its own file (such as ``safety.yaml``) during loading."""
    SPECIAL_FILES[name] = validator


# --- YAML with line numbers ---------------------------------------------------------------


class LineLoader(yaml.SafeLoader):
    """A safe YAML loader that also records the line of every key and list item, and
    reports duplicate keys instead of silently keeping the last one."""

    def __init__(self, text: str, file: Path) -> None:
        super().__init__(text)
        self.file = file
        self.lines: dict[YamlPath, int] = {}
        self.problems: list[Problem] = []

    def load_with_lines(self) -> tuple[Any, SourceMap]:
        """Parse the single document; raises :class:`yaml.YAMLError` on bad syntax."""
        try:
            node = self.get_single_node()
            if node is None:
                return None, SourceMap(self.file, {})
            self._record(node, (), frozenset())
            return self.construct_document(node), SourceMap(self.file, self.lines)
        finally:
            self.dispose()

    def _record(self, node: yaml.Node, path: YamlPath, open_nodes: frozenset[int]) -> None:
        """Record the lines under ``node``; ``open_nodes`` stops recursive aliases."""
        self.lines.setdefault(path, _line(node))
        if id(node) in open_nodes:
            return
        inner = open_nodes | {id(node)}
        if isinstance(node, yaml.MappingNode):
            self._record_mapping(node, path, inner)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._record(item, (*path, index), inner)

    def _record_mapping(
        self, node: yaml.MappingNode, path: YamlPath, open_nodes: frozenset[int]
    ) -> None:
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if key in first_lines and key != "<<":
                self.problems.append(
                    Problem(
                        self.file,
                        _line(key_node),
                        f"duplicate key '{key}' (first at line {first_lines[key]}): "
                        "YAML would silently keep only the last one",
                    )
                )
            first_lines.setdefault(key, _line(key_node))
            self.lines[(*path, key)] = _line(key_node)
            self._record(value_node, (*path, key), open_nodes)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def parse_yaml(file: Path) -> tuple[Any, SourceMap, list[Problem]]:
    """Read one YAML file: its data (``None`` if unreadable), lines, and problems found."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, SourceMap(file), [Problem(file, 1, f"cannot read the file: {error}")]
    loader = LineLoader(text, file)
    try:
        data, source = loader.load_with_lines()
    except yaml.YAMLError as error:
        return None, SourceMap(file), [_syntax_problem(file, error)]
    return data, source, loader.problems


def _syntax_problem(file: Path, error: yaml.YAMLError) -> Problem:
    """The problem at the line where PyYAML noticed it, naming the line the broken
    construct started on when that differs (an unclosed bracket is noticed later)."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return Problem(file, 1, f"YAML syntax error: {error}")
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    message = "YAML syntax error: " + ", ".join(p for p in (error.context, error.problem) if p)
    if error.context_mark is not None and error.context_mark.line + 1 != line:
        message += f" (the construct starts at line {error.context_mark.line + 1})"
    return Problem(file, line, message)


# --- pydantic errors at lines ---------------------------------------------------------------

_FRIENDLY = {
    "missing": "field required",
    "extra_forbidden": "unknown key (a typo?)",
    "string_pattern_mismatch": "must be a name: lower case a-z, 0-9 and _, starting with a letter",
    "model_type": "should be a mapping (key: value lines)",
}


def validate(model: type[M], data: Any, source: SourceMap) -> tuple[M | None, list[Problem]]:
    """Validate parsed YAML against ``model``; on failure, one problem per error."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, _validation_problems(error, source)


def _validation_problems(error: ValidationError, source: SourceMap) -> list[Problem]:
    """One problem per error; the alternatives of one union at one path become one."""
    merged: dict[YamlPath, list[str]] = {}
    problems: list[Problem] = []
    for detail in error.errors(include_url=False):
        path, is_union = _data_path(detail, source)
        message = _message(detail)
        if is_union:
            merged.setdefault(path, [])
            if message not in merged[path]:
                merged[path].append(message)
        else:
            problems.append(source.problem(path, f"{_dotted(path)}: {message}"))
    for path, messages in merged.items():
        problems.append(source.problem(path, f"{_dotted(path)}: {_either(messages)}"))
    return sorted(problems)


def _either(messages: list[str]) -> str:
    """``Input should be a valid integer or a valid string`` from a union's errors."""
    lead = "Input should be "
    if all(message.startswith(lead) for message in messages):
        return lead + " or ".join(message.removeprefix(lead) for message in messages)
    return " or ".join(messages)


def _data_path(detail: ErrorDetails, source: SourceMap) -> tuple[YamlPath, bool]:
    """The path of an error in the YAML, and whether pydantic named a union member in it.

    Pydantic appends the member type of a union (``int``, ``constrained-str``...) and
    ``[key]`` for a bad dict key to ``loc``; those are not places in the YAML. Our field
    and state names are lower case, so such tags are told apart by their spelling.
    """
    path: list[str | int] = []
    is_union = False
    for part in detail["loc"]:
        if isinstance(part, str) and _is_pydantic_tag(part, (*path, part), source):
            is_union = is_union or part != "[key]"
            continue
        path.append(part)
    return tuple(path), is_union


_TAGS = frozenset({"int", "str", "float", "bool", "none", "dict", "list", "constrained-str"})


def _is_pydantic_tag(part: str, path: YamlPath, source: SourceMap) -> bool:
    if path in source.lines:
        return False
    return part in _TAGS or "[" in part or part[:1].isupper() or "-" in part


def _message(detail: ErrorDetails) -> str:
    friendly = _FRIENDLY.get(detail["type"])
    message = str(detail["msg"]).removeprefix("Value error, ")
    if "[key]" in detail["loc"]:
        return f"the key {friendly}" if friendly else f"key: {message}"
    return friendly or message


def _dotted(path: YamlPath) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


# --- the catalogue ----------------------------------------------------------------------------


@dataclass
class Catalog:
    """Every dialogue and the shared ``common.yaml``, validated and linted.

    ``sources`` and ``source_maps`` are optional so tests can build a catalogue from
    models in code; then lines are reported as 1.
    """

    common: Common
    dialogues: dict[str, Dialogue]
    sources: dict[str, Path] = field(default_factory=dict)
    source_maps: dict[str, SourceMap] = field(default_factory=dict)

    def dialogue(self, dialogue_id: str) -> Dialogue:
        """The dialogue named ``dialogue_id``; raises :class:`KeyError` if there is none."""
        return self.dialogues[dialogue_id]

    def by_command(self, name: str) -> Dialogue | None:
        """The dialogue a slash command starts (``"pause"`` or ``"/pause"``), if any."""
        command = name.removeprefix("/").lower()
        return next((d for d in self.dialogues.values() if command in d.triggers.commands), None)

    def string(self, key: str) -> list[LocalText]:
        """The variations of one of the engine's own messages from ``common.yaml``."""
        return self.common.strings[key]

    @property
    def profile_vars(self) -> frozenset[str]:
        """Values kept across dialogues."""
        return frozenset(self.common.profile)

    @property
    def locales(self) -> frozenset[str]:
        """The languages every text is written in."""
        return frozenset(self.common.locales)

    @property
    def consent_var(self) -> str:
        """The profile value that records the user's consent."""
        return self.common.consent_var

    def line(self, dialogue_id: str, path: YamlPath) -> int:
        """The source line of ``path`` (such as ``("states", "inhale")``) in a dialogue."""
        source = self.source_maps.get(dialogue_id)
        return source.line(path) if source is not None else 1

    def where(self, dialogue_id: str, path: YamlPath = ()) -> str:
        """``file:line`` of ``path`` in a dialogue, for log and error messages."""
        file = self.sources.get(dialogue_id, Path(f"<{dialogue_id}>"))
        return f"{file}:{self.line(dialogue_id, path)}"


def load_catalog(directory: Path) -> Catalog:
    """Load, validate and lint every file in ``directory``.

    Raises :class:`CatalogError` with every problem found, so a bad catalogue stops the
    bot at start-up instead of failing in front of a user.
    """
    catalog, problems = _load(directory)
    if problems or catalog is None:
        raise CatalogError(problems or [Problem(directory, 1, "no catalogue could be built")])
    return catalog


def check_directory(directory: Path) -> list[Problem]:
    """Every problem in the catalogue at ``directory`` (what ``validate`` prints)."""
    return _load(directory)[1]


def _load(directory: Path) -> tuple[Catalog | None, list[Problem]]:
    """Load every file; lint what loaded. Returns the catalogue if one could be built."""
    # Imported here because the lint builds on this module's Problem and SourceMap.
    from bot.dialogue.lint import lint

    if not directory.is_dir():
        return None, [Problem(directory, 1, "no such directory")]
    problems: list[Problem] = []
    common = _load_common(directory / COMMON_FILE, problems)
    dialogues: list[Loaded[Dialogue]] = []
    unloaded: list[str] = []
    for file in sorted(directory.glob("*.yaml")):
        if file.name == COMMON_FILE:
            continue
        if file.name in SPECIAL_FILES:
            problems += _check_special(file, SPECIAL_FILES[file.name])
            continue
        loaded, data = _load_model(Dialogue, file, problems)
        if loaded is not None:
            dialogues.append(loaded)
        else:
            unloaded += _claimed_ids(file, data)
    if common is None:
        return None, sorted(problems)
    problems += lint(common, dialogues, unloaded=unloaded)
    return _catalog(common, dialogues), sorted(problems)


def _load_common(file: Path, problems: list[Problem]) -> Loaded[Common] | None:
    if not file.is_file():
        problems.append(Problem(file, 1, "missing: every catalogue needs common.yaml"))
        return None
    return _load_model(Common, file, problems)[0]


def _load_model(
    model: type[M], file: Path, problems: list[Problem]
) -> tuple[Loaded[M] | None, Any]:
    """Parse and validate one file, adding its problems to ``problems``.

    Returns the validated model (``None`` if it is invalid) and the parsed data.
    """
    data, source, found = parse_yaml(file)
    problems += found
    if data is None:
        if not found:
            problems.append(Problem(file, 1, "the file is empty"))
        return None, data
    value, invalid = validate(model, data, source)
    problems += invalid
    return (None if value is None else Loaded(value, source)), data


def _claimed_ids(file: Path, data: Any) -> list[str]:
    """The ids an invalid dialogue file probably meant to define: references to them are
    not reported as unknown dialogues on top of the file's own problems."""
    ids = [file.stem]
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        ids.append(data["id"])
    return ids


def _check_special(file: Path, validator: SpecialValidator | None) -> list[Problem]:
    if validator is None:
        return []
    data, source, found = parse_yaml(file)
    return found if data is None else found + validator(data, source)


def _catalog(common: Loaded[Common], dialogues: Collection[Loaded[Dialogue]]) -> Catalog:
    """The catalogue of what loaded; the first file wins a duplicate id (the lint says so)."""
    first: dict[str, Loaded[Dialogue]] = {}
    for loaded in dialogues:
        first.setdefault(loaded.model.id, loaded)
    return Catalog(
        common=common.model,
        dialogues={key: loaded.model for key, loaded in first.items()},
        sources={key: loaded.source.file for key, loaded in first.items()},
        source_maps={key: loaded.source for key, loaded in first.items()},
    )
