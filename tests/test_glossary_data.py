"""Pure-data checks of the shipped bilingual glossary, ``indexer/glossary.tsv``.

These read the file directly (no analyser, no index) so that a bad hand edit is caught with a
message naming the line, whatever the state of the search code.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import NamedTuple

import pytest

GLOSSARY = Path(__file__).resolve().parents[1] / "indexer" / "glossary.tsv"

CATEGORIES = {
    "union",
    "organisation",
    "law",
    "event",
    "strike",
    "place",
    "person",
    "concept",
    "industry",
    "government",
}

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
LATIN = re.compile(r"[A-Za-zÀ-ɏ]")


class Row(NamedTuple):
    line: int
    category: str
    zh: tuple[str, ...]
    en: tuple[str, ...]
    note: str

    def where(self) -> str:
        return f"glossary.tsv:{self.line} ({self.zh[0] if self.zh else '?'})"


def _split_forms(column: str) -> tuple[str, ...]:
    return tuple(column.split("|"))


def load_rows() -> list[Row]:
    rows = []
    text = GLOSSARY.read_text(encoding="utf-8")  # must be valid UTF-8
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        columns = raw.split("\t")
        assert len(columns) in (3, 4), (
            f"glossary.tsv:{number}: expected 3 or 4 TAB-separated columns, got {len(columns)}: {raw!r}"
        )
        category, zh, en = columns[:3]
        note = columns[3] if len(columns) == 4 else ""
        rows.append(Row(number, category, _split_forms(zh), _split_forms(en), note))
    return rows


ROWS = load_rows()


def fold_en(form: str) -> tuple[str, ...]:
    """A rough stand-in for the search analyser: lower case, words only, plural 's' dropped."""
    words = re.findall(r"[0-9a-zà-ɏ]+", form.lower())
    return tuple(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words
    )


def test_file_is_utf8_without_bom_and_tabs_only_as_separators():
    data = GLOSSARY.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf"), "no byte-order mark, please"
    assert b"\r" not in data, "Unix line endings, please"
    assert data.decode("utf-8").endswith("\n")


def test_header_documents_the_format():
    header = [
        line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line.startswith("#")
    ]
    text = "\n".join(header)
    assert "category<TAB>zh<TAB>en<TAB>note" in text
    for category in CATEGORIES:
        assert category in text, f"header does not list category {category!r}"


def test_enough_entries():
    assert len(ROWS) >= 150, f"only {len(ROWS)} entries"


def test_every_category_is_used():
    used = Counter(row.category for row in ROWS)
    assert set(used) == CATEGORIES, f"unused: {CATEGORIES - set(used)}"


@pytest.mark.parametrize("row", ROWS, ids=lambda r: str(r.line))
def test_row_is_well_formed(row: Row):
    assert row.category in CATEGORIES, f"{row.where()}: unknown category {row.category!r}"
    assert row.zh and all(row.zh), f"{row.where()}: empty Chinese form"
    assert row.en and all(row.en), f"{row.where()}: empty English form"
    for form in row.zh + row.en:
        assert form == form.strip(), f"{row.where()}: stray spaces around {form!r}"
        assert "  " not in form, f"{row.where()}: double space in {form!r}"
    for form in row.zh:
        assert HAN.search(form), f"{row.where()}: Chinese form without Han characters: {form!r}"
    for form in row.en:
        assert LATIN.search(form), f"{row.where()}: English form without Latin letters: {form!r}"
        assert not HAN.search(form), f"{row.where()}: Chinese characters in English form {form!r}"
    assert row.note == row.note.strip(), f"{row.where()}: stray spaces around the note"
    if row.note:  # English, though it may quote a Chinese term
        han = len(HAN.findall(row.note))
        assert not han or len(LATIN.findall(row.note)) > han, (
            f"{row.where()}: write notes in English"
        )
    assert len(row.zh) == len(set(row.zh)), f"{row.where()}: repeated Chinese form"
    assert len(row.en) == len(set(row.en)), f"{row.where()}: repeated English form"


def test_canonical_forms_are_unique():
    zh = Counter(row.zh[0] for row in ROWS)
    en = Counter(row.en[0].casefold() for row in ROWS)
    assert not [f for f, n in zh.items() if n > 1], "duplicate canonical Chinese forms"
    assert not [f for f, n in en.items() if n > 1], "duplicate canonical English forms"


def test_no_form_belongs_to_two_entries():
    """A form shared by two entries makes an expansion ambiguous; keep each form in one line."""
    owners: dict[tuple[str, ...] | str, set[int]] = defaultdict(set)
    for row in ROWS:
        for form in row.zh:
            owners[form].add(row.line)
        for form in row.en:
            owners[fold_en(form)].add(row.line)
    shared = {form: sorted(lines) for form, lines in owners.items() if len(lines) > 1}
    assert not shared, f"forms in more than one entry (form: lines): {shared}"


def test_canonical_chinese_is_traditional():
    # Characters that only occur in Simplified text (杰, 叶 etc. are left out: they appear in HK names).
    simplified_only = set("国会联职罢码头铁劳动权运门场华陈张刘吴郑邓钟冯许罗卫区条业员")
    for row in ROWS:
        bad = simplified_only & set(row.zh[0])
        assert not bad, f"{row.where()}: canonical form uses Simplified characters {sorted(bad)}"


# The entries the feature request names explicitly: (category, a Chinese form, an English form).
REQUIRED = [
    ("union", "職工盟", "HKCTU"),
    ("union", "香港職工會聯盟", "Hong Kong Confederation of Trade Unions"),
    ("law", "國安法", "National Security Law"),
    ("law", "香港國安法", "National Security Law"),
    ("law", "港區國安法", "National Security Law"),
    ("strike", "碼頭工人罷工", "dock strike"),
    ("strike", "碼頭工人罷工", "2013 Hong Kong dock strike"),
    ("place", "葵青貨櫃碼頭", "Kwai Tsing Container Terminals"),
    ("industry", "紮鐵工人", "bar-benders"),
    ("strike", "紮鐵工人罷工", "2007 bar-benders' strike"),
    ("person", "李卓人", "Lee Cheuk-yan"),
]


@pytest.mark.parametrize(
    ("category", "zh", "en"), REQUIRED, ids=[f"{z}/{e}" for _, z, e in REQUIRED]
)
def test_required_entry_present(category: str, zh: str, en: str):
    rows = [row for row in ROWS if zh in row.zh and en in row.en]
    assert rows, f"no single entry has both {zh!r} and {en!r}"
    assert rows[0].category == category


def test_person_romanisations_come_hyphenated_and_plain():
    row = next(row for row in ROWS if row.zh[0] == "李卓人")
    assert {"Lee Cheuk-yan", "Lee Cheuk Yan"} <= set(row.en)
