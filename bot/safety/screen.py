"""The crisis screen: a pure, fast classifier that every free-text message passes first.

Why it exists: a relationship coach must notice a disclosure of self-harm, violence, sexual
coercion, a child at risk, an eating disorder or a drug emergency in any dialogue, and hand
over to real help instead of carrying on with a breathing exercise (``CONTENT.md``, section 6).

What it is: regular expressions from ``dialogues/safety.yaml``, grouped by locale and by
category, matched against a normalised copy of the message (see :func:`normalise`). It is
transport-agnostic (no Telegram here), pure (no I/O after loading, no logging, nothing stored)
and total: :meth:`Screen.classify` returns ``None`` or a :class:`Detection` for any input,
including empty, huge, binary-looking or non-string input, and never raises.

A :class:`Detection` names the category and the id of the pattern that fired, never the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from bot.dialogue.loader import Problem, SourceMap

NAME = r"^[a-z][a-z0-9_]*$"
Name = Annotated[str, Field(pattern=NAME)]
FRAGMENT_REF = re.compile(r"<([a-z][a-z0-9_]*)>")
MAX_FRAGMENT_DEPTH = 5
DEFAULT_QUESTION = "default"
"""The key of the question asked when unsure, for categories without one of their own."""

# --- normalisation -------------------------------------------------------------------------

_APOSTROPHES = "'\u2018\u2019\u201a\u201b\u02bc\u02bb\u0060\u00b4\u2032\uff07"
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
_SENTENCE_MARKS = ".!?;\n\r"
_DELETE = {ord(char): None for char in _APOSTROPHES + _INVISIBLE}
_SENTENCE_END = re.compile(r"[.!?;\n\r\u2026\u3002]+")
_NOT_WORD = re.compile(r"[^\w.]+|_")
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1{2,}")
_REPEATED_STOP = re.compile(r"\.(?: \.)+")
_LEET_DIGIT = re.compile(r"[013457]")
_LEET_WORD = re.compile(r"\b[a-z][a-z013457]*[013457][a-z013457]*\b")
_LEET = str.maketrans("013457", "oieast")


def _ascii_table() -> dict[int, str | None]:
    """One ``str.translate`` table doing, for ASCII text, what the general path does with
    NFKC, case folding and two regexes: lower-case letters, keep digits, drop apostrophes,
    sentence marks to " . ", everything else to a space."""
    table: dict[int, str | None] = {}
    for code in range(128):
        char = chr(code)
        if char.isalnum():
            table[code] = char.lower()
        elif char in "'`":
            table[code] = None
        elif char in _SENTENCE_MARKS:
            table[code] = " . "
        else:
            table[code] = " "
    return table


_ASCII = _ascii_table()


def _unleet(match: re.Match[str]) -> str:
    """Read digits inside a word as the letters they stand for ("k1ll" -> "kill")."""
    return match.group(0).translate(_LEET)


def _fold_unicode(text: str) -> str:
    """Steps 1-3 of :func:`normalise` for any text: NFKC, case folding, apostrophes and
    invisible characters out, sentence marks to " . ", other non-word characters to spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_DELETE)
    return _NOT_WORD.sub(" ", _SENTENCE_END.sub(" . ", folded))


def _fold(text: str) -> str:
    """Steps 1-3: one table lookup for ASCII (same result, several times faster)."""
    return text.translate(_ASCII) if text.isascii() else _fold_unicode(text)


def normalise(text: str) -> str:
    """Return the canonical form that patterns are written against.

    Steps, in order (documented for pattern authors in the header of ``safety.yaml``):
    Unicode NFKC; case folding; apostrophes (straight and curly) and invisible characters
    removed, so "I'm", "I\u2019m" and "im" are one word; sentence punctuation (. ! ? ; … and line
    breaks) becomes a lone " . " so that word gaps in patterns do not run across sentences;
    every other non-word character becomes a space; a letter repeated three or more times is
    cut to two ("sooooo" -> "soo"); leetspeak digits inside a word that starts with a letter
    become letters ("k1ll" -> "kill", "d13" -> "die"); whitespace is collapsed and trimmed.
    """
    if not isinstance(text, str):
        return ""
    folded = _fold(text)
    if _REPEATED_LETTER.search(folded) is not None:
        folded = _REPEATED_LETTER.sub(r"\1\1", folded)
    if _LEET_DIGIT.search(folded) is not None:
        folded = _LEET_WORD.sub(_unleet, folded)
    collapsed = " ".join(folded.split())
    return _REPEATED_STOP.sub(".", collapsed) if ". ." in collapsed else collapsed


