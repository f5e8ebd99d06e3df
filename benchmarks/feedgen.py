"""Feeds for the ingest benchmarks: generated RSS, the real snapshots, and a loopback server.

`generated_feeds` makes N RSS 2.0 feeds of M items each that look like AI-industry news (title,
link, guid, pubDate, author, category, a paragraph or two of HTML description), deterministically
from a seed. 3 % of the items have neither <guid> nor <link>, and 5 % repeat another feed's
story under their own link, as syndicated news does.

The words matter, because newsdesk's near-duplicate lookup costs what the candidates it finds
cost: text is drawn from a Zipf-weighted vocabulary (AI-industry words first, then 6,000 made-up
ones) around company and product names, and one headline in five follows the "<Company>
<launches> <Product>" pattern. Among unrelated items, 0.19 % of pairs then share an LSH band
(dedup's candidates), between the real snapshots' 0.007 % (unrelated sites) and the 0.36 % of
the different stories in benchmarks/data/dedup_labelled.jsonl (AI news, near misses on
purpose). A first draft with a small fixed vocabulary had 3.6 %, and measured little but the
candidate lookup.

`FeedServer` serves a set of feeds from memory on 127.0.0.1 with HTTP/1.1 keep-alive, ETag and
Last-Modified, answers If-None-Match (else If-Modified-Since) with 304, and counts what it
answered, so a benchmark can check that a second pass really was all 304s.
"""

from __future__ import annotations

import csv
import hashlib
import random
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-feeds"
# Where generated items' dates end; fixed so that runs on different days store the same rows.
GENERATED_UNTIL = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
LAST_MODIFIED = format_datetime(datetime(2025, 6, 2, 9, 0, tzinfo=UTC), usegmt=True)

_CONTENT_TYPES = {
    ".json": "application/feed+json",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".rdf": "application/rdf+xml",
}


@dataclass(frozen=True, slots=True)
class Document:
    """One feed as the server sends it."""

    body: bytes
    content_type: str


# --- the real snapshots --------------------------------------------------------------------


def real_feeds(corpus: Path = DEFAULT_CORPUS) -> dict[str, Document]:
    """Every snapshot index.tsv lists (broken ones and non-feeds included), by URL path.

    Content types follow the file extension, without a charset, so each document's own
    declaration decides its encoding, as it does for most servers.
    """
    with (corpus / "index.tsv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t")]
    feeds = {}
    for row in rows:
        if row["kind"] == "expected_output":
            continue
        path = corpus / row["path"]
        content_type = _CONTENT_TYPES.get(path.suffix, "application/xml")
        feeds[f"/real/{row['path']}"] = Document(path.read_bytes(), content_type)
    return feeds


# --- generated feeds -----------------------------------------------------------------------

_COMPANIES = (
    "OpenAI", "Anthropic", "Google DeepMind", "Meta", "Mistral AI", "Cohere", "xAI", "Nvidia",
    "Microsoft", "Hugging Face", "Stability AI", "AI21 Labs", "Databricks", "Perplexity",
    "Alibaba Cloud", "DeepSeek", "Moonshot AI", "Baidu", "Amazon", "Apple", "Samsung", "IBM",
    "Runway", "Midjourney", "Character.AI", "Inflection", "Scale AI", "Cerebras", "Groq",
    "SambaNova", "Adept", "Reka", "01.AI", "Zhipu AI", "Aleph Alpha", "Sakana AI",
)  # fmt: skip
_PRODUCTS = (
    "GPT-5", "Claude Opus", "Gemini Ultra", "Llama 4", "Mixtral", "Command R+", "Grok 3",
    "Qwen 3", "DeepSeek-V3", "Phi-4", "Sora", "Stable Diffusion 4", "Gen-4", "Kimi",
    "an open-weights reasoning model", "a coding agent", "a speech model", "a vision model",
    "an inference chip", "a small on-device model", "a long-context model", "a robotics model",
)  # fmt: skip
_ACTIONS = (
    "launches", "releases", "open-sources", "unveils", "previews", "delays", "expands access to",
    "cuts prices of", "benchmarks", "retires", "ships an update to", "details the training of",
)  # fmt: skip
_TOPICS = (
    "safety evaluations", "export controls", "GPU supply", "data-center power", "copyright",
    "the EU AI Act", "model licensing", "open weights", "agentic workflows", "inference costs",
    "synthetic data", "red-teaming", "interpretability", "context windows", "fine-tuning",
    "retrieval", "tool use", "multimodal input", "on-device inference", "watermarking",
    "energy use", "chip design", "hiring", "a funding round", "an acquisition", "a lawsuit",
)  # fmt: skip
_WORDS = (
    "model", "researchers", "company", "benchmark", "developers", "customers", "training",
    "compute", "release", "weights", "parameters", "tokens", "latency", "pricing", "users",
    "regulators", "lab", "startup", "cluster", "dataset", "evaluation", "performance", "agents",
    "partners", "version", "update", "results", "paper", "team", "engineers", "platform", "API",
    "enterprise", "open", "larger", "faster", "cheaper", "safer", "new", "previous", "internal",
    "public", "early", "limited", "global", "reported", "announced", "said", "expects", "plans",
    "claims", "shows", "improves", "reduces", "doubles", "matches", "beats", "trails", "adds",
    "removes", "tests", "measures", "according", "statement", "week", "quarter", "year", "today",
)  # fmt: skip
_AUTHORS = (
    "Ada Park", "Ben Okafor", "Chen Wei", "Dana Levi", "Eli Novak", "Fatima Haddad",
    "Gus Moreau", "Hana Sato", "Ivan Petrov", "Julia Costa", "Kofi Mensah", "Lena Vogel",
)  # fmt: skip


