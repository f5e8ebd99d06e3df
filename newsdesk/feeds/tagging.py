"""Tags from rules: a TOML taxonomy of keyword, phrase, regex and alias rules, compiled once.

Every item of every ingest is tagged, tens of thousands a week, so a taxonomy is compiled into
two scanners (one for case-insensitive terms, one for terms whose case matters) that find every
term of every tag in one pass over the item's text, whatever the number of tags. A scanner is a
regular expression built as a prefix tree of the terms (one for terms that start a word, one
for CJK terms, which Latin text never needs): at every position it gives the longest term found
there, and the shorter terms that end inside that one are worked out when the taxonomy is
loaded. Per tag, what is left is set arithmetic (any / all / none / except) and, only when
those leave the answer open, its regexes. About 70-85 µs an item of 350 characters on a small
VM; `benchmarks/tag_eval.py` measures it.

Text is normalized once per item, the same way the terms were: NFKC (full-width letters and
digits become ASCII), hyphens and dashes become spaces (so "open-source" is "open source" and
"DeepSeek-V4" is "DeepSeek V4"), runs of white space become one space, then case folding.
Latin terms match whole words only ("AI" is not in "said", "Meta" is not in "metadata"); CJK
text has no spaces, so a CJK edge of a term matches anywhere, and a Latin word glued to Chinese
text ("开源Seed-Agent") still counts as a whole word.

The rules are pure data: the taxonomy file format is documented at the top of the shipped
`newsdesk/taxonomy.toml`, and `load_taxonomy(None)` reads that file.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from newsdesk.config import ConfigError, describe_error

__all__ = [
    "Tag",
    "Taxonomy",
    "TaxonomyError",
    "load_taxonomy",
    "normalize_text",
    "taxonomy_from_dict",
]

MAX_TERM_CHARS = 100  # the scanner nests one regex group per character of a term

# Scripts written without spaces between words: a term edge in one of them needs no boundary,
# and a letter of one of them next to a Latin term does not join that term's word.
_CJK = (
    "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
)
# A character that continues a Latin-script word: a letter, digit or underscore, not CJK.
_WORD = f"[^\\W{_CJK}]"
_WORD_CHAR = re.compile(_WORD)
_DASHES = re.compile("[\u2010-\u2015\u2212]")  # ASCII '-' is replaced on its own
_QUOTES = re.compile("[\u2018\u2019\u02bc]")
_FULL_WIDTH = re.compile("[\uff01-\uff5e]")  # what NFKC maps to ASCII; CJK text is full of them
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FEW_FIRST_CHARS = 12  # see _Scanner._build
_END = ""  # the trie key marking "a term ends here"; real keys are single characters


@dataclass(frozen=True, slots=True)
class Tag:
    """What the store, the digest and the chat commands show for a tag."""

    name: str
    label: str
    emoji: str
    priority: int


class TaxonomyError(ConfigError, ValueError):
    """A taxonomy that cannot be used; `problems` holds one `key.path: what is wrong` each."""

    kind = "taxonomy"


# --- normalization ----------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case-fold without changing the length, so positions in the folded text and in the
    case-kept text are the same and `except` spans found in one apply to hits in the other.
    Only a few characters (German ß, some ligatures) fold to two; those keep their lower case."""
    if text.isascii():
        return text.lower()
    folded = text.casefold()
    if len(folded) == len(text):
        return folded
    return "".join(_fold_char(ch) for ch in text)


def _fold_char(ch: str) -> str:
    folded = ch.casefold()
    if len(folded) == 1:
        return folded
    lowered = ch.lower()
    return lowered if len(lowered) == 1 else ch


def _nfkc(text: str) -> str:
    """Exactly NFKC, but about four times faster on Chinese text: its full-width punctuation
    defeats `normalize`'s quick check, so map those first and normalize only what is left."""
    if text.isascii():
        return text
    text = _FULL_WIDTH.sub(_half_width, text)
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def _half_width(match: re.Match[str]) -> str:
    return chr(ord(match.group()) - 0xFEE0)