# --- the YAML file -------------------------------------------------------------------------


class _Strict(BaseModel):
    """Unknown keys are errors: a typo in the safety file must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PatternSpec(_Strict):
    """One regular expression with a stable id (the id is what a :class:`Detection` reports)."""

    id: Name
    re: str = Field(min_length=1)


class CategoryPatterns(_Strict):
    """The patterns of one category: ``match`` fires it; ``unless`` masks figurative spans
    (for example "killing myself laughing") before ``match`` is tried."""

    match: list[PatternSpec] = Field(min_length=1)
    unless: list[PatternSpec] = Field(default_factory=list)


class Grounding(_Strict):
    """A short grounding exercise shown after the resources (for example 5-4-3-2-1)."""

    intro: str
    steps: list[str] = Field(min_length=1)
    outro: str = ""


class LearnedSpec(_Strict):
    """The learned second stage of a locale: where its labelled phrases are (relative to
    the dialogues folder) and the two thresholds on its risk estimate. At ``answer_at`` and
    above the crisis answer is given at once; from ``ask_at`` up to it, the person is first
    asked whether they are safe; below ``ask_at`` the message goes on to the dialogue.
    When the rules fire on a message the learned stage finds harmless (a risk below
    ``confirm_rules_at``: "years ago he hit me, I'm safe now"), the person is asked too,
    rather than answered: still caught, at the cost of one question. Messages shorter than
    ``min_words`` ("yes", "not now", a typed button) are left to the rules: there is too
    little in them for n-grams to judge."""

    phrases: str = Field(min_length=1)
    ask_at: float = Field(gt=0.0, lt=1.0)
    answer_at: float = Field(gt=0.0, le=1.0)
    confirm_rules_at: float = Field(default=0.0, ge=0.0, lt=1.0)
    min_words: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> LearnedSpec:
        if self.answer_at < self.ask_at:
            raise ValueError("answer_at must not be below ask_at")
        return self


class LocaleSafety(_Strict):
    """Everything for one language: reusable regex fragments, patterns, the learned stage,
    and the words the bot says on detection (a caring message per category, the question
    asked when unsure, the grounding exercise, the way back)."""

    fragments: dict[Name, str] = Field(default_factory=dict)
    patterns: dict[Name, CategoryPatterns] = Field(default_factory=dict)
    learned: LearnedSpec | None = None
    messages: dict[Name, str] = Field(default_factory=dict)
    questions: dict[Name, str] = Field(default_factory=dict)
    answers: dict[Literal["yes", "no", "unsure"], list[str]] = Field(default_factory=dict)
    grounding: Grounding | None = None
    way_back: str = ""


class SafetyFile(_Strict):
    """``dialogues/safety.yaml``: the category ids in priority order, the locale used when a
    message's locale has no entry (its patterns also run for every locale), and the locales."""

    version: int = Field(ge=1)
    categories: list[Name] = Field(min_length=1)
    fallback_locale: Name
    locales: dict[Name, LocaleSafety]

    @field_validator("categories")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("category ids must be unique")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SafetyFile:
        fallback = self.locales.get(self.fallback_locale)
        if fallback is None:
            raise ValueError(f"fallback locale '{self.fallback_locale}' has no entry")
        known = set(self.categories)
        for code, spec in self.locales.items():
            named = set(spec.patterns) | set(spec.messages) | set(spec.questions)
            unknown = named - known - {DEFAULT_QUESTION}
            if unknown:
                raise ValueError(f"locale '{code}' names unknown categories {sorted(unknown)}")
        missing = known - set(fallback.messages)
        if missing or fallback.grounding is None or not fallback.way_back:
            raise ValueError(
                f"fallback locale needs a message for every category (missing {sorted(missing)}),"
                " a grounding exercise and a way_back text"
            )
        if DEFAULT_QUESTION not in fallback.questions:
            raise ValueError(f"fallback locale needs a '{DEFAULT_QUESTION}' question")
        return self


