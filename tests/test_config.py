"""Config loading: every mistake is reported by its key path, and the shipped example is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsdesk.cli import main
from newsdesk.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsdesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    return caught.value.problems


def test_the_example_config_is_valid_and_follows_real_ai_feeds():
    settings = load_settings(ROOT / "config.example.toml")
    urls = [feed.url for feed in settings.feeds]
    assert any("deepseek-ai" in url and url.endswith("releases.atom") for url in urls)
    assert any("arxiv.org" in url for url in urls)
    assert any("qbitai" in url or "jiqizhixin" in url for url in urls)


def test_the_example_config_sets_every_option_there_is():
    """The example documents every option: a new key must be added to it too."""
    import tomllib

    raw = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    for section in ("store", "fetch", "dedup", "tags"):
        fields = set(type(getattr(Settings(), section)).model_fields)
        assert set(raw[section]) == fields, f"[{section}] in config.example.toml"


def test_no_config_file_means_built_in_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSDESK_CONFIG", raising=False)
    settings = load_settings()
    assert settings.feeds == []
    assert settings.fetch.allow_private_networks is False


def test_unknown_key_is_named_with_its_section(tmp_path):
    assert problems(tmp_path, "[fetch]\nintervl_minutes = 5\n") == [
        "fetch.intervl_minutes: unknown key"
    ]


def test_wrong_type_names_the_key_and_the_value(tmp_path):
    [problem] = problems(tmp_path, '[fetch]\ninterval_minutes = "60"\n')
    assert problem == "fetch.interval_minutes: Input should be a valid integer (got '60')"


def test_out_of_range_value_says_what_is_allowed(tmp_path):
    [problem] = problems(tmp_path, "[fetch]\ntimeout_seconds = -1\n")
    assert problem == "fetch.timeout_seconds: Input should be greater than 0 (got -1)"


def test_feed_errors_name_the_feed_by_position(tmp_path):
    text = """
[[feeds]]
url = "https://ok.example/feed"

[[feeds]]
url = "ftp://files.example/feed"

[[feeds]]
title = "no url"
"""
    assert problems(tmp_path, text) == [
        "feeds[1].url: must be an http:// or https:// URL (got 'ftp://files.example/feed')",
        "feeds[2].url: required key is missing",
    ]


def test_a_feed_listed_twice_is_an_error(tmp_path):
    text = '[[feeds]]\nurl = "https://a.example/f"\n[[feeds]]\nurl = "https://a.example/f"\n'
    assert problems(tmp_path, text) == ["feeds: https://a.example/f is listed twice"]


def test_max_interval_below_min_interval_is_an_error(tmp_path):
    text = "[fetch]\nmin_interval_minutes = 60\nmax_interval_minutes = 30\n"
    assert problems(tmp_path, text) == [
        "fetch.max_interval_minutes: must be at least min_interval_minutes (60) (got 30)"
    ]


def test_invalid_toml_names_the_file_and_the_line(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, "[fetch]\ninterval_minutes = = 5\n"))
    assert "newsdesk.toml" in str(caught.value)
    assert "line 2" in str(caught.value)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_relative_database_path_is_relative_to_the_config_file(tmp_path):
    sub = tmp_path / "etc"
    sub.mkdir()
    path = sub / "newsdesk.toml"
    path.write_text('[store]\npath = "data/news.sqlite"\n', encoding="utf-8")
    assert load_settings(path).store.path == str(sub / "data" / "news.sqlite")


def test_check_config_prints_a_summary_for_a_good_file(tmp_path):
    result = CliRunner().invoke(main, ["check-config", str(ROOT / "config.example.toml")])
    assert result.exit_code == 0, result.output
    assert "config.example.toml: OK" in result.output
    assert "feeds: 18" in result.output


def test_check_config_lists_every_problem_and_fails(tmp_path):
    path = write(tmp_path, '[fetch]\nconcurrency = 0\nbogus = true\n[[feeds]]\nurl = "x"\n')
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 1
    assert "fetch.concurrency: Input should be greater than 0 (got 0)" in result.output
    assert "fetch.bogus: unknown key" in result.output
    assert "feeds[0].url: must be an http:// or https:// URL (got 'x')" in result.output
