"""Tagging: every rule kind behaves as the taxonomy header says, a broken taxonomy is refused with
the key path of each mistake, and the shipped taxonomy tags the bundled sample feeds sensibly."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from newsdesk.feeds.parse import parse_feed
from newsdesk.feeds.tagging import (
    Tag,
    Taxonomy,
    TaxonomyError,
    load_taxonomy,
    normalize_text,
    taxonomy_from_dict,
)

SAMPLES = Path(__file__).resolve().parents[1] / "newsdesk" / "samples"


def taxonomy(*tags: dict[str, Any]) -> Taxonomy:
    """A taxonomy of the given tags; `label` defaults to the name."""
    return taxonomy_from_dict({"tags": [{"label": t["name"], **t} for t in tags]})


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(TaxonomyError) as caught:
        taxonomy_from_dict(raw)
    return caught.value.problems


@pytest.fixture(scope="module")
def shipped() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def sample_items() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Every bundled sample item by title: (title, summary, the feed's default tags)."""
    config = tomllib.loads((SAMPLES / "samples.toml").read_text(encoding="utf-8"))
    items = {}
    for feed in config["feeds"]:
        parsed = parse_feed((SAMPLES / feed["file"]).read_bytes())
        for item in parsed.items:
            items[item.title] = (item.title, item.summary, tuple(feed["tags"]))
    return items


# --- terms ------------------------------------------------------------------------------------


def test_latin_keywords_match_whole_words_only():
    tax = taxonomy(
        {"name": "ai", "any": ["AI"]},
        {"name": "meta", "any": ["Meta"]},
        {"name": "h20", "any": ["H20"]},
    )
    assert tax.tag("He said the metadata is on the H200", "") == frozenset()
    assert tax.tag("AI: Meta buys H20s? No, H20.", "") == {"ai", "meta", "h20"}
    assert tax.tag("(AI)", "meta,H20") == {"ai", "meta", "h20"}


def test_cjk_keywords_match_anywhere_in_text_without_spaces():
    tax = taxonomy({"name": "talent", "any": ["招聘"]})
    assert tax.tag("腾讯启动2027届校园招聘计划", "") == {"talent"}
    assert tax.tag("腾讯发布新模型", "") == frozenset()


def test_a_latin_word_glued_to_chinese_text_still_counts_as_a_word():
    tax = taxonomy({"name": "seed", "any": ["Seed"]}, {"name": "ai", "any": ["AI"]})
    assert tax.tag("字节跳动开源Seed-Agent框架", "") == {"seed"}
    assert tax.tag("国产AI芯片", "") == {"ai"}
    assert tax.tag("Seedance 与 SAID", "") == frozenset()


def test_phrases_match_across_hyphens_dashes_and_extra_spaces():
    tax = taxonomy(
        {"name": "open-source", "any": ["open source"]},
        {"name": "v4", "any": ["DeepSeek-V4"]},
    )
    assert tax.tag("An open-source harness", "") == {"open-source"}
    assert tax.tag("Open \u2013 Source\tweights", "") == {"open-source"}
    assert tax.tag("DeepSeek V4 is out", "") == {"v4"}
    assert tax.tag("DeepSeek V40", "") == frozenset()


def test_a_phrase_does_not_run_from_the_title_into_the_summary():
    tax = taxonomy({"name": "jobs", "any": ["job market"]})
    assert tax.tag("A new job", "market report") == frozenset()
    assert tax.tag("The job", "market is tight; so is the job market") == {"jobs"}


def test_matching_ignores_case_and_full_width_forms():
    tax = taxonomy({"name": "openai", "any": ["OpenAI"]}, {"name": "gpu", "any": ["GPU"]})
    assert tax.tag("OPENAI and openai", "") == {"openai"}
    assert tax.tag("ＯｐｅｎＡＩ采购ＧＰＵ，", "") == {"openai", "gpu"}
    assert normalize_text("ＧＰＵ—Open‐Source’s") == "gpu open source's"


def test_a_trailing_star_matches_the_start_of_a_word():
    tax = taxonomy({"name": "qwen", "any": ["Qwen*"]}, {"name": "exact", "any": ["qwen"]})
    assert tax.tag("Qwen4-Coder", "") == {"qwen"}
    assert tax.tag("Qwen3", "qwen, again") == {"qwen", "exact"}
    assert tax.tag("AQwen", "") == frozenset()


