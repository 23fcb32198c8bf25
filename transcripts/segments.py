"""The values passed between pipeline stages: words, segments and transcripts.

Frozen dataclasses, as in faster-whisper: a stage takes them and returns new ones, never mutates.
A segment carries both tracks: ``text_zh`` (Hong Kong Traditional Chinese) and ``text_en``
(English); either may be empty. ``lang`` is the language actually spoken in the segment
(``zh`` for any Chinese, ``en``), ``en_machine`` says that ``text_en`` is a machine translation.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, replace

__all__ = ["Segment", "Word", "new_uid"]


def new_uid() -> str:
    """A short stable identifier for a segment; it survives edits and revisions."""
    return secrets.token_hex(6)


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text_zh: str = ""
    text_en: str = ""
    lang: str = ""  # "zh" or "en"
    text_raw: str = ""  # the decoder's (or subtitle file's) text before any conversion
    en_machine: bool = False  # text_en is a machine translation
    speaker: str = ""
    reviewed: bool = False
    redacted: bool = False
    uid: str = field(default_factory=new_uid)
    words: tuple[Word, ...] = ()
    # Text-span redactions overlapping it, as the catalog read them: ``(start, end, forms)``, the
    # words to mask below staff (``archive.catalog.redaction_text``). Never stored with a
    # revision: like ``redacted``, they are set on reading.
    partial_redactions: tuple[tuple[float, float, tuple[str, ...]], ...] = field(
        default=(), repr=False, compare=False
    )

    def text(self, track: str) -> str:
        """The text of one track, ``zh`` or ``en``."""
        return self.text_zh if track == "zh" else self.text_en

    def with_(self, **changes: object) -> Segment:
        return replace(self, **changes)

    def public_dict(self) -> dict[str, object]:
        """The form shown by ``archive show --json`` and the portal's JSON downloads."""
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text_zh": self.text_zh,
            "text_en": self.text_en,
            "lang": self.lang,
            "speaker": self.speaker,
            "en_machine": self.en_machine,
            "reviewed": self.reviewed,
            "uid": self.uid,
        }

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["words"] = [asdict(w) for w in self.words]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Segment:
        values = dict(data)
        words = values.pop("words", ()) or ()
        values["words"] = tuple(Word(**w) for w in words)  # type: ignore[arg-type]
        parts = values.pop("partial_redactions", ()) or ()
        values["partial_redactions"] = tuple(
            (float(a), float(b), tuple(str(f) for f in forms))  # type: ignore[misc]
            for a, b, forms in parts  # type: ignore[misc, attr-defined]
        )
        return cls(**values)  # type: ignore[arg-type]
