"""The `newsdesk` commands as a user runs them, against the loopback feed server."""

from __future__ import annotations

import json
import shutil
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
    assert "Also in:" in result.output
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


# --- digest ------------------------------------------------------------------------------------

SAMPLE_WEEK = ["--since", "2026-11-16", "--until", "2026-11-23"]


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory) -> Path:
    """The demo's archive, built once; tests copy it."""
    db = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    result = CliRunner().invoke(main, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def archive(demo_archive: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "archive.sqlite"
    shutil.copy(demo_archive, copy)
    return copy


def digest_cli(archive: Path, *args: str, config: str = "", tmp_path: Path | None = None):
    """`newsdesk --db ARCHIVE [--config …] digest --preview ARGS` with stdout and stderr apart."""
    options = ["--db", str(archive)]
    if config:
        path = archive.with_name("newsdesk.toml")
        path.write_text(config, encoding="utf-8")
        options += ["--config", str(path)]
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, [*options, "digest", "--preview", *args])


def test_demo_ends_with_a_sectioned_digest_with_trends_and_summaries(tmp_path):
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["demo", "--db", str(tmp_path / "d.sqlite")]
    )
    assert result.exit_code == 0, result.output
    digest = result.stdout.split("as `newsdesk digest --preview` shows it:")[1]
    assert "AI industry digest" in digest and "16–22 Nov 2026 · 20 of 23 stories" in digest
    assert "🐋 DeepSeek  ▁▁▁▁▁█▅▅ +0%" in digest
    assert "🧑‍💼 Talent & hiring" in digest and "💰 Funding & deals" in digest
    # The aggregator's link has no text of its own; the summary comes from another outlet.
    hbm = digest.split("US adds HBM memory stacks")[1].split("•")[0]
    assert "Washington now controls the memory" in hbm and "Also in: Frontier Signals" in hbm
    assert "Summaries: 20 extractive" in result.stderr


def test_digest_preview_prints_slack_payloads_as_json(archive):
    result = digest_cli(archive, "--format", "slack", *SAMPLE_WEEK)
    assert result.exit_code == 0, result.output
    payloads = json.loads(result.stdout)
    blocks = payloads[0]["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "AI industry digest", "emoji": True},
    }
    assert "16–22 Nov 2026" in blocks[1]["elements"][0]["text"]
    text = json.dumps(payloads, ensure_ascii=False)
    assert "<https://techpress.example/ai/2026/11/20/meta-ai-hiring-freeze|" in text
    assert all(len(p["blocks"]) <= 50 for p in payloads)


def test_digest_preview_prints_discord_payloads_that_mention_no_one(archive):
    result = digest_cli(archive, "--format", "discord", *SAMPLE_WEEK)
    payloads = json.loads(result.stdout)
    assert all(p["allowed_mentions"] == {"parse": []} for p in payloads)
    titles = [embed["title"] for p in payloads for embed in p["embeds"]]
    assert titles[:3] == [
        "AI industry digest",
        "🐋 DeepSeek  ▁▁▁▁▁█▅▅ +0%",
        "🧑‍💼 Talent & hiring  ▁▁▁▁▁▇▆█ +67%",
    ]


def test_digest_preview_as_markdown(archive):
    result = digest_cli(archive, "--format", "markdown", *SAMPLE_WEEK)
    assert result.stdout.startswith("# AI industry digest\n")
    assert "\n## 💰 Funding \\& deals" in result.stdout  # `&` escaped for Markdown


def test_a_subscription_gets_only_its_tags_in_its_platform_format(archive):
    config = (
        '[[subscriptions]]\nname = "everything"\n'
        '[[subscriptions]]\nname = "hiring"\nplatform = "markdown"\n'
        'include_tags = ["talent"]\nmax_per_section = 3\n'
    )
    result = digest_cli(archive, "--subscription", "hiring", *SAMPLE_WEEK, config=config)
    assert result.exit_code == 0, result.output
    sections = [line for line in result.stdout.splitlines() if line.startswith("## ")]
    assert sections == ["## 🧑‍💼 Talent \\& hiring ▁▁▁▁▁▇▆█ +67%"]
    assert "3 of 6 stories" in result.stdout and "…and 3 more" in result.stdout


def test_a_period_without_news_is_a_quiet_week(archive):
    result = digest_cli(archive, "--since", "2026-10-01", "--until", "2026-10-08")
    assert result.exit_code == 0, result.output
    assert "A quiet week: no new stories between 1 and 7 Oct 2026." in result.stdout