# --- compiled form -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Detection:
    """What the screen found: the first category by priority, the id of the pattern that fired
    it, and every category that fired (priority order). Never the text itself."""

    category: str
    pattern_id: str
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _CompiledCategory:
    """One category of one locale, precompiled for speed.

    ``match`` is every pattern's alternatives merged into one :class:`_Union`, which only
    answers "did anything fire, and where"; ``patterns`` then tells which pattern fired,
    needed only on the rare positive path.
    """

    category: str
    match: _Union
    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    unless: _Mask | None

    def first_match(self, text: str) -> str | None:
        """Id of a pattern that fires on normalised ``text``, or ``None``."""
        if self.unless is not None and self.unless.start(text) is not None:
            text = self.unless.mask(text)
        start = self.match.start(text)
        if start is None:
            return None
        for pattern_id, pattern in self.patterns:
            if pattern.match(text, start) is not None:
                return pattern_id
        return next((i for i, p in self.patterns if p.search(text)), self.patterns[0][0])


@dataclass(frozen=True, slots=True)
class _Union:
    """Where any of several alternatives matches, computed fast.

    ``fast`` holds the alternatives that start at a word (``\\b`` + a letter), merged into a
    trie of their literal prefixes and matched on " " + text: the engine jumps from space to
    space and only tests letters that can start a pattern. ``slow`` holds the rest as is.
    """

    fast: re.Pattern[str] | None
    slow: re.Pattern[str] | None

    def start(self, text: str) -> int | None:
        """Where the leftmost match begins in ``text``, or ``None``."""
        starts = []
        if self.fast is not None and (found := self.fast.search(" " + text)) is not None:
            starts.append(found.start())
        if self.slow is not None and (found := self.slow.search(text)) is not None:
            starts.append(found.start())
        return min(starts) if starts else None


@dataclass(frozen=True, slots=True)
class _Mask(_Union):
    """A union that can also mask its matches (for ``unless`` patterns). ``exact`` is the
    same union with the original ``\\b`` rather than a consumed space: slower, so it is
    only used once :meth:`start` has found a hit."""

    exact: re.Pattern[str]

    def mask(self, text: str) -> str:
        """``text`` with every match replaced by " ~ "."""
        return self.exact.sub(" ~ ", text)


# --- turning alternatives into a trie (speed only; semantics are unchanged) ----------------

_SPECIAL = frozenset("()[]{}?*+|.^$\\")
_QUANTIFIER = frozenset("?*+{")
# Expanding a pattern's leading alternatives into the tries makes matching faster but the
# compiled regexes larger: 256 gave ~35 us a message but 3-4 s to compile at every start;
# 4 gives ~100 us a message and under a second (benchmarks/safety.py prints both).
_EXPANSION_CAP = 4


def _structure(source: str) -> Iterator[tuple[int, str, int]]:
    """Each character of a regex that is outside escapes and character classes, with
    its index and the group depth once it is read (a ``(`` counts, a ``)`` uncounts)."""
    depth, index, in_class = 0, 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            index += _class_opening(source, index)
        else:
            depth += (char == "(") - (char == ")")
            yield index, char, depth
        index += 1


def _alternatives(source: str) -> list[str]:
    """Split a regex at its top-level ``|`` (outside groups and character classes)."""
    cuts = [i for i, char, depth in _structure(source) if char == "|" and depth == 0]
    bounds = zip([-1, *cuts], [*cuts, len(source)], strict=True)
    return [source[start + 1 : end] for start, end in bounds]


def _class_opening(source: str, index: int) -> int:
    """How many characters after ``[`` at ``index`` belong to the opening (``^``, a leading
    ``]``), which must not be read as the end of the class."""
    skip = 1 if source[index + 1 : index + 2] == "^" else 0
    return skip + (1 if source[index + 1 + skip : index + 2 + skip] == "]" else 0)


def _group_end(source: str) -> int:
    """Index of the ``)`` closing the group that opens ``source`` (-1 if unbalanced)."""
    closing = (i for i, char, depth in _structure(source) if char == ")" and depth == 0)
    return next(closing, -1)


def _literal_prefix(source: str) -> tuple[str, str]:
    """Split off the longest run of plain literal characters at the start of a regex
    (a character followed by a quantifier is not part of it)."""
    chars: list[str] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\":
            escaped = source[index + 1 : index + 2]
            if not escaped or escaped.isalnum():  # \b, \w, \d, \n, \1, \x.. are not literals
                break
            step, literal = 2, escaped
        elif char in _SPECIAL:
            break
        else:
            step, literal = 1, char
        if source[index + step : index + step + 1] in _QUANTIFIER:
            break
        chars.append(literal)
        index += step
    return "".join(chars), source[index:]


