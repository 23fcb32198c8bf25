"""One engine index per role inside each generation, so that a role's scores come from what it
may read (security issue 18, point 6).

Ranking statistics — how many documents hold a word, how long a field is on average — are an
engine's, taken over the index it searches. With one index for everyone, a staff-only item or a
redacted sentence holding a word made that word rarer or commoner for the public too, and the
public order of two tied items told a visitor so. Each generation therefore holds:

    gen-<stamp>/               the staff index: every document (as before)
    gen-<stamp>/role-public/   only the documents the public may see
    gen-<stamp>/role-members/  only the documents members may see

Each is a complete index of the generation's engine, written from the same documents in the same
commit order for every update: **public first, members next, staff last**. The staff index's item
documents are the record ``verify`` compares with the catalog, so a crash between the commits
leaves the staff index behind and the item reported; the lower roles never hold more than the
catalog allows (a hiding or a redaction reaches them first). ``verify`` also compares each role's
item states with the staff index's, which names an item whose update reached only some of them.

What remains: a document deleted from a role's index still counts in that engine's statistics
until the segment holding it is merged (both Whoosh and tantivy keep deleted documents in their
term counts until then). Only text the role could once read is counted that way (an item that was
public and is now hidden, a sentence redacted after it was public); the nightly ``rebuild``
clears it. A generation written before this layout has no ``role-*`` folders: its roles are
searched through the role filter of the one index, and ``verify`` reports it for a rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .engine import EngineSnapshot
from .results import VerifyProblem

__all__ = ["ROLE_FOLDERS", "WRITE_ORDER", "docs_for_role", "is_layered", "role_drift", "role_path"]

# The roles below staff, each with its own index folder inside a generation.
ROLE_FOLDERS = {"public": "role-public", "members": "role-members"}
# The order every change is committed in: the most restricted first (see the module's text).
WRITE_ORDER = ("public", "members", "staff")
LEGACY_PROBLEM = (
    "the search index predates per-role ranking (a role's order could depend on text it may "
    "not read); it is rebuilt"
)


def is_layered(generation: Path) -> bool:
    """Whether ``generation`` holds an index per role (written since per-role ranking)."""
    return all((generation / folder).is_dir() for folder in ROLE_FOLDERS.values())


def role_path(generation: Path, role: str) -> Path:
    """The folder of ``role``'s index in ``generation`` (staff, and every role of an older
    generation: the generation folder itself)."""
    folder = ROLE_FOLDERS.get(role)
    if folder is None or not is_layered(generation):
        return generation
    return generation / folder


def docs_for_role(docs: Iterable[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    """The documents of ``docs`` that ``role`` may see (each lists its roles in ``visible_to``)."""
    if role == "staff":
        return list(docs)
    return [doc for doc in docs if role in str(doc.get("visible_to", "")).split()]


def role_drift(staff: EngineSnapshot, roles: Mapping[str, EngineSnapshot]) -> list[VerifyProblem]:
    """Items whose documents in a role's index were not built from the staff index's state
    (an update that committed to some role indexes only), or that the role may not see."""
    expected = staff.items()
    problems: dict[str, VerifyProblem] = {}
    for role, snapshot in roles.items():
        held = snapshot.items()
        for item_id, meta in held.items():
            want = expected.get(item_id)
            if want is None or want.state != meta.state:
                problems.setdefault(
                    item_id, VerifyProblem(item_id, f"the {role} search index is out of step")
                )
        for item_id, meta in expected.items():
            visible = meta.state is not None and _sees(role, meta.state.visibility)
            if visible and item_id not in held:
                problems.setdefault(
                    item_id, VerifyProblem(item_id, f"missing from the {role} search index")
                )
            if not visible and item_id in held:
                problems.setdefault(
                    item_id, VerifyProblem(item_id, f"in the {role} search index, above its role")
                )
    return list(problems.values())


def _sees(role: str, visibility: str) -> bool:
    order = ("public", "members", "staff")
    return visibility in order and order.index(visibility) <= order.index(role)
