"""Canonical URLs, clean text and fingerprints: the keys that deduplication compares."""

from __future__ import annotations

import hashlib
import random
import re

import pytest

from newsdesk.feeds import canonical
from newsdesk.feeds.canonical import (
    TRACKING_PARAMS,
    canonical_url,
    clean_text,
    content_hash,
    url_host,
)

# --- canonical_url ----------------------------------------------------------------------------

SAME_ARTICLE = [
    # case, whitespace, ports
    pytest.param(
        "HTTPS://Example.COM/a", None, "https://example.com/a", id="lowercases-scheme-host"
    ),
    pytest.param("http://a.com/Case/Path", None, "http://a.com/Case/Path", id="keeps-path-case"),
    pytest.param("  http://a.com/x \n", None, "http://a.com/x", id="strips-whitespace"),
    pytest.param("http://a.com:80/x", None, "http://a.com/x", id="drops-port-80-on-http"),
    pytest.param("https://a.com:443/x", None, "https://a.com/x", id="drops-port-443-on-https"),
    pytest.param("http://a.com:0080/x", None, "http://a.com/x", id="port-leading-zeros"),
    pytest.param("http://a.com:8080/x", None, "http://a.com:8080/x", id="keeps-other-port"),
    pytest.param("https://a.com:80/x", None, "https://a.com:80/x", id="keeps-80-on-https"),
    pytest.param("http://a.com:/x", None, "http://a.com/x", id="empty-port"),
    # fragment, userinfo, path
    pytest.param("http://a.com/x#comments", None, "http://a.com/x", id="drops-fragment"),
    pytest.param("http://user:pw@a.com/x", None, "http://a.com/x", id="drops-userinfo"),
    pytest.param("http://a.com", None, "http://a.com/", id="empty-path-is-slash"),
    pytest.param("http://a.com/a/./b/../c", None, "http://a.com/a/c", id="removes-dot-segments"),
    pytest.param("http://a.com/a/b/..", None, "http://a.com/a/", id="trailing-dotdot-is-dir"),
    pytest.param("http://a.com/../../x", None, "http://a.com/x", id="dotdot-above-root"),
    pytest.param("http://a.com/a//b", None, "http://a.com/a//b", id="keeps-empty-segments"),
    # percent-encoding
    pytest.param("http://a.com/caf%c3%a9", None, "http://a.com/caf%C3%A9", id="uppercases-hex"),
    pytest.param("http://a.com/%7Euser/%41", None, "http://a.com/~user/A", id="decodes-unreserved"),
    pytest.param("http://a.com/a%2Fb", None, "http://a.com/a%2Fb", id="keeps-encoded-slash"),
    pytest.param("http://a.com/%2E%2E/x", None, "http://a.com/x", id="encoded-dots-are-dots"),
    pytest.param("http://a.com/café", None, "http://a.com/caf%C3%A9", id="encodes-non-ascii"),
    pytest.param("http://a.com/a b", None, "http://a.com/a%20b", id="encodes-space"),
    pytest.param("http://a.com/100%", None, "http://a.com/100%25", id="stray-percent"),
    # query
    pytest.param("http://a.com/?utm_source=x&id=1", None, "http://a.com/?id=1", id="drops-utm"),
    pytest.param("http://a.com/?UTM_Source=x&id=1", None, "http://a.com/?id=1", id="utm-any-case"),
    pytest.param("http://a.com/?utm%5Fmedium=x&id=1", None, "http://a.com/?id=1", id="utm-encoded"),
    pytest.param(
        "http://a.com/?fbclid=1&gclid=2&dclid=3&msclkid=4&mc_cid=5&mc_eid=6&_hsenc=7&_hsmi=8"
        "&igshid=9&yclid=10&ref_src=11&id=1",
        None,
        "http://a.com/?id=1",
        id="drops-click-ids",
    ),
    pytest.param(
        "http://a.com/x?ref=rss&referrer=home", None, "http://a.com/x?referrer=home", id="ref-only"
    ),
    pytest.param("http://a.com/x?utm_source=rss&ref=x", None, "http://a.com/x", id="only-tracking"),
    pytest.param("http://a.com/?b=2&a=1&c=0", None, "http://a.com/?a=1&b=2&c=0", id="sorts-keys"),
    pytest.param("http://a.com/?a=2&a=1", None, "http://a.com/?a=1&a=2", id="sorts-values"),
    pytest.param("http://a.com/?b=1&a=", None, "http://a.com/?a=&b=1", id="keeps-blank-value"),
    pytest.param("http://a.com/?flag&a=1", None, "http://a.com/?a=1&flag", id="keeps-bare-key"),
    pytest.param("http://a.com/x?", None, "http://a.com/x", id="drops-empty-query"),
    pytest.param("http://a.com/?&a=1&&", None, "http://a.com/?a=1", id="drops-empty-params"),
    # precision: these stay distinct sites
    pytest.param("http://a.com/x", None, "http://a.com/x", id="keeps-http"),
    pytest.param("https://www.a.com/x", None, "https://www.a.com/x", id="keeps-www"),
    # hosts
    pytest.param("http://Bücher.example/", None, "http://xn--bcher-kva.example/", id="idna"),
    pytest.param("http://faß.de/", None, "http://xn--fa-hia.de/", id="idna-2008-sharp-s"),
    pytest.param("http://ＥＸＡＭＰＬＥ.com/", None, "http://example.com/", id="full-width-host"),
    pytest.param("http://a..ü/", None, "http://a..ü/", id="idna-failure-kept"),
    pytest.param("http://[::1]:8080/x", None, "http://[::1]:8080/x", id="ipv6-with-port"),
    pytest.param("http://[0:0::1]:80/", None, "http://[::1]/", id="ipv6-compressed"),
    # relative links in feeds
    pytest.param("../img/a.png", "http://a.com/b/c/d.html", "http://a.com/b/img/a.png", id="rel"),
    pytest.param("/x?b=1&a=2", "https://a.com/feed", "https://a.com/x?a=2&b=1", id="root-rel"),
    pytest.param("//cdn.b.com/x", "https://a.com/feed", "https://cdn.b.com/x", id="proto-rel"),
    pytest.param("?page=2", "http://a.com/list?page=1#top", "http://a.com/list?page=2", id="query"),
    pytest.param("HTTP://B.com/x", "https://a.com/", "http://b.com/x", id="absolute-ignores-base"),
    pytest.param("http://a.com/x", "not a base", "http://a.com/x", id="garbage-base-unused"),
]


