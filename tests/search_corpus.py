"""A small, realistic bilingual archive for the search tests (``tests/test_search_*.py``).

Talks about the 2013 dock strike, the 2007 bar-benders' strike and unions under the National
Security Law, in Hong Kong Traditional Chinese with English tracks (and English segments with
Chinese tracks), plus a staff-only item and a public item with one redacted segment. Each segment has
a stable ``uid`` so tests can name the hits they expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conftest import insert_segment_redaction

from transcripts.segments import Segment

__all__ = ["GLOSSARY_TSV", "ITEMS", "SEGMENTS", "Archive", "Built", "build_catalog", "make_archive"]

# item key -> item fields
ITEMS: dict[str, dict[str, Any]] = {
    "dock": {
        "title_zh": "碼頭工人罷工十周年",
        "title_en": "Dock strike, ten years on",
        "description_zh": "回顧二零一三年葵涌貨櫃碼頭工人罷工。",
        "description_en": "Looking back at the 2013 Kwai Chung container terminal strike.",
        "collection": "webinar",
        "recorded_date": "2023-04-28",
        "speakers": ["Lee Cheuk-yan", "Stanley Ho"],
        "tags": ["dock strike", "HKCTU"],
        "language": "yue",
        "visibility": "public",
    },
    "bar": {
        "title_zh": "紮鐵工人罷工口述歷史",
        "title_en": "The bar-benders' strike: an oral history",
        "description_zh": "二零零七年紮鐵工人爭取八小時工作日。",
        "description_en": "The 2007 bar-benders fought for an eight-hour day.",
        "collection": "interview",
        "recorded_date": "2017-08-10",
        "speakers": ["Chan Wai-ming"],
        "tags": ["construction"],
        "language": "yue",
        "visibility": "public",
    },
    "nsl": {
        "title_zh": "國安法下的工會",
        "title_en": "Trade unions under the National Security Law",
        "description_zh": "職工盟解散前後的工會運動。",
        "description_en": "The union movement before and after the dissolution of the HKCTU.",
        "collection": "webinar",
        "recorded_date": "2021-11-02",
        "speakers": ["Mung Siu-tat"],
        "tags": ["NSL"],
        "language": "yue",
        "visibility": "members",
    },
    "secret": {
        "title_zh": "內部會議記錄",
        "title_en": "Internal meeting notes",
        "description_zh": "",
        "description_en": "Staff only.",
        "collection": "other",
        "recorded_date": "2022-01-15",
        "speakers": ["Organiser A"],
        "tags": [],
        "language": "yue",
        "visibility": "staff",
    },
    "anniv": {
        "title_zh": "罷工紀念晚會",
        "title_en": "Strike anniversary evening",
        "description_zh": "",
        "description_en": "Songs and speeches.",
        "collection": "strike-anniversary",
        "recorded_date": "2019-05-06",
        "speakers": ["Lee Cheuk-yan"],
        "tags": [],
        "language": "en",
        "visibility": "public",
    },
    "seamen": {
        "title_zh": "海員工會歷史",
        "title_en": "A history of the Seamen's Union",
        "description_zh": "一九二二年海員大罷工。",
        "description_en": "The great seamen's strike of 1922.",
        "collection": "other",
        "recorded_date": "2019-09-01",
        "speakers": [],
        "tags": [],
        "language": "zh",
        "visibility": "public",
    },  # no transcript: found by its title and description only
}

# item key -> segments (start, end, text_zh, text_en, lang, speaker, uid)
SEGMENTS: dict[str, list[tuple[float, float, str, str, str, str, str]]] = {
    "dock": [
        (
            0.0,
            6.4,
            "二零一三年嘅碼頭工人罷工維持咗四十日。",
            "The 2013 dock strike lasted forty days.",
            "zh",
            "Lee Cheuk-yan",
            "dock-01",
        ),
        (
            6.4,
            12.9,
            "葵涌貨櫃碼頭嘅工人要求加薪百分之二十。",
            "Workers at the Kwai Chung container terminal demanded a twenty per cent pay rise.",
            "zh",
            "Lee Cheuk-yan",
            "dock-02",
        ),
        (
            12.9,
            19.5,
            "職工盟全力支援罷工工人，設立罷工基金。",
            "The HKCTU fully supported the striking workers and set up a strike fund.",
            "zh",
            "Lee Cheuk-yan",
            "dock-03",
        ),
        (
            19.5,
            25.0,
            "李卓人每晚都同罷工工人講話。",
            "Lee Cheuk-yan spoke to the strikers every night.",
            "en",
            "Stanley Ho",
            "dock-04",
        ),
        (
            25.0,
            31.2,
            "我哋喺 HKCTU 嘅辦公室開會，討論 strike fund 點樣分配。",
            "We met at the HKCTU office to discuss how to share out the strike fund.",
            "zh",
            "Stanley Ho",
            "dock-05",
        ),
        (
            31.2,
            37.0,
            "碼頭裏面好多外判工人，工資十幾年冇加過。",
            "Inside the docks many outsourced workers had no pay rise for over ten years.",
            "zh",
            "Stanley Ho",
            "dock-06",
        ),
        (
            37.0,
            42.5,
            "佢哋話：「我哋唔係機器，我哋係人。」",
            "They said: 'We are not machines, we are people.'",
            "zh",
            "Lee Cheuk-yan",
            "dock-07",
        ),
        (
            42.5,
            48.0,
            "罷工結束嗰陣，工人得到百分之九點八嘅加薪。",
            "When the strike ended, the workers won a 9.8 per cent raise.",
            "zh",
            "Lee Cheuk-yan",
            "dock-08",
        ),
    ],
    "bar": [
        (
            3.0,
            9.0,
            "二零零七年紮鐵工人罷工，爭取八小時工作。",
            "In 2007 the bar-benders struck for an eight-hour working day.",
            "zh",
            "Chan Wai-ming",
            "bar-01",
        ),
        (
            9.0,
            15.5,
            "紮鐵工會喺地盤外面集會，好多市民支持。",
            "The bar-benders' union rallied outside the construction sites, with wide public support.",
            "zh",
            "Chan Wai-ming",
            "bar-02",
        ),
        (
            15.5,
            21.0,
            "罷工嘅紮鐵工人喺中環堵路。",
            "Striking bar benders blocked the road in Central.",
            "en",
            "Chan Wai-ming",
            "bar-03",
        ),
        (
            21.0,
            27.3,
            "天氣好熱，紮鐵師傅喺太陽底下做十二個鐘。",
            "In the heat, the steel fixers worked twelve hours under the sun.",
            "zh",
            "Chan Wai-ming",
            "bar-04",
        ),
    ],
    "nsl": [
        (
            0.0,
            7.0,
            "國安法實施之後，職工盟喺二零二一年宣布解散。",
            "After the National Security Law took effect, the HKCTU announced its dissolution in 2021.",
            "zh",
            "Mung Siu-tat",
            "nsl-01",
        ),
        (
            7.0,
            13.0,
            "好多工會幹事被迫離開香港。",
            "Many union organisers were forced to leave Hong Kong.",
            "zh",
            "Mung Siu-tat",
            "nsl-02",
        ),
        (
            13.0,
            19.0,
            "我們必須保存勞工運動的檔案。",
            "We must keep the archive of the labour movement alive.",
            "en",
            "Mung Siu-tat",
            "nsl-03",
        ),
        (
            19.0,
            25.0,
            "香港職工會聯盟成立於一九九零年。",
            "The Hong Kong Confederation of Trade Unions was founded in 1990.",
            "zh",
            "Mung Siu-tat",
            "nsl-04",
        ),
    ],
    "secret": [
        (
            0.0,
            5.0,
            "討論海外資金同埋鷸蚌計劃。",
            "Discussion of overseas funding and the zephyrine plan.",
            "zh",
            "Organiser A",
            "sec-01",
        ),
        (
            5.0,
            9.0,
            "碼頭工人罷工嘅聯絡人名單。",
            "The list of dock strike contacts.",
            "zh",
            "Organiser A",
            "sec-02",
        ),
    ],
    "anniv": [
        (
            0.0,
            6.0,
            "我哋今晚紀念所有罷工工人。",
            "Tonight we remember every striking worker.",
            "en",
            "Lee Cheuk-yan",
            "ann-01",
        ),
        (
            6.0,
            11.0,
            "呢位證人嘅名係 quokka 先生。",
            "This witness is called Mr Quokka.",
            "zh",
            "Lee Cheuk-yan",
            "ann-02",
        ),  # redacted
        (
            11.0,
            16.0,
            "我哋會繼續爭取集體談判權。",
            "We will keep fighting for collective bargaining rights.",
            "en",
            "Lee Cheuk-yan",
            "ann-03",
        ),
    ],
}

REDACTED = {("anniv", "ann-02")}


@dataclass(frozen=True)
class Built:
    ids: dict[str, str]  # item key -> item id

    def key_of(self, item_id: str) -> str:
        return {v: k for k, v in self.ids.items()}[item_id]


def build_catalog(catalog: Any, keys: list[str] | None = None) -> Built:
    """Create the items (and transcripts, redactions) in a real catalog."""
    ids: dict[str, str] = {}
    for key, fields in ITEMS.items():
        if keys is not None and key not in keys:
            continue
        item = catalog.create_item(**fields)
        ids[key] = item.id
        if key in SEGMENTS:
            catalog.add_revision(
                item.id,
                [
                    Segment(start, end, zh, en, lang, speaker=speaker, uid=uid)
                    for start, end, zh, en, lang, speaker, uid in SEGMENTS[key]
                ],
                origin="whisper",
            )
    with catalog.transaction() as conn:
        for key, uid in REDACTED:
            if key in ids:
                insert_segment_redaction(conn, ids[key], uid, created_by="staff-tester")
    return Built(ids)


# The five entries the issue names, in the format of indexer/glossary.tsv; tests put this in the
# data folder's glossary.tsv (the staff extension file), so they do not depend on the shipped one.
GLOSSARY_TSV = """\
# category\tzh\ten\tnote
union\t香港職工會聯盟|職工盟|职工盟\tHong Kong Confederation of Trade Unions|HKCTU\tdissolved 2021
law\t國安法|港區國安法|香港國安法\tNational Security Law|NSL\t2020
event\t碼頭工人罷工|碼頭罷工\tdock strike|dockers' strike\t2013, Kwai Chung
trade\t紮鐵工人|紮鐵工|扎铁工人\tbar-benders|bar benders|steel fixers\t2007 strike
person\t李卓人\tLee Cheuk-yan\tHKCTU general secretary
"""


@dataclass(frozen=True)
class Archive:
    settings: Any
    catalog: Any
    index: Any
    built: Built

    def search(self, query: str, **kw: Any) -> Any:
        return self.index.search(query, **kw)

    def uids(self, query: str, **kw: Any) -> set[str]:
        """The segment uids a search returns (all pages)."""
        results = self.index.search(query, per_page=100, hits_per_item=100, **kw)
        return {h.uid for g in results.groups for h in g.hits}

    def items(self, query: str, **kw: Any) -> set[str]:
        results = self.index.search(query, per_page=100, **kw)
        return {self.built.key_of(g.item_id) for g in results.groups}


def make_archive(
    home: Any, keys: list[str] | None = None, glossary: bool = True, engine: str = "whoosh"
) -> Archive:
    """The corpus in a real catalog and a search index of ``engine`` (the conformance suite runs
    every search test on each engine by parametrising this argument)."""
    from archive.catalog.db import Catalog
    from archive.core.config import load_settings
    from indexer import SearchIndex

    settings = load_settings(home).ensure()
    if glossary:
        (settings.home / "glossary.tsv").write_text(GLOSSARY_TSV, encoding="utf-8")
    catalog = Catalog.open(settings)
    built = build_catalog(catalog, keys)
    index = SearchIndex.open(settings)
    index.rebuild(catalog, engine=engine)
    return Archive(settings, catalog, index, built)
