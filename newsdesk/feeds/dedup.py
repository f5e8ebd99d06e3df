"""Near-duplicate stories: the last dedup layer, for copies that share text but not a URL or hash.

Syndication rarely copies an item byte for byte. A wire copy adds a dateline, a newsletter cuts the
summary, an editor rewrites the headline and keeps the lead, and an aggregator (Hacker News,
Google News, Reddit) carries the headline alone. Each item is therefore reduced to a set of
shingles, sketched with MinHash, indexed with LSH banding so that candidates come from a few
dictionary (or SQLite index) lookups instead of a scan of the window, and joined to the most
similar candidate whose estimated Jaccard similarity reaches the threshold. Everything here is
pure and standard-library only; `store` keeps the same band keys in SQLite.

Precision comes first, and these choices serve it. Figures are pairwise, from
benchmarks/dedup_eval.py on the labelled set in benchmarks/data (341 items, English and Chinese):
precision 0.995, recall 0.906 with the defaults.

- Shingles are word bigrams after dropping English function words, and character bigrams inside
  CJK runs (Chinese has no spaces). Bigrams let one differing word ("V3" vs "R1", "rise" vs
  "fall") break two shingles while a stray "the" breaks none. Version strings stay one token
  ("v4.0.1", "3.5"), so a point release does not share them with its predecessor. Tried on the
  labelled set: unigrams (an entity's name alone pulls stories together: precision 0.956 at
  this recall, 0.994 only with recall 0.88), trigrams (one edit breaks three shingles: precision
  1.0 but recall 0.84-0.88), and extra weight for digits (numbers two different stories share,
  "Gemini 3.5 Flash" and "Gemini 3.5 Pro", pull them together more than differing numbers push
  them apart).
- The text is the title plus the start of the summary (`lead_chars`): truncated copies keep the
  start, so a long tail would only dilute the overlap between a full copy and a cut one.
- An aggregator's copy has no text of its own, and its headline is a small part of the
  original's shingles, so plain Jaccard can never join them (one sketch of title and lead:
  recall 0.55). A signature is therefore two MinHash sketches with the same hash functions: one
  of the title's shingles and one of all the shingles. `similarity` compares the full sketches,
  unless either item is title-only (its two sketches are then equal), in which case it compares
  the title sketches. Two items with text are never joined by their titles alone: one headline
  over two different leads is a different story ("v0.11.0" from two repositories) more often
  than a copy. The whole headline is one more title shingle, so that a verbatim headline counts
  for more than two headlines that merely share a name ("… Claude Opus 5").
- Known aggregator boilerplate (Hacker News' "Article URL … Points", Reddit's "submitted by") and
  bare URLs are not text; a lead that adds almost nothing to its title counts as no lead.
- Items from the same feed never join by similarity: a feed does not syndicate itself, while its
  own template-like items (status incidents, release notes, monthly threads) are the likeliest
  false matches. Without the rule, status incidents merge and precision falls to 0.987, for
  0.013 more recall (a feed re-posting its own story under a new GUID, with no other feed's
  copy to join through). The store applies the same rule; `cluster` skips it for items with no
  feed name.

What is left: headline-only copies whose headline was reworded (nothing to match), and reports
in the other language or another outlet's own article about the event, which share no text.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import sys
import unicodedata
from array import array
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "DedupItem",
    "DedupSettings",
    "LshIndex",
    "band_keys",
    "cluster",
    "shingles",
    "signature",
    "signature_bytes",
    "signature_from_bytes",
    "similarity",
]


NUM_PERM = 128  # the default signature length, shared by `signature` and `DedupSettings`


@dataclass(frozen=True, slots=True)
class DedupSettings:
    """How near-duplicates are found; the defaults are tuned on the labelled set."""

    window_days: int = 7  # only items first seen within this window are candidates
    # Estimated Jaccard of the compared sketches at or above which an item joins. On the labelled
    # set the most similar different stories from different feeds are two automated market
    # blurbs on one template (0.29 exact), then headlines sharing a product name (0.25); the
    # median copy is at 0.56. Precision / recall: 0.2 gave 0.910 / 0.926, 0.25 and 0.3 gave
    # 0.995 / 0.906, 0.35 gave 1.0 / 0.874. 0.3 keeps the margin on the precision side.
    threshold: float = 0.3
    # Hash values per signature: half for the title sketch, half for the full sketch. 64 per
    # sketch keeps the standard error of an estimate at 0.3 near 0.057 (with 32, precision fell
    # to 0.955). Costs what 64-value MinHash does: both sketches share the hash functions.
    num_perm: int = NUM_PERM
    # LSH bands, half over each sketch: 32 bands of 2 rows find a pair at Jaccard 0.3 with
    # probability 0.95 and one at 0.05 with 0.08. Rows of 4 would find only 12% of pairs at 0.3
    # (64 values in 16 bands: recall 0.685). A stored item has one key per band.
    bands: int = 64

    def __post_init__(self) -> None:
        if self.num_perm <= 0 or self.num_perm % 2:
            raise ValueError("num_perm must be a positive even number (two equal sketches)")
        if self.bands <= 0 or self.bands % 2 or (self.num_perm // 2) % (self.bands // 2):
            raise ValueError("bands must be even and num_perm / 2 divisible by bands / 2")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if self.window_days < 0:
            raise ValueError("window_days must not be negative")


@dataclass(frozen=True, slots=True)
class DedupItem:
    """What `cluster` needs of an item; `feed` empty means "unknown", never "the same feed"."""

    title: str
    summary: str
    first_seen: datetime
    feed: str = ""


# --- shingles ---------------------------------------------------------------------------------

TITLE_MARK = "^"  # prefixes title shingles; tokens never contain punctuation, so no clash
LEAD_CHARS = 300
# A lead that adds fewer new shingles than this to its title is the title again (Google News
# repeats the headline and source name) or a scrap of boilerplate, not an article's text.
_MIN_LEAD_SHINGLES = 5
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_CJK_RUN = re.compile(f"[{_CJK}]+")
# A token is a run of letters and digits; "4.0.1", "1,000" and "v3.5" stay whole so that
# versions and amounts are compared as written.
_TOKEN = re.compile(r"[^\W_]+(?:[.,]\d[^\W_]*)*")
_BOILERPLATE = re.compile(
    r"article url:\s*\S+\s*comments url:\s*\S+\s*points:\s*\d+\s*#\s*comments:\s*\d+"
    r"|submitted by\s+/?u/\S+(?:\s*\[link\])?(?:\s*\[comments\])?"
    r"|https?://\S+",
    re.IGNORECASE,
)
# Function words carry no topic; dropping them before pairing words makes bigrams of content
# words, so "the company said" and "company said" agree. English only: CJK uses characters.
_STOPWORD_TEXT = (
    "a an and are as at be been but by for from has had have he her his in into is it its of on "
    "or our over s said says she than that the their them they this to was we were which who "
    "will with after about also"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def shingles(title: str, summary: str, lead_chars: int = LEAD_CHARS) -> frozenset[str]:
    """The pieces of text whose overlap says "same article".

    Title shingles carry `TITLE_MARK` so that `signature` can sketch the title on its own; the
    same pair of words in the lead is also kept unmarked. Empty text gives an empty set.
    """
    title = title if isinstance(title, str) else ""
    title_grams = _grams(title)
    lead_grams: set[str] = set()
    if isinstance(summary, str) and summary:
        lead_grams = _grams(_lead(summary, lead_chars))
        if len(lead_grams - title_grams) < _MIN_LEAD_SHINGLES:
            lead_grams = set()
    marked = {TITLE_MARK + gram for gram in title_grams}
    if len(title_grams) > 1:
        # The whole headline as one more shingle: an aggregator's verbatim copy gains a match,
        # while two headlines that only share a name ("… Claude Opus 5") each gain a mismatch.
        marked.add(TITLE_MARK + "|".join(_headline_words(title)))
    return frozenset(marked | lead_grams)


def _headline_words(title: str) -> list[str]:
    return [t for t in _TOKEN.findall(_normalize(title)) if t not in _STOPWORDS]


def _lead(summary: str, lead_chars: int) -> str:
    if lead_chars <= 0:
        return ""
    lead = _BOILERPLATE.sub(" ", summary)
    if len(lead) <= lead_chars:
        return lead
    head = lead[:lead_chars]
    # Half a Latin word is a token the full copy does not have. (CJK has no words to keep whole.)
    if _in_word(head[-1]) and _in_word(lead[lead_chars]):
        space = head.rfind(" ")
        if space > lead_chars // 2:
            head = head[:space]
    return head


def _in_word(char: str) -> bool:
    return char.isalnum() and not _CJK_RUN.match(char)


def _normalize(text: str) -> str:
    if text.isascii():  # most feed text: NFKC changes nothing
        return text.lower()
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _grams(text: str) -> set[str]:
    grams: set[str] = set()
    words: list[str] = []
    for token in _TOKEN.findall(_normalize(text)):
        if token.isascii() or not _CJK_RUN.search(token):
            if token not in _STOPWORDS:
                words.append(token)
            continue
        start = 0
        for run in _CJK_RUN.finditer(token):
            if run.start() > start:
                words.append(token[start : run.start()])
            _word_grams(words, grams)
            words = []
            chars = run.group()
            grams.update(chars[i : i + 2] for i in range(max(1, len(chars) - 1)))
            start = run.end()
        if start < len(token):
            words.append(token[start:])
    _word_grams(words, grams)
    return grams


def _word_grams(words: list[str], grams: set[str]) -> None:
    if len(words) == 1:
        grams.add(words[0])
    else:
        grams.update(f"{a} {b}" for a, b in itertools.pairwise(words))


# --- MinHash ----------------------------------------------------------------------------------

_MAX = 0xFFFFFFFF  # no shingle: the value a sketch of the empty set holds at every position
_TYPECODE = next(code for code in "IL" if array(code).itemsize == 4)
_BIG_ENDIAN = sys.byteorder == "big"


def _words(data: bytes) -> array:
    """Read hash output as little-endian 32-bit words, so signatures agree across machines."""
    values = array(_TYPECODE, data)
    if _BIG_ENDIAN:
        values.byteswap()
    return values


def signature(shingle_set: frozenset[str], num_perm: int = NUM_PERM) -> tuple[int, ...]:
    """MinHash sketches of the title shingles and of all shingles, in that order.

    Both halves use the same `num_perm / 2` hash functions, taken from one SHAKE-128 digest per
    shingle (never Python's salted `hash()`), so that an item with no text of its own has equal
    halves, which is how `similarity` recognises it. The element-wise minimum runs in C.
    The empty set gets all `0xFFFFFFFF`, which `similarity` and `band_keys` treat as no match.
    """
    half = num_perm // 2
    width = 4 * half
    title_rows: list[bytes] = []
    lead_rows: list[bytes] = []
    for shingle in shingle_set:
        if shingle.startswith(TITLE_MARK):
            data = shingle[1:].encode("utf-8", "surrogatepass")
            title_rows.append(hashlib.shake_128(data).digest(width))
        else:
            lead_rows.append(
                hashlib.shake_128(shingle.encode("utf-8", "surrogatepass")).digest(width)
            )
    title = _column_min(title_rows, half)
    if not lead_rows:
        return (*title, *title)
    lead = _column_min(lead_rows, half)
    return (*title, *map(min, title, lead))


def _column_min(rows: list[bytes], half: int) -> list[int]:
    if not rows:
        return [_MAX] * half
    values = _words(b"".join(rows))
    return [min(values[j::half]) for j in range(half)]


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity: the fraction of equal positions in the sketches compared.

    The full-text sketches are compared, unless either item is title-only (equal halves): then
    the title sketches, since a headline is all the evidence such an item has. Empty items, and
    signatures of different lengths, match nothing.
    """
    if len(a) != len(b):
        return 0.0
    return _compare(_Sketches.of(a), _Sketches.of(b))


@dataclass(frozen=True, slots=True)
class _Sketches:
    """A signature split once and packed, so that comparing it with many candidates is cheap.

    Each sketch is one big integer, its 32-bit values side by side. The XOR of two sketches is
    zero exactly in the words where they agree, and `_zero_words` counts those with a few
    big-integer operations in C. (A tuple of 64 int objects, compared one by one, cost several
    times more, and more again once the window's sketches no longer fit in the CPU cache.)
    """

    title: int
    full: int
    words: int  # hash values per sketch
    title_only: bool
    empty: bool

    @staticmethod
    def of(sig: tuple[int, ...]) -> _Sketches:
        half = len(sig) // 2
        if half == 0 or len(sig) % 2:
            return _Sketches(0, 0, 0, False, True)
        raw = signature_bytes(sig)
        title, full = raw[: 4 * half], raw[4 * half :]
        return _Sketches(
            int.from_bytes(title, "little"),
            int.from_bytes(full, "little"),
            half,
            title == full,
            full == b"\xff" * (4 * half),
        )


def _compare(a: _Sketches, b: _Sketches) -> float:
    if a.empty or b.empty or a.words != b.words:
        return 0.0
    differ = a.title ^ b.title if a.title_only or b.title_only else a.full ^ b.full
    return _zero_words(differ, a.words) / a.words


def _zero_words(value: int, words: int) -> int:
    """How many of `value`'s 32-bit words are zero, without splitting it into words.

    Adding 0x7FFFFFFF to a word's low 31 bits sets its top bit unless they were all zero, and
    cannot carry into the next word; OR-ing in the word's own top bit leaves the top bit clear
    only in zero words. Invert, and count the set bits.
    """
    low_bits, every_bit = _word_masks(words)
    return (((value & low_bits) + low_bits | value | low_bits) ^ every_bit).bit_count()


@functools.cache
def _word_masks(words: int) -> tuple[int, int]:
    return int.from_bytes(b"\xff\xff\xff\x7f" * words, "little"), (1 << (32 * words)) - 1


# --- LSH --------------------------------------------------------------------------------------

_P61 = (1 << 61) - 1  # a Mersenne prime: keys below it fit SQLite's signed 64-bit INTEGER
_BAND_OFFSET = 0x9E3779B97F4A7C15  # odd and irregular, so each band index moves keys apart


def band_keys(sig: tuple[int, ...], bands: int) -> list[int]:
    """One key per band: equal keys mean "candidate pair". Non-negative, below 2**61.

    A band's rows, read as one little-endian integer, plus an offset per band index (so that
    band 3 of one item does not meet band 5 of another), folded modulo 2**61 - 1. No hashing
    library is needed because the rows are already hash values. Bands with no shingle behind
    them (an empty title, an empty item) get no key: they would put every such item in one bucket.
    The first half of the bands cover the title sketch, the rest the full sketch.
    """
    title_keys, full_keys = _half_keys(sig, bands)
    return title_keys + full_keys


def _half_keys(sig: tuple[int, ...], bands: int) -> tuple[list[int], list[int]]:
    size = len(sig)
    if not sig or bands <= 0 or size % bands:
        return [], []
    rows = size // bands
    empty = (1 << (32 * rows)) - 1
    keys = [
        (value + offset) % _P61 if value != empty else -1
        for value, offset in zip(_band_values(sig, rows), _offsets(bands), strict=True)
    ]
    middle = bands // 2
    return (
        [key for key in keys[:middle] if key >= 0],
        [key for key in keys[middle:] if key >= 0],
    )


def _band_values(sig: tuple[int, ...], rows: int) -> Sequence[int]:
    if rows == 1:
        return sig
    raw = signature_bytes(sig)
    if rows == 2 and _WIDE:  # the default shape: one C-level pass instead of a Python loop
        values = array("Q", raw)
        if _BIG_ENDIAN:
            values.byteswap()
        return values
    step = 4 * rows
    return [int.from_bytes(raw[at : at + step], "little") for at in range(0, len(raw), step)]


@functools.cache
def _offsets(bands: int) -> tuple[int, ...]:
    return tuple((band + 1) * _BAND_OFFSET for band in range(bands))


_WIDE = array("Q").itemsize == 8


def signature_bytes(sig: tuple[int, ...]) -> bytes:
    """4 bytes per hash value, little-endian: a 128-value signature is 512 bytes in SQLite."""
    values = array(_TYPECODE, sig)
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tobytes()


def signature_from_bytes(data: bytes) -> tuple[int, ...]:
    """The inverse of `signature_bytes`; a damaged blob (length not a multiple of 4) raises."""
    if len(data) % 4:
        raise ValueError(f"a signature is whole 32-bit words, got {len(data)} bytes")
    return tuple(_words(data))


class LshIndex:
    """In-memory candidate index; the store keeps the same band keys in SQLite.

    Candidates are the items that share a band of the sketch `similarity` would compare: the
    full sketch between two items with text, the title sketch when either is title-only. A
    headline bigram shared by two full articles ("DeepSeek V4" all week) is not a reason to
    compare them; skipping those collisions saves one comparison in seven in the benchmark.
    """

    def __init__(self, settings: DedupSettings) -> None:
        self.bands = settings.bands
        # Band key -> the item, or a list of items when several share it. Almost every bucket
        # holds one item, and a window's worth of one-item lists would cost more memory (and
        # cache misses) than everything else here. Keys are hashable, so never lists.
        self._text_items: dict[int, Any] = {}  # title and full bands of items with text
        self._title_only: dict[int, Any] = {}  # title bands of title-only items
        self._entries: dict[Hashable, tuple[dict[int, Any], list[int]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, key: Hashable, sig: tuple[int, ...]) -> None:
        self._insert(key, *self._keys(sig))

    def discard(self, key: Hashable) -> None:
        """Forget an item, e.g. one that has left the window, so buckets stay small."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        buckets, keys = entry
        emptied = list(map(buckets.pop, keys))  # in C; almost every bucket held only this item
        if list in set(map(type, emptied)):
            for band_key, bucket in zip(keys, emptied, strict=True):
                if type(bucket) is list:
                    bucket.remove(key)
                    buckets[band_key] = bucket if len(bucket) > 1 else bucket[0]

    def candidates(self, sig: tuple[int, ...]) -> set[Hashable]:
        return self._lookup(*self._keys(sig))

    def _keys(self, sig: tuple[int, ...]) -> tuple[list[int], list[int], bool]:
        title_keys, full_keys = _half_keys(sig, self.bands)
        sketches = _Sketches.of(sig)
        return title_keys, full_keys, sketches.title_only and not sketches.empty

    def _insert(
        self,
        key: Hashable,
        title_keys: list[int],
        full_keys: list[int],
        title_only: bool,
        removable: bool = True,
    ) -> None:
        """`removable=False` (for `cluster`, which drops whole indexes) skips the bookkeeping
        that `discard` needs: a list of 64 keys per item, the largest thing kept per item."""
        if key in self._entries:
            self.discard(key)
        if title_only:
            buckets, keys = self._title_only, title_keys
        else:
            buckets, keys = self._text_items, title_keys + full_keys
        if removable:
            self._entries[key] = (buckets, keys)
        if not any(map(buckets.__contains__, keys)):  # the common case, in C
            buckets.update(zip(keys, itertools.repeat(key)))
            return
        for band_key in keys:
            bucket = buckets.get(band_key, _NOTHING)
            if bucket is _NOTHING:
                buckets[band_key] = key
            elif type(bucket) is list:
                if key not in bucket:  # two bands of one item share a key only by accident
                    bucket.append(key)
            elif bucket != key:
                buckets[band_key] = [bucket, key]

    def _lookup(
        self, title_keys: list[int], full_keys: list[int], title_only: bool
    ) -> set[Hashable]:
        found: set[Hashable] = set()
        text_keys = title_keys if title_only else full_keys
        for buckets, keys in ((self._title_only, title_keys), (self._text_items, text_keys)):
            for band_key in buckets.keys() & keys:  # the few keys that hit, found in C
                bucket = buckets[band_key]
                if type(bucket) is list:
                    found.update(bucket)
                else:
                    found.add(bucket)
        return found


_NOTHING: Any = object()
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)


def _seconds(moment: datetime) -> float:
    """Seconds since 1970 on the time line `moment` lives on (aware or naive), as subtraction
    would count them: naive times are not shifted by the local time zone's DST."""
    return (moment - (_EPOCH if moment.tzinfo is None else _EPOCH_UTC)).total_seconds()


# `cluster` drops its index a generation at a time; more generations hold fewer stale items
# but cost one more lookup each.
_GENERATIONS_PER_WINDOW = 2


def cluster(items: Sequence[DedupItem], settings: DedupSettings = DedupSettings()) -> list[int]:
    """A cluster id (0, 1, 2, … in order of first appearance) for each item, in arrival order.

    This is what the store does one item at a time: join the cluster of the most similar earlier
    candidate from another feed within the window (earliest on ties), else start a new one.
    Arrival order is assumed to follow first-seen time, as it does in the store.

    The index comes in generations of half a window. Once every item of the oldest is out of
    the window, it is dropped whole, which costs far less than evicting items one by one (64
    scattered dictionary entries each). The work per item so depends on the window's size, not
    on the history's; the few items of the oldest generation already out of the window are
    skipped by the window check, as the store's query skips them.
    """
    window = timedelta(days=settings.window_days)
    span = window / _GENERATIONS_PER_WINDOW
    window_seconds = window.total_seconds()
    threshold = settings.threshold
    words = settings.num_perm // 2
    # Generations of the index, oldest first: (index, first position, first-seen time opening it).
    generations: deque[tuple[LshIndex, int, datetime]] = deque()
    # Per item still in a generation: feed, first seen (seconds), title and full sketches,
    # title-only. Plain values, because the loop over candidates is where the time goes.
    known: dict[int, tuple[str, float, int, int, bool]] = {}
    labels: list[int] = []
    clusters = 0
    for position, item in enumerate(items):
        sig = signature(shingles(item.title, item.summary), settings.num_perm)
        mine = _Sketches.of(sig)
        seen, feed = item.first_seen, item.feed
        at = _seconds(seen)
        if not generations or seen - generations[-1][2] > span:
            generations.append((LshIndex(settings), position, seen))
            # A generation ends where the next begins; once that is over a window ago, every
            # item in it is out of the window for this item and all later ones.
            while len(generations) > 1 and seen - generations[1][2] > window:
                _, first, _ = generations.popleft()
                for gone in range(first, generations[0][1]):
                    del known[gone]
        title_keys, full_keys = _half_keys(sig, settings.bands)
        title_only = mine.title_only and not mine.empty
        found: set[Hashable] = set()
        for index, _, _ in generations:
            found |= index._lookup(title_keys, full_keys, title_only)
        best, best_score = -1, threshold
        for other in found:  # `_compare`, inlined; an empty item has no band keys to be found by
            other_feed, other_at, other_title, other_full, other_title_only = known[other]
            if (feed and feed == other_feed) or abs(at - other_at) > window_seconds:
                continue
            if title_only or other_title_only:
                score = _zero_words(mine.title ^ other_title, words) / words
            else:
                score = _zero_words(mine.full ^ other_full, words) / words
            if score > best_score or (score == best_score and (best < 0 or other < best)):
                best, best_score = other, score
        if best < 0:
            labels.append(clusters)
            clusters += 1
        else:
            labels.append(labels[best])
        generations[-1][0]._insert(position, title_keys, full_keys, title_only, removable=False)
        known[position] = (feed, at, mine.title, mine.full, title_only)
    return labels
