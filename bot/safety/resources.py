"""Crisis helplines by country, and their plain-text rendering.

Why: when the screen detects a crisis, the bot shows local help. The numbers come from one
checked data file, ``dialogues/resources.yaml`` (copied from ``RESOURCES.md``); every word the
user reads comes from that file too (no prose in Python). Lines the source marks "(check)"
carry ``checked: false`` and are never rendered, so no unverified number is shown as fact.

What: :func:`resources_for` picks a country (explicit country, else the region of a locale
such as "en-GB", else a language hint such as "de" -> DE, else the international fallback) and
:func:`render` turns it into plain text (no Markdown or HTML), one line per helpline,
"Name — what it is — how to reach it (hours)", ending with the emergency number.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from bot.dialogue.loader import Problem, SourceMap

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "dialogues" / "resources.yaml"
TELEGRAM_LIMIT = 4096
NAME = r"^[a-z][a-z0-9_]*$"
Name = Annotated[str, Field(pattern=NAME)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2,4}$")]
LocalText = dict[str, str]


class _Strict(BaseModel):
    """Unknown keys are errors: a typo in helpline data must fail loudly at start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _local(text: LocalText | None, locale: str, fallback: str) -> str:
    """Pick a locale's text, else the fallback locale's, else any ("" when there is none)."""
    if not text:
        return ""
    return text.get(locale) or text.get(fallback) or next(iter(text.values()))


class Reach(_Strict):
    """One way to reach a line: call, text (optionally a keyword), TTY, WhatsApp or web."""

    kind: Literal["call", "text", "tty", "whatsapp", "web"]
    number: str | None = None
    keyword: str | None = None
    url: str | None = None
    note: LocalText | None = None

    @model_validator(mode="after")
    def _has_address(self) -> Reach:
        if self.kind == "web" and not self.url:
            raise ValueError("a web contact needs a url")
        if self.kind != "web" and not self.number:
            raise ValueError(f"a {self.kind} contact needs a number")
        return self


class Line(_Strict):
    """A helpline. ``open_24_7`` and ``hours`` are set only where the source states them."""

    id: Name
    name: str
    region: LocalText | None = None
    what: LocalText
    for_: list[Name] = Field(alias="for", min_length=1)
    general: bool = False
    reach: list[Reach] = Field(min_length=1)
    open_24_7: bool = False
    hours: LocalText | None = None
    note: LocalText | None = None
    checked: bool = True


class Emergency(_Strict):
    """A country's emergency number(s), with an optional note ("police: 110")."""

    numbers: list[str] = Field(min_length=1)
    note: LocalText | None = None


class CountryResources(_Strict):
    """The lines of one country (or of the international fallback, whose emergency is None).

    ``inferred`` is set by :func:`resources_for` when the country was guessed from a locale
    rather than known; rendering then adds the international fallback too. ``called`` lists
    what people type for the country in any language ("uk", "britain", "deutschland"), for
    :func:`find_country`.
    """

    code: str = ""
    name: LocalText
    called: list[str] = Field(default_factory=list)
    emergency: Emergency | None
    lines: list[Line] = Field(min_length=1)
    also_international: bool = False
    inferred: bool = False


class Labels(_Strict):
    """The words around the data, per locale. ``{number}``, ``{keyword}``, ``{url}``,
    ``{country}`` and ``{numbers}`` are filled in."""

    heading: str
    separator: str
    reach_joiner: str
    call: str
    text: str
    text_keyword: str
    tty: str
    whatsapp: str
    web: str
    open_24_7: str
    emergency: str
    emergency_joiner: str
    emergency_local: str