def test_a_term_inside_or_at_the_start_of_a_longer_term_is_found_too():
    tax = taxonomy(
        {"name": "release", "any": ["DeepSeek V4"]},
        {"name": "lab", "any": ["DeepSeek"]},
        {"name": "version", "any": ["V4"]},
        {"name": "act", "any": ["AI Act"]},
        {"name": "ai", "any": ["AI"]},
    )
    assert tax.tag("DeepSeek-V4", "") == {"release", "lab", "version"}
    assert tax.tag("the AI Actor", "") == {"ai"}
    assert tax.tag("the AI Act", "") == {"act", "ai"}


def test_aliases_work_like_any_terms():
    tax = taxonomy({"name": "deepseek", "aliases": ["DeepSeek", "深度求索", "梁文锋"]})
    assert tax.tag("深度求索发布新模型", "") == {"deepseek"}
    assert tax.tag("梁文锋接受采访", "") == {"deepseek"}
    assert tax.tag("DeepSeek-R1", "") == {"deepseek"}


def test_cased_terms_match_only_in_their_letter_case():
    tax = taxonomy({"name": "xai", "cased": ["xAI", "Grok"]})
    assert tax.tag("xAI ships Grok 5", "") == {"xai"}
    assert tax.tag("XAI methods explained", "how to grok attention") == frozenset()


# --- regexes ----------------------------------------------------------------------------------


def test_regexes_are_case_insensitive_unless_they_say_otherwise():
    tax = taxonomy(
        {"name": "gpt", "regex": [r"\bGPT-?\d"]},
        {"name": "bill", "regex": [r"(?-i:\bSB) ?\d+"]},
    )
    assert tax.tag("gpt-5 and GPT4o", "") == {"gpt"}
    assert tax.tag("ChatGPT-style", "") == frozenset()
    assert tax.tag("California SB 53", "") == {"bill"}
    assert tax.tag("usb 3", "sb 53") == frozenset()


def test_regexes_read_the_original_punctuation():
    tax = taxonomy({"name": "licence", "regex": [r"License: (?:MIT|Apache)"]})
    assert tax.tag("DeepSeek-R2", "Highlights License: MIT") == {"licence"}
    assert tax.tag("DeepSeek-R2", "License MIT") == frozenset()


# --- any / all / none / except / implies --------------------------------------------------------


def test_all_needs_every_entry_and_a_list_entry_needs_one_of_its_terms():
    tax = taxonomy(
        {"name": "release", "any": ["model"], "all": [["releases", "launches"], "weights"]}
    )
    assert tax.tag("Lab releases model", "with weights") == {"release"}
    assert tax.tag("Lab launches model", "open weights") == {"release"}
    assert tax.tag("Lab releases model", "") == frozenset()
    assert tax.tag("Lab releases weights", "") == frozenset()  # `any` still has to match


def test_a_tag_with_only_all_is_given_when_all_of_it_matches():
    tax = taxonomy({"name": "gpu-deal", "all": ["GPU", ["deal", "contract"]]})
    assert tax.tag("A $14B GPU contract", "") == {"gpu-deal"}
    assert tax.tag("A $14B GPU order", "") == frozenset()


def test_none_keeps_a_tag_off_whatever_else_matches():
    tax = taxonomy({"name": "talent", "any": ["hiring"], "none": ["hiring freeze on GPUs"]})
    assert tax.tag("Meta is hiring", "") == {"talent"}
    assert tax.tag("Meta is hiring", "and a hiring freeze on GPUs") == frozenset()


def test_except_discards_only_the_matches_inside_its_phrases():
    tax = taxonomy(
        {"name": "anthropic", "aliases": ["Claude"], "except": ["Claude Shannon"]},
        {"name": "people", "any": ["Claude"]},
    )
    assert tax.tag("Claude Shannon's notebooks", "") == {"people"}
    assert tax.tag("Claude Shannon would have liked Claude", "") == {"anthropic", "people"}


def test_except_also_covers_cased_terms():
    tax = taxonomy({"name": "meta", "cased": ["Meta"], "except": ["meta-analysis"]})
    assert tax.tag("Meta-analysis: tutors help", "") == frozenset()
    assert tax.tag("Meta-analysis of Meta's tutors", "") == {"meta"}


def test_implies_adds_tags_and_follows_chains():
    tax = taxonomy(
        {"name": "deepseek", "any": ["DeepSeek"], "implies": ["china"]},
        {"name": "china", "any": ["Beijing"], "implies": ["asia"]},
        {"name": "asia"},
    )
    assert tax.tag("DeepSeek", "") == {"deepseek", "china", "asia"}
    assert tax.tag("Paris", "") == frozenset()


