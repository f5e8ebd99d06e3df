"""Near-duplicate stories: accuracy on the labelled set, peers, and the cost at 10k and 100k items.

    python benchmarks/dedup_eval.py [--data PATH] [--repeat N] [--skip-timing]

Accuracy is pairwise: a pair of items is a true positive when `cluster()` puts them together and
their gold story labels agree. Pairs that no shingle method can be expected to join (a report in
the other language, another outlet's own article about the event; `variant` xlang and
independent in the data) are left out of the headline figures and counted on their own line.

Peers measured in the same run: exact content hash (the layer before this one), title-only
Jaccard over all pairs, and two ablations of this module (one sketch without the title sketch;
without the same-feed rule), plus a sweep of thresholds and signature shapes.

Timing clusters synthetic items generated here (seeded): pseudo-words drawn Zipf-like, with
company and product names and recurring phrases mixed in, calibrated so that unrelated items
overlap about as often as the labelled set's do (the script prints both). 1,500 items a day from
300 feeds; a quarter are copies of an item from the last two days in another feed (headline
edited, dateline added, summary cut or dropped). At a steady rate the 7-day window holds the
same number of items whatever the total, so the cost should grow linearly; the 10k run never
fills the window (10,500 items), so 100k costs a little more than 10x. Each size is timed in a
fresh interpreter, one after the other. The peer is the same comparison over every pair.
Runs in about two minutes on 2 cores; --repeat 1 or --skip-timing for less.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import multiprocessing
import random
import statistics
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsdesk.feeds import dedup
from newsdesk.feeds.canonical import content_hash
from newsdesk.feeds.dedup import DedupItem, DedupSettings, cluster

DATA = Path(__file__).resolve().parent / "data" / "dedup_labelled.jsonl"
TARGETS = {"precision": 0.98, "recall": 0.90, "ratio": 12.0}
SEPARATE = frozenset({"xlang", "independent"})


# --- the labelled set -------------------------------------------------------------------------


def load(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        row["first_seen"] = datetime.fromisoformat(row["first_seen"].replace("Z", "+00:00"))
    rows.sort(key=lambda row: row["first_seen"])  # arrival order
    return rows


def items_of(rows: Sequence[dict], feeds: bool = True) -> list[DedupItem]:
    return [
        DedupItem(row["title"], row["summary"], row["first_seen"], row["feed"] if feeds else "")
        for row in rows
    ]


def separate(a: dict, b: dict) -> bool:
    """A gold pair that only an event-level (not text-level) method could find."""
    return a["lang"] != b["lang"] or bool({a.get("variant"), b.get("variant")} & SEPARATE)


def pairwise(rows: Sequence[dict], labels: Sequence[int]) -> dict[str, float]:
    tp = fp = fn = sep_found = sep_total = 0
    for (a, la), (b, lb) in itertools.combinations(zip(rows, labels, strict=True), 2):
        gold, predicted = a["story"] == b["story"], la == lb
        if gold and separate(a, b):
            sep_total += 1
            sep_found += predicted
        elif gold and predicted:
            tp += 1
        elif predicted:
            fp += 1
        elif gold:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "sep_found": sep_found,
        "sep_total": sep_total,
    }


def line(name: str, m: dict[str, float], extra: str = "") -> str:
    return (
        f"  {name:<44} P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}"
        f"  (tp {m['tp']}, fp {m['fp']}, fn {m['fn']}){extra}"
    )


def greedy(rows: Sequence[dict], score: Callable[[int, int], float], threshold: float) -> list[int]:
    """The same joining rule as `cluster`, over all earlier pairs: what LSH saves us from."""
    labels: list[int] = []
    window = timedelta(days=DedupSettings().window_days)
    for i, row in enumerate(rows):
        best, best_score = -1, threshold
        for j in range(i):
            other = rows[j]
            if other["feed"] == row["feed"] or row["first_seen"] - other["first_seen"] > window:
                continue
            s = score(i, j)
            if s > best_score or (s == best_score and best < 0):
                best, best_score = j, s
        labels.append(labels[best] if best >= 0 else max(labels, default=-1) + 1)
    return labels


def by_hash(rows: Sequence[dict]) -> list[int]:
    keys: dict[str, int] = {}
    return [keys.setdefault(content_hash(row["title"], row["summary"]), len(keys)) for row in rows]


def title_jaccard(rows: Sequence[dict], threshold: float) -> list[int]:
    sets = [
        frozenset(s[1:] for s in dedup.shingles(row["title"], "") if s[0] == "^") for row in rows
    ]

    def score(i: int, j: int) -> float:
        union = len(sets[i] | sets[j])
        return len(sets[i] & sets[j]) / union if union else 0.0

    return greedy(rows, score, threshold)


def one_sketch(rows: Sequence[dict], settings: DedupSettings) -> list[int]:
    """Ablation: title and lead in one MinHash sketch, as plain MinHash does it."""
    original = dedup.shingles

    def unmarked(title: str, summary: str, lead_chars: int = dedup.LEAD_CHARS) -> frozenset[str]:
        grams = original(title, summary, lead_chars)
        return frozenset(g[1:] if g.startswith(dedup.TITLE_MARK) else g for g in grams)

    dedup.shingles = unmarked
    try:
        return cluster(items_of(rows), settings)
    finally:
        dedup.shingles = original


def variant_recall(rows: Sequence[dict], labels: Sequence[int]) -> str:
    """Per kind of copy: is it in the cluster of its story's original (same language)?"""
    home = {
        row["story"]: label
        for row, label in zip(rows, labels, strict=True)
        if row["variant"] == "original"
    }
    lang = {row["story"]: row["lang"] for row in rows if row["variant"] == "original"}
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for row, label in zip(rows, labels, strict=True):
        kind = row["variant"]
        if kind == "original" or row["lang"] != lang[row["story"]]:
            continue
        total[kind] += 1
        found[kind] += label == home[row["story"]]
    return ", ".join(f"{k} {found[k]}/{total[k]}" for k, _ in total.most_common())


