"""Turn what people type after `/news search` into a query the archive can run safely.

Search text comes from Slack, Discord and the shell, typed by people who do not know (and should
not need to know) FTS5's query language; some paste SQL, stray quotes, emoji or whole articles.
So the parser is total: every input becomes either a `SearchQuery` or a `QueryError` whose message
can be shown as is in chat, and `fts_match` emits every word and phrase as an FTS5 string, so
nothing a user types is ever read as FTS5 syntax. Filters (`tag:`, `source:`, `since:`, `before:`)
are returned as plain values for store.py to bind as SQL parameters.

Chinese and Japanese are written without spaces, and FTS5's unicode61 tokenizer would read a whole
CJK sentence as one token, so a word inside it could never be found. `segment_cjk` spaces CJK
characters apart, in the index and in queries alike, so a CJK word becomes a phrase of single
characters that matches wherever those characters are adjacent; `unsegment_cjk` undoes it for
display.

Pure: no I/O and no clock (the caller passes `now`), so every rule here is unit-tested directly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

# Bounds on what one search may ask for: longer input is a paste, not a query, and every part
# becomes a clause the database has to evaluate.
MAX_QUERY_CHARS = 500
MAX_TEXT_PARTS = 20  # words, phrases and excluded ones together
MAX_FILTERS = 10  # tag: and source: filters together
PREFIX_MIN_CHARS = 3  # `de*` would match half the index; `dee*` is a real word start

# Dates are stored as `YYYY-...` text and compared as text, which needs a four-digit year; no
# news item predates this, so clamping an earlier bound to it never changes a result.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)

EMPTY_QUERY = "type some words to search for, e.g. `deepseek hiring` or `tag:talent since:7d`"
NOTHING_SEARCHABLE = (
    "there are no words to search for in that; try e.g. `deepseek hiring` or `tag:talent since:7d`"
)
EXCLUDED_ONLY = "add a word to search for alongside the excluded ones"
TOO_LONG = f"that query is too long: keep it to {MAX_QUERY_CHARS} characters"
TOO_MANY_PARTS = f"that is more than {MAX_TEXT_PARTS} words and phrases; search for fewer"
TOO_MANY_FILTERS = f"that is more than {MAX_FILTERS} tag: and source: filters; use fewer"
BAD_TAG = (
    "tag names are lowercase letters, digits and hyphens, e.g. tag:talent or tag:model-release"
)
_BAD_MOMENT = "{key}: expects a number of hours/days/weeks (7d, 24h, 2w) or a date (2026-01-01)"
_EXAMPLES = {
    "tag": "tag:talent",
    "source": 'source:"TechPress AI"',
    "since": "since:7d",
    "before": "before:2026-01-01",
}

# Han, kana, Hangul and their punctuation. U+3000 (the ideographic space) is left out: it is
# whitespace. Full-width forms are in because Chinese text punctuates with them (，：（）).
_CJK_RANGES = (
    "\u1100-\u11ff"  # Hangul Jamo
    "\u2e80-\u2fff"  # CJK and Kangxi radicals, ideographic description characters
    "\u3001-\u303f"  # CJK symbols and punctuation
    "\u3040-\u31ff"  # Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, strokes
    "\u3200-\u9fff"  # enclosed and compatibility CJK, Extension A, unified ideographs
    "\ua960-\ua97f"  # Hangul Jamo extended A
    "\uac00-\ud7ff"  # Hangul syllables, Jamo extended B
    "\uf900-\ufaff"  # compatibility ideographs
    "\ufe10-\ufe1f"  # vertical forms
    "\ufe30-\ufe4f"  # CJK compatibility forms
    "\uff00-\uffef"  # half-width and full-width forms
    "\U0001b000-\U0001b2ff"  # kana supplement and extensions, Nushu
    "\U00020000-\U0003ffff"  # ideograph extensions B-H, compatibility supplement
)
_CJK = f"[{_CJK_RANGES}]"
_CJK_CHAR = re.compile(_CJK)
# Where segment_cjk puts a space: at the start of each gap (empty, or a run of whitespace) between
# two visible characters when either of them is CJK.
_SEGMENT_GAP = re.compile(rf"(?<={_CJK})(?=\s*\S)|(?<=\S)(?=\s*{_CJK})")
_WHITESPACE = re.compile(r"\s+")
# Variant forms the query side folds with NFKC: full-width Latin letters and digits, half-width
# kana and Hangul, compatibility ideographs and Kangxi radicals. The index folds them the same
# way, or `ＡＩ` in a Chinese feed could never match a typed `AI`.
_VARIANT_FORMS = re.compile(
    "[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff61-\uffdc\u2f00-\u2fdf\uf900-\ufaff"
    "\U0002f800-\U0002fa1f]+"
)

_FILTER_KEY = re.compile(r"(tag|source|since|before):", re.IGNORECASE)
_WORD = re.compile(r'[^\s"]+')
_BARE_VALUE = re.compile(r'[^\s"]*')
_TAG = re.compile(r"[a-z0-9-]+")
_RELATIVE = re.compile(r"(\d+)\s*(h|hrs?|hours?|d|days?|w|wks?|weeks?)")
_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:t(\d{2}:\d{2}(?::\d{2})?(?:z|[+-]\d{2}:?\d{2})?))?"
)
_HOURS_PER_UNIT = {"h": 1, "d": 24, "w": 24 * 7}
# Typographic double quotes: phones and chat clients "smarten" the quotes people type.
_SMART_QUOTES = str.maketrans(dict.fromkeys("“”„‟〝〞", '"'))


class QueryError(ValueError):
    """A search the user has to rephrase; the message is fit to show them in chat."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search: text parts for FTS5 and filters for SQL, all normalized.

    `terms` are words and CJK runs, `phrases` are quoted word sequences, `excluded` are words or
    phrases that must not occur. Text is NFKC-normalized and lowercased. `sources` keep their
    case (the SQL compares them case-insensitively). `since` and `before` are UTC: a story's date
    must be at or after `since` and strictly before `before`.
    """

    terms: tuple[str, ...]
    phrases: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: datetime | None = None
    before: datetime | None = None

    def is_empty(self) -> bool:
        return not (
            self.terms
            or self.phrases
            or self.excluded
            or self.tags
            or self.sources
            or self.since
            or self.before
        )


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    negated: bool
    quoted: bool
    key: str | None = None  # a filter's key; text is then its value


def parse_query(text: str, now: datetime) -> SearchQuery:
    """Read a search as people type it; raise QueryError with a message for them otherwise.

    Never raises anything else for any string: text that is not a filter is searched literally,
    so FTS5 operators, SQL and stray punctuation are just (mostly ignorable) words. Relative
    dates (`since:7d`) count back from `now`, which must be timezone-aware.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    if len(text.strip()) > MAX_QUERY_CHARS:
        raise QueryError(TOO_LONG)
    cleaned = _balance_quotes(
        unicodedata.normalize("NFKC", _strip_invisible(text)).translate(_SMART_QUOTES)
    )

    terms: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    tags: list[str] = []
    sources: list[str] = []
    since: datetime | None = None
    before: datetime | None = None
    for token in _tokens(cleaned):
        if token.key is not None:
            if token.negated:
                raise QueryError(
                    f'-{token.key}: is not supported: only words and "phrases" can be excluded'
                )
            value = " ".join(token.text.split())
            if not value:
                raise QueryError(f"{token.key}: needs a value, e.g. {_EXAMPLES[token.key]}")
            if token.key == "tag":
                tags.append(_tag_name(value))
            elif token.key == "source":
                sources.append(value)
            elif token.key == "since":
                moment = parse_moment("since", value, now)
                since = moment if since is None else max(since, moment)
            else:
                moment = parse_moment("before", value, now)
                before = moment if before is None else min(before, moment)
            continue
        words = token.text.lower()
        if token.quoted:
            words = " ".join(words.split())
        if not _has_token_char(words):
            continue
        if token.negated:
            excluded.append(words)
        elif token.quoted:
            phrases.append(words)
        else:
            terms.extend(_split_cjk_runs(words))

    query = SearchQuery(
        terms=_unique(terms),
        phrases=_unique(phrases),
        excluded=_unique(excluded),
        tags=_unique(tags),
        sources=_unique(sources),
        since=since,
        before=before,
    )
    if query.is_empty():
        raise QueryError(EMPTY_QUERY if not cleaned.strip() else NOTHING_SEARCHABLE)
    if query.excluded and not (query.terms or query.phrases):
        raise QueryError(EXCLUDED_ONLY)
    if len(query.terms) + len(query.phrases) + len(query.excluded) > MAX_TEXT_PARTS:
        raise QueryError(TOO_MANY_PARTS)
    if len(query.tags) + len(query.sources) > MAX_FILTERS:
        raise QueryError(TOO_MANY_FILTERS)
    if since is not None and before is not None and before <= since:
        raise QueryError(
            f"before: ({_show(before)}) is not later than since: ({_show(since)}),"
            " so nothing can match"
        )
    return query


