"""Chinese script conversion and search folding (transcripts.chinese): pure functions, tables."""

from __future__ import annotations

import threading

import pytest

from transcripts.chinese import (
    fold,
    han_share,
    has_han,
    hk_punctuation,
    is_chinese_text,
    strip_punctuation,
    to_hk,
    to_simplified,
)

# (input, Hong Kong Traditional). Simplified, mixed, already-Traditional, Cantonese, Latin.
TO_HK = [
    ("码头", "碼頭"),
    ("罢工", "罷工"),
    ("码头工人罢工", "碼頭工人罷工"),
    ("香港职工会联盟", "香港職工會聯盟"),
    ("里面", "裏面"),  # HK standard form 裏, not Taiwan's 裡
    ("这里", "這裏"),
    ("公里", "公里"),  # 里 the unit stays 里
    ("后来", "後來"),
    ("皇后", "皇后"),  # 后 the queen stays 后
    ("头发", "頭髮"),  # one simplified 发, two traditional characters, chosen by the phrase
    ("发展", "發展"),
    ("为什么", "為什麼"),
    ("雇主", "僱主"),
    ("我們在这里开会", "我們在這裏開會"),  # mixed scripts in one sentence, as Whisper writes
    ("佢哋喺度罢工", "佢哋喺度罷工"),  # Cantonese characters pass through
    ("码头 dock strike 2013", "碼頭 dock strike 2013"),
    ("HKCTU 解散了", "HKCTU 解散了"),
    ("Hello, world!", "Hello, world!"),
    ("", ""),
    ("，。！？「」", "，。！？「」"),
    ("碼頭工人罷工", "碼頭工人罷工"),  # already Hong Kong Traditional: unchanged
]


@pytest.mark.parametrize(("text", "expected"), TO_HK)
def test_to_hk(text: str, expected: str) -> None:
    assert to_hk(text) == expected


@pytest.mark.parametrize(("text", "expected"), TO_HK)
def test_to_hk_is_idempotent(text: str, expected: str) -> None:
    assert to_hk(to_hk(text)) == to_hk(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("碼頭工人罷工", "码头工人罢工"),
        ("裏面", "里面"),
        ("頭髮", "头发"),
        ("dock 碼頭", "dock 码头"),
        ("", ""),
    ],
)
def test_to_simplified(text: str, expected: str) -> None:
    assert to_simplified(text) == expected


# Groups of spellings that must fold to one form: Simplified, Traditional, Hong Kong and Taiwan
# variants, full-width Latin and case.
FOLD_SAME = [
    ("码头", "碼頭"),
    ("罢工", "罷工"),
    ("里面", "裏面", "裡面"),
    ("线上", "線上", "綫上"),
    ("台湾", "臺灣", "台灣"),
    ("卫生", "衞生", "衛生"),
    ("众", "眾", "衆"),
    ("看着", "看著"),
    ("什么", "甚麼", "什麼"),
    ("dock", "DOCK", "Dock", "ＤＯＣＫ"),
    ("2019", "２０１９"),
    ("码头 dock", "碼頭 ＤＯＣＫ"),
]


@pytest.mark.parametrize("spellings", FOLD_SAME)
def test_fold_maps_variants_to_one_form(spellings: tuple[str, ...]) -> None:
    folded = {fold(s) for s in spellings}
    assert len(folded) == 1, folded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("碼頭工人罷工", "码头工人罢工"),
        ("Dock Strike", "dock strike"),
        ("ＨＫＣＴＵ", "hkctu"),
        ("佢哋", "佢哋"),
        ("", ""),
        ("，。", ",。"),
    ],
)
def test_fold_values(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    "text",
    ["碼頭工人罷工 2013", "ﬁnal ㈱ İstanbul", "頭髮發展", "Ｈello 世界", "", "𠝹𡃁"],
)
def test_fold_keeps_length_and_is_per_character(text: str) -> None:
    # The indexer relies on both: offsets in the folded text are offsets in the original, and a
    # substring folds to the folded substring (an n-gram index needs this).
    assert len(fold(text)) == len(text)
    for i in range(len(text) + 1):
        assert fold(text[:i]) + fold(text[i:]) == fold(text)


def test_fold_is_consistent_across_threads() -> None:
    text = "碼頭工人罷工，裏面 ＤＯＣＫ " * 50
    expected = fold(text)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(fold(text) + to_hk(text))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected + to_hk(text)] * 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("罷工", True),
        ("dock strike", False),
        ("2013", False),
        ("", False),
        ("strike 罷", True),
        ("𠝹", True),
    ],
)
def test_has_han(text: str, expected: bool) -> None:
    assert has_han(text) is expected


@pytest.mark.parametrize(
    ("text", "share", "chinese"),
    [
        ("碼頭工人罷工", 1.0, True),
        ("dock workers strike", 0.0, False),
        ("我今日去 Central Station", 4 / 6, True),  # a Latin word counts as one unit
        ("I went to 中環 today", 2 / 6, False),
        ("2013，。", 0.0, False),
        ("", 0.0, False),
    ],
)
def test_han_share(text: str, share: float, chinese: bool) -> None:
    assert han_share(text) == pytest.approx(share)
    assert is_chinese_text(text) is chinese


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("早上9點,至下午5點.", "早上9點，至下午5點。"),
        ("你好,世界!", "你好，世界！"),
        ("價錢係9.5蚊.", "價錢係9.5蚊。"),  # a decimal point is not a full stop
        ("Hello, world.", "Hello, world."),
        ("OK,好", "OK,好"),
        ("", ""),
    ],
)
def test_hk_punctuation(text: str, expected: str) -> None:
    assert hk_punctuation(text) == expected
    assert len(hk_punctuation(text)) == len(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("開放時間，早上9點。", "開放時間早上9點"), ("Ask not, what!", "Asknotwhat"), ("「」", "")],
)
def test_strip_punctuation(text: str, expected: str) -> None:
    assert strip_punctuation(text) == expected
