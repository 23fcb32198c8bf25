"""The search benchmark's synthetic archive: talks built from labour-movement vocabulary, and the
queries typed into it.

``N`` hours become 700 Whisper-sized segments an hour, about 60 % Chinese / 40 % English, both
tracks, words drawn with Zipf weights from a fixed seed, written into a real catalog
(:func:`build_catalog`); :func:`make_queries` gives mixed queries (single words and phrases in
Traditional, Simplified and English, field filters), each with its analysed tokens for the
reference engine. Used by ``bench/search.py``; same seed, same archive, same queries.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.catalog.db import Catalog  # noqa: E402
from indexer.analysis import analyze  # noqa: E402
from transcripts.segments import Segment  # noqa: E402

__all__ = ["SEGMENTS_PER_HOUR", "BenchQuery", "build_catalog", "make_queries"]

SEGMENTS_PER_HOUR = 700
SEGMENTS_PER_ITEM = 700  # one-hour talks

ZH_WORDS = [
    "罷工",
    "工人",
    "碼頭",
    "工會",
    "職工盟",
    "政府",
    "老闆",
    "工資",
    "加薪",
    "工時",
    "勞工",
    "權益",
    "集體談判",
    "外判",
    "紮鐵",
    "地盤",
    "貨櫃",
    "葵涌",
    "中環",
    "香港",
    "國安法",
    "解散",
    "幹事",
    "會員",
    "代表",
    "爭取",
    "支援",
    "團結",
    "抗議",
    "集會",
    "遊行",
    "示威",
    "警察",
    "拘捕",
    "法庭",
    "判刑",
    "坐監",
    "流亡",
    "海外",
    "倫敦",
    "英國",
    "台灣",
    "記者",
    "新聞",
    "自由",
    "民主",
    "運動",
    "歷史",
    "檔案",
    "記錄",
    "訪問",
    "口述",
    "紀念",
    "十周年",
    "六四",
    "維園",
    "燭光",
    "晚會",
    "教協",
    "護士",
    "社工",
    "巴士",
    "司機",
    "清潔",
    "工友",
    "保安",
    "飲食",
    "酒店",
    "零售",
    "建造業",
    "安全",
    "意外",
    "死亡",
    "賠償",
    "強積金",
    "最低工資",
    "標準工時",
    "侍產假",
    "病假",
    "年假",
    "解僱",
    "欠薪",
    "勞資",
    "審裁處",
    "勞工處",
    "我哋",
    "佢哋",
    "你哋",
    "今日",
    "當時",
    "之後",
    "之前",
    "因為",
    "所以",
    "但係",
    "其實",
    "真係",
    "好多",
    "一齊",
    "繼續",
    "開始",
    "結束",
    "知道",
    "記得",
    "覺得",
    "話",
    "講",
    "做",
    "去",
    "嚟",
    "有",
    "冇",
    "係",
    "唔",
    "都",
    "就",
    "會",
    "要",
    "可以",
    "已經",
    "仲",
    "喺",
    "同",
    "嘅",
    "咗",
    "過",
    "啲",
    "呢",
    "嗰",
    "個",
    "好",
    "大",
    "細",
]

EN_WORDS = [
    "strike",
    "strikes",
    "striking",
    "workers",
    "worker",
    "union",
    "unions",
    "dock",
    "docks",
    "terminal",
    "container",
    "pay",
    "rise",
    "wage",
    "wages",
    "hours",
    "overtime",
    "employer",
    "employers",
    "government",
    "police",
    "arrest",
    "arrested",
    "court",
    "trial",
    "prison",
    "exile",
    "london",
    "britain",
    "taiwan",
    "journalist",
    "press",
    "freedom",
    "democracy",
    "movement",
    "history",
    "archive",
    "record",
    "interview",
    "oral",
    "anniversary",
    "vigil",
    "candle",
    "rally",
    "march",
    "protest",
    "solidarity",
    "support",
    "organise",
    "organised",
    "organiser",
    "confederation",
    "trade",
    "bar",
    "benders",
    "steel",
    "fixers",
    "construction",
    "site",
    "sites",
    "safety",
    "accident",
    "compensation",
    "minimum",
    "standard",
    "working",
    "leave",
    "sick",
    "annual",
    "dismissal",
    "unpaid",
    "tribunal",
    "labour",
    "department",
    "collective",
    "bargaining",
    "rights",
    "member",
    "members",
    "delegate",
    "leader",
    "leaders",
    "meeting",
    "meetings",
    "fund",
    "funds",
    "negotiate",
    "negotiation",
    "negotiations",
    "outsourced",
    "contractor",
    "contractors",
    "subcontractor",
    "cleaners",
    "security",
    "guards",
    "drivers",
    "nurses",
    "social",
    "teachers",
    "retail",
    "catering",
    "hotel",
    "the",
    "the",
    "the",
    "the",
    "of",
    "of",
    "of",
    "and",
    "and",
    "and",
    "to",
    "to",
    "a",
    "a",
    "in",
    "in",
    "we",
    "we",
    "they",
    "they",
    "was",
    "were",
    "it",
    "that",
    "this",
    "for",
    "on",
    "with",
    "at",
    "as",
    "by",
    "from",
    "but",
    "not",
    "all",
    "our",
    "their",
    "said",
    "told",
    "asked",
    "remember",
    "remembered",
    "years",
    "days",
    "night",
    "every",
    "many",
    "more",
    "first",
    "last",
    "long",
    "hard",
]

COLLECTIONS = ("webinar", "interview", "strike-anniversary", "other")
VISIBILITIES = ("public", "public", "public", "members", "staff")


@dataclass(frozen=True)
class Corpus:
    zh_weights: list[float]
    en_weights: list[float]


_FUNCTION_ZH = set(
    [
        "我哋",
        "佢哋",
        "你哋",
        "今日",
        "當時",
        "之後",
        "之前",
        "因為",
        "所以",
        "但係",
        "其實",
        "真係",
        "好多",
        "一齊",
        "繼續",
        "開始",
        "結束",
        "知道",
        "記得",
        "覺得",
        "話",
        "講",
        "做",
        "去",
        "嚟",
        "有",
        "冇",
        "係",
        "唔",
        "都",
        "就",
        "會",
        "要",
        "可以",
        "已經",
        "仲",
        "喺",
        "同",
        "嘅",
        "咗",
        "過",
        "啲",
        "呢",
        "嗰",
        "個",
        "好",
        "大",
        "細",
    ]
)
_FUNCTION_EN = set(
    [
        "the",
        "of",
        "and",
        "to",
        "a",
        "in",
        "we",
        "they",
        "was",
        "were",
        "it",
        "that",
        "this",
        "for",
        "on",
        "with",
        "at",
        "as",
        "by",
        "from",
        "but",
        "not",
        "all",
        "our",
        "their",
        "said",
        "told",
        "asked",
    ]
)


def _ranked(words: list[str], function: set[str], seed: int) -> list[str]:
    """Function words first (most frequent in speech), content words after in a fixed shuffle."""
    content = sorted({w for w in words if w not in function})
    random.Random(seed).shuffle(content)
    return [w for w in dict.fromkeys(words) if w in function] + content


ZH_WORDS = _ranked(ZH_WORDS, _FUNCTION_ZH, 1)
EN_WORDS = _ranked(EN_WORDS, _FUNCTION_EN, 2)


def _zipf(n: int, s: float = 1.05) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


def _zh_sentence(rng: random.Random, w: list[float]) -> str:
    words = rng.choices(ZH_WORDS, weights=w, k=rng.randint(5, 12))
    out = ""
    for i, word in enumerate(words):
        out += word
        if i and i % 5 == 0 and i < len(words) - 1:
            out += "，"
    return out + "。"


def _en_sentence(rng: random.Random, w: list[float]) -> str:
    words = rng.choices(EN_WORDS, weights=w, k=rng.randint(8, 18))
    return " ".join(words).capitalize() + "."


def build_catalog(catalog: Catalog, hours: float, seed: int = 20130328) -> tuple[int, list[str]]:
    rng = random.Random(seed)
    zw, ew = _zipf(len(ZH_WORDS)), _zipf(len(EN_WORDS))
    total = int(hours * SEGMENTS_PER_HOUR)
    ids: list[str] = []
    made = 0
    number = 0
    while made < total:
        count = min(SEGMENTS_PER_ITEM, total - made)
        chinese_item = rng.random() < 0.6
        item = catalog.create_item(
            title_zh=_zh_sentence(rng, zw)[:12],
            title_en=_en_sentence(rng, ew)[:60],
            description_en=_en_sentence(rng, ew),
            collection=rng.choice(COLLECTIONS),
            recorded_date=f"{rng.randint(2000, 2024)}-{rng.randint(1, 12):02d}-01",
            speakers=[f"Speaker {rng.randint(1, 60)}"],
            language="yue" if chinese_item else "en",
            visibility=rng.choice(VISIBILITIES),
        )
        segments = []
        t = 0.0
        for _ in range(count):
            dur = rng.uniform(2.5, 7.5)
            # 60 % of segments Chinese overall: most in Chinese talks, some switching.
            zh = rng.random() < (0.85 if chinese_item else 0.22)
            if zh:
                text_zh = _zh_sentence(rng, zw)
                text_en = _en_sentence(rng, ew) if rng.random() < 0.7 else ""
            else:
                text_en = _en_sentence(rng, ew)
                text_zh = _zh_sentence(rng, zw) if rng.random() < 0.5 else ""
            segments.append(
                Segment(t, t + dur, text_zh, text_en, "zh" if zh else "en", uid=f"s{number}-{_}")
            )
            t += dur
        catalog.add_revision(item.id, segments, origin="whisper")
        ids.append(item.id)
        made += count
        number += 1
    return made, ids


@dataclass(frozen=True)
class BenchQuery:
    text: str  # as typed into the archive
    clauses: tuple[tuple[str, ...], ...]  # token sequences, for the reference engine
    filter: tuple[str, str] | None = None  # (field, value)


def make_queries(n: int, seed: int = 4) -> list[BenchQuery]:
    import opencc

    to_simplified = opencc.OpenCC("hk2s")
    rng = random.Random(seed)
    content_zh = [w for w in ZH_WORDS if w not in _FUNCTION_ZH and len(w) >= 2]
    content_en = [w for w in EN_WORDS if w not in _FUNCTION_EN and len(w) >= 4]

    def toks(text: str) -> tuple[str, ...]:
        return tuple(t.text for t in analyze(text, tail_unigrams=False))

    out: list[BenchQuery] = []
    seen: set[str] = set()  # every query distinct: no query is answered from a warm cache
    kinds = (
        ["zh"] * 5
        + ["zh_s"] * 2
        + ["en"] * 4
        + ["zh_phrase"] * 3
        + ["en_phrase"] * 3
        + ["filter"] * 3
    )
    while len(out) < n:
        if out and out[-1].text in seen:
            out.pop()
        elif out:
            seen.add(out[-1].text)
        kind = rng.choice(kinds)
        if kind == "zh":
            w = rng.choice(content_zh)
            out.append(BenchQuery(w, (toks(w),)))
        elif kind == "zh_s":
            w = to_simplified.convert(rng.choice(content_zh))
            out.append(BenchQuery(w, (toks(w),)))
        elif kind == "en":
            w = rng.choice(content_en)
            out.append(BenchQuery(w, (toks(w),)))
        elif kind == "zh_phrase":
            w = rng.choice(content_zh) + rng.choice(content_zh)
            out.append(BenchQuery(f'"{w}"', (toks(w),)))
        elif kind == "en_phrase":
            a, b = rng.choice(content_en), rng.choice(content_en)
            out.append(BenchQuery(f'"{a} {b}"', (toks(f"{a} {b}"),)))
        else:
            w = rng.choice(content_zh + content_en)
            which = rng.choice(["year", "collection", "lang"])
            value = {
                "year": str(rng.randint(2000, 2024)),
                "collection": rng.choice(COLLECTIONS),
                "lang": rng.choice(["zh", "en"]),
            }[which]
            out.append(BenchQuery(f"{w} {which}:{value}", (toks(w),), (which, value)))
        if len(out) == n and out[-1].text in seen:
            out.pop()
    return out
