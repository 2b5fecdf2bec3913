"""Setting reminders up through the conversation: onboarding, /settings, /routines, the
time zone, times, quiet hours, pause and stop; and the rows that follow."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.app import App
from bot.clock import ManualClock
from bot.coach.actions import Edit, Reply, Send
from bot.coach.events import Command, Event, Press, Scheduled, Text
from bot.schedule.effects import read_clock, read_quiet
from bot.schedule.recurrence import QuietHours
from bot.schedule.timezones import SHORT_LIST
from tests.schedule.conftest import rows, subscribe

USER = "cli:sam"
ONBOARDING = ["Tell me more", "Okay", "Yes, I'm 18+ and agree", "No", "Got it"]


class Talk:
    """One user, pressing buttons by their labels as a person would."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.buttons: dict[str, str] = {}

    async def __call__(self, event: Event | str) -> Reply:
        reply = await self.app.coach.handle(USER, Text(event) if isinstance(event, str) else event)
        for action in reply.actions:
            if isinstance(action, Send | Edit) and action.buttons:
                self.buttons = {b.text: b.data for b in action.buttons}
        return reply

    async def press(self, label: str) -> Reply:
        assert label in self.buttons, f"no {label!r} in {list(self.buttons)}"
        return await self(Press(self.buttons[label]))

    async def onboard(self) -> Reply:
        await self(Command("start"))
        for label in ONBOARDING:
            reply = await self.press(label)
        return reply

    def said(self, reply: Reply) -> str:
        return "\n".join(reply.texts())


@pytest.fixture
async def talk(app: App, clock: ManualClock) -> Talk:
    await clock.set(datetime(2026, 2, 2, 12, tzinfo=UTC))
    return Talk(app)


async def test_onboarding_offers_the_check_in_at_20_and_asks_for_the_zone(
    talk: Talk, app: App
) -> None:
    offer = await talk.onboard()
    assert "daily check-in" in talk.said(offer) and "20:00" in talk.said(offer)
    ask = await talk.press("Yes, at 20:00")
    assert "Which city" in talk.said(ask)
    done = await talk("new york")
    assert "America/New_York" in talk.said(done)
    assert "every day at 20:00" in talk.said(done)
    assert list(talk.buttons) == ["Show me the practices"]
    checkin = (await rows(app, USER))["checkin"]
    assert (checkin["local_time"], checkin["tz"]) == ("20:00", "America/New_York")
    assert checkin["next_due"] == "2026-02-03T01:00:00+00:00"


async def test_another_time_or_no_thanks(talk: Talk, app: App) -> None:
    await talk.onboard()
    await talk.press("Yes, at another time")
    await talk.press("21:00")
    await talk.press("Berlin")
    assert (await rows(app, USER))["checkin"]["local_time"] == "21:00"


async def test_saying_no_subscribes_to_nothing(talk: Talk, app: App) -> None:
    await talk.onboard()
    reply = await talk.press("No, thanks")
    assert list(talk.buttons) == ["Show me the practices"]
    assert "That's all" in talk.said(reply)
    assert await rows(app, USER) == {}


async def test_an_unsure_zone_offers_buttons_and_a_location_is_understood(
    talk: Talk, app: App
) -> None:
    await talk.onboard()
    await talk.press("Yes, at 20:00")
    unsure = await talk("Brln")
    assert "not sure" in talk.said(unsure)
    assert "Europe/Berlin" in talk.buttons
    await talk.press("Europe/Berlin")
    assert (await rows(app, USER))["checkin"]["tz"] == "Europe/Berlin"

    await talk("/timezone")
    unknown = await talk("Qqqxzv")
    assert "couldn't find" in talk.said(unknown)
    located = await talk("-33.87, 151.21")  # a shared location, as the door passes it on
    assert "Australia/Sydney" in talk.said(located)


def test_the_zone_buttons_are_the_short_list(app: App) -> None:
    ask = app.catalog.dialogues["timezone"].states["ask"]
    picked = [b.set["tz_query"] for b in ask.buttons if "tz_query" in b.set]
    assert sorted(picked) == sorted(SHORT_LIST)