_FUNCTION_WORDS = (
    "the", "of", "and", "to", "in", "a", "for", "on", "with", "that", "is", "by", "as", "its",
    "from", "at", "will", "has", "than", "into",
)  # fmt: skip
_SYLLABLES = (
    "ka", "ri", "ton", "vel", "mor", "sa", "len", "qui", "dra", "pe", "lo", "nix", "ber", "ta",
    "gon", "fi", "ru", "stal", "ve", "mi", "cor", "an", "zel", "do", "par", "ith", "um", "tre",
)  # fmt: skip


def _vocabulary() -> tuple[list[str], list[float]]:
    """Content words by rank with Zipf cumulative weights: the AI-news words first, then 6,000
    made-up ones, so that unrelated items share words about as often as real news does."""
    rng = random.Random("vocabulary")
    known = (*_WORDS, *" ".join(_TOPICS).split())
    words = list(dict.fromkeys(w.lower() for w in known if w.lower() not in _FUNCTION_WORDS))
    made_up: dict[str, None] = {}
    while len(made_up) < 6000:
        made_up["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    words += [w for w in made_up if w not in words]
    total, cumulative = 0.0, []
    for rank in range(len(words)):
        total += 1 / (rank + 100) ** 1.05
        cumulative.append(total)
    return words, cumulative


_VOCABULARY, _CUMULATIVE = _vocabulary()


def _phrase(rng: random.Random, words: int) -> str:
    """`words` content words drawn by frequency, with function words between some of them."""
    out = []
    for word in rng.choices(_VOCABULARY, cum_weights=_CUMULATIVE, k=words):
        if rng.random() < 0.4:
            out.append(rng.choice(_FUNCTION_WORDS))
        out.append(word)
    return " ".join(out)


def _sentence(rng: random.Random, words: int) -> str:
    text = _phrase(rng, words)
    return text[0].upper() + text[1:] + "."


def _headline(rng: random.Random) -> tuple[str, str]:
    company = rng.choice(_COMPANIES)
    if rng.random() < 0.2:  # "<Company> launches <Product> ...": shared by unrelated stories
        headline = f"{company} {rng.choice(_ACTIONS)} {rng.choice(_PRODUCTS)}"
        headline += f" {rng.choice(_FUNCTION_WORDS[3:])} {_phrase(rng, rng.randint(2, 4))}"
    else:
        headline = f"{company} {_phrase(rng, rng.randint(5, 9))}"
    return headline, company


def _description(rng: random.Random, company: str, link: str | None) -> str:
    topic = _phrase(rng, 2)
    anchor = f'<a href="{link}">{topic}</a>' if link else topic
    first = (
        f"<p>{company} {rng.choice(('said', 'announced', 'confirmed'))} on"
        f" {rng.choice(('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'))} that"
        f" {_phrase(rng, rng.randint(10, 18))}, citing {anchor}."
        f" {_sentence(rng, rng.randint(8, 16))} <em>{_phrase(rng, 1)}</em>"
        f" {_sentence(rng, rng.randint(6, 14))}</p>"
    )
    if rng.random() < 0.6:
        first += (
            f"<p>{_sentence(rng, rng.randint(8, 14))}"
            f" <strong>{rng.choice(_PRODUCTS)}</strong> {_sentence(rng, rng.randint(6, 12))}</p>"
        )
    return first


def generate_feed(index: int, entries: int, seed: int = 0) -> bytes:
    """Feed number `index`: an RSS 2.0 channel of `entries` items, the same for the same seed."""
    rng = random.Random(f"{seed}:{index}")
    peer = random.Random(f"{seed}:{(index - 1) % 1_000_000}")  # the feed this one syndicates
    site = f"https://news{index:04d}.example.com"
    items = []
    for number in range(entries):
        headline, company = _headline(rng)
        moment = GENERATED_UNTIL - timedelta(hours=number * 3 + rng.random() * 3, days=index % 5)
        slug = "-".join(headline.lower().replace(".", "").split()[:8])
        link: str | None = f"{site}/{moment:%Y/%m/%d}/{slug}-{number}"
        guid: str | None = link
        permalink = "true"
        kind = rng.random()
        if kind < 0.03:  # neither guid nor link: identified by its text alone
            link = guid = None
        elif kind < 0.40:
            guid, permalink = f"urn:news{index:04d}:item:{number}", "false"
        description = _description(rng, company, link)
        if rng.random() < 0.05:  # another outlet's story, copied under our own link
            headline, company = _headline(peer)
            description = _description(peer, company, link)
        parts = [f"<title>{escape(headline)}</title>"]
        if link:
            parts.append(f"<link>{link}</link>")
        if guid:
            parts.append(f'<guid isPermaLink="{permalink}">{escape(guid)}</guid>')
        parts.append(f"<pubDate>{format_datetime(moment, usegmt=True)}</pubDate>")
        parts.append(f"<author>desk@news{index:04d}.example.com ({rng.choice(_AUTHORS)})</author>")
        parts.append(f"<category>{escape(rng.choice(_TOPICS))}</category>")
        parts.append(f"<description>{escape(description)}</description>")
        items.append("<item>" + "".join(parts) + "</item>\n")
    channel = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
        f"<title>AI Desk {index:04d}</title><link>{site}/</link>"
        f"<description>AI industry news, desk {index}</description><language>en</language>"
        f"<lastBuildDate>{format_datetime(GENERATED_UNTIL, usegmt=True)}</lastBuildDate>\n"
    )
    return (channel + "".join(items) + "</channel></rss>\n").encode("utf-8")