@pytest.mark.parametrize(("url", "base", "expected"), SAME_ARTICLE)
def test_canonical_url_gives_one_spelling_per_article(
    url: str, base: str | None, expected: str
) -> None:
    assert canonical_url(url, base) == expected


@pytest.mark.parametrize(("url", "base", "expected"), SAME_ARTICLE)
def test_canonical_url_is_idempotent(url: str, base: str | None, expected: str) -> None:
    assert canonical_url(expected) == expected


@pytest.mark.parametrize(
    ("url", "base"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("", "http://a.com/", id="empty"),
        pytest.param("   ", None, id="blank"),
        pytest.param("javascript:alert(1)", "http://a.com/", id="javascript"),
        pytest.param("mailto:news@a.com", None, id="mailto"),
        pytest.param("data:text/html,<p>hi</p>", None, id="data"),
        pytest.param("ftp://a.com/x", None, id="ftp"),
        pytest.param("not a url", None, id="words"),
        pytest.param("www.a.com/x", None, id="no-scheme-no-base"),
        pytest.param("//a.com/x", None, id="protocol-relative-no-base"),
        pytest.param("/x", "mailto:a@b.c", id="relative-to-non-web-base"),
        pytest.param("http://", None, id="no-host"),
        pytest.param("http://:80/x", None, id="port-without-host"),
        pytest.param("http://a.com:99999/", None, id="port-out-of-range"),
        pytest.param("http://a.com:http/", None, id="port-not-a-number"),
        pytest.param("http://[::1/", None, id="unclosed-ipv6"),
        pytest.param("http://exa mple.com/", None, id="space-in-host"),
        pytest.param("http://a.com\\@b.com/", None, id="backslash-in-authority"),
        pytest.param("http://a.com/\ud800", None, id="lone-surrogate"),
        pytest.param("http://a.com/" + "a" * 2048, None, id="over-2048-chars"),
    ],
)
def test_canonical_url_returns_none_for_non_web_links(url: str | None, base: str | None) -> None:
    assert canonical_url(url, base) is None


