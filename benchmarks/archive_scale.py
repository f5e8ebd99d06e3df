"""Archive scale: newsdesk's SQLite archive at a million items, and reader's search beside it.

The archive is built the way polls build it: benchmarks/archivegen.py generates two years of
AI news from ~500 feeds (templated English and Chinese items, one "hot" week of 50,000 items,
a fifth of the stories syndicated to 1-3 other feeds), and each hourly round's batch per feed
goes through `Pipeline.prepare` (tagging, MinHash signature) and `Store.save_items` with the
config's default dedup settings, then `prune_dedup_candidates`, as `poll_feeds` does. So the
stories, tags, FTS index and LSH bands are what production builds. A batch holds the feed's
new items only (a real poll also re-reads the ones it has, which costs one indexed lookup each).

Measured, against the targets of the archive-scale issue:

- build rate (items/s) and peak RSS of building the archive, each build in a fresh subprocess
  (so the RSS is its own): the 1M archive, and 100,000 items into a new database (target
  <= 250 MB). The 100k ingest runs exactly as production does; the 1M build defaults to
  `--build-sync off` (the same rows, without the fsyncs of WAL checkpoints, which make a bulk
  build disk-bound: ~430 KB written per item with synchronous=NORMAL on a small VM). The
  generator's intended stories are checked against the stories the store built;
- search: a fixed list of queries (words, phrases, prefixes, exclusions, tag:, source:,
  since:/before:, Chinese), each through `parse_query` + `Store.search` (limit 10) `--runs`
  times after a warm-up, "now" being the archive's last poll; p50 and p99 per query and over
  all of them (targets <= 5 ms, <= 50 ms);
- digest build: `compose_digest` (extractive, no LLM) for the hot week, median of 5 (<= 1 s),
  with its parts (stories_between, weekly_tag_counts, build_digest, summarize) timed apart;
- store size on disk (database + WAL) and bytes per item, with the largest tables (dbstat);
- query plans: every statement a search, a digest's reads and `/news tags` (tag_counts) run
  is EXPLAINed, and a full scan of a large table (items, stories, item_tags, item
  bands/signatures) is reported ("nothing in a hot path loads whole tables"); tag_counts is
  timed too;
- the peer: reader (lemon24/reader) on the same 100,000 items, served to it as local Atom files
  (`make_reader(..., feed_root=DIR)`, `update_feeds`, `update_search`), and `search_entries`
  (limit 10) timed against newsdesk's search on the 100k archive, for the word and phrase
  queries both can run.

    python benchmarks/archive_scale.py [--items 1000000] [--workdir DIR] [--reuse] [--runs 50]
                                       [--peer-items 100000] [--no-peer]

Built archives (and reader's database) are kept in --workdir (default: a new temporary
directory) with a .json note of how they were built; --reuse takes them from there instead of
building again. Prints os.getloadavg() with the results: other work on the machine shows in
the timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from archivegen import COPY_OF, END, HOT_WEEK, START, Generator

from newsdesk.config import Settings
from newsdesk.digest.build import build_digest
from newsdesk.digest.compose import compose_digest
from newsdesk.feeds.poller import Pipeline
from newsdesk.models import ParsedFeed, Subscription
from newsdesk.query import parse_query
from newsdesk.store import Store
from newsdesk.summarizer.service import Summarizer

SEARCH_P50_MS, SEARCH_P99_MS, DIGEST_S, INGEST_RSS_MB = 5.0, 50.0, 1.0, 250.0
SEED = 1

# (query, reader's query or None when reader cannot run it the same way)
QUERIES: list[tuple[str, str | None]] = [
    ("deepseek", "deepseek"),
    ("openai valuation", "openai valuation"),
    ('"mixture of experts"', '"mixture of experts"'),
    ("nvidia h200", "nvidia h200"),
    ('"export controls"', '"export controls"'),
    ("hiring researchers", "hiring researchers"),
    ("kimi k2", "kimi k2"),
    ("qwen3 coder", "qwen3 coder"),
    ("anthropic series b", "anthropic series b"),
    ("interpretability gemini", "interpretability gemini"),
    ("{startup}", "{startup}"),  # a long-tail name: a few hundred items in 1M
    ("robot*", None),
    ("agents -openai", None),
    ("招聘", None),
    ("深度求索 发布", None),
    ("tag:talent", None),
    ("tag:funding since:30d", None),
    ("deepseek tag:model-release", None),
    ("source:Reuters nvidia", None),
    ("anthropic since:7d", None),
    ("open weights before:2025-06-01", None),
]
LARGE_TABLES = ("items", "stories", "item_tags", "item_bands", "item_signatures")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--peer-items", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="reuse archives built before")
    parser.add_argument("--runs", type=int, default=50, help="timed runs of each query")
    parser.add_argument("--no-peer", action="store_true", help="skip reader")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--build-sync",
        choices=["normal", "off"],
        default="off",
        help="PRAGMA synchronous while building the large archive (default off: the same data,"
        " without the fsyncs that make a bulk build disk-bound; the 100k ingest always runs"
        " with production's normal)",
    )
    parser.add_argument("--ingest-only", type=Path, help=argparse.SUPPRESS)  # the subprocess
    args = parser.parse_args()
    if args.ingest_only:
        result = ingest(args.ingest_only, args.items, args.seed, args.build_sync)
        print("RESULT " + json.dumps(result), flush=True)
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="archive-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"workdir {workdir}; load average at start {_load()}", flush=True)
    print(f"== building {args.items:,} items (seed {args.seed}) ==", flush=True)
    big_path, big = built_archive(workdir, args.items, args.seed, args.reuse, args.build_sync)
    print(f"== ingesting {args.peer_items:,} items into a new database (peak RSS) ==", flush=True)
    small_path, small = built_archive(workdir, args.peer_items, args.seed, args.reuse)
    startup = Generator(1, seed=args.seed)._startups[7]
    queries = [(q.format(startup=startup), r and r.format(startup=startup)) for q, r in QUERIES]

    with open_migrated(big_path) as store:
        now = last_poll(store)
        print(
            f"== search over {args.items:,} items at {now:%Y-%m-%d %H:%M} (the last poll):"
            f" {args.runs} runs per query ==",
            flush=True,
        )
        searched = time_searches(store, [q for q, _ in queries], args.runs, now)
        print_searches(searched)
        print("== digest of the hot week ==", flush=True)
        digest = time_digest(store)
        print_digest(digest)
        plans = hot_path_plans(store, [q for q, _ in queries], now)
        print_plans(plans)
        tags_s = time_tag_counts(store)
        print(f"  tag_counts (/news tags, whole archive): median {tags_s * 1000:.0f} ms")
        size = store_size(store, big_path, args.items)
        print_size(size)

    peer = None
    if not args.no_peer:
        print(f"== reader on the same {args.peer_items:,} items ==", flush=True)
        comparable = [(q, r) for q, r in queries if r is not None]
        peer = compare_with_reader(workdir, small_path, args.peer_items, args.seed, comparable,
                                   args.runs, args.reuse)  # fmt: skip
        print_peer(peer)

    print_summary(args, big, small, searched, digest, size, plans, tags_s, peer)


# --- building ----------------------------------------------------------------------------------


def ingest(path: Path, items: int, seed: int, sync: str = "normal") -> dict[str, Any]:
    """Build an archive of `items` generated items at `path` through the poll path."""
    started_rss = _rss_now_mb()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    pipeline = Pipeline.from_settings(Settings())  # the config's defaults
    generator = Generator(items, seed=seed)
    store = Store.open(path)
    if sync != "normal":  # durability only: the data written is the same
        store.db.execute(f"PRAGMA synchronous = {sync}")
    store.sync_taxonomy(pipeline.taxonomy.tags)
    feeds = {
        spec.index: store.add_feed(
            spec.url, title=spec.title, tags=spec.tags, source="config", now=START
        )
        for spec in generator.feeds
    }
    polled: set[int] = set()
    done = 0
    step = max(1, items // 20)
    next_report = step
    started = last_time = time.perf_counter()
    last_done = 0
    for poll, batches in generator.rounds():
        for spec, batch in batches:
            feed = feeds[spec.index]
            prepared = [pipeline.prepare(item, feed) for item in batch]
            store.save_items(
                feed.id,
                ParsedFeed(title=spec.title, link=None, items=prepared),
                now=poll,
                next_poll_at=poll + timedelta(hours=1),
                backfill=spec.index not in polled,
                dedup=pipeline.dedup,
            )
            polled.add(spec.index)
            done += len(batch)
        store.prune_dedup_candidates(poll, pipeline.dedup.window_days)
        if done >= next_report:
            now = time.perf_counter()
            rate = (done - last_done) / (now - last_time)
            print(
                f"  {done:>9,} items  {poll:%Y-%m-%d}  {rate:6.0f} items/s"
                f" (overall {done / (now - started):.0f})  RSS {_rss_now_mb():.0f} MB",
                flush=True,
            )
            last_time, last_done = now, done
            next_report += step
    seconds = time.perf_counter() - started
    counts = store.counts()
    meant, built, pairs = store.db.execute(
        f"""
        WITH k AS (
            SELECT story_id, CASE WHEN instr(guid, '{COPY_OF}') > 0
                THEN substr(guid, instr(guid, '{COPY_OF}') + {len(COPY_OF)}) ELSE guid END AS key
            FROM items
        )
        SELECT count(DISTINCT key), count(DISTINCT story_id),
               (SELECT count(*) FROM (SELECT DISTINCT story_id, key FROM k))
        FROM k
        """
    ).fetchone()
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    stats = generator.stats
    return {
        "items": counts["items"],
        "stories": counts["stories"],
        # Stories the generator meant; stories holding more than one of them (false merges);
        # meant stories split over several stored ones (copies that did not join).
        "stories_meant": meant,
        "merged_away": pairs - built,
        "split_off": pairs - meant,
        "generated": {
            "items": stats.items,
            "originals": stats.originals,
            "copies": stats.copies,
            "hot_week_items": stats.hot_week_items,
            "zh_items": stats.zh_items,
        },
        "seconds": seconds,
        "items_per_s": counts["items"] / seconds,
        "rss_start_mb": started_rss,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "vmhwm_mb": _status_mb("VmHWM"),
        "seed": seed,
        "sync": sync,
    }


def built_archive(
    workdir: Path, items: int, seed: int, reuse: bool, sync: str = "normal"
) -> tuple[Path, dict]:
    """The archive of `items` items in `workdir`: reused, or built in a fresh subprocess."""
    path = workdir / f"newsdesk-{items}-seed{seed}.sqlite"
    note = path.with_suffix(".json")
    if reuse and path.exists() and note.exists():
        result = json.loads(note.read_text())
        print(f"  reusing {path}, built {result.get('built_at', '?')}; its build log:")
        for line in result.get("log", []):
            print(f"  | {line}")
        describe_build(result)
        return path, result
    command = [sys.executable, __file__, "--ingest-only", str(path), "--items", str(items),
               "--seed", str(seed), "--build-sync", sync]  # fmt: skip
    result = None
    log = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT ") :])
            else:
                print(line, end="", flush=True)
                log.append(line.rstrip())
    if child.returncode or result is None:
        raise SystemExit(f"building {path} failed (exit status {child.returncode})")
    result["log"] = log
    result["built_at"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    note.write_text(json.dumps(result, indent=2))
    describe_build(result)
    return path, result


def describe_build(result: dict[str, Any]) -> None:
    generated = result["generated"]
    print(
        f"  built {result['items']:,} items ({result['stories']:,} stories) in"
        f" {result['seconds'] / 60:.1f} min: {result['items_per_s']:.0f} items/s with"
        f" synchronous={result['sync']}; peak RSS {result['peak_rss_mb']:.0f} MB"
        f" ({result['rss_start_mb']:.0f} MB after imports)\n"
        f"  generated: {generated['originals']:,} originals + copies {generated['copies']},"
        f" {generated['zh_items']:,} Chinese, {generated['hot_week_items']:,} in the hot week;"
        f" stories meant {result['stories_meant']:,}: {result['merged_away']:,} merged into"
        f" another story by near-duplicate matching, {result['split_off']:,} copies that"
        " did not join their story",
        flush=True,
    )


def open_migrated(path: Path) -> Store:
    """Store.open, saying so when it brings an archive built by an older newsdesk up to date."""
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    started = time.perf_counter()
    store = Store.open(path)
    if store.schema_version != version:
        print(
            f"  migrated the archive from schema {version} to {store.schema_version}"
            f" in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    return store


# --- search ------------------------------------------------------------------------------------


def last_poll(store: Store) -> datetime:
    """The archive's "now": its last poll, so that since:7d is its last week."""
    return datetime.fromisoformat(
        store.db.execute("SELECT max(first_seen) FROM items").fetchone()[0]
    )


