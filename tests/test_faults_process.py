"""Faults from outside the code: a process killed mid-write, a database another process holds,
a full disk. Each is made for real (SIGKILL, a second SQLite connection, SQLite's page limit)
against the real archive, the loopback feed server and the Slack test server.

What must hold after each: the archive passes `PRAGMA integrity_check`, every change is whole
or absent (one transaction per feed update, one row per delivered message), the user is told
what happened in words they can act on, and the next run finishes the job without duplicates.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from slack_sdk.web.async_client import AsyncWebClient

from newsdesk import store as store_module
from newsdesk.bot.delivery import message_key
from newsdesk.cli import main
from newsdesk.config import settings_from_dict
from newsdesk.feeds.fetch import Fetcher
from newsdesk.feeds.poller import PollOutcome, poll_feeds
from newsdesk.models import Item, ParsedFeed
from newsdesk.store import DatabaseLockedError, Store
from tests.bot_helpers import make_runtime
from tests.sample_digests import long_week
from tests.servers.feed_server import FeedServer
from tests.servers.slack_server import Delay, SlackServer, _HangUp

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[1]
CHANNEL = "C0AINEWS"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


# --- feeds and archives ----------------------------------------------------------------------


def feed_xml(number: int, entries: int) -> str:
    """An RSS feed of `entries` items with guids f<number>-e<i> and text of seeded random words,
    so no two items look alike to the near-duplicate detector."""
    rng = random.Random(number)

    def words(count: int) -> str:
        return " ".join(
            "".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 9))) for _ in range(count)
        )

    items = "".join(
        f"<item><guid>f{number}-e{i}</guid><title>{words(8)}</title>"
        f"<link>https://f{number}.example/{i}</link><description>{words(40)}</description>"
        f"<pubDate>Mon, 16 Nov 2026 {i % 24:02d}:{i % 60:02d}:00 GMT</pubDate></item>"
        for i in range(entries)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        f"<title>Feed {number}</title><link>https://f{number}.example/</link>{items}"
        "</channel></rss>"
    )


def serve_feeds(server: FeedServer, count: int, entries: int, **route: Any) -> list[str]:
    urls = []
    for number in range(count):
        server.add(f"/f{number}.xml", feed_xml(number, entries), **route)
        urls.append(server.url(f"/f{number}.xml"))
    return urls


def write_config(path: Path, urls: list[str], **fetch: Any) -> Path:
    lines = ["[fetch]", "allow_private_networks = true"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in fetch.items()]
    for url in urls:
        lines += ["[[feeds]]", f'url = "{url}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check_archive(db: Path, entries: int) -> dict[str, int]:
    """Everything a crash must not break; returns each feed's stored item count by URL.

    SQLite's own checks first, on a plain connection; then the archive must open (and migrate)
    as newsdesk opens it, and each feed must hold all of its entries or none of them, with its
    poll state written in the same transaction as its items.
    """
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        raw.execute("INSERT INTO items_fts (items_fts) VALUES ('integrity-check')")
    raw.close()
    with Store.open(db) as store:
        assert store.schema_version == len(store_module.MIGRATIONS)
        rows = store.db.execute(
            "SELECT f.url, count(i.id), f.last_success_at IS NOT NULL FROM feeds f"
            " LEFT JOIN items i ON i.feed_id = f.id GROUP BY f.id"
        ).fetchall()
        half_written = [(url, n) for url, n, _ in rows if n not in (0, entries)]
        assert half_written == [], "a feed update was cut in half"
        assert [url for url, n, polled in rows if bool(n) != bool(polled)] == []
        broken_stories = store.db.execute(
            "SELECT count(*) FROM stories s WHERE item_count"
            " != (SELECT count(*) FROM items WHERE story_id = s.id) OR item_count = 0"
            " OR representative_item_id IS NULL"
        ).fetchone()[0]
        assert broken_stories == 0
        items, indexed, distinct = store.db.execute(
            "SELECT count(*), (SELECT count(*) FROM items_fts),"
            " count(DISTINCT feed_id || ' ' || guid) FROM items"
        ).fetchone()
        assert indexed == items == distinct
    return {url: n for url, n, _ in rows}


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `condition` until it is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)
    return result


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra}
    for name in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN", "NEWSDESK_CONFIG", "NEWSDESK_LOCK_TIMEOUT"):
        if name not in extra:
            env.pop(name, None)
    return env


def newsdesk(*args: str, cwd: Path, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """`python -m newsdesk ARGS` as its own process, output to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "newsdesk", *args],
            cwd=cwd,
            env=child_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[Any]]]:
    """Child processes a test starts; any still running at the end are killed."""
    started: list[subprocess.Popen[Any]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)


