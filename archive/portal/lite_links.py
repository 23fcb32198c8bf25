"""Links into the light portal (:mod:`archive.portal.lite`), and where a page lives in the other
version: portal page → light page, and back.

Kept beside the light package, not in it, so the portal's header (:mod:`archive.portal.ui`)
can use it without the light pages' imports. The portal's header links the light equivalent of the page being read
(:func:`lite_for_portal`), the first paint's "open the light version" link uses it too, and every
light page links its full-version twin (:func:`portal_for_lite`). Both give same-origin paths only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

__all__ = ["LITE_PREFIX", "lite_for_portal", "lite_href", "part", "portal_for_lite"]

LITE_PREFIX = "/lite"


def part(value: str) -> str:
    """One path segment (an item, event or series id), percent-encoded whole."""
    return quote(str(value), safe="")


def lite_href(path: str, params: dict[str, Any] | None = None, fragment: str = "") -> str:
    """A same-origin link into the light portal: ``/lite`` + ``path``, the parameters that have
    a value (URL-encoded), and a fragment. Never an absolute URL."""
    query = urlencode({k: str(v) for k, v in (params or {}).items() if v not in (None, "")})
    return (
        LITE_PREFIX + path + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
    )


def _value(params: Mapping[str, object], name: str) -> str:
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return str(value or "").strip()


def lite_for_portal(url_path: str, params: Mapping[str, object]) -> str:
    """The light page for the portal's page ``url_path`` (``""``/``home``, ``search``, ``item`` …)
    with its query parameters (``q``, ``item``, ``t``, ``rev``, ``event``, ``series``, ``lang``)."""
    page = url_path.strip("/") or "home"
    keep = {k: _value(params, k) for k in ("lang", "tz")}
    q, item, event, series = (_value(params, k) for k in ("q", "item", "event", "series"))
    if page == "home" and item:
        page = "item"
    if page == "home" and event:
        page = "event"
    if page in ("home", "search") and q:
        return lite_href("/search", {"q": q, **keep})
    if page == "item" and item:
        extra = {"t": _value(params, "t"), "rev": _value(params, "rev")}
        return lite_href(f"/item/{part(item)}", {**extra, **keep})
    if page == "event" and event:
        return lite_href(f"/event/{part(event)}", keep)
    if page == "series":
        return lite_href(f"/series/{part(series)}" if series else "/series", keep)
    target = {"search": "/search", "browse": "/browse", "upcoming": "/events", "event": "/events"}
    return lite_href(target.get(page, "/"), keep)


def portal_for_lite(path: str, params: Mapping[str, str]) -> str:
    """The portal's page for a light ``path`` (relative to ``/lite``) and its parameters."""
    keep = {k: params[k] for k in ("lang", "tz") if params.get(k)}
    pieces = [p for p in path.split("/") if p]
    kind, ident = (pieces + ["", ""])[:2]
    if kind == "search":
        target, extra = "/", {"q": params.get("q", "")}
    elif kind == "item" and ident:
        target, extra = (
            "/item",
            {"item": ident, "t": params.get("t", ""), "rev": params.get("rev", "")},
        )
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
    query = urlencode({k: v for k, v in {**extra, **keep}.items() if v})
    return target + (f"?{query}" if query else "")