def test_bad_digest_arguments_say_what_is_accepted(archive):
    unknown = digest_cli(archive, "--subscription", "nope")
    assert unknown.exit_code == 2 and "no subscription named 'nope'" in unknown.output
    backwards = digest_cli(archive, "--since", "2026-11-20", "--until", "2026-11-10")
    assert backwards.exit_code == 2 and "--since must be before --until" in backwards.output
    garbled = digest_cli(archive, "--since", "last tuesday")
    assert garbled.exit_code == 2 and "2026-01-01" in garbled.output


def test_a_subscription_filter_naming_an_unknown_tag_is_a_config_error(archive):
    config = '[[subscriptions]]\nname = "typo"\ninclude_tags = ["talnet"]\n'
    result = digest_cli(archive, config=config)
    assert result.exit_code == 1
    assert "subscriptions[0].include_tags[0]: unknown tag 'talnet'" in result.output
    check = CliRunner().invoke(main, ["check-config", str(archive.with_name("newsdesk.toml"))])
    assert check.exit_code == 1 and "unknown tag 'talnet'" in check.output


def test_with_an_llm_configured_the_same_digest_carries_llm_summaries_once(archive, llm_server):
    config = (
        f'[summarizer]\nprovider = "openai-compatible"\nbase_url = "{llm_server.base_url}"\n'
        'model = "local-test"\napi_key_env = ""\n'
    )
    first = digest_cli(archive, "--format", "markdown", *SAMPLE_WEEK, config=config)
    assert first.exit_code == 0, first.output
    assert "Summary: Meta freezes hiring in its AI division after reorganisation" in first.stdout
    assert "**Why it matters:** It matters: Meta freezes hiring" in first.stdout
    assert llm_server.calls == 20
    assert "20 by local-test" in first.stderr and "20 calls" in first.stderr

    second = digest_cli(archive, "--format", "markdown", *SAMPLE_WEEK, config=config)
    assert second.stdout == first.stdout
    assert llm_server.calls == 20
    assert "20 cached, 0 calls" in second.stderr

    plain = digest_cli(archive, "--format", "markdown", "--no-llm", *SAMPLE_WEEK, config=config)
    assert "Summary: Meta" not in plain.stdout and llm_server.calls == 20


def test_the_demo_uses_the_configured_llm(tmp_path, llm_server):
    config = tmp_path / "llm.toml"
    config.write_text(
        f'[summarizer]\nprovider = "openai-compatible"\nbase_url = "{llm_server.base_url}"\n'
        'api_key_env = ""\nintro = true\n',
        encoding="utf-8",
    )
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["--config", str(config), "demo", "--db", str(tmp_path / "d.sqlite")]
    )
    assert result.exit_code == 0, result.output
    assert "Summary: Meta freezes hiring" in result.stdout
    assert "This week brought 20 stories" in result.stdout
    assert llm_server.calls == 21


# --- the bot's commands --------------------------------------------------------------------------


def write_config(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "newsdesk.toml"
    config.write_text('[store]\npath = "archive.sqlite"\n' + text, encoding="utf-8")
    return config


def test_discord_invite_prints_the_url_with_the_permissions_the_bot_needs(tmp_path):
    config = write_config(tmp_path, '[discord]\napplication_id = "1310000000000000001"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "discord-invite"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "https://discord.com/oauth2/authorize?client_id=1310000000000000001"
        "&scope=bot+applications.commands&permissions=19456"
    )
    assert "View Channel, Send Messages and Embed Links" in result.stderr


def test_discord_invite_asks_discord_for_the_application_id_with_the_token(
    tmp_path, discord_server
):
    config = write_config(tmp_path, "")
    result = CliRunner(env={"DISCORD_TOKEN": discord_server.token}).invoke(
        main, ["--config", str(config), "discord-invite"]
    )
    assert result.exit_code == 0, result.output
    assert f"client_id={discord_server.application_id}&" in result.stdout


def test_discord_invite_without_an_id_or_token_says_where_to_find_the_id(tmp_path):
    config = write_config(tmp_path, "")
    result = CliRunner(env={"DISCORD_TOKEN": ""}).invoke(
        main, ["--config", str(config), "discord-invite"]
    )
    assert result.exit_code == 1
    assert "General Information → Application ID" in result.output


def test_subscriptions_lists_config_and_chat_subscriptions_with_their_schedule(tmp_path):
    config = write_config(
        tmp_path,
        '[bot]\ntimezone = "Europe/Paris"\n'
        '[[subscriptions]]\nname = "research"\nplatform = "file"\npath = "out/research.md"\n'
        'include_tags = ["research"]\nschedule = "0 17 * * fri"\n',
    )
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["--config", str(config), "subscriptions"]
    )
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "research" in line)
    assert "config" in row and "0 17 * * fri Europe/Paris" in row and "never" in row
    assert f"file {tmp_path / 'out' / 'research.md'}" in row  # relative to the config file