def test_feed_tags_are_added_as_given_even_against_the_rules():
    tax = taxonomy({"name": "talent", "any": ["hiring"], "none": ["freeze"]}, {"name": "china"})
    assert tax.tag("Hiring freeze", "", feed_tags=["talent", "china", "my-own", ""]) == {
        "talent",
        "china",
        "my-own",
    }
    assert tax.tag("Nothing here", "") == frozenset()  # a rule-less tag only comes from feeds


def test_explain_names_the_evidence_for_each_tag():
    tax = taxonomy(
        {"name": "deepseek", "aliases": ["DeepSeek*"], "implies": ["china"]},
        {"name": "china"},
        {"name": "gpt", "regex": [r"\bGPT-?\d"]},
    )
    why = tax.explain("DeepSeek-V4 vs GPT-5", "", feed_tags=["research"])
    assert why == {
        "deepseek": ["DeepSeek*"],
        "gpt": [r"regex \bGPT-?\d"],
        "china": ["implied by deepseek"],
        "research": ["feed tag"],
    }


def test_get_and_rank_give_display_data_by_priority():
    tax = taxonomy(
        {"name": "openai", "priority": 40, "emoji": "🟢", "label": "OpenAI"},
        {"name": "talent", "priority": 90},
        {"name": "funding", "priority": 90},
    )
    assert tax.get("openai") == Tag("openai", "OpenAI", "🟢", 40)
    assert tax.get("unknown") is None
    ranked = tax.rank(["openai", "funding", "talent", "feed-only"])
    assert [t.name for t in ranked] == ["talent", "funding", "openai"]  # ties: file order


# --- validation -------------------------------------------------------------------------------


def test_an_unknown_field_is_reported_with_its_path():
    assert problems({"tags": [{"name": "a", "label": "A", "keywords": ["x"]}]}) == [
        "tags[0].keywords: unknown key"
    ]


def test_a_bad_regex_is_reported_with_its_path_and_the_reason():
    [problem] = problems({"tags": [{"name": "a", "label": "A", "regex": ["ok", "(unclosed"]}]})
    assert problem.startswith("tags[0].regex[1]: invalid regular expression: missing ), ")


def test_a_regex_that_matches_empty_text_is_refused():
    [problem] = problems({"tags": [{"name": "a", "label": "A", "regex": ["x*"]}]})
    assert problem.startswith("tags[0].regex[0]: matches empty text")


def test_a_duplicate_tag_name_is_reported_at_the_second_one():
    raw = {"tags": [{"name": "a", "label": "A"}, {"name": "b", "label": "B"}, {"name": "a"}]}
    assert problems(raw) == [
        "tags[2].label: required key is missing",
        "tags[2].name: duplicate tag name 'a' (first at tags[0])",
    ]


def test_wrong_types_are_reported_not_coerced():
    raw = {"tags": [{"name": "a", "label": "A", "priority": "60", "any": "hiring"}]}
    assert problems(raw) == [
        "tags[0].priority: Input should be a valid integer (got '60')",
        "tags[0].any: Input should be a valid list (got 'hiring')",
    ]
    assert problems({"tags": [{"name": "a", "label": "A", "all": [3]}]}) == [
        "tags[0].all[0]: must be a term or a list of terms (got 3)"
    ]


def test_names_terms_and_implied_tags_are_checked():
    raw = {
        "tags": [
            {"name": "Model Release", "label": "x"},
            {"name": "b", "label": "B", "any": ["ok", " - "], "cased": ["Q*wen"]},
            {"name": "c", "label": "C", "implies": ["nowhere"]},
        ]
    }
    found = problems(raw)
    assert "tags[0].name: must be a lower-case slug such as 'model-release'" in found[0]
    assert found[1].startswith("tags[1].any[1]: must contain a word")
    assert found[2].startswith("tags[1].cased[0]: '*' may only end a term")
    assert found[3] == "tags[2].implies[0]: no tag named 'nowhere'"


