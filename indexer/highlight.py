"""Highlighting on the original text.

The index holds folded, stemmed tokens; the reader must see the words *as the transcript has them*
(Hong Kong Traditional characters, original capitals). :func:`analyze` gives every token its span in
the original string (folding is one character for one character), so highlighting is: analyse the
stored original text again, find the tokens the query matched, wrap their spans in ``<mark>``.

Only text the caller passes in is ever marked: hits are already limited to the viewer's role, so
nothing here can reveal a hidden segment.
"""

from __future__ import annotations

import html

from .analysis import analyze, fold
from .query import HighlightSpec

__all__ = ["highlight_html", "match_spans"]


def match_spans(text: str, spec: HighlightSpec) -> list[tuple[int, int]]:
    """Merged ``[start, end)`` spans of ``text`` that the query matched."""
    if not text:
        return []
    toks = analyze(text)
    spans: list[tuple[int, int]] = []
    by_pos: dict[int, list[int]] = {}
    for i, tok in enumerate(toks):
        by_pos.setdefault(tok.pos, []).append(i)
    for tok in toks:
        if (
            tok.text in spec.terms
            or not tok.han
            and any(tok.text.startswith(p) for p in spec.prefixes)
        ):
            spans.append((tok.start, tok.end))
    if spec.han_chars:
        folded = fold(text)
        spans.extend((i, i + 1) for i, ch in enumerate(folded) if ch in spec.han_chars)
    for phrase in spec.phrases:
        first = phrase[0]
        for tok in toks:
            if tok.text != first:
                continue
            end = tok.end
            for offset, want in enumerate(phrase[1:], start=1):
                nxt = [toks[j] for j in by_pos.get(tok.pos + offset, ()) if toks[j].text == want]
                if not nxt:
                    break
                end = nxt[0].end
            else:
                spans.append((tok.start, end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def highlight_html(text: str, spec: HighlightSpec) -> str:
    """``text`` HTML-escaped, with every matched span wrapped in ``<mark>…</mark>``."""
    out: list[str] = []
    pos = 0
    for start, end in match_spans(text, spec):
        out.append(html.escape(text[pos:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)
