"""The one way outside text reaches a page: as inert text, never as Markdown, HTML or a link.

Outside text is every string that came from a person (staff's titles, speakers, tags), a source
page (yt-dlp's title, description, chapters), a subtitle file (cue text), a search index built from
those, or a URL parameter (``?q=``). Streamlit reads Markdown in almost everything it shows —
``st.markdown``, ``st.title``, ``st.caption``, alerts, page-link, button, tab and expander labels,
widget labels, ``help`` tooltips, radio/pills/segmented-control options — and still reads Markdown
*inside* ``unsafe_allow_html`` blocks, where HTML-escaping alone leaves ``![x](http://…)`` an image
the reader's browser fetches. So:

- :func:`md` — a Markdown context (the text is one line; newlines become spaces).
- :func:`html_text` — a text node inside an ``unsafe_allow_html`` block (``lines=True`` keeps line
  breaks as ``<br>``).
- :func:`attr` — an attribute value inside such a block (alt text, titles, ``data-*``).
- :func:`marked_html` — a search highlight (``<mark>`` around matched words, the rest outside text).
- :func:`link_url` — a URL shown as a link: ``http(s)`` only, else ``None``.

:func:`md` and :func:`html_text` write every ASCII punctuation character as a numeric character
reference (``[`` → ``&#91;``). CommonMark treats a character reference as a literal character, never as
syntax, and a browser decodes it inside raw HTML too, so the same output is inert whether Streamlit
reads it as Markdown, as inline HTML in a Markdown paragraph, or as an HTML block (where a
backslash escape would show as a backslash). Streamlit's GFM autolinking runs *after* parsing, on
the decoded text, so ``http://`` / ``www.`` / ``name@host`` get an invisible WORD JOINER (U+2060)
that breaks the pattern without changing what the reader sees.

Plain-text places must get the raw string, not these: ``st.selectbox``/``st.multiselect`` options
(measured: shown as plain text, so an escaped string would show its ``&#…;``), ``st.text``,
``st.code``, ``st.dataframe`` cells, text-input values, file names.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

__all__ = [
    "WORD_JOINER",
    "attr",
    "html_text",
    "link_url",
    "marked_html",
    "md",
]

WORD_JOINER = "\u2060"

# Every ASCII character that is not a letter, digit or space: Markdown's and HTML's syntax all
# lives here (CommonMark's backslash-escapable set is exactly ASCII punctuation).
_SPECIAL = frozenset(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum())
_REFS = {ch: f"&#{ord(ch)};" for ch in _SPECIAL}
# What GFM's literal autolinks start at (mdast-util-gfm-autolink-literal, case-insensitive):
# ``http://``, ``https://``, ``www.``, and an e-mail address's ``@``.
_AUTOLINK = re.compile(r"(?i)(https?)(?=:)|(www)(?=\.)|(@)")
# C0/C1 controls other than tab and newline: never meant to be shown.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def _clean(text: object) -> str:
    return _CONTROL.sub("", "" if text is None else str(text))


def _encode(text: str) -> str:
    broken = _AUTOLINK.sub(lambda m: m.group(0) + WORD_JOINER, text)
    return "".join(_REFS.get(ch, ch) for ch in broken)


def md(text: object) -> str:
    """``text`` for a Markdown context, shown exactly as written (one line).

    For ``st.markdown``/``st.title``/``st.caption``/alerts and every label Streamlit renders as
    Markdown. Leading spaces are written as references too, so no indented code block can start.
    """
    flat = _NEWLINES.sub(" ", _clean(text)).replace("\t", " ")
    body = flat.lstrip(" ")
    return "&#32;" * (len(flat) - len(body)) + _encode(body)


def html_text(text: object, *, lines: bool = False) -> str:
    """``text`` as a text node inside an ``unsafe_allow_html`` block (HTML- and Markdown-inert).

    With ``lines``, line breaks become ``<br>`` (descriptions); otherwise spaces. The result never
    holds a raw newline, so the block it goes into is never split into Markdown paragraphs.
    """
    parts = _NEWLINES.split(_clean(text).replace("\t", " "))
    encoded = [md(part) for part in parts]
    return ("<br>" if lines else " ").join(encoded)


def attr(text: object) -> str:
    """``text`` as an attribute value (inside double quotes) in an ``unsafe_allow_html`` block.

    HTML-escaped with quotes, on one line: CommonMark then reads the whole tag as raw HTML and
    never looks for Markdown inside it, and the browser decodes the value. Not for URLs from
    outside: see :func:`link_url`.
    """
    return html.escape(_NEWLINES.sub(" ", _clean(text)), quote=True)


_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def marked_html(highlighted: str) -> str:
    """A search highlight (HTML-escaped text with ``<mark>`` spans, as the indexer makes it) made
    inert: the marks are kept, every piece of text between them goes through :func:`html_text`."""
    out: list[str] = []
    pos = 0
    for found in _MARK.finditer(highlighted or ""):
        out.append(html_text(html.unescape(highlighted[pos : found.start()])))
        out.append("<mark>" + html_text(html.unescape(found.group(1))) + "</mark>")
        pos = found.end()
    out.append(html_text(html.unescape((highlighted or "")[pos:])))
    return "".join(out)


def link_url(url: object) -> str | None:
    """``url`` if it may be shown as a link (an absolute ``http``/``https`` URL with a host and no
    spaces or control characters), else ``None``: no ``javascript:``, ``data:``, relative or
    scheme-less links."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(ch.isspace() for ch in text) or _CONTROL.search(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text