def test_a_file_without_tags_or_with_bad_toml_is_refused(tmp_path: Path):
    assert problems({}) == ["tags: required key is missing"]
    path = tmp_path / "taxonomy.toml"
    path.write_text("[[tags]\nname = 'x'", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid TOML"):
        load_taxonomy(path)
    with pytest.raises(TaxonomyError, match="file not found"):
        load_taxonomy(tmp_path / "missing.toml")


def test_a_taxonomy_error_lists_every_problem_under_its_source():
    with pytest.raises(TaxonomyError) as caught:
        taxonomy_from_dict({"tags": [{"name": "a"}, {"name": "a", "label": 1}]}, source="t.toml")
    text = str(caught.value)
    assert text.startswith("invalid taxonomy t.toml:\n  - tags[0].label: required key is missing")
    assert "tags[1].name: duplicate tag name 'a'" in text


# --- the shipped taxonomy ---------------------------------------------------------------------


def test_the_shipped_taxonomy_loads_with_deepseek_first_and_on_top(shipped: Taxonomy):
    names = [tag.name for tag in shipped.tags]
    assert names[0] == "deepseek"
    for name in (
        "openai",
        "anthropic",
        "google-deepmind",
        "meta",
        "alibaba-qwen",
        "bytedance",
        "moonshot",
        "mistral",
        "xai",
        "nvidia",
        "model-release",
        "talent",
        "funding",
        "research",
        "open-source",
        "chips-compute",
        "policy",
        "agents-rag",
        "product",
        "china",
    ):
        assert shipped.get(name) is not None, name
    assert max(shipped.tags, key=lambda tag: tag.priority).name == "deepseek"
    assert all(tag.label and tag.emoji for tag in shipped.tags)


SAMPLE_CASES = [
    # (start of a sample item's title, tags it must get, tags it must not get)
    ("DeepSeek releases V4", "deepseek model-release open-source china", "talent"),
    ("深度求索启动杭州大规模招聘", "deepseek talent china", ""),
    ("2026 秋招观察", "talent china", ""),
    ("Meta freezes hiring", "meta talent", ""),
    ("月之暗面发布 Kimi K3", "moonshot model-release agents-rag china", ""),
    ("OpenAI raises $40B", "openai funding", "talent"),
    ("US adds HBM memory stacks", "chips-compute policy china", ""),
    ("Mistral AI releases Mistral Large 3", "mistral model-release open-source", ""),
    ("xAI lays off 200", "xai talent", ""),
    ("EU AI Office publishes", "policy", "model-release"),
]


@pytest.mark.parametrize(("start", "expected", "unexpected"), SAMPLE_CASES)
def test_the_shipped_taxonomy_tags_the_sample_headlines(
    shipped: Taxonomy,
    sample_items: dict[str, tuple[str, str, tuple[str, ...]]],
    start: str,
    expected: str,
    unexpected: str,
):
    [title] = [title for title in sample_items if title.startswith(start)][:1]
    title, summary, _ = sample_items[title]
    got = shipped.tag(title, summary)
    why = shipped.explain(title, summary)
    assert set(expected.split()) <= got, why
    assert not set(unexpected.split()) & got, why


def test_the_shipped_taxonomy_avoids_the_usual_homonyms(shipped: Taxonomy):
    assert shipped.tag("Llama farmers count herds with drones", "") == frozenset()
    assert shipped.tag("Meta-analysis: AI tutors help a little", "metadata matters") == {"research"}
    assert "xai" not in shipped.tag("Explainable AI (XAI) fails clinicians", "")
    assert "anthropic" not in shipped.tag("Claude Shannon's notebooks digitised", "")
    assert "mistral" not in shipped.tag("A mistral wind cuts power in Marseille", "")


def test_feed_default_tags_from_the_samples_are_kept(
    shipped: Taxonomy, sample_items: dict[str, tuple[str, str, tuple[str, ...]]]
):
    title, summary, feed_tags = sample_items["A field guide to long-context retrieval"]
    assert feed_tags == ("google-deepmind",)
    assert "google-deepmind" in shipped.tag(title, summary, feed_tags)
    assert "google-deepmind" not in shipped.tag(title, summary)


def test_a_custom_taxonomy_file_replaces_the_shipped_one(tmp_path: Path):
    path = tmp_path / "my-tags.toml"
    path.write_text(
        '[[tags]]\nname = "robots"\nlabel = "Robots"\nemoji = "🤖"\npriority = 5\n'
        'any = ["humanoid", "人形机器人"]\n',
        encoding="utf-8",
    )
    tax = load_taxonomy(path)
    assert [tag.name for tag in tax.tags] == ["robots"]
    assert tax.source == str(path)
    assert tax.tag("工信部发布人形机器人指导意见", "") == {"robots"}
    assert tax.tag("DeepSeek releases V4", "") == frozenset()
