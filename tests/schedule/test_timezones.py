"""Zone lookup from typed text and from coordinates (bot.schedule.timezones)."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.schedule import SHORT_LIST, match_zone, nearest_zones, zone_from_location
from bot.schedule.timezones import ZoneMatch, _index


@pytest.mark.parametrize(
    ("query", "zone", "via"),
    [
        ("berlin", "Europe/Berlin", "city"),
        ("  Berlin ", "Europe/Berlin", "city"),
        ("New York", "America/New_York", "city"),
        ("new_york", "America/New_York", "city"),
        ("NEW-YORK", "America/New_York", "city"),
        ("newyork", "America/New_York", "city"),
        ("America/New_York", "America/New_York", "name"),
        ("america/new york", "America/New_York", "name"),
        ("sydney", "Australia/Sydney", "city"),
        ("kyiv", "Europe/Kyiv", "city"),
        ("kiev", "Europe/Kyiv", "alias"),
        ("Europe/Kiev", "Europe/Kyiv", "alias"),
        ("calcutta", "Asia/Kolkata", "alias"),
        ("US/Eastern", "America/New_York", "alias"),
        ("amsterdam", "Europe/Amsterdam", "city"),  # a link, but a country's own name
        ("buenos aires", "America/Argentina/Buenos_Aires", "city"),
        ("port au prince", "America/Port-au-Prince", "city"),
        ("São Paulo", "America/Sao_Paulo", "city"),
        ("St. John's", "America/St_Johns", "city"),
        ("Берлин", "Europe/Berlin", "city"),
        ("Киев", "Europe/Kyiv", "alias"),
        ("Japan", "Asia/Tokyo", "country"),
        ("india", "Asia/Kolkata", "country"),
        ("UK", "Europe/London", "country"),
    ],
)
def test_exact_matches(query: str, zone: str, via: str) -> None:
    assert match_zone(query) == ZoneMatch(zone, (), via)  # type: ignore[arg-type]
    ZoneInfo(zone)


@pytest.mark.parametrize(
    ("query", "zone"),
    [
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("GMT", "UTC"),
        ("UTC+0", "UTC"),
        ("GMT+2", "Etc/GMT-2"),
        ("utc+02:00", "Etc/GMT-2"),
        ("UTC-5", "Etc/GMT+5"),
        ("+3", "Etc/GMT-3"),
        ("UTC+14", "Etc/GMT-14"),
        ("UTC-12", "Etc/GMT+12"),
    ],
)
def test_typed_offsets_mean_hours_ahead_of_utc(query: str, zone: str) -> None:
    match = match_zone(query)
    assert (match.zone, match.via) == (zone, "offset")


def test_etc_sign_is_inverted_and_literal_etc_names_are_kept() -> None:
    now = datetime(2026, 7, 1, tzinfo=UTC)
    ahead = match_zone("GMT+2").zone
    assert ahead is not None
    assert now.astimezone(ZoneInfo(ahead)).utcoffset() == timedelta(hours=2)
    literal = match_zone("Etc/GMT+2")
    assert (literal.zone, literal.via) == ("Etc/GMT+2", "name")
    assert now.astimezone(ZoneInfo("Etc/GMT+2")).utcoffset() == timedelta(hours=-2)


@pytest.mark.parametrize("query", ["GMT+5:30", "UTC+15", "UTC-13", "", "   "])
def test_offsets_without_a_fixed_zone_and_empty_input(query: str) -> None:
    assert match_zone(query) == ZoneMatch(None)


def test_ambiguous_city_gives_suggestions() -> None:
    match = match_zone("eastern")  # US/Eastern and Canada/Eastern
    assert match.zone is None and not match.exact
    assert set(match.suggestions) == {"America/New_York", "America/Toronto"}


def test_country_with_several_zones_gives_them_in_table_order() -> None:
    germany = match_zone("Germany")
    assert germany.zone is None
    assert germany.suggestions[0] == "Europe/Berlin"
    usa = match_zone("United States")
    assert usa.suggestions[0] == "America/New_York"
    assert len(usa.suggestions) == 5


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("berlun", "Europe/Berlin"),
        ("sydnei", "Australia/Sydney"),
        ("los angelos", "America/Los_Angeles"),
        ("londn", "Europe/London"),
        ("Київ", "Europe/Kyiv"),
        ("new yor", "America/New_York"),
    ],
)
def test_typos_suggest_the_intended_zone_first(query: str, first: str) -> None:
    match = match_zone(query)
    assert match.zone is None
    assert match.suggestions[0] == first
    assert len(match.suggestions) <= 5


ODD_QUERIES = [*string.ascii_lowercase, "posix", "right", "factory", "local", "est", "etc", "gm"]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_suggestions_are_current_loadable_region_names(query: str) -> None:
    match = match_zone(query)
    for zone in match.suggestions:
        assert zone == "UTC" or "/" in zone
        assert not zone.startswith(("posix/", "right/", "Etc/", "SystemV/"))
        assert zone not in {"Factory", "localtime", "posixrules"}
        assert zone not in {"Europe/Kiev", "Asia/Calcutta", "US/Eastern"}  # deprecated
        ZoneInfo(zone)


@pytest.mark.parametrize("query", ["Factory", "localtime", "posixrules", "posix/Europe/Berlin"])
def test_odd_names_never_match_exactly(query: str) -> None:
    assert match_zone(query).zone is None


def test_every_current_zone_matches_itself() -> None:
    for zone in sorted(_index().suggestable):
        assert match_zone(zone).zone == zone, zone


def test_short_list() -> None:
    assert 7 <= len(SHORT_LIST) <= 10
    assert "UTC" in SHORT_LIST
    assert len(set(SHORT_LIST)) == len(SHORT_LIST)
    for zone in SHORT_LIST:
        ZoneInfo(zone)
        assert match_zone(zone).zone == zone


# --- from a shared location --------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "zone"),
    [
        (52.5200, 13.4050, "Europe/Berlin"),
        (40.7128, -74.0060, "America/New_York"),
        (-33.8688, 151.2093, "Australia/Sydney"),
        (51.5074, -0.1278, "Europe/London"),
        (22.5333, 88.3667, "Asia/Kolkata"),  # Kolkata, zone.tab's own coordinates
        (28.6139, 77.2090, "Asia/Kolkata"),  # Delhi (nearer Kathmandu's reference point)
        (19.0760, 72.8777, "Asia/Kolkata"),  # Mumbai (nearer Karachi's)
        (48.1372, 11.5756, "Europe/Berlin"),  # Munich (nearer Vaduz's)
        (35.6762, 139.6503, "Asia/Tokyo"),
        (55.7558, 37.6173, "Europe/Moscow"),
        (50.4501, 30.5234, "Europe/Kyiv"),
        (34.0522, -118.2437, "America/Los_Angeles"),
        (-23.5505, -46.6333, "America/Sao_Paulo"),
    ],
)
def test_zone_from_location(lat: float, lon: float, zone: str) -> None:
    assert zone_from_location(lat, lon) == zone


def test_nearest_zones_are_distinct_and_ordered() -> None:
    got = nearest_zones(52.52, 13.405, limit=3)
    assert got[0] == "Europe/Berlin"
    assert len(got) == len(set(got)) == 3
    for zone in got:
        ZoneInfo(zone)


@pytest.mark.parametrize(("lat", "lon"), [(91.0, 0.0), (0.0, 181.0), (-90.5, 10.0)])
def test_location_out_of_range(lat: float, lon: float) -> None:
    with pytest.raises(ValueError):
        zone_from_location(lat, lon)
