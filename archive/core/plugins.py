"""How the archive's packages plug into the parts that run them, without those parts knowing them.

A package that adds a command, a job kind, a periodic task or a reaction to an archived item
declares it as an **entry point** of the distribution (``[project.entry-points.…]`` in
``pyproject.toml``), next to the other packages' declarations; the part that runs such things (the
command line, the job worker) asks this module for what is declared in its group. That keeps the
layers one way: the queue imports no handler, the command line no command module, and a third
party's distribution can add its own the same way.

Groups:

==========================  ==================================================================
``archive.commands``        a list of click commands (``COMMANDS``) for ``archive …``
``archive.job_handlers``    a job kind's handler: ``handler(settings, catalog, job, report)``
                            returning the job's result as a dict; the entry point's name is
                            the kind
``archive.periodic_tasks``  a :class:`PeriodicTask` the worker runs on its schedule
``archive.item_archived``   ``hook(catalog, item_id, payload)`` after an ingest job archived an
                            item (``payload`` is the job's)
==========================  ==================================================================

>>> handler = declared("archive.job_handlers")["fixity"]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from archive.core.errors import ConfigError

__all__ = ["DISTRIBUTION", "JobProgress", "PeriodicTask", "declared", "entry_points_of"]

# The distribution whose declarations are the archive's own (others' may add more).
DISTRIBUTION = "hk-labour-archive"


# How a running job's handler reports progress: ``report(phase, fraction)``, fraction 0.0–1.0. The
# queue hands every handler one (``archive.jobs.queue.Reporter``), which also raises when the job
# was cancelled.
JobProgress = Callable[[str, float], None]


@dataclass(frozen=True)
class PeriodicTask:
    """Work the worker runs on a schedule: ``run(settings, catalog)``.

    ``schedule`` holds huey ``crontab`` fields (``{"minute": "*/10"}``); ``name`` is the task's
    name in the queue, stable across releases (a queue may hold it).
    """

    name: str
    schedule: dict[str, str] = field(hash=False)
    run: Callable[..., Any] = field(hash=False)

    @property
    def target(self) -> str:
        """``module:function`` of :attr:`run`, as logs and errors name it."""
        return f"{self.run.__module__}:{self.run.__name__}"


@cache
def entry_points_of(group: str) -> tuple[EntryPoint, ...]:
    """The entry points declared in ``group``, one per name (the first found on ``sys.path``
    wins: a checkout's own metadata before an older installed copy's)."""
    seen: dict[str, EntryPoint] = {}
    for point in entry_points(group=group):
        seen.setdefault(point.name, point)
    return tuple(seen[name] for name in sorted(seen))


@cache
def declared(group: str) -> dict[str, Any]:
    """Load every entry point of ``group``: ``{name: object}`` (once per process: the queue asks
    for the job handlers at every job, the periodic tasks at every look).

    Raises :class:`ConfigError` when the archive's own declarations are missing (an install
    without its metadata: ``pip install -e .`` again), rather than a worker that knows no job.
    """
    points = entry_points_of(group)
    if not points:
        raise ConfigError(
            f"nothing is declared in {group!r}: the archive is not installed "
            "(run `pip install -e .` in the checkout, or install the package)"
        )
    return {point.name: point.load() for point in points}