def test_canonical_url_keeps_a_url_of_exactly_the_length_limit() -> None:
    url = "http://a.com/" + "a" * (2048 - len("http://a.com/"))
    assert canonical_url(url) == url


def test_tracking_params_are_a_public_frozenset() -> None:
    assert isinstance(TRACKING_PARAMS, frozenset)
    assert {"fbclid", "gclid", "ref", "yclid"} <= TRACKING_PARAMS
    assert "referrer" not in TRACKING_PARAMS


def test_canonical_url_never_raises_and_is_idempotent_on_random_input() -> None:
    pieces = ["http://", "HTTPS://", "//", "[", "]", "::1", ":", "@", "#", "?", "&", "=", "%"]
    pieces += ["%2", "%7e", "%C3", "/", ".", "..", "\\", " ", "\n", "é", "ß", "中", "\u200b"]
    pieces += ["\ud800", "a", "B", "0", "utm_x", "ref", "a.com", "xn--", "javascript:", "443"]
    rng = random.Random(2024)
    for _ in range(2000):
        url = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        base = rng.choice([None, "http://a.com/x/y", "mailto:x", url[::-1]])
        result = canonical_url(url, base)
        assert result is None or canonical_url(result) == result, (url, base)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        pytest.param("HTTPS://WWW.Example.com:8443/x", "www.example.com", id="lowercased-no-port"),
        pytest.param("http://user@a.com/", "a.com", id="no-userinfo"),
        pytest.param("http://Bücher.example/", "xn--bcher-kva.example", id="punycode"),
        pytest.param("http://[::1]:8080/x", "::1", id="ipv6-without-brackets"),
        pytest.param("mailto:a@b.com", None, id="not-web"),
        pytest.param("/relative", None, id="relative"),
        pytest.param(None, None, id="none"),
    ],
)
def test_url_host_is_the_canonical_host(url: str | None, host: str | None) -> None:
    assert url_host(url) == host


# --- clean_text -------------------------------------------------------------------------------