def generated_feeds(feeds: int, entries: int, seed: int = 0) -> dict[str, Document]:
    """`feeds` generated feeds of `entries` items each, by URL path."""
    return {
        f"/gen/{index:04d}.xml": Document(
            generate_feed(index, entries, seed), "application/rss+xml; charset=utf-8"
        )
        for index in range(feeds)
    }


# --- the server ----------------------------------------------------------------------------


class _Stats:
    """What the servers answered, shared by every address they listen on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answered: Counter[int] = Counter()
        self.bytes_sent = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        route = self.server.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self._answer(404, b"not found\n", [("Content-Type", "text/plain")])
            return
        document, etag = route
        validators = [("ETag", etag), ("Last-Modified", LAST_MODIFIED)]
        match = self.headers.get("If-None-Match")
        since = self.headers.get("If-Modified-Since")
        if (match is not None and etag in [t.strip() for t in match.split(",")]) or (
            match is None and since == LAST_MODIFIED
        ):
            self._answer(304, b"", validators)
        else:
            self._answer(200, document.body, [("Content-Type", document.content_type), *validators])

    def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        lines = [f"HTTP/1.1 {status} {self.responses[status][0]}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if status != 304:
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)  # one write: no Nagle/delayed-ACK stall on keep-alive
        stats = self.server.stats
        with stats.lock:
            stats.answered[status] += 1
            stats.bytes_sent += len(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a burst of connections must not overflow the listen backlog

    def __init__(self, host: str, routes: dict[str, tuple[Document, str]], stats: _Stats) -> None:
        super().__init__((host, 0), _Handler)
        self.routes = routes
        self.stats = stats


class FeedServer:
    """Serve `documents` (URL path -> Document) on a free loopback port, from threads.

    with FeedServer(docs) as server:
        urls = server.urls()
        ...
        server.answered  # Counter of HTTP statuses sent; server.reset() clears it

    With `hosts` > 1 the same documents are also served on 127.0.0.2, 127.0.0.3, … (Linux
    routes all of 127/8 to loopback) and `urls` spreads the feeds over them, as feeds on many
    sites are, so that a client's per-host limit applies as it would in the field.
    """

    def __init__(self, documents: Mapping[str, Document], hosts: int = 1) -> None:
        routes = {
            path: (doc, '"' + hashlib.sha1(doc.body).hexdigest() + '"')
            for path, doc in documents.items()
        }
        self._stats = _Stats()
        self._servers = [_Server(f"127.0.0.{n + 1}", routes, self._stats) for n in range(hosts)]
        self._threads = [
            threading.Thread(target=server.serve_forever, daemon=True) for server in self._servers
        ]
        self.bases = [
            f"http://{server.server_address[0]}:{server.server_address[1]}"
            for server in self._servers
        ]
        self.base = self.bases[0]

    def __enter__(self) -> FeedServer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()

    def urls(self) -> list[str]:
        paths = self._servers[0].routes
        return [self.bases[n % len(self.bases)] + path for n, path in enumerate(paths)]

    @property
    def answered(self) -> Counter[int]:
        with self._stats.lock:
            return Counter(self._stats.answered)

    @property
    def bytes_sent(self) -> int:
        return self._stats.bytes_sent

    def reset(self) -> None:
        with self._stats.lock:
            self._stats.answered.clear()
            self._stats.bytes_sent = 0


def bodies(documents: Mapping[str, Document]) -> Iterator[bytes]:
    return (doc.body for doc in documents.values())
