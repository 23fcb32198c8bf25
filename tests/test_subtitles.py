"""Subtitle import and export (transcripts.subtitles) on real files.

The two fixtures are unchanged copies of public files; their origin and licences are listed in
/work/shared/fixtures/SOURCES.md (subs/sherpa_lei-jun-test.zh-Hans.srt from k2-fsa/sherpa,
subs/webvtt-py_youtube_dl.en.vtt from glut23/webvtt-py). Other inputs are written to tmp_path as
real files in the encoding under test.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from archive.core.errors import InputError, SubtitleError
from transcripts.segments import Segment
from transcripts.subtitles import (
    export,
    export_json,
    export_srt,
    export_txt,
    export_vtt,
    format_timestamp,
    import_subtitles,
    parse_subtitles,
    read_subtitles,
)

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
LEI_JUN_SRT = FIXTURES / "subs" / "sherpa_lei-jun-test.zh-Hans.srt"
YOUTUBE_VTT = FIXTURES / "subs" / "webvtt-py_youtube_dl.en.vtt"
MP4 = FIXTURES / "video" / "auto-editor_example.mp4"

needs_fixtures = pytest.mark.skipif(
    not LEI_JUN_SRT.exists(), reason="shared fixtures missing (see fixtures/SOURCES.md)"
)


def ms(seconds: float) -> int:
    return round(seconds * 1000)


# ----------------------------------------------------------------------------- real fixtures


@needs_fixtures
def test_lei_jun_srt_one_digit_hours_simplified_to_hk():
    result = import_subtitles(LEI_JUN_SRT)
    segments = result.segments
    assert (result.format, result.encoding, result.skipped) == ("srt", "utf-8", 0)
    assert len(segments) == 70
    first = segments[0]
    # "0:00:28,934 --> 0:00:36,006" (one-digit hours) in the file
    assert (ms(first.start), ms(first.end)) == (28_934, 36_006)
    assert (ms(segments[-1].start), ms(segments[-1].end)) == (268_486, 271_398)
    assert first.text_raw == "朋友们晚上好，欢迎大家来参加今天晚上的活动，谢谢大家。"
    assert first.text_zh == "朋友們晚上好，歡迎大家來參加今天晚上的活動，謝謝大家。"
    assert (first.lang, first.text_en) == ("zh", "")
    assert all(s.lang == "zh" and s.text_zh and not s.text_en for s in segments)
    # 这是我第四次颁年度演讲 (cue 2): every Simplified character converted
    assert segments[1].text_zh == "這是我第四次頒年度演講。"
    assert not any(ch in s.text_zh for s in segments for ch in "们欢这颁讲为")
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert len({s.uid for s in segments}) == 70


@needs_fixtures
def test_youtube_vtt_rolling_captions_read_once_without_tags():
    result = import_subtitles(YOUTUBE_VTT)
    segments = result.segments
    assert result.format == "vtt" and result.rolling
    texts = [s.text_en for s in segments]
    assert texts == ["yeah", "what", "this will happen is I'm telling"]
    lines = [line for t in texts for line in t.splitlines()]
    assert len(lines) == len(set(lines)), "a line repeated"
    assert not any(re.search(r"[<>{}]|::cue|\d\d:\d\d", t) for t in texts)
    assert all(s.lang == "en" and s.text_zh == "" for s in segments)
    # each line starts when it first appears and ends where the next new line starts
    assert [(ms(s.start), ms(s.end)) for s in segments] == [
        (286_070, 286_470),
        (286_470, 304_080),
        (304_080, 305_400),
    ]


@needs_fixtures
@pytest.mark.parametrize("fmt", ["srt", "vtt"])
@pytest.mark.parametrize("source,track", [(LEI_JUN_SRT, "zh"), (YOUTUBE_VTT, "en")])
def test_round_trip_keeps_times_and_text(tmp_path, source, track, fmt):
    original = read_subtitles(source)
    text = export(original, fmt, track)
    written = tmp_path / f"out.{fmt}"
    written.write_text(text, encoding="utf-8")
    again = read_subtitles(written)
    assert [(ms(s.start), ms(s.end), s.text(track)) for s in again] == [
        (ms(s.start), ms(s.end), s.text(track)) for s in original
    ]


# ----------------------------------------------------------------------------- encodings

# Traditional text with Hong Kong characters (邨 啱 嘅 are HKSCS, not plain Big5).
HK_TEXT = "我們要求合理工資，保障工人權益。"
HK_EXTRA = "香港職工會聯盟：屋邨啱嘅"
CHINESE_SRT = (
    f"1\n00:00:01,000 --> 00:00:03,500\n{HK_TEXT}\n\n2\n0:00:04,000 --> 0:00:06,000\n{HK_EXTRA}\n"
)


@pytest.mark.parametrize(
    "codec,expected_encoding",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16-le"),  # Python writes a BOM and little-endian
        ("utf-16-le", "utf-16-le"),  # no BOM
        ("utf-16-be", "utf-16-be"),  # no BOM
        ("utf-32", "utf-32-le"),
        ("big5hkscs", "big5hkscs"),
        ("gb18030", "gb18030"),
    ],
)
def test_each_encoding_decodes_to_the_same_chinese(tmp_path, codec, expected_encoding):
    path = tmp_path / f"talk.{codec}.srt"
    path.write_bytes(CHINESE_SRT.encode(codec))
    result = import_subtitles(path)
    assert result.encoding == expected_encoding
    assert [s.text_zh for s in result.segments] == [HK_TEXT, HK_EXTRA]
    assert [(ms(s.start), ms(s.end)) for s in result.segments] == [(1000, 3500), (4000, 6000)]


@pytest.mark.parametrize(
    "codec,text",
    [
        ("big5", "工人"),  # plain Big5, the shortest useful cue
        ("gb18030", "工人"),
        ("gb18030", "我们要求合理工资"),  # Simplified: GB only, converted to HK Traditional
        ("cp1252", "Café naïve — “déjà vu”"),
    ],
)
def test_legacy_encodings_short_cues(codec, text):
    data = f"1\n00:00:01,000 --> 00:00:02,000\n{text}\n".encode(codec)
    [segment] = parse_subtitles(data)
    assert segment.text_raw == text
    if segment.lang == "zh":
        assert segment.text_zh in {"工人", "我們要求合理工資"}
    else:
        assert segment.text_en == text


# ----------------------------------------------------------------------------- cue handling


@pytest.mark.parametrize(
    "data,expected",
    [
        pytest.param(
            b"0\n00:00:00,000 --> 00:00:01,500\nFirst\n\n1\n00:00:01,500 --> 00:00:03,000\nSecond\n",
            [(0, 1500, "First"), (1500, 3000, "Second")],
            id="numbered-from-0",
        ),
        pytest.param(
            b'1\n00:00:01,000 --> 00:00:02,000\n<i>Leaning</i> {\\an8}<b>top</b> <font color="red">line</font>\n',
            [(1000, 2000, "Leaning top line")],
            id="markup-stripped",
        ),
        pytest.param(
            b"1\r\n00:00:01,000 --> 00:00:02,000\r\nLine one\r\nLine two\r\n\r\n",
            [(1000, 2000, "Line one\nLine two")],
            id="crlf-two-lines",
        ),
        pytest.param(
            b"1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:00:0x,000 --> 00:00:04,000\nBroken\n\n"
            b"3\n00:00:05,000 --> 00:00:06,000\nThree\n\n4\n00:00:07,000 --> 00:00:08,000\nFour\n",
            [(1000, 2000, "One"), (5000, 6000, "Three"), (7000, 8000, "Four")],
            id="one-bad-cue-skipped",
        ),
        pytest.param(
            b"1\n00:00:05,000 --> 00:00:01,000\nBackwards\n\n2\n00:00:06,000 --> 00:00:07,000\nNext\n",
            [(5000, 6000, "Backwards"), (6000, 7000, "Next")],
            id="end-before-start-repaired",
        ),
        pytest.param(
            b"WEBVTT\n\nNOTE a comment\n\nintro\n00:01.000 --> 00:02.000\n<v Roger>Tea &amp; toast\n\n"
            b"NOTE\nnot a caption\n\n2\n00:02.500 --> 00:04.000 align:start\n<v.loud Esme>a &lt; b\n",
            [(1000, 2000, "Tea & toast"), (2500, 4000, "a < b")],
            id="vtt-notes-ids-voices-entities",
        ),
        pytest.param(
            # a line with exactly two inline times would look like a timing line to pysubs2
            b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nword<00:00:01.500><c> a</c><00:00:02.000><c> b</c>\n\n"
            b"00:00:03.000 --> 00:00:03.010\nword a b\n\n"
            b"00:00:03.010 --> 00:00:05.000\nword a b\nnext<00:00:03.500><c> one</c>\n",
            [(1000, 3010, "word a b"), (3010, 5000, "next one")],
            id="vtt-rolling-two-inline-times",
        ),
        pytest.param(
            b"WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nComma times\n",
            [(1000, 2000, "Comma times")],
            id="vtt-with-srt-commas",
        ),
        pytest.param(
            b"1\n00:00:01,000 --> 00:00:02,000\nYes.\n\n2\n00:00:02,000 --> 00:00:03,000\nYes.\n\n"
            b"3\n00:00:03,000 --> 00:00:04,000\nNo.\n\n4\n00:00:04,000 --> 00:00:05,000\nMaybe.\n",
            [
                (1000, 2000, "Yes."),
                (2000, 3000, "Yes."),
                (3000, 4000, "No."),
                (4000, 5000, "Maybe."),
            ],
            id="ordinary-repeat-not-merged",
        ),
    ],
)
def test_cues(data, expected):
    segments = parse_subtitles(data, filename="case.srt")
    assert [(ms(s.start), ms(s.end), s.text_en) for s in segments] == expected


def test_vtt_voice_becomes_speaker():
    data = b"WEBVTT\n\n00:01.000 --> 00:02.000\n<v Roger Bingham>Hello\n"
    [segment] = parse_subtitles(data)
    assert segment.speaker == "Roger Bingham"


def test_skipped_and_repaired_are_counted():
    data = (
        b"1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:00:0x,000 --> 00:00:04,000\nBroken\n\n"
        b"3\n00:00:09,000 --> 00:00:05,000\nBackwards\n"
    )
    result = import_subtitles(data)
    assert (result.cues, result.skipped, result.repaired) == (3, 1, 1)
    # no following cue: the backwards cue lasts 3 s
    assert [(ms(s.start), ms(s.end)) for s in result.segments] == [(1000, 2000), (9000, 12000)]


@pytest.mark.parametrize(
    "lines,language,expected",
    [
        # (text_zh, text_en, lang) per cue
        (
            ["工人团结\nWorkers unite", "我们要求加薪\nWe demand a raise"],
            None,
            [("工人團結", "Workers unite", "zh"), ("我們要求加薪", "We demand a raise", "zh")],
        ),
        (
            ["Workers unite\n工人团结", "We demand a raise\n我们要求加薪"],
            None,
            [("工人團結", "Workers unite", "en"), ("我們要求加薪", "We demand a raise", "en")],
        ),
        (
            ["我哋今日开 meeting", "OK, thank you"],
            None,
            [("我哋今日開 meeting", "", "zh"), ("", "OK, thank you", "en")],
        ),
        (["我哋今日开 meeting", "OK"], "yue", [("我哋今日開 meeting", "", "zh"), ("OK", "", "zh")]),
        (["我哋今日开 meeting", "OK"], "en", [("", "我哋今日开 meeting", "en"), ("", "OK", "en")]),
        (
            ["工人团结\nWorkers unite", "我们要求加薪\nWe demand a raise"],
            "zh",
            [("工人團結", "Workers unite", "zh"), ("我們要求加薪", "We demand a raise", "zh")],
        ),
    ],
    ids=[
        "bilingual-zh-first",
        "bilingual-en-first",
        "per-cue",
        "hint-yue",
        "hint-en",
        "bilingual-hint",
    ],
)
def test_tracks_by_language(lines, language, expected):
    body = "".join(
        f"{i}\n00:00:0{i},000 --> 00:00:0{i},900\n{text}\n\n" for i, text in enumerate(lines, 1)
    )
    segments = parse_subtitles(body.encode(), language=language)
    assert [(s.text_zh, s.text_en, s.lang) for s in segments] == expected
    assert [s.text_raw for s in segments] == lines


def test_subtitle_text_instead_of_a_path_is_an_input_error():
    with pytest.raises(InputError, match="path or bytes"):
        read_subtitles("1\n00:00:01,000 --> 00:00:02,000\nx\n")


def test_unknown_language_hint_is_an_input_error():
    with pytest.raises(InputError, match="fr"):
        parse_subtitles(b"1\n00:00:01,000 --> 00:00:02,000\nx\n", language="fr")


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "empty"),
        (b" \r\n\n\t", "empty"),
        (b"Dear colleagues,\nthe meeting is at 10:30 tomorrow.\n", "no cues"),
        (os.urandom(4096) + b"\x00", "binary"),
        (b"WEBVTT\n\n", "no cues"),
        (b"WEBVTT\n\nNOTE only a note\n", "no cues"),
        (
            b"1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:03,000 --> 00:00:04,000\n<i></i>\n",
            "text",
        ),
        (
            b"[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name\n\n[Events]\n"
            b"Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,hi\n",
            "ASS",
        ),
        (b"\xef\xbb\xbf\xff\xfe broken", "utf-8"),
    ],
    ids=[
        "empty",
        "blank",
        "prose",
        "random-binary",
        "vtt-header-only",
        "vtt-note-only",
        "cues-without-text",
        "ass",
        "bad-utf8-after-bom",
    ],
)
def test_not_a_subtitle(data, reason):
    with pytest.raises(
        SubtitleError, match=r"clip\.srt is not a subtitle file \(SRT or WebVTT\)"
    ) as err:
        parse_subtitles(data, filename="clip.srt")
    assert reason in str(err.value)


@pytest.mark.skipif(not MP4.exists(), reason="shared fixtures missing (see fixtures/SOURCES.md)")
def test_an_mp4_is_not_a_subtitle():
    with pytest.raises(
        SubtitleError, match=r"auto-editor_example\.mp4 is not a subtitle file.*MP4"
    ):
        read_subtitles(MP4)


def test_mostly_malformed_times_is_an_error():
    data = (
        b"1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:00:0x,000 --> 00:00:04,000\nTwo\n\n"
        b"3\n00:00:5,000 --> 00:00:06\nThree\n"
    )
    with pytest.raises(SubtitleError, match=r"2 of 3 cues have malformed times \(first at line 6"):
        parse_subtitles(data, filename="talk.srt")


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda tmp: tmp / "missing.srt", "missing.srt does not exist"),
        (lambda tmp: tmp, "is a folder"),
    ],
)
def test_unreadable_paths(tmp_path, make, match):
    with pytest.raises(SubtitleError, match=match):
        read_subtitles(make(tmp_path))


# ----------------------------------------------------------------------------- export

MIXED = (
    Segment(start=5.0, end=6.5, text_zh="第二句", text_en="Second", lang="zh", uid="b"),
    Segment(start=1.0, end=2.25, text_zh="第一句\n兩行", text_en="First", lang="zh", uid="a"),
    Segment(start=3.0, end=4.0, text_zh="秘密", text_en="Secret", redacted=True, uid="r"),
    Segment(start=7.0, end=8.0, text_zh="", text_en="English only", lang="en", uid="e"),
    Segment(start=9.0, end=10.0, text_zh="  \n ", text_en="", lang="zh", uid="w"),
    Segment(start=3661.5, end=3662.0, text_zh="<b>&{x}", text_en="a --> b", lang="zh", uid="s"),
)


def test_export_srt_zh_skips_redacted_and_empty():
    text = export_srt(MIXED, "zh")
    assert text == (
        "1\n00:00:01,000 --> 00:00:02,250\n第一句\n兩行\n\n"
        "2\n00:00:05,000 --> 00:00:06,500\n第二句\n\n"
        "3\n01:01:01,500 --> 01:01:02,000\n<b>&{x}\n\n"
    )
    assert "秘密" not in text


def test_export_vtt_en_escapes_and_skips():
    text = export_vtt(MIXED, "en")
    assert text.startswith("WEBVTT\n\n")
    assert "00:00:01.000 --> 00:00:02.250\nFirst\n" in text
    assert "English only" in text and "Secret" not in text
    assert "a --&gt; b" in text
    assert text.count(" --> ") == 4


def test_export_vtt_markup_survives_round_trip():
    # the last cue has no Han characters, so the hint keeps it on the Chinese track
    again = parse_subtitles(export_vtt(MIXED, "zh").encode(), language="zh")
    assert [s.text_zh for s in again] == ["第一句\n兩行", "第二句", "<b>&{x}"]


def test_export_txt():
    assert export_txt(MIXED, "zh") == (
        "[00:00:01] 第一句 兩行\n[00:00:05] 第二句\n[01:01:01] <b>&{x}\n"
    )
    assert export_txt(MIXED, "en").splitlines()[2] == "[00:00:07] English only"


def test_export_json():
    machine = Segment(start=1.0, end=2.0, text_en="Hello", lang="zh", en_machine=True, uid="m")
    doc = json.loads(export_json([*MIXED, machine], "en", meta={"title": "罷工"}))
    assert doc["track"] == "en" and doc["meta"] == {"title": "罷工"}
    assert [(s["uid"], s["text"]) for s in doc["segments"]] == [
        ("a", "First"),
        ("m", "Hello"),
        ("b", "Second"),
        ("e", "English only"),
        ("s", "a --> b"),
    ]
    assert [s["machine_translation"] for s in doc["segments"]] == [False, True, False, False, False]
    assert doc["segments"][0]["start"] == 1.0 and doc["segments"][0]["end"] == 2.25


@pytest.mark.parametrize("fmt", ["srt", "vtt", "txt", "json"])
@pytest.mark.parametrize("track", ["zh", "en"])
def test_dispatcher_never_emits_redacted(fmt, track):
    text = export(MIXED, fmt, track)
    assert "秘密" not in text and "Secret" not in text
    assert ("第二句" if track == "zh" else "Second") in text
    assert text == {"srt": export_srt, "vtt": export_vtt, "txt": export_txt, "json": export_json}[
        fmt
    ](MIXED, track)


def test_export_of_nothing_is_an_empty_file():
    assert export_srt([], "zh") == ""
    assert export_txt(MIXED[2:3], "zh") == ""
    assert json.loads(export_json([], "zh"))["segments"] == []


@pytest.mark.parametrize("fmt,track", [("ass", "zh"), ("srt", "fr"), ("json", "")])
def test_export_bad_arguments(fmt, track):
    with pytest.raises(InputError):
        export(MIXED, fmt, track)


# ----------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    "seconds,style,expected",
    [
        (62.345, "srt", "00:01:02,345"),
        (62.345, "vtt", "00:01:02.345"),
        (62.345, "hms", "00:01:02"),
        (3723.0, "clock", "1:02:03"),
        (123.0, "clock", "02:03"),
        (0, "srt", "00:00:00,000"),
        (0, "clock", "00:00"),
        (-5.0, "srt", "00:00:00,000"),
        (-0.0001, "clock", "00:00"),
        (float("nan"), "vtt", "00:00:00.000"),
        (float("inf"), "clock", "00:00"),
        (59.9996, "srt", "00:01:00,000"),
        (59.9996, "clock", "01:00"),
        (59.9994, "srt", "00:00:59,999"),
        (62.9, "clock", "01:02"),  # clocks truncate to the second, like players do
        (1.0005, "srt", "00:00:01,001"),  # half up on the decimal value
        (2.675, "vtt", "00:00:02.675"),
        (0.1 + 0.2, "srt", "00:00:00,300"),
        (3599.9999, "clock", "1:00:00"),
        (360000.0, "srt", "100:00:00,000"),
        (360000.0, "clock", "100:00:00"),
        (36 * 3600 + 5, "hms", "36:00:05"),
        (7, "srt", "00:00:07,000"),
    ],
)
def test_format_timestamp(seconds, style, expected):
    assert format_timestamp(seconds, style) == expected


def test_format_timestamp_unknown_style():
    with pytest.raises(ValueError, match="style"):
        format_timestamp(1.0, "smpte")