# --- 1. kill -9 during an ingest -------------------------------------------------------------

FEEDS, ENTRIES = 50, 100
STALLED = 3  # feeds that answer only after the kills, so no killed pass can finish


def test_kill_9_mid_ingest_leaves_every_feed_whole_or_absent_and_a_refetch_completes(
    tmp_path, feed_server, children
):
    rng = random.Random(20261123)
    urls = serve_feeds(feed_server, FEEDS, ENTRIES)
    stalled = sorted(rng.sample(range(FEEDS), STALLED))
    for number in stalled:  # answered after 60 s, or when the server stops
        feed_server.add(f"/f{number}.xml", feed_xml(number, ENTRIES), delay=60)
    for number in rng.sample([n for n in range(FEEDS) if n not in stalled], 8):
        # Trickled bodies: downloads finish at scattered moments during the pass.
        feed_server.add(
            f"/f{number}.xml", feed_xml(number, ENTRIES), chunk_size=2048, chunk_delay=0.005
        )
    config = write_config(tmp_path / "newsdesk.toml", urls, concurrency=8, per_host_concurrency=8)
    db = tmp_path / "archive.sqlite"
    args = ("--config", str(config), "--db", str(db), "fetch")
    log = tmp_path / "fetch.log"

    kills = []
    stored = 0
    for _ in range(3):
        # A random moment: once this many more items are stored, the next instant the child
        # holds the write lock, i.e. is inside a feed's transaction.
        target = stored + rng.randrange(100, 1300)
        child = newsdesk(*args, cwd=tmp_path, log=log)
        children.append(child)
        probe = wait_for(lambda: _connect(db), 30, "the child to create the archive")
        try:
            wait_for(
                lambda c=child, p=probe, t=target: _stored(p) >= t or c.poll(),
                30,
                f"{target} items stored",
            )
            assert child.poll() is None, log.read_text(errors="replace")
            time.sleep(rng.uniform(0, 0.05))
            seen = _kill_inside_a_write(child, probe)
            assert child.wait(timeout=10) == -signal.SIGKILL
            after = _stored(probe)
            # No clean shutdown: the write-ahead log is still there for the next open to recover.
            assert Path(f"{db}-wal").stat().st_size > 0
        finally:
            probe.close()
        counts = check_archive(db, ENTRIES)
        stored = sum(counts.values())
        assert stored == after < FEEDS * ENTRIES  # killed mid-pass
        assert all(counts[urls[n]] == 0 for n in stalled)
        kills.append({"target": target, "stored": stored, "interrupted": after == seen})

    # Provably mid-transaction: no commit between seeing the lock held and the kill. Each kill
    # almost always is; one in three is certain enough never to flake.
    assert any(kill["interrupted"] for kill in kills), kills

    for number in stalled:
        feed_server.add(f"/f{number}.xml", feed_xml(number, ENTRIES))
    finished = subprocess.run(
        [sys.executable, "-m", "newsdesk", *args],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    remaining = FEEDS * ENTRIES - stored
    assert f"{remaining} new items" in finished.stdout
    counts = check_archive(db, ENTRIES)
    assert counts == dict.fromkeys(urls, ENTRIES)
    with sqlite3.connect(db) as raw:
        guids = raw.execute("SELECT f.url, i.guid FROM items i JOIN feeds f ON f.id = i.feed_id")
        assert sorted(guids) == sorted(
            (url, f"f{n}-e{i}") for n, url in enumerate(urls) for i in range(ENTRIES)
        )
    raw.close()


def _connect(db: Path) -> sqlite3.Connection | None:
    """A connection to the child's archive once it has an items table; it never waits for a
    lock (timeout 0) and holds no transaction between statements."""
    if not db.exists():
        return None
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM items")
    except sqlite3.OperationalError:  # not migrated yet, or locked while it migrates
        conn.close()
        return None
    return conn


def _stored(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM items").fetchone()[0]


def _kill_inside_a_write(child: subprocess.Popen[Any], conn: sqlite3.Connection) -> int:
    """SIGKILL the child the moment it is seen holding the write lock; return the items stored
    just before. A probe that gets the lock itself lets go at once."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        seen = _stored(conn)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            child.send_signal(signal.SIGKILL)
            return seen
        conn.execute("ROLLBACK")
        time.sleep(0.001)
    raise AssertionError("the child never took the write lock")


# --- 2. kill -9 during a delivery ------------------------------------------------------------

DELIVER = r"""
import asyncio, json, os, sys

from slack_sdk.web.async_client import AsyncWebClient

from newsdesk.app import open_runtime
from newsdesk.config import settings_from_dict


async def deliver(raw, base_url):
    async with open_runtime(settings_from_dict(raw)) as runtime:
        runtime.slack_client = AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"], base_url=base_url, retry_handlers=[]
        )
        for result in await runtime.outbox.resume():
            print(result.digest.id, result.digest.state, flush=True)


asyncio.run(deliver(json.loads(sys.argv[1]), sys.argv[2]))
"""


class StallAfterStoring(SlackServer):
    """Slack that takes chat.postMessage number `stall_at` (from 0) into the channel and then
    never answers it: the moment between the platform accepting a message and newsdesk learning
    its id, which a crash turns into a duplicate unless the resume looks before resending."""

    def __init__(self) -> None:
        super().__init__()
        self.stall_at: int | None = None
        self._accepted = 0

    def _perform(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = super()._perform(method, params)
        if method == "chat.postMessage" and answer["ok"]:
            with self._lock:
                number, self._accepted = self._accepted, self._accepted + 1
            if number == self.stall_at:
                self._stopping.wait(60)
                raise _HangUp
        return answer


@pytest.fixture
def stalling_slack() -> Iterator[StallAfterStoring]:
    with StallAfterStoring() as server:
        yield server
    if server.errors:
        raise AssertionError(f"SlackServer handler raised: {server.errors!r}")


def delivery_settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "store": {"path": str(tmp_path / "newsdesk.sqlite")},
        "bot": {"retry_base_seconds": 0.01},
        "subscriptions": [{"name": "team", "platform": "slack", "channel": CHANNEL}],
    }


async def _enqueue(raw: dict[str, Any]) -> tuple[int, int]:
    """Store a long week's digest as pending, as a tick would; (its id, its message count)."""
    async with make_runtime(settings_from_dict(raw)) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), long_week())
    return stored.id, len(stored.messages)