def test_check_config_reports_schedules_and_missing_platform_tokens(tmp_path):
    config = write_config(
        tmp_path,
        '[[subscriptions]]\nname = "team"\nplatform = "slack"\nchannel = "C0AINEWS"\n'
        'schedule = "weekdays"\ntimezone = "Asia/Shanghai"\n',
    )
    result = CliRunner(env={"SLACK_BOT_TOKEN": ""}).invoke(main, ["check-config", str(config)])
    assert result.exit_code == 0, result.output
    assert "subscription team: slack channel C0AINEWS" in result.stdout
    assert "0 9 * * mon-fri (Asia/Shanghai)" in result.stdout
    assert "a subscription posts to Slack but SLACK_BOT_TOKEN is not set" in result.stdout


@pytest.mark.parametrize(
    ("subscription", "says"),
    [
        ('platform = "slack"\nchannel = "#general"', "is not a Slack channel ID"),
        ('platform = "discord"\nchannel = "news"', "is not a Discord channel ID"),
        ('platform = "slack"', "needs either `channel`"),
        ('platform = "file"', "needs `path`"),
        ('schedule = "every monday"', "subscriptions[0].schedule: 'every monday' has 2 fields"),
        ('timezone = "Paris"', "subscriptions[0].timezone: unknown time zone 'Paris'"),
        ('platform = "slack"\nwebhook_env = "https://hooks.slack.com/services/T/B/X"', "must be"),
    ],
)
def test_bad_subscription_settings_name_the_key_and_what_is_accepted(tmp_path, subscription, says):
    config = write_config(tmp_path, f'[[subscriptions]]\nname = "x"\n{subscription}\n')
    result = CliRunner().invoke(main, ["check-config", str(config)])
    assert result.exit_code == 1
    assert says in result.output
    assert "hooks.slack.com" not in result.output  # a secret in the wrong key is never echoed


def test_the_slack_manifest_declares_the_command_and_the_scopes_newsdesk_uses():
    manifest = (Path(__file__).parents[1] / "slack-manifest.yml").read_text(encoding="utf-8")
    scopes = {
        line.split("#")[0].strip().removeprefix("- ")
        for line in manifest.splitlines()
        if line.startswith("      - ")
    }
    assert "    - command: /news" in manifest
    # chat.postMessage, users.info, conversations.history (public and private), /news
    assert {"commands", "chat:write", "users:read", "channels:history", "groups:history"} <= scopes


def test_digest_send_delivers_through_the_outbox_and_the_next_starts_where_it_ended(archive):
    out = archive.with_name("digests") / "team.md"
    config = archive.with_name("newsdesk.toml")
    config.write_text(
        f'[[subscriptions]]\nname = "team"\nplatform = "file"\npath = "{out}"\n',
        encoding="utf-8",
    )
    options = ["--db", str(archive), "--config", str(config)]
    first = CliRunner().invoke(main, [*options, "digest", "--send"])
    second = CliRunner().invoke(main, [*options, "digest", "--send", "--subscription", "team"])
    listed = CliRunner(env={"COLUMNS": "200"}).invoke(main, [*options, "subscriptions"])

    assert first.exit_code == 0, first.output
    assert first.stderr.startswith("Sent team's digest for ")
    assert f"to file {out} (1 message(s))." in first.stderr
    text = out.read_text(encoding="utf-8")
    assert text.count("# AI industry digest") == 2  # two digests appended
    assert second.exit_code == 0 and "no new stories" in text  # nothing new since the first
    assert "sent " in next(line for line in listed.stdout.splitlines() if "team" in line)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "say --preview (print it) or --send (deliver it now)"),
        (["--preview", "--send"], "say --preview (print it) or --send (deliver it now)"),
        (["--send", "--format", "slack"], "--format, --since and --until are for --preview"),
        (["--send", "--subscription", "nope"], "no subscription named 'nope'; there are: default"),
    ],
)
def test_digest_needs_one_mode_and_send_takes_no_preview_options(archive, args, says):
    result = CliRunner().invoke(main, ["--db", str(archive), "digest", *args])
    assert result.exit_code == 2
    assert says in result.output
