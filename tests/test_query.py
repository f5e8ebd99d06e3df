"""The search-query parser: what people type in chat becomes a safe FTS5 query or a clear message.

The promises pinned here: words, phrases and filters parse as documented; any string at all,
hostile or garbled, either parses or raises QueryError (never anything else), and the MATCH
expression it yields runs on a real FTS5 table without a syntax error; a Chinese word is found
inside a longer sentence but not when its characters are apart.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from newsdesk.query import (
    EARLIEST,
    EMPTY_QUERY,
    EXCLUDED_ONLY,
    MAX_QUERY_CHARS,
    NOTHING_SEARCHABLE,
    QueryError,
    SearchQuery,
    fts_match,
    parse_query,
    segment_cjk,
    unsegment_cjk,
)
from tests.conftest import NOW

DAY = timedelta(days=1)


# --- parsing ------------------------------------------------------------------------------------

PARSES: list[tuple[str, dict[str, Any]]] = [
    # words: all must match, lowercased, repeats collapsed
    ("deepseek hiring", {"terms": ("deepseek", "hiring")}),
    ("DeepSeek HIRING", {"terms": ("deepseek", "hiring")}),
    ("deepseek  deepseek\thiring", {"terms": ("deepseek", "hiring")}),
    ("GPT-4o c++ o'reilly", {"terms": ("gpt-4o", "c++", "o'reilly")}),
    ("café Straße", {"terms": ("café", "straße")}),  # not casefold: FTS5 keeps ß, so must we
    # phrases
    ('"mixture of experts"', {"phrases": ("mixture of experts",)}),
    ('"Mixture   of Experts" routing', {"terms": ("routing",), "phrases": ("mixture of experts",)}),
    ('foo"bar baz"', {"terms": ("foo",), "phrases": ("bar baz",)}),
    (
        "“smart quotes” from a phone",
        {"terms": ("from", "a", "phone"), "phrases": ("smart quotes",)},
    ),
    # exclusions
    ("deepseek -rumor", {"terms": ("deepseek",), "excluded": ("rumor",)}),
    ('deepseek -"open source"', {"terms": ("deepseek",), "excluded": ("open source",)}),
    ("gpt-4 - deepseek", {"terms": ("gpt-4", "deepseek")}),  # a lone dash is punctuation
    # tags
    ("tag:talent", {"tags": ("talent",)}),
    ("tag:talent TAG:Funding tag:talent", {"tags": ("talent", "funding")}),
    ('tag:"model release" tag:#talent', {"tags": ("model-release", "talent")}),
    ("tag: talent", {"tags": ("talent",)}),
    # sources keep their case: the SQL compares case-insensitively
    ("source:techpress", {"sources": ("techpress",)}),
    ('source:"TechPress  AI" llm', {"terms": ("llm",), "sources": ("TechPress AI",)}),
    (
        "source:3 source:https://example.com/feed.xml",
        {"sources": ("3", "https://example.com/feed.xml")},
    ),
    # since/before, relative to NOW or absolute (midnight UTC)
    ("since:7d", {"since": NOW - 7 * DAY}),
    ("since:24h", {"since": NOW - DAY}),
    ("since:2w", {"since": NOW - 14 * DAY}),
    ('since:"3 days"', {"since": NOW - 3 * DAY}),
    ("SINCE:7D", {"since": NOW - 7 * DAY}),
    ("since: 7d", {"since": NOW - 7 * DAY}),
    ("since:2026-01-01", {"since": datetime(2026, 1, 1, tzinfo=UTC)}),
    ("since:2026-1-5", {"since": datetime(2026, 1, 5, tzinfo=UTC)}),
    ("since:2026-01-01T09:30+08:00", {"since": datetime(2026, 1, 1, 1, 30, tzinfo=UTC)}),
    ("before:2026-02-01", {"before": datetime(2026, 2, 1, tzinfo=UTC)}),
    ("before:3d", {"before": NOW - 3 * DAY}),
    (
        "since:30d before:2026-11-20",
        {"since": NOW - 30 * DAY, "before": datetime(2026, 11, 20, tzinfo=UTC)},
    ),
    ("since:7d since:2026-01-01", {"since": NOW - 7 * DAY}),  # both hold: the later one
    ("before:2026-11-01 before:1d", {"before": datetime(2026, 11, 1, tzinfo=UTC)}),
    ("since:99999999999999999999d", {"since": EARLIEST}),  # all of it, not an overflow
    ("since:1066-10-14", {"since": EARLIEST}),
    # CJK: a run of CJK characters is one term; Latin text and CJK punctuation cut runs
    ("深度求索 招聘", {"terms": ("深度求索", "招聘")}),
    ("DeepSeek招聘", {"terms": ("deepseek", "招聘")}),
    ("深度求索，招聘。", {"terms": ("深度求索", "招聘")}),
    (
        "ＤｅｅｐＳｅｅｋ\u3000招聘 tag：talent",
        {"terms": ("deepseek", "招聘"), "tags": ("talent",)},
    ),
    ('"DeepSeek 发布 新模型"', {"phrases": ("deepseek 发布 新模型",)}),
    ("-招聘 深度求索", {"terms": ("深度求索",), "excluded": ("招聘",)}),
    ("ディープシーク 삼성전자", {"terms": ("ディープシーク", "삼성전자")}),
    # everything else is literal text
    ("deeps* de*", {"terms": ("deeps*", "de*")}),
    ("title:foo c++: NEAR(a", {"terms": ("title:foo", "c++:", "near(a")}),
    ("a AND b OR NOT c", {"terms": ("a", "and", "b", "or", "not", "c")}),
    ("'; DROP TABLE items; --", {"terms": ("drop", "table", "items;")}),
    ("deepseek *** -- ^", {"terms": ("deepseek",)}),
    ('"unclosed phrase tag:research', {"terms": ("unclosed", "phrase"), "tags": ("research",)}),
    ('"closed" "unclosed', {"terms": ("unclosed",), "phrases": ("closed",)}),
    ("deep\u200bseek\x00hiring\ud800", {"terms": ("deepseek", "hiring")}),
    ("tags:talent after:2026-01-01", {"terms": ("tags:talent", "after:2026-01-01")}),
]


@pytest.mark.parametrize(("text", "expected"), PARSES, ids=lambda v: repr(v))
def test_parse_query_reads_words_phrases_and_filters(text: str, expected: dict[str, Any]) -> None:
    fields = {"terms": (), "phrases": (), "excluded": (), "tags": (), "sources": ()}
    fields |= {"since": None, "before": None}
    assert parse_query(text, NOW) == SearchQuery(**(fields | expected))


def test_relative_dates_count_back_from_now_in_utc() -> None:
    eastern = datetime(2026, 11, 23, 7, 0, tzinfo=timezone(timedelta(hours=-5)))
    query = parse_query("since:1d before:2026-11-23", eastern)
    assert query.since == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert query.since.tzinfo is UTC and query.before == datetime(2026, 11, 23, tzinfo=UTC)


def test_a_naive_now_is_a_programming_error_not_a_user_one() -> None:
    with pytest.raises(ValueError) as caught:
        parse_query("deepseek", datetime(2026, 1, 1))
    assert not isinstance(caught.value, QueryError)


ERRORS = [
    ("", EMPTY_QUERY),
    ("   \n\t", EMPTY_QUERY),
    ("*** -- ^ 🚀", NOTHING_SEARCHABLE),
    ('""', NOTHING_SEARCHABLE),
    (
        "since:yesterday",
        "since: expects a number of hours/days/weeks (7d, 24h, 2w) or a date (2026-01-01)",
    ),
    (
        "deepseek before:soon",
        "before: expects a number of hours/days/weeks (7d, 24h, 2w) or a date (2026-01-01)",
    ),
    ("since:7", "since: expects a number of hours/days/weeks (7d, 24h, 2w) or a date (2026-01-01)"),
    (
        "since:-7d",
        "since: expects a number of hours/days/weeks (7d, 24h, 2w) or a date (2026-01-01)",
    ),
    ("since:2026-02-30", "since: 2026-02-30 is not a real date"),
    ("before:2026-01-01t25:00", "before: 2026-01-01t25:00 is not a real date"),
    (
        "since:2026-02-01 before:2026-01-01",
        "before: (2026-01-01 00:00 UTC) is not later than since: (2026-02-01 00:00 UTC),"
        " so nothing can match",
    ),
    (
        "since:7d before:7d",
        "before: (2026-11-16 12:00 UTC) is not later than since: (2026-11-16 12:00 UTC),"
        " so nothing can match",
    ),
    ("-rumor", EXCLUDED_ONLY),
    ('tag:talent since:7d -rumor -"open source"', EXCLUDED_ONLY),
    (
        "tag:c++",
        "tag names are lowercase letters, digits and hyphens, e.g. tag:talent or tag:model-release",
    ),
    (
        "tag:机器学习",
        "tag names are lowercase letters, digits and hyphens, e.g. tag:talent or tag:model-release",
    ),
    ("deepseek tag:", "tag: needs a value, e.g. tag:talent"),
    ('source:""', 'source: needs a value, e.g. source:"TechPress AI"'),
    ("since:", "since: needs a value, e.g. since:7d"),
    ("-tag:talent deepseek", '-tag: is not supported: only words and "phrases" can be excluded'),
    ("x" * (MAX_QUERY_CHARS + 1), "that query is too long: keep it to 500 characters"),
    (
        " ".join(f"w{n}" for n in range(21)),
        "that is more than 20 words and phrases; search for fewer",
    ),
    (
        " ".join(f"tag:t{n}" for n in range(11)),
        "that is more than 10 tag: and source: filters; use fewer",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS, ids=lambda v: repr(v)[:40])
def test_parse_query_explains_what_it_cannot_search(text: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text, NOW)
    assert str(caught.value) == message


def test_error_messages_do_not_echo_user_markup() -> None:
    # A message goes back to chat as is; a mention smuggled into a filter must not come with it.
    for text in ("since:<!channel>", "tag:<@U123>", "-tag:<!here> x"):
        with pytest.raises(QueryError) as caught:
            parse_query(text, NOW)
        assert "<" not in str(caught.value)


def test_limits_allow_exactly_the_maximum() -> None:
    assert len(parse_query("x" * MAX_QUERY_CHARS, NOW).terms) == 1
    assert len(parse_query(" ".join(f"w{n}" for n in range(20)), NOW).terms) == 20


def test_is_empty_means_no_text_and_no_filters() -> None:
    assert SearchQuery(terms=(), phrases=()).is_empty()
    assert not SearchQuery(terms=(), phrases=(), since=NOW).is_empty()
    assert not SearchQuery(terms=("x",), phrases=()).is_empty()


# --- FTS5 expressions ---------------------------------------------------------------------------

MATCHES = [
    ("deepseek hiring", '"deepseek" AND "hiring"'),
    ('"mixture of experts" moe', '"moe" AND "mixture of experts"'),
    ('deepseek -rumor -"open source"', '("deepseek") NOT "rumor" NOT "open source"'),
    ("深度求索", '"深 度 求 索"'),
    ("DeepSeek招聘", '"deepseek" AND "招 聘"'),
    ('"DeepSeek 发布新模型"', '"deepseek 发 布 新 模 型"'),
    ("deeps*", '"deeps" *'),
    ("de* 招聘*", '"de*" AND "招 聘"'),  # too short, or CJK: literal
    ("deepseek -deeps*", '("deepseek") NOT "deeps" *'),
    ("title:foo NEAR(a", '"title:foo" AND "near(a"'),
    ("tag:talent since:7d", None),
]


@pytest.mark.parametrize(("text", "expected"), MATCHES, ids=lambda v: repr(v))
def test_fts_match_quotes_every_part_as_an_fts_string(text: str, expected: str | None) -> None:
    assert fts_match(parse_query(text, NOW)) == expected


def test_fts_match_doubles_embedded_quotes_and_drops_parts_with_nothing_to_index() -> None:
    # Queries built by hand (not by parse_query) get the same protection.
    assert fts_match(SearchQuery(terms=('say"hi', "***"), phrases=("",))) == '"say""hi"'
    assert fts_match(SearchQuery(terms=("--",), phrases=())) is None
    with pytest.raises(QueryError, match=EXCLUDED_ONLY):
        fts_match(SearchQuery(terms=("***",), phrases=(), excluded=("rumor",)))


# --- CJK segmentation ---------------------------------------------------------------------------

SEGMENTS = [
    ("DeepSeek发布新模型", "DeepSeek 发 布 新 模 型"),
    ("深度求索 发布", "深 度 求 索  发 布"),
    ("模型，性能。", "模 型 ， 性 能 。"),
    ("ディープシーク", "デ ィ ー プ シ ー ク"),
    ("삼성 전자", "삼 성  전 자"),
    ("𠀀𠀁", "𠀀 𠀁"),  # Extension B, outside the BMP
    ("Mixture-of-Experts, v2! café", "Mixture-of-Experts, v2! café"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "segmented"), SEGMENTS, ids=lambda v: repr(v))
def test_segment_cjk_spaces_cjk_characters_and_unsegment_restores_them(
    text: str, segmented: str
) -> None:
    assert segment_cjk(text) == segmented
    assert unsegment_cjk(segmented) == text


def test_segment_cjk_folds_full_width_latin_as_queries_do() -> None:
    assert segment_cjk("ＡＩ开源") == "AI 开 源"
    assert segment_cjk("ﾃﾞｨｰﾌﾟ") == "デ ィ ー プ"


def test_unsegment_cjk_looks_through_snippet_highlight_markers() -> None:
    segmented = segment_cjk("DeepSeek发布新模型 and more")
    snippet = segmented.replace("发 布", "\x02发 布\x03")  # as snippet() marks a match
    assert unsegment_cjk(snippet) == "DeepSeek\x02发布\x03新模型 and more"


# --- against a real FTS5 table ------------------------------------------------------------------

ROWS = {
    1: (
        "DeepSeek is hiring researchers",
        "The lab behind the mixture of experts model posts jobs.",
    ),
    2: ("DeepSeek（深度求索）发布新模型", "深度求索今天宣布招聘计划，并开源了新的混合专家模型。"),
    3: ("深度学习综述", "深度学习领域的求索仍在继续。"),  # 深度 and 求索, never adjacent
    4: ("Straße des Jahres", "Café prices; c++ tips; GPT-4o release"),
    5: ("Rumor mill", "A deepseek rumor about hiring"),
}


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE t USING fts5(title, summary,"
        " tokenize='unicode61 remove_diacritics 2')"
    )
    db.executemany(
        "INSERT INTO t (rowid, title, summary) VALUES (?, ?, ?)",
        [
            (rowid, segment_cjk(title), segment_cjk(summary))
            for rowid, (title, summary) in ROWS.items()
        ],
    )
    yield db
    db.close()


def search(db: sqlite3.Connection, text: str) -> set[int]:
    match = fts_match(parse_query(text, NOW))
    assert match is not None
    return {row[0] for row in db.execute("SELECT rowid FROM t WHERE t MATCH ?", [match])}


SEARCHES = [
    ("深度求索", {2}),  # inside a longer sentence; not row 3, where the characters are apart
    ("求索", {2, 3}),
    ("招聘", {2}),
    ("DeepSeek招聘", {2}),
    ("深度求索 -招聘", set()),
    ('"混合专家模型"', {2}),
    ('"专家混合"', set()),
    ("deepseek hiring", {1, 5}),
    ("deepseek -rumor", {1, 2}),
    ('"mixture of experts"', {1}),
    ('"experts of mixture"', set()),
    ("deeps*", {1, 2, 5}),
    ("research*", {1}),
    ("CAFE", {4}),
    ("STRASSE", set()),
    ("straße", {4}),
    ("gpt-4o", {4}),
    ("ＤＥＥＰＳＥＥＫ", {1, 2, 5}),
]


@pytest.mark.parametrize(("text", "rowids"), SEARCHES, ids=lambda v: repr(v))
def test_searches_find_the_rows_they_describe(
    fts: sqlite3.Connection, text: str, rowids: set[int]
) -> None:
    assert search(fts, text) == rowids


HOSTILE = [
    '"', '""', '"""', '"unbalanced', 'a "b', '-"', '-""', '"a""b"', 'a"b"c', '\\"', "\\",
    "*", "***", "-*", "*deep", "deep*", "a*b", "deepseek***", '"deeps" *', "+", "+a", "a + b",
    "NEAR", "NEAR(a b)", "NEAR(a b, 2)", "NEAR/2", "AND", "OR", "NOT", "a AND", "OR b", "a NOT",
    "NOT a", "NOT NOT NOT a", "a OR", "(", ")", "()", "(a OR b)", "((a)", "^", "^a", "a^b",
    ":", "c++:", ":foo", "title:foo", 'summary:"x"', "{title summary}:foo", "{col}", "- title:x",
    "col : x", "-", "--", "- -", "---x", "'; DROP TABLE items; --", "' OR 1=1 --",
    "Robert'); DROP TABLE t;--", "%", "_", "a_b", "$$", "\x00", "a\x00b", "\ud800", "x\udfff",
    "\x02hl\x03", "\u200b", "\u202eevil", "\u3000", "\t\n", "ＡＮＤ", "＂quoted＂", "“smart”",
    "„low“", "‘single’", "tag:", "source:", "since:", "before:", 'tag:"', 'source:"', "tag:-",
    "tag:talent -", "-tag:x", "-since:7d", "since:yesterday", "since:-1d", "since:1e9d",
    "since:99999999999999999999d", "before:0001-01-01", "before:0001-01-01t00:00+08:00",
    "since:9999-12-31", "since:9999-12-31t23:00-08:00", "since:2026-13-01", "since:0000-01-01",
    "since:7d before:7d", "tag:talent", "since:7d", "🚀", "🚀🚀 deepseek", "👩‍💻", "🥰",
    "ﷺ" * 30, "、。「」", "〇々", "ᏸ", "\u19b0", "\ue000", "x" * 500, "x" * 501, "a " * 30,
    "深度求索" * 100, "deepseek " * 20, "é" * 3, "e\u0301", "İstanbul", "ß",
]  # fmt: skip