class ResourcesFile(_Strict):
    """``dialogues/resources.yaml``."""

    version: int = Field(ge=1)
    fallback_locale: Name
    international: CountryCode
    aliases: dict[str, CountryCode] = Field(default_factory=dict)
    labels: dict[Name, Labels]
    language_country: dict[Name, CountryCode | None] = Field(default_factory=dict)
    countries: dict[CountryCode, CountryResources]

    @model_validator(mode="before")
    @classmethod
    def _codes_into_countries(cls, data: Any) -> Any:
        """Copy each country's key into its ``code`` so a CountryResources knows itself."""
        if isinstance(data, dict) and isinstance(data.get("countries"), dict):
            countries = {
                key: {**value, "code": key} if isinstance(value, dict) else value
                for key, value in data["countries"].items()
            }
            data = {**data, "countries": countries}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ResourcesFile:
        if self.fallback_locale not in self.labels:
            raise ValueError("labels need an entry for the fallback locale")
        if self.international not in self.countries:
            raise ValueError("the international fallback needs an entry under countries")
        targets = [*self.aliases.values(), *self.language_country.values()]
        unknown = {code for code in targets if code and code not in self.countries}
        if unknown:
            raise ValueError(f"aliases or language hints name unknown countries {sorted(unknown)}")
        for code, country in self.countries.items():
            if code != self.international and country.emergency is None:
                raise ValueError(f"{code} needs an emergency number")
            if not any(line.checked for line in country.lines):
                raise ValueError(f"{code} has no checked line")
        return self

    @classmethod
    def from_yaml(cls, path: str | Path = DEFAULT_PATH) -> ResourcesFile:
        """Load and validate a resources file."""
        with Path(path).open(encoding="utf-8") as handle:
            return cls.model_validate(yaml.safe_load(handle))


@lru_cache(maxsize=1)
def default_resources() -> ResourcesFile:
    """``dialogues/resources.yaml``, loaded once."""
    return ResourcesFile.from_yaml(DEFAULT_PATH)


def _subtags(locale: object) -> tuple[str, str]:
    """("en", "GB") from "en-GB" / "en_gb"; empty strings where absent or not a string."""
    if not isinstance(locale, str):
        return "", ""
    parts = locale.strip().replace("_", "-").split("-")
    region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), "")
    return parts[0].lower(), region


def _known(code: str, data: ResourcesFile) -> str | None:
    """The country key for a code (aliases applied), or None when the file has no entry."""
    code = data.aliases.get(code, code)
    return code if code in data.countries else None


def resources_for(
    country: str | None, locale: str = "en", data: ResourcesFile | None = None
) -> CountryResources:
    """Resources for a user: their country if known; else the region of their locale
    ("en-GB" -> GB); else their language's default country ("de" -> DE); else international.
    A known-but-unlisted country or region goes to international, never to a guess."""
    data = data or default_resources()
    fallback = data.countries[data.international]
    if isinstance(country, str) and country.strip():
        code = _known(country.strip().upper(), data)
        return data.countries[code] if code else fallback
    language, region = _subtags(locale)
    if region:
        code = _known(region, data)
        return data.countries[code].model_copy(update={"inferred": True}) if code else fallback
    hinted = data.language_country.get(language)
    if hinted is None:
        return fallback
    return data.countries[hinted].model_copy(update={"inferred": True})


def _folded(text: str) -> str:
    """Lower case, letters only, single spaces: "  U.S.A.! " -> "usa", "New-Zealand" ->
    "new zealand"."""
    kept = "".join(c if c.isalnum() or c.isspace() or c == "-" else "" for c in text.casefold())
    return " ".join(kept.replace("-", " ").split())


def find_country(typed: str, data: ResourcesFile | None = None) -> str | None:
    """The country code for what someone typed: a code ("UK", "de"), a name in any locale
    of the file, or one of the country's ``called`` words, forgiving a small typo
    ("germny"). ``None`` when nothing is close enough: better to ask again than to show
    another country's numbers."""
    data = data or default_resources()
    wanted = _folded(typed)
    if not wanted:
        return None
    names: dict[str, str] = {}
    for code, country in data.countries.items():
        if code == data.international:
            continue
        for name in [code, *country.name.values(), *country.called]:
            names[_folded(name)] = code
    for alias, code in data.aliases.items():
        names[_folded(alias)] = _known(code, data) or code
    for candidate in (wanted, wanted.removeprefix("the ")):
        if candidate in names:
            return names[candidate]
    # 0.9 forgives one slip in a long name ("germny") but not a neighbour: "austria" is
    # 0.875 like "australia", "iceland" 0.857 like "ireland".
    close = get_close_matches(wanted, [name for name in names if len(name) > 3], n=1, cutoff=0.9)
    return names[close[0]] if close else None


