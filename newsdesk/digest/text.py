"""The words of a digest, shared by every renderer so that it reads the same everywhere.

Everything here returns *plain* text: one line, no control or bidi-override characters, capped
in length, but not escaped. Feed and model text is untrusted, and each platform escapes it its
own way, so escaping is the renderers' job; deciding what to say, and how long, is this module's.
The caps are for a reader (a 10,000-character "title" is not a title), not a platform's limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from urllib.parse import quote, urlsplit, urlunsplit

from newsdesk.feeds.canonical import truncate
from newsdesk.models import Digest, DigestSection, DigestStory, Story

__all__ = [
    "ALSO_IN_LABEL",
    "ALSO_IN_MAX_NAMES",
    "INTRO_MAX",
    "LABEL_MAX",
    "SOURCE_MAX",
    "SUMMARY_MAX",
    "TITLE_MAX",
    "WHY_LABEL",
    "WHY_MAX",
    "WORD_JOINER",
    "also_in",
    "also_in_line",
    "clean",
    "context_line",
    "continued_label",
    "defuse_links",
    "digest_title",
    "fit",
    "http_url",
    "intro",
    "more_label",
    "period_label",
    "period_phrase",
    "quiet_message",
    "section_heading",
    "story_meta",
    "story_summary",
    "story_title",
    "story_why",
    "trend_label",
    "why_line",
]

TITLE_MAX = 250
SUMMARY_MAX = 600
WHY_MAX = 300
SOURCE_MAX = 60
LABEL_MAX = 80
INTRO_MAX = 1500
DIGEST_TITLE_MAX = 150
ALSO_IN_MAX_NAMES = 5
TAGS_MAX_NAMES = 5

WHY_LABEL = "Why it matters"
ALSO_IN_LABEL = "Also in"
OTHER_LABEL = "Other news"
UNTITLED = "(untitled)"
DEFAULT_DIGEST_TITLE = "News digest"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Bidi embeddings, overrides and isolates would reorder the text *after* an untrusted string
# too (our own "3 outlets", the next link); C0/C1 controls have no business in a chat message.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
# Past this much input the first few hundred characters of text are long decided.
_MAX_INPUT_FACTOR = 8
# Where auto-linkers recognise a URL: the `://` after a scheme, a `www.` host.
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)")
# Invisible, and unlike a zero-width space it never lets a line break inside a word.
WORD_JOINER = "\u2060"


def clean(text: str | None, max_chars: int) -> str:
    """Untrusted text as one plain line of at most `max_chars` characters."""
    if not text:
        return ""
    text = text[: max_chars * _MAX_INPUT_FACTOR + 64]
    if not text.isprintable():  # C speed for the common case, as in canonical.clean_text
        text = _CONTROLS.sub(" ", _BIDI_CONTROLS.sub("", text))
    return truncate(" ".join(text.split()), max_chars)


def defuse_links(text: str) -> str:
    """Keep a URL written inside untrusted text from becoming a link: a word joiner after the
    scheme's colon (`https:⁠//…`) or after `www` reads the same but matches no auto-linker, so the
    only links in a digest are the ones a renderer makes from the stories' own URLs."""
    if "//" not in text and "www" not in text.lower():
        return text
    return _AUTOLINK.sub(WORD_JOINER, text)


def fit(
    text: str,
    limit: int,
    escape: Callable[[str], str],
    measure: Callable[[str], int] = len,
) -> str:
    """`escape(text)`, shortened (at a word, with "…") until it measures at most `limit`.

    Escaping grows text by a factor that depends on it (`&` becomes `&amp;` in Slack, `*`
    becomes `\\*` in Discord), so a platform limit can only be checked after escaping.
    """
    escaped = escape(text)
    if measure(escaped) <= limit:
        return escaped
    low, high, best = 0, min(len(text), limit), ""
    while low <= high:  # the longest plain prefix whose escaped form fits
        middle = (low + high) // 2
        candidate = escape(truncate(text, middle))
        if measure(candidate) <= limit:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


# --- links ----------------------------------------------------------------------------------

# Printable ASCII that may stay as written in a link target: all but the characters some
# platform's link syntax ends at or treats specially (Slack `|` `>`, Markdown and Discord `)`).
# `%` stays, so the escapes a URL already has are kept.
_URL_UNSAFE = frozenset('"<>\\^`{|}()[] ')
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in _URL_UNSAFE)


def http_url(url: str | None) -> str | None:
    """A story's URL as a link target, or None when it must not be linked.

    Only absolute http(s) URLs with a host are links: a `javascript:` or `data:` URL from a feed
    is shown as nothing at all. What a platform's link syntax would stop at (spaces, `|`, `)`,
    `>` …) and anything outside printable ASCII is percent-encoded, so the target can neither
    end early nor run into the text after it.
    """
    if not url or len(url) > 4096:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    netloc = parts.netloc
    if not netloc.isascii():
        try:
            netloc = netloc.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    bare = netloc.replace("[", "").replace("]", "")  # an IPv6 host is written in brackets
    if not bare.isprintable() or not _URL_UNSAFE.isdisjoint(bare):
        return None
    rest = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    return f"{parts.scheme.lower()}://{netloc}{quote(rest, safe=_URL_SAFE)}"


# --- the digest as a whole ------------------------------------------------------------------


def digest_title(digest: Digest) -> str:
    return clean(digest.title, DIGEST_TITLE_MAX) or DEFAULT_DIGEST_TITLE


def intro(digest: Digest) -> str:
    return clean(digest.intro, INTRO_MAX)


def _days(start: datetime, end: datetime) -> tuple[date, date]:
    """The first and last day inside [start, end): the end itself is not part of the period."""
    first = start.date()
    last = (end - timedelta(microseconds=1)).date()
    return first, max(first, last)