CLEANED = [
    pytest.param(None, "", id="none"),
    pytest.param("", "", id="empty"),
    pytest.param("OpenAI raises $40B, says CEO.", "OpenAI raises $40B, says CEO.", id="plain"),
    pytest.param("<b>Open</b>AI <a href='/x'>link</a>", "OpenAI link", id="inline-tags-glue"),
    pytest.param("<p>one</p><p>two</p>", "one two", id="paragraphs-separate"),
    pytest.param("one<br>two<br/>three", "one two three", id="br-separates"),
    pytest.param("<ul><li>a</li><li>b</li></ul>", "a b", id="list-items-separate"),
    pytest.param("<h1>Title</h1>Body<blockquote>q</blockquote>", "Title Body q", id="headings"),
    pytest.param("<table><tr><td>a</td><td>b</td></tr></table>", "a b", id="table-cells"),
    pytest.param("a<script>var s = '<p>x</p>';</script>b", "ab", id="drops-script"),
    pytest.param("a<style>p { color: red }</style>b", "ab", id="drops-style"),
    pytest.param("a<noscript>enable js</noscript>b", "ab", id="drops-noscript"),
    pytest.param("a<template><p>t</p></template>b", "ab", id="drops-template"),
    pytest.param("a<iframe src='x'>fallback</iframe>b", "ab", id="drops-iframe"),
    pytest.param("a<svg><text>logo</text></svg>b", "ab", id="drops-svg"),
    pytest.param("a<svg/>b", "ab", id="self-closing-svg"),
    pytest.param("a<!-- hidden -->b", "ab", id="drops-comment"),
    pytest.param("Caf&eacute; &amp; bar &#8217;&#x2019;", "Café & bar ’’", id="entities"),
    pytest.param("a&amp;nbsp;b", "a b", id="double-escaped-nbsp"),
    pytest.param("It&amp;#8217;s", "It’s", id="double-escaped-numeric"),
    pytest.param("&amp;amp;amp;", "&amp;", id="decodes-at-most-twice"),
    pytest.param("&lt;p&gt;Hi&lt;/p&gt; there", "Hi there", id="escaped-markup"),
    pytest.param("The &lt;think&gt; block", "The <think> block", id="escaped-non-html-kept"),
    pytest.param("A &lt;think/&gt; tag", "A <think/> tag", id="escaped-self-closing-kept"),
    pytest.param("&lt;!-- note --&gt;text", "text", id="escaped-comment"),
    pytest.param("if x < y and 3 <5", "if x < y and 3 <5", id="less-than-kept"),
    pytest.param("AT&T and R&D", "AT&T and R&D", id="bare-ampersand-kept"),
    pytest.param("<p>unclosed <b>bold", "unclosed bold", id="unclosed-tags"),
    pytest.param("<<<", "<<<", id="only-brackets"),
    pytest.param('<a href="x', "", id="truncated-tag-only"),
    pytest.param('Read more <a href="http://ex', "Read more", id="truncated-tag-at-end"),
    pytest.param("before<script>var x", "before", id="unclosed-script"),
    pytest.param("a<!-- never closed", "a", id="unclosed-comment"),
    pytest.param("<![CDATA[kept text]]>", "kept text", id="cdata-section"),
    pytest.param("<![bogus[x]]> after", "after", id="bogus-marked-section"),
    pytest.param("  a \n\n\t b  ", "a b", id="folds-whitespace"),
    pytest.param("a\u00a0b\u3000c\u2028d", "a b c d", id="unicode-spaces"),
    pytest.param("zero\u200bwidth\u200c\u200d\ufeff", "zerowidth", id="zero-width"),
    pytest.param("a\x00b\x07c\x85d", "a b c d", id="control-chars"),
    pytest.param("中文新闻<br>第二段", "中文新闻 第二段", id="cjk"),
]


@pytest.mark.parametrize(("text", "expected"), CLEANED)
def test_clean_text_gives_the_words_a_reader_sees(text: str | None, expected: str) -> None:
    assert clean_text(text) == expected


TRUNCATED = [
    pytest.param("The quick brown fox jumps", 20, "The quick brown fox…", id="word-boundary"),
    pytest.param("The quick brown fox", 19, "The quick brown fox", id="exact-fit"),
    pytest.param("The quick brown fox jumps", 10, "The quick…", id="drops-partial-word"),
    pytest.param("中文新闻" * 100, 10, "中文新闻中文新闻中…", id="cjk-at-cap"),
    pytest.param("OpenAI 发布了新的模型", 12, "OpenAI 发布了新…", id="mixed-cjk"),
    pytest.param("Supercalifragilistic expialidocious", 12, "Supercalifr…", id="long-word"),
    pytest.param("<p>abc</p>", 3, "abc", id="markup-not-counted"),
    pytest.param("abc", 1, "…", id="cap-one"),
    pytest.param("abc", 0, "", id="cap-zero"),
]


@pytest.mark.parametrize(("text", "max_chars", "expected"), TRUNCATED)
def test_clean_text_caps_length_at_a_word_boundary(
    text: str, max_chars: int, expected: str
) -> None:
    assert clean_text(text, max_chars) == expected


