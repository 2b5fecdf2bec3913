"""Tests for helpline data (dialogues/resources.yaml) and its rendering (bot/safety/resources.py).

A wrong or unverified number can harm someone, so these tests pin the emergency numbers,
check that "(check)" lines never reach the user, that every line says how to reach it, that
the emergency number is always last, and that unknown countries fall back to international.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.safety.resources import (
    CountryResources,
    ResourcesFile,
    default_resources,
    find_country,
    render,
    resources_for,
)

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "dialogues" / "resources.yaml"
SAFETY = ROOT / "dialogues" / "safety.yaml"
COUNTRIES = ["US", "GB", "CA", "AU", "IE", "NZ", "DE", "IN", "ES", "RU"]
EMERGENCY = {  # from RESOURCES.md
    "US": ["911"],
    "GB": ["999"],
    "CA": ["911"],
    "AU": ["000"],
    "IE": ["112", "999"],
    "NZ": ["111"],
    "DE": ["112"],
    "IN": ["112"],
    "ES": ["112"],
    "RU": ["112"],
}
UNCHECKED = {"ca_on_awhl", "in_women_police", "ru_anna"}  # marked "(check)" in RESOURCES.md
UNCHECKED |= {"ca_on_mens_counselling_link"}  # harm_to_partner: found only in a press release
CATEGORY_SETS: list[set[str] | None] = [
    None,
    {"suicide_self_harm"},
    {"partner_violence_fear"},
    {"sexual_coercion"},
    {"child_at_risk"},
    {"eating_disorder"},
    {"medical_emergency"},
    {"partner_violence_fear", "child_at_risk"},
]


@pytest.fixture(scope="module")
def data() -> ResourcesFile:
    """The real resources file."""
    return default_resources()


def _body(text: str) -> list[str]:
    """Rendered lines between the heading and the emergency line."""
    return text.splitlines()[1:-1]


def test_every_country_is_listed_with_its_emergency_number(data: ResourcesFile) -> None:
    assert set(COUNTRIES) | {data.international} == set(data.countries)
    for code, numbers in EMERGENCY.items():
        emergency = data.countries[code].emergency
        assert emergency is not None and emergency.numbers == numbers


@pytest.mark.parametrize("code", [*COUNTRIES, "INTL"])
@pytest.mark.parametrize("categories", CATEGORY_SETS)
def test_render_ends_with_emergency_and_every_line_says_how_to_reach_it(
    data: ResourcesFile, code: str, categories: set[str] | None
) -> None:
    text = render(data.countries[code], categories, "en")
    last = text.splitlines()[-1]
    labels = data.labels["en"]
    if code == "INTL":
        assert last == labels.emergency_local
    else:
        assert last.startswith(labels.emergency.split("{", 1)[0])
        assert all(number in last for number in EMERGENCY[code])
    ways = [labels.call, labels.text, labels.text_keyword, labels.tty, labels.whatsapp]
    prefixes = tuple(way.split("{", 1)[0] for way in ways)
    body = _body(text)
    assert body, "at least one helpline"
    for line in body:
        assert line.count(labels.separator) == 2, line
        how = line.split(labels.separator)[2]
        assert how.startswith(prefixes) or re.match(r"[\w-]+\.[a-z]{2,}", how), line
        assert re.search(r"\d", how) or "." in how, line
    assert len(text) < 4096


@pytest.mark.parametrize("code", COUNTRIES)
def test_unchecked_numbers_are_never_rendered(data: ResourcesFile, code: str) -> None:
    country = data.countries[code]
    unchecked = [line for line in country.lines if not line.checked]
    checked_text = " ".join(
        r.number or "" for line in country.lines if line.checked for r in line.reach
    )
    for categories in CATEGORY_SETS:
        text = render(country, categories, "en")
        for line in unchecked:
            assert line.name not in text
            for reach in line.reach:
                if reach.number and reach.number not in checked_text:
                    assert reach.number not in text


def test_lines_flagged_check_in_the_source_are_unchecked(data: ResourcesFile) -> None:
    unchecked = {line.id for c in data.countries.values() for line in c.lines if not line.checked}
    assert unchecked == UNCHECKED


def test_people_worried_about_their_own_behaviour_get_their_lines(data: ResourcesFile) -> None:
    def shown(code: str) -> str:
        return render(resources_for(code, "en", data), ["harm_to_partner"], "en", data)

    assert "0808 802 4040" in shown("GB")
    assert "1300 766 491" in shown("AU") and "1300 789 978" in shown("AU")
    assert "0800 456 450" in shown("NZ") and "0508 744 633" in shown("NZ")
    assert "1-800-799-7233" in shown("US")
    assert "211" not in shown("CA").split("Emergency")[0], "an unchecked line is never shown"
    for code in data.countries:
        assert shown(code).splitlines()[-1].startswith("Emergency"), code


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("UK", "GB"),
        ("uk", "GB"),
        ("Deutschland", "DE"),
        ("usa", "US"),
        ("U.S.A.", "US"),
        ("the States", "US"),
        ("Россия", "RU"),
        ("españa", "ES"),
        ("New-Zealand", "NZ"),
        ("germny", "DE"),
        ("Narnia", None),
        ("Austria", None),  # not Australia: a neighbour's numbers would be wrong
        ("Iceland", None),
        ("", None),
        ("France", None),
    ],
)
def test_a_typed_country_is_found_or_not_guessed(
    data: ResourcesFile, typed: str, code: str | None
) -> None:
    assert find_country(typed, data) == code


def test_line_categories_are_screen_categories(data: ResourcesFile) -> None:
    screen_categories = set(yaml.safe_load(SAFETY.read_text(encoding="utf-8"))["categories"])
    for country in data.countries.values():
        for line in country.lines:
            assert set(line.for_) <= screen_categories, line.id


@pytest.mark.parametrize(
    ("country", "locale", "expected", "inferred"),
    [
        ("US", "en", "US", False),
        ("us", "en", "US", False),
        ("UK", "en", "GB", False),
        (" gb ", "de", "GB", False),
        ("FR", "de", "INTL", False),  # a known but unlisted country is never guessed
        ("Narnia", "en", "INTL", False),
        (None, "en", "INTL", False),  # English alone says nothing about where someone is
        (None, "de", "DE", True),
        (None, "es", "ES", True),
        (None, "ru", "RU", True),
        (None, "en-GB", "GB", True),
        (None, "en_nz", "NZ", True),
        (None, "pt-BR", "INTL", False),
        (None, "de-AT", "INTL", False),
        (None, "", "INTL", False),
        ("", "xx", "INTL", False),
    ],
)
def test_resources_for(
    data: ResourcesFile, country: str | None, locale: str, expected: str, inferred: bool
) -> None:
    found = resources_for(country, locale, data)
    assert isinstance(found, CountryResources)
    assert found.code == expected
    assert found.inferred is inferred


def test_resources_for_is_total_on_odd_input(data: ResourcesFile) -> None:
    odd: Any = 42
    assert resources_for(odd, odd, data).code == "INTL"


def test_a_guessed_country_also_shows_the_international_fallback(data: ResourcesFile) -> None:
    text = render(resources_for(None, "es", data), {"suicide_self_harm"}, "es", data)
    assert "024" in text and "findahelpline.com" in text
    assert text.splitlines()[-1].endswith("112")
    assert "findahelpline.com" not in render(resources_for("ES", "es", data), None, "es", data)


def test_categories_choose_specific_lines_first_then_general(data: ResourcesFile) -> None:
    body = _body(render(data.countries["US"], {"sexual_coercion"}, "en"))
    names = [line.split(" — ")[0] for line in body]
    assert names[0] in {"National Domestic Violence Hotline", "RAINN"}
    assert {"RAINN", "988 Suicide & Crisis Lifeline"} <= set(names)
    body = _body(render(data.countries["US"], {"eating_disorder"}, "en"))
    assert all(not line.startswith("RAINN") for line in body)


def test_hours_are_shown_only_where_the_source_gives_them(data: ResourcesFile) -> None:
    text = render(data.countries["GB"], None, "en")
    assert "Men's Advice Line" in text and "(weekdays, office hours)" in text
    assert (
        "Samaritans — emotional support for anyone struggling — Call 116 123 (24/7, free)" in text
    )
    assert "Shout — crisis support by text — Text 85258\n" in text


def test_rendering_is_plain_text(data: ResourcesFile) -> None:
    for code in [*COUNTRIES, "INTL"]:
        text = render(data.countries[code], None, "en")
        assert not re.search(r"[*_`<>\[\]]", text), code


def test_labels_come_from_the_data_file() -> None:
    raw: dict[str, Any] = yaml.safe_load(RESOURCES.read_text(encoding="utf-8"))
    raw["labels"]["en"].update(call="Ring {number}", emergency="SOS {country}: {numbers}")
    custom = ResourcesFile.model_validate(raw)
    text = render(custom.countries["US"], None, "en", custom)
    assert "Ring 988" in text and "Call 988" not in text
    assert text.splitlines()[-1] == "SOS United States: 911"


def test_long_lists_are_cut_but_keep_the_emergency_line_last() -> None:
    raw: dict[str, Any] = yaml.safe_load(RESOURCES.read_text(encoding="utf-8"))
    template = raw["countries"]["US"]["lines"][0]
    raw["countries"]["US"]["lines"] = [
        {**template, "id": f"line_{i}", "what": {"en": "x" * 200}} for i in range(40)
    ]
    big = ResourcesFile.model_validate(raw)
    text = render(big.countries["US"], None, "en", big)
    assert len(text) < 4096
    assert text.splitlines()[-1] == "Emergency (United States): 911"


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["countries"]["US"].update(emergency=None),
        lambda r: r["countries"]["US"]["lines"][0]["reach"].append({"kind": "call"}),
        lambda r: r["countries"]["US"]["lines"][0].update(unknown_key=1),
        lambda r: r["language_country"].update(fr="FR"),
        lambda r: [line.update(checked=False) for line in r["countries"]["NZ"]["lines"]],
    ],
)
def test_bad_data_is_refused(change: Any) -> None:
    raw: dict[str, Any] = yaml.safe_load(RESOURCES.read_text(encoding="utf-8"))
    change(raw)
    with pytest.raises(ValueError):
        ResourcesFile.model_validate(raw)


def test_validate_hook_accepts_the_real_file_and_names_unknown_categories(
    tmp_path: Path,
) -> None:
    from bot.dialogue.loader import parse_yaml
    from bot.safety.resources import check_file

    data, source, problems = parse_yaml(RESOURCES)
    assert problems == [] and check_file(data, source) == []
    raw: dict[str, Any] = yaml.safe_load(RESOURCES.read_text(encoding="utf-8"))
    raw["countries"]["US"]["lines"][0]["for"] = ["gambling"]
    (tmp_path / "resources.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    (tmp_path / "safety.yaml").write_text(SAFETY.read_text(encoding="utf-8"), encoding="utf-8")
    data, source, _ = parse_yaml(tmp_path / "resources.yaml")
    found = check_file(data, source)
    assert [p.message for p in found] == ["us_988: unknown category gambling"]
