"""Parse cost on real feeds: newsdesk's parse_feed against fastfeedparser and feedparser alone.

parse_feed does more than either parser (it settles the encoding, checks well-formedness, cleans
text to plain summaries, canonicalizes URLs and hashes content), so fastfeedparser alone is its
floor and feedparser alone is what a feedparser-based reader pays.

    python benchmarks/parse_corpus.py [CORPUS_DIR] [--repeat N]

CORPUS_DIR defaults to ../shared/corpus/real-feeds beside the checkout. Prints the median of N
runs (default 5) for each, entries found, and the ratios.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import fastfeedparser
import feedparser

from newsdesk.feeds.parse import parse_feed

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-feeds"


def load(corpus: Path) -> list[bytes]:
    with (corpus / "index.tsv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t")]
    return [(corpus / r["path"]).read_bytes() for r in rows if r["kind"] != "expected_output"]


def with_fastfeedparser(body: bytes) -> int:
    try:
        return len(fastfeedparser.parse(body)["entries"])
    except Exception:
        return 0


def with_feedparser(body: bytes) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return len(feedparser.parse(io.BytesIO(body)).entries)


def with_newsdesk(body: bytes) -> int:
    return len(parse_feed(body).items)


def measure(parse: Callable[[bytes], int], bodies: list[bytes], repeat: int) -> tuple[float, int]:
    times = []
    found = 0
    for _ in range(repeat):
        started = time.perf_counter()
        found = sum(parse(body) for body in bodies)
        times.append(time.perf_counter() - started)
    return statistics.median(times), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bodies = load(args.corpus)
    megabytes = sum(map(len, bodies)) / 1e6
    print(f"{len(bodies)} feeds, {megabytes:.1f} MB, median of {args.repeat} runs")
    results = {
        name: measure(fn, bodies, args.repeat)
        for name, fn in (
            ("fastfeedparser alone", with_fastfeedparser),
            ("newsdesk parse_feed", with_newsdesk),
            ("feedparser alone", with_feedparser),
        )
    }
    floor = results["fastfeedparser alone"][0]
    for name, (seconds, found) in results.items():
        print(f"  {name:<22} {seconds:7.3f} s  {found:6d} entries  {seconds / floor:5.1f}x floor")


if __name__ == "__main__":
    main()
