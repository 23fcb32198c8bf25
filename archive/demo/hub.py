"""The demo's webinar hub: a series with a past talk whose recording is a demo item, and two
announced talks (one online, one in person) dated from the day the demo is built.

So that a newcomer's first ``make run`` shows the hub: Home lists the next events, Events and an
event page have something to open, and the series page joins an announcement to a recording.
Everything is public and labelled as demo, like the demo items (:mod:`archive.demo.build`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.config import Settings
from archive.hub.events import Event, create_event, link_recording
from archive.hub.series import create_series

__all__ = ["DEMO_SERIES_ID", "DemoHub", "build_demo_hub"]

DEMO_SERIES_ID = "demo-dock-strike-talks"
# The demo item that becomes the past talk's recording (see DEMO_SUBTITLES in build.py).
RECORDING_TITLE_EN = "The 2013 dock strike: sample text (demo)"


@dataclass(frozen=True)
class DemoHub:
    series_id: str
    past: Event
    online: Event
    in_person: Event


def build_demo_hub(
    settings: Settings,
    catalog: Catalog,
    items: list[Item],
    *,
    today: date | None = None,
    echo: Callable[[str], None] = print,
) -> DemoHub | None:
    """The demo series and events; None when the recording item is not among ``items``."""
    recording = next((i for i in items if i.title_en == RECORDING_TITLE_EN), None)
    if recording is None:
        echo("skipped the demo events: the dock strike sample item was not built")
        return None
    today = today or date.today()
    echo("demo: a series, a past talk with its recording, two announced talks")
    create_series(
        catalog,
        DEMO_SERIES_ID,
        title_zh="碼頭工人罷工週年講座（示範）",
        title_en="Dock strike anniversary talks (demo)",
        description_zh="每年回顧 2013 年葵涌貨櫃碼頭工人罷工的講座。示範內容。",
        description_en=(
            "Talks held each year on the 2013 Kwai Chung container terminal strike. Demo content."
        ),
    )
    past = create_event(
        settings,
        catalog,
        title_zh="碼頭工人罷工十週年（示範）",
        title_en="The dock strike, ten years on (demo)",
        start="2023-05-06 20:00",
        tz="Europe/London",
        duration_minutes=90,
        description_zh="十年後回顧罷工：講者、工友與支持者。示範內容。",
        description_en="Speakers, workers and supporters look back. Demo content.",
        languages=("yue", "en"),
        speakers=("Demo narrator",),
        series_id=DEMO_SERIES_ID,
        place="online",
        visibility="public",
    )
    past = link_recording(catalog, past.id, recording.id)
    online = create_event(
        settings,
        catalog,
        title_zh="網上講座：罷工之後的工會組織（示範）",
        title_en="Online talk: organising after the strike (demo)",
        start=f"{today + timedelta(days=14):%Y-%m-%d} 20:00",
        tz="Europe/London",
        duration_minutes=90,
        description_zh="網上講座，粵語及英語。示範內容：並無真實活動。",
        description_en="An online talk in Cantonese and English. Demo content: no real event.",
        languages=("yue", "en"),
        speakers=("Demo narrator",),
        series_id=DEMO_SERIES_ID,
        place="online",
        join_url="https://example.org/demo-webinar",
        visibility="public",
    )
    in_person = create_event(
        settings,
        catalog,
        title_zh="倫敦聚會：紮鐵工人罷工回顧（示範）",
        title_en="London meeting: the bar-benders' strike remembered (demo)",
        start=f"{today + timedelta(days=30):%Y-%m-%d} 19:00",
        tz="Europe/London",
        duration_minutes=120,
        description_zh="實體聚會。示範內容：並無真實活動。",
        description_en="An in-person meeting. Demo content: no real event.",
        languages=("yue",),
        series_id=DEMO_SERIES_ID,
        place="London, Demo Hall",
        visibility="public",
    )
    return DemoHub(DEMO_SERIES_ID, past, online, in_person)