def fts_match(query: SearchQuery) -> str | None:
    """The FTS5 MATCH expression for the query's text, or None for a filters-only query.

    Each term and phrase is an FTS5 string ("..." with `"` doubled), so user input is never FTS5
    syntax; the strings are ANDed and the excluded ones follow a binary NOT, as FTS5 has no
    unary NOT. A part with nothing the tokenizer would index (`***`) is left out: an empty
    string ANDed in would silently match nothing. A word ending in `*` with at least
    PREFIX_MIN_CHARS letters before it is a prefix search (`"deeps" *`).
    """
    positive = fts_phrases(query)
    negative = [s for s in map(_fts_string, query.excluded) if s]
    if not positive:
        if negative:
            raise QueryError(EXCLUDED_ONLY)
        return None
    expression = " AND ".join(positive)
    if negative:
        expression = f"({expression}) NOT " + " NOT ".join(negative)
    return expression


def fts_phrases(query: SearchQuery) -> list[str]:
    """The FTS5 strings `fts_match` ANDs together: every term and phrase, not the excluded."""
    return [s for s in map(_fts_string, (*query.terms, *query.phrases)) if s]


def segment_cjk(text: str) -> str:
    """Space CJK characters apart so unicode61 indexes each one as a token.

    Without this a Chinese sentence is a single token and no word inside it can be found. The
    space goes into every gap next to a CJK character, added to any whitespace already there, so
    `unsegment_cjk` can restore the text exactly (Korean keeps its word spaces). CJK punctuation
    stays in the text, spaced like the rest: unicode61 never indexes punctuation, and snippets
    keep their commas and full stops. Full-width Latin, half-width kana and compatibility
    ideographs are folded (NFKC) as the query side folds them. Other text is unchanged.
    """
    if not text or text.isascii():
        return text
    text = _VARIANT_FORMS.sub(lambda match: unicodedata.normalize("NFKC", match[0]), text)
    if not _CJK_CHAR.search(text):
        return text
    return _SEGMENT_GAP.sub(" ", text)


