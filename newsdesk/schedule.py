"""Digest schedules: a crontab expression in an IANA time zone, and the times it fires.

APScheduler 3.x reads the day-of-week field with Monday as 0, while every crontab, every cron
tutorial and every admin's memory has Sunday as 0 (APScheduler 4 fixed it; 3.x cannot). A
subscription saying "0 9 * * 1" means Monday, so numeric weekdays are translated to names here
before APScheduler sees them. Everything else about the expression is APScheduler's to parse.

The store, not the scheduler, decides whether a digest is due (see `newsdesk.scheduler`); these
pure functions answer "when did this schedule last fire?" so a restart can catch up.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

DEFAULT_SCHEDULE = "0 9 * * mon"

# Friendly names accepted wherever a cron expression is (chat users rarely remember cron).
ALIASES = {
    "weekly": DEFAULT_SCHEDULE,
    "daily": "0 9 * * *",
    "weekdays": "0 9 * * mon-fri",
}

_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_DAY_NUMBER = {name: number for number, name in enumerate(_DAYS)}

HELP = (
    "a crontab expression, minute hour day month weekday, in quotes when it has spaces "
    '(e.g. "0 9 * * mon" for Mondays at 09:00, "30 8 * * 1-5" for weekdays at 08:30), '
    "or one of: " + ", ".join(ALIASES)
)


class ScheduleError(ValueError):
    """A schedule or time zone that cannot be used; the message says what is accepted."""


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA zone such as Europe/Paris or Asia/Shanghai."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown time zone {name!r}: use an IANA name such as UTC, Europe/Paris, "
            "America/New_York or Asia/Shanghai"
        ) from None


def normalize_schedule(expression: str) -> str:
    """The expression as stored: an alias expanded, whitespace collapsed; checked."""
    expression = " ".join(expression.split())
    expression = ALIASES.get(expression.lower(), expression)
    parse_schedule(expression, "UTC")
    return expression


def parse_schedule(expression: str, timezone: str) -> CronTrigger:
    """A CronTrigger that fires as the crontab expression says, in `timezone`."""
    zone = parse_timezone(timezone)
    expression = ALIASES.get(expression.strip().lower(), expression)
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError(f"{expression!r} has {len(fields)} fields, not 5: {HELP}")
    try:
        fields[4] = _weekday_names(fields[4])
        return CronTrigger(
            minute=fields[0],
            hour=fields[1],
            day=fields[2],
            month=fields[3],
            day_of_week=fields[4],
            timezone=zone,
        )
    except ValueError as exc:
        raise ScheduleError(f"{expression!r} is not a valid schedule ({exc}): {HELP}") from None


def fires_between(trigger: CronTrigger, start: datetime, end: datetime) -> list[datetime]:
    """Fire times in (start, end], oldest first; bounded so a every-minute cron cannot spin."""
    fires: list[datetime] = []
    previous = None
    moment = trigger.get_next_fire_time(None, start + timedelta(seconds=1))
    while moment is not None and moment <= end and len(fires) < 10_000:
        fires.append(moment)
        previous = moment
        moment = trigger.get_next_fire_time(previous, moment + timedelta(seconds=1))
    return fires


def last_fire(trigger: CronTrigger, now: datetime, within: timedelta) -> datetime | None:
    """The latest fire time in (now - within, now], or None."""
    fires = fires_between(trigger, now - within, now)
    return fires[-1] if fires else None


def next_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    return trigger.get_next_fire_time(None, now + timedelta(seconds=1))


def _weekday_names(field: str) -> str:
    """Translate crontab weekday numbers (0 or 7 = Sunday) to names, expanding ranges so that
    wrapping ones such as 5-0 or sat-mon mean what they say."""
    if field in ("*", "?"):
        return field
    days: list[int] = []
    for part in field.split(","):
        match = re.fullmatch(r"(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?", part.lower())
        if match is None:
            raise ValueError(f"weekday {part!r} is not a number 0-7, a name or a range")
        span, step = match.group(1), int(match.group(2) or 1)
        if step < 1:
            raise ValueError("a step must be at least 1")
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = _day(low)
            last = _day(high) if high else (6 if match.group(2) else first)
            if high == "7" or (high and last < first):
                last += 7  # 5-7 is fri-sun; sat-mon wraps past the week's end
        days.extend(day % 7 for day in range(first, last + 1, step))
    return ",".join(_DAYS[day] for day in sorted(set(days)))


def _day(token: str) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7 if token != "7" else 0
    if token in _DAY_NUMBER:
        return _DAY_NUMBER[token]
    raise ValueError(f"{token!r} is not a weekday (0-7 or sun-sat)")
