"""Transcripts: faster-whisper transcription, OpenCC conversion, the English track, subtitles."""

from .segments import Segment, Word

__all__ = ["Segment", "Word"]
