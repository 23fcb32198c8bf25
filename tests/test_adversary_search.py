"""The adversary's expensive searches through the portal (security issue 18, point 7).

One crafted link, ``/?q=工 OR 人 OR …`` with 100 single characters, used to hold a portal process
for minutes of CPU (43 s behind Caddy; eight of them made everyone else wait 12–19 s). Through
the portal's own pages, as an anonymous visitor: the link is refused before it runs, with a plain
sentence in the visitor's language; a long but allowed one answers, saying that it was searched in
part; and while a process already runs as many expensive searches as it may, one more is told
"busy" at once (no traceback) while a search for whole words still answers.
"""

from __future__ import annotations

import contextlib

import portal_data
import pytest
from portal_harness import archive_home, new_session, open_page, texts

from indexer import limits

HUNDRED = " OR ".join(chr(0x4E00 + i) for i in range(100))
THIRTY = " OR ".join("工會罷人" * 7 + "工會")  # thirty single characters, each a prefix


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, engine: str) -> portal_data.DemoArchive:
    home = tmp_path_factory.mktemp("adversary-search")
    arch = portal_data.build(home, long_talk=False, engine=engine)
    with archive_home(home):
        yield arch


def _search(lang: str, query: str, page: str | None = None) -> str:
    at = open_page(new_session(lang=lang), page, q=query, lang=lang)  # raised nothing
    return texts(at)


def test_a_hundred_character_link_is_refused_before_it_runs(archive) -> None:
    shown = _search("en", HUNDRED)
    assert "Your search has too many words to run. Please search for 32 words or fewer." in shown
    assert "No results for" in shown
    shown = _search("zh", HUNDRED, "search")
    assert "你的搜尋詞語太多，未能執行。請搜尋 32 個或以下的詞語。" in shown


def test_thirty_single_characters_answer_searched_in_part(archive) -> None:
    shown = _search("en", THIRTY, "search")
    assert "only part of them was searched" in shown
    assert "recording" in shown  # results, not an error


def test_one_expensive_search_too_many_is_told_busy(archive) -> None:
    with contextlib.ExitStack() as held:
        for _ in range(limits.EXPENSIVE.size):  # the process's expensive searches, all running
            held.enter_context(limits.EXPENSIVE.slot(True))
        shown = _search("en", "工*", "search")
        assert "That search needs too much work right now." in shown
        assert "Traceback" not in shown
        shown = _search("zh", "工*", "search")
        assert "這個搜尋目前需要太多運算。" in shown
        assert "No results for" not in _search("en", "碼頭", "search")  # whole words still run
    assert "That search needs too much work" not in _search("en", "工*", "search")
