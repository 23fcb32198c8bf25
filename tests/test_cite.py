"""Citations: every style names what a researcher needs; permalinks and quotes pin a revision;
access rules and redactions hold; BibTeX and RIS parse back; the command line prints the same."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import insert_segment_redaction

from archive.catalog.access import Viewer
from archive.catalog.cite import (
    STYLES,
    Citation,
    build_citation,
    format_timestamp,
    parse_moment,
    permalink,
    render,
)
from archive.catalog.db import Catalog
from archive.catalog.models import now_utc
from archive.core.config import Settings, load_settings
from archive.core.errors import InputError, NotFoundError
from transcripts.segments import Segment

BASE = "https://archive.example.org"
ORG = "Hong Kong Labour Rights Archive"
TITLE_EN = "Dock strike, ten years on"
TITLE_ZH = "碼頭工人罷工十年"
AT = 754.6  # 00:12:34
ITEM = "k7m2p9qrst"

REV1 = [
    Segment(0, 10, "大家好。", "Hello everyone.", lang="zh", uid="s-hello"),
    Segment(
        750,
        760,
        "我哋喺碼頭罷工，爭取權益。",
        "We struck at the docks for our rights.",
        lang="zh",
        uid="s-dock",
        speaker="陳美",
    ),
    Segment(760, 770, "工會會繼續。", "The union will go on.", lang="zh", uid="s-union"),
]
REV2 = [
    Segment(0, 10, "大家好。", "Hello everyone.", lang="zh", uid="s-hello"),
    Segment(
        750,
        760,
        "我們在碼頭罷工，為權益而戰。",
        "We went on strike at the docks.",
        lang="zh",
        uid="s-dock",
        speaker="陳美",
    ),
    Segment(760, 770, "工會會繼續。", "The union will go on.", lang="zh", uid="s-union"),
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Catalog, Settings]:
    for name in ("ARCHIVE_PUBLIC_URL", "ARCHIVE_ORGANISATION", "ARCHIVE_HOME"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(tmp_path)
    catalog = Catalog.open(settings)
    catalog.create_item(
        id=ITEM,
        title_en=TITLE_EN,
        title_zh=TITLE_ZH,
        collection="webinar",
        recorded_date="2023-05-01",
        speakers=["Lee Cheuk-yan", "陳美"],
        visibility="public",
    )
    catalog.add_revision(ITEM, REV1, origin="whisper")
    return catalog, settings


def cite(env: tuple[Catalog, Settings], role: str = "public", **kwargs: object) -> Citation:
    catalog, settings = env
    kwargs.setdefault("at", AT)
    kwargs.setdefault("base_url", BASE)
    return build_citation(catalog, settings, ITEM, viewer=Viewer(role), **kwargs)  # type: ignore[arg-type]


# -- every style names every element -------------------------------------------------------------
DATE_IN_STYLE = {
    "chicago": "May 1, 2023",
    "apa": "2023, May 1",
    "mla": "1 May 2023",
    "bibtex": 'date = "2023-05-01"',
    "ris": "DA  - 2023/05/01/",
}


@pytest.mark.parametrize("style", STYLES)
def test_every_style_names_organisation_titles_date_timestamp_permalink_revision(env, style):
    catalog, _ = env
    catalog.add_revision(ITEM, REV2, origin="edit")  # so the revision named is 2, not a lucky 1
    text = render(cite(env), style)
    link = f"{BASE}/?item={ITEM}&t=754.6&rev=2"
    assert ORG in text
    assert TITLE_ZH in text
    assert TITLE_EN.lower() in text.lower()  # Chicago and MLA title-case the English title
    assert "00:12:34" in text
    assert link in text
    assert "transcript revision 2" in text.lower()
    if style == "csl-json":
        (item,) = json.loads(text)
        assert item["issued"] == {"date-parts": [[2023, 5, 1]]}
        assert item["URL"] == link
        assert item["version"] == "2"
        assert item["type"] == "speech"
        assert [a["literal"] for a in item["author"]] == ["Lee Cheuk-yan", "陳美"]
    else:
        assert DATE_IN_STYLE[style] in text


@pytest.mark.parametrize("style", ["chicago", "apa", "mla"])
def test_prose_styles_end_with_the_quote_in_both_scripts_and_english(env, style):
    lines = render(cite(env), style).splitlines()
    assert lines[1].startswith("Note: " if style == "chicago" else "In-text: ")
    assert "00:12:34" in lines[1]  # the timestamp is the locator of the short form
    assert lines[2] == "Quote (00:12:30–00:12:40, 陳美):"
    assert lines[3:] == [
        "  繁: 「我哋喺碼頭罷工，爭取權益。」",
        "  简: 「我哋喺码头罢工，争取权益。」",
        "  EN: “We struck at the docks for our rights.”",
    ]


def test_without_a_moment_there_is_no_quote_and_no_t(env):
    citation = cite(env, at=None)
    assert citation.quote is None and citation.timestamp is None
    assert citation.permalink == f"{BASE}/?item={ITEM}&rev=1"
    text = render(citation, "chicago")
    assert "Quote" not in text and "00:" not in text


def test_unknown_style_is_an_input_error(env):
    with pytest.raises(InputError, match="style must be one of"):
        render(cite(env), "harvard")


# -- moments and permalinks ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("62", 62.0),
        ("0", 0.0),
        ("754.5", 754.5),
        ("02:03", 123.0),
        ("2:03", 123.0),
        ("1:02:03", 3723.0),
        ("01:02:03.25", 3723.25),
        ("10:00:00", 36000.0),
        (" 12:34 ", 754.0),
        (90, 90.0),
    ],
)
def test_parse_moment_accepts(text, seconds):
    assert parse_moment(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "-5",
        "1:60",
        "1:60:00",
        "1:02:03:04",
        "1::03",
        "12:",
        ":12",
        "1e3",
        "nan",
        -1,
        float("inf"),
    ],
)
def test_parse_moment_rejects(text):
    with pytest.raises(InputError):
        parse_moment(text)


@pytest.mark.parametrize(
    ("seconds", "stamp"), [(0, "00:00:00"), (754.9, "00:12:34"), (3723, "01:02:03")]
)
def test_format_timestamp_rounds_down_like_the_permalink(seconds, stamp):
    assert format_timestamp(seconds) == stamp


def test_permalink_forms():
    assert (
        permalink("abc", revision=3, at=62.9, base_url=BASE + "/")
        == f"{BASE}/?item=abc&t=62.9&rev=3"
    )
    assert permalink("abc", revision=3, at=None) == "?item=abc&rev=3"
    assert permalink("a&b", revision=None, at=1, base_url=BASE) == f"{BASE}/?item=a%26b&t=1"


def test_permalink_base_comes_from_settings_when_not_given(env, tmp_path, monkeypatch):
    catalog, _ = env
    monkeypatch.setenv("ARCHIVE_PUBLIC_URL", "https://portal.example.net/archive/")
    settings = load_settings(tmp_path)
    citation = build_citation(catalog, settings, ITEM, at=3, viewer=Viewer())
    assert citation.permalink == f"https://portal.example.net/archive/?item={ITEM}&t=3&rev=1"


def test_bad_base_url_is_an_input_error(env):
    with pytest.raises(InputError, match="base URL"):
        cite(env, base_url="javascript:alert(1)")


def test_moment_after_the_end_of_the_recording_is_an_input_error(env):
    catalog, _ = env
    catalog.add_media(
        ITEM,
        role="original",
        sha256="0" * 64,
        size=1,
        path="media/x.mp4",
        duration=800.0,
        streams=[{"codec_type": "video"}],
    )
    assert cite(env, at=799).csl["medium"] == "Video recording"
    with pytest.raises(InputError, match="after the end"):
        cite(env, at=801)


# -- the quote -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("at", "uid"),
    [
        (754.6, "s-dock"),
        (750, "s-dock"),
        (760, "s-union"),
        (5, "s-hello"),
        (770, "s-union"),
        (10.5, "s-hello"),
    ],
)
def test_the_quote_is_the_segment_covering_the_moment(env, at, uid):
    assert cite(env, at=at).quote.uid == uid


def test_a_moment_far_from_any_segment_quotes_nothing(env):
    citation = cite(env, at=300)
    assert citation.quote is None and not citation.quote_redacted
    assert "Quote" not in render(citation, "apa")


def test_machine_translated_english_is_marked(env):
    catalog, _ = env
    catalog.add_revision(
        ITEM, [Segment(750, 760, "罷工", "Strike", en_machine=True)], origin="edit"
    )
    assert "  EN: “Strike” [machine translation]" in render(cite(env), "mla").splitlines()


# -- a pinned revision does not move -----------------------------------------------------------
def test_a_citation_pinned_to_revision_1_survives_a_later_revision(env):
    catalog, _ = env
    before = {style: render(cite(env), style) for style in STYLES}  # latest = 1 at this time
    catalog.add_revision(ITEM, REV2, origin="edit", author="editor")

    pinned = cite(env, revision=1)
    assert pinned.revision == 1
    assert pinned.permalink == f"{BASE}/?item={ITEM}&t=754.6&rev=1"
    assert pinned.quote.text_zh == "我哋喺碼頭罷工，爭取權益。"
    assert {style: render(pinned, style) for style in STYLES} == before

    latest = cite(env)
    assert latest.revision == 2 and "rev=2" in latest.permalink
    assert latest.quote.text_zh == "我們在碼頭罷工，為權益而戰。"


def test_a_missing_revision_is_not_found(env):
    with pytest.raises(NotFoundError):
        cite(env, revision=9)


def test_an_item_without_transcript_is_cited_without_revision(env):
    catalog, settings = env
    item = catalog.create_item(title_en="Rally footage", visibility="public", recorded_date="2019")
    citation = build_citation(catalog, settings, item.id, at=12, viewer=Viewer(), base_url=BASE)
    assert citation.revision is None and citation.quote is None
    assert citation.permalink == f"{BASE}/?item={item.id}&t=12"
    text = render(citation, "chicago")
    assert "Rally Footage" in text and ORG in text and "2019" in text and "00:00:12" in text


# -- access -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["public", "members"])
def test_a_staff_only_item_is_not_found_below_staff(env, role):
    catalog, _ = env
    catalog.update_item(ITEM, visibility="staff")
    with pytest.raises(NotFoundError) as hidden:
        cite(env, role=role)
    with pytest.raises(NotFoundError) as missing:
        build_citation(*env, "nosuchitem", at=None, viewer=Viewer(role))
    # the same words as for an item that does not exist: nothing about its existence leaks
    assert str(hidden.value) == str(missing.value).replace("nosuchitem", ITEM)
    assert cite(env, role="staff").quote.uid == "s-dock"


def test_a_members_item_is_citable_by_members_not_public(env):
    catalog, _ = env
    catalog.update_item(ITEM, visibility="members")
    with pytest.raises(NotFoundError):
        cite(env, role="public")
    assert cite(env, role="members").revision == 1


def _redact(catalog: Catalog, uid: str) -> None:
    with catalog.transaction() as conn:
        insert_segment_redaction(conn, ITEM, uid, created_by="staff-user", created_at=now_utc())


@pytest.mark.parametrize("role", ["public", "members", "staff"])
def test_a_redacted_segment_is_never_quoted(env, role):
    catalog, _ = env
    _redact(catalog, "s-dock")
    citation = cite(env, role=role)
    assert citation.quote is None and citation.quote_redacted
    for style in STYLES:
        text = render(citation, style)
        for secret in ("碼頭罷工", "码头罢工", "struck at the docks"):
            assert secret not in text, (style, secret)
        assert "00:12:34" in text  # the citation itself is still made
    # the segment next to it is still quotable
    assert cite(env, role=role, at=765).quote.uid == "s-union"


# -- BibTeX and RIS parse back --------------------------------------------------------------------
def test_bibtex_parses_back_with_pybtex(env):
    from pybtex.database import parse_string

    catalog, _ = env
    catalog.update_item(ITEM, title_en="Pay & conditions: 100% {solidarity}_now #1")
    citation = cite(env)
    data = parse_string(render(citation, "bibtex"), "bibtex")
    (key,) = data.entries
    entry = data.entries[key]
    assert key == f"{ITEM}-rev1-t754"
    assert entry.type == "misc"
    assert entry.fields["url"] == citation.permalink  # verbatim: no \& in the link
    title = codecs.decode(entry.fields["title"], "ulatex")
    assert title == "Pay & conditions: 100% {solidarity}_now #1 / 碼頭工人罷工十年"
    assert entry.fields["publisher"] == ORG
    assert (entry.fields["year"], entry.fields["month"], entry.fields["date"]) == (
        "2023",
        "5",
        "2023-05-01",
    )
    assert entry.fields["version"] == "1"
    assert entry.fields["note"] == "Transcript revision 1, at 00:12:34."
    assert "我哋喺码头罢工" in entry.fields["annote"]
    # each speaker stays one name: BibTeX must not split "Lee Cheuk-yan" into given and family
    assert [str(p) for p in entry.persons["author"]] == ["{Lee Cheuk-yan}", "{陳美}"]


def test_ris_parses_back_with_rispy(env):
    import rispy

    citation = cite(env)
    text = render(citation, "ris")
    assert text.splitlines()[0] == "TY  - GEN" and text.endswith("ER  - ")
    (record,) = rispy.loads(text)
    assert record["title"] == f"{TITLE_EN} / {TITLE_ZH}"
    assert record["authors"] == ["Lee Cheuk-yan", "陳美"]
    assert record["publisher"] == ORG
    assert record["urls"] == [citation.permalink]
    assert record["date"] == "2023/05/01/"
    assert record["edition"] == "Transcript revision 1"
    assert record["notes"][0] == "Transcript revision 1, at 00:12:34."
    assert "简: 「我哋喺码头罢工，争取权益。」" in record["notes"][1]


# -- the command line -----------------------------------------------------------------------------
def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    return subprocess.run(
        [sys.executable, "-m", "archive", "--home", str(home), "cite", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_cli_prints_the_same_citation_as_the_library(env, tmp_path):
    done = run_cli(tmp_path, ITEM, "--at", "00:12:34", "--style", "apa", "--base-url", BASE)
    assert done.returncode == 0, done.stderr
    expected = render(cite(env, at=754), "apa")
    assert done.stdout == expected + "\n"
    assert "rev=1" in done.stdout and "简: 「我哋喺码头罢工，争取权益。」" in done.stdout


def test_cli_json_and_defaults(env, tmp_path):
    done = run_cli(tmp_path, ITEM, "--at", "754", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["style"] == "chicago"
    assert data["permalink"] == f"?item={ITEM}&t=754&rev=1"  # no base URL configured: relative
    assert data["quote"]["text_zh_hans"] == "我哋喺码头罢工，争取权益。"
    assert data["text"].startswith("Lee Cheuk-yan, and 陳美.")


def test_cli_unknown_item_is_an_error(env, tmp_path):
    done = run_cli(tmp_path, "nosuchitem", "--style", "ris")
    assert done.returncode != 0
    assert done.stderr.startswith("error: ") and "nosuchitem" in done.stderr
    assert done.stdout == ""


def test_cli_private_item_needs_role_staff(env, tmp_path):
    catalog, _ = env
    catalog.update_item(ITEM, visibility="staff")
    hidden = run_cli(tmp_path, ITEM)
    assert hidden.returncode != 0 and hidden.stderr.startswith("error: no item")
    shown = run_cli(tmp_path, ITEM, "--role", "staff", "--style", "bibtex", "--rev", "1")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"@misc{{{ITEM}-rev1,")


def test_cli_bad_moment_is_an_error(env, tmp_path):
    done = run_cli(tmp_path, ITEM, "--at", "12:75")
    assert done.returncode != 0 and done.stderr.startswith("error: ") and "12:75" in done.stderr
