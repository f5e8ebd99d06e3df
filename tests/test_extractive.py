"""The extractive summary: the first sentences of the story's own text, without furniture."""

from __future__ import annotations

import pytest

from newsdesk.summarizer.extractive import extractive_summary, sentences, strip_links


def test_takes_whole_sentences_while_they_fit():
    text = (
        "Meta opened a research lab in Paris with 50 researchers. It will work on reasoning. "
        "Hiring starts in January and runs through the spring."
    )
    assert extractive_summary("Meta opens Paris lab", text, 100).text == (
        "Meta opened a research lab in Paris with 50 researchers. It will work on reasoning."
    )


def test_a_first_sentence_longer_than_the_cap_is_cut_at_a_word():
    summary = extractive_summary("T", "word " * 200, 60).text
    assert len(summary) <= 60 and summary.endswith("…") and "wor…" not in summary


def test_chinese_text_splits_on_chinese_punctuation():
    text = "深度求索发布了V4模型。该模型支持百万上下文！是否开源？"
    assert sentences(text) == ["深度求索发布了V4模型。", "该模型支持百万上下文！", "是否开源？"]
    assert (
        extractive_summary("标题", text, 25).text == "深度求索发布了V4模型。该模型支持百万上下文！"
    )


def test_abbreviations_and_initials_do_not_end_a_sentence():
    assert sentences("The U.S. agency met Dr. Lee and J. Smith on Monday. Then it rained.") == [
        "The U.S. agency met Dr. Lee and J. Smith on Monday.",
        "Then it rained.",
    ]


def test_a_summary_that_starts_with_the_title_does_not_repeat_it():
    summary = extractive_summary("Qwen4 released", "Qwen4 released. It has 1T parameters.")
    assert summary.text == "It has 1T parameters."


@pytest.mark.parametrize(
    "text",
    [
        "Article URL: https://a.example/x Comments URL: https://b.example/y Points: 812"
        " # Comments: 455",
        "Title",
        "",
    ],
)
def test_text_with_nothing_beyond_the_title_and_furniture_gives_no_summary(text):
    assert extractive_summary("Title", text).text == ""


def test_furniture_is_removed():
    text = (
        "arXiv:2411.01234v1 Announce Type: new Abstract: We train a small model. It reasons. "
        "The post A small model appeared first on Preprints Weekly. Continue reading…"
    )
    assert extractive_summary("A small model", text).text == "We train a small model. It reasons."


def test_links_never_reach_a_summary_but_their_words_do():
    text = (
        "See [the paper](https://evil.example/x), <https://evil.example/y|the code> and "
        "https://evil.example/z or www.evil.example/w for details."
    )
    summary = extractive_summary("T", text).text
    assert "evil" not in summary and "http" not in summary
    assert summary.startswith("See the paper, the code and")


def test_strip_links_keeps_ordinary_text():
    assert (
        strip_links("Nvidia's H200 (up 40%) ships <soon>.")
        == "Nvidia's H200 (up 40%) ships <soon>."
    )