def _expand(source: str, depth: int = 0) -> list[str]:
    """Equivalent alternatives for ``source`` in which a leading plain group ``(?:a|b)rest``
    (or optional ``(?:a|b)?rest``) is distributed into ``arest``, ``brest`` (and ``rest``),
    until each starts with a literal character, or the cap is reached."""
    prefix, rest = _literal_prefix(source)
    if prefix or not rest.startswith("(?:") or depth > 4:
        return [source]
    end = _group_end(rest)
    if end < 0:
        return [source]
    inner, after = rest[3:end], rest[end + 1 :]
    if after[:2] == "?+":  # possessive: not a plain optional group
        return [source]
    optional = after[:1] == "?"
    if optional:
        after = after[2:] if after[1:2] == "?" else after[1:]
    elif after[:1] in _QUANTIFIER:
        return [source]
    branches = [prefix + branch + after for branch in _alternatives(inner)]
    branches += [prefix + after] if optional else []
    expanded = [alt for branch in branches for alt in _expand(branch, depth + 1)]
    return expanded if len(expanded) <= _EXPANSION_CAP else [source]


def _trie(items: list[tuple[str, str]]) -> str:
    """Regex for (literal prefix, rest) pairs, sharing prefixes letter by letter."""
    groups: dict[str, list[tuple[str, str]]] = {}
    parts: list[str] = []
    for prefix, rest in items:
        if prefix:
            groups.setdefault(prefix[0], []).append((prefix[1:], rest))
        else:
            parts.append(rest)
    parts = [re.escape(char) + _trie(sub) for char, sub in groups.items()] + parts
    return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"


def _parts(sources: list[str]) -> tuple[str, list[str]]:
    """The trie of word-start alternatives ("" if none) and the other alternatives."""
    fast: list[tuple[str, str]] = []
    slow: list[str] = []
    for alternative in (alt for source in sources for alt in _alternatives(source)):
        if not alternative.startswith("\\b"):
            slow.append(alternative)
            continue
        for expanded in _expand(alternative[2:]):
            prefix, rest = _literal_prefix(expanded)
            if prefix and (prefix[0].isalnum() or prefix[0] == "_"):
                fast.append((prefix, rest))
            else:
                slow.append("\\b" + expanded)
    return (_trie(fast) if fast else ""), slow


def _union(sources: list[str]) -> _Union:
    """A :class:`_Union` matching wherever any of ``sources`` matches."""
    trie, slow = _parts(sources)
    return _Union(
        fast=re.compile(" " + trie) if trie else None,
        slow=re.compile("|".join(slow)) if slow else None,
    )


def _mask(sources: list[str]) -> _Mask:
    """A :class:`_Mask` for ``unless`` patterns."""
    trie, slow = _parts(sources)
    return _Mask(
        fast=re.compile(" " + trie) if trie else None,
        slow=re.compile("|".join(slow)) if slow else None,
        exact=re.compile("|".join(([f"\\b{trie}"] if trie else []) + slow)),
    )


