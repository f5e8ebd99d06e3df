"""Trend lines: a tag's weekly story counts as a Unicode sparkline and a week-on-week change.

A section headed `Talent & hiring ▂▃▃▅▇ +40%` tells a reader in one glance whether this week is
unusual, which the stories alone cannot. Text, not an image, so it works in every chat client,
in a terminal and in an e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence

from newsdesk.models import Trend

__all__ = ["BARS", "sparkline", "trend"]

BARS = "▁▂▃▄▅▆▇█"


def sparkline(counts: Sequence[int]) -> str:
    """One bar per count, scaled to the largest. An empty week is the lowest bar, and any
    week with stories is at least one step above it, so "none" and "a few" look different."""
    top = max(counts, default=0)
    if top <= 0:
        return BARS[0] * len(counts)
    steps = len(BARS) - 2
    return "".join(
        BARS[0] if count <= 0 else BARS[1 + round(count / top * steps)] for count in counts
    )


def trend(counts: Sequence[int]) -> Trend:
    """The trend of weekly counts (oldest first, the last being the digest's week)."""
    counts = tuple(max(0, int(count)) for count in counts)
    change = None
    if len(counts) >= 2 and counts[-2] > 0:
        change = (counts[-1] - counts[-2]) / counts[-2]
    return Trend(counts=counts, sparkline=sparkline(counts), change=change)
