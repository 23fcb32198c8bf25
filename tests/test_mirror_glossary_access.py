"""The mirror's glossary (``assets/glossary.json``) follows the portal's rule (issue 18, point 4).

The data folder's own ``glossary.tsv`` is staff's: a form only it has is handed to the public only
when that form occurs, as whole words, in text the public may read, each form judged on its own.
Before, the mirror published a whole local entry as soon as any one of its forms appeared anywhere
in public text, even inside a longer word ("Ton" in "Tone 0"), so one harmless form published the
code name beside it. The mirror now calls the portal's own code
(:func:`indexer.glossary_access.readable_glossary` and :func:`~indexer.glossary_access.hidden_form`).

Real parts: the preservation sample archive (ingested media, a redacted segment, a staff-only
item), the real ``archive mirror`` command with Pagefind, the real search index for the portal's
side of the comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from preserve_data import CANARY_REDACTED_EN, CANARY_STAFF, sample_copy

from transcripts.chinese import fold

# Staff's local entries. "Ton" stands only inside the public title "Tone 0"; "Dock" is a public
# word (the public talk's title) but its entry's other forms are said nowhere in public; one entry
# is named only in a redacted sentence, one only in a staff-only item; "海外發聲 / abroad" are both
# said in a public item.
LOCAL_GLOSSARY = (
    "person\t陳大文\tTon|Chan Tai-man\tcode name Ton\n"
    "plan\t鷸蚌計劃\tDock|zephyrine plan\tthe plan\n"
    f"person\t郭先生\t{CANARY_REDACTED_EN}|Mr Quokka\tnamed only in a redacted sentence\n"
    f"person\t袋熊先生\t{CANARY_STAFF}|Mr Wombat\tnamed only in a staff-only item\n"
    "term\t海外發聲\tabroad\tboth said in public\n"
)
SECRET_FORMS = (
    "陳大文",
    "Chan Tai-man",
    "Ton",
    "鷸蚌計劃",
    "zephyrine plan",
    "郭先生",
    "Mr Quokka",
    CANARY_REDACTED_EN,
    "袋熊先生",
    CANARY_STAFF,
    "Mr Wombat",
)


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("mirror-glossary")
    sample = sample_copy(tmp)
    (sample.settings.home / "glossary.tsv").write_text(LOCAL_GLOSSARY, encoding="utf-8")
    site = tmp / "site"
    done = run_cli(sample.settings.home, "mirror", str(site))
    assert done.returncode == 0, done.stderr
    raw = (site / "assets" / "glossary.json").read_text(encoding="utf-8")
    yield sample, site, raw
    sample.catalog.close()


def _forms(raw: str) -> set[str]:
    return {form for entry in json.loads(raw) for group in entry for form in group}


def test_no_local_form_the_public_cannot_read_is_in_the_mirror(mirrored) -> None:
    _sample, _site, raw = mirrored
    forms = _forms(raw)
    for secret in SECRET_FORMS:
        assert secret not in forms and fold(secret) not in forms, secret
    for secret in ("陳大文", "Chan Tai-man", "鷸蚌計劃", "zephyrine", "Quokka", "Wombat"):
        assert secret not in raw and fold(secret) not in raw, secret


def test_local_forms_said_in_public_and_the_shipped_glossary_stay(mirrored) -> None:
    _sample, _site, raw = mirrored
    forms = _forms(raw)
    assert {"海外發聲", "abroad", "Dock"} <= forms  # each occurs as whole words in public text
    assert "碼頭工人罷工" in forms and "dock strike" in forms  # shipped: public knowledge


def test_no_page_of_the_mirror_names_a_hidden_form(mirrored) -> None:
    _sample, site, _raw = mirrored
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".json", ".js", ".xml", ".txt", ".srt"):
            text = path.read_text(encoding="utf-8")
            for secret in ("陳大文", "Chan Tai-man", "鷸蚌計劃", "zephyrine", "Quokka", "Wombat"):
                assert secret not in text, (path.relative_to(site), secret)


def test_the_mirror_and_the_portal_keep_the_same_forms(mirrored) -> None:
    """One rule: what the portal's "Also searched" would name to the public for an entry is what
    the mirror hands out of it."""
    from indexer import SearchIndex

    sample, _site, raw = mirrored
    forms = _forms(raw)
    index = SearchIndex.open(sample.settings)
    for query, entry in (("Dock", ("鷸蚌計劃", "zephyrine plan")), ("海外發聲", ("abroad",))):
        portal = set(index.search(query, role="public").expansions)
        for form in entry:
            assert (form in portal) == (form in forms), (query, form)


def test_the_rule_is_the_portals_on_whole_words(tmp_path: Path) -> None:
    """The shared rule on its own: a form inside a longer word does not occur; a whole one does;
    a shipped form is never hidden."""
    from indexer.glossary import Glossary, form_key, parse_glossary
    from indexer.glossary_access import TextOccurrence, readable_glossary, shipped_glossary

    occurs = TextOccurrence(["Tone 0", "The dock workers' strike lasted forty days."])
    assert not occurs(form_key("Ton")) and occurs(form_key("Tone"))
    assert occurs(form_key("dock workers")) and not occurs(form_key("workers dock"))
    entries, _ = parse_glossary(LOCAL_GLOSSARY)
    local = Glossary.from_entries([*shipped_glossary().entries, *entries])
    kept = readable_glossary(local, occurs=occurs)
    kept_forms = {f for e in kept.entries for f in e.forms}
    assert "Dock" in kept_forms and "碼頭工人罷工" in kept_forms
    assert not {"Ton", "陳大文", "Chan Tai-man", "鷸蚌計劃", "zephyrine plan"} & kept_forms


def test_the_mirror_expands_a_term_as_the_portal_does(mirrored) -> None:
    """Issue 19, point 4, in the mirror: 紮鐵 also searches the English of the longer terms that
    contain it (bar-benders), and "bar bending" the rest of its word family, as the portal's
    search does, from the same readable glossary."""
    from indexer.glossary import form_key, load_glossary

    sample, _site, raw = mirrored
    entries = json.loads(raw)
    bar = next(e for e in entries if fold("紮鐵") in e[0])
    also = set(bar[4])
    assert any("bar-bender" in form or "bar bender" in form for form in also), bar
    portal = load_glossary(sample.settings.home)
    expected = {fold(f).strip() for f in portal.expansion_forms(form_key("紮鐵"))}
    assert also <= expected | {fold(f).strip() for e in portal.entries for f in e.forms}
    # Every "also" form is a form of some entry the mirror itself publishes: nothing new leaks.
    published = {form for entry in entries for group in entry[:2] for form in group}
    assert also <= published, also - published