def accuracy(rows: list[dict]) -> dict[str, float]:
    settings = DedupSettings()
    labels = cluster(items_of(rows), settings)
    main = pairwise(rows, labels)
    sizes = Counter(row["story"] for row in rows)
    print(
        f"labelled set: {len(rows)} items, {len(sizes)} stories "
        f"({sum(1 for n in sizes.values() if n == 1)} singletons), "
        f"{sum(1 for r in rows if r['lang'] == 'zh')} in Chinese"
    )
    print(
        f"defaults: threshold {settings.threshold}, num_perm {settings.num_perm}, "
        f"bands {settings.bands}, window {settings.window_days} days"
    )
    print(line("cluster() [headline]", main))
    zh = [i for i, row in enumerate(rows) if row["lang"] == "zh"]
    print(line("  Chinese items only", pairwise([rows[i] for i in zh], [labels[i] for i in zh])))
    print(
        f"  cross-language and independent-article pairs (not in the headline): "
        f"{main['sep_found']} of {main['sep_total']} joined"
    )
    everything = dict(main)
    everything["tp"] += main["sep_found"]
    everything["fn"] += main["sep_total"] - main["sep_found"]
    everything["recall"] = everything["tp"] / (everything["tp"] + everything["fn"])
    p, r = everything["precision"], everything["recall"]
    everything["f1"] = 2 * p * r / (p + r)
    print(line("  all gold pairs, those included", everything))
    print(f"  copies joined to their original: {variant_recall(rows, labels)}")

    print("peers and ablations (same run):")
    print(line("exact content hash", pairwise(rows, by_hash(rows))))
    for threshold in (0.3, 0.5, 0.7):
        print(
            line(
                f"title-only Jaccard, all pairs, >= {threshold}",
                pairwise(rows, title_jaccard(rows, threshold)),
            )
        )
    print(
        line(
            "one sketch of title + lead (no title sketch)",
            pairwise(rows, one_sketch(rows, settings)),
        )
    )
    no_feeds = cluster(items_of(rows, feeds=False), settings)
    print(line("without the same-feed rule", pairwise(rows, no_feeds)))

    print("settings tried (threshold / num_perm / bands):")
    for threshold, num_perm, bands in (
        (0.2, 128, 64),
        (0.25, 128, 64),
        (0.3, 128, 64),
        (0.35, 128, 64),
        (0.4, 128, 64),
        (0.5, 128, 64),
        (0.3, 64, 16),
        (0.3, 64, 32),
        (0.3, 128, 32),
        (0.3, 256, 128),
    ):
        tried = replace(settings, threshold=threshold, num_perm=num_perm, bands=bands)
        print(
            line(
                f"{threshold} / {num_perm} / {bands}",
                pairwise(rows, cluster(items_of(rows), tried)),
            )
        )
    return main


# --- synthetic items for timing ---------------------------------------------------------------

