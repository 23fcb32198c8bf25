"""The mirror's search: a Pagefind index of every public text, and what the browser needs to
query it (the folding table and the glossary).

Search runs in the browser. Every text is indexed in its *folded* form
(:func:`transcripts.chinese.fold`: Simplified, lower-case, half-width), and the page folds the
query with the same table (:func:`fold_table`, generated from OpenCC's dictionaries into
``assets/fold.json``), so Traditional, Hong Kong and Simplified spellings all meet; glossary terms
named in a query are also searched in their other forms (``assets/glossary.json``), so ``dock
strike`` finds 碼頭工人罷工. Each transcript segment is a section of its item's search record
whose anchor is the page's ``#t=SECONDS`` (:func:`archive.preservation.mirror_pages.moment_text`):
a hit opens the item at that second. Only what :mod:`archive.preservation.mirror_gather` gathered
(public items, redacted segments dropped) is indexed.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from archive.core.config import Settings
from archive.core.errors import ConfigError
from archive.preservation.mirror_files import MirrorError, MirrorFiles
from archive.preservation.mirror_gather import MirrorEntry
from archive.preservation.mirror_pages import escape, moment_text
from indexer.analysis import TRACK_SEPARATOR
from indexer.glossary import form_key, load_glossary
from indexer.glossary_access import TextOccurrence, readable_glossary
from transcripts.chinese import fold

__all__ = [
    "build_search",
    "fold_table",
    "search_document",
    "write_search_aids",
]


def search_document(entry: MirrorEntry) -> str:
    """What Pagefind indexes for one item (never written to the mirror as a page).

    Visible text is the original (it is what a result shows); the folded copy after it is what
    queries, folded the same way in the browser, match. Each segment is a heading whose id is
    ``t=START``, so Pagefind returns it as a sub-result linking to that moment.
    """
    item = entry.item
    meta = {
        "item": item.id,
        "title_zh": item.title_zh,
        "title_en": item.title_en,
        "date": item.recorded_date or "",
        "collection": item.collection,
    }
    meta_tags = "".join(
        f'<span data-pagefind-meta="{key}:{escape(value)}"></span>'
        for key, value in meta.items()
        if value
    )
    about = " ".join(
        [
            item.title_zh,
            item.title_en,
            item.description_zh,
            item.description_en,
            " ".join(item.speakers),
            " ".join(item.tags),
        ]
    )
    sections = []
    for s in entry.segments:
        shown = " ".join(p for p in (s.text_zh, s.text_en) if p)
        sections.append(
            f'<h2 id="t={moment_text(s.start)}">{escape(shown)}</h2><p>{escape(fold(shown))}</p>'
        )
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>'
        f"{escape(item.title_zh or item.title_en or item.id)}</title></head><body><main data-pagefind-body>"
        f"{meta_tags}<h1>{escape(fold(item.title_zh + ' ' + item.title_en))}</h1><p>{escape(fold(about))}</p>"
        + "".join(sections)
        + "</main></body></html>"
    )


# -- the folding table and the glossary for the browser ----------------------------------------


_HAN_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x3007, 0x3007))


@lru_cache(maxsize=1)
def fold_table() -> dict[str, str]:
    """Every Han character that :func:`fold` changes, and to what: OpenCC's Hong Kong/Traditional →
    Simplified character conversions (plus compatibility ideographs). Folding is character by
    character, so no phrase table is needed; other characters are folded in the page itself
    (NFKC and lower case), exactly as ``fold`` does."""
    table: dict[str, str] = {}
    for start, end in _HAN_BLOCKS:
        chars = "".join(chr(c) for c in range(start, end + 1))
        folded = fold(chars)  # same length: one character per character
        for a, b in zip(chars, folded, strict=True):
            if a != b:
                table[a] = b
    # Non-Han characters whose folding a browser's NFKC + toLowerCase would do differently are
    # rare; the full-width Latin letters and digits are checked here to be sure.
    for code in range(0xFF01, 0xFF5F):
        ch = chr(code)
        expected = fold(ch)
        normal = unicodedata.normalize("NFKC", ch).lower()
        if expected != normal:
            table[ch] = expected
    return table


def _glossary_for_browser(settings: Settings, entries: list[MirrorEntry]) -> list[list[list[str]]]:
    """Glossary entries as ``[[zh forms], [en forms], [zh as written], [en as written], [also],
    [also as written]]``: the first two folded like the index (for matching), the next two for
    showing what was also searched; the last two are the forms of other entries the portal's
    search expands this entry to (:meth:`indexer.glossary.Glossary.expansion_forms`).

    The glossary is the portal's (:func:`indexer.glossary.load_glossary`: shipped plus the data
    folder's own) as the public may have it, by the portal's own rule
    (:func:`indexer.glossary_access.readable_glossary`): a form only the local glossary has goes
    in only when it occurs, as whole words, in the public text the mirror holds; the entry's
    other forms are judged each on their own, so one public word does not publish the rest."""
    texts = [
        text
        for e in entries
        for text in (
            e.item.title_zh,
            e.item.title_en,
            e.item.description_zh,
            e.item.description_en,
            TRACK_SEPARATOR.join(e.item.speakers),
            TRACK_SEPARATOR.join(e.item.tags),
            *(f"{s.text_zh}{TRACK_SEPARATOR}{s.text_en}" for s in e.segments),
        )
    ]
    glossary = readable_glossary(load_glossary(settings.home), occurs=TextOccurrence(texts))
    out: list[list[list[str]]] = []
    for entry in glossary.entries:
        zh = _forms(entry.zh)
        en = _forms(entry.en)
        if zh or en:
            # What the portal's search also expands this entry's forms to (the English of longer
            # Chinese terms containing it, the other entries of an English word family), from the
            # same readable glossary and bounded the same way (MAX_ENTRIES_PER_TERM).
            own = set(entry.forms)
            also = _forms(
                form
                for key in dict.fromkeys(form_key(f) for f in entry.forms if f.strip())
                for form in glossary.expansion_forms(key)
                if form not in own
            )
            out.append(
                [
                    [f for f, _ in zh], [f for f, _ in en], [w for _, w in zh], [w for _, w in en],
                    [f for f, _ in also], [w for _, w in also],
                ]
            )  # fmt: skip
    return out


def _forms(forms: Iterable[str]) -> list[tuple[str, str]]:
    """(folded, as written) pairs, one per folded form, longest first."""
    seen: dict[str, str] = {}
    for form in forms:
        if form.strip():
            seen.setdefault(fold(form).strip(), form.strip())
    return sorted(seen.items(), key=lambda pair: len(pair[0]), reverse=True)


def write_search_aids(out: MirrorFiles, settings: Settings, entries: list[MirrorEntry]) -> None:
    """``assets/fold.json`` and ``assets/glossary.json``: what the page needs to fold a query
    and widen it with glossary forms, exactly as the index was folded."""
    out.put(
        "assets/fold.json",
        json.dumps(fold_table(), ensure_ascii=False, separators=(",", ":"), sort_keys=True),
    )
    out.put(
        "assets/glossary.json",
        json.dumps(
            _glossary_for_browser(settings, entries), ensure_ascii=False, separators=(",", ":")
        ),
    )


# -- Pagefind ----------------------------------------------------------------------------------


def build_search(out: MirrorFiles, documents: list[tuple[str, str]], tmp_parent: Path) -> None:
    """Index the search documents with the Pagefind program and put its bundle under pagefind/.

    The documents are written to a scratch folder and indexed by the command-line program (its
    Python service API costs a round trip per document: twenty times slower here). One index
    for both interface languages, with Chinese word segmentation (the extended build).
    """
    from pagefind.service import get_executable

    executable = get_executable()
    if executable is None:
        raise ConfigError("the Pagefind program is missing: pip install 'pagefind[extended]'")
    with tempfile.TemporaryDirectory(dir=tmp_parent, prefix="pagefind-") as tmp:
        site, target = Path(tmp) / "site", Path(tmp) / "pagefind"
        for url, document in documents:
            path = site / url
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(document, encoding="utf-8")
        result = subprocess.run(
            [str(executable), "--site", str(site), "--output-path", str(target), "--force-language", "zh", "--quiet"],
            capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        if result.returncode != 0 or not (target / "pagefind.js").is_file():
            detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise MirrorError(f"the search index could not be built: {detail[0]}")
        for path in sorted(target.rglob("*")):
            if path.is_file():
                out.put(f"pagefind/{path.relative_to(target).as_posix()}", path.read_bytes())
