"""Moments in a recording as they travel in links: exact to the millisecond, never before the sentence.

A link, a permalink, a citation and ``--at`` all name the segment a person chose by a moment in
seconds. Segments start at fractions (12.4 s), so a moment cut to whole seconds (``t=12``) opens
the sentence before. Every place that writes a moment into a link writes :func:`moment_param` of
it: rounded *up* to the millisecond (so it is not before the moment it stands for by more than
the float noise that :data:`MOMENT_EPSILON` absorbs) and written without trailing zeros (``12.4``, ``75``, ``0``).

Every place that finds the segment at a moment allows :data:`MOMENT_EPSILON` (one millisecond)
for media players that report a position a hair before the one they were told to seek to.
"""

from __future__ import annotations

import math

__all__ = ["MOMENT_EPSILON", "moment_param"]

# One millisecond: the precision of a moment in a link, and the slack allowed when the segment
# at a moment is looked up (a player seeked to 12.4 may report 12.3999).
MOMENT_EPSILON = 0.001


def moment_param(seconds: float) -> str:
    """``seconds`` for a ``t=`` parameter: rounded up to the millisecond, no trailing zeros.

    >>> moment_param(12.4), moment_param(75.0), moment_param(12.0004), moment_param(-3)
    ('12.4', '75', '12.001', '0')
    """
    value = float(seconds)
    if not math.isfinite(value) or value <= 0:
        return "0"
    # round() first so that 12.4 * 1000 = 12400.000000000002 does not become 12401.
    millis = math.ceil(round(value * 1000, 6))
    whole, frac = divmod(millis, 1000)
    return str(whole) if frac == 0 else f"{whole}.{frac:03d}".rstrip("0")
