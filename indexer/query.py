"""The query language, parsed by hand so that no input can make a search fail.

Syntax (the portal's help text says the same)::

    碼頭 罷工                 all words must match (in any field of one segment or one item)
    "dock strike"  「碼頭工人」  an exact phrase (straight, curly or corner quotes)
    strike OR 罷工             either; OR binds tighter than the implicit AND
    -lockout                  exclude a word, phrase or (group)
    negotiat*                 words starting with a prefix (two letters at least)
    (dock OR port) strike     brackets group
    collection:webinar  speaker:"Lee Cheuk-yan"  year:2019  year:2014-2019  lang:zh  tag:union

A run of Chinese characters is matched as written (a phrase of its character bigrams), so
``工人罷工`` does not match ``工人…罷工`` scattered; separate words with spaces to match them
anywhere. Several English words typed together also score higher where they appear as a phrase.

Anything that cannot be read as written (unbalanced quotes or brackets, an ``OR`` or ``-`` with
nothing to apply to, only exclusions …) is searched as plain words instead, and
:attr:`ParsedQuery.notice` says so in plain words. Input with nothing searchable in it (empty,
punctuation, emoji) gives no results and a notice; it never raises.

The glossary expands words and phrases across languages (``dock strike`` also searches
``碼頭工人罷工``); the forms added are listed in :attr:`ParsedQuery.expansions`. A matched term
expands through its own entries, its word family's (``bar bending`` and ``bar-benders``) and, for
a Chinese term, the English of the entries containing it (``紮鐵`` ⊂ ``紮鐵工人``: ``bar-benders``),
at most :data:`indexer.glossary.MAX_ENTRIES_PER_TERM` entries (:meth:`indexer.glossary.Glossary.
expansion_forms`) and :data:`MAX_GLOSSARY_FORMS` forms per search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import query_tree as qt
from .analysis import analyze, fold
from .glossary import Glossary, form_key
from .schema import DEFAULT_FIELDS, normalise_lang, speaker_key

__all__ = ["HighlightSpec", "ParsedQuery", "QuerySyntaxError", "filter_queries", "parse_query"]

MAX_QUERY_CHARS = 500
MAX_TERMS = 32  # typed words, phrases and prefixes; a search of more is refused (not run)
MAX_GLOSSARY_FORMS = 64  # forms the glossary may add to one search; past it, none are added
PHRASE_BOOST = 2.0
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "with",
    ]
)
FIELD_NAMES = {
    "collection": "collection",
    "speaker": "speaker",
    "year": "year",
    "lang": "lang",
    "language": "lang",
    "tag": "tag",
    "tags": "tag",
}
_OPEN_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』", "”": "”"}
_OPEN_PARENS = "(（"
_CLOSE_PARENS = ")）"
_YEAR_RE = re.compile(r"^(\d{4})(?:\s*(?:-|–|\.\.|to)\s*(\d{4}))?$")


class QuerySyntaxError(Exception):
    """Internal: the query cannot be read as written; the message explains why, in plain words."""


# -- syntax tree ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    raw: str
    phrase: bool = False  # quoted
    prefix: bool = False  # ended with '*'


@dataclass(frozen=True)
class FieldFilter:
    name: str
    value: str


@dataclass(frozen=True)
class AndNode:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class OrNode:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class NotNode:
    child: Node


Node = Text | FieldFilter | AndNode | OrNode | NotNode


# -- lexer -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Lex:
    kind: str  # WORD PHRASE FIELD OR NOT LP RP
    text: str = ""
    value: str = ""
    quoted: bool = False


def _lex(text: str) -> list[_Lex]:
    out: list[_Lex] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _OPEN_QUOTES:
            close = _OPEN_QUOTES[ch]
            j = text.find(close, i + 1)
            if j < 0:
                raise QuerySyntaxError("the quote marks are not balanced")
            out.append(_Lex("PHRASE", text[i + 1 : j]))
            i = j + 1
        elif ch in _OPEN_PARENS:
            out.append(_Lex("LP"))
            i += 1
        elif ch in _CLOSE_PARENS:
            out.append(_Lex("RP"))
            i += 1
        elif ch in "-－" and (not out or text[i - 1].isspace() or text[i - 1] in _OPEN_PARENS):
            if i + 1 >= n or text[i + 1].isspace():
                raise QuerySyntaxError("a '-' must be followed directly by the word to exclude")
            out.append(_Lex("NOT"))
            i += 1
        else:
            j = i
            while (
                j < n
                and not text[j].isspace()
                and text[j] not in _OPEN_PARENS
                and text[j] not in _CLOSE_PARENS
                and text[j] not in _OPEN_QUOTES
            ):
                j += 1
            word = text[i:j]
            name, colon, value = word.partition(":")
            if colon and name.lower() in FIELD_NAMES:
                if not value and j < n and text[j] in _OPEN_QUOTES:
                    close = _OPEN_QUOTES[text[j]]
                    k = text.find(close, j + 1)
                    if k < 0:
                        raise QuerySyntaxError("the quote marks are not balanced")
                    out.append(_Lex("FIELD", FIELD_NAMES[name.lower()], text[j + 1 : k], True))
                    i = k + 1
                    continue
                if not value:
                    raise QuerySyntaxError(f"'{name}:' needs a value after it")
                out.append(_Lex("FIELD", FIELD_NAMES[name.lower()], value))
            elif word == "OR":
                out.append(_Lex("OR"))
            elif word:
                out.append(_Lex("WORD", word))
            i = max(j, i + 1)
    return out


# -- parser ----------------------------------------------------------------------------------
class _Parser:
    def __init__(self, lexemes: list[_Lex]) -> None:
        self.lex = lexemes
        self.i = 0

    def peek(self) -> _Lex | None:
        return self.lex[self.i] if self.i < len(self.lex) else None

    def take(self) -> _Lex:
        lex = self.lex[self.i]
        self.i += 1
        return lex

    def parse(self) -> Node:
        node = self.sequence()
        if self.peek() is not None:  # only a stray ')' stops a top-level sequence
            raise QuerySyntaxError("the brackets are not balanced")
        return node

    def sequence(self) -> Node:
        children: list[Node] = []
        while (lex := self.peek()) is not None and lex.kind != "RP":
            children.append(self.or_chain())
        if not children:
            raise QuerySyntaxError("there is nothing between the brackets")
        return children[0] if len(children) == 1 else AndNode(tuple(children))

    def or_chain(self) -> Node:
        if (lex := self.peek()) is not None and lex.kind == "OR":
            raise QuerySyntaxError("'OR' needs a word on each side")
        items = [self.unary()]
        while (lex := self.peek()) is not None and lex.kind == "OR":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "RP"):
                raise QuerySyntaxError("'OR' needs a word on each side")
            if nxt.kind == "NOT":
                raise QuerySyntaxError("'OR' cannot be followed by an exclusion")
            items.append(self.unary())
        return items[0] if len(items) == 1 else OrNode(tuple(items))

    def unary(self) -> Node:
        lex = self.peek()
        if lex is not None and lex.kind == "NOT":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "RP", "NOT"):
                raise QuerySyntaxError("a '-' must be followed directly by the word to exclude")
            return NotNode(self.atom())
        return self.atom()

    def atom(self) -> Node:
        lex = self.take()
        if lex.kind == "LP":
            node = self.sequence()
            if self.peek() is None:
                raise QuerySyntaxError("the brackets are not balanced")
            self.take()
            return node
        if lex.kind == "PHRASE":
            return Text(lex.text, phrase=True)
        if lex.kind == "FIELD":
            return FieldFilter(lex.text, lex.value)
        if lex.kind == "WORD":
            if lex.text.endswith("*") and lex.text.strip("*"):
                return Text(lex.text.rstrip("*"), prefix=True)
            return Text(lex.text)
        raise QuerySyntaxError("the brackets are not balanced")


# -- semantic nodes: what is actually searched ------------------------------------------------
@dataclass(frozen=True)
class Tokens:
    """A term (one token) or an exact phrase (several) in the default fields."""

    tokens: tuple[str, ...]
    label: str
    boost: float = 1.0


@dataclass(frozen=True)
class PrefixOf:
    prefix: str
    han: bool


@dataclass(frozen=True)
class HighlightSpec:
    terms: frozenset[str] = frozenset()
    phrases: tuple[tuple[str, ...], ...] = ()
    prefixes: tuple[str, ...] = ()
    han_chars: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    query: qt.Node | None  # None: nothing to search for
    notice: str | None = None
    expansions: tuple[str, ...] = ()
    highlight: HighlightSpec = field(default_factory=HighlightSpec)
    filters_only: bool = False  # only field filters: list the matching items
    # With ``defer_boosts``: phrases that raise a match's score by ``1 + PHRASE_BOOST`` when
    # present, applied by the caller to the best matches only (see ``word_run``).
    boosts: tuple[qt.Node, ...] = ()
    refused: bool = False  # more than MAX_TERMS words: not searched at all


@dataclass
class _Build:
    glossary: Glossary | None
    fields: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    notes: list[str] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)
    phrases: list[tuple[str, ...]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    han_chars: set[str] = field(default_factory=set)
    count: int = 0  # typed words, phrases and prefixes (glossary forms are not counted here)
    glossary_forms: int = 0
    ignored: list[str] = field(default_factory=list)
    defer_boosts: bool = False
    boosts: list[qt.Node] = field(default_factory=list)

    # ---- helpers -----------------------------------------------------------------------------
    def tokens_node(self, tokens: Sequence[str], label: str, boost: float = 1.0) -> qt.Node:
        self.count += 1
        toks = tuple(tokens)
        if len(toks) == 1:
            self.terms.add(toks[0])
            return qt.Or(tuple(qt.Term(f, toks[0], b * boost) for f, b in self.fields.items()))
        self.phrases.append(toks)
        return qt.Or(tuple(qt.Phrase(f, toks, b * boost) for f, b in self.fields.items()))

    def prefix_node(self, prefix: str, han: bool) -> qt.Node:
        self.count += 1
        if han:
            self.han_chars.add(prefix)
        else:
            self.prefixes.append(prefix)
        return qt.Or(tuple(qt.Prefix(f, prefix, b) for f, b in self.fields.items()))

    def add_expansions(self, forms: Iterable[str], typed_keys: set[tuple[str, ...]]) -> list[str]:
        added: list[str] = []
        for form in forms:
            key = form_key(form)
            if key in typed_keys:
                continue
            typed_keys.add(key)
            added.append(form)
            if form not in self.expansions:
                self.expansions.append(form)
        return added

    def forms_query(
        self, original: qt.Node, forms: Iterable[str], typed_keys: set[tuple[str, ...]]
    ) -> qt.Node:
        # A form that contains a shorter one (法定最低工資 ⊃ 最低工資, "statutory minimum wage" ⊃
        # "minimum wage") finds nothing the shorter one misses: it is listed as searched but adds
        # no matcher. Each phrase costs a positions check at every candidate, and long glossary
        # entries are mostly such supersets (a third fewer phrases over the glossary).
        kept = list(typed_keys)
        extra = []
        added = [(form_key(form), form) for form in self.add_expansions(forms, typed_keys)]
        for key, form in sorted(added, key=lambda pair: len(pair[0])):
            if any(_contains_run(key, shorter) for shorter in kept):
                # Still marked where it stands whole (紮鐵工人, not 紮鐵 of it), as it is listed.
                if len(key) > 1 and self.glossary_forms < MAX_GLOSSARY_FORMS:
                    self.phrases.append(key)
                continue
            kept.append(key)
            if self.glossary_forms >= MAX_GLOSSARY_FORMS:
                note = f"only the first {MAX_GLOSSARY_FORMS} glossary forms were searched"
                if note not in self.notes:
                    self.notes.append(note)
                if form in self.expansions:  # not searched: not listed under "Also searched"
                    self.expansions.remove(form)
                continue
            extra.append(self.tokens_node(key, form))
            self.count -= 1  # a glossary form, not a typed word
            self.glossary_forms += 1
        return qt.Or((original, *extra)) if extra else original

    # ---- one word as typed --------------------------------------------------------------------
    def word(self, text: Text) -> qt.Node | None:
        toks = analyze(text.raw, tail_unigrams=False)
        if not toks:
            self.ignored.append(text.raw)
            return None
        if text.prefix:
            last = toks[-1]
            # A Chinese prefix is already a substring match; one Han character becomes a prefix
            # over the bigrams so that it is found inside words too.
            if last.han and len(toks) > 1:
                return self.tokens_node([t.text for t in toks], text.raw)
            raw_last = fold(text.raw)[last.start : last.end]
            if not last.han and len(raw_last) < 2:
                self.notes.append(
                    f"'{text.raw}*' is too short to search as a prefix; searched as a word"
                )
                return self.tokens_node([t.text for t in toks], text.raw)
            parts = (
                [self.tokens_node([t.text for t in toks[:-1]], text.raw)] if len(toks) > 1 else []
            )
            parts.append(self.prefix_node(raw_last, last.han))
            return parts[0] if len(parts) == 1 else qt.And(tuple(parts))
        if len(toks) == 1 and toks[0].han and len(toks[0].text) == 1:
            return self.prefix_node(toks[0].text, True)
        return self.tokens_node([t.text for t in toks], text.raw)

    # ---- a run of consecutive plain words: glossary expansion and the phrase boost -------------
    def word_run(self, words: list[Text]) -> list[qt.Node]:
        atoms: list[tuple[Text, list[str], bool, str]] = []  # (text, keys, pure_han, folded run)
        for w in words:
            toks = analyze(w.raw, tail_unigrams=False)
            if not toks:
                self.ignored.append(w.raw)
                continue
            if len(toks) == 1 and toks[0].text in STOPWORDS and len(words) > 1:
                continue
            pure_han = all(t.han for t in toks) and _han_contiguous(w.raw)
            folded = fold(w.raw)[toks[0].start : toks[-1].end] if pure_han else ""
            atoms.append((w, [t.text for t in toks], pure_han, folded))
        if not atoms:
            return []
        keys: list[str] = []
        bounds: list[tuple[int, int]] = []
        for _, atom_keys, _, _ in atoms:
            bounds.append((len(keys), len(keys) + len(atom_keys)))
            keys.extend(atom_keys)
        starts = {s: i for i, (s, _) in enumerate(bounds)}
        ends = {e: i for i, (_, e) in enumerate(bounds)}
        covered: dict[int, tuple[int, object]] = {}  # first atom -> (last atom, match)
        partial: dict[int, list[object]] = {}  # atom -> matches inside it
        for match in self.glossary.find(keys) if self.glossary else []:
            if match.start in starts and match.end in ends:
                covered[starts[match.start]] = (ends[match.end], match)
                continue
            for i, (s, e) in enumerate(bounds):
                if s <= match.start and match.end <= e and atoms[i][2]:
                    partial.setdefault(i, []).append(match)
                    break
        out: list[qt.Node] = []
        i = 0
        while i < len(atoms):
            if i in covered:
                last, match = covered[i]
                original = self._plain(atoms[i : last + 1])
                typed = {tuple(keys[match.start : match.end])}  # type: ignore[attr-defined]
                out.append(self.forms_query(original, match.forms, typed))  # type: ignore[attr-defined]
                i = last + 1
                continue
            if i in partial and _leaves_words(atoms[i][3], bounds[i][0], partial[i]):
                out.append(self._split_han(atoms[i], bounds[i][0], partial[i]))
            else:
                node = self.word(atoms[i][0])
                if node is not None:
                    out.append(node)
            i += 1
        # Several English words typed together: prefer segments where they form a phrase.
        latin = [a for a in atoms if not a[2] and not a[0].prefix]
        if len(latin) >= 2 and len(latin) == len(atoms):
            phrase = tuple(k for a in latin for k in a[1])
            required = qt.And(tuple(out)) if len(out) > 1 else out[0]
            if self.defer_boosts:
                # Checked afterwards on the best matches only: inside the query, Whoosh reads
                # positions at every match (10x the time of the words alone on a large index)
                # and the words alone can skip whole blocks of low-scoring postings.
                self.boosts.append(
                    qt.Or(tuple(qt.Phrase(f, phrase, b) for f, b in self.fields.items()))
                )
                return [required]
            boost = qt.Or(
                tuple(qt.Phrase(f, phrase, b * PHRASE_BOOST) for f, b in self.fields.items())
            )
            return [qt.AndMaybe(required, boost)]
        return out

    def _plain(self, atoms: list[tuple[Text, list[str], bool, str]]) -> qt.Node:
        parts = [q for q in (self.word(a[0]) for a in atoms) if q is not None]
        return parts[0] if len(parts) == 1 else qt.And(tuple(parts))

    def _split_han(
        self, atom: tuple[Text, list[str], bool, str], offset: int, matches: list[object]
    ) -> qt.Node:
        """A Chinese run with glossary terms inside: as typed, or term by term with expansions."""
        text, _keys, _, run = atom
        whole = self.word(text)
        pieces: list[qt.Node] = []
        pos = 0
        for match in matches:
            s = match.start - offset  # type: ignore[attr-defined]
            e = match.end - offset + 1  # bigram i covers characters i, i+1
            if s > pos:
                rest = self.word(Text(run[pos:s]))
                if rest is not None:
                    pieces.append(rest)
            term = self.word(Text(run[s:e]))
            if term is not None:
                typed = {form_key(run[s:e])}
                pieces.append(self.forms_query(term, match.forms, typed))  # type: ignore[attr-defined]
            pos = e
        if pos < len(run):
            rest = self.word(Text(run[pos:]))
            if rest is not None:
                pieces.append(rest)
        split = pieces[0] if len(pieces) == 1 else qt.And(tuple(pieces))
        return qt.Or((whole, split)) if whole is not None else split

    # ---- the tree ------------------------------------------------------------------------------
    def build(self, node: Node) -> tuple[qt.Node | None, list[qt.Node]]:
        """(text query or None, filter queries) of a node."""
        if isinstance(node, Text):
            if node.phrase:
                return self.phrase(node), []
            if node.prefix:
                return self.word(node), []
            parts = self.word_run([node])
            return (_and(parts), [])
        if isinstance(node, FieldFilter):
            flt = self.field_filter(node)
            return None, [flt] if flt is not None else []
        if isinstance(node, NotNode):
            kept_boosts = len(self.boosts)
            inner, filters = self.build(node.child)
            del self.boosts[kept_boosts:]  # an excluded phrase raises nothing
            if filters:
                self.notes.append("excluding a field filter is not supported; it was ignored")
            return (qt.Not(inner) if inner is not None else None), []
        if isinstance(node, OrNode):
            parts: list[qt.Node] = []
            for child in node.children:
                q, filters = self.build(child)
                if filters:
                    q = _and([q, *filters] if q is not None else filters)
                if q is not None:
                    parts.append(q)
            return (qt.Or(tuple(parts)) if len(parts) > 1 else (parts[0] if parts else None)), []
        assert isinstance(node, AndNode)
        positives: list[qt.Node] = []
        negatives: list[qt.Node] = []
        filters: list[qt.Node] = []
        pending: list[Text] = []

        def flush() -> None:
            if pending:
                positives.extend(self.word_run(list(pending)))
                pending.clear()

        for child in node.children:
            if isinstance(child, Text) and not child.phrase and not child.prefix:
                pending.append(child)
                continue
            flush()
            q, more = self.build(child)
            filters.extend(more)
            if isinstance(q, qt.Not):
                negatives.append(q.query)
            elif q is not None:
                positives.append(q)
        flush()
        if not positives and negatives:
            raise QuerySyntaxError("a search cannot consist of exclusions only")
        query = _and(positives)
        if query is not None and negatives:
            query = qt.Excluding(
                query, qt.Or(tuple(negatives)) if len(negatives) > 1 else negatives[0]
            )
        return query, filters

    def phrase(self, node: Text) -> qt.Node | None:
        toks = analyze(node.raw, tail_unigrams=False)
        if not toks:
            self.ignored.append(f'"{node.raw}"')
            return None
        keys = tuple(t.text for t in toks)
        q = self.tokens_node(keys, node.raw)
        forms = self.glossary.expansion_forms(keys) if self.glossary else ()
        return self.forms_query(q, forms, {keys}) if forms else q

    def field_filter(self, node: FieldFilter) -> qt.Node | None:
        value = node.value.strip()
        if node.name == "collection":
            return qt.Term("collection", value.lower())
        if node.name == "year":
            m = _YEAR_RE.match(value)
            if not m:
                self.notes.append(
                    f"year:{value} was ignored: write a year like 2019 or a range like 2014-2019"
                )
                return None
            lo = int(m.group(1))
            hi = int(m.group(2) or lo)
            lo, hi = min(lo, hi), max(lo, hi)
            if hi - lo > 200:
                self.notes.append(f"year:{value} was ignored: the range is too wide")
                return None
            # Years are indexed as terms: an Or of a few terms is far cheaper than NumericRange.
            return qt.Or(tuple(qt.Term("year", str(y)) for y in range(lo, hi + 1)))
        if node.name == "lang":
            lang = normalise_lang(value)
            if not lang:
                self.notes.append(f"lang:{value} was ignored: use lang:zh or lang:en")
                return None
            return qt.Term("lang", lang)
        field_name = "speaker" if node.name == "speaker" else "tags"
        toks = analyze(value, stem=node.name != "speaker", tail_unigrams=False)
        if not toks:
            self.notes.append(f"{node.name}:{value} was ignored: nothing to search for in it")
            return None
        keys = tuple(t.text for t in toks)
        words = qt.Term(field_name, keys[0]) if len(keys) == 1 else qt.Phrase(field_name, keys)
        if node.name != "speaker":
            return words
        # The words of the name (speaker:lee finds "Lee Cheuk-yan"), or the whole name however it
        # is spelled: speaker_key folds case, spaces, punctuation and Traditional/Simplified.
        key = speaker_key(value)
        return qt.Or((words, qt.Term("speaker_key", key))) if key else words


def _leaves_words(run: str, offset: int, matches: list[Any]) -> bool:
    """Whether splitting a Chinese run at its glossary terms leaves only pieces of 2+ characters.

    ``李卓人講話`` splits into ``李卓人`` + ``講話`` (both words); ``頭工人`` would leave ``頭``, a
    fragment of the word before it, so it is searched as typed.
    """
    pos = 0
    for match in matches:
        s, e = match.start - offset, match.end - offset + 1
        if 0 < s - pos < 2:
            return False
        pos = e
    return not 0 < len(run) - pos < 2


def _han_contiguous(raw: str) -> bool:
    toks = analyze(raw, tail_unigrams=False)
    if len(toks) <= 1:
        return True
    return all(b.start == a.start + 1 for a, b in zip(toks, toks[1:], strict=False))


def _contains_run(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    """Whether ``shorter`` occurs in ``longer`` as consecutive tokens."""
    n = len(shorter)
    return 0 < n <= len(longer) and any(
        longer[i : i + n] == shorter for i in range(len(longer) - n + 1)
    )


def _and(parts: Sequence[qt.Node | None]) -> qt.Node | None:
    real = [p for p in parts if p is not None]
    if not real:
        return None
    return real[0] if len(real) == 1 else qt.And(tuple(real))


def _plain_words(text: str) -> list[Text]:
    """The fallback reading: every operator character removed, every remaining word required."""
    cleaned = re.sub(r"[\"“”「」『』()（）*]", " ", text)
    words = []
    for word in cleaned.split():
        word = word.lstrip("-－")
        if not word or word == "OR":
            continue
        name, colon, value = word.partition(":")
        if colon and name.lower() in FIELD_NAMES:
            word = value
        if word:
            words.append(Text(word))
    return words


def filter_queries(
    *,
    collection: str | None = None,
    year: int | str | None = None,
    lang: str | None = None,
    speaker: str | None = None,
) -> tuple[list[qt.Node], list[str]]:
    """Queries for the filter controls (the same rules as ``collection:`` etc. in the text)."""
    build = _Build(None)
    out: list[qt.Node] = []
    for name, value in (
        ("collection", collection),
        ("year", year),
        ("lang", lang),
        ("speaker", speaker),
    ):
        if value is None or str(value).strip() == "":
            continue
        q = build.field_filter(FieldFilter(name, str(value)))
        if q is not None:
            out.append(q)
    return out, build.notes


def parse_query(
    text: str,
    glossary: Glossary | None = None,
    extra_filters: Sequence[qt.Node] = (),
    fields: dict[str, float] | None = None,
    *,
    defer_boosts: bool = False,
) -> ParsedQuery:
    """Parse ``text``; never raises. ``extra_filters`` (from the filter controls) are ANDed in.

    ``fields`` (name → boost) are where words are looked for; the default is every searchable
    field (:data:`indexer.schema.DEFAULT_FIELDS`). With ``defer_boosts`` the phrase preference
    of several English words is left out of the query and returned in ``boosts``.
    """
    fields = dict(fields or DEFAULT_FIELDS)
    raw = text or ""
    notes: list[str] = []
    if len(raw) > MAX_QUERY_CHARS:
        raw = raw[:MAX_QUERY_CHARS]
        notes.append(f"only the first {MAX_QUERY_CHARS} characters were searched")
    if not raw.strip():
        return ParsedQuery(text, None, "Type a word or a phrase to search for.")
    build = _Build(glossary, fields, defer_boosts=defer_boosts)
    query: qt.Node | None
    filters: list[qt.Node]
    try:
        tree = _Parser(_lex(raw)).parse()
        if isinstance(tree, NotNode):
            raise QuerySyntaxError("a search cannot consist of exclusions only")
        query, filters = build.build(tree)
    except (QuerySyntaxError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, QuerySyntaxError) else "it is nested too deeply"
        build = _Build(glossary, fields, defer_boosts=defer_boosts)
        words = _plain_words(raw)
        query = _and(build.word_run(words)) if words else None
        filters = []
        notes.append(
            f"your search could not be read as written ({reason}), so it was searched as plain words"
        )
    if build.count > MAX_TERMS:
        # Refused before anything runs: the work of a search grows with its words (each single
        # Chinese character is a prefix over every word starting with it).
        notes.append(
            f"the search has more than {MAX_TERMS} words, phrases or prefixes and was not run; "
            "search for fewer"
        )
        return ParsedQuery(text, None, _sentence(notes), refused=True)
    notes.extend(build.notes)
    if build.ignored:
        shown = " ".join(build.ignored)[:40]
        notes.append(f"ignored (nothing searchable in it): {shown}")
    all_filters = [*filters, *extra_filters]
    spec = HighlightSpec(
        frozenset(build.terms),
        tuple(build.phrases),
        tuple(build.prefixes),
        frozenset(build.han_chars),
    )
    expansions = tuple(build.expansions)
    if query is None and not filters:
        notes.append("there is nothing to search for in it: type a word or a phrase")
        return ParsedQuery(text, None, _sentence(notes), expansions, spec)
    if query is None:
        # Only filters: list the items they select (their item documents, not every segment).
        combined = _and([qt.Term("kind", "item"), *all_filters])
        return ParsedQuery(text, combined, _sentence(notes), expansions, spec, filters_only=True)
    combined = _and([query, *all_filters])
    return ParsedQuery(
        text, combined, _sentence(notes), expansions, spec, boosts=tuple(build.boosts)
    )


def _sentence(notes: list[str]) -> str | None:
    if not notes:
        return None
    joined = "; ".join(notes)
    return joined[0].upper() + joined[1:] + ("" if joined.endswith(".") else ".")