_COMPANY_NAMES = (
    "OpenAI Anthropic DeepSeek Mistral Nvidia AMD Intel Google Meta Microsoft Amazon Apple xAI "
    "Cohere Perplexity Baidu Alibaba Tencent ByteDance Moonshot Zhipu MiniMax Huawei Samsung "
    "TSMC Broadcom Cerebras Groq SambaNova Databricks Snowflake Scale Figure Runway Midjourney "
    "Stability Together Fireworks Replicate Modal Lambda CoreWeave Nebius Oracle IBM Salesforce "
    "ServiceNow Adobe Canva Notion Cursor Cognition Harvey Glean Sierra Decagon Writer Poolside "
    "Reka Liquid Sakana Aleph Helsing Wayve Waymo Tesla Unitree Agility Apptronik SSI Thinking"
)
_PRODUCT_NAMES = (
    "Atlas Nova Helix Orion Quill Vega Lyra Echo Flux Nimbus Aurora Pulse Cobalt Zephyr Ember "
    "Prism Tempo Vertex Halo Summit Relay Beacon Forge Spark Drift Arc Loom Sable Tide Mosaic"
)
COMPANIES = _COMPANY_NAMES.split()
PRODUCTS = _PRODUCT_NAMES.split()
VERSIONS = ("", "2", "3", "3.5", "4", "4.1", "5", "Pro", "Mini", "Lite", "v0.9.1", "R2")
CITIES = ("SAN FRANCISCO", "LONDON", "PARIS", "BEIJING", "HANGZHOU", "SEOUL", "TOKYO", "NEW YORK")
PREFIXES = ("Exclusive: ", "Updated: ", "BREAKING: ", "Report: ")
_ONSETS = "b c d f g h j k l m n p r s t v w z br cr dr fl gr pl st tr ch sh th"
_VOWELS = "a e i o u ai ea io ou"


class Synthetic:
    """Items whose words overlap like news does, without needing a news corpus.

    Words are pseudo-words drawn from a Zipf-like distribution (the commonest ones already
    thinned, as stop words are), with company and product names and a pool of 300 recurring
    phrases ("per million tokens", "people familiar with") mixed in. `calibration` reports how
    often unrelated items share shingles, to compare with the labelled set.
    """

    def __init__(self, seed: int = 7) -> None:
        rng = random.Random(seed)
        onsets = _ONSETS.split()
        vowels = _VOWELS.split()
        words: set[str] = set()
        while len(words) < 20_000:
            syllables = rng.randrange(1, 4)
            word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables))
            words.add(word + rng.choice(("", "n", "r", "s", "x", "l")))
        self.words = sorted(words)
        rng.shuffle(self.words)
        self.weights = list(itertools.accumulate(1 / (rank + 10) for rank in range(20_000)))
        self.phrases = [
            " ".join(rng.sample(self.words[:3000], rng.randrange(2, 4))) for _ in range(300)
        ]
        self.phrase_weights = list(itertools.accumulate(1 / (rank + 3) for rank in range(300)))

    def original(self, rng: random.Random) -> tuple[str, str]:
        company, product = rng.choice(COMPANIES), rng.choice(PRODUCTS)
        name = f"{product} {rng.choice(VERSIONS)}".strip()
        title = rng.choices(self.words, cum_weights=self.weights, k=rng.randrange(3, 8))
        title.insert(rng.randrange(len(title) + 1), name)
        title.insert(0, company)
        sentences = []
        for _ in range(rng.randrange(2, 4)):
            words = rng.choices(self.words, cum_weights=self.weights, k=rng.randrange(8, 16))
            phrase = rng.choices(self.phrases, cum_weights=self.phrase_weights)[0]
            words.insert(rng.randrange(len(words) + 1), phrase)
            entity = rng.choice(
                (company, name, f"{company}'s {product}", str(rng.randrange(2, 900)))
            )
            words.insert(rng.randrange(len(words) + 1), entity)
            sentences.append(" ".join(words).capitalize() + ".")
        return " ".join(title), " ".join(sentences)

    def copy(self, rng: random.Random, title: str, summary: str, when: datetime) -> tuple[str, str]:
        """A copy as another feed carries it: headline often edited, text cut, dated or dropped."""
        words = title.split()
        if rng.random() < 0.5:  # an editor rewrites a few words of the headline
            for _ in range(rng.randrange(1, 3)):
                words[rng.randrange(1, len(words))] = rng.choices(
                    self.words, cum_weights=self.weights
                )[0]
        title = " ".join(words)
        how = rng.random()
        if how < 0.25:
            summary = f"{rng.choice(CITIES)}, Jan {when.day} (Wire) - {summary}"
        elif how < 0.5:
            summary = summary[: rng.randrange(80, max(81, len(summary)))] + "…"
        elif how < 0.7:
            summary = ""
        elif how < 0.8:
            title = rng.choice(PREFIXES) + title
        return title, summary

    def items(self, n: int, seed: int = 11, per_day: int = 1500) -> list[DedupItem]:
        rng = random.Random(seed)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        spacing = timedelta(days=1) / per_day
        items: list[DedupItem] = []
        recent: deque[int] = deque()  # originals of the last two days
        for i in range(n):
            when = start + i * spacing
            while recent and items[recent[0]].first_seen < when - timedelta(days=2):
                recent.popleft()
            if recent and rng.random() < 0.25:
                source = items[recent[rng.randrange(len(recent))]]
                title, summary = self.copy(rng, source.title, source.summary, when)
                feed = rng.choice([f for f in rng.sample(FEEDS, 2) if f != source.feed])
                items.append(DedupItem(title, summary, when, feed))
            else:
                title, summary = self.original(rng)
                items.append(DedupItem(title, summary, when, rng.choice(FEEDS)))
                recent.append(i)
        return items

    def calibration(self, rows: Sequence[dict], n: int = 800) -> str:
        def overlap(texts: Sequence[tuple[str, str]], same: Callable[[int, int], bool]) -> str:
            sets = [frozenset(g.lstrip("^") for g in dedup.shingles(*text)) for text in texts]
            scores = [
                len(sets[i] & sets[j]) / len(sets[i] | sets[j])
                for i, j in itertools.combinations(range(len(sets)), 2)
                if sets[i] and sets[j] and not same(i, j)
            ]
            shared = sum(1 for s in scores if s > 0) / len(scores)
            return f"{shared:.1%} share a shingle, mean Jaccard {statistics.mean(scores):.4f}"

        rng = random.Random(3)
        made = [self.original(rng) for _ in range(n)]
        texts = [(row["title"], row["summary"]) for row in rows]
        return (
            f"unrelated synthetic items: {overlap(made, lambda i, j: False)}; "
            f"labelled set: {overlap(texts, lambda i, j: rows[i]['story'] == rows[j]['story'])}"
        )


