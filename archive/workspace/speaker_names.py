"""Telling staff where a withheld speaker's name still stands, and which new names come close to it.

Withholding (:mod:`archive.workspace.disclosure`) covers a name wherever the archive *knows* it is
that speaker: the item's speaker list, every segment's speaker, and the speaker list of the event
the item is the recording of. Free text it does not rewrite: a title, a description or a
transcript sentence that says the name, or another item or event that names the same person.
:func:`where_named` finds those places for staff, so that they can edit or redact them.

Names are compared by :func:`archive.catalog.access.speaker_key` (case, spaces, punctuation,
Traditional or Simplified script do not count). :func:`close_names` says when two different keys
are still probably one person: a few letters apart (Levenshtein distance through RapidFuzz: at
most 1 for short names, 2 from five letters on), or one holding the other ("Lam Wing-sze" and
"Dr Lam Wing-sze"). Numbered names ("SPEAKER 1", "SPEAKER 2") are different people.

In running text a name is found as whole words: Chinese characters one by one, letters and digits
in runs, so "Lee" is found in "Mr Lee said" but not in "sleep".
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from archive.catalog.access import speaker_key
from archive.catalog.db import Catalog
from transcripts.chinese import fold

__all__ = ["NameMatch", "Place", "close_names", "name_words", "where_named", "withheld_near"]

_WORD_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]|[^\W_]+")


def close_names(a: str, b: str) -> bool:
    """Whether two different spellings are probably one person's name (see the module)."""
    ka, kb = speaker_key(a), speaker_key(b)
    if not ka or not kb or ka == kb:
        return False
    if re.sub(r"\D", "", ka) != re.sub(r"\D", "", kb):
        return False  # SPEAKER 1 and SPEAKER 2
    shorter = min(len(ka), len(kb))
    if shorter >= 3 and (ka in kb or kb in ka):
        return True
    limit = 1 if shorter < 5 else 2
    return Levenshtein.distance(ka, kb, score_cutoff=limit) <= limit


def name_words(text: str) -> list[str]:
    """The words of a text as names are looked for in it (folded like :func:`speaker_key`)."""
    folded = fold(unicodedata.normalize("NFKC", text or "")).casefold()
    return _WORD_RE.findall(folded)


def _says(words: Sequence[str], name: Sequence[str]) -> bool:
    n = len(name)
    if not n:
        return False
    first = name[0]
    return any(
        words[i] == first and list(words[i : i + n]) == list(name)
        for i in range(len(words) - n + 1)
    )


@dataclass(frozen=True)
class NameMatch:
    """A new speaker name close to a name withheld on ``item_id`` as ``label``."""

    name: str
    withheld: str
    item_id: str
    label: str


def withheld_near(
    catalog: Catalog, names: Iterable[str], *, items: Sequence[str] | None = None
) -> list[NameMatch]:
    """Every withheld name (of any item, or of ``items``) that one of ``names`` is, in another
    spelling (:func:`speaker_key`), or is close to (:func:`close_names`)."""
    wanted = [n for n in dict.fromkeys(names) if n and speaker_key(n)]
    if not wanted:
        return []
    rows = catalog.conn.execute(
        "SELECT id, withheld_speakers FROM items WHERE withheld_speakers != '[]' ORDER BY id"
    ).fetchall()
    out: list[NameMatch] = []
    for row in rows:
        if items is not None and row["id"] not in items:
            continue
        for withheld, label in json.loads(row["withheld_speakers"] or "[]"):
            out.extend(
                NameMatch(name, withheld, row["id"], label)
                for name in wanted
                if speaker_key(name) == speaker_key(withheld) or close_names(name, withheld)
            )
    return out


