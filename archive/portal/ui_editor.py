"""The transcript editor's own parts (``archive/portal/views/edit.py``): its player and the form
that redacts a span (some words of a segment, a whole segment, or a time range).

The player is a components-v2 component of its own (``editor_player.js``/``.css``), apart from the
reader's (``portal_player.js``): it plays the item's staff media through the same signed URL the
item page uses (:func:`archive.portal.ui.signed_media_url`, checked again by the file route on each
request), follows the segment being edited, plays one line and stops at its end, replays the last
five seconds, and answers keyboard shortcuts (:data:`SHORTCUTS`) that type nothing in a text area.

The form only gathers what staff chose; the page's callback makes the redaction through
:mod:`archive.workspace.visibility` (audited, re-indexed, the public audio silenced).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from archive.core.text_safety import md
from archive.portal.i18n import N_, I18n, clock
from transcripts.segments import Segment

__all__ = [
    "EDITOR_PLAYER_HTML",
    "PLAYER_BOX_CSS",
    "REDACT_MODES",
    "SHORTCUTS",
    "editor_player",
    "segment_choice_label",
    "shortcuts_help",
    "span_redaction_form",
]

_ASSETS = Path(__file__).resolve().parent
EDITOR_PLAYER_HTML = (
    '<div class="hke"><div class="hke-media"></div><span class="hke-line"></span>'
    '<div class="hke-buttons"><button type="button" class="hke-play"></button>'
    '<button type="button" class="hke-playline"></button>'
    '<button type="button" class="hke-back"></button></div></div>'
)
# Keys that type nothing and that neither the browsers' menus nor Chinese input methods take
# (Ctrl+Space switches many of them; Alt+Left is "back"; Ctrl+Backspace deletes a word).
SHORTCUTS = (
    ("Alt+P", N_("play or pause")),
    ("Alt+L", N_("play this line (the segment you are editing) and stop at its end")),
    ("Alt+R", N_("replay the last 5 seconds")),
)
REDACT_MODES = ("words", "segment", "time")


@st.cache_resource(show_spinner=False)
def _component() -> Any:
    return st.components.v2.component(
        "hk_archive.editor_player",
        html=EDITOR_PLAYER_HTML,  # constant: the media element lives across reruns
        css=(_ASSETS / "editor_player.css").read_text(encoding="utf-8"),
        js=(_ASSETS / "editor_player.js").read_text(encoding="utf-8"),
    )


# The player stays in view while staff scroll to the segment they type in (the portal's theme is
# light whatever the browser prefers: a white band under Streamlit's own header).
# Streamlit wraps the keyed box in a layout wrapper of its own height: the wrapper is what sticks.
PLAYER_BOX_CSS = (
    "<style>[data-testid='stLayoutWrapper']:has(> .st-key-edit_player_box) { position: sticky; "
    "top: 3.75rem; z-index: 50; background: #fff; padding: .4rem 0; "
    "border-bottom: 1px solid rgba(49, 51, 63, .15); }</style>"
)


def shortcuts_help(t: I18n) -> str:
    """The shortcuts in words, for the page (Markdown)."""
    return t._("Keyboard, also while typing: {keys}").format(
        keys="; ".join(f"**{key}** {t._(what)}" for key, what in SHORTCUTS)
    )


def editor_player(
    t: I18n,
    *,
    key: str,
    src: str | None,
    kind: str,
    segments: Sequence[Segment],
    line: Segment | None,
    line_n: int,
    play: bool = False,
) -> Any:
    """Mount the editor's player on ``src`` (None: nothing to play) with ``line`` as the segment
    being edited; ``segments`` are those on the page (a focused field of one makes it the line).
    A new ``line_n`` moves the player to ``line`` (and plays it with ``play``)."""
    _ = t._
    labels = {
        "player": _("Player"),
        "line": _("Line"),
        "play_pause": _("Play / pause"),
        "play_line": _("Play this line"),
        "replay": _("Replay 5 s"),
        "no_media": _("This recording can't be played here."),
    }
    return _component()(
        key=key,
        data={
            "src": src,
            "kind": kind,
            "segments": {s.uid: [s.start, s.end] for s in segments},
            "line": (
                {"uid": line.uid, "start": line.start, "end": line.end, "n": line_n, "play": play}
                if line is not None
                else None
            ),
            "labels": labels,
        },
        default={},
    )


def segment_choice_label(seg: Segment) -> str:
    """How a segment is named in a choice: its time and the start of its text."""
    text = " ".join((seg.text_zh or seg.text_en or "").split())
    return f"{clock(seg.start)}–{clock(seg.end)} · {text[:60]}{'…' if len(text) > 60 else ''}"


def span_redaction_form(
    t: I18n, segments: Sequence[Segment], on_submit: Callable[[], None], *, chosen: str | None
) -> None:
    """The "Redact" form (keys ``red_*``): a segment, what of it to hide (some words, all of it,
    or a time range), a reason, a confirmation; ``on_submit`` reads them from the session."""
    _ = t._
    by_uid = {s.uid: s for s in segments}
    if not by_uid:
        st.info(_("This recording has no transcript yet."))
        return
    uids = list(by_uid)
    with st.container(border=True, key="red_form"):
        st.selectbox(
            _("Segment"), uids, key="red_segment",
            index=uids.index(chosen) if chosen in by_uid else 0,
            format_func=lambda uid: segment_choice_label(by_uid[uid]),  # plain text, not Markdown
        )  # fmt: skip
        seg = by_uid.get(st.session_state.get("red_segment") or uids[0], by_uid[uids[0]])
        for label, text in ((_("Chinese"), seg.text_zh), (_("English"), seg.text_en)):
            if text:
                st.caption(f"{md(label)}: {md(text)}")
        st.segmented_control(
            _("Hide"), REDACT_MODES, key="red_mode", default="words", required=True,
            format_func=lambda v: {
                "words": _("Some words"), "segment": _("The whole segment"), "time": _("A time range"),
            }[v],
        )  # fmt: skip
        mode = st.session_state.get("red_mode") or "words"
        if mode == "words":
            st.text_input(
                _("Words to hide, exactly as they stand in the text"), key="red_words",
                help=_("Copy them from the text above. The rest of the sentence stays."),
            )  # fmt: skip
            st.text_input(
                _("The same words in the other language (optional)"), key="red_also",
                help=_(
                    "A track where the words cannot be found (a translation) is hidden whole "
                    "below staff, unless you give its form of them here."
                ),
            )  # fmt: skip
        elif mode == "time":
            cols = st.columns(2)
            cols[0].number_input(
                _("From (seconds)"), min_value=0.0, value=float(seg.start), step=0.1,
                format="%.3f", key="red_from",
            )  # fmt: skip
            cols[1].number_input(
                _("To (seconds)"), min_value=0.0, value=float(seg.end), step=0.1,
                format="%.3f", key="red_to",
            )  # fmt: skip
        st.text_input(_("Why (staff only)"), key="red_reason", max_chars=500)
        st.checkbox(
            _(
                "Below staff this is hidden on every page, in search, exports, feeds and the "
                "mirror, and silenced in the sound. I have checked what I chose."
            ),
            key="red_confirm",
        )
        st.button(
            _("Redact"), key="red_go", type="primary", on_click=on_submit,
            icon=":material/visibility_off:",
        )  # fmt: skip