FEEDS = [f"feed-{n:03d}" for n in range(300)]


def time_cluster(n: int, runs: int) -> tuple[list[float], int]:
    """Seconds per `cluster()` run over n synthetic items, and how many items joined a story."""
    items = Synthetic().items(n)
    gc.collect()
    times = []
    labels: list[int] = []
    for _ in range(runs):
        started = time.perf_counter()
        labels = cluster(items, DedupSettings())
        times.append(time.perf_counter() - started)
    return times, n - len(set(labels))


def time_all_pairs(n: int) -> float:
    """The peer: the same sketches and comparison, over every earlier item instead of LSH's."""
    items = Synthetic().items(n)
    settings = DedupSettings()
    started = time.perf_counter()
    sketches = [
        dedup._Sketches.of(dedup.signature(dedup.shingles(i.title, i.summary), settings.num_perm))
        for i in items
    ]
    for i, mine in enumerate(sketches):
        for theirs in sketches[:i]:
            dedup._compare(mine, theirs)
    return time.perf_counter() - started


def timing(repeat: int, rows: Sequence[dict]) -> None:
    print(f"  {Synthetic().calibration(rows)}")
    # Each size runs in a fresh interpreter, one after the other: a process that has already
    # built and freed millions of objects allocates more slowly, which would bias the later run.
    context = multiprocessing.get_context("spawn")
    results: dict[int, float] = {}
    with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
        for n, runs in ((10_000, repeat), (100_000, max(1, repeat // 2))):
            times, joined = pool.submit(time_cluster, n, runs).result()
            results[n] = statistics.median(times)
            print(
                f"  cluster() on {n:>7,} synthetic items: {results[n]:6.2f} s median of {runs}"
                f" [{', '.join(f'{t:.2f}' for t in times)}]"
                f" ({results[n] / n * 1e6:.0f} µs/item; {joined:,} joined a story)"
            )
        peer = pool.submit(time_all_pairs, 2_000).result()
    ratio = results[100_000] / results[10_000]
    verdict = "meets" if ratio <= TARGETS["ratio"] else "MISSES"
    print(f"  100k / 10k = {ratio:.1f}x ({verdict} the <= {TARGETS['ratio']:.0f}x target)")
    print(
        f"  peer, every pair compared (same sketches): {peer:.2f} s for 2,000 items; with 10,000"
        f" in one window that is about {peer * 25:.0f} s for the pairs alone"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repeat", type=int, default=5, help="timing runs at 10k (half at 100k)")
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args()
    rows = load(args.data)
    main_figures = accuracy(rows)
    for name in ("precision", "recall"):
        verdict = "meets" if main_figures[name] >= TARGETS[name] else "MISSES"
        print(f"target {name} >= {TARGETS[name]}: {main_figures[name]:.3f} ({verdict})")
    if not args.skip_timing:
        print("timing (1,500 items a day, 25% copies, 7-day window):")
        timing(args.repeat, rows)


if __name__ == "__main__":
    main()
