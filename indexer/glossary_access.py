"""Which glossary forms a search below staff may use and name ("Also searched").

The shipped glossary (``indexer/glossary.tsv``) is public knowledge. The data folder's own
``glossary.tsv`` is not: staff add entries to find their own material, and an entry naming a
staff-only interviewee would be published by listing it to an anonymous visitor. So, for every role
below staff, a search uses and reports a form that came only from the local glossary *only when the
form occurs in text that role may read* (the index's documents visible to it). A form that matches
nothing the viewer may see changes no result for them anyway; taking it out before the query is
built keeps it out of the listing, the highlights and the counts alike. Staff search with the
whole glossary.

>>> glossary = glossary_for_viewer(full, "dock strike", [], SEGMENT_FIELDS, occurs=seen_by_role)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .glossary import BUILTIN_GLOSSARY, Glossary, form_key, load_glossary
from .query import parse_query

__all__ = ["glossary_for_viewer", "shipped_glossary"]

# Removing a form can, in a contrived glossary, let another local form match in its place: look
# again a few times, then fall back to the shipped glossary alone.
_ROUNDS = 3


def shipped_glossary() -> Glossary:
    """The glossary that ships with the software (cached by file and modification time)."""
    return load_glossary(paths=[BUILTIN_GLOSSARY])


def glossary_for_viewer(
    glossary: Glossary,
    query: str,
    extra: Sequence[Any],
    fields: dict[str, float],
    *,
    occurs: Callable[[tuple[str, ...]], bool],
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
            if key and key not in hidden and not shipped.has_form(key) and not occurs(key)
        }
        if not found:
            return current
        hidden |= found
        current = glossary.without_forms(hidden)
    return shipped
