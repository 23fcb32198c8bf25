"""Which glossary forms a viewer below staff may use and name ("Also searched", the mirror).

The shipped glossary (``indexer/glossary.tsv``) is public knowledge. The data folder's own
``glossary.tsv`` is not: staff add entries to find their own material, and an entry naming a
staff-only interviewee would be published by listing it to an anonymous visitor. So, for every role
below staff, a form that came only from the local glossary is used and shown *only when the form
occurs in text that role may read*, as a whole token sequence (:func:`form_key`; "Ton" does not
occur in "Tone"). A form that matches nothing the viewer may see changes no result for them
anyway; taking it out before the query is built keeps it out of the listing, the highlights and
the counts alike. Staff search with the whole glossary.

One rule, :func:`hidden_form`, for both places the glossary reaches a viewer below staff:

* the portal's search, per query (:func:`glossary_for_viewer`; ``occurs`` asks the index as the
  viewer's role);
* the static mirror's ``assets/glossary.json``, once for the whole glossary
  (:func:`readable_glossary`; ``occurs`` is :class:`TextOccurrence` over the mirror's public text,
  analysed exactly as the index analyses it).

>>> glossary = glossary_for_viewer(full, "dock strike", [], SEGMENT_FIELDS, occurs=seen_by_role)
>>> public = readable_glossary(full, occurs=TextOccurrence(public_texts))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .analysis import analyze
from .glossary import BUILTIN_GLOSSARY, Glossary, form_key, load_glossary
from .query import parse_query

__all__ = [
    "TextOccurrence",
    "glossary_for_viewer",
    "hidden_form",
    "readable_glossary",
    "shipped_glossary",
]

# Removing a form can, in a contrived glossary, let another local form match in its place: look
# again a few times, then fall back to the shipped glossary alone.
_ROUNDS = 3

Occurs = Callable[[tuple[str, ...]], bool]


def shipped_glossary() -> Glossary:
    """The glossary that ships with the software (cached by file and modification time)."""
    return load_glossary(paths=[BUILTIN_GLOSSARY])


def hidden_form(key: tuple[str, ...], shipped: Glossary, occurs: Occurs) -> bool:
    """The rule: a form (its :func:`form_key`) is kept from a viewer below staff when no shipped
    entry has it and ``occurs`` says it is in no text the viewer may read."""
    return bool(key) and not shipped.has_form(key) and not occurs(key)


def glossary_for_viewer(
    glossary: Glossary,
    query: str,
    extra: Sequence[Any],
    fields: dict[str, float],
    *,
    occurs: Occurs,
) -> Glossary:
    """``glossary`` without the local-only forms this query would add that ``occurs`` denies.

    ``occurs(key)`` answers whether the token sequence ``key`` (:func:`form_key`) is found in a
    document the viewer may see. Forms of the shipped glossary and forms typed by the viewer are
    never taken out.
    """
    shipped = shipped_glossary()
    if glossary is shipped:
        return glossary  # no local glossary (load_glossary caches one object per set of files)
    hidden: set[tuple[str, ...]] = set()
    current = glossary
    for _ in range(_ROUNDS):
        parsed = parse_query(query, current, extra, fields=fields)
        found = {
            key
            for key in (form_key(form) for form in parsed.expansions)
            if key not in hidden and hidden_form(key, shipped, occurs)
        }
        if not found:
            return current
        hidden |= found
        current = glossary.without_forms(hidden)
    return shipped


def readable_glossary(glossary: Glossary, *, occurs: Occurs) -> Glossary:
    """The whole of ``glossary`` as a viewer below staff may have it: every form :func:`hidden_form`
    denies taken out (an entry left with no form is dropped). For a glossary handed out at once,
    such as the mirror's, where no query narrows what is looked at."""
    shipped = shipped_glossary()
    if glossary is shipped:
        return glossary
    hidden = {
        key
        for entry in glossary.entries
        for key in (form_key(form) for form in entry.forms)
        if hidden_form(key, shipped, occurs)
    }
    return glossary.without_forms(hidden)


class TextOccurrence:
    """``occurs`` over a set of texts: whether a token sequence stands in one of them at
    consecutive positions, with the tokens the index makes of each text (:func:`analyze`, as the
    index's text fields: stemmed, with the tail unigram of a Han run), so it answers as a phrase
    query on the index would. Each text is one field: no sequence runs from one into the next."""

    def __init__(self, texts: Iterable[str]) -> None:
        # For each text, position -> the tokens at it; and token -> where it stands.
        self._texts: list[dict[int, set[str]]] = []
        self._where: dict[str, list[tuple[int, int]]] = {}
        for text in texts:
            if not text or not text.strip():
                continue
            at: dict[int, set[str]] = {}
            number = len(self._texts)
            for tok in analyze(text):
                at.setdefault(tok.pos, set()).add(tok.text)
                self._where.setdefault(tok.text, []).append((number, tok.pos))
            self._texts.append(at)

    def __call__(self, key: tuple[str, ...]) -> bool:
        if not key:
            return False
        for number, pos in self._where.get(key[0], ()):
            at = self._texts[number]
            if all(key[i] in at.get(pos + i, ()) for i in range(1, len(key))):
                return True
        return False
