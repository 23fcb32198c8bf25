"""Access: nothing above the viewer's role is matched, returned, counted or highlighted."""

from __future__ import annotations

import json

import pytest
from search_corpus import Archive, make_archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Archive:
    return make_archive(tmp_path_factory.mktemp("home"), engine=engine)


ROLES = ("public", "members", "staff")


@pytest.mark.parametrize(
    ("query", "visible_from"),
    [
        ("zephyrine", "staff"),  # a word only in the staff-only item's transcript
        ("鷸蚌", "staff"),
        ('"Internal meeting notes"', "staff"),  # its title
        ('"Organiser A"', "staff"),  # its speaker
        ("quokka", "staff"),  # a redacted segment of a public item
        ("dissolution", "members"),  # the members-only item
        ("國安法", "members"),
        ("forty days", "public"),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_role_filtering(archive: Archive, query: str, visible_from: str, role: str) -> None:
    results = archive.search(query, role=role, per_page=100, hits_per_item=100)
    visible = ROLES.index(role) >= ROLES.index(visible_from)
    assert (results.total_items > 0) is visible
    if not visible:
        assert results.total_hits == 0
        assert all(not counts for counts in results.facets.values())
        data = results.to_dict()
        del data["query"]  # the viewer's own words are echoed back, of course
        assert query.strip('"').split()[0].lower() not in json.dumps(data).lower()


@pytest.mark.parametrize("role", ["public", "members"])
def test_hidden_items_not_counted_in_facets(archive: Archive, role: str) -> None:
    # "碼頭工人罷工" is also in the staff-only item's transcript (sec-02).
    results = archive.search("碼頭工人罷工", role=role)
    staff = archive.search("碼頭工人罷工", role="staff")
    secret = archive.built.ids["secret"]
    assert secret not in {g.item_id for g in results.groups}
    assert secret in {g.item_id for g in staff.groups}
    assert "other" not in dict(results.facets["collection"])
    assert dict(staff.facets["collection"])["other"] >= 1
    assert "Organiser A" not in dict(results.facets["speaker"])
    assert results.total_items == staff.total_items - 1
    assert results.total_hits < staff.total_hits


def test_redacted_segment_hidden_but_its_item_is_not(archive: Archive) -> None:
    public = archive.search("證人", role="public", per_page=100, hits_per_item=100)
    assert public.total_hits == 0  # the only segment with 證人 is redacted
    # The rest of the item stays public.
    assert "ann-01" in archive.uids("remember", role="public")
    staff = archive.search("quokka", role="staff")
    hit = staff.groups[0].hits[0]
    assert hit.uid == "ann-02" and "<mark>quokka</mark>" in hit.highlights["zh"]


def test_redacted_text_not_leaked_through_neighbours_highlights(archive: Archive) -> None:
    # A public search that matches the redacted segment's item shows only unredacted segments.
    results = archive.search("Lee Cheuk-yan", role="public", per_page=100, hits_per_item=100)
    text = json.dumps(results.to_dict(), ensure_ascii=False)
    assert "quokka" not in text.lower() and "證人" not in text


def test_filters_only_listing_respects_role(archive: Archive) -> None:
    assert archive.items("collection:other", role="public") == {"seamen"}
    assert archive.items("collection:other", role="staff") == {"seamen", "secret"}
    assert archive.items("year:2021", role="public") == set()
    assert archive.items("year:2021", role="members") == {"nsl"}


def test_visibility_change_is_applied_incrementally(tmp_path, engine: str) -> None:
    archive = make_archive(tmp_path / "home", keys=["dock", "bar"], engine=engine)
    assert archive.items("container terminal") == {"dock"}
    archive.catalog.update_item(archive.built.ids["dock"], visibility="staff")
    archive.index.update_item(archive.catalog, archive.built.ids["dock"])
    assert archive.items("container terminal") == set()
    assert archive.items("container terminal", role="members") == set()
    assert archive.items("container terminal", role="staff") == {"dock"}
    assert archive.items("bar-benders") == {"bar"}  # the other item is untouched


def test_unknown_role_is_an_input_error(archive: Archive) -> None:
    from archive.core.errors import InputError

    with pytest.raises(InputError):
        archive.search("strike", role="admin")
