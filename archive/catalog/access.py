"""Who may see what. Every read path (portal, search, exports, citations, media, feeds) asks here.

Roles are ordered ``public`` < ``members`` < ``staff``. An item above the viewer's role does not
exist for them: the same :class:`NotFoundError` as a wrong id, so its existence does not leak. A
redacted segment keeps its time span (the recording still runs) but its text is gone for anyone
below staff.

What an item *says* is filtered here too, in one place (:func:`present_item`,
:func:`present_segments`); every route that shows an item to someone below staff goes through them
(the portal's pages and files, search, feeds, citations, the mirror, ``archive show``/``export``):

* **Withheld speakers.** Staff may mark a speaker of an item withheld, with a label
  ("Interviewee A"). Below staff the label stands for the name in the item's speaker list, in
  every segment's speaker field and in the speaker list of the event the item is the recording of
  (:func:`present_names`); the name itself is nowhere. Withholding is of a person, not a
  spelling: a name is matched by :func:`speaker_key` (case, spaces, punctuation, Traditional or
  Simplified script do not count), and one label may stand for several names, the spellings the
  person has had (a rename in the editor adds the new one, :mod:`archive.workspace.disclosure`).
* **Source links.** The address an item was fetched from can carry a meeting password (Zoom's
  ``pwd=``), a presigned download (``X-Amz-Signature``) or ``user:pass@``. Below staff it is shown
  only when staff marked it public (``source_public``), and then only as :func:`public_source_url`
  makes it: ``http(s)`` only, no user name or password, no fragment, and of the query only the
  parameters on :data:`SAFE_QUERY_KEYS` (a video id, a playlist, a start time). Any other parameter
  is dropped, because a secret can hide under any name (Vimeo's unlisted ``h=``). Staff see the
  stored link as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from archive.catalog.db import Catalog
from archive.catalog.models import Item, TranscriptRevision, role_allows
from archive.catalog.redaction_text import mask_segment
from archive.core.config import ROLES
from archive.core.errors import InputError, NotFoundError
from transcripts.chinese import fold
from transcripts.segments import Segment

__all__ = [
    "ROLES",
    "SAFE_QUERY_KEYS",
    "Viewer",
    "check_role",
    "label_speakers",
    "label_names_in_text",
    "present_item",
    "present_names",
    "present_segments",
    "privacy_key",
    "public_source_url",
    "speaker_key",
    "speaker_labels",
    "visible_item",
    "visible_revision",
    "visible_segments",
    "withheld_label",
]

# Query parameters that only ever point *into* a public page (YouTube's video, playlist and start
# time; page numbers). Everything else is dropped from a source link shown below staff.
SAFE_QUERY_KEYS = frozenset({"v", "list", "index", "t", "start", "p", "page", "lang", "hl"})

ANONYMOUS_ROLE = "public"


@dataclass(frozen=True)
class Viewer:
    role: str = ANONYMOUS_ROLE
    username: str | None = None

    def __post_init__(self) -> None:
        check_role(self.role)

    def may_see(self, item: Item) -> bool:
        return role_allows(self.role, item.effective_visibility())

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def public_source_url(url: str | None) -> str | None:
    """A source link as it may be shown below staff (see the module's docstring), or None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k in SAFE_QUERY_KEYS
    ]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, urlencode(query), ""))


def speaker_key(name: str) -> str:
    """What identifies a speaker's name however it was typed: compatibility forms unified (NFKC),
    Traditional, Hong Kong and Simplified characters folded alike (OpenCC, through
    :func:`transcripts.chinese.fold`), case folded, and everything but letters and digits dropped.
    ``speaker_key("Lam Wing-sze") == speaker_key("LAM wing sze") == speaker_key("lam，wingsze")``."""
    text = fold(unicodedata.normalize("NFKC", str(name or ""))).casefold()
    return "".join(c for c in text if c.isalnum())


def speaker_labels(item: Item) -> dict[str, str]:
    """:func:`speaker_key` of each withheld name (every spelling) -> the label shown below staff."""
    return {k: label for name, label in item.withheld_speakers if (k := speaker_key(name))}


def withheld_label(item: Item, name: str) -> str | None:
    """The label that stands for ``name`` below staff, or None when the item does not withhold it."""
    key = speaker_key(name)
    return speaker_labels(item).get(key) if key else None


def label_names_in_text(item: Item, text: str) -> str:
    """``text`` written by or about the item (its title, a chapter's title) with every withheld
    speaker's name, in any letter case, replaced by its label: for what the archive writes into a
    copy served below staff. Longer names first, so one that contains another goes whole."""
    for name, label in sorted(item.withheld_speakers, key=lambda pair: len(pair[0]), reverse=True):
        if name:
            text = re.sub(re.escape(name), lambda _m, label=label: label, text, flags=re.I)
    return text


