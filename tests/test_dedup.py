"""Near-duplicate stories: copies join, different stories on the same subject stay apart."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsdesk.feeds.dedup import (
    DedupItem,
    DedupSettings,
    LshIndex,
    band_keys,
    cluster,
    shingles,
    signature,
    signature_bytes,
    signature_from_bytes,
    similarity,
)

LABELLED = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "dedup_labelled.jsonl"
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
SETTINGS = DedupSettings()

V4_LEAD = (
    "DeepSeek on Tuesday released V4, a mixture-of-experts model with 1.2 trillion total "
    "parameters, 52 billion of them active per token, and a context window of one million tokens. "
    "The weights are published under the MIT licence, and API prices drop by about 40% compared "
    "with V3.2. The Hangzhou lab says V4 matches leading closed models on coding and maths."
)


def sig(title: str, summary: str = "") -> tuple[int, ...]:
    return signature(shingles(title, summary), SETTINGS.num_perm)


def item(title: str, summary: str, feed: str, hours: float = 0.0) -> DedupItem:
    return DedupItem(title, summary, T0 + timedelta(hours=hours), feed)


def together(*items: DedupItem) -> bool:
    return len(set(cluster(items))) == 1


def test_syndicated_copy_with_reworded_headline_and_dateline_joins() -> None:
    original = item("DeepSeek releases V4 with 1M-token context", V4_LEAD, "techpress")
    wire = item(
        "China's DeepSeek launches V4, its largest open-weight model yet",
        f"HANGZHOU, Nov 3 (Global Wire) - {V4_LEAD}",
        "globalwire",
        hours=3,
    )
    assert together(original, wire)


def test_truncated_copy_with_exclusive_prefix_joins() -> None:
    original = item("DeepSeek releases V4 with 1M-token context", V4_LEAD, "techpress")
    cut = item("Exclusive: DeepSeek releases V4", V4_LEAD[:160] + "…", "newsletter", hours=5)
    assert together(original, cut)


def test_aggregator_copy_with_only_the_headline_joins() -> None:
    original = item("DeepSeek releases V4 with 1M-token context", V4_LEAD, "techpress")
    hn = item(
        "DeepSeek releases V4 with 1M-token context",
        "Article URL: https://techpress.example/deepseek-v4 Comments URL: "
        "https://news.ycombinator.example/item?id=45800123 Points: 412 # Comments: 230",
        "hn",
        hours=1,
    )
    assert together(original, hn)


def test_deepseek_v3_and_r1_releases_on_the_same_day_stay_apart() -> None:
    v3 = item(
        "DeepSeek releases V3, a 671B-parameter open model",
        "DeepSeek on Thursday released V3, a mixture-of-experts model with 671 billion "
        "parameters, 37 billion of them active per token, trained on 14.8 trillion tokens for "
        "about $5.6 million of compute. The weights are available under the MIT licence.",
        "techpress",
    )
    r1 = item(
        "DeepSeek releases R1, a reasoning model trained with reinforcement learning",
        "DeepSeek on Thursday released R1, a reasoning model built on V3 and trained with "
        "large-scale reinforcement learning, which it says matches OpenAI's o1 on maths and "
        "code benchmarks. Distilled versions from 1.5B to 70B parameters are also available.",
        "globalwire",
        hours=2,
    )
    assert similarity(sig(v3.title, v3.summary), sig(r1.title, r1.summary)) < SETTINGS.threshold
    assert not together(v3, r1)


def test_point_release_notes_stay_apart_even_from_different_feeds() -> None:
    v40 = (
        "DeepSeek-V4 v4.0",
        "DeepSeek-V4 is a mixture-of-experts model with 1.2T total and 52B activated parameters "
        "and a 1M-token context window. Weights in FP8 and BF16: DeepSeek-V4-Base, "
        "DeepSeek-V4-Chat. License: MIT. Reference inference code for vLLM and SGLang.",
    )
    v401 = (
        "DeepSeek-V4 v4.0.1",
        "Patch release for DeepSeek-V4. Weights are unchanged; update the inference code and "
        "configs. Fix RoPE scaling for prompts longer than 512K tokens. Reference inference "
        "code for vLLM and SGLang now defaults to FP8 attention kernels.",
    )
    assert similarity(sig(*v40), sig(*v401)) < SETTINGS.threshold
    assert not together(item(*v40, "deepseek-releases"), item(*v401, "mirror", hours=170))
    assert not together(item(*v40, "deepseek-releases"), item(*v401, "deepseek-releases", 160))


def test_full_articles_sharing_only_a_headline_stay_apart() -> None:
    vllm = item("v0.11.0", "vLLM v0.11.0. The V1 engine is now the default for all models.", "a")
    sglang = item("v0.11.0", "SGLang v0.11.0 adds data-parallel attention for MoE models.", "b")
    assert not together(vllm, sglang)


def test_same_feed_template_items_never_merge() -> None:
    text = (
        "Investigating - We are currently investigating elevated error rates on Claude Opus 5 "
        "affecting the API and claude.ai. We will provide an update within 30 minutes."
    )
    first = item("Elevated errors on Claude Opus 5", text, "anthropic-status")
    second = item("Elevated errors on Claude Opus 5", text, "anthropic-status", hours=70)
    assert similarity(sig(first.title, first.summary), sig(second.title, second.summary)) == 1.0
    assert not together(first, second)
    assert together(first, item(first.title, text, "", hours=70))  # no feed name: no rule


def test_copy_outside_the_window_does_not_join() -> None:
    original = item("DeepSeek releases V4 with 1M-token context", V4_LEAD, "techpress")
    within = item(original.title, V4_LEAD, "late-blog", hours=24 * 7)
    outside = item(original.title, V4_LEAD, "later-blog", hours=24 * 7 + 1)
    assert cluster([original, within]) == [0, 0]
    assert cluster([original, outside]) == [0, 1]


def test_chinese_copies_join_and_different_chinese_stories_stay_apart() -> None:
    lead = (
        "阿里云通义千问团队开源 Qwen4 系列模型，包含 6 个稠密模型与 2 个混合专家模型，"
        "参数规模从 6 亿到 4800 亿不等，全部采用 Apache 2.0 协议。"
        "新模型原生支持图像与音频输入，覆盖 130 种语言。"
    )
    release = item("通义千问 Qwen4 系列开源：覆盖 0.6B 至 480B", lead, "jiqi")
    copy = item(
        "阿里开源 Qwen4 全家桶：8 个模型，最大 4800 亿参数", "据机器之芯报道，" + lead, "liangzi", 2
    )
    departure = item(
        "通义千问团队一位技术负责人离职，据悉将加入字节跳动 Seed",
        "多位知情人士透露，阿里通义千问团队负责后训练的一位技术负责人已于近日离职，"
        "据悉将加入字节跳动 Seed 团队。阿里方面回应称，人员流动属正常现象，"
        "Qwen4 的研发与开源计划不受影响。",
        "xinzhi",
        hours=4,
    )
    assert cluster([release, copy, departure]) == [0, 0, 1]


def test_chinese_text_is_shingled_as_character_bigrams() -> None:
    assert shingles("深度求索", "") == frozenset({"^深度", "^度求", "^求索", "^深度求索"})


@pytest.mark.parametrize(
    ("title", "summary"),
    [("", ""), ("   ", "\n\t"), ("!!! — …", "?!"), ("", "Points: 3"), ("The", "")],
)
def test_empty_text_never_crashes_and_never_merges(title: str, summary: str) -> None:
    empty = sig(title, summary)
    assert similarity(empty, empty) == 0.0
    assert band_keys(empty, SETTINGS.bands) == []
    items = [item(title, summary, feed, hours=n) for n, feed in enumerate("abc")]
    assert cluster(items) == [0, 1, 2]


def test_empty_title_or_summary_alone_still_works() -> None:
    body_only = item("", V4_LEAD, "a")
    copy = item("", f"HANGZHOU, Nov 3 (Global Wire) - {V4_LEAD}", "b", hours=1)
    title_only = item("DeepSeek releases V4 with 1M-token context", "", "c", hours=2)
    assert cluster([body_only, copy, title_only]) == [0, 0, 1]


def test_signature_is_deterministic_across_processes() -> None:
    here = sig("DeepSeek releases V4 with 1M-token context", V4_LEAD)
    code = (
        "import sys; from newsdesk.feeds.dedup import shingles, signature; "
        "print(list(signature(shingles(sys.argv[1], sys.argv[2]))))"
    )
    for seed in ("1", "2"):  # str hashing is salted per process; the signature must not be
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code, "DeepSeek releases V4 with 1M-token context", V4_LEAD],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert tuple(json.loads(out)) == here


def test_band_keys_fit_signed_64_bit_and_differ_per_band() -> None:
    keys = band_keys(sig("DeepSeek releases V4 with 1M-token context", V4_LEAD), SETTINGS.bands)
    assert len(keys) == SETTINGS.bands
    assert all(0 <= key < 2**63 for key in keys)
    title_only = band_keys(sig("DeepSeek releases V4"), SETTINGS.bands)
    assert len(set(title_only)) == SETTINGS.bands  # equal halves, yet no two bands share a key


def test_signature_bytes_round_trip() -> None:
    original = sig("DeepSeek releases V4 with 1M-token context", V4_LEAD)
    data = signature_bytes(original)
    assert len(data) == 4 * SETTINGS.num_perm
    assert signature_from_bytes(data) == original
    with pytest.raises(ValueError, match="32-bit"):
        signature_from_bytes(data[:-1])


def test_similarity_estimates_jaccard() -> None:
    base = [f"word{n}" for n in range(100)]
    a = frozenset(base[:80])
    b = frozenset(base[20:])  # exact Jaccard 60 / 100
    assert abs(similarity(signature(a), signature(b)) - 0.6) < 0.15
    assert similarity(signature(a), signature(a)) == 1.0
    assert similarity(signature(a), signature(a, num_perm=64)) == 0.0  # shapes differ


def test_lsh_index_finds_an_identical_item_and_not_an_unrelated_one() -> None:
    index = LshIndex(SETTINGS)
    index.add("v4", sig("DeepSeek releases V4 with 1M-token context", V4_LEAD))
    index.add(
        "earnings",
        sig(
            "Nvidia posts record $61B data-centre quarter",
            "Nvidia reported third-quarter revenue of $71.2 billion on Wednesday, up 58% from "
            "a year earlier, with its data-centre business contributing a record $61 billion.",
        ),
    )
    assert index.candidates(sig("DeepSeek releases V4 with 1M-token context", V4_LEAD)) == {"v4"}
    assert "earnings" not in index.candidates(sig("DeepSeek unveils V4", V4_LEAD))
    index.discard("v4")
    assert index.candidates(sig("DeepSeek releases V4 with 1M-token context", V4_LEAD)) == set()
    assert len(index) == 1


def test_settings_reject_shapes_that_cannot_band() -> None:
    with pytest.raises(ValueError, match="bands"):
        DedupSettings(num_perm=128, bands=48)
    with pytest.raises(ValueError, match="num_perm"):
        DedupSettings(num_perm=63, bands=1)


def test_cluster_on_the_labelled_set_meets_the_precision_target() -> None:
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    rows.sort(key=lambda row: row["first_seen"])
    items = [
        DedupItem(
            row["title"],
            row["summary"],
            datetime.fromisoformat(row["first_seen"].replace("Z", "+00:00")),
            row["feed"],
        )
        for row in rows
    ]
    labels = cluster(items)
    tp = fp = fn = 0
    for (a, la), (b, lb) in itertools.combinations(zip(rows, labels, strict=True), 2):
        gold = a["story"] == b["story"]
        if gold and (a["lang"] != b["lang"] or "independent" in (a["variant"], b["variant"])):
            continue  # no shingle overlap to find; counted apart by benchmarks/dedup_eval.py
        tp += gold and la == lb
        fp += not gold and la == lb
        fn += gold and la != lb
    assert tp / (tp + fp) >= 0.98
    assert tp / (tp + fn) >= 0.85  # the target is 0.90; the margin is for retuning the data