def _chosen_lines(country: CountryResources, categories: set[str] | None) -> list[Line]:
    """Checked lines for the categories (specific ones first, then general ones); all checked
    lines when no category is given or none matches."""
    lines = [line for line in country.lines if line.checked]
    if not categories:
        return lines
    specific = [line for line in lines if categories & set(line.for_)]
    general = [line for line in lines if line.general and line not in specific]
    return specific + general or lines


def _reach_text(reach: Reach, labels: Labels, locale: str, fallback: str) -> str:
    """One way to reach a line as text, such as "Call 116 123" or "Text HOME to 741741"."""
    if reach.kind == "web":
        text = labels.web.format(url=reach.url)
    elif reach.kind == "text" and reach.keyword:
        text = labels.text_keyword.format(keyword=reach.keyword, number=reach.number)
    else:
        template = getattr(labels, reach.kind)
        text = str(template).format(number=reach.number)
    note = _local(reach.note, locale, fallback)
    return f"{text} ({note})" if note else text


def _line_text(line: Line, labels: Labels, locale: str, fallback: str) -> str:
    """One helpline as "Name (region) — what it is — how to reach it (hours, note)"."""
    region = _local(line.region, locale, fallback)
    name = f"{line.name} ({region})" if region else line.name
    reach = labels.reach_joiner.join(_reach_text(r, labels, locale, fallback) for r in line.reach)
    extras = [
        labels.open_24_7 if line.open_24_7 else _local(line.hours, locale, fallback),
        _local(line.note, locale, fallback),
    ]
    suffix = ", ".join(extra for extra in extras if extra)
    what = _local(line.what, locale, fallback)
    text = labels.separator.join((name, what, reach))
    return f"{text} ({suffix})" if suffix else text


def _emergency_text(country: CountryResources, labels: Labels, locale: str, fallback: str) -> str:
    """The last line: the emergency number(s), or "call your local emergency number"."""
    if country.emergency is None:
        return labels.emergency_local
    numbers = labels.emergency_joiner.join(country.emergency.numbers)
    note = _local(country.emergency.note, locale, fallback)
    if note:
        numbers = f"{numbers} ({note})"
    return labels.emergency.format(country=_local(country.name, locale, fallback), numbers=numbers)


def render(
    country_resources: CountryResources,
    categories: Iterable[str] | None = None,
    locale: str = "en",
    data: ResourcesFile | None = None,
) -> str:
    """Plain text for Telegram (no parse mode): a heading, one line per checked helpline
    relevant to ``categories``, then the emergency number as the very last line. Lines are
    dropped from the end if needed to stay under Telegram's 4096 characters."""
    data = data or default_resources()
    language, _ = _subtags(locale)
    fallback = data.fallback_locale
    labels = data.labels.get(language) or data.labels[fallback]
    wanted = set(categories) if categories is not None else None
    lines = _chosen_lines(country_resources, wanted)
    if country_resources.inferred or country_resources.also_international:
        international = data.countries[data.international]
        if international.code != country_resources.code:
            lines += _chosen_lines(international, wanted)
    body = [_line_text(line, labels, language, fallback) for line in lines]
    head = [labels.heading] if labels.heading else []
    tail = [_emergency_text(country_resources, labels, language, fallback)]
    while body and len("\n".join(head + body + tail)) >= TELEGRAM_LIMIT:
        body.pop()
    return "\n".join(head + body + tail)


def check_file(data: Any, source: SourceMap) -> list[Problem]:
    """Every problem in parsed ``resources.yaml``, at its line, for ``python -m bot validate``:
    its shape, and that each line's ``for`` names a category of ``safety.yaml`` beside it.

    Shaped as a :data:`bot.dialogue.loader.SpecialValidator`; plug it in with
    ``register_special("resources.yaml", check_file)`` where the app is assembled.
    """
    from bot.dialogue.loader import parse_yaml, validate  # here: no import-time coupling

    model, problems = validate(ResourcesFile, data, source)
    if model is None:
        return problems
    safety, _, _ = parse_yaml(source.file.parent / "safety.yaml")
    known = safety.get("categories") if isinstance(safety, dict) else None
    if not isinstance(known, list):
        return problems
    for code, country in model.countries.items():
        for index, line in enumerate(country.lines):
            for category in sorted(set(line.for_) - set(map(str, known))):
                path = ("countries", code, "lines", index, "for")
                problems.append(source.problem(path, f"{line.id}: unknown category {category}"))
    return problems
