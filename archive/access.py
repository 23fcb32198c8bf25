"""Who may see what. Every read path (portal, search, exports, citations, media, feeds) asks here.

Roles are ordered ``public`` < ``members`` < ``staff``. An item above the viewer's role does not
exist for them: the same :class:`NotFoundError` as a wrong id, so its existence does not leak. A
redacted segment keeps its time span (the recording still runs) but its text is gone for anyone
below staff.
"""

from __future__ import annotations

from dataclasses import dataclass

from transcripts.segments import Segment

from .catalog import Catalog, Item, TranscriptRevision, role_allows
from .config import ROLES
from .errors import InputError, NotFoundError

__all__ = ["ROLES", "Viewer", "check_role", "visible_item", "visible_segments", "visible_revision"]

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


def visible_item(catalog: Catalog, item_id: str, viewer: Viewer) -> Item:
    """The item, or NotFoundError when it does not exist *or* the viewer may not see it."""
    item = catalog.find_item(item_id)
    if item is None or not viewer.may_see(item):
        raise NotFoundError(f"no item {item_id}")
    return item


def visible_segments(
    segments: tuple[Segment, ...] | list[Segment], viewer: Viewer
) -> tuple[Segment, ...]:
    """Segments as the viewer may read them: redacted ones lose their text below staff."""
    if viewer.is_staff:
        return tuple(segments)
    return tuple(
        s.with_(text_zh="", text_en="", text_raw="", words=(), speaker="") if s.redacted else s
        for s in segments
    )


def visible_revision(
    catalog: Catalog, item_id: str, viewer: Viewer, revision: int | None = None
) -> tuple[Item, TranscriptRevision]:
    """An item and one revision of its transcript, filtered for the viewer."""
    item = visible_item(catalog, item_id, viewer)
    rev = catalog.get_revision(item_id, revision)
    return item, TranscriptRevision(
        **{k: getattr(rev, k) for k in rev.__dataclass_fields__ if k != "segments"},
        segments=visible_segments(rev.segments, viewer),
    )