async def _resume(raw: dict[str, Any], server: SlackServer) -> Any:
    client = AsyncWebClient(token=server.token, base_url=server.base_url, retry_handlers=[])
    async with make_runtime(settings_from_dict(raw), slack_client=client) as runtime:
        [result] = await runtime.outbox.resume()
    return result


def _outbox_row(db: str, digest_id: int) -> tuple[str, int, list[int]]:
    with sqlite3.connect(db) as conn:
        state, attempts = conn.execute(
            "SELECT state, attempts FROM digests WHERE id = ?", [digest_id]
        ).fetchone()
        positions = [
            row[0]
            for row in conn.execute(
                "SELECT position FROM digest_messages WHERE digest_id = ? ORDER BY position",
                [digest_id],
            )
        ]
    conn.close()
    return state, attempts, positions


def _start_delivery(raw: dict[str, Any], server: SlackServer, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", DELIVER, json.dumps(raw), server.base_url],
            cwd=ROOT,
            env=child_env(SLACK_BOT_TOKEN=server.token),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _keys(server: SlackServer) -> list[str]:
    return [m.metadata["event_payload"]["key"] for m in server.messages(CHANNEL)]


def test_kill_9_while_slack_is_slow_then_a_resume_sends_each_message_exactly_once(
    tmp_path, slack_server, children
):
    raw = delivery_settings(tmp_path)
    digest_id, total = asyncio.run(_enqueue(raw))
    assert total > 3
    stall = random.Random(7).randrange(1, total - 1)
    # Messages before `stall` go through; Slack sits on that one before taking it.
    slack_server.script("chat.postMessage", *[Delay(0)] * stall, Delay(60))
    child = _start_delivery(raw, slack_server, tmp_path / "deliver.log")
    children.append(child)
    wait_for(
        lambda: slack_server.count("chat.postMessage") == stall + 1 or child.poll() is not None,
        30,
        f"post {stall} to reach Slack",
    )
    assert child.poll() is None, (tmp_path / "deliver.log").read_text(errors="replace")
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL

    assert len(slack_server.messages(CHANNEL)) == stall
    assert _outbox_row(raw["store"]["path"], digest_id) == ("pending", 1, list(range(stall)))

    result = asyncio.run(_resume(raw, slack_server))

    assert result.digest.state == "sent" and result.error is None
    assert _keys(slack_server) == [message_key(digest_id, i) for i in range(total)]
    assert sorted(result.digest.sent) == list(range(total))


def test_kill_9_after_slack_took_a_message_but_before_it_was_recorded_posts_nothing_twice(
    tmp_path, stalling_slack, children
):
    raw = delivery_settings(tmp_path)
    digest_id, total = asyncio.run(_enqueue(raw))
    stall = random.Random(11).randrange(1, total - 1)
    stalling_slack.stall_at = stall
    child = _start_delivery(raw, stalling_slack, tmp_path / "deliver.log")
    children.append(child)
    wait_for(
        lambda: len(stalling_slack.messages(CHANNEL)) == stall + 1 or child.poll() is not None,
        30,
        f"Slack to take message {stall}",
    )
    assert child.poll() is None, (tmp_path / "deliver.log").read_text(errors="replace")
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL

    # In the channel, but not in the outbox: the resume must find it, not post it again.
    taken = stalling_slack.messages(CHANNEL)[stall]
    assert _outbox_row(raw["store"]["path"], digest_id) == ("pending", 1, list(range(stall)))

    result = asyncio.run(_resume(raw, stalling_slack))

    assert result.digest.state == "sent" and result.error is None
    assert _keys(stalling_slack) == [message_key(digest_id, i) for i in range(total)]
    assert result.digest.sent[stall] == taken.ts  # found in the history
    assert stalling_slack.count("chat.postMessage") == total  # and not posted a second time


# --- 3. a locked database --------------------------------------------------------------------

HOLD_LOCK = r"""
import sqlite3, sys

conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # until the test closes our stdin
conn.execute("ROLLBACK")
"""


def test_fetch_against_a_database_another_process_holds_says_so_then_succeeds(
    tmp_path, feed_server, children
):
    urls = serve_feeds(feed_server, 3, 20)
    config = write_config(tmp_path / "newsdesk.toml", urls)
    db = tmp_path / "archive.sqlite"
    Store.open(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    children.append(holder)
    assert holder.stdout.readline() == "locked\n"

    started = time.monotonic()
    locked = subprocess.run(
        [sys.executable, "-m", "newsdesk", "--config", str(config), "--db", str(db), "fetch"],
        cwd=tmp_path,
        env=child_env(NEWSDESK_LOCK_TIMEOUT="0.5"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    elapsed = time.monotonic() - started

    assert locked.returncode == 1
    assert locked.stderr.startswith(
        f"Error: the database {db} is locked by another process (another newsdesk?):"
        " gave up after waiting 0.5 s"
    ), locked.stderr
    assert "Traceback" not in locked.stderr + locked.stdout
    assert elapsed < 15  # the half second it was told to wait, plus start-up; never 30 s

    holder.stdin.close()
    assert holder.wait(timeout=10) == 0
    result = CliRunner().invoke(main, ["--config", str(config), "--db", str(db), "fetch"])
    assert result.exit_code == 0, result.output
    assert "3 feeds" in result.output and "60 new items" in result.output
    assert check_archive(db, 20) == dict.fromkeys(urls, 20)


async def test_a_lock_during_one_feeds_save_fails_that_feed_clearly_and_the_pass_goes_on(
    tmp_path, feed_server, loopback_settings
):
    urls = serve_feeds(feed_server, 4, 20)
    db = tmp_path / "archive.sqlite"
    holder = sqlite3.connect(db, isolation_level=None)
    with Store.open(db, timeout=0.3) as store:
        for url in urls:
            store.add_feed(url)
        holder.execute("BEGIN EXCLUSIVE")  # another process writing, as the first save comes

        def release(outcome: PollOutcome) -> None:
            if holder.in_transaction:
                holder.execute("ROLLBACK")

        async with Fetcher(loopback_settings) as fetcher:
            outcomes = await poll_feeds(store, fetcher, store.list_feeds(), on_done=release)
            [failed] = [o for o in outcomes if o.status == "failed"]
            assert "is locked by another process (another newsdesk?)" in failed.error
            assert "gave up after waiting 0.3 s" in failed.error
            assert sorted(o.counts.new for o in outcomes) == [0, 20, 20, 20]
            assert store.get_feed(failed.feed.id).item_count == 0

            # Nothing was recorded for it, so it is still due: the next pass stores it.
            due = store.due_feeds(datetime.now(UTC))
            assert [feed.id for feed in due] == [failed.feed.id]
            [retried] = await poll_feeds(store, fetcher, due)
    holder.close()
    assert retried.status == "new" and retried.counts.new == 20
    assert check_archive(db, 20) == dict.fromkeys(urls, 20)


def test_a_brief_lock_is_waited_out_even_when_the_update_reads_before_it_writes(tmp_path):
    db = tmp_path / "archive.sqlite"
    now = datetime(2026, 11, 23, tzinfo=UTC)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(10)
        conn.execute("COMMIT")
        conn.close()

    with Store.open(db, timeout=10) as store:
        feed = store.add_feed("https://lab.example/feed.xml")
        holder = threading.Thread(target=hold)
        holder.start()
        assert locked.wait(10)
        threading.Timer(0.3, release.set).start()
        item = Item("g1", "https://lab.example/1", "A title", "A summary", None, now, "hash1")
        started = time.monotonic()
        # save_items reads (is the item known?) before it writes: a deferred transaction would
        # fail at once on the upgrade to a write lock, without waiting at all.
        counts = store.save_items(
            feed.id, ParsedFeed("Lab", None, [item]), now=now, next_poll_at=now
        )
        waited = time.monotonic() - started
        holder.join(10)
    assert counts.new == 1
    assert 0.25 <= waited < 5


def test_a_lock_that_outlasts_the_timeout_raises_a_store_error_naming_it(tmp_path):
    db = tmp_path / "archive.sqlite"
    Store.open(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with Store.open(db, timeout=0.2) as store:
            started = time.monotonic()
            with pytest.raises(DatabaseLockedError, match=r"locked by another process"):
                store.add_feed("https://lab.example/feed.xml")
            assert time.monotonic() - started < 5
    finally:
        holder.close()
    with Store.open(db) as store:
        assert store.list_feeds() == []  # nothing half-done


# --- 4. a full disk --------------------------------------------------------------------------


class PageCap:
    """Caps the size of the database every connection Store.open makes (`PRAGMA
    max_page_count`), so a write that needs one page more fails with SQLITE_FULL exactly as on a
    disk with no room left; through the store's connection hook, so `newsdesk fetch` run in this
    process meets it too."""

    def __init__(self) -> None:
        self.pages: int | None = None
        store_module.CONNECTION_HOOKS.append(self._hook)

    def _hook(self, conn: sqlite3.Connection) -> None:
        if self.pages is not None:
            conn.execute(f"PRAGMA max_page_count = {self.pages}")

    def remove(self) -> None:
        store_module.CONNECTION_HOOKS.remove(self._hook)


@pytest.fixture
def page_cap() -> Iterator[PageCap]:
    cap = PageCap()
    yield cap
    cap.remove()


def _pages(store: Store) -> int:
    return store.db.execute("PRAGMA page_count").fetchone()[0]


async def test_a_full_disk_fails_the_feed_that_hit_it_rolls_it_back_and_the_next_poll_stores_it(
    tmp_path, feed_server, loopback_settings
):
    urls = serve_feeds(feed_server, 6, 100)
    db = tmp_path / "archive.sqlite"
    with Store.open(db) as store:
        for url in urls:
            store.add_feed(url)
        first, *others = store.list_feeds()
        async with Fetcher(loopback_settings) as fetcher:
            before = _pages(store)
            [outcome] = await poll_feeds(store, fetcher, [first])
            assert outcome.status == "new"
            # Room for about one more feed's update, then the disk is full.
            room = _pages(store) + (_pages(store) - before) * 3 // 2
            store.db.execute(f"PRAGMA max_page_count = {room}")

            outcomes = await poll_feeds(store, fetcher, others)
            failed = [o for o in outcomes if o.status == "failed"]
            assert failed, "the page cap was never reached"
            for outcome in failed:
                assert "the disk is full: the database" in outcome.error
                assert "nothing was half-written" in outcome.error
            counts = check_archive(db, 100)
            assert all(counts[o.feed.url] == 0 for o in failed)
            assert sum(counts.values()) == 100 * (6 - len(failed))
            assert _pages(store) <= room

            # Room again: the failed feeds are still due, and the next poll stores them whole.
            store.db.execute("PRAGMA max_page_count = 1000000000")
            retried = await poll_feeds(store, fetcher, store.due_feeds(datetime.now(UTC)))
    assert sorted(o.feed.url for o in retried) == sorted(o.feed.url for o in failed)
    assert {o.status for o in retried} == {"new"}
    assert check_archive(db, 100) == dict.fromkeys(urls, 100)


def test_newsdesk_fetch_on_a_full_disk_says_so_and_the_next_fetch_stores_everything(
    tmp_path, feed_server, page_cap
):
    urls = serve_feeds(feed_server, 4, 30)
    config = write_config(tmp_path / "newsdesk.toml", urls)
    db = tmp_path / "archive.sqlite"
    args = ["--config", str(config), "--db", str(db), "fetch"]
    runner = CliRunner()

    page_cap.pages = 8  # not even room for the schema
    full = runner.invoke(main, args, env={"COLUMNS": "250"})
    assert full.exit_code == 1
    assert isinstance(full.exception, SystemExit)  # a message, not a traceback
    assert full.output.startswith(f"Error: the disk is full: the database {db} cannot grow")
    assert "Free some space and try again" in full.output

    page_cap.pages = None
    with Store.open(db) as store:  # the failed migration was rolled back: it runs again
        empty = _pages(store)
    page_cap.pages = empty + 5  # the schema and the feed list fit; the feeds' items do not
    partly = runner.invoke(main, args, env={"COLUMNS": "250"})
    assert partly.exit_code == 0, partly.output
    assert "failed: the disk is full" in partly.output
    assert "4 failed" in partly.output
    assert check_archive(db, 30) == dict.fromkeys(urls, 0)

    page_cap.pages = None  # room again
    again = runner.invoke(main, args, env={"COLUMNS": "250"})
    assert again.exit_code == 0, again.output
    assert "120 new items" in again.output
    assert check_archive(db, 30) == dict.fromkeys(urls, 30)
