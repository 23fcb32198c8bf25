"""What one index document is, and how catalog items become documents.

Granularity: **one document per transcript segment**, plus **one document per item** for its
title, description, speakers and tags. Why segments and not passages of several segments:

* A hit must show *the* segment and link to *its* start time; a passage would need a second,
  un-indexed step to find which of its segments matched.
* Access is per segment: a redacted segment is staff-only while its neighbours are public. A passage
  mixing them would either leak the redacted words to the public (in matches, highlights and facet
  counts) or hide the public neighbours from everyone but staff.
* Whisper segments are sentence-sized (5–10 s, 10–30 words), long enough for a two-word query or
  a phrase; the cost is that a phrase split across two segments is not found as a phrase (its words
  are still found in each segment).

The item document carries the titles and descriptions (boosted at query time, so a title match
ranks above a transcript match) and, in stored fields, what ``verify`` compares with the catalog
(revision, visibility, a fingerprint of the redactions and of the descriptive fields).

Visibility is indexed in ``visible_to`` as the set of roles that may see the document (a public
segment: ``public members staff``): a role's filter is then a single term.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from archive.catalog.access import Viewer, label_speakers, present_item, speaker_key
from archive.catalog.redaction_text import mask_segments

from .analysis import TRACK_SEPARATOR, BilingualAnalyzer

__all__ = [
    "DEFAULT_FIELDS",
    "ITEM_FIELDS",
    "SEGMENT_FIELDS",
    "ROLES",
    "CatalogState",
    "catalog_state",
    "item_documents",
    "make_schema",
    "normalise_lang",
    "visible_to",
]

ROLES = ("public", "members", "staff")

# Fields a plain word is looked for in, with their query-time boosts: titles rank above
# descriptions, which rank above transcript text.
DEFAULT_FIELDS: dict[str, float] = {
    "body": 1.0,  # a segment's Chinese and English tracks
    "title": 4.0,  # an item's Chinese and English titles
    "description": 1.5,
    "people": 2.0,
    "tags": 2.0,
}
SEGMENT_FIELDS = {"body": 1.0}
ITEM_FIELDS = {k: v for k, v in DEFAULT_FIELDS.items() if k != "body"}


def make_schema() -> Schema:
    # Few indexed fields on purpose: every query word is looked up in each default field, so
    # both tracks share ``body`` (with a position gap, see TRACK_SEPARATOR) and both titles share
    # ``title``; this halves the work per word against one field per language. The original
    # texts are kept in stored-only fields for display and highlighting.
    text = BilingualAnalyzer(stem=True)
    names = BilingualAnalyzer(stem=False)  # speaker names are not English words to stem
    return Schema(
        kind=ID(stored=True, sortable=True),  # "item" or "seg"
        item_id=ID(stored=True, sortable=True),
        uid=STORED(),
        start=STORED(),
        end=STORED(),
        body=TEXT(analyzer=text, phrase=True),
        text_zh=STORED(),
        text_en=STORED(),
        title=TEXT(analyzer=text, phrase=True),
        title_zh=STORED(),
        title_en=STORED(),
        description=TEXT(analyzer=text, phrase=True),
        people=TEXT(analyzer=text, phrase=True),  # item doc: its speakers, as searchable words
        tags=TEXT(analyzer=text, phrase=True),
        # Filters and facets.
        speaker=TEXT(analyzer=names, phrase=True, stored=True),  # "speaker:" filter
        speaker_facet=ID(stored=False, sortable=True),  # the segment's speaker, exact, for facets
        speaker_key=KEYWORD(),  # each speaker's speaker_key: "speaker:" however the name is typed
        lang=ID(stored=True, sortable=True),
        collection=ID(stored=True),
        year=ID(stored=True),
        visibility=ID(stored=True, sortable=True),
        visible_to=KEYWORD(),
        # Item documents only: what verify compares with the catalog.
        state=STORED(),
        meta=STORED(),
    )


def speaker_keys(names: list[str]) -> str:
    """The ``speaker_key`` field: the :func:`speaker_key` of each name (no spaces in a key)."""
    return " ".join(dict.fromkeys(k for n in names if (k := speaker_key(n))))


def visible_to(visibility: str) -> str:
    return " ".join(ROLES[ROLES.index(visibility) :])


def normalise_lang(value: str | None) -> str:
    """``zh`` for any Chinese (yue, zh, cmn …), ``en``, or ``""`` when unknown."""
    value = (value or "").lower()
    if value in ("yue", "zh", "cmn", "chinese", "cantonese", "mandarin", "中文", "粵語", "粤语"):
        return "zh"
    if value.startswith("zh"):
        return "zh"
    if value in ("en", "english", "英文", "英語", "英语") or value.startswith("en-"):
        return "en"
    return ""


def _stricter(a: str, b: str) -> str:
    return a if ROLES.index(a) >= ROLES.index(b) else b


@dataclass(frozen=True)
class CatalogState:
    """What the index must agree with the catalog on, for one item."""

    revision: int
    visibility: str
    redactions: str  # fingerprint of the redaction spans and the segments they hide
    details: str  # fingerprint of title, description, collection, year, speakers, tags, language
    segments: int

    def to_json(self) -> str:
        return json.dumps(
            [self.revision, self.visibility, self.redactions, self.details, self.segments]
        )

    @classmethod
    def from_json(cls, text: str) -> CatalogState:
        revision, visibility, redactions, details, segments = json.loads(text)
        return cls(int(revision), str(visibility), str(redactions), str(details), int(segments))


def _fingerprint(value: Any) -> str:
    blob = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _details(item: Any) -> list[Any]:
    return [
        item.title_zh,
        item.title_en,
        item.description_zh,
        item.description_en,
        item.collection,
        item.year,
        list(item.speakers),
        list(item.tags),
        item.language,
        item.detected_language,
    ] + ([list(item.withheld_speakers)] if item.withheld_speakers else [])


def _redactions_fingerprint(revision: Any | None) -> str:
    """Changes whenever the item's redaction spans change, even when a span hides no segment of
    the indexed revision, so ``index verify`` (and the nightly repair) notice every change."""
    segments = revision.segments if revision is not None else ()
    hidden = sorted(s.uid for s in segments if s.redacted)
    spans = [[float(a), float(b)] for a, b in getattr(revision, "redactions", ()) or ()]
    # Without spans, the form of earlier versions (a list of uids): unredacted items already
    # indexed are not reported as drifted.
    return _fingerprint([hidden, spans] if spans else hidden)


def catalog_state(item: Any, revision: Any | None) -> CatalogState:
    segments = revision.segments if revision is not None else ()
    return CatalogState(
        revision=revision.revision if revision is not None else 0,
        visibility=item.effective_visibility(),
        redactions=_redactions_fingerprint(revision),
        details=_fingerprint(_details(item)),
        segments=sum(1 for s in segments if s.text_zh.strip() or s.text_en.strip()),
    )


def item_documents(item: Any, revision: Any | None) -> list[dict[str, Any]]:
    """The index documents of one item: its item document, then one per segment.

    ``revision`` is the latest transcript revision (with segments) or None.

    Withheld speakers (:mod:`archive.catalog.access`) are indexed by their labels only, in every field and
    for every role: a real name in any field would let a search below staff confirm that the
    person is in the archive (``speaker:"Name"`` finding nothing while the facets count it, or
    the reverse). Staff find such an item by its label, title or id, and see the name on its
    page and in ``archive show``.
    """

    state = catalog_state(item, revision)
    # Words redacted inside a segment are masked for every role, staff included: one document per
    # segment, so the staff index cannot hold them without the lower roles' holding them too.
    segments_in = (
        mask_segments(label_speakers(item, revision.segments)) if revision is not None else ()
    )
    item = present_item(item, Viewer("public"))
    visibility = state.visibility
    year = str(item.year) if item.year else ""
    item_lang = normalise_lang(item.language if item.language != "auto" else item.detected_language)
    speakers = [s for s in item.speakers if s]
    docs: list[dict[str, Any]] = [
        {
            "kind": "item",
            "item_id": item.id,
            "title": f"{item.title_zh or ''}{TRACK_SEPARATOR}{item.title_en or ''}",
            "title_zh": item.title_zh or "",
            "title_en": item.title_en or "",
            "description": f"{item.description_zh or ''}{TRACK_SEPARATOR}{item.description_en or ''}",
            "people": TRACK_SEPARATOR.join(speakers),
            "tags": TRACK_SEPARATOR.join(item.tags),
            "speaker": TRACK_SEPARATOR.join(speakers),
            "speaker_facet": speakers[0] if speakers else "",
            "speaker_key": speaker_keys(speakers),
            "lang": item_lang,
            "collection": item.collection,
            "year": year,
            "visibility": visibility,
            "visible_to": visible_to(visibility),
            "state": state.to_json(),
            "meta": json.dumps(
                {
                    "speakers": speakers,
                    "tags": list(item.tags),
                    "recorded_date": item.recorded_date,
                },
                ensure_ascii=False,
            ),
        }
    ]
    if revision is None:
        return docs
    for seg in segments_in:
        if not (seg.text_zh.strip() or seg.text_en.strip()):
            continue
        # A redacted segment stays searchable for staff (who must be able to find what they
        # redacted) and is invisible to everyone else.
        seg_visibility = _stricter("staff", visibility) if seg.redacted else visibility
        speaker = seg.speaker or (TRACK_SEPARATOR.join(speakers) if len(speakers) == 1 else "")
        lang = normalise_lang(seg.lang) or ("zh" if seg.text_zh and not seg.text_en else item_lang)
        docs.append(
            {
                "kind": "seg",
                "item_id": item.id,
                "uid": seg.uid,
                "start": float(seg.start),
                "end": float(seg.end),
                "body": f"{seg.text_zh}{TRACK_SEPARATOR}{seg.text_en}",
                "text_zh": seg.text_zh,
                "text_en": seg.text_en,
                "speaker": speaker,
                "speaker_facet": speaker,
                "speaker_key": speaker_keys([seg.speaker] if seg.speaker else speakers[:1]),
                "lang": lang,
                "collection": item.collection,
                "year": year,
                "visibility": seg_visibility,
                "visible_to": visible_to(seg_visibility),
            }
        )
    return docs