def _spell(text: str) -> str:
    """From NFKC text: one kind of apostrophe, hyphens and dashes as spaces, single spaces;
    the spelling that terms and text share."""
    if not text.isascii():
        text = _DASHES.sub(" ", _QUOTES.sub("'", text))
    text = text.replace("-", " ")
    # Feed text arrives cleaned (canonical.clean_text), so usually there is nothing to fold.
    if "  " in text or not text.isprintable() or text[:1] == " " or text[-1:] == " ":
        text = " ".join(text.split())
    return text


def normalize_text(text: str) -> str:
    """The spelling that case-insensitive terms are matched against; shown for debugging rules."""
    return _fold(_spell(_nfkc(text)))


# --- the file format --------------------------------------------------------------------------


def _check_term(term: str) -> str:
    if not _spell(_nfkc(term)).rstrip("*").strip():
        raise ValueError("must contain a word, not only spaces, hyphens or '*'")
    if "*" in term.rstrip("*") or term.endswith("**"):
        raise ValueError("'*' may only end a term (\"Qwen*\" matches Qwen3, Qwen-VL ...)")
    if len(term) > MAX_TERM_CHARS:
        raise ValueError(f"is longer than {MAX_TERM_CHARS} characters; use a regex")
    return term


def _check_regex(pattern: str) -> str:
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    if compiled.search("") is not None:
        raise ValueError("matches empty text, so it would tag every item")
    return pattern


def _check_slug(name: str) -> str:
    if not _SLUG.fullmatch(name):
        raise ValueError("must be a lower-case slug such as 'model-release'")
    return name