def unsegment_cjk(text: str) -> str:
    """Undo segment_cjk for display, e.g. on an FTS5 snippet of the segmented index.

    Removes one space from each gap next to a CJK character. Control characters (the snippet's
    highlight markers, which stored text never contains) are looked through, so a marker next
    to a CJK character does not leave its space behind.
    """
    if not text or text.isascii() or not _CJK_CHAR.search(text):
        return text

    def close(match: re.Match[str]) -> str:
        gap = match[0]
        if " " not in gap:
            return gap
        left = _neighbour(text, match.start() - 1, -1)
        right = _neighbour(text, match.end(), 1)
        if left and right and (_CJK_CHAR.match(left) or _CJK_CHAR.match(right)):
            return gap.replace(" ", "", 1)
        return gap

    return _WHITESPACE.sub(close, text)


# --- helpers -----------------------------------------------------------------------------------


def _tokens(text: str) -> Iterator[_Token]:
    """Split a search into words, "phrases" and key:value filters, each maybe `-`negated.

    A quote always delimits (`foo"bar baz"` is a word and a phrase); `key: value` with a space
    is accepted, since people type it that way in chat.
    """
    pos, end = 0, len(text)
    while pos < end:
        if text[pos].isspace():
            pos += 1
            continue
        negated = text[pos] == "-" and pos + 1 < end and not text[pos + 1].isspace()
        start = pos + 1 if negated else pos
        if key := _FILTER_KEY.match(text, start):
            pos = key.end()
            while pos < end and text[pos].isspace():
                pos += 1
            if pos < end and text[pos] == '"':
                close = text.index('"', pos + 1)
                value, pos = text[pos + 1 : close], close + 1
            else:
                bare = _BARE_VALUE.match(text, pos)
                value, pos = bare[0], bare.end()
            yield _Token(value, negated, quoted=False, key=key[1].lower())
        elif text[start] == '"':
            close = text.index('"', start + 1)  # quotes are balanced by now
            yield _Token(text[start + 1 : close], negated, quoted=True)
            pos = close + 1
        else:
            word = _WORD.match(text, start)
            yield _Token(word[0], negated, quoted=False)
            pos = word.end()


