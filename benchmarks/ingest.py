"""Ingest cost: `newsdesk fetch` against lemon24/reader on the same feeds, served over HTTP.

Two feed sets, each served from memory by one loopback HTTP server (HTTP/1.1 keep-alive, ETag
and Last-Modified, 304 on a matching If-None-Match; its CPU time is printed, to show it is not
the bottleneck): the real snapshots in ../shared/corpus/real-feeds (broken ones and non-feeds
included), and N generated RSS feeds of M items each (benchmarks/feedgen.py; 3 % of the items
have neither guid nor link).

Each contender runs in a fresh subprocess with a fresh database, so CPU time (user + sys, all
threads) and peak RSS (VmHWM) are its own. Wall and CPU time cover the poll only; interpreter
start and imports are left out, and opening the store and subscribing the feeds are timed
apart ("setup"), the same for both:

- newsdesk: what `newsdesk fetch` runs, with a generated config whose [[feeds]] are the served
  URLs (config feeds may reach loopback) and every other setting at its default: fetch
  concurrency 16, 2 per host, and all feeds share one host unless --hosts spreads them. The
  store is opened as the CLI opens it (config feeds synced), then `cli._poll` (Fetcher +
  poll_feeds + the config's Pipeline) on the due feeds.
- reader: `make_reader(db)`, `add_feed` for every URL, then `update_feeds_iter(workers=W,
  scheduled=False)` (what `update_feeds` loops over; W defaults to 16, newsdesk's
  concurrency), and `get_entry_counts().total`.
- the parse floors, in-process on the same bytes with no network: `feedparser.parse` with its
  defaults, as reader calls it (see "Two parsers" in ../shared/DESIGN.md), and fastfeedparser,
  the parser newsdesk tries first.

Then a second pass on the same database in a new process (`newsdesk fetch --all`; reader with
scheduled=False): the server answers 304 to every feed whose validators were stored, which the
script checks (a feed that failed the first pass has none and is downloaded again).

    python benchmarks/ingest.py [--feeds N] [--entries M] [--repeat R] [--workers W]
                                [--hosts K] [--only real|generated] [--corpus DIR]

Prints the load average (wall times on a busy machine stretch; CPU times much less), then per
set the median over R runs of wall s, CPU s, items/s, peak RSS, entries stored and found by
feedparser (counts: the tests compare entries one by one), the second pass and its share of
the first, the newsdesk/reader ratios, and a final table of the targets: newsdesk wall at most
0.25 x reader's on both sets, every entry feedparser finds stored, second pass at most 5 % of
the first.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import io
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.feedgen import DEFAULT_CORPUS, Document, FeedServer, generated_feeds, real_feeds

CONTENDERS = ("newsdesk", "reader")
FLOORS = ("feedparser", "fastfeedparser")
WALL_TARGET = 0.25
SECOND_PASS_TARGET = 0.05
# reader 3.26 parses with the feedparser it vendors, which imports `sgmllib` (sgmllib3k); the
# feedparser 6.0.14 that newsdesk installs brings feedparser-sgmllib instead, so in this venv
# reader cannot import its own. Then it is told to use the installed feedparser (its own
# switch), and the header says so; with sgmllib3k on PYTHONPATH it runs as shipped.
VENDORED_FEEDPARSER = importlib.util.find_spec("sgmllib") is not None
ENV = (
    {**os.environ} if VENDORED_FEEDPARSER else {**os.environ, "READER_NO_VENDORED_FEEDPARSER": "1"}
)


# --- the children: one measured run each -----------------------------------------------------


def _peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(work: Any) -> tuple[Any, float, float]:
    cpu, wall = _cpu(), time.perf_counter()
    result = work()
    return result, time.perf_counter() - wall, _cpu() - cpu


def child_newsdesk(workdir: Path, second: bool) -> dict[str, Any]:
    from datetime import UTC, datetime

    from newsdesk.cli import AppContext, _poll

    app = AppContext(str(workdir / "newsdesk.toml"), str(workdir / "newsdesk.sqlite"))
    app.settings  # noqa: B018 - load the config before the clock starts
    app.pipeline  # noqa: B018
    # As `newsdesk fetch` does: open and migrate, then sync the config's [[feeds]] into the
    # feeds table (on every run). Timed apart from the poll, as "setup".
    store, setup, _ = _timed(app.open_store)
    with store:
        if second:  # `newsdesk fetch --all`: the feeds are not due again yet
            feeds = [f for f in store.list_feeds() if not f.paused]
        else:
            feeds = store.due_feeds(datetime.now(UTC))
        outcomes, wall, cpu = _timed(lambda: asyncio.run(_poll(app, store, feeds)))
        stored = store.counts()["items"]
    statuses: dict[str, int] = {}
    for outcome in outcomes:
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    return {"wall": wall, "cpu": cpu, "stored": stored, "statuses": statuses, "setup": setup}


def child_reader(workdir: Path, second: bool, workers: int) -> dict[str, Any]:
    from reader import make_reader

    urls = json.loads((workdir / "urls.json").read_text())

    def subscribe() -> Any:
        reader = make_reader(str(workdir / "reader.sqlite"))
        if not second:
            for url in urls:
                reader.add_feed(url)
        return reader

    reader, setup, _ = _timed(subscribe)
    statuses = {"updated": 0, "not_modified": 0, "failed": 0}
    errors: dict[str, int] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        def update() -> None:
            for result in reader.update_feeds_iter(workers=workers, scheduled=False):
                if isinstance(result.value, Exception):
                    statuses["failed"] += 1
                    cause = result.value.__cause__ or result.value
                    reason = f"{type(cause).__name__}: {cause}"[:70]
                    errors[reason] = errors.get(reason, 0) + 1
                elif result.value is None:
                    statuses["not_modified"] += 1
                else:
                    statuses["updated"] += 1

        _, wall, cpu = _timed(update)
    dropped = sum("no id" in str(w.message) for w in caught)
    stored = reader.get_entry_counts().total
    reader.close()
    return {
        "wall": wall,
        "cpu": cpu,
        "stored": stored,
        "statuses": statuses,
        "dropped": dropped,
        "errors": errors,
        "setup": setup,
    }


def child_floor(workdir: Path, parser: str) -> dict[str, Any]:
    bodies: list[bytes] = pickle.loads((workdir / "bodies.pickle").read_bytes())
    if parser == "feedparser":
        import feedparser

        def parse(body: bytes) -> int:
            return len(feedparser.parse(io.BytesIO(body)).entries)
    else:
        import fastfeedparser

        def parse(body: bytes) -> int:
            try:
                return len(fastfeedparser.parse(body)["entries"])
            except Exception:
                return 0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found, wall, cpu = _timed(lambda: sum(parse(body) for body in bodies))
    return {"wall": wall, "cpu": cpu, "stored": found, "statuses": {}, "setup": 0.0}


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=CONTENDERS + FLOORS)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--second", action="store_true")
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args(argv)
    if args.kind == "newsdesk":
        result = child_newsdesk(args.workdir, args.second)
    elif args.kind == "reader":
        result = child_reader(args.workdir, args.second, args.workers)
    else:
        result = child_floor(args.workdir, args.kind)
    result["rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


# --- the parent: serve, run, summarize -------------------------------------------------------


@dataclass
class Runs:
    """One contender's measurements, one entry per repeat."""

    results: list[dict[str, Any]] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(r[key] for r in self.results)

    def last(self, key: str) -> Any:
        return self.results[-1][key]