def _as_group(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return value
    raise ValueError("must be a term or a list of terms")


Term = Annotated[str, AfterValidator(_check_term)]
Regex = Annotated[str, AfterValidator(_check_regex)]
Slug = Annotated[str, AfterValidator(_check_slug)]
TermGroup = Annotated[list[Term], BeforeValidator(_as_group), Field(min_length=1)]


class _Spec(BaseModel):
    # strict, like the config: TOML has types, so 60 written as "60" is a mistake to report.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _TagSpec(_Spec):
    name: Slug
    label: Annotated[str, Field(min_length=1)]
    emoji: str = ""
    priority: int = 0
    any: list[Term] = []
    aliases: list[Term] = []
    cased: list[Term] = []
    regex: list[Regex] = []
    all: list[TermGroup] = []
    none: list[Term] = []
    except_: list[Term] = Field(default=[], alias="except")
    implies: list[Slug] = []


class _TaxonomySpec(_Spec):
    tags: list[_TagSpec]


def _cross_check(raw: dict[str, Any]) -> list[str]:
    """Problems that span tags, found on the raw data so they are reported with shape errors."""
    tags = raw.get("tags")
    if not isinstance(tags, list):
        return []
    problems: list[str] = []
    first: dict[str, int] = {}
    for index, spec in enumerate(tags):
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            problems.append(
                f"tags[{index}].name: duplicate tag name {name!r} (first at tags[{first[name]}])"
            )
        else:
            first[name] = index
    for index, spec in enumerate(tags):
        implies = spec.get("implies") if isinstance(spec, dict) else None
        if not isinstance(implies, list):
            continue
        for position, other in enumerate(implies):
            if isinstance(other, str) and other not in first:
                problems.append(f"tags[{index}].implies[{position}]: no tag named {other!r}")
    return problems


# --- the scanner ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Term:
    text: str  # spelled (and folded unless cased)
    bounded: bool  # must end at a word end; False for terms written with a trailing '*'


def _compile_term(raw: str, cased: bool) -> _Term:
    bounded = not raw.endswith("*")
    text = _spell(_nfkc(raw.rstrip("*")))
    return _Term(text if cased else _fold(text), bounded)


def _needs_boundary(ch: str) -> bool:
    return _WORD_CHAR.fullmatch(ch) is not None


class _Scanner:
    """All terms of one case mode. `find` runs the regexes; `ids` turns what they found into
    every term that occurs (a term that is a prefix of a longer one found at the same place
    included); `spans` gives positions, which only `except` needs.

    Terms that start with a Latin letter or digit can only start where a word starts, so they
    share one regex that checks that, then branches on the first character. The other terms
    (CJK, punctuation) get a second regex, which pure-ASCII text skips when none of them starts
    with an ASCII character. Whether a term ends where a word ends is checked in Python on the
    one character after a match, not in the regex: a check at each of hundreds of term ends
    made the regex take a second to compile."""

    __slots__ = ("_always", "_implied", "_open", "_open_ascii", "_word_end", "_words")

    def __init__(self, terms: list[_Term], first_id: int) -> None:
        # Terms sharing a spelling (bounded or not) share a trie end; ids are first_id + index.
        by_text: dict[str, list[tuple[int, bool]]] = {}
        for index, term in enumerate(terms):
            by_text.setdefault(term.text, []).append((first_id + index, term.bounded))
        # For each spelling a match can have: (id, length, valid only at a word end) of it and
        # of the terms that are its prefixes and would have matched at the same place.
        self._implied = {text: _prefix_terms(text, by_text) for text in by_text}
        self._always = {
            text: frozenset(i for i, _, at_end in implied if not at_end)
            for text, implied in self._implied.items()
        }
        self._word_end = {
            text: frozenset(i for i, _, at_end in implied if at_end)
            for text, implied in self._implied.items()
            if any(at_end for _, _, at_end in implied)
        }
        words = [text for text in by_text if _needs_boundary(text[0])]
        others = [text for text in by_text if not _needs_boundary(text[0])]
        self._words = _trie_regex(words, guarded=True)
        self._open = _trie_regex(others, guarded=False)
        self._open_ascii = any(text[0].isascii() for text in others)

    def find(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of the longest term at each position where one starts."""
        found: list[tuple[int, int]] = []
        if self._words is not None:
            found += [(m.start(), m.end(m.lastindex or 0)) for m in self._words.finditer(text)]
        if self._open is not None and (self._open_ascii or not text.isascii()):
            found += [(m.start(), m.end(m.lastindex or 0)) for m in self._open.finditer(text)]
        return found

    def ids(self, text: str, found: list[tuple[int, int]]) -> set[int]:
        """Every term id that occurs, including those implied by a longer term's match."""
        out: set[int] = set()
        always, word_end = self._always, self._word_end
        for start, end in found:
            key = text[start:end]
            out.update(always[key])
            at_end = word_end.get(key)
            if at_end is not None:
                char = text[end : end + 1]  # inlined _continues_word: this runs per match
                if not (char.isalnum() or char == "_") or (
                    not char.isascii() and _WORD_CHAR.match(char) is None
                ):
                    out.update(at_end)
        return out

    def spans(self, text: str, found: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
        """(start, end, term id) of every occurrence; only `except` needs positions."""
        spans = []
        for start, end in found:
            inside_word = _continues_word(text, end)
            for term_id, length, at_end in self._implied[text[start:end]]:
                if not (at_end and inside_word):
                    spans.append((start, start + length, term_id))
        return spans


def _continues_word(text: str, end: int) -> bool:
    """Whether the character at `end` would make a Latin word longer (so no term ends there)."""
    char = text[end : end + 1]
    if not char or not (char.isalnum() or char == "_"):
        return False
    return char.isascii() or _WORD_CHAR.match(char) is not None


def _prefix_terms(
    text: str, by_text: dict[str, list[tuple[int, bool]]]
) -> tuple[tuple[int, int, bool], ...]:
    """(id, length, valid only at a word end) for `text` and each term that is a prefix of it
    and ends where a word may end inside `text`."""
    found: list[tuple[int, int, bool]] = []
    for length in range(1, len(text) + 1):
        for term_id, bounded in by_text.get(text[:length], ()):
            needs_end = bounded and _needs_boundary(text[length - 1])
            if length == len(text):
                found.append((term_id, length, needs_end))
            elif not needs_end or not _needs_boundary(text[length]):
                found.append((term_id, length, False))
    return tuple(found)


def _trie_regex(texts: list[str], guarded: bool) -> re.Pattern[str] | None:
    """One regex for `texts`, a prefix tree so that shared beginnings are read once.

    Each match consumes one character, so finditer resumes at the next position and finds
    terms that start inside a longer one; the rest of the term is read by a lookahead group,
    which tries longer terms first. `guarded` patterns only start where a word starts. That
    check costs about 25 ns wherever it runs: with few first characters it goes after the
    first one, where the engine's first-character skip keeps it rare; when terms start with
    most letters, checking it first is cheaper."""
    if not texts:
        return None
    trie: dict[str, Any] = {}
    for text in texts:
        node = trie
        for ch in text:
            node = node.setdefault(ch, {})
        node[_END] = True
    inside = guarded and len(trie) <= _FEW_FIRST_CHARS
    branches = [
        re.escape(ch)
        + (f"(?<!{_WORD}{re.escape(ch)})" if inside and _needs_boundary(ch) else "")
        + f"(?=({_trie_body(trie[ch])}))"
        for ch in sorted(trie)
    ]
    lead = f"(?<!{_WORD})" if guarded and not inside else ""
    return re.compile(lead + "(?:" + "|".join(branches) + ")")


def _trie_body(node: dict[str, Any]) -> str:
    alternatives = [re.escape(ch) + _trie_body(child) for ch, child in sorted(node.items()) if ch]
    if _END in node:
        alternatives.append("")  # last, so that the longest term at a position wins
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"


# --- the taxonomy -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    positive: frozenset[int]  # any + aliases + cased
    regexes: tuple[re.Pattern[str], ...]
    patterns: tuple[str, ...]  # the regexes as written, for explain()
    groups: tuple[frozenset[int], ...]  # all: each group must have a hit
    negative: frozenset[int]  # none
    masks: frozenset[int]  # except
    own: frozenset[int]  # every term id of this tag, which `except` may mask

    def regex_hit(self, display: str) -> bool:
        return any(regex.search(display) for regex in self.regexes)


def _unmasked(
    hits: set[int], spans: list[tuple[int, int, int]], masks: frozenset[int], own: frozenset[int]
) -> set[int]:
    """The hits left once this tag's terms found inside its `except` phrases are discarded."""
    covers = [(start, end) for start, end, term_id in spans if term_id in masks]
    kept = {term_id for term_id in hits if term_id not in own}
    for start, end, term_id in spans:
        if term_id in kept or term_id not in own or term_id in masks:
            continue
        if not any(c_start <= start and end <= c_end for c_start, c_end in covers):
            kept.add(term_id)
    return kept


class Taxonomy:
    """A compiled taxonomy: which tags exist, how to show them, and which fit a story.

    Build one with `load_taxonomy` or `taxonomy_from_dict`, which validate first; it is
    immutable and safe to share between tasks."""

    __slots__ = (
        "_by_name",
        "_cased",
        "_folded",
        "_implies",
        "_order",
        "_rules",
        "_spelling",
        "source",
        "tags",
    )

    def __init__(self, specs: list[_TagSpec], source: str = "<taxonomy>") -> None:
        self.source = source
        self.tags: tuple[Tag, ...] = tuple(
            Tag(spec.name, spec.label, spec.emoji, spec.priority) for spec in specs
        )
        self._by_name = {tag.name: tag for tag in self.tags}
        self._order = {tag.name: (-tag.priority, index) for index, tag in enumerate(self.tags)}
        # Every distinct term gets one id: case-insensitive terms first, then the cased ones.
        folded: dict[_Term, int] = {}
        cased: dict[_Term, int] = {}
        for spec in specs:
            for raw in chain(spec.any, spec.aliases, *spec.all, spec.none, spec.except_):
                folded.setdefault(_compile_term(raw, cased=False), len(folded))
            for raw in spec.cased:
                cased.setdefault(_compile_term(raw, cased=True), len(cased))
        offset = len(folded)
        self._spelling: dict[int, str] = {}  # the first way the file spells each term
        for spec in specs:
            for raw in chain(spec.any, spec.aliases, *spec.all, spec.none, spec.except_):
                self._spelling.setdefault(folded[_compile_term(raw, cased=False)], raw)
            for raw in spec.cased:
                self._spelling.setdefault(offset + cased[_compile_term(raw, cased=True)], raw)

        def ids(terms: Iterable[str], is_cased: bool = False) -> frozenset[int]:
            if is_cased:
                return frozenset(offset + cased[_compile_term(raw, cased=True)] for raw in terms)
            return frozenset(folded[_compile_term(raw, cased=False)] for raw in terms)

        rules = []
        for spec in specs:
            positive = ids(spec.any) | ids(spec.aliases) | ids(spec.cased, is_cased=True)
            groups = tuple(ids(group) for group in spec.all)
            negative = ids(spec.none)
            rules.append(
                _Rule(
                    name=spec.name,
                    positive=positive,
                    # Searched one by one: an alternation of them would lose the engine's
                    # first-character skip that a regex starting with a literal gets.
                    regexes=tuple(re.compile(rx, re.IGNORECASE) for rx in spec.regex),
                    patterns=tuple(spec.regex),
                    groups=groups,
                    negative=negative,
                    masks=ids(spec.except_),
                    own=positive.union(negative, *groups),
                )
            )
        self._rules = tuple(rules)
        self._folded = _Scanner(list(folded), 0)
        self._cased = _Scanner(list(cased), offset)
        self._implies = _closure({spec.name: spec.implies for spec in specs})

    def __repr__(self) -> str:
        return f"Taxonomy({self.source!r}, {len(self.tags)} tags)"

    def get(self, name: str) -> Tag | None:
        """Display data for a tag name; None for names the taxonomy does not define (feed tags)."""
        return self._by_name.get(name)

    def rank(self, names: Iterable[str]) -> list[Tag]:
        """A story's known tags in display order: highest priority first, ties in file order.
        The first one is the tag a digest groups the story under."""
        known = [self._by_name[name] for name in set(names) if name in self._by_name]
        return sorted(known, key=lambda tag: self._order[tag.name])

    def tag(self, title: str, summary: str, feed_tags: Iterable[str] = ()) -> frozenset[str]:
        """The tags whose rules match the item, their `implies`, and the feed's own tags.

        Feed tags are added as given (empty names are skipped): they are the admin's word about
        the whole feed, so neither the rules nor `none` remove them."""
        found: set[str] = set()
        for rule, _ in self._match(title, summary)[0]:
            found.add(rule.name)
            found.update(self._implies.get(rule.name, ()))
        found.update(name for name in feed_tags if name)
        return frozenset(found)

    def explain(
        self, title: str, summary: str, feed_tags: Iterable[str] = ()
    ) -> dict[str, list[str]]:
        """Why each tag was given: the terms as the taxonomy spells them, the regexes that
        matched, `implied by <tag>`, or `feed tag`. For admins tuning rules, not for ingest."""
        matched, display = self._match(title, summary)
        why: dict[str, list[str]] = {}
        for rule, seen in matched:
            evidence = rule.positive.union(*rule.groups) & seen
            reasons = [self._spelling[term_id] for term_id in sorted(evidence)]
            if rule.positive.isdisjoint(seen):
                reasons += [
                    f"regex {pattern}"
                    for pattern in rule.patterns
                    if re.search(pattern, display, re.I)
                ]
            why.setdefault(rule.name, []).extend(reasons)
        for rule, _ in matched:
            for other in sorted(self._implies.get(rule.name, ())):
                why.setdefault(other, []).append(f"implied by {rule.name}")
        for name in feed_tags:
            if name:
                why.setdefault(name, []).append("feed tag")
        return why

    def _match(self, title: str, summary: str) -> tuple[list[tuple[_Rule, set[int]]], str]:
        """The rules that match, each with the term ids it saw; and the text regexes read."""
        title, summary = _nfkc(title or ""), _nfkc(summary or "")
        spelled = _spell(title) + "\n" + _spell(summary)  # "\n": no phrase spans the two
        folded = _fold(spelled)  # same length as `spelled`, so positions agree
        in_folded = self._folded.find(folded)
        in_cased = self._cased.find(spelled)
        hits = self._folded.ids(folded, in_folded) | self._cased.ids(spelled, in_cased)
        spans: list[tuple[int, int, int]] | None = None
        display = title + "\n" + summary  # what regexes read
        matched: list[tuple[_Rule, set[int]]] = []
        # One loop, cheapest exits first: most tags fail on their first set test.
        for rule in self._rules:
            seen = hits
            if rule.masks and not rule.masks.isdisjoint(hits):
                if spans is None:
                    spans = self._folded.spans(folded, in_folded)
                    spans += self._cased.spans(spelled, in_cased)
                seen = _unmasked(hits, spans, rule.masks, rule.own)
            term_hit = not rule.positive.isdisjoint(seen)
            if not term_hit and not rule.regexes and (rule.positive or not rule.groups):
                continue  # no evidence; or no rules at all, which only feeds give
            if not rule.negative.isdisjoint(seen):
                continue
            if any(group.isdisjoint(seen) for group in rule.groups):
                continue
            if not term_hit and rule.regexes and not rule.regex_hit(display):
                continue  # the costliest test, so the last
            matched.append((rule, seen))
        return matched, display


def _closure(implies: dict[str, list[str]]) -> dict[str, frozenset[str]]:
    """Each tag's implied tags, followed through chains (a implies b implies c), cycles allowed."""
    result: dict[str, frozenset[str]] = {}
    for name in implies:
        seen: set[str] = set()
        todo = list(implies[name])
        while todo:
            other = todo.pop()
            if other not in seen:
                seen.add(other)
                todo.extend(implies.get(other, ()))
        seen.discard(name)
        if seen:
            result[name] = frozenset(seen)
    return result


def taxonomy_from_dict(raw: dict[str, Any], source: str = "<taxonomy>") -> Taxonomy:
    """Validate already-parsed TOML and compile it; raise TaxonomyError listing every problem."""
    problems: list[str] = []
    spec: _TaxonomySpec | None = None
    try:
        spec = _TaxonomySpec.model_validate(raw)
    except ValidationError as exc:
        problems.extend(describe_error(error) for error in exc.errors())
    problems.extend(_cross_check(raw) if isinstance(raw, dict) else [])
    if problems or spec is None:
        raise TaxonomyError(source, problems)
    return Taxonomy(spec.tags, source=source)


def load_taxonomy(path: str | os.PathLike[str] | None = None) -> Taxonomy:
    """Read a taxonomy file; with no path, the AI-industry taxonomy shipped with newsdesk."""
    if path is None:
        resource = importlib.resources.files("newsdesk").joinpath("taxonomy.toml")
        source, text = "newsdesk/taxonomy.toml", resource.read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TaxonomyError(source, ["file not found"]) from None
        except UnicodeDecodeError as exc:
            raise TaxonomyError(source, [f"not UTF-8 text: {exc}"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(source, [f"not valid TOML: {exc}"]) from None
    return taxonomy_from_dict(raw, source=source)
