"""Speakers everywhere a person reads or cites (issue 20, point 3).

* Exports name the speaker of each cue: WebVTT ``<v Name>`` voice spans (the name escaped so that
  no ``>`` or ``&`` breaks the tag; read back by our own importer), SRT and text prefixed
  ``Name: ``, JSON ``speaker``.
* The player's cues mark where a speaker's turn begins, and the player (its real script, run in
  node) names the speaker there, not on every line; in a filtered list each shown row can still
  be told who spoke.
* "Cite this" names the speaker of the quoted moment in every style (BibTeX's annote included).
* Search: ``speaker:`` matches the whole name however it is typed (case, spaces, punctuation),
  the speaker filter too, on both engines; the hits carry the speaker and the facet counts them.

The safety of all this below staff is :mod:`test_adversary_speakers`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from search_corpus import Archive, make_archive

from archive.catalog.access import Viewer
from archive.catalog.cite import STYLES, build_citation, render
from archive.portal.routes.files import transcript_payload
from indexer import SearchFilters
from transcripts.exports import export
from transcripts.segments import Segment
from transcripts.subtitles import parse_subtitles
from transcripts.turns import turn_starts

ROOT = Path(__file__).resolve().parents[1]
TRICKY = "Lee <b>Cheuk</b> & Yan > all"  # markup-like: must not break a voice tag

SEGMENTS = [
    Segment(0.0, 2.0, "罷工開始", "The strike began", "zh", speaker=TRICKY, uid="a"),
    Segment(2.0, 4.0, "四十日", "Forty days", "zh", speaker=TRICKY, uid="b"),
    Segment(4.0, 6.0, "多謝", "Thank you", "zh", speaker="Carol Ng", uid="c"),
    Segment(6.0, 8.0, "冇人講", "Nobody named", "zh", uid="d"),
]


def test_webvtt_voice_spans_are_escaped_and_read_back() -> None:
    vtt = export(SEGMENTS, "vtt", "both")
    tag = "<v Lee &lt;b&gt;Cheuk&lt;/b&gt; &amp; Yan &gt; all>"
    assert vtt.count(tag) == 2 and "<v Carol Ng>多謝\nThank you" in vtt
    assert vtt.count("<v ") == 3  # the segment with no speaker has no span
    back = parse_subtitles(vtt.encode(), filename="t.vtt")
    assert [s.speaker for s in back] == [TRICKY, TRICKY, "Carol Ng", ""]
    assert [s.text_en for s in back] == [s.text_en for s in SEGMENTS]


def test_srt_text_and_json_name_the_speaker() -> None:
    srt = export(SEGMENTS, "srt", "en")
    assert f"{TRICKY}: The strike began\n" in srt and "Carol Ng: Thank you\n" in srt
    assert "\nNobody named\n" in srt
    txt = export(SEGMENTS, "txt", "zh").splitlines()
    assert txt == [
        f"[00:00:00] {TRICKY}: 罷工開始",
        f"[00:00:02] {TRICKY}: 四十日",
        "[00:00:04] Carol Ng: 多謝",
        "[00:00:06] 冇人講",
    ]
    both = export(SEGMENTS, "txt", "both").splitlines()
    assert both[3] == "[00:00:04]\tCarol Ng: 多謝\tCarol Ng: Thank you"
    data = json.loads(export(SEGMENTS, "json", "en"))
    assert [s["speaker"] for s in data["segments"]] == [TRICKY, TRICKY, "Carol Ng", ""]


def test_the_player_cues_mark_each_turn() -> None:
    assert turn_starts(SEGMENTS) == [True, False, True, False]
    cues = transcript_payload(SEGMENTS)["cues"]
    assert [c[8] for c in cues] == [1, 0, 1, 0]
    # A speaker coming back after another is a new turn.
    again = [*SEGMENTS, Segment(8.0, 9.0, "再講", "Again", "zh", speaker=TRICKY)]
    assert turn_starts(again)[-1] is True


_NODE_RENDER = r"""
const fs = require("fs");
const src = fs.readFileSync(process.argv[1], "utf8").replace("export default function", "const _c = function");
const cues = JSON.parse(process.argv[2]);
const find = process.argv[3];
const out = new Function("cues", "find", src + `
  const S = { data: { mode: "both", find, labels: {} }, cues, media: null, pending: null,
    list: { innerHTML: "", children: [], setAttribute() {} }, root: { dataset: {} },
    rowByIndex: {}, followPausedUntil: 0 };
  render(S);
  return S.list.innerHTML;`)(cues, find);
process.stdout.write(out);
"""


def _player_rows(find: str = "") -> list[str]:
    """The player's rows (the real portal_player.js), each as the HTML it renders."""
    cues = transcript_payload(SEGMENTS)["cues"]
    done = subprocess.run(
        ["node", "-e", _NODE_RENDER, str(ROOT / "archive/portal/portal_player.js"),
         json.dumps(cues), find],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.split('<div class="hkp-row')[1:]


def test_the_player_names_the_speaker_only_where_a_turn_begins() -> None:
    rows = _player_rows()
    named = ["hkp-speaker" in row for row in rows]
    assert named == [True, False, True, False]
    assert "Lee &lt;b&gt;Cheuk&lt;/b&gt; &amp; Yan &gt; all" in rows[0]
    assert rows[0].startswith(" hkp-turn") and not rows[1].startswith(" hkp-turn")
    # Filtered to the second line only: it is shown alone, so it names its speaker.
    (only,) = _player_rows("forty")
    assert "hkp-speaker" in only and "Cheuk" in only


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Archive:
    return make_archive(tmp_path_factory.mktemp("speakers"), engine=engine)


@pytest.mark.parametrize(
    "spelled", ['"Lee Cheuk-yan"', '"LEE cheukyan"', '"lee，cheuk yan"', "LeeCheukYan"]
)
def test_speaker_query_matches_however_the_name_is_typed(corpus: Archive, spelled: str) -> None:
    results = corpus.search(f"罷工 speaker:{spelled}", per_page=100, hits_per_item=100)
    assert results.total_items == 2, spelled  # dock and anniv
    assert {h.speaker for g in results.groups for h in g.hits} == {"Lee Cheuk-yan"}
    filtered = corpus.search("罷工", filters=SearchFilters(speaker=spelled.strip('"')))
    assert filtered.total_items == 2


def test_speaker_facet_counts_each_speaker(corpus: Archive) -> None:
    results = corpus.search("罷工")
    facet = dict(results.facets["speaker"])
    assert facet["Lee Cheuk-yan"] == 2 and "Nobody Atall" not in facet
    narrowed = corpus.search("罷工", filters=SearchFilters(speaker="Chan Wai-ming"))
    assert set(dict(narrowed.facets["speaker"])) == {"Chan Wai-ming"}


def test_citations_name_the_speaker_of_the_quoted_moment(corpus: Archive) -> None:
    dock = corpus.built.ids["dock"]
    for style in STYLES:
        citation = build_citation(
            corpus.catalog, corpus.settings, dock, at=1.0, viewer=Viewer("public")
        )
        text = render(citation, style)
        assert "Lee Cheuk-yan: 二零一三年" in text or "Lee Cheuk-yan):" in text, (style, text)