def run_child(
    kind: str, workdir: Path, *, second: bool = False, workers: int = 16
) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.ingest", "--child", kind, str(workdir)]
    command += ["--workers", str(workers)] + (["--second"] if second else [])
    server_cpu = _cpu()  # the server's threads are the parent's only work meanwhile
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], env=ENV
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["server_cpu"] = _cpu() - server_cpu
    return result


def write_config(workdir: Path, urls: list[str]) -> None:
    lines = [f'[[feeds]]\nurl = "{url}"\n' for url in urls]
    (workdir / "newsdesk.toml").write_text("\n".join(lines), encoding="utf-8")
    (workdir / "urls.json").write_text(json.dumps(urls), encoding="utf-8")


def measure_set(
    name: str, documents: dict[str, Document], repeat: int, workers: int, hosts: int = 1
) -> dict[str, Any]:
    megabytes = sum(len(d.body) for d in documents.values()) / 1e6
    print(
        f"\n== {name}: {len(documents)} feeds, {megabytes:.1f} MB, from {_hosts(hosts)},"
        f" median of {repeat} runs; load average {_load()} =="
    )
    first = {kind: Runs() for kind in CONTENDERS + FLOORS}
    second = {kind: Runs() for kind in CONTENDERS}
    with (
        tempfile.TemporaryDirectory(prefix="newsdesk-ingest-") as tmp,
        FeedServer(documents, hosts) as server,
    ):
        base = Path(tmp)
        (base / "bodies.pickle").write_bytes(pickle.dumps([d.body for d in documents.values()]))
        for number in range(repeat):
            order = CONTENDERS if number % 2 == 0 else CONTENDERS[::-1]
            for kind in order:
                workdir = base / f"{kind}-{number}"
                workdir.mkdir()
                write_config(workdir, server.urls())
                server.reset()
                result = run_child(kind, workdir, workers=workers)
                result["answered"] = dict(server.answered)
                first[kind].results.append(result)
                server.reset()
                result = run_child(kind, workdir, second=True, workers=workers)
                result["answered"] = dict(server.answered)
                second[kind].results.append(result)
                _progress(kind, number, first[kind].results[-1], result)
            for kind in FLOORS:
                first[kind].results.append(run_child(kind, base))
    _report_set(first, second, len(documents))
    return {"first": first, "second": second, "feeds": len(documents)}