def _label(name: str, labels: dict[str, str]) -> str:
    return labels.get(speaker_key(name), name) if name else name


def present_names(item: Item | None, names: Iterable[str], viewer: Viewer) -> tuple[str, ...]:
    """A list of speaker names as ``viewer`` may read it: below staff each name ``item`` (the
    catalog's, not a presented one) withholds becomes its label, once. For the item's own list and
    for any other list that names its speakers: the event the item is the recording of."""
    if viewer.is_staff or item is None or not item.withheld_speakers:
        return tuple(names)
    labels = speaker_labels(item)
    shown: list[str] = []
    for name in names:
        label = _label(name, labels)
        if label not in shown:
            shown.append(label)
    return tuple(shown)


def present_item(item: Item, viewer: Viewer) -> Item:
    """The item as ``viewer`` may read it: below staff, withheld speakers are their labels, the
    source link is gone unless staff made it public (and then cleaned), and the staff-only fields
    that say what was withheld are empty. Staff get the item unchanged."""
    if viewer.is_staff:
        return item
    return replace(
        item,
        speakers=present_names(item, item.speakers, viewer),
        source_url=public_source_url(item.source_url) if item.source_public else None,
        withheld_speakers=(),
    )


def privacy_key(catalog: Catalog, item_id: str) -> tuple[object, ...]:
    """What the item's transcript as a viewer below staff reads it depends on, besides the
    revision: its redaction spans and its withheld speakers, read from the catalog itself. A
    cached rendering keyed on it is stale the moment either changes, by whatever path."""
    stored = catalog.find_item(item_id)
    withheld = stored.withheld_speakers if stored is not None else ()
    return (catalog.redaction_spans(item_id), catalog.text_redactions(item_id), withheld)


def present_segments(
    item: Item, segments: tuple[Segment, ...] | list[Segment], viewer: Viewer
) -> tuple[Segment, ...]:
    """Segments as ``viewer`` may read them: below staff, redacted ones lose their text, words
    redacted inside one are masked (:func:`archive.catalog.redaction_text.mask_segment`: the rest
    of the sentence stays) and withheld speakers are shown by their labels. ``item`` is the
    catalog's (not a presented one)."""
    if viewer.is_staff:
        return tuple(segments)
    shown = (mask_segment(s) for s in label_speakers(item, segments))
    return tuple(
        s.with_(text_zh="", text_en="", text_raw="", words=(), speaker="", partial_redactions=())
        if s.redacted
        else s
        for s in shown
    )


def label_speakers(
    item: Item, segments: tuple[Segment, ...] | list[Segment]
) -> tuple[Segment, ...]:
    """Segments with the item's withheld speakers replaced by their labels, text untouched (the
    search index's view: redacted text stays findable for staff, names are never indexed)."""
    labels = speaker_labels(item)
    if not labels:
        return tuple(segments)
    return tuple(s.with_(speaker=_label(s.speaker, labels)) if s.speaker else s for s in segments)


def _stored_item(catalog: Catalog, item_id: str, viewer: Viewer) -> Item:
    item = catalog.find_item(item_id)
    if item is None or not viewer.may_see(item):
        raise NotFoundError(f"no item {item_id}")
    return item


def visible_item(catalog: Catalog, item_id: str, viewer: Viewer) -> Item:
    """The item as the viewer may read it (:func:`present_item`), or NotFoundError when it does
    not exist *or* the viewer may not see it."""
    return present_item(_stored_item(catalog, item_id, viewer), viewer)


def visible_segments(
    segments: tuple[Segment, ...] | list[Segment], viewer: Viewer, item: Item | None = None
) -> tuple[Segment, ...]:
    """Segments as the viewer may read them: redacted ones lose their text below staff, and with
    ``item`` (the catalog's) its withheld speakers become their labels."""
    return present_segments(item or Item(id=""), segments, viewer)


def visible_revision(
    catalog: Catalog, item_id: str, viewer: Viewer, revision: int | None = None
) -> tuple[Item, TranscriptRevision]:
    """An item and one revision of its transcript, filtered for the viewer."""
    stored = _stored_item(catalog, item_id, viewer)
    rev = catalog.get_revision(item_id, revision)
    return present_item(stored, viewer), TranscriptRevision(
        **{k: getattr(rev, k) for k in rev.__dataclass_fields__ if k != "segments"},
        segments=present_segments(stored, rev.segments, viewer),
    )
