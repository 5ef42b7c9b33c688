"""Live view in Chromium, the way a person uses it: the 视频 page served by `grainlink central
serve`, 实时视频 pressed, the first frame decoded by the page's <video> within the goal, the
camera's OSD text in its top-left corner (it moves away when the camera's OSD moves), and the
stream's publish key used and ended by the media server's checks."""

from __future__ import annotations

import pytest

from tests.cameras.live_site import (
    CAMERA,
    CHROMIUM_ARGS,
    TEXT,
    live_site,
    open_video_page,
    osd_band,
    play,
    stop,
    video_picture,
)
from tests.cameras.live_support import missing_parts
from tests.central.ingest_support import scalar, wait_for
from tests.e2e.web_support import BUILT, CHROMIUM, SHOTS

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.skipif(missing_parts() is not None, reason=str(missing_parts())),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)"),
    pytest.mark.skipif(not BUILT.is_file(), reason="the web front end is not built (scripts/test.sh builds it)"),
]

# The goal is 5 s; a loaded machine (shared CI, several test sessions) gets twice that.
FIRST_FRAME_BOUND_S = 10.0


def test_play_in_chromium_shows_the_first_frame_with_the_osd(database_url, broker, tmp_path):
    with live_site(database_url, broker.url, tmp_path) as site, \
            playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = open_video_page(browser, site)
            first = play(page)
            print("play → first frame in Chromium:", first)
            assert first["seconds"] <= FIRST_FRAME_BOUND_S, first
            assert (first["player"]["width"], first["player"]["height"]) == (640, 480)
            stream = f"{site.depot}.{CAMERA}"
            assert scalar(database_url, "SELECT count(*) FROM live_sessions WHERE stream = %s"
                          " AND published_at IS NOT NULL AND ended_at IS NULL", (stream,)) == 1

            # the OSD: SMPTE bars are white top-left; the camera's shaded text band darkens
            # exactly there, and nowhere below it in the same columns
            def band():
                return osd_band(video_picture(page))
            assert wait_for(lambda: band()[1] > 180, True, timeout=10), band()
            top, below = band()
            assert top < below - 40, (top, below)
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.locator("video").screenshot(path=str(SHOTS / "video-live.png"))
            # ... and it is the OSD: moved to the lower right, the top-left turns white
            move_osd_lower_right(site.onvif, site.osd_token)
            assert wait_for(lambda: band()[0] > 200, True, timeout=20), band()

            stop(page)  # closing the dialog sends DELETE …/live: the key is good no more
            assert wait_for(lambda: scalar(database_url, "SELECT count(*) FROM live_sessions WHERE stream = %s"
                                           " AND ended_at IS NULL", (stream,)), 0, timeout=15) == 0
            assert wait_for(lambda: site.service.relays.active(), {}, timeout=15) == {}
        finally:
            browser.close()


def move_osd_lower_right(onvif, token: str) -> None:
    """SetOSD as a standard client sends it, the text unchanged, the position LowerRight."""
    onvif._call(onvif._media(), (
        f'<trt:SetOSD><tt:OSD token="{token}"><tt:VideoSourceConfigurationToken>vsc_profile_1'
        "</tt:VideoSourceConfigurationToken><tt:Type>Text</tt:Type><tt:Position><tt:Type>LowerRight"
        "</tt:Type></tt:Position><tt:TextString><tt:Type>Plain</tt:Type>"
        f"<tt:PlainText>{TEXT}</tt:PlainText></tt:TextString></tt:OSD></trt:SetOSD>"))