@pytest.mark.parametrize("max_chars", [1, 2, 5, 17, 40, 99, 100])
def test_clean_text_never_exceeds_the_cap_including_the_ellipsis(max_chars: int) -> None:
    text = "<p>Lorem ipsum dolor sit amet, <b>consectetur</b> adipiscing 中文新闻 elit.</p>" * 3
    result = clean_text(text, max_chars)
    assert len(result) <= max_chars
    assert result.endswith("…")


def test_clean_text_skips_the_html_parser_for_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parser(*args: object) -> None:
        raise AssertionError("plain text must not be parsed as HTML")

    monkeypatch.setattr(canonical, "_TextExtractor", no_parser)
    assert clean_text("Plain   summary,\nno markup.") == "Plain summary, no markup."


@pytest.mark.timeout(2)
@pytest.mark.parametrize("unit", ["<a", "</", "<!--x>", "<![CDATA[x>", "&lt;a"])
def test_clean_text_stays_linear_on_unterminated_markup(unit: str) -> None:
    # Unpatched CPython 3.11 HTMLParser alone needs about 5 s for 60 kB of `<a` (gh-135462).
    assert len(clean_text(unit * (60_000 // len(unit)))) <= 1000


def test_clean_text_never_raises_on_random_markup() -> None:
    pieces = ["<", ">", "</", "<p>", "<script>", "</script>", "<!--", "-->", "<![", "]]>", "&"]
    pieces += ["&amp;", "&lt;", "&#", "x;", "a", "中", " ", "\u200b", "\xa0", "<b>", '"', "\x00"]
    rng = random.Random(2024)
    for _ in range(1000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 20)))
        max_chars = rng.randint(0, 30)
        result = clean_text(text, max_chars)
        assert len(result) <= max_chars, text
        assert result == result.strip() and "  " not in result, text


# --- content_hash -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param(("OpenAI raises $40B!", ""), ("openai raises 40b", ""), id="punct-and-case"),
        pytest.param(("A  title", "Some\n text."), ("A title", "Some text"), id="whitespace"),
        pytest.param(("ＯｐｅｎＡＩ ２０２５", "x"), ("OpenAI 2025", "x"), id="full-width-nfkc"),
        pytest.param(("“Quoted” — title…", "x"), ('"Quoted" - title...', "x"), id="typography"),
        pytest.param(
            ("中文新闻：发布！", "摘要。"), ("中文新闻发布", "摘要"), id="cjk-punctuation"
        ),
        pytest.param(("Straße", "x"), ("STRASSE", "x"), id="casefold"),
    ],
)
def test_content_hash_matches_verbatim_copies(one: tuple[str, str], other: tuple[str, str]) -> None:
    assert content_hash(*one) == content_hash(*other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param(("Title", "First summary"), ("Title", "Second summary"), id="summaries"),
        pytest.param(("Title A", "Same"), ("Title B", "Same"), id="titles"),
        pytest.param(("中文新闻", "发布"), ("中文新闻", "撤回"), id="cjk-text"),
        pytest.param(("ab", "c"), ("a", "bc"), id="title-summary-boundary"),
        pytest.param(("का", "x"), ("कि", "x"), id="indic-vowel-signs"),
        pytest.param(("GPT 4", "x"), ("GPT 5", "x"), id="digits"),
    ],
)
def test_content_hash_tells_different_text_apart(
    one: tuple[str, str], other: tuple[str, str]
) -> None:
    assert content_hash(*one) != content_hash(*other)


def test_content_hash_is_16_hex_chars_of_sha1_over_normalized_text() -> None:
    expected = hashlib.sha1(b"openairaises40b\nsayscfo").hexdigest()[:16]
    digest = content_hash("OpenAI raises $40B!", "Says CFO.")
    assert re.fullmatch(r"[0-9a-f]{16}", digest)
    assert digest == expected