def _expand_fragments(source: str, fragments: Mapping[str, str], where: str) -> str:
    """Replace ``<name>`` fragment references (which may nest, a few levels deep)."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in fragments:
            raise ValueError(f"{where}: unknown fragment <{name}>")
        return fragments[name]

    for _ in range(MAX_FRAGMENT_DEPTH):
        if FRAGMENT_REF.search(source) is None:
            return source
        source = FRAGMENT_REF.sub(lookup, source)
    raise ValueError(f"{where}: fragments nest deeper than {MAX_FRAGMENT_DEPTH} levels")


def _checked(spec: PatternSpec, fragments: Mapping[str, str], where: str) -> str:
    """Expand one pattern and check it compiles and has no capturing group of its own
    (capturing groups would clash once patterns are joined)."""
    source = _expand_fragments(spec.re, fragments, f"{where}/{spec.id}")
    try:
        compiled = re.compile(source)
    except re.error as error:
        raise ValueError(f"{where}/{spec.id}: invalid regular expression: {error}") from error
    if compiled.groups:
        raise ValueError(f"{where}/{spec.id}: use (?:...) groups, not capturing groups")
    return source


@dataclass(frozen=True, slots=True)
class _CompiledLocale:
    """A locale's categories, plus two locale-wide unions used as a gate: when no ``unless``
    mask fires anywhere (the common case) nothing is masked, so one search of ``any_match``
    decides soundly whether any category can fire at all."""

    categories: tuple[_CompiledCategory, ...]
    any_match: _Union | None
    any_unless: _Union | None

    def fired(self, text: str, skip: Mapping[str, str]) -> dict[str, str]:
        """{category: pattern id} for every category (not in ``skip``) that fires."""
        unmasked = self.any_unless is None or self.any_unless.start(text) is None
        if unmasked and (self.any_match is None or self.any_match.start(text) is None):
            return {}
        found: dict[str, str] = {}
        for category in self.categories:
            if category.category not in skip:
                pattern_id = category.first_match(text)
                if pattern_id is not None:
                    found[category.category] = pattern_id
        return found


def _compile_category(
    category: str, sources: list[tuple[str, str]], unless: list[str]
) -> _CompiledCategory:
    """Precompile a category: the fast union, each pattern alone, and the unless masks."""
    return _CompiledCategory(
        category=category,
        match=_union([source for _, source in sources]),
        patterns=tuple((pattern_id, re.compile(source)) for pattern_id, source in sources),
        unless=_mask(unless) if unless else None,
    )


def _compile_locale(code: str, spec: LocaleSafety, order: list[str]) -> _CompiledLocale:
    """Check and compile a locale's categories (in priority order) and its gate."""
    categories: list[_CompiledCategory] = []
    every_match: list[str] = []
    every_unless: list[str] = []
    for name in (name for name in order if name in spec.patterns):
        where = f"{code}/{name}"
        patterns = spec.patterns[name]
        sources = [(p.id, _checked(p, spec.fragments, where)) for p in patterns.match]
        unless = [_checked(p, spec.fragments, f"{where}/unless") for p in patterns.unless]
        categories.append(_compile_category(name, sources, unless))
        every_match += [source for _, source in sources]
        every_unless += unless
    return _CompiledLocale(
        categories=tuple(categories),
        any_match=_union(every_match) if every_match else None,
        any_unless=_union(every_unless) if every_unless else None,
    )


def _language(locale: object) -> str:
    """The primary language subtag of a locale such as "en-GB" or "pt_BR" ("" if none)."""
    if not isinstance(locale, str):
        return ""
    return locale.strip().lower().replace("_", "-").split("-", 1)[0]