def _balance_quotes(text: str) -> str:
    """Drop the last quote of an odd number, so an unclosed quote reads as plain words."""
    if text.count('"') % 2:
        cut = text.rindex('"')
        text = f"{text[:cut]} {text[cut + 1 :]}"
    return text


def _strip_invisible(text: str) -> str:
    """Remove what a database or a terminal should never see: controls, lone surrogates (which
    sqlite3 cannot encode), zero-width and direction marks."""
    if text.isprintable():
        return text
    parts = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            parts.append(" ")
        elif category not in ("Cf", "Cs"):
            parts.append(char)
    return "".join(parts)


def _is_token_char(char: str) -> bool:
    """Would unicode61 index this character? Letters, digits and private use, as its default."""
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Co"


def _has_token_char(text: str) -> bool:
    return any(map(_is_token_char, text))


def _split_cjk_runs(word: str) -> list[str]:
    """`DeepSeek招聘` is two terms: CJK runs are cut from Latin text, and CJK punctuation cuts
    runs, so each CJK run must match as a whole while the parts need not be adjacent."""
    if word.isascii():
        return [word]
    parts = []
    for kind, chars in groupby(word, key=_char_kind):
        part = "".join(chars)
        if kind != "mark" and _has_token_char(part):
            parts.append(part)
    return parts


def _char_kind(char: str) -> str:
    if not _CJK_CHAR.match(char):
        return "other"
    return "cjk" if _is_token_char(char) else "mark"


def _fts_string(text: str) -> str | None:
    text = _strip_invisible(text)
    stem = _prefix_stem(text)
    body = " ".join(segment_cjk(text if stem is None else stem).split())
    if not _has_token_char(body):
        return None
    quoted = '"' + body.replace('"', '""') + '"'
    return quoted if stem is None else f"{quoted} *"


def _prefix_stem(text: str) -> str | None:
    """`deeps*` searches words starting with `deeps`; a shorter or CJK stem stays literal."""
    if not text.endswith("*"):
        return None
    stem = text.rstrip("*")
    length = 0
    for char in reversed(stem):
        if not _is_token_char(char) or _CJK_CHAR.match(char):
            break
        length += 1
    return stem if length >= PREFIX_MIN_CHARS else None


def _tag_name(value: str) -> str:
    """Tags are slugs; `#Talent` and `"model release"` are forgiven as `talent`, `model-release`."""
    name = re.sub(r"[\s_]+", "-", value.lower().lstrip("#").strip())
    if not _TAG.fullmatch(name):
        raise QueryError(BAD_TAG)
    return name


def parse_moment(key: str, value: str, now: datetime) -> datetime:
    """A since:/before: bound: `7d` back from now, or a date (midnight UTC) or UTC date-time."""
    value = value.lower()
    if relative := _RELATIVE.fullmatch(value):
        hours = int(relative[1]) * _HOURS_PER_UNIT[relative[2][0]]
        try:
            return max(now - timedelta(hours=hours), EARLIEST)
        except OverflowError:  # since:99999999999d means "all of it"
            return EARLIEST
    if absolute := _DATE.fullmatch(value):
        try:
            day = date(int(absolute[1]), int(absolute[2]), int(absolute[3]))
            clock = time.fromisoformat(absolute[4].upper()) if absolute[4] else time()
        except ValueError:
            raise QueryError(f"{key}: {absolute[0]} is not a real date") from None
        moment = datetime.combine(day, clock)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            return max(moment.astimezone(UTC), EARLIEST)
        except OverflowError:  # a zone offset pushed 0001-01-01 or 9999-12-31 out of range
            return EARLIEST if day.year < EARLIEST.year else LATEST
    raise QueryError(_BAD_MOMENT.format(key=key))


def _neighbour(text: str, index: int, step: int) -> str:
    """The visible character next to a gap, looking past control characters."""
    while 0 <= index < len(text) and unicodedata.category(text[index]) == "Cc":
        if text[index].isspace():
            return ""
        index += step
    return text[index] if 0 <= index < len(text) else ""


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _show(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
