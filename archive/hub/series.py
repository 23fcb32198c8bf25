"""The webinar hub's series: bilingual named groups of events and recordings (a talk tour, an
interview series, an anniversary programme), and what a viewer may know of them.

A series' id is a short slug (``uk-tour-2026``): it is part of feed URLs. Staff see every series.
Below staff a series exists only while it holds something the viewer may see now (an event at its
visibility, or a recording at its level in force, embargoes included):
:func:`series_has_visible_content` is that one rule, and :func:`visible_series` /
:func:`visible_series_list` answer for any other series exactly as for an id that does not exist.

>>> series = create_series(catalog, "uk-tour-2026", title_zh="英國巡迴講座", title_en="UK talk tour 2026")
>>> visible_series_list(catalog, Viewer("public"))   # empty until it holds something public
[]
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, fields
from typing import Any

from archive.catalog.access import Viewer, present_item
from archive.catalog.db import Catalog, note_change
from archive.catalog.models import VISIBILITIES, Item, now_utc, role_allows
from archive.core.errors import InputError

__all__ = [
    "SERIES_ID",
    "Series",
    "check_series",
    "create_series",
    "get_series",
    "items_in_series",
    "list_series",
    "series_has_visible_content",
    "set_item_series",
    "update_series",
    "visible_series",
    "visible_series_list",
]

SERIES_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Series:
    """A series as the catalog holds it (``id`` is its slug)."""

    id: str
    title_zh: str = ""
    title_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    created_at: str = ""

    @property
    def title(self) -> str:
        return self.title_en or self.title_zh or self.id

    def to_dict(self) -> dict[str, Any]:
        """What ``archive series list --json`` prints."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _series_from_row(row: sqlite3.Row) -> Series:
    return Series(**dict(row))


def create_series(
    catalog: Catalog,
    series_id: str,
    *,
    title_zh: str = "",
    title_en: str = "",
    description_zh: str = "",
    description_en: str = "",
) -> Series:
    """A new series. Its id is a short slug (``uk-tour-2026``): it is part of feed URLs."""
    series_id = (series_id or "").strip()
    if not SERIES_ID.match(series_id):
        raise InputError(
            f"a series id is lower-case letters, digits and hyphens (e.g. uk-tour-2026), not {series_id!r}"
        )
    title_zh, title_en = (title_zh or "").strip(), (title_en or "").strip()
    if not (title_zh or title_en):
        raise InputError("a series needs a title (--title-zh and/or --title-en)")
    with catalog.transaction() as conn:
        if conn.execute("SELECT 1 FROM series WHERE id = ?", (series_id,)).fetchone():
            raise InputError(f"there is already a series {series_id}")
        conn.execute(
            "INSERT INTO series (id, title_zh, title_en, description_zh, description_en, created_at) "
            "VALUES (?,?,?,?,?,?)",
            (
                series_id,
                title_zh,
                title_en,
                (description_zh or "").strip(),
                (description_en or "").strip(),
                now_utc(),
            ),
        )
        note_change(conn)
    return get_series(catalog, series_id)


def update_series(catalog: Catalog, series_id: str, **values: str) -> Series:
    """Change a series' titles or descriptions (None: unchanged); it must keep a title."""
    allowed = {"title_zh", "title_en", "description_zh", "description_en"}
    unknown = set(values) - allowed
    if unknown:
        raise InputError(f"unknown series field(s): {', '.join(sorted(unknown))}")
    current = get_series(catalog, series_id)
    merged = {
        k: (values[k] if k in values and values[k] is not None else getattr(current, k))
        for k in allowed
    }
    if not (merged["title_zh"].strip() or merged["title_en"].strip()):
        raise InputError("a series needs a title (--title-zh and/or --title-en)")
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE series SET title_zh = ?, title_en = ?, description_zh = ?, description_en = ? WHERE id = ?",
            (
                merged["title_zh"].strip(),
                merged["title_en"].strip(),
                merged["description_zh"].strip(),
                merged["description_en"].strip(),
                series_id,
            ),
        )
        note_change(conn)
    return get_series(catalog, series_id)


def get_series(catalog: Catalog, series_id: str) -> Series:
    """A series by id, as staff see it (InputError when there is none)."""
    row = catalog.conn.execute("SELECT * FROM series WHERE id = ?", (series_id,)).fetchone()
    if row is None:
        raise _no_series(series_id)
    return _series_from_row(row)


def _no_series(series_id: str) -> InputError:
    # One error for "no such series" and "a series you may not see": the two read the same.
    return InputError(f"no series {series_id!r}: see `archive series list`")


def list_series(catalog: Catalog) -> list[Series]:
    """Every series, in creation order, as staff see them."""
    return [
        _series_from_row(r)
        for r in catalog.conn.execute("SELECT * FROM series ORDER BY created_at, rowid")
    ]


def check_series(catalog: Catalog, series_id: str | None) -> str | None:
    """The id of an existing series, or None for none (None or blank); InputError for an unknown
    id. What an event's or an item's ``series_id`` is checked with before it is written."""
    if series_id is None or not str(series_id).strip():
        return None
    return get_series(catalog, str(series_id).strip()).id


def set_item_series(catalog: Catalog, item_id: str, series_id: str | None) -> Item:
    """Put an item in a series (None: in none)."""
    return catalog.update_item(item_id, series_id=check_series(catalog, series_id))


def items_in_series(catalog: Catalog, series_id: str, viewer: Viewer) -> list[Item]:
    """The items of a series the viewer may see, oldest recording first (a programme's order).

    A series the viewer may not see is the same error as one that does not exist."""
    visible_series(catalog, series_id, viewer)
    items = catalog.list_items(
        role=viewer.role, series_id=series_id, order="recorded_date ASC, created_at ASC"
    )
    return [present_item(i, viewer) for i in items]


def series_has_visible_content(catalog: Catalog, series_id: str, viewer: Viewer) -> bool:
    """Whether the viewer may see, now, at least one event or recording of the series.

    The one definition of a series' visibility below staff: every route (feeds, the portal's
    series page and lists, the Events filter, ``archive event list --series --role``) asks here.
    Recordings count at their level in force now (an embargo that has not yet ended keeps its
    item out); events at their visibility.
    """
    allowed = [v for v in VISIBILITIES if role_allows(viewer.role, v)]
    marks = ", ".join("?" * len(allowed))
    row = catalog.conn.execute(
        f"SELECT 1 FROM events WHERE series_id = ? AND visibility IN ({marks}) LIMIT 1",
        (series_id, *allowed),
    ).fetchone()
    if row is not None:
        return True
    return bool(catalog.list_items(role=viewer.role, series_id=series_id, limit=1))


def visible_series(catalog: Catalog, series_id: str, viewer: Viewer) -> Series:
    """The series, or the very error of an unknown id when the viewer may not see it.

    Staff see every series (they make them before filling them). Anyone else sees a series only
    while it holds something they may see (:func:`series_has_visible_content`): an empty series,
    or one of staff-only drafts, must not give away its title, description or existence.
    """
    series = get_series(catalog, series_id)
    if viewer.is_staff or series_has_visible_content(catalog, series.id, viewer):
        return series
    raise _no_series(series_id)


def visible_series_list(catalog: Catalog, viewer: Viewer) -> list[Series]:
    """The series the viewer may see (:func:`visible_series`), in creation order."""
    return [
        s
        for s in list_series(catalog)
        if viewer.is_staff or series_has_visible_content(catalog, s.id, viewer)
    ]
