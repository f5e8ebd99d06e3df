"""The `newsdesk` commands as a user runs them, against the loopback feed server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsdesk.cli import main
from newsdesk.store import Store


def rss(*items: tuple[str, str]) -> str:
    entries = "".join(
        f"<item><guid>{link}</guid><link>{link}</link><title>{title}</title>"
        f"<description>About {title}.</description></item>"
        for title, link in items
    )
    return f'<rss version="2.0"><channel><title>Lab News</title>{entries}</channel></rss>'


@pytest.fixture
def run(tmp_path: Path):
    """Run `newsdesk` with a config allowing the loopback feed server; returns the result."""
    config = tmp_path / "newsdesk.toml"
    config.write_text(
        '[store]\npath = "archive.sqlite"\n'
        "[fetch]\nallow_private_networks = true\ntimeout_seconds = 2.0\n",
        encoding="utf-8",
    )

    def invoke(*args: str, input: str | None = None):
        return CliRunner(env={"COLUMNS": "200"}).invoke(
            main, ["--config", str(config), *args], input=input
        )

    invoke.db = tmp_path / "archive.sqlite"
    return invoke


def test_demo_merges_cross_feed_duplicates_and_shows_them_once(tmp_path):
    db = tmp_path / "demo.sqlite"
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "7 of 7 feeds answered 304 Not Modified, 0 bodies downloaded again" in result.output
    assert "also in:" in result.output
    with Store.open(db) as store:
        counts = store.counts()
        stories = store.recent_stories(limit=1000)
    assert counts["feeds"] == 7
    assert counts["items"] >= 60
    merged = [s for s in stories if len(s.sources) > 1]
    assert len(merged) >= 6
    assert f"{counts['items']} items from 7 feeds became {counts['stories']} stories" in (
        result.output
    )
    # The tracking-parameter copies of DeepSeek V4 are one story carried by three outlets.
    [v4] = [s for s in stories if s.url and s.url.endswith("/deepseek-releases-v4")]
    assert len(v4.sources) == 3


def test_demo_can_run_twice_on_the_same_file(tmp_path):
    db = tmp_path / "demo.sqlite"
    for _ in range(2):
        result = CliRunner(env={"COLUMNS": "200"}).invoke(
            main, ["demo", "--db", str(db), "--limit", "3"]
        )
        assert result.exit_code == 0, result.output


def test_python_dash_m_runs_the_same_cli():
    result = subprocess.run(
        [sys.executable, "-m", "newsdesk", "--help"], capture_output=True, text=True, check=True
    )
    assert "check-config" in result.stdout and "feeds" in result.stdout


def test_feeds_add_stores_current_items_as_backfill(run, feed_server):
    feed_server.add("/lab.xml", rss(("V4 released", "https://lab.example/v4")))
    result = run("feeds", "add", feed_server.url("/lab.xml"), "--tag", "deepseek")
    assert result.exit_code == 0, result.output
    assert "Added feed 1: Lab News — 1 items stored as backfill." in result.output
    with Store.open(run.db) as store:
        [(guid, backfill)] = store.db.execute("SELECT guid, is_backfill FROM items").fetchall()
        assert (guid, backfill) == ("https://lab.example/v4", 1)
        assert store.find_feed(1).tags == ("deepseek",)


def test_feeds_add_refuses_a_url_that_is_not_a_feed(run, feed_server):
    feed_server.add("/page", "<html><body>Hello</body></html>", content_type="text/html")
    result = run("feeds", "add", feed_server.url("/page"))
    assert result.exit_code == 1
    assert "not added:" in result.output and "--force" in result.output
    assert run("feeds", "list").output.startswith("No feeds yet")


def test_feeds_add_force_keeps_a_failing_feed(run, feed_server):
    feed_server.add("/down", "", status=503)
    result = run("feeds", "add", feed_server.url("/down"), "--force")
    assert result.exit_code == 0, result.output
    assert "but it failed: HTTP 503" in result.output


def test_feeds_add_rejects_a_non_http_url(run):
    result = run("feeds", "add", "file:///etc/passwd")
    assert result.exit_code == 2
    assert "expected an http:// or https:// feed URL" in result.output


def test_feeds_added_from_the_cli_cannot_reach_loopback_by_default(tmp_path, feed_server):
    feed_server.add("/lab.xml", rss(("x", "https://lab.example/x")))
    db = tmp_path / "a.sqlite"
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["--db", str(db), "feeds", "add", feed_server.url("/lab.xml")]
    )
    assert result.exit_code == 1
    assert "private, loopback or link-local" in result.output
    assert feed_server.hits("/lab.xml") == 0


def test_feeds_list_pause_resume_remove(run, feed_server):
    feed_server.add("/lab.xml", rss(("A", "https://lab.example/a"), ("B", "https://lab.example/b")))
    run("feeds", "add", feed_server.url("/lab.xml"))

    listing = run("feeds", "list").output
    assert "Lab News" in listing and "ok" in listing

    assert "Paused feed 1" in run("feeds", "pause", "1").output
    assert "paused" in run("feeds", "list").output
    assert "No feeds are due" in run("fetch").output
    assert "Resumed feed 1" in run("feeds", "resume", feed_server.url("/lab.xml")).output

    refused = run("feeds", "remove", "1", input="n\n")
    assert refused.exit_code == 1 and "Remove Lab News and its 2 items?" in refused.output
    removed = run("feeds", "remove", "1", "--yes")
    assert "Removed feed 1" in removed.output and "and 2 items" in removed.output
    assert run("feeds", "pause", "1").output.strip().endswith("shows ids and URLs")


def test_fetch_reports_each_feed_and_a_broken_one_does_not_stop_the_others(run, feed_server):
    feed_server.add("/good.xml", rss(("Good", "https://lab.example/good")))
    feed_server.add("/bad.xml", "", status=500)
    config_feeds = f'[[feeds]]\nurl = "{feed_server.url("/good.xml")}"\n'
    config_feeds += f'[[feeds]]\nurl = "{feed_server.url("/bad.xml")}"\n'
    config = run.db.parent / "newsdesk.toml"
    config.write_text(config.read_text() + config_feeds, encoding="utf-8")

    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["--config", str(config), "fetch"])
    assert result.exit_code == 0, result.output
    assert "HTTP 500" in result.output
    assert "2 feeds in" in result.output and "1 new items; 1 failed, 1 new" in result.output

    again = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["--config", str(config), "fetch", "--all"]
    )
    assert "not modified" in again.output


def test_opml_import_then_export_round_trips(run, tmp_path):
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="AI"><outline text="DeepSeek" xmlUrl="https://ds.example/feed"/></outline>'
        '<outline text="量子位" xmlUrl="https://qbit.example/feed"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    result = run("feeds", "import-opml", str(opml))
    assert "Imported 2 feeds (0 already followed)" in result.output
    assert "Imported 0 feeds (2 already followed)" in run("feeds", "import-opml", str(opml)).output

    exported = run("feeds", "export-opml").output
    assert 'xmlUrl="https://ds.example/feed"' in exported
    assert 'category="ai"' in exported
    assert "量子位" in exported


def test_opml_import_of_a_non_opml_file_says_why(run, tmp_path):
    bogus = tmp_path / "feed.xml"
    bogus.write_text("<rss version='2.0'><channel/></rss>", encoding="utf-8")
    result = run("feeds", "import-opml", str(bogus))
    assert result.exit_code == 1
    assert "not an OPML document" in result.output


def test_a_feed_that_moved_permanently_is_polled_at_its_new_address(run, feed_server):
    feed_server.add("/new.xml", rss(("A", "https://lab.example/a")))
    feed_server.redirect("/old.xml", "/new.xml", status=301)
    run("feeds", "add", feed_server.url("/old.xml"))
    assert feed_server.url("/new.xml") in run("feeds", "list").output
    feed_server.reset_log()
    run("fetch", "--all")
    assert feed_server.hits("/old.xml") == 0 and feed_server.hits("/new.xml") == 1


def test_a_temporary_redirect_keeps_the_feed_address(run, feed_server):
    feed_server.add("/new.xml", rss(("A", "https://lab.example/a")))
    feed_server.redirect("/old.xml", "/new.xml", status=302)
    run("feeds", "add", feed_server.url("/old.xml"))
    assert feed_server.url("/old.xml") in run("feeds", "list").output


def test_search_tags_and_retag_commands_on_the_demo_archive(tmp_path):
    db = tmp_path / "demo.sqlite"
    runner = CliRunner(env={"COLUMNS": "200"})
    assert runner.invoke(main, ["demo", "--db", str(db)]).exit_code == 0

    found = runner.invoke(main, ["--db", str(db), "search", "深度求索", "tag:talent"])
    assert found.exit_code == 0, found.output
    assert "深度求索启动杭州大规模招聘" in found.output and "#talent" in found.output

    refused = runner.invoke(main, ["--db", str(db), "search", "since:yesterday"])
    assert refused.exit_code == 1 and "since: expects" in refused.output

    listing = runner.invoke(main, ["--db", str(db), "tags"]).output
    assert "deepseek" in listing and "DeepSeek" in listing

    retagged = runner.invoke(main, ["--db", str(db), "retag"]).output
    assert "Retagged 70 items" in retagged and "0 changed" in retagged