def hostile_inputs() -> list[str]:
    """The list above, and a fixed-seed mix of syntax, letters, CJK and emoji for what it missed."""
    pool = list('"*-:()^{}+ NOTANDORNEAR') + list("abcé深度求索、。") + ["🚀", "\x00", "\u3000"]
    pool += ["tag:", "source:", "since:", "before:", "7d", "2026-01-01", " ", " "]
    rng = random.Random(20261123)
    generated = ["".join(rng.choices(pool, k=rng.randint(1, 24))) for _ in range(400)]
    return HOSTILE + generated


# What fts_match may contain outside its strings: AND, NOT, parentheses, prefix stars.
_FTS_STRING = re.compile(r'"(?:[^"]|"")*"')
_STRUCTURE = re.compile(r"\(?S( \*)?( AND S( \*)?)*\)?( NOT S( \*)?)*")


def test_hostile_input_parses_or_explains_and_never_breaks_fts5(fts: sqlite3.Connection) -> None:
    for text in hostile_inputs():
        try:
            query = parse_query(text, NOW)
        except QueryError as error:
            assert str(error), text
            continue
        assert not query.is_empty(), text
        match = fts_match(query)
        if match is None:
            assert not (query.terms or query.phrases or query.excluded), text
            continue
        assert _STRUCTURE.fullmatch(_FTS_STRING.sub("S", match)), (text, match)
        assert '""' not in _FTS_STRING.findall(match), (text, match)  # ANDed, it matches nothing
        try:
            fts.execute("SELECT rowid FROM t WHERE t MATCH ?", [match]).fetchall()
        except sqlite3.Error as error:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{text!r} -> {match!r} raised {error}")