def time_searches(
    store: Store, queries: list[str], runs: int, now: datetime
) -> dict[str, dict[str, Any]]:
    results = {}
    for text in queries:

        def once(text: str = text) -> int:
            return len(store.search(parse_query(text, now), limit=10, now=now))

        results[text] = _timed(once, runs)
    return results


def _timed(fn: Callable[[], int], runs: int, warmup: int = 2) -> dict[str, Any]:
    for _ in range(warmup):
        found = fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        found = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {"samples": samples, "hits": found, **_percentiles(samples)}


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(0.99 * len(ordered) + 0.5) - 1))  # nearest rank
    return {"p50": statistics.median(ordered), "p99": ordered[rank]}


def pooled(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    return _percentiles([s for r in results.values() for s in r["samples"]])


def print_searches(results: dict[str, dict[str, Any]]) -> None:
    print(f"  {'query':<34} {'hits':>4} {'p50 ms':>9} {'p99 ms':>9}")
    for text, r in results.items():
        print(f"  {text:<34} {r['hits']:>4} {r['p50']:9.2f} {r['p99']:9.2f}")
    overall = pooled(results)
    print(f"  {'all queries':<34} {'':>4} {overall['p50']:9.2f} {overall['p99']:9.2f}", flush=True)


# --- digest ------------------------------------------------------------------------------------


def time_digest(store: Store, repeat: int = 5) -> dict[str, Any]:
    settings = Settings()
    pipeline = Pipeline.from_settings(settings)
    taxonomy = pipeline.taxonomy
    subscription = Subscription(name="bench", llm_summaries=False)
    start, end = HOT_WEEK, HOT_WEEK + timedelta(weeks=1)

    def compose() -> Any:
        return asyncio.run(
            compose_digest(store, settings, taxonomy, subscription, now=end, start=start, end=end)
        ).digest

    def median_seconds(fn: Callable[[], Any]) -> tuple[float, Any]:
        times, value = [], None
        for _ in range(repeat):
            started = time.perf_counter()
            value = fn()
            times.append(time.perf_counter() - started)
        return statistics.median(times), value

    total, digest = median_seconds(compose)
    between, stories = median_seconds(lambda: store.stories_between(start, end))
    tags = {tag for story in stories for tag in story.tags}
    weeks = settings.digest.trend_weeks
    counts_s, counts = median_seconds(lambda: store.weekly_tag_counts(tags, end, weeks))
    build_s, built = median_seconds(
        lambda: build_digest(
            stories,
            subscription=subscription,
            taxonomy=taxonomy,
            start=start,
            end=end,
            title="bench",
            weekly_counts=counts,
        )
    )
    summarizer = Summarizer(store, settings.summarizer, settings.digest, None)
    summarize_s, _ = median_seconds(lambda: asyncio.run(summarizer.summarize(built, use_llm=False)))
    week_items = store.db.execute(
        "SELECT count(*) FROM items WHERE first_seen >= ? AND first_seen < ?",
        [f"{start:%Y-%m-%dT%H:%M:%SZ}", f"{end:%Y-%m-%dT%H:%M:%SZ}"],
    ).fetchone()[0]
    return {
        "seconds": total,
        "week_items": week_items,
        "stories": len(stories),
        "shown": len(digest.stories),
        "parts": {
            "stories_between": between,
            "weekly_tag_counts": counts_s,
            "build_digest": build_s,
            "summarize": summarize_s,
        },
        "start": start,
    }


def print_digest(d: dict[str, Any]) -> None:
    print(
        f"  week of {d['start']:%Y-%m-%d}: {d['week_items']:,} items, {d['stories']:,} stories,"
        f" {d['shown']} shown; compose_digest median {d['seconds'] * 1000:.0f} ms"
    )
    for name, seconds in d["parts"].items():
        print(f"    {name:<18} {seconds * 1000:8.0f} ms")


# --- query plans -------------------------------------------------------------------------------


def hot_path_plans(store: Store, queries: list[str], now: datetime) -> list[tuple[str, str, str]]:
    """(where, plan line, full | walk) for each scan of a large table in the query plans of
    the statements a search, a digest's reads and the tags command run.

    "SCAN r USING INDEX x" in a statement with a LIMIT walks the index in order and stops at
    the page ("walk"); any other scan of a large table reads all of it ("full").
    """
    statements: list[tuple[str, str]] = []
    label = ""

    def trace(sql: str) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((label, sql))

    store.db.conn.set_trace_callback(trace)
    try:
        for text in queries:
            label = f"search {text}"
            store.search(parse_query(text, now), limit=10, now=now)
        start, end = HOT_WEEK, HOT_WEEK + timedelta(weeks=1)
        label = "stories_between"
        stories = store.stories_between(start, end)
        label = "weekly_tag_counts"
        store.weekly_tag_counts({t for s in stories for t in s.tags}, end, 8)
        label = "story_texts"
        store.story_texts([s.id for s in stories[:20]])
        label = "tag_counts (/news tags)"
        store.tag_counts()
    finally:
        store.db.conn.set_trace_callback(None)
    scans = []
    for where, sql in statements:
        flat = " ".join(sql.split())
        for row in store.db.execute("EXPLAIN QUERY PLAN " + sql).fetchall():
            detail = row[-1]
            words = detail.split()
            if len(words) < 2 or words[0] != "SCAN" or "VIRTUAL TABLE" in detail:
                continue
            if words[1] in LARGE_TABLES or _alias_of_large(flat, words[1]):
                walk = " USING " in detail and " LIMIT " in flat.upper()
                scans.append((where, detail, "walk" if walk else "full"))
    return scans


def _alias_of_large(flat: str, alias: str) -> bool:
    return any(f"{table} {alias} " in flat or flat.endswith(f"{table} {alias}")
               for table in LARGE_TABLES)  # fmt: skip


def print_plans(scans: list[tuple[str, str, str]]) -> None:
    full = sorted({(where, detail) for where, detail, kind in scans if kind == "full"})
    walks = sorted({(where, detail) for where, detail, kind in scans if kind == "walk"})
    if full:
        print("  query plans: full scans of large tables")
        for where, detail in full:
            print(f"    {where}: {detail}")
    else:
        print("  query plans: no full scan of a large table")
    for where, detail in walks:
        print(f"    (ordered walk, stops at LIMIT) {where}: {detail}")


def time_tag_counts(store: Store, repeat: int = 3) -> float:
    """`/news tags` and `newsdesk tags`: stories per tag over the whole archive."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        store.tag_counts()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --- size --------------------------------------------------------------------------------------


def store_size(store: Store, path: Path, items: int) -> dict[str, Any]:
    main = path.stat().st_size
    wal_path = Path(f"{path}-wal")
    wal = wal_path.stat().st_size if wal_path.exists() else 0
    tables: list[tuple[str, int]] = []
    try:
        rows = store.db.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 12"
        ).fetchall()
        tables = [(name, size) for name, size in rows]
    except Exception:  # dbstat is a compile-time option of SQLite
        pass
    count = store.db.execute("SELECT count(*) FROM items").fetchone()[0]
    return {"main": main, "wal": wal, "items": count or items, "tables": tables}


def print_size(s: dict[str, Any]) -> None:
    total = s["main"] + s["wal"]
    print(
        f"  store: {s['main'] / 1e6:.0f} MB + WAL {s['wal'] / 1e6:.1f} MB ="
        f" {total / 1e6:.0f} MB, {total / s['items']:.0f} bytes per item"
    )
    if s["tables"]:
        print("  largest tables and indexes: " + ", ".join(
            f"{name} {size / 1e6:.0f} MB" for name, size in s["tables"][:8]))  # fmt: skip


# --- the peer ----------------------------------------------------------------------------------


def compare_with_reader(
    workdir: Path,
    archive: Path,
    items: int,
    seed: int,
    queries: list[tuple[str, str]],
    runs: int,
    reuse: bool,
) -> dict[str, Any]:
    # reader 3.26 vendors a feedparser that imports `sgmllib` (the sgmllib3k package), which
    # nothing here installs; feedparser 6.0.14 (installed) renamed its copy feedparser_sgmllib,
    # the same module. Without this alias reader fails to parse any feed.
    import feedparser_sgmllib

    sys.modules.setdefault("sgmllib", feedparser_sgmllib)
    from reader import make_reader

    feed_dir = workdir / f"reader-feeds-{items}-seed{seed}"
    db = workdir / f"reader-{items}-seed{seed}.sqlite"
    note = db.with_suffix(".json")
    if reuse and db.exists() and note.exists():
        built = json.loads(note.read_text())
        print(f"  reusing {db}", flush=True)
        reader = make_reader(str(db), feed_root=str(feed_dir))
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        started = time.perf_counter()
        names = write_atom_feeds(feed_dir, items, seed)
        written = time.perf_counter() - started
        reader = make_reader(str(db), feed_root=str(feed_dir))
        started = time.perf_counter()
        for name in names:
            reader.add_feed(name)
        reader.update_feeds()
        updated = time.perf_counter() - started
        started = time.perf_counter()
        reader.enable_search()
        reader.update_search()
        indexed = time.perf_counter() - started
        entries = reader.get_entry_counts().total
        built = {"entries": entries, "update_s": updated, "search_s": indexed,
                 "write_s": written}  # fmt: skip
        note.write_text(json.dumps(built))
        print(
            f"  reader: {entries:,} entries; update_feeds {updated:.0f} s"
            f" ({entries / updated:.0f} entries/s, feedparser included), update_search"
            f" {indexed:.0f} s",
            flush=True,
        )
    size = sum(
        Path(f"{db}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{db}{suffix}").exists()
    )
    results: dict[str, dict[str, Any]] = {}
    with Store.open(archive) as store:
        now = last_poll(store)
        for text, reader_text in queries:

            def ours(text: str = text) -> int:
                return len(store.search(parse_query(text, now), limit=10, now=now))

            def theirs(text: str = reader_text) -> int:
                return len(list(reader.search_entries(text, limit=10)))

            results[text] = {"newsdesk": _timed(ours, runs), "reader": _timed(theirs, runs)}
    reader.close()
    newsdesk_size = archive.stat().st_size
    return {"built": built, "results": results, "reader_size": size, "newsdesk_size": newsdesk_size}


def write_atom_feeds(feed_dir: Path, items: int, seed: int) -> list[str]:
    """The generated items as one Atom file per feed, every item the feed ever carried."""
    feed_dir.mkdir(parents=True, exist_ok=True)
    generator = Generator(items, seed=seed)
    entries: dict[int, list[str]] = {}
    for _, batches in generator.rounds():
        for spec, batch in batches:
            for item in batch:
                stamp = f"{item.published:%Y-%m-%dT%H:%M:%SZ}"
                author = (
                    f"<author><name>{escape(item.author)}</name></author>" if item.author else ""
                )
                summary = f"<summary>{escape(item.summary)}</summary>" if item.summary else ""
                entries.setdefault(spec.index, []).append(
                    f"<entry><id>{escape(item.guid)}</id><title>{escape(item.title)}</title>"
                    f"<link href={quoteattr(item.url or '')}/><published>{stamp}</published>"
                    f"<updated>{stamp}</updated>{author}{summary}</entry>"
                )
    names = []
    for spec in generator.feeds:
        name = f"feed{spec.index:04d}.xml"
        body = "".join(reversed(entries.get(spec.index, [])))
        (feed_dir / name).write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>{escape(spec.url)}</id><title>{escape(spec.title)}</title>"
            f"<updated>{END:%Y-%m-%dT%H:%M:%SZ}</updated>{body}</feed>\n",
            encoding="utf-8",
        )
        names.append(name)
    return names


def print_peer(peer: dict[str, Any]) -> None:
    print(f"  {'query':<26} {'newsdesk p50/p99 ms':>20} {'reader p50/p99 ms':>20} {'hits':>7}")
    for text, r in peer["results"].items():
        ours, theirs = r["newsdesk"], r["reader"]
        print(
            f"  {text:<26} {ours['p50']:9.2f} /{ours['p99']:8.2f} {theirs['p50']:9.2f} /"
            f"{theirs['p99']:8.2f} {ours['hits']:>3}/{theirs['hits']:<3}"
        )
    ours = pooled({t: r["newsdesk"] for t, r in peer["results"].items()})
    theirs = pooled({t: r["reader"] for t, r in peer["results"].items()})
    print(
        f"  {'all':<26} {ours['p50']:9.2f} /{ours['p99']:8.2f} {theirs['p50']:9.2f} /"
        f"{theirs['p99']:8.2f}"
    )
    print(
        f"  on disk: newsdesk {peer['newsdesk_size'] / 1e6:.0f} MB,"
        f" reader {peer['reader_size'] / 1e6:.0f} MB",
        flush=True,
    )


# --- the summary -------------------------------------------------------------------------------


def print_summary(args, big, small, searched, digest, size, plans, tags_s, peer) -> None:
    overall = pooled(searched)
    slowest = max(searched.items(), key=lambda kv: kv[1]["p50"])
    full = sorted({f"{where}: {detail}" for where, detail, kind in plans if kind == "full"})
    walks = sorted({detail for _, detail, kind in plans if kind == "walk"})
    total = size["main"] + size["wal"]
    rows = [
        (
            f"search p50, {args.items:,} items",
            f"{overall['p50']:.2f} ms",
            f"<= {SEARCH_P50_MS:g} ms",
            overall["p50"] <= SEARCH_P50_MS,
            f"slowest query {slowest[0]!r}: p50 {slowest[1]['p50']:.1f} ms",
        ),
        (
            f"search p99, {args.items:,} items",
            f"{overall['p99']:.2f} ms",
            f"<= {SEARCH_P99_MS:g} ms",
            overall["p99"] <= SEARCH_P99_MS,
            f"slowest query {slowest[0]!r}: p99 {slowest[1]['p99']:.1f} ms",
        ),
        (
            f"digest, week of {digest['week_items']:,} items",
            f"{digest['seconds']:.2f} s",
            f"<= {DIGEST_S:g} s",
            digest["seconds"] <= DIGEST_S,
            "largest part: " + max(digest["parts"].items(), key=lambda kv: kv[1])[0],
        ),
        (
            "store size on disk",
            f"{total / 1e6:.0f} MB",
            "(reported)",
            None,
            f"{total / size['items']:.0f} bytes/item",
        ),
        (
            f"peak RSS, ingest {small['items']:,} items",
            f"{small['peak_rss_mb']:.0f} MB",
            f"<= {INGEST_RSS_MB:g} MB",
            small["peak_rss_mb"] <= INGEST_RSS_MB,
            f"{small['rss_start_mb']:.0f} MB after imports",
        ),
        (
            f"build rate, {big['items']:,} items",
            f"{big['items_per_s']:.0f} items/s",
            "(reported)",
            None,
            f"{big['seconds'] / 60:.1f} min; peak RSS {big['peak_rss_mb']:.0f} MB",
        ),
        (
            "no full scan of a large table",
            f"{len(full)} full, {len(walks)} walks",
            "none",
            not full,
            "; ".join(full)[:90] or "walks: ordered index scans stopping at LIMIT",
        ),
    ]
    rows.append(
        (
            "tags command (tag_counts)",
            f"{tags_s * 1000:.0f} ms",
            "(reported)",
            None,
            "counts every tagged item of the archive",
        )
    )
    if peer is not None:
        ours = pooled({t: r["newsdesk"] for t, r in peer["results"].items()})
        theirs = pooled({t: r["reader"] for t, r in peer["results"].items()})
        rows.append(
            (
                f"search vs reader, {small['items']:,} items",
                f"p50 {ours['p50']:.2f} vs {theirs['p50']:.2f} ms",
                "(compared)",
                None,
                f"p99 {ours['p99']:.1f} vs {theirs['p99']:.1f} ms",
            )
        )
    print()
    print(f"== summary (load average {_load()}) ==")
    print(f"  {'target':<34} {'measured':<22} {'goal':<11} {'':<8} notes")
    for name, measured, goal, met, note in rows:
        verdict = "" if met is None else ("met" if met else "NOT MET")
        print(f"  {name:<34} {measured:<22} {goal:<11} {verdict:<8} {note}")


# --- helpers -----------------------------------------------------------------------------------


def _status_mb(key: str) -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _rss_now_mb() -> float:
    return _status_mb("VmRSS")


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