def _day(day: date, month: bool = True, year: bool = True) -> str:
    text = str(day.day)
    if month:
        text += f" {_MONTHS[day.month - 1]}"
    if year:
        text += f" {day.year}"
    return text


def period_label(start: datetime, end: datetime) -> str:
    """`16–22 Nov 2026`; `28 Nov – 4 Dec 2026` and `29 Dec 2026 – 4 Jan 2027` across months
    and years; `16 Nov 2026` for one day. Month names are English in every locale, as the rest
    of a digest's own words are."""
    first, last = _days(start, end)
    if first == last:
        return _day(first)
    if first.year != last.year:
        return f"{_day(first)} – {_day(last)}"
    if first.month != last.month:
        return f"{_day(first, year=False)} – {_day(last)}"
    return f"{first.day}–{_day(last)}"


def period_phrase(start: datetime, end: datetime) -> str:
    """The period inside a sentence: `between 16 and 22 Nov 2026`, `on 16 Nov 2026`."""
    first, last = _days(start, end)
    if first == last:
        return f"on {_day(first)}"
    if first.year != last.year:
        return f"between {_day(first)} and {_day(last)}"
    if first.month != last.month:
        return f"between {_day(first, year=False)} and {_day(last)}"
    return f"between {first.day} and {_day(last)}"


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def context_line(digest: Digest) -> str:
    """`16–22 Nov 2026 · 12 stories from 7 outlets`, or `12 of 30 stories` when the digest's
    caps left some of the matching stories out."""
    shown = len(digest.stories)
    stories = _count(shown, "story", "stories")
    if digest.matched > shown:
        stories = f"{shown} of {digest.matched} stories"
    line = f"{period_label(digest.period_start, digest.period_end)} · {stories}"
    if digest.source_count:
        line += f" from {_count(digest.source_count, 'outlet')}"
    return line


def continued_label(digest: Digest, number: int, total: int) -> str:
    """What a continuation message starts with: `AI industry digest (continued, 2/3)`."""
    return f"{digest_title(digest)} (continued, {number}/{total})"


def _tag_list(tags: Sequence[str], joiner: str) -> str:
    names = [f"#{name}" for tag in tags if (name := clean(tag, 40))]
    if len(names) > TAGS_MAX_NAMES:
        hidden = len(names) - TAGS_MAX_NAMES + 1
        names = [*names[: TAGS_MAX_NAMES - 1], _count(hidden, "more tag")]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {joiner} {names[-1]}"


def quiet_message(digest: Digest) -> str:
    """A quiet period said plainly, with the filter that made it quiet: `A quiet week: no new
    stories tagged #talent or #funding between 16 and 22 Nov 2026.`"""
    # By length, not by calendar days: a week from Monday 09:00 to Monday 09:00 is a week.
    span = round((digest.period_end - digest.period_start).total_seconds() / 86400)
    noun = {1: "day", 7: "week"}.get(span, "month" if 28 <= span <= 31 else "period")
    message = f"A quiet {noun}: no new stories"
    if digest.include_tags:
        message += f" tagged {_tag_list(digest.include_tags, 'or')}"
    if digest.exclude_tags:
        message += f" (leaving out {_tag_list(digest.exclude_tags, 'and')})"
    return f"{message} {period_phrase(digest.period_start, digest.period_end)}."


# --- sections -------------------------------------------------------------------------------


def section_heading(section: DigestSection) -> str:
    """`🧑‍💼 Talent & hiring`: the emoji when there is one, then the label; untagged stories
    are "Other news"."""
    label = clean(section.label, LABEL_MAX) or (clean(section.tag, LABEL_MAX) or OTHER_LABEL)
    emoji = clean(section.emoji, 16)
    return f"{emoji} {label}" if emoji else label


def trend_label(section: DigestSection) -> str:
    """`▂▃▃▅▇ +40%`, or "" for a section without a trend."""
    return clean(section.trend.label, 40) if section.trend else ""


def more_label(count: int) -> str:
    return f"…and {count} more"


# --- stories --------------------------------------------------------------------------------


def story_title(story: Story) -> str:
    return clean(story.title, TITLE_MAX) or UNTITLED


def _sources(story: Story) -> list[str]:
    return [name for source in story.sources if (name := clean(source, SOURCE_MAX))]


def story_meta(story: Story) -> str:
    """Where a story comes from: `The Verge`, or `The Verge · 3 outlets` when several carried
    it (the number says how big the story is; "Also in" says who)."""
    sources = _sources(story)
    if not sources:
        return ""
    if len(story.sources) > 1:
        return f"{sources[0]} · {_count(len(story.sources), 'outlet')}"
    return sources[0]


def also_in(story: Story) -> str:
    """The other outlets, the first few by name: `A, B, C, D, E +3 more`; "" for none."""
    others = _sources(story)[1:]
    if not others:
        return ""
    names = ", ".join(others[:ALSO_IN_MAX_NAMES])
    if len(others) > ALSO_IN_MAX_NAMES:
        names += f" +{len(others) - ALSO_IN_MAX_NAMES} more"
    return names


def also_in_line(story: Story) -> str:
    names = also_in(story)
    return f"{ALSO_IN_LABEL}: {names}" if names else ""


def story_summary(entry: DigestStory) -> str:
    """The summary a digest shows: the summarizer's, else (not summarized yet) the feed's."""
    if entry.summary is not None:
        return clean(entry.summary.text, SUMMARY_MAX)
    return clean(entry.story.summary, SUMMARY_MAX // 2)


def story_why(entry: DigestStory) -> str:
    return clean(entry.summary.why, WHY_MAX) if entry.summary is not None else ""


def why_line(entry: DigestStory) -> str:
    why = story_why(entry)
    return f"{WHY_LABEL}: {why}" if why else ""
