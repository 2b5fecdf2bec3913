"""Finding a user's IANA time zone from what they type or from a shared location.

Pure lookups over the zone database that ships with Python (``zoneinfo``) and the
``tzdata`` package's tables (``tzdata.zi`` for links such as ``Europe/Kiev`` ->
``Europe/Kyiv``, ``zone.tab`` for coordinates, ``iso3166.tab`` for country names). The
tables are read once, lazily. No user-facing prose here: results are zone ids and the
caller words them.

Offsets: people write "UTC+2" / "GMT+2" meaning two hours *ahead* of UTC. The IANA
``Etc/GMT-2`` zone is that offset: POSIX inverts the sign in ``Etc`` names. So a typed
offset ("GMT+2", "utc-5", "+3") maps to the Etc zone with the inverted sign, while a full
``Etc/GMT+2`` typed literally is taken as the IANA name it is (UTC-2). Fixed offsets have
no daylight saving; :attr:`ZoneMatch.via` says ``"offset"`` so the caller can say so.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal
from zoneinfo import available_timezones

SHORT_LIST: tuple[str, ...] = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Kyiv",
    "Europe/Moscow",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
)
"""Common zones for one-tap buttons (ids only; labels come from the content files)."""

MAX_SUGGESTIONS = 5

MatchKind = Literal["name", "alias", "city", "country", "offset"]

_EXCLUDED = frozenset({"Factory", "localtime", "posixrules", "leapseconds"})
_EXCLUDED_PREFIXES = ("posix/", "right/", "SystemV/")
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*(?:([+\-\u2212])\s*(\d{1,2})(?:[:.h]?(\d{2}))?)?$")
_EARTH_RADIUS_KM = 6371.0088

# Common names iso3166.tab does not use (it says "Britain (UK)", "United States").
_COUNTRY_ALIASES = {
    "UK": "GB",
    "Great Britain": "GB",
    "United Kingdom": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "USA": "US",
    "United States of America": "US",
    "UAE": "AE",
}

# Cyrillic to Latin, so that "Берлин" or "Киев" finds its zone (zone ids are Latin).
# A plain letter-by-letter table: good for names that sound alike, not a gazetteer.
_CYRILLIC = str.maketrans(
    {
        **dict(zip("абвгдезийклмнопрстуфхцыэ", "abvgdezijklmnoprstufhcye", strict=True)),
        "ё": "e",
        "ж": "zh",
        "ч": "ch",
        "ш": "sh",
        "щ": "sch",
        "ю": "yu",
        "я": "ya",
        "ъ": "",
        "ь": "",
        "\u0456": "i",  # Ukrainian i
        "ї": "i",
        "є": "ye",
        "ґ": "g",
    }
)


@dataclass(frozen=True)
class ZoneMatch:
    """The outcome of :func:`match_zone`.

    ``zone`` is a loadable IANA id when the query was unambiguous, else ``None`` and
    ``suggestions`` holds up to five ids to offer as buttons (possibly none). ``via``
    says how an exact match was found; ``"offset"`` means a fixed offset without DST.
    """

    zone: str | None
    suggestions: tuple[str, ...] = ()
    via: MatchKind | None = None

    @property
    def exact(self) -> bool:
        """Whether the query named one zone."""
        return self.zone is not None


def match_zone(query: str) -> ZoneMatch:
    """Resolve a typed city, zone, country or UTC offset to an IANA zone id.

    Tried in order: a UTC offset ("UTC", "GMT+2"); a zone name ("America/New_York");
    a city part ("new york", "New-York", "sydney"); a country name with a single zone
    ("Germany"). Matching ignores case, accents, spaces, underscores and hyphens between
    words, and transliterates Cyrillic ("Берлин", "Киев").
    Deprecated names resolve to their current one (``Europe/Kiev`` -> ``Europe/Kyiv``,
    ``US/Eastern`` -> ``America/New_York``). A city or country with several zones, or no
    match at all, gives suggestions instead: prefix matches, then difflib's close
    matches over zone names and city parts.
    """
    text = query.strip()
    if not text:
        return ZoneMatch(None)
    offset = _match_offset(text)
    if offset is not None:
        return offset
    key = _compact(text)
    index = _index()
    tables: tuple[tuple[MatchKind, dict[str, tuple[str, ...]]], ...] = (
        ("name", index.names),
        ("city", index.cities),
        ("country", index.countries),
    )
    for kind, table in tables:
        if key in table:
            return _from_candidates(table[key], kind)
    return ZoneMatch(None, _suggest(key))


def _from_candidates(names: tuple[str, ...], kind: MatchKind) -> ZoneMatch:
    """An exact match if ``names`` resolve to one zone, else those zones as suggestions."""
    zones = _unique(_canonical(name) for name in names)
    if len(zones) == 1:
        return ZoneMatch(zones[0], via=kind if zones[0] in names else "alias")
    suggestable = _index().suggestable
    return ZoneMatch(None, tuple(z for z in zones if z in suggestable)[:MAX_SUGGESTIONS])


def _match_offset(text: str) -> ZoneMatch | None:
    """A typed UTC offset as a fixed Etc zone, ``None`` if ``text`` is not an offset.

    Whole hours from -12 to +14 exist as ``Etc/GMT∓N``; other offsets (+05:30) have no
    fixed zone and give an empty, non-exact match so the user picks a city instead.
    """
    match = _OFFSET.match(text.casefold())
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if sign is None:
        return ZoneMatch("UTC", via="offset")
    total = int(hours) * 60 + int(minutes or 0)
    if sign != "+":
        total = -total
    if total == 0:
        return ZoneMatch("UTC", via="offset")
    if total % 60 or not -12 * 60 <= total <= 14 * 60:
        return ZoneMatch(None)
    return ZoneMatch(f"Etc/GMT{-total // 60:+d}", via="offset")


def _suggest(key: str) -> tuple[str, ...]:
    """Up to five zones whose names or city parts start with, or resemble, ``key``."""
    index = _index()
    keys = sorted(index.fuzzy)
    prefixed = sorted((k for k in keys if k.startswith(key)), key=len)
    close = difflib.get_close_matches(key, keys, n=20, cutoff=0.6)
    zones = _unique(_canonical(name) for k in (*prefixed, *close) for name in index.fuzzy[k])
    return tuple(zone for zone in zones if zone in index.suggestable)[:MAX_SUGGESTIONS]


def zone_from_location(lat: float, lon: float) -> str:
    """An approximate zone for a shared location: the nearest reference city.

    The reference cities are the principal locations in tzdata's ``zone.tab`` (one or
    more per country) plus a few large cities far from theirs (see
    :data:`_EXTRA_POINTS`). This is not a border lookup: near a zone or country border
    the answer can be the neighbour's, so the caller should confirm it with the user,
    offering :func:`nearest_zones` as alternatives.
    """
    return nearest_zones(lat, lon, limit=1)[0]


def nearest_zones(lat: float, lon: float, limit: int = 3) -> tuple[str, ...]:
    """The ``limit`` distinct zones whose reference cities are nearest to a location."""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"not a coordinate: {lat}, {lon}")
    ranked = sorted(_reference_points(), key=lambda p: _distance_km(lat, lon, p[0], p[1]))
    return _unique(zone for _, _, zone in ranked)[:limit]


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance between two coordinates."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


# Large cities whose nearest zone.tab city lies in another zone (e.g. Delhi is nearer
# Kathmandu than Kolkata, Mumbai nearer Karachi). Coordinates, then the zone they use.
_EXTRA_POINTS: tuple[tuple[float, float, str], ...] = (
    (28.61, 77.21, "Asia/Kolkata"),  # Delhi
    (19.08, 72.88, "Asia/Kolkata"),  # Mumbai
    (12.97, 77.59, "Asia/Kolkata"),  # Bengaluru
    (13.08, 80.27, "Asia/Kolkata"),  # Chennai
    (17.39, 78.49, "Asia/Kolkata"),  # Hyderabad
    (23.02, 72.57, "Asia/Kolkata"),  # Ahmedabad
    (26.85, 80.95, "Asia/Kolkata"),  # Lucknow
    (48.14, 11.58, "Europe/Berlin"),  # Munich
)


@cache
def _reference_points() -> tuple[tuple[float, float, str], ...]:
    """(lat, lon, zone) for every zone.tab line, plus :data:`_EXTRA_POINTS`."""
    loadable = _index().suggestable
    points = [
        (*_parse_iso6709(fields[1]), fields[2])
        for fields in _tab_rows("zone.tab")
        if fields[2] in loadable
    ]
    return (*points, *_EXTRA_POINTS)


def _parse_iso6709(text: str) -> tuple[float, float]:
    """``+DDMM+DDDMM`` or ``+DDMMSS+DDDMMSS`` (zone.tab's format) to decimal degrees."""
    match = re.fullmatch(r"([+-]\d{4}(?:\d{2})?)([+-]\d{5}(?:\d{2})?)", text)
    if match is None:
        raise ValueError(f"bad coordinate {text!r}")
    return _degrees(match.group(1), 2), _degrees(match.group(2), 3)


def _degrees(text: str, width: int) -> float:
    """One signed ISO 6709 component with ``width`` digits of whole degrees."""
    sign = -1.0 if text[0] == "-" else 1.0
    digits = text[1:]
    whole, minutes, seconds = digits[:width], digits[width : width + 2], digits[width + 2 :]
    return sign * (int(whole) + int(minutes) / 60 + int(seconds or 0) / 3600)


@dataclass(frozen=True)
class _Index:
    """Lookup tables built once from the zone database (keys are :func:`_compact`)."""

    names: dict[str, tuple[str, ...]]
    cities: dict[str, tuple[str, ...]]
    countries: dict[str, tuple[str, ...]]
    fuzzy: dict[str, tuple[str, ...]]
    links: dict[str, str]
    suggestable: frozenset[str]


@cache
def _index() -> _Index:
    """Build the lookup tables; cached, so the files are read once per process."""
    zones = sorted(_usable_zones())
    links = _links()
    preferred = _preferred_names(zones, links)
    suggestable = frozenset(z for z in preferred if "/" in z and not z.startswith("Etc/"))
    # Top-level legacy names are abbreviations ("EST" is Panama's fixed offset, not
    # New York) or countries (matched through iso3166.tab instead): not names.
    names = _group((_compact(z), z) for z in zones if "/" in z or z == "UTC")
    cities = _group((_compact(city), z) for z in zones for city in _city_parts(z))
    fuzzy = _group((_compact(key), z) for z in zones for key in (z, *_city_parts(z)) if "/" in z)
    return _Index(names, cities, _countries(), fuzzy, links, suggestable | {"UTC"})


def _usable_zones() -> set[str]:
    """Loadable zone ids, minus build artefacts and the posix/right mirror trees."""
    return {
        zone
        for zone in available_timezones()
        if zone not in _EXCLUDED and not zone.startswith(_EXCLUDED_PREFIXES)
    }


def _preferred_names(zones: Iterable[str], links: dict[str, str]) -> frozenset[str]:
    """Names to show: real zones (not links), zone.tab entries, UTC and Etc offsets.

    A link listed in zone.tab (``Europe/Amsterdam``) is still a country's own name and
    kept; one that is not (``Europe/Kiev``, ``US/Eastern``) is a deprecated spelling.
    """
    tabbed = {fields[2] for name in ("zone.tab", "zone1970.tab") for fields in _tab_rows(name)}
    return frozenset(z for z in zones if z not in links or z in tabbed or z == "UTC")


def _canonical(zone: str) -> str:
    """The preferred name for ``zone``: itself, or the zone a deprecated link points to."""
    index = _index()
    seen = {zone}
    while zone not in index.suggestable and zone in index.links:
        zone = index.links[zone]
        if zone in seen:
            break
        seen.add(zone)
    return zone


def _city_parts(zone: str) -> tuple[str, ...]:
    """The trailing parts of a zone id: ``America/Argentina/Salta`` -> two keys."""
    parts = zone.split("/")
    return tuple("/".join(parts[i:]) for i in range(1, len(parts)))


def _countries() -> dict[str, tuple[str, ...]]:
    """Country name (also without its parenthesis, or the acronym in it) -> its zones."""
    zones_by_code: dict[str, list[str]] = {}
    for fields in _tab_rows("zone.tab"):
        zones_by_code.setdefault(fields[0], []).append(fields[2])
    named = [(key, f[0]) for f in _tab_rows("iso3166.tab") for key in _country_keys(f[1])]
    named += [(_compact(alias), code) for alias, code in _COUNTRY_ALIASES.items()]
    return _group((key, zone) for key, code in named for zone in zones_by_code.get(code, ()))


def _country_keys(name: str) -> set[str]:
    """Lookup keys for an iso3166.tab name: as written, and without a parenthesis
    (``Korea (South)`` -> ``korea``, which then names two countries)."""
    return {_compact(name), _compact(name.partition(" (")[0])}


@cache
def _links() -> dict[str, str]:
    """Link name -> target from ``tzdata.zi`` (``L Europe/Kyiv Europe/Kiev`` lines)."""
    links: dict[str, str] = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            links[alias] = target
    return links


def _tab_rows(name: str) -> list[list[str]]:
    """The tab-separated, non-comment rows of a tzdata table file."""
    return [
        line.split("\t")
        for line in _tzdata_text(name).splitlines()
        if line and not line.startswith("#")
    ]


@cache
def _tzdata_text(name: str) -> str:
    """A file from the ``tzdata`` package's ``zoneinfo`` folder."""
    return resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")


def _compact(text: str) -> str:
    """A matching key: case-folded, accents dropped, Cyrillic transliterated, without
    spaces, underscores, dots, apostrophes and hyphens between letters (so
    "Port-au-Prince" == "port au prince"), while the sign in ``Etc/GMT-2`` survives."""
    text = unicodedata.normalize("NFKD", text.strip().casefold()).translate(_CYRILLIC)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", "", text)
    return re.sub(r"[\s_.'\u2019]+", "", text)


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Group (key, zone) pairs into key -> zones, keeping first-seen order."""
    grouped: dict[str, list[str]] = {}
    for key, zone in pairs:
        bucket = grouped.setdefault(key, [])
        if zone not in bucket:
            bucket.append(zone)
    return {key: tuple(zones) for key, zones in grouped.items()}


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """``items`` without repeats, in first-seen order."""
    return tuple(dict.fromkeys(items))
