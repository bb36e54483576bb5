"""Business hours (chatserver/business_hours.py) with a frozen clock (every call is given `now`), in two time
zones, across DST changes and holidays, against hand-computed figures."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from chatserver.business_hours import BadHours, BusinessHours, parse_schedule, seeded_holidays

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = "Mon-Fri 09:00-12:00, 13:00-18:00"


def at(zone, *fields) -> float:
    return datetime(*fields, tzinfo=zone).timestamp()


def berlin(holidays: str = "") -> BusinessHours:
    return BusinessHours.from_text("Europe/Berlin", WEEKDAYS, holidays)


def test_saturday_chat_answered_monday_across_the_spring_dst_change():
    # Sat 28 Mar 2026 10:00 CET (UTC+1); the clocks go forward on Sunday; Mon 30 Mar 09:05 CEST (UTC+2).
    opened, answered = at(BERLIN, 2026, 3, 28, 10, 0), at(BERLIN, 2026, 3, 30, 9, 5)
    hours = berlin()
    assert hours.business_seconds(opened, answered) == 5 * 60
    assert answered - opened == 46 * 3600 + 5 * 60          # calendar time: the night of the change has 23 hours
    assert not hours.is_open(opened)
    assert hours.next_open(opened) == at(BERLIN, 2026, 3, 30, 9, 0) == datetime(2026, 3, 30, 7, 0, tzinfo=ZoneInfo("UTC")).timestamp()


def test_holidays_count_no_business_time():
    # Thu 2 Apr 17:30 -> Tue 7 Apr 09:10; Good Friday and Easter Monday are holidays: 30 min + 10 min.
    hours = berlin("2026-04-03 Karfreitag\n2026-04-06 Ostermontag")
    assert hours.business_seconds(at(BERLIN, 2026, 4, 2, 17, 30), at(BERLIN, 2026, 4, 7, 9, 10)) == 40 * 60
    assert berlin().business_seconds(at(BERLIN, 2026, 4, 2, 17, 30), at(BERLIN, 2026, 4, 7, 9, 10)) == \
        (30 + 8 * 60 + 8 * 60 + 10) * 60                    # without them: Friday and Monday count, 8 h each
    assert hours.next_open(at(BERLIN, 2026, 4, 3, 11, 0)) == at(BERLIN, 2026, 4, 7, 9, 0)


def test_lunch_break_and_several_ranges():
    hours = berlin()
    assert hours.is_open(at(BERLIN, 2026, 6, 3, 11, 59))
    assert not hours.is_open(at(BERLIN, 2026, 6, 3, 12, 30))
    assert hours.next_open(at(BERLIN, 2026, 6, 3, 12, 30)) == at(BERLIN, 2026, 6, 3, 13, 0)
    assert hours.business_seconds(at(BERLIN, 2026, 6, 3, 11, 30), at(BERLIN, 2026, 6, 3, 13, 30)) == 60 * 60


def test_new_york_across_its_own_dst_change_and_the_autumn_one_in_berlin():
    # Fri 6 Mar 2026 15:00 EST -> Mon 9 Mar 08:30 EDT (US clocks went forward on Sunday 8 March).
    hours = BusinessHours.from_text("America/New_York", "Mon-Fri 08:00-16:00", "")
    opened, answered = at(NEW_YORK, 2026, 3, 6, 15, 0), at(NEW_YORK, 2026, 3, 9, 8, 30)
    assert hours.business_seconds(opened, answered) == 90 * 60
    assert answered - opened == 64 * 3600 + 30 * 60
    # Berlin's autumn change (Sun 25 Oct 2026, 25 hours long) on a 24/7 schedule: every second counts.
    always = BusinessHours.from_text("Europe/Berlin", "", "")
    assert always.business_seconds(at(BERLIN, 2026, 10, 24, 12), at(BERLIN, 2026, 10, 25, 12)) == 25 * 3600
    assert always.is_open(0) and always.next_open(123.0) == 123.0
    sunday = BusinessHours.from_text("Europe/Berlin", "Sun 00:00-24:00", "")
    assert sunday.business_seconds(at(BERLIN, 2026, 10, 24, 12), at(BERLIN, 2026, 10, 26, 12)) == 25 * 3600


def test_holidays_seeded_from_the_holidays_package():
    german = seeded_holidays("DE", [2026])
    assert date(2026, 4, 3) in german and date(2026, 4, 6) in german and date(2026, 12, 25) in german
    with pytest.raises(BadHours):
        seeded_holidays("XX", [2026])


def test_schedule_text_is_checked_line_by_line():
    assert parse_schedule("Mon-Fri 09:00-17:00\nSat 10:00-14:00") == {
        **{day: [(540, 1020)] for day in range(5)}, 5: [(600, 840)]}
    for bad, where in [("Funday 09:00-10:00", "line 1"), ("Mon 9-10", "line 1"), ("Mon 10:00-09:00", "line 1"),
                       ("Mon 09:00-12:00\nMon 11:00-13:00", "line 2"), ("Fri-Mon 09:00-10:00", "line 1")]:
        with pytest.raises(BadHours, match=where):
            parse_schedule(bad)
    with pytest.raises(BadHours):
        BusinessHours.from_text("Mars/Olympus", "", "")