class Screen:
    """The loaded, precompiled screen. Build it once at start-up and share it."""

    def __init__(self, spec: SafetyFile) -> None:
        """Compile every locale; raises ``ValueError`` on a bad file, so that a broken
        pattern stops the bot at start-up rather than silently screening nothing."""
        self.spec = spec
        self._locales = {
            code: _compile_locale(code, locale, spec.categories)
            for code, locale in spec.locales.items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Screen:
        """Build from an already parsed ``safety.yaml``."""
        return cls(SafetyFile.model_validate(data))

    @classmethod
    def from_yaml(cls, path: str | Path) -> Screen:
        """Load and compile ``dialogues/safety.yaml`` (or another file of the same shape)."""
        with Path(path).open(encoding="utf-8") as handle:
            return cls.from_dict(yaml.safe_load(handle))

    @property
    def categories(self) -> tuple[str, ...]:
        """Category ids in priority order."""
        return tuple(self.spec.categories)

    def resolve(self, locale: object) -> str:
        """The locale whose text to use: the message's language if present, else fallback."""
        language = _language(locale)
        return language if language in self.spec.locales else self.spec.fallback_locale

    def _compiled_for(self, locale: object) -> tuple[_CompiledLocale, ...]:
        """Pattern sets to run: the locale's own, then the fallback's (people switch language)."""
        code = self.resolve(locale)
        fallback = self.spec.fallback_locale
        if code == fallback:
            return (self._locales[fallback],)
        return (self._locales[code], self._locales[fallback])

    def classify(self, text: str, locale: str = "en") -> Detection | None:
        """Screen one message. ``None`` means no crisis was recognised.

        Total by design: non-string input is treated as empty and no step can raise.
        """
        return self.classify_normalised(normalise(text), locale)

    def classify_normalised(self, normalised: str, locale: str = "en") -> Detection | None:
        """:meth:`classify` for text already passed through :func:`normalise` (the two-tier
        screen normalises once for both tiers)."""
        if not normalised:
            return None
        fired: dict[str, str] = {}
        for compiled in self._compiled_for(locale):
            fired.update(compiled.fired(normalised, fired))
        if not fired:
            return None
        ordered = tuple(name for name in self.spec.categories if name in fired)
        return Detection(ordered[0], fired[ordered[0]], ordered)

    def message(self, category: str, locale: str = "en") -> str:
        """The caring words for a detected category, in the locale (or the fallback)."""
        own = self.spec.locales[self.resolve(locale)].messages.get(category)
        fallback = self.spec.locales[self.spec.fallback_locale].messages
        return own or fallback.get(category) or fallback[self.spec.categories[0]]

    def question(self, category: str, locale: str = "en") -> str:
        """What to ask when the learned stage is unsure ("Are you safe right now?")."""
        for code in (self.resolve(locale), self.spec.fallback_locale):
            questions = self.spec.locales[code].questions
            found = questions.get(category) or questions.get(DEFAULT_QUESTION)
            if found:
                return found
        raise LookupError("the fallback locale always has a default question")

    def typed_answer(self, text: str, locale: str = "en") -> str | None:
        """The answer ("yes", "no" or "unsure") when ``text`` answers the question in so
        many words ("nope", "I'm not safe", "idk"), in the locale or the fallback."""
        words = " ".join(word for word in normalise(text).split() if word != ".")
        for code in (self.resolve(locale), self.spec.fallback_locale):
            for answer, phrases in self.spec.locales[code].answers.items():
                if words in (normalise(phrase) for phrase in phrases):
                    return answer
        return None

    def grounding(self, locale: str = "en") -> Grounding:
        """The grounding exercise in the locale (or the fallback)."""
        own = self.spec.locales[self.resolve(locale)].grounding
        fallback = self.spec.locales[self.spec.fallback_locale].grounding
        chosen = own or fallback
        assert chosen is not None  # guaranteed by SafetyFile validation
        return chosen

    def way_back(self, locale: str = "en") -> str:
        """The line that offers a way back to the dialogue (and mentions /help_now)."""
        own = self.spec.locales[self.resolve(locale)].way_back
        return own or self.spec.locales[self.spec.fallback_locale].way_back


def check_file(data: Any, source: SourceMap) -> list[Problem]:
    """Every problem in parsed ``safety.yaml``, at its line, for ``python -m bot validate``.

    Shaped as a :data:`bot.dialogue.loader.SpecialValidator`; plug it in with
    ``register_special("safety.yaml", check_file)`` where the app is assembled.
    """
    from bot.dialogue.loader import validate  # here, so the screen never imports the loader

    model, problems = validate(SafetyFile, data, source)
    if model is None:
        return problems
    for code, locale in model.locales.items():
        for name, patterns in locale.patterns.items():
            specs = [("match", i, p) for i, p in enumerate(patterns.match)]
            specs += [("unless", i, p) for i, p in enumerate(patterns.unless)]
            for kind, index, spec in specs:
                try:
                    _checked(spec, locale.fragments, f"{code}/{name}")
                except ValueError as error:
                    path = ("locales", code, "patterns", name, kind, index)
                    problems.append(source.problem(path, str(error)))
        if locale.learned is not None:
            found = _phrase_problem(locale.learned, source.file, set(model.categories))
            if found:
                problems.append(source.problem(("locales", code, "learned", "phrases"), found))
    return problems


def _phrase_problem(spec: LearnedSpec, safety_file: Path, categories: set[str]) -> str:
    """Why a locale's labelled phrases cannot train its learned stage ("" if they can)."""
    from bot.safety.phrases import LabelledPhrases  # only the check needs them

    path = safety_file.resolve().parent / spec.phrases
    try:
        phrases = LabelledPhrases.from_yaml(path)
    except (OSError, ValueError, yaml.YAMLError) as error:
        return f"labelled phrases {spec.phrases}: {error}"
    unknown = phrases.categories() - categories
    if unknown:
        return f"labelled phrases {spec.phrases}: unknown categories {sorted(unknown)}"
    if not phrases.train.positives or not phrases.train.negatives:
        return f"labelled phrases {spec.phrases}: the train part needs positives and negatives"
    return ""
