"""Events and series in the catalog: announcing, checking, editing, the status lifecycle, access,
and attaching a recording through the real ingest path (no speech model: ``transcribe=False``)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.catalog.access import Viewer
from archive.core.errors import InputError, NotFoundError
from archive.hub.events import (
    cancel_event,
    create_event,
    event_permalink,
    event_recording,
    get_event,
    hold_event,
    link_recording,
    list_events,
    pending_attachment,
    postpone_event,
    update_event,
    visible_event,
)
from archive.hub.recordings import attach_recording, recording_options
from archive.hub.series import (
    create_series,
    get_series,
    items_in_series,
    list_series,
    set_item_series,
)

JFK = "en/jfk.flac"


def _add(settings, catalog, **changes):
    values = {
        "title_zh": "碼頭工人罷工十周年",
        "title_en": "Dock strike, ten years on",
        "start": "2026-07-10 20:00",
        "tz": "Europe/London",
        "duration_minutes": 90,
        "visibility": "public",
    }
    values.update(changes)
    return create_event(settings, catalog, **values)


def _event_count(catalog) -> int:
    return catalog.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def _poster_files(settings) -> list[Path]:
    folder = settings.media_dir / "posters"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _image(tmp_path: Path, name: str, fmt: str) -> Path:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format=fmt)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


# -- announcing ---------------------------------------------------------------------------------


def test_an_event_is_stored_in_utc_with_the_organisers_zone(settings, catalog):
    create_series(catalog, "uk-tour", title_zh="英國巡迴講座", title_en="UK talk tour")
    event = _add(
        settings,
        catalog,
        series_id="uk-tour",
        speakers=["Lee Cheuk-yan", " ", "Lee Cheuk-yan"],
        languages=["yue", "en"],
        place="Manchester, Friends Meeting House",
        join_url="https://example.org/register?id=7",
        description_en="A talk.",
    )
    assert event.start_utc == "2026-07-10T19:00:00+00:00"
    assert event.tz == "Europe/London"
    assert event.local_start.strftime("%Y-%m-%d %H:%M %Z") == "2026-07-10 20:00 BST"
    assert event.to_dict()["end_utc"] == "2026-07-10T20:30:00+00:00"
    assert event.speakers == ("Lee Cheuk-yan",)  # blanks and repeats dropped
    assert event.languages == ("yue", "en")
    assert (event.place_kind, event.city, event.venue) == (
        "in-person",
        "Manchester",
        "Friends Meeting House",
    )
    assert event.status == "scheduled" and event.sequence == 0 and event.item_id is None
    assert event.id.startswith("ev") and event.uid.endswith("@hk-labour-archive")
    assert get_event(catalog, event.id) == event
    data = event.to_dict()
    assert data["series"] == "uk-tour" and "series_id" not in data
    assert data["start_local"] == "2026-07-10T20:00:00+01:00"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tz": "Europe/Londres"}, "unknown time zone"),
        ({"start": "2026-03-29 01:30"}, "does not exist"),
        ({"start": "2026-10-25 01:30"}, "--fold 0"),
        ({"duration_minutes": 0}, "more than 0 minutes"),
        ({"duration_minutes": -30}, "more than 0 minutes"),
        ({"duration_minutes": 60 * 24 * 30}, "longer than a week"),
        ({"join_url": "javascript:alert(document.cookie)"}, "not javascript:"),
        ({"join_url": "JavaScript:alert(1)"}, "not javascript:"),
        ({"join_url": " javascript:alert(1)"}, "not javascript:"),
        ({"join_url": "data:text/html,<script>alert(1)</script>"}, "not data:"),
        ({"join_url": "file:///etc/passwd"}, "not file:"),
        ({"join_url": "ftp://example.org/x"}, "not ftp:"),
        ({"join_url": "//evil.example/x"}, "not no scheme"),
        ({"join_url": "https:///no-host"}, "no host"),
        ({"join_url": "https://example.org/a b"}, "spaces"),
        ({"series_id": "no-such-series"}, "no series 'no-such-series'"),
        ({"title_zh": "", "title_en": " "}, "needs a title"),
        ({"languages": ["fr"]}, "language must be one of"),
        ({"visibility": "everyone"}, "visibility must be one of"),
        ({"place_kind": "in-person"}, "needs a city"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(settings, catalog, changes, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        _add(settings, catalog, **changes)
    assert _event_count(catalog) == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("poster.png", b"hello, not a picture\n" * 10, "not a PNG, JPEG or WebP image"),
        (
            "poster.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "not a PNG",
        ),
        ("poster.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "not a PNG"),
        (
            "poster.gif",
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01",
            "image/gif",
        ),
        ("empty.png", b"", "empty"),
    ],
)
def test_a_poster_that_is_not_an_allowed_image_is_refused(
    settings, catalog, tmp_path, name, content, message
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        _add(settings, catalog, poster=path)
    assert _event_count(catalog) == 0
    assert _poster_files(settings) == []


def test_a_missing_poster_is_refused(settings, catalog, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        _add(settings, catalog, poster=tmp_path / "nope.png")
    assert _event_count(catalog) == 0


def test_the_poster_type_comes_from_its_bytes_and_files_are_shared(settings, catalog, tmp_path):
    # A JPEG named .png is stored as what it is.
    jpeg = _image(tmp_path, "looks-like.png", "JPEG")
    first = _add(settings, catalog, poster=jpeg)
    second = _add(settings, catalog, poster=jpeg)
    assert first.poster_mime == "image/jpeg"
    assert first.poster_path.startswith("media/posters/") and first.poster_path.endswith(".jpg")
    assert first.poster_path == second.poster_path  # content-addressed: stored once
    assert (settings.home / first.poster_path).read_bytes() == jpeg.read_bytes()
    webp = _image(tmp_path, "poster.webp", "WEBP")
    third = update_event(settings, catalog, second.id, poster=webp)
    assert third.poster_mime == "image/webp" and third.sequence == 1
    assert len(_poster_files(settings)) == 2
    removed = update_event(settings, catalog, third.id, remove_poster=True)
    assert removed.poster_path is None and removed.poster_mime is None and removed.sequence == 2


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        (None, ("online", "", "")),
        ("online", ("online", "", "")),
        ("Online", ("online", "", "")),
        ("網上", ("online", "", "")),
        ("Manchester", ("in-person", "Manchester", "")),
        (
            "London, Conway Hall, Red Lion Square",
            ("in-person", "London", "Conway Hall, Red Lion Square"),
        ),
    ],
)
def test_places(settings, catalog, place, expected):
    event = _add(settings, catalog, place=place)
    assert (event.place_kind, event.city, event.venue) == expected


# -- editing and the lifecycle --------------------------------------------------------------------


def test_every_change_raises_the_sequence_and_no_change_does_not(settings, catalog):
    event = _add(settings, catalog)
    same = update_event(settings, catalog, event.id, title_en=event.title_en, duration_minutes=90)
    assert same.sequence == 0 and same.updated_at == event.updated_at
    changed = update_event(settings, catalog, event.id, title_en="Dock strike: ten years on")
    assert changed.sequence == 1 and changed.title_en == "Dock strike: ten years on"
    longer = update_event(settings, catalog, event.id, duration_minutes=120, speakers=["A", "B"])
    assert longer.sequence == 2 and longer.duration_minutes == 120 and longer.speakers == ("A", "B")
    cleared = update_event(settings, catalog, event.id, join_url="", description_zh="")
    assert cleared.sequence == 2  # both were empty already
    assert changed.uid == longer.uid == event.uid


def test_edits_are_checked_like_announcements(settings, catalog):
    event = _add(settings, catalog)
    for values, message in [
        ({"start": "2026-03-29 01:30"}, "does not exist"),
        ({"start": "2026-10-25 01:30"}, "--fold"),
        ({"tz": "Nowhere/Land"}, "unknown time zone"),
        ({"duration_minutes": 0}, "more than 0"),
        ({"join_url": "javascript:alert(1)"}, "javascript"),
        ({"series_id": "nope"}, "no series"),
        ({"title_zh": "", "title_en": ""}, "needs a title"),
        ({"start_utc": "2030-01-01T00:00:00+00:00"}, "read-only"),
    ]:
        with pytest.raises(InputError, match=message):
            update_event(settings, catalog, event.id, **values)
    assert get_event(catalog, event.id) == event


def test_changing_only_the_zone_keeps_the_wall_clock_time(settings, catalog):
    event = _add(settings, catalog, start="2026-07-10 20:00", tz="Europe/London")
    moved = update_event(settings, catalog, event.id, tz="Asia/Hong_Kong")
    assert moved.local_start.strftime("%Y-%m-%d %H:%M") == "2026-07-10 20:00"
    assert moved.start_utc == "2026-07-10T12:00:00+00:00" and moved.tz == "Asia/Hong_Kong"
    ambiguous = update_event(
        settings, catalog, event.id, start="2026-10-25 01:30", tz="Europe/London", fold=1
    )
    assert ambiguous.start_utc == "2026-10-25T01:30:00+00:00"
    assert ambiguous.local_start.fold == 1


def test_postpone_keeps_the_old_time(settings, catalog):
    event = _add(settings, catalog)
    later = postpone_event(catalog, event.id, "2026-07-17 19:30")
    assert later.status == "postponed" and later.sequence == 1
    assert later.previous_start_utc == "2026-07-10T19:00:00+00:00"
    assert later.start_utc == "2026-07-17T18:30:00+00:00"
    again = postpone_event(catalog, event.id, "2026-12-01 19:30")  # now GMT
    assert again.start_utc == "2026-12-01T19:30:00+00:00"
    assert again.previous_start_utc == later.start_utc and again.sequence == 2
    with pytest.raises(InputError, match="later than"):
        postpone_event(catalog, event.id, "2026-11-01 19:30")
    with pytest.raises(InputError, match="does not exist"):
        postpone_event(catalog, event.id, "2027-03-28 01:30")
    assert get_event(catalog, event.id) == again


@pytest.mark.parametrize(
    ("steps", "final_status", "refused"),
    [
        (
            ["cancel"],
            "cancelled",
            {"cancel": "already cancelled", "hold": "cancelled", "postpone": "cancelled"},
        ),
        (["hold"], "held", {"cancel": "was held", "postpone": "held"}),
        (["postpone", "hold"], "held", {"cancel": "was held"}),
        (["postpone", "cancel"], "cancelled", {"hold": "cancelled"}),
    ],
)
def test_status_transitions(settings, catalog, steps, final_status, refused):
    event = _add(settings, catalog)
    actions = {
        "cancel": lambda: cancel_event(catalog, event.id),
        "hold": lambda: hold_event(catalog, event.id),
        "postpone": lambda: postpone_event(catalog, event.id, "2026-08-01 20:00"),
    }
    for step in steps:
        actions[step]()
    current = get_event(catalog, event.id)
    assert current.status == final_status and current.sequence == len(steps)
    for action, message in refused.items():
        with pytest.raises(InputError, match=message):
            actions[action]()
    assert get_event(catalog, event.id).sequence == len(steps)
    if final_status == "held":
        assert hold_event(catalog, event.id).sequence == len(steps)  # holding twice changes nothing


def test_an_event_changed_meanwhile_is_not_overwritten(settings, catalog):
    from archive.hub.events import _write

    event = _add(settings, catalog)
    update_event(settings, catalog, event.id, title_en="Changed by someone else")
    with pytest.raises(InputError, match="changed by someone else"):
        _write(catalog, event.id, {"title_en": "Stale edit"}, expect_sequence=event.sequence)
    assert get_event(catalog, event.id).title_en == "Changed by someone else"


# -- access -------------------------------------------------------------------------------------


def test_events_above_a_role_do_not_exist_for_it(settings, catalog):
    public = _add(settings, catalog, visibility="public", title_en="Public talk")
    members = _add(
        settings,
        catalog,
        visibility="members",
        title_en="Members' meeting",
        join_url="https://example.org/members-only-room",
    )
    staff = _add(settings, catalog, visibility="staff", title_en="Staff planning")
    seen = {
        role: [e.id for e in list_events(catalog, viewer=Viewer(role))]
        for role in ("public", "members", "staff")
    }
    assert seen["public"] == [public.id]
    assert set(seen["members"]) == {public.id, members.id}
    assert set(seen["staff"]) == {public.id, members.id, staff.id}
    for hidden in (members, staff):
        with pytest.raises(NotFoundError) as err:
            visible_event(catalog, hidden.id, Viewer("public"))
        assert str(err.value) == f"no event {hidden.id}"  # the same words as for a wrong id
    with pytest.raises(NotFoundError) as err:
        visible_event(catalog, "evnosuchone", Viewer("public"))
    assert str(err.value) == "no event evnosuchone"
    # Members see their event with its join link.
    assert (
        visible_event(catalog, members.id, Viewer("members")).join_url
        == "https://example.org/members-only-room"
    )


def test_upcoming_and_past(settings, catalog):
    early = _add(settings, catalog, start="2026-07-10 20:00", duration_minutes=60)
    late = _add(settings, catalog, start="2026-07-20 20:00", duration_minutes=60)
    viewer = Viewer("public")
    during = datetime(2026, 7, 10, 19, 30, tzinfo=UTC)  # early is under way
    assert [e.id for e in list_events(catalog, viewer=viewer, upcoming=True, now=during)] == [
        early.id,
        late.id,
    ]
    after = datetime(2026, 7, 10, 20, 1, tzinfo=UTC)
    assert [e.id for e in list_events(catalog, viewer=viewer, upcoming=True, now=after)] == [
        late.id
    ]
    assert [e.id for e in list_events(catalog, viewer=viewer, upcoming=False, now=after)] == [
        early.id
    ]
    later = datetime(2026, 8, 1, tzinfo=UTC)
    assert [e.id for e in list_events(catalog, viewer=viewer, upcoming=False, now=later)] == [
        late.id,
        early.id,
    ]
    cancel_event(catalog, late.id)
    assert [e.id for e in list_events(catalog, viewer=viewer, statuses=["cancelled"])] == [late.id]
    with pytest.raises(InputError):
        list_events(catalog, viewer=viewer, statuses=["finished"])


def test_permalink():
    assert event_permalink("ev23456789") == "?event=ev23456789"
    assert (
        event_permalink("ev23456789", "https://archive.example.org/")
        == "https://archive.example.org/?event=ev23456789"
    )


# -- series -------------------------------------------------------------------------------------


def test_series(settings, catalog):
    tour = create_series(
        catalog, "uk-tour-2026", title_zh="英國巡迴講座", title_en="UK talk tour 2026"
    )
    voices = create_series(
        catalog, "diaspora-voices", title_en="Diaspora trade unionists in conversation"
    )
    assert [s.id for s in list_series(catalog)] == ["uk-tour-2026", "diaspora-voices"]
    assert get_series(catalog, "uk-tour-2026") == tour
    for bad, message in [
        ("UK Tour", "lower-case"),
        ("", "lower-case"),
        ("a/b", "lower-case"),
        ("uk-tour-2026", "already a series"),
    ]:
        with pytest.raises(InputError, match=message):
            create_series(catalog, bad, title_en="x")
    with pytest.raises(InputError, match="needs a title"):
        create_series(catalog, "untitled")
    public_item = catalog.create_item(
        title_en="Recorded", visibility="public", recorded_date="2026-07-10"
    )
    staff_item = catalog.create_item(title_en="Raw", visibility="staff", recorded_date="2026-07-11")
    for item in (public_item, staff_item):
        set_item_series(catalog, item.id, voices.id)
    assert [i.id for i in items_in_series(catalog, voices.id, Viewer("public"))] == [public_item.id]
    assert [i.id for i in items_in_series(catalog, voices.id, Viewer("staff"))] == [
        public_item.id,
        staff_item.id,
    ]
    with pytest.raises(InputError, match="no series"):
        set_item_series(catalog, public_item.id, "nope")
    assert set_item_series(catalog, public_item.id, None).series_id is None
    event = _add(settings, catalog, series_id=tour.id)
    assert [e.id for e in list_events(catalog, viewer=Viewer("public"), series_id=tour.id)] == [
        event.id
    ]
    # voices now holds only a staff-only item: below staff it is the error of an unknown series.
    assert list_events(catalog, viewer=Viewer("staff"), series_id=voices.id) == []
    for role in ("public", "members"):
        with pytest.raises(InputError, match="^no series 'diaspora-voices'"):
            list_events(catalog, viewer=Viewer(role), series_id=voices.id)
        with pytest.raises(InputError, match="^no series 'diaspora-voices'"):
            items_in_series(catalog, voices.id, Viewer(role))


# -- recordings ---------------------------------------------------------------------------------


def test_recording_options_inherit_from_the_event(settings, catalog):
    create_series(catalog, "uk-tour", title_en="UK tour")
    event = _add(
        settings,
        catalog,
        series_id="uk-tour",
        speakers=["Lee Cheuk-yan"],
        languages=["yue"],
        description_zh="講座內容",
        start="2026-07-10 23:30",
    )  # 23:30 BST: still 10 July there
    options = recording_options(event)
    assert (options.title_zh, options.title_en) == (event.title_zh, event.title_en)
    assert options.description_zh == "講座內容" and options.description_en is None
    assert options.collection == "webinar" and options.date == "2026-07-10"
    assert options.speakers == ("Lee Cheuk-yan",) and options.language == "yue"
    assert options.visibility == "staff"  # never public by inheritance
    two = _add(settings, catalog, languages=["yue", "en"])
    assert recording_options(two).language == "auto"
    overridden = recording_options(event, title_en="Recording", visibility="public", language=None)
    assert (
        overridden.title_en == "Recording"
        and overridden.visibility == "public"
        and overridden.language == "yue"
    )


def test_attaching_to_a_cancelled_event_is_refused_before_anything_is_fetched(
    settings, catalog, tmp_path
):
    event = _add(settings, catalog)
    cancel_event(catalog, event.id)
    for wait in (True, False):
        with pytest.raises(InputError, match="was cancelled"):
            attach_recording(
                settings, catalog, event.id, str(tmp_path / "does-not-exist.flac"), wait=wait
            )
    assert catalog.item_ids() == [] and catalog.list_jobs() == []


def test_attach_now_inherits_and_links(settings, catalog, fixtures_dir):
    create_series(catalog, "uk-tour", title_en="UK tour")
    event = _add(
        settings, catalog, series_id="uk-tour", speakers=["Lee Cheuk-yan"], languages=["en"]
    )
    options = recording_options(event, transcribe=False)
    outcome = attach_recording(
        settings, catalog, event.id, str(fixtures_dir / JFK), options, wait=True
    )
    item = catalog.get_item(outcome.item_id)
    assert (item.title_zh, item.title_en) == (event.title_zh, event.title_en)
    assert item.speakers == ("Lee Cheuk-yan",) and item.series_id == "uk-tour"
    assert (
        item.collection == "webinar"
        and item.recorded_date == "2026-07-10"
        and item.language == "en"
    )
    assert item.visibility == "staff"
    assert catalog.get_media(item.id, "audio") is not None
    linked = get_event(catalog, event.id)
    assert (
        linked.item_id == item.id
        and linked.status == "held"
        and linked.sequence == event.sequence + 1
    )
    assert event_recording(catalog, linked, Viewer("staff")).id == item.id
    assert event_recording(catalog, linked, Viewer("public")) is None  # the item is not public yet
    catalog.update_item(item.id, visibility="public")
    assert event_recording(catalog, linked, Viewer("public")).id == item.id
    # Attaching twice is refused, before fetching.
    with pytest.raises(InputError, match="already has its recording"):
        attach_recording(settings, catalog, event.id, "/nonexistent.flac", wait=True)
    # The same recording for another event: refused, and that event stays as it was.
    other = _add(settings, catalog, title_en="Another talk")
    with pytest.raises(InputError, match=f"already archived as item {item.id}"):
        attach_recording(
            settings,
            catalog,
            other.id,
            str(fixtures_dir / JFK),
            recording_options(other),
            wait=True,
        )
    assert get_event(catalog, other.id) == other
    assert catalog.item_ids() == [item.id]


def test_queued_attach_links_when_the_job_is_done(settings, catalog, fixtures_dir):
    from archive.jobs.queue import run_job

    event = _add(settings, catalog, title_en="Queued talk")
    outcome = attach_recording(
        settings,
        catalog,
        event.id,
        str(fixtures_dir / JFK),
        recording_options(event, transcribe=False),
    )
    assert outcome.item_id is None and outcome.job is not None
    assert outcome.job.state == "queued" and outcome.job.payload["event_id"] == event.id
    assert pending_attachment(catalog, event.id).id == outcome.job.id
    with pytest.raises(InputError, match=f"already being archived \\(job {outcome.job.id}\\)"):
        attach_recording(settings, catalog, event.id, str(fixtures_dir / JFK))
    assert get_event(catalog, event.id).item_id is None
    job = run_job(settings, catalog, outcome.job.id)  # what `archive worker` does
    assert job.state == "done", job.error
    linked = get_event(catalog, event.id)  # linked when read
    assert linked.item_id == job.result["item_id"] and linked.status == "held"
    assert catalog.get_item(linked.item_id).title_en == "Queued talk"
    assert pending_attachment(catalog, event.id) is None
    with pytest.raises(InputError, match="already has its recording"):
        attach_recording(settings, catalog, event.id, str(fixtures_dir / JFK))


def test_a_failed_queued_attach_can_be_tried_again(settings, catalog, tmp_path, fixtures_dir):
    from archive.jobs.queue import run_job

    event = _add(settings, catalog)
    bad = tmp_path / "broken.flac"
    # A whole header and a few frames: it passes the probe made before queueing (a file that is
    # not media at all is refused then, with no job), then fails in the worker as truncated.
    bad.write_bytes((fixtures_dir / JFK).read_bytes()[:150_000])
    outcome = attach_recording(
        settings, catalog, event.id, str(bad), recording_options(event, transcribe=False)
    )
    failed = run_job(settings, catalog, outcome.job.id)
    assert failed.state == "failed"
    assert (
        get_event(catalog, event.id).item_id is None
        and pending_attachment(catalog, event.id) is None
    )
    again = attach_recording(
        settings,
        catalog,
        event.id,
        str(fixtures_dir / JFK),
        wait=True,
        options=recording_options(event, transcribe=False),
    )
    assert get_event(catalog, event.id).item_id == again.item_id


def test_one_recording_belongs_to_one_event(settings, catalog):
    first = _add(settings, catalog)
    second = _add(settings, catalog)
    item = catalog.create_item(title_en="Recording")
    link_recording(catalog, first.id, item.id)
    assert link_recording(catalog, first.id, item.id).item_id == item.id  # idempotent
    with pytest.raises(InputError, match=f"already the recording of event {first.id}"):
        link_recording(catalog, second.id, item.id)
    with pytest.raises(NotFoundError):
        link_recording(catalog, second.id, "nosuchitem")
    assert get_event(catalog, second.id) == second