async def test_settings_shows_what_is_set_with_a_button_for_each(talk: Talk, app: App) -> None:
    await subscribe(app, USER, tz="Europe/Kyiv", checkin_time="07:30", quiet_hours="22:00-07:00")
    reply = await talk("/settings")
    text = talk.said(reply)
    for fragment in (
        "Time zone: Europe/Kyiv",
        "Daily check-in: 07:30",
        "Quiet hours: 22:00-07:00",
        "Reminders: on",
        "Safety focus: off",
    ):
        assert fragment in text
    assert list(talk.buttons) == [
        "Time zone",
        "Check-in time",
        "Quiet hours",
        "Pause reminders",
        "Routines",
        "Stop all reminders",
        "Safety focus",
    ]


async def test_safety_focus_is_partner_safe_mode_and_can_be_changed_here(
    talk: Talk, app: App
) -> None:
    await subscribe(app, USER, tz="UTC", partner_safe=True)
    assert "Safety focus: on" in talk.said(await talk("/settings"))
    await talk.press("Safety focus")
    await talk.press("Turn it off")
    row = await app.store.load(USER)
    assert row is not None and row.profile["partner_safe"] is False
    assert "Safety focus: off" in talk.said(await talk("/settings"))


async def test_the_check_in_time_can_be_typed_changed_and_switched_off(
    talk: Talk, app: App
) -> None:
    await subscribe(app, USER, tz="Europe/Berlin", checkin_time="20:00")
    await talk("/settings")
    await talk.press("Check-in time")
    again = await talk("half past eight")
    assert "couldn't read" in talk.said(again)
    done = await talk("8:30 pm")
    assert "20:30" in talk.said(done)
    assert (await rows(app, USER))["checkin"]["next_due"] == "2026-02-02T19:30:00+00:00"
    await talk("/settings")
    await talk.press("Check-in time")
    await talk.press("Switch it off")
    assert await rows(app, USER) == {}


async def test_quiet_hours_are_typed_or_picked_and_can_be_removed(talk: Talk, app: App) -> None:
    await subscribe(app, USER, tz="Europe/Berlin", checkin_time="23:00")
    await talk("/settings")
    await talk.press("Quiet hours")
    done = await talk("10pm - 7am")
    assert "22:00-07:00" in talk.said(done)
    checkin = (await rows(app, USER))["checkin"]
    assert (checkin["quiet"], checkin["next_due"]) == ("22:00-07:00", "2026-02-03T06:00:00+00:00")
    await talk("/settings")
    await talk.press("Quiet hours")
    await talk.press("No quiet hours")
    assert (await rows(app, USER))["checkin"]["next_due"] == "2026-02-02T22:00:00+00:00"


async def test_stop_everything_asks_first_then_removes_every_reminder(talk: Talk, app: App) -> None:
    await subscribe(
        app,
        USER,
        tz="Europe/Berlin",
        checkin_time="20:00",
        routines={"breathing": {"on": True, "time": "12:30", "days": "weekdays"}},
    )
    await talk("/settings")
    await talk.press("Stop all reminders")
    await talk.press("Keep them")
    assert len(await rows(app, USER)) == 2
    await talk("/settings")
    await talk.press("Stop all reminders")
    stopped = await talk.press("Yes, stop them all")
    assert "No more reminders" in talk.said(stopped)
    assert await rows(app, USER) == {}


async def test_routines_switch_on_with_their_defaults_and_change_time_and_days(
    talk: Talk, app: App
) -> None:
    await subscribe(app, USER, tz="Europe/Berlin")
    listed = await talk("/routines")
    assert "Small routines" in talk.said(listed)
    assert "Evening reconnect" in talk.buttons and "Weekly summary" in talk.buttons
    await talk.press("Weekly talk")
    shown = await talk.press("Switch on")
    assert "On: Every Sunday, at 19:00" in talk.said(shown)
    row = (await rows(app, USER))["r.weekly_talk"]
    assert (row["kind"], row["days"], row["next_due"]) == (
        "routine",
        "weekly:sun",
        "2026-02-08T18:00:00+00:00",
    )
    await talk.press("Change the days")
    await talk.press("Weekdays")
    await talk.press("Change the time")
    await talk("7:15")
    row = (await rows(app, USER))["r.weekly_talk"]
    assert (row["local_time"], row["days"]) == ("07:15", "weekdays")
    listed = await talk("/routines")
    assert "✓ Weekly talk · Weekdays · 07:15" in talk.buttons
    await talk.press("✓ Weekly talk · Weekdays · 07:15")
    await talk.press("Switch off")
    assert await rows(app, USER) == {}


