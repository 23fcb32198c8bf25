"""Links into the light portal (:mod:`archive.portal.lite`), and where a page lives in the other
version: portal page → light page, and back.

Kept beside the light package, not in it, so the portal's header (:mod:`archive.portal.ui`)
can use it without the light pages' imports. The portal's header links the light equivalent of the page being read
(:func:`lite_for_portal`), the first paint's "open the light version" link uses it too, and every
light page links its full-version twin (:func:`portal_for_lite`). Both give same-origin paths only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from archive.core.moments import moment_param
from archive.hub.times import check_timezone
from archive.portal.i18n import normalise_lang

__all__ = [
    "LITE_PREFIX",
    "TEXT_PARAMS",
    "carried",
    "lite_for_portal",
    "lite_href",
    "part",
    "portal_for_lite",
]

LITE_PREFIX = "/lite"


def part(value: str) -> str:
    """One path segment (an item, event or series id), percent-encoded whole."""
    return _strict(str(value))


def lite_href(path: str, params: dict[str, Any] | None = None, fragment: str = "") -> str:
    """A same-origin link into the light portal: ``/lite`` + ``path``, the parameters that have
    a value (URL-encoded; :data:`TEXT_PARAMS` strictly), and a fragment. Never an absolute URL."""
    pairs = [(k, str(v)) for k, v in (params or {}).items() if v not in (None, "")]
    query = "&".join(
        f"{quote(k, safe='')}={_strict(v) if k in TEXT_PARAMS else quote(v, safe='')}"
        for k, v in pairs
    )
    return (
        LITE_PREFIX + path + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
    )


# Parameters that carry text a person typed or a crafted link brought (a search): written with
# every character but ASCII letters and digits percent-encoded, so no link's address ever spells
# a planted host or address (``tracker.example`` becomes ``tracker%2Eexample``); the server
# decodes it to the very same text.
TEXT_PARAMS = frozenset({"q"})


def _strict(value: str) -> str:
    return "".join(
        ch if ch.isascii() and ch.isalnum() else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        for ch in value
    )


def _value(params: Mapping[str, object], name: str) -> str:
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return str(value or "").strip()


def _moment(value: str) -> str:
    """A ``t=`` worth carrying over (seconds, or ``m:ss``), as ``moment_param`` writes it."""
    try:
        seconds = 0.0
        for piece in value.split(":"):
            seconds = seconds * 60 + float(piece)
    except ValueError:
        return ""
    return moment_param(seconds) if value else ""


def _zone(value: str) -> str:
    try:
        check_timezone(value)
    except Exception:  # not a zone: not carried over
        return ""
    return value


def lite_for_portal(url_path: str, params: Mapping[str, object]) -> str:
    """The light page for the portal's page ``url_path`` (``""``/``home``, ``search``, ``item`` …)
    with its query parameters (``q``, ``item``, ``t``, ``rev``, ``event``, ``series``, ``lang``,
    ``tz``). Only what is what it claims to be is carried over: a moment, a revision number, a
    language, a time zone; the rest of a crafted link is left behind."""
    page = url_path.strip("/") or "home"
    keep = {"lang": normalise_lang(_value(params, "lang")) or "", "tz": _zone(_value(params, "tz"))}
    q, item, event, series = (_value(params, k) for k in ("q", "item", "event", "series"))
    if page == "home" and item:
        page = "item"
    if page == "home" and event:
        page = "event"
    if page in ("home", "search") and q:
        return lite_href("/search", {"q": q, **keep})
    if page == "item" and item:
        rev = _value(params, "rev")
        extra = {"t": _moment(_value(params, "t")), "rev": rev if rev.isdigit() else ""}
        return lite_href(f"/item/{part(item)}", {**extra, **keep})
    if page == "event" and event:
        return lite_href(f"/event/{part(event)}", keep)
    if page == "series":
        return lite_href(f"/series/{part(series)}" if series else "/series", keep)
    target = {"search": "/search", "browse": "/browse", "upcoming": "/events", "event": "/events"}
    return lite_href(target.get(page, "/"), keep)


def carried(params: Mapping[str, str]) -> dict[str, str]:
    """The parameters of a light page worth carrying into its other-language link: a search
    (strictly encoded by :func:`lite_href`), a moment, numbers, and plain words (a style, a
    collection); anything else a crafted link brought is left behind."""
    out: dict[str, str] = {}
    for key, value in params.items():
        value = str(value or "")
        if key == "q":
            out[key] = value[:300]
        elif key == "t" and _moment(value):
            out[key] = _moment(value)
        elif (
            key in ("rev", "page")
            and value.isdigit()
            or key in ("style", "collection")
            and re.fullmatch(r"[a-z0-9-]{1,40}", value)
        ):
            out[key] = value
    return out


def portal_for_lite(path: str, params: Mapping[str, str]) -> str:
    """The portal's page for a light ``path`` (relative to ``/lite``, its ids encoded by
    :func:`part`) and its parameters, carrying over only checked values (as
    :func:`lite_for_portal`); free text and ids strictly encoded."""
    keep = {
        "lang": normalise_lang(params.get("lang")) or "",
        "tz": _zone(str(params.get("tz") or "")),
    }
    pieces = [unquote(p) for p in path.split("/") if p]
    kind, ident = (pieces + ["", ""])[:2]
    rev = str(params.get("rev") or "")
    if kind == "search":
        target, extra = "/", {"q": str(params.get("q") or "")}
    elif kind == "item" and ident:
        moment = _moment(str(params.get("t") or ""))
        target, extra = "/item", {"item": ident, "t": moment, "rev": rev if rev.isdigit() else ""}
    elif kind == "event" and ident:
        target, extra = "/event", {"event": ident}
    elif kind == "events":
        target, extra = "/upcoming", {}
    elif kind == "series":
        target, extra = "/series", ({"series": ident} if ident else {})
    elif kind == "browse":
        target, extra = "/browse", {}
    else:
        target, extra = "/", {}
    strict = ("q", "item", "event", "series")
    query = "&".join(
        f"{k}={_strict(v) if k in strict else quote(v, safe='')}"
        for k, v in {**extra, **keep}.items()
        if v
    )
    return target + (f"?{query}" if query else "")
