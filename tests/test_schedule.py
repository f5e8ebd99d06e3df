"""Digest schedules: crontab as admins know it, in their time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsdesk.schedule import (
    ScheduleError,
    fires_between,
    last_fire,
    next_fire,
    normalize_schedule,
    parse_schedule,
)

WEDNESDAY = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "weekday"),
    [("0 9 * * 1", "Mon"), ("0 9 * * 0", "Sun"), ("0 9 * * 7", "Sun"), ("0 9 * * mon", "Mon")],
)
def test_weekday_numbers_mean_what_crontab_says_sunday_is_zero(expression, weekday):
    fire = next_fire(parse_schedule(expression, "UTC"), WEDNESDAY)
    assert fire.strftime("%a %H:%M") == f"{weekday} 09:00"


def test_weekday_ranges_and_steps_follow_crontab():
    def days(field: str) -> list[str]:
        trigger = parse_schedule(f"0 9 * * {field}", "UTC")
        fires = fires_between(trigger, WEDNESDAY, WEDNESDAY + timedelta(days=7))
        return sorted(
            {f.strftime("%a") for f in fires},
            key=["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].index,
        )

    assert days("1-5") == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert days("5-7") == ["Sun", "Fri", "Sat"]
    assert days("sat-mon") == ["Sun", "Mon", "Sat"]
    assert days("*/2") == ["Sun", "Tue", "Thu", "Sat"]
    assert days("0,6") == ["Sun", "Sat"]


def test_a_schedule_fires_in_its_own_time_zone():
    trigger = parse_schedule("30 9 * * mon", "Asia/Shanghai")
    fire = next_fire(trigger, WEDNESDAY)
    assert fire.astimezone(UTC) == datetime(2026, 12, 7, 1, 30, tzinfo=UTC)


def test_daylight_saving_keeps_the_local_hour():
    trigger = parse_schedule("0 9 * * sun", "Europe/Paris")
    before = next_fire(trigger, datetime(2026, 3, 22, tzinfo=UTC))  # CET, UTC+1
    after = next_fire(trigger, datetime(2026, 3, 29, 12, tzinfo=UTC))  # CEST, UTC+2
    assert before.astimezone(UTC).hour == 8
    assert after.astimezone(UTC).hour == 7


def test_aliases_expand_to_cron():
    assert normalize_schedule("weekly") == "0 9 * * mon"
    assert normalize_schedule("Daily") == "0 9 * * *"
    assert normalize_schedule("  30   8 * *  1-5 ") == "30 8 * * 1-5"


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("0 9 * *", "has 4 fields, not 5"),
        ("61 9 * * mon", "not a valid schedule"),
        ("0 9 * * 8", "'8' is not a weekday"),
        ("every monday", "has 2 fields"),
    ],
)
def test_a_bad_schedule_says_what_is_wrong_and_what_is_accepted(expression, says):
    with pytest.raises(ScheduleError) as error:
        parse_schedule(expression, "UTC")
    assert says in str(error.value)
    assert '"0 9 * * mon" for Mondays at 09:00' in str(error.value)


def test_an_unknown_time_zone_names_real_ones():
    with pytest.raises(ScheduleError, match=r"unknown time zone 'Paris'.*Europe/Paris"):
        parse_schedule("0 9 * * mon", "Paris")


def test_last_fire_finds_the_latest_fire_within_the_window_only():
    trigger = parse_schedule("0 9 * * mon", "UTC")
    tuesday = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert last_fire(trigger, tuesday, timedelta(hours=24)) == datetime(
        2026, 11, 30, 9, 0, tzinfo=UTC
    )
    assert last_fire(trigger, tuesday + timedelta(hours=2), timedelta(hours=24)) is None