async def test_switching_a_routine_on_before_the_zone_is_known_asks_for_it(
    talk: Talk, app: App
) -> None:
    await subscribe(app, USER)
    await talk("/routines")
    await talk.press("Trigger journal")
    ask = await talk.press("Switch on")
    assert "Which city" in talk.said(ask)
    assert await rows(app, USER) == {}
    await talk.press("India")
    assert (await rows(app, USER))["r.journal"]["tz"] == "Asia/Kolkata"


async def test_partner_facing_routines_are_not_offered_in_partner_safe_mode(
    talk: Talk, app: App
) -> None:
    await subscribe(
        app,
        USER,
        tz="UTC",
        routines={"hug": {"on": True, "time": "08:00", "days": "daily"}},
    )
    assert "r.hug" in await rows(app, USER)
    await subscribe(app, USER, partner_safe=True)
    assert await rows(app, USER) == {}, "a partner-facing routine stops in partner-safe mode"
    await talk("/routines")
    assert "Six-second kiss or long hug" not in talk.buttons
    assert "Two-minute breathing" in talk.buttons
    stale = await talk(Press("r:hug:on"))
    assert "earlier step" in talk.said(stale)


async def test_a_routine_reminder_offers_its_practice_and_done_is_recorded(
    talk: Talk, app: App
) -> None:
    await subscribe(
        app,
        USER,
        tz="UTC",
        routines={
            "breathing": {"on": True, "time": "12:30", "days": "daily"},
            "appreciation": {"on": True, "time": "18:00", "days": "daily"},
        },
    )
    breathing = await app.coach.handle(USER, Scheduled("routine", "breathing"))
    send = breathing.actions[0]
    assert isinstance(send, Send)
    assert [(b.text, b.data) for b in send.buttons] == [
        ("Breathe now", "s:breathe"),
        ("Snooze 1 h", "z:r.breathing"),
        ("Not today", "n:r.breathing"),
    ]
    appreciation = await app.coach.handle(USER, Scheduled("routine", "appreciation"))
    assert isinstance(appreciation.actions[0], Send)
    assert appreciation.actions[0].buttons[0].data == "d:appreciation"
    done = await talk(Press("d:appreciation"))
    assert "Noted" in talk.said(done)
    [record] = await app.store.records(USER, "routine")
    assert record.data == {"routine": "appreciation"}


async def test_the_check_in_reminder_answer_goes_straight_to_the_second_question(
    talk: Talk, app: App
) -> None:
    await subscribe(app, USER, tz="UTC", checkin_time="20:00")
    reminder = await talk(Scheduled("checkin", "checkin"))
    assert "How close did you feel today?" in talk.said(reminder)
    tense = await talk.press("2")
    assert "1 is calm, 5 is very tense" in talk.said(tense)
    await talk.press("5")
    hard = await talk("we argued about the holidays")
    assert "heavy day" in talk.said(hard) or "tense day" in talk.said(hard)
    assert list(talk.buttons) == ["Breathe with me", "Pause before I react"]
    [scores] = await app.store.records(USER, "checkin")
    [note] = await app.store.records(USER, "checkin_note")
    assert (scores.data["closeness"], scores.data["tension"]) == (2, 5)
    assert note.data["note"] == "we argued about the holidays"


async def test_forget_and_export_cover_the_subscriptions(talk: Talk, app: App) -> None:
    await subscribe(app, USER, tz="UTC", checkin_time="20:00")
    exported = await app.store.export(USER)
    assert [row["key"] for row in exported["subscriptions"]] == ["checkin"]
    assert exported["users"][0]["profile"]["checkin_time"] == "20:00"
    await app.store.forget(USER)
    assert await rows(app, USER) == {}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("20:30", (20, 30)), ("8", (8, 0)), ("8pm", (20, 0)), ("8:30 PM", (20, 30)),
     ("12am", (0, 0)), ("2030", (20, 30)), ("07.05", (7, 5)), ("20h15", (20, 15))],
)  # fmt: skip
def test_typed_times_are_read_leniently(typed: str, expected: tuple[int, int]) -> None:
    found = read_clock(typed)
    assert found is not None and (found.hour, found.minute) == expected


@pytest.mark.parametrize("typed", ["", "25:00", "13pm", "20:61", "noon", "8:3", "soon"])
def test_what_is_not_a_time_is_refused(typed: str) -> None:
    assert read_clock(typed) is None


def test_quiet_hours_are_two_times_with_a_dash() -> None:
    assert read_quiet("22:00-07:00") == QuietHours(time(22), time(7))
    assert read_quiet("10pm \u2013 6:30am") == QuietHours(time(22), time(6, 30))
    assert read_quiet("22:00") is None
