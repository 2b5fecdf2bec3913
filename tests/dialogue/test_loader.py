"""The loader: problems at the right line, and the catalogue it builds."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.dialogue import loader
from bot.dialogue.loader import (
    Catalog,
    CatalogError,
    Problem,
    SourceMap,
    check_directory,
    load_catalog,
    parse_yaml,
)

CLEAN = Path(__file__).parent / "fixtures" / "clean"


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    """A copy of the clean fixture to break one file at a time."""
    return Path(shutil.copytree(CLEAN, tmp_path / "dialogues"))


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def found(directory: Path) -> list[tuple[str, int, str]]:
    return [(p.file.name, p.line, p.message) for p in check_directory(directory)]


def test_syntax_error_is_reported_at_its_line(catalogue: Path) -> None:
    write(
        catalogue,
        "breathe.yaml",
        """
        id: breathe
        title: {en: "Breathe", ru: "Дыхание"
        start: inhale
        """,
    )
    [(name, line, message)] = found(catalogue)
    assert (name, line) == ("breathe.yaml", 3)
    assert message.startswith("YAML syntax error: while parsing a flow mapping")
    assert message.endswith("(the construct starts at line 2)")


def test_duplicate_key_is_reported_at_the_second_occurrence(catalogue: Path) -> None:
    text = (CLEAN / "breathe.yaml").read_text(encoding="utf-8")
    write(
        catalogue,
        "breathe.yaml",
        text.replace("    edit: true\n", "    edit: true\n    edit: false\n", 1),
    )
    assert found(catalogue) == [
        (
            "breathe.yaml",
            9,
            "duplicate key 'edit' (first at line 8): YAML would silently keep only the last one",
        ),
    ]


def test_schema_errors_are_reported_at_the_offending_key(catalogue: Path) -> None:
    write(
        catalogue,
        "breathe.yaml",
        """
        id: breathe
        title: {en: "Breathe", ru: "Дыхание"}
        start: inhale
        states:
          inhale:
            say: {en: "In", ru: "Вдох"}
            after:
              seconds: [4]
              goto: end
          Bad: {}
          end:
            final: true
            input: {save_as: x, go: end}
        """,
    )
    assert found(catalogue) == [
        ("breathe.yaml", 7, "states.inhale.after.go: field required"),
        (
            "breathe.yaml",
            8,
            "states.inhale.after.seconds: Input should be a valid integer or a valid string",
        ),
        ("breathe.yaml", 9, "states.inhale.after.goto: unknown key (a typo?)"),
        (
            "breathe.yaml",
            10,
            "states.Bad: the key must be a name: lower case a-z, 0-9 and _, starting with a letter",
        ),
        ("breathe.yaml", 11, "states.end: a final state cannot wait for input or a timer"),
    ]


def test_empty_and_non_mapping_files_are_problems(catalogue: Path) -> None:
    write(catalogue, "empty.yaml", "")
    write(catalogue, "list.yaml", "- 1\n- 2\n")
    assert found(catalogue) == [
        ("empty.yaml", 1, "the file is empty"),
        ("list.yaml", 1, "(top level): should be a mapping (key: value lines)"),
    ]


def test_missing_common_yaml_is_a_problem(catalogue: Path) -> None:
    (catalogue / "common.yaml").unlink()
    assert found(catalogue) == [("common.yaml", 1, "missing: every catalogue needs common.yaml")]


def test_a_broken_dialogue_is_not_also_reported_as_an_unknown_start_target(
    catalogue: Path,
) -> None:
    write(catalogue, "breathe.yaml", "id: breathe\ntitle: {en: Breathe, ru: Дыхание}\n")
    assert [line for _, line, _ in found(catalogue)] == [1, 1]  # states, start: required


def test_source_map_falls_back_to_the_nearest_recorded_ancestor() -> None:
    source = SourceMap(Path("x.yaml"), {(): 1, ("states",): 4, ("states", "a"): 5})
    assert source.line(("states", "a", "say", 0, "en")) == 5
    assert source.line(("states", "zzz")) == 4
    assert source.line(("title",)) == 1


def test_parse_records_keys_and_list_items(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "a:\n  b:\n    - 1\n    - c: 2\n")
    data, source, problems = parse_yaml(path)
    assert data == {"a": {"b": [1, {"c": 2}]}}
    assert problems == []
    assert source.line(("a", "b", 0)) == 3
    assert source.line(("a", "b", 1, "c")) == 4


def test_load_catalog_raises_with_every_problem(catalogue: Path) -> None:
    write(catalogue, "empty.yaml", "")
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalogue)
    assert raised.value.problems == [Problem(catalogue / "empty.yaml", 1, "the file is empty")]
    assert str(raised.value) == f"{catalogue / 'empty.yaml'}:1: the file is empty"


def test_catalog_lookups() -> None:
    catalog = load_catalog(CLEAN)
    assert isinstance(catalog, Catalog)
    assert sorted(catalog.dialogues) == ["breathe", "pause"]
    assert catalog.dialogue("pause").start == "stop"
    by_command = catalog.by_command("/Pause")
    assert by_command is not None and by_command.id == "pause"
    assert catalog.by_command("nothing") is None
    assert catalog.sources["breathe"] == CLEAN / "breathe.yaml"
    assert catalog.line("pause", ("states", "draft", "buttons", 1)) == 35
    assert catalog.where("pause", ("states", "done")) == f"{CLEAN / 'pause.yaml'}:40"
    assert catalog.profile_vars == frozenset({"name"})
    assert catalog.consent_var == "consented"
    assert len(catalog.string("offer")) == 2


@pytest.fixture
def special_validator() -> Iterator[list[Any]]:
    """Plug a validator for ``safety.yaml`` in, and take it out again afterwards."""
    seen: list[Any] = []
    before = loader.SPECIAL_FILES["safety.yaml"]

    def check(data: Any, source: SourceMap) -> list[Problem]:
        seen.append(data)
        return [source.problem(("version",), "not a pattern")]

    loader.register_special("safety.yaml", check)
    yield seen
    loader.SPECIAL_FILES["safety.yaml"] = before


def test_special_files_go_to_their_own_validator(special_validator: list[Any]) -> None:
    lines = (CLEAN / "safety.yaml").read_text(encoding="utf-8").splitlines()
    version_line = 1 + next(i for i, line in enumerate(lines) if line.startswith("version:"))
    assert found(CLEAN) == [("safety.yaml", version_line, "not a pattern")]
    assert special_validator[0]["version"] == 1
