"""Archive search and the story layer above items: tags, near-duplicates, retagging.

A real SQLite file, items stored through `save_items` exactly as a poll stores them (tagged by the
shipped taxonomy, signed for near-duplicate matching), then searched through `parse_query` and
`Store.search` as `newsdesk search` and the chat command do.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from newsdesk.feeds.canonical import content_hash
from newsdesk.feeds.dedup import DedupSettings
from newsdesk.feeds.poller import Pipeline
from newsdesk.models import Feed, Item, ParsedFeed
from newsdesk.query import QueryError, parse_query
from newsdesk.store import _SCHEMA_1, HIGHLIGHT_END, HIGHLIGHT_START, Store
from tests.conftest import NOW

PIPELINE = Pipeline.default()


def item(guid: str, title: str, summary: str = "", url: str | None = None, days_ago: int = 1):
    return Item(
        guid=guid,
        url=url,
        title=title,
        summary=summary,
        author=None,
        published=NOW - timedelta(days=days_ago),
        content_hash=content_hash(title, summary),
    )


def ingest(store: Store, feed: Feed, *items: Item, now=NOW) -> None:
    prepared = [PIPELINE.prepare(i, feed) for i in items]
    store.save_items(
        feed.id,
        ParsedFeed(title=None, link=None, items=prepared),
        now=now,
        next_poll_at=now,
        dedup=DedupSettings(),
    )


def search(store: Store, text: str, **kwargs):
    return store.search(parse_query(text, NOW), now=NOW, **kwargs)


@pytest.fixture
def archive(store):
    press = store.add_feed("https://press.example/feed", title="TechPress AI")
    cn = store.add_feed("https://cn.example/feed", title="机器之芯")
    ingest(
        store,
        press,
        item(
            "1",
            "DeepSeek releases V4 with a million-token context",
            "The Hangzhou lab released V4, a mixture-of-experts model with open weights.",
            "https://press.example/v4",
        ),
        item(
            "2",
            "Meta freezes hiring in its AI division",
            "Meta has paused hiring for research roles after a reorganisation.",
            "https://press.example/meta-freeze",
        ),
        item(
            "3",
            "Old news about mixture of experts",
            "A mixture of experts explainer from last year, mixture of experts again.",
            "https://press.example/old",
            days_ago=300,
        ),
    )
    ingest(
        store,
        cn,
        item(
            "c1",
            "深度求索启动杭州大规模招聘",
            "发布 V4 后不久，深度求索在杭州总部开放 300 余个研究与工程岗位。",
            "https://cn.example/hiring",
        ),
    )
    return store


def titles(hits) -> list[str]:
    return [hit.story.title for hit in hits]


def test_words_find_stories_with_a_highlighted_snippet(archive):
    [hit] = search(archive, "hiring meta")
    assert hit.story.title == "Meta freezes hiring in its AI division"
    assert f"{HIGHLIGHT_START}hiring{HIGHLIGHT_END}" in hit.snippet.lower()
    assert hit.story.sources == ("TechPress AI",)


def test_a_chinese_word_is_found_inside_a_sentence_and_the_snippet_is_unspaced(archive):
    [hit] = search(archive, "招聘")
    assert hit.story.title == "深度求索启动杭州大规模招聘"
    assert f"{HIGHLIGHT_START}招聘{HIGHLIGHT_END}" in hit.snippet or "招 聘" not in hit.snippet


def test_fresh_stories_outrank_an_older_one_that_repeats_the_words(archive):
    assert titles(search(archive, '"mixture of experts"'))[0].startswith("DeepSeek releases V4")


def test_tag_filter_finds_stories_in_both_languages(archive):
    found = titles(search(archive, "tag:talent"))
    assert set(found) == {"Meta freezes hiring in its AI division", "深度求索启动杭州大规模招聘"}


def test_source_and_date_filters(archive):
    assert titles(search(archive, "source:机器之芯")) == ["深度求索启动杭州大规模招聘"]
    assert "Old news about mixture of experts" not in titles(search(archive, "experts since:30d"))
    assert titles(search(archive, "experts before:2026-06-01")) == [
        "Old news about mixture of experts"
    ]


def test_results_are_paged(archive):
    first = search(archive, "since:400d", limit=2)
    second = search(archive, "since:400d", limit=2, offset=2)
    assert len(first) == 2 and len(second) == 2
    assert not set(titles(first)) & set(titles(second))


@pytest.mark.parametrize(
    "hostile",
    [
        '"unbalanced',
        "*",
        "NEAR(a b)",
        "a AND OR NOT b",
        "'; DROP TABLE items; --",
        "title:deepseek",
        "{title summary}: x",
        "c++: ^x",
        "深度求索 AND (",
        "x" * 400,
    ],
)
def test_hostile_search_text_never_raises_a_database_error(archive, hostile):
    try:
        hits = search(archive, hostile)
    except QueryError:
        return  # a clear message for the user is an acceptable answer
    except sqlite3.Error as exc:  # pragma: no cover - the failure this test exists for
        pytest.fail(f"{hostile!r} reached SQLite as syntax: {exc}")
    assert isinstance(hits, list)
    assert archive.counts()["items"] == 4


def test_story_tags_are_the_union_of_its_items_tags_highest_priority_first(store):
    a = store.add_feed("https://a.example/feed", tags=["china"])
    b = store.add_feed("https://b.example/feed")
    store.sync_taxonomy(PIPELINE.taxonomy.tags)
    ingest(store, a, item("1", "DeepSeek V4 released", "Weights are out.", "https://x.example/v4"))
    ingest(store, b, item("2", "V4 is here", "A new model from the lab.", "https://x.example/v4"))
    [story] = store.recent_stories()
    assert story.tags[0] == "deepseek"
    assert {"deepseek", "model-release", "china"} <= set(story.tags)


def test_a_rewritten_syndicated_copy_joins_the_story_and_an_unrelated_one_does_not(store):
    wire = store.add_feed("https://wire.example/feed", title="Wire")
    paper = store.add_feed("https://paper.example/feed", title="Paper")
    lead = (
        "Nvidia said on Wednesday that quarterly revenue rose 62% to $57 billion, driven by "
        "demand for its Blackwell data-centre chips, and forecast further growth next quarter."
    )
    ingest(
        store,
        wire,
        item("w1", "Nvidia revenue jumps 62% on Blackwell demand", lead, "https://wire.example/1"),
    )
    ingest(
        store,
        paper,
        item(
            "p1",
            "Nvidia posts record quarter as Blackwell sales surge",
            lead,
            "https://paper.example/9",
        ),
        item(
            "p2",
            "Nvidia wins licence to ship H20 chips to China",
            "The US Commerce Department granted Nvidia a licence to resume H20 sales in China.",
            "https://paper.example/10",
        ),
    )
    assert store.counts() == {"feeds": 2, "items": 3, "stories": 2}
    merged = [s for s in store.recent_stories() if s.item_count == 2]
    assert merged and merged[0].sources == ("Wire", "Paper")


def test_a_copy_outside_the_dedup_window_starts_a_new_story(store):
    wire = store.add_feed("https://wire.example/feed")
    paper = store.add_feed("https://paper.example/feed")
    lead = "Mistral released Large 3, a 675-billion-parameter model with Apache 2.0 weights."
    ingest(store, wire, item("w1", "Mistral releases Large 3", lead, "https://wire.example/1"))
    later = NOW + timedelta(days=30)
    store.prune_dedup_candidates(later, DedupSettings().window_days)
    ingest(
        store,
        paper,
        item("p1", "Mistral Large 3 is out", lead + " More.", "https://p.example/2"),
        now=later,
    )
    assert store.counts()["stories"] == 2


def test_retag_applies_a_changed_taxonomy_to_the_archive(archive, tmp_path):
    from newsdesk.feeds.tagging import load_taxonomy

    custom = tmp_path / "taxonomy.toml"
    custom.write_text(
        '[[tags]]\nname = "hangzhou"\nlabel = "Hangzhou"\nany = ["Hangzhou", "杭州"]\n',
        encoding="utf-8",
    )
    taxonomy = load_taxonomy(custom)
    archive.sync_taxonomy(taxonomy.tags)
    seen, changed = archive.retag(taxonomy.tag)
    assert (seen, changed) == (4, 3)  # the untagged explainer stays untagged
    assert set(titles(search(archive, "tag:hangzhou"))) == {
        "DeepSeek releases V4 with a million-token context",
        "深度求索启动杭州大规模招聘",
    }
    assert archive.retag(taxonomy.tag) == (4, 0)


def test_an_archive_from_schema_1_is_indexed_for_search_on_upgrade(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA_1)
        conn.execute(
            "INSERT INTO feeds (id, url, created_at) VALUES (1, 'https://a.example/f', 'x')"
        )
        conn.execute(
            "INSERT INTO stories (id, representative_item_id, first_seen, last_seen, item_count)"
            " VALUES (1, 1, '2026-11-20T00:00:00Z', '2026-11-20T00:00:00Z', 1)"
        )
        conn.execute(
            "INSERT INTO items (id, feed_id, guid, title, summary, published, first_seen,"
            " content_hash, story_id) VALUES (1, 1, 'g', 'Qwen4 open-sourced', '通义千问开源',"
            " '2026-11-20T00:00:00Z', '2026-11-20T00:00:00Z', 'h', 1)"
        )
        conn.execute("PRAGMA user_version = 1")
    with Store.open(path) as upgraded:
        assert titles(search(upgraded, "千问")) == ["Qwen4 open-sourced"]