@dataclass(frozen=True)
class Place:
    """Somewhere a withheld name still stands. ``covered``: withholding already shows the label
    there below staff (said for completeness); otherwise staff must edit or redact it."""

    kind: str  # "item" or "event"
    id: str
    field: str  # title, description, speakers, transcript, transcript speakers
    visibility: str
    covered: bool = False
    count: int = 1

    def describe(self) -> str:
        what = f"{self.kind} {self.id} ({self.visibility})"
        where = self.field if self.count == 1 else f"{self.field} ({self.count} segments)"
        tail = (
            "shown as its label below staff" if self.covered else "not covered: edit or redact it"
        )
        return f"{what}: {where}; {tail}"


def _latest_segments(catalog: Catalog) -> Iterable[tuple[str, str, str, str]]:
    return catalog.conn.execute(
        "SELECT t.item_id, s.text_zh, s.text_en, s.speaker FROM segments s "
        "JOIN transcripts t ON t.id = s.transcript_id "
        "WHERE t.revision = (SELECT MAX(revision) FROM transcripts u WHERE u.item_id = t.item_id)"
    ).fetchall()


def where_named(catalog: Catalog, item_id: str, names: Iterable[str]) -> list[Place]:
    """Where else the archive names the person ``names`` spell (a withheld speaker of ``item_id``):
    free text of the item itself, the events (their speakers, titles and descriptions, the event
    ``item_id`` is the recording of included), and every other item's speakers, titles,
    descriptions and latest transcript. Names in speaker lists are matched by key and closeness,
    in text as whole words."""
    spelled = [n for n in dict.fromkeys(names) if speaker_key(n)]
    keys = {speaker_key(n) for n in spelled}
    phrases = [w for w in (name_words(n) for n in spelled) if w]

    def listed(values: Iterable[str]) -> bool:
        return any(
            speaker_key(v) in keys or any(close_names(v, n) for n in spelled) for v in values
        )

    def says(*texts: str) -> bool:
        return any(_says(name_words(t), p) for t in texts if t for p in phrases)

    places: list[Place] = []
    items = catalog.conn.execute(
        "SELECT id, title_zh, title_en, description_zh, description_en, speakers, visibility "
        "FROM items ORDER BY id"
    ).fetchall()
    visibility = {r["id"]: r["visibility"] for r in items}
    for r in items:
        own = r["id"] == item_id
        if not own and listed(json.loads(r["speakers"] or "[]")):
            places.append(Place("item", r["id"], "speakers", r["visibility"]))
        for field in ("title", "description"):
            if says(r[f"{field}_zh"], r[f"{field}_en"]):
                places.append(Place("item", r["id"], field, r["visibility"]))
    spoken: dict[tuple[str, str], int] = {}
    for seg_item, text_zh, text_en, speaker in _latest_segments(catalog):
        if seg_item != item_id and speaker and listed([speaker]):
            spoken[(seg_item, "transcript speakers")] = (
                spoken.get((seg_item, "transcript speakers"), 0) + 1
            )
        if says(text_zh, text_en):
            spoken[(seg_item, "transcript")] = spoken.get((seg_item, "transcript"), 0) + 1
    for (seg_item, field), count in sorted(spoken.items()):
        places.append(
            Place("item", seg_item, field, visibility.get(seg_item, "staff"), count=count)
        )
    # The hub's events live in the catalog's own database (migration 2); read as stored.
    events = catalog.conn.execute(
        "SELECT id, title_zh, title_en, description_zh, description_en, speakers, item_id, "
        "visibility FROM events ORDER BY start_utc, id"
    ).fetchall()
    for e in events:
        if listed(json.loads(e["speakers"] or "[]")):
            # The recording's event: archive.hub.events.present_event labels these names (and
            # close spellings of them) below staff.
            covered = e["item_id"] == item_id
            places.append(Place("event", e["id"], "speakers", e["visibility"], covered=covered))
        for field in ("title", "description"):
            if says(e[f"{field}_zh"], e[f"{field}_en"]):
                places.append(Place("event", e["id"], field, e["visibility"]))
    return places