def _progress(kind: str, number: int, one: dict[str, Any], two: dict[str, Any]) -> None:
    print(
        f"  run {number + 1} {kind:<8} first {one['wall']:7.2f} s ({one['answered']}),"
        f" second {two['wall']:6.3f} s ({two['answered']}), load {os.getloadavg()[0]:.2f}",
        flush=True,
    )


def _report_set(first: dict[str, Runs], second: dict[str, Runs], feeds: int) -> None:
    header = (
        f"  {'':<34}{'wall s':>8}{'CPU s':>8}{'items/s':>9}{'peak RSS MB':>13}"
        f"{'stored':>8}{'server CPU s':>14}"
    )
    print(header)
    labels = {
        "newsdesk": "newsdesk fetch",
        "reader": "reader update_feeds",
        "feedparser": "feedparser alone (no network)",
        "fastfeedparser": "fastfeedparser alone (no network)",
    }
    for kind, runs in first.items():
        wall = runs.median("wall")
        stored = runs.last("stored")
        server = f"{runs.median('server_cpu'):14.2f}" if kind in CONTENDERS else ""
        print(
            f"  {labels[kind]:<34}{wall:8.2f}{runs.median('cpu'):8.2f}{stored / wall:9.0f}"
            f"{runs.median('rss_mb'):13.0f}{stored:8d}{server}"
        )
    for kind, runs in second.items():
        share = runs.median("wall") / first[kind].median("wall")
        answered = ", ".join(f"{n} x {status}" for status, n in runs.last("answered").items())
        print(
            f"  {labels[kind] + ', second pass':<34}{runs.median('wall'):8.3f}"
            f"{runs.median('cpu'):8.3f}{'':>9}{runs.median('rss_mb'):13.0f}{'':>8}"
            f"{runs.median('server_cpu'):14.2f}   {share:.1%} of the first; answered {answered}"
        )
    setups = "; ".join(
        f"{kind} {first[kind].median('setup'):.2f} s, then {second[kind].median('setup'):.2f} s"
        for kind in CONTENDERS
    )
    print(f"  setup, not in the times above (open the store, subscribe the feeds): {setups}")
    dropped = first["reader"].last("dropped")
    print(
        f"  newsdesk/reader: wall {_ratio(first, 'wall'):.3f}, CPU {_ratio(first, 'cpu'):.3f};"
        f" feedparser finds {first['feedparser'].last('stored')} entries,"
        f" reader dropped {dropped} with no id (its warnings)"
    )
    for kind in CONTENDERS:
        print(
            f"  {kind} poll outcomes: first {first[kind].last('statuses')},"
            f" second {second[kind].last('statuses')}"
        )
    errors = sorted(first["reader"].last("errors").items(), key=lambda e: -e[1])
    for reason, count in errors[:4]:
        print(f"    reader failed {count} feed(s) with {reason}")


