"""The work one search may do is bounded before it runs and stopped at a deadline (security issue
18, point 7), on both engines.

``工 OR 人 OR …`` with 100 single Chinese characters (each a prefix over every word starting
with it) took 505 s of CPU on Whoosh; the 32-word limit only printed a note. Now: more than 32
words is refused before anything runs, prefixes share a fixed number of expanded terms, every
search has a deadline that stops the searching thread, and one process runs at most a few
expensive searches at once.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import pytest

from archive.core.errors import SearchLimitError
from indexer import limits
from indexer.limits import MAX_EXPANDED_TERMS, SearchBudget
from indexer.query import MAX_TERMS
from transcripts.segments import Segment

# Characters each followed, somewhere in the corpus, by 300 different characters: every one of
# them is a prefix over 300 bigrams (a real transcript has thousands).
LEADS = "工人罷碼頭職會議員警"
FOLLOW = [chr(0x4E00 + i) for i in range(300)]


def _archive(home: Path, engine: str) -> Any:
    from archive.catalog.db import Catalog
    from archive.core.config import load_settings
    from indexer import SearchIndex

    settings = load_settings(home).ensure()
    catalog = Catalog.open(settings)
    item = catalog.create_item(
        title_zh="工人口述",
        title_en="Workers speak",
        description_zh="",
        description_en="",
        collection="other",
        recorded_date="2020-01-01",
        speakers=[],
        tags=[],
        language="yue",
        visibility="public",
    )
    segments = []
    for n, lead in enumerate(LEADS):
        for k in range(0, len(FOLLOW), 30):  # ten segments of 30 words per character
            text = " ".join(lead + f for f in FOLLOW[k : k + 30])
            segments.append(
                Segment(
                    len(segments) * 5.0, len(segments) * 5.0 + 4, text, "", "zh", uid=f"s{n}-{k}"
                )
            )
    catalog.add_revision(item.id, segments, origin="whisper")
    index = SearchIndex.open(settings)
    index.rebuild(catalog, engine=engine)
    return index


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Any:
    return _archive(tmp_path_factory.mktemp("limits") / "home", engine)


def test_a_hundred_single_characters_are_refused_before_running(index: Any) -> None:
    chars = [chr(0x4E00 + i) for i in range(100)]
    results = index.search(" OR ".join(chars), role="public")
    assert results.total_items == 0 and results.groups == []
    assert results.expanded_terms == 0  # nothing was expanded: nothing ran
    assert f"more than {MAX_TERMS} words" in (results.notice or "")
    assert "was not run" in (results.notice or "")


def test_many_prefixes_share_a_bounded_number_of_expanded_terms(index: Any) -> None:
    query = " OR ".join(LEADS * 3)  # 30 single characters, each over 300 words
    results = index.search(query, role="public")
    assert 0 < results.expanded_terms <= MAX_EXPANDED_TERMS
    assert results.total_items == 1  # still found, from the words that were searched
    assert "10 of the word beginnings matched more words" in (results.notice or "")


def test_one_prefix_expands_to_at_most_its_share(index: Any) -> None:
    results = index.search("工", role="public")
    # Half of the budget for the segments (one field), half for the item's four fields.
    assert results.expanded_terms <= MAX_EXPANDED_TERMS
    assert results.total_hits > 0 and results.groups[0].hits
    small = index.search("negotiat*", role="public")  # few words: all of them, no notice
    assert "word beginnings" not in (small.notice or "")


def test_a_search_past_its_deadline_stops_itself(index: Any) -> None:
    query = " OR ".join(f"{lead}*" for lead in LEADS[:8])  # eight prefixes over 300 words each
    outcome: dict[str, BaseException | None] = {"error": None}

    def run() -> None:
        try:
            index.search(query, role="public", deadline=0.0)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    searching = threading.Thread(target=run)
    searching.start()
    searching.join(60)
    assert not searching.is_alive()  # the searching thread itself has ended
    assert isinstance(outcome["error"], SearchLimitError)
    assert "stopped" in str(outcome["error"])
    # With time enough, the same search answers.
    assert index.search(query, role="public", deadline=60).total_items == 1


def test_the_engine_itself_stops_at_the_deadline(index: Any) -> None:
    """Not only the checks around it: the engine's own search raises once the time is up."""
    from indexer import query_tree as qt

    snapshot = index._view_now("public")
    query = qt.Or(tuple(qt.Prefix("body", lead, 1.0, 30) for lead in LEADS))
    with pytest.raises(SearchLimitError):
        snapshot.search(query, role="public", limit=10, budget=SearchBudget(0.0))
    found, _more = snapshot.search(query, role="public", limit=10, budget=SearchBudget(60))
    assert found


def test_one_more_expensive_search_than_allowed_is_told_busy(index: Any) -> None:
    with contextlib.ExitStack() as held:
        for _ in range(limits.EXPENSIVE.size):  # as many as may run, each holding its slot
            held.enter_context(limits.EXPENSIVE.slot(True))
        with pytest.raises(SearchLimitError, match="busy"):
            index.search("工*", role="public")
        # A search of a few whole words is never expensive: it still runs.
        assert index.search("工人口述", role="public").total_items == 1
    assert index.search("工*", role="public").total_items == 1  # slots free again