def _all_304(first: dict[str, Runs], second: dict[str, Runs], feeds: int) -> bool:
    """Every feed newsdesk stored validators for was answered 304 on the second pass; a feed
    that failed on the first (a non-feed, a broken document) has none and is fetched again."""
    for one, two in zip(first["newsdesk"].results, second["newsdesk"].results, strict=True):
        failed = one["statuses"].get("failed", 0)
        if two["answered"].get(304, 0) != feeds - failed:
            return False
    return True


def _hosts(hosts: int) -> str:
    return "127.0.0.1" if hosts == 1 else f"127.0.0.1-{hosts}"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _ratio(first: dict[str, Runs], key: str) -> float:
    return first["newsdesk"].median(key) / first["reader"].median(key)


def _targets(results: dict[str, dict[str, Any]]) -> None:
    print("\nTargets")
    rows = []
    for name, result in results.items():
        first, second, feeds = result["first"], result["second"], result["feeds"]
        ratio = _ratio(first, "wall")
        rows.append(
            (
                f"{name}: newsdesk wall <= {WALL_TARGET} x reader's",
                f"{ratio:.3f} x",
                ratio <= WALL_TARGET,
            )
        )
        found = first["feedparser"].last("stored")
        for kind in CONTENDERS:
            stored = first[kind].last("stored")
            rows.append(
                (
                    f"{name}: {kind} stores every entry feedparser finds",
                    f"{stored} stored / {found} found",
                    stored >= found,
                )
            )
        share = second["newsdesk"].median("wall") / first["newsdesk"].median("wall")
        rows.append(
            (
                f"{name}: newsdesk second pass (304s) <= 5 % of the first",
                f"{share:.1%}" + ("" if _all_304(first, second, feeds) else " (NOT all 304!)"),
                share <= SECOND_PASS_TARGET and _all_304(first, second, feeds),
            )
        )
    width = max(len(r[0]) for r in rows) + 2
    for label, value, met in rows:
        print(f"  {label:<{width}}{value:>26}   {'met' if met else 'NOT MET'}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500, help="generated feeds (default 500)")
    parser.add_argument("--entries", type=int, default=50, help="items per generated feed (50)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender (default 3)")
    parser.add_argument("--workers", type=int, default=16, help="reader's workers (default 16)")
    parser.add_argument(
        "--hosts",
        type=int,
        default=1,
        choices=range(1, 255),
        metavar="K",
        help="spread the feeds over K loopback addresses (default 1: all on 127.0.0.1)",
    )
    parser.add_argument("--only", choices=("real", "generated"))
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from importlib.metadata import version

    load = _load()
    print(
        f"newsdesk {version('newsdesk')} vs reader {version('reader')} (workers={args.workers});"
        f" feedparser {version('feedparser')}, fastfeedparser {version('fastfeedparser')};"
        f" Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}"
    )
    if VENDORED_FEEDPARSER:
        print("reader parses with its vendored feedparser (its default)")
    else:
        print(
            "reader parses with the installed feedparser (READER_NO_VENDORED_FEEDPARSER=1):"
            " its vendored copy needs sgmllib (pip install sgmllib3k), which is not installed"
        )
    results = {}
    if args.only in (None, "real"):
        if (args.corpus / "index.tsv").exists():
            documents = real_feeds(args.corpus)
            results["real"] = measure_set("real", documents, args.repeat, args.workers, args.hosts)
        else:
            print(f"\n== real: skipped, no corpus at {args.corpus} ==")
    if args.only in (None, "generated"):
        documents = generated_feeds(args.feeds, args.entries, args.seed)
        name = f"generated {args.feeds} x {args.entries}"
        results[name] = measure_set(name, documents, args.repeat, args.workers, args.hosts)
    if results:
        _targets(results)
    print(f"\nload average at the end: {_load()} (1, 5, 15 min) on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
