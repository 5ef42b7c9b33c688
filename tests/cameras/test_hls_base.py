"""Where live video comes from and what the pages' Content-Security-Policy lets them load:
The `live_hls_base` setting (GRAINLINK_LIVE_HLS_BASE) on the page's own origin (the default) adds nothing; an absolute base
(the media server on another host or port) adds exactly its origin to connect-src and
media-src; a base that could smuggle anything into the header is refused when the settings load, so the
service does not start."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from central.api.security_headers import HEADERS, SecurityHeaders, content_security_policy
from central.cameras.hls_base import ENV, checked_base, hls_origin, playlist_url
from central.settings import SettingsError, load_settings


def directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in policy.split("; ")}


@pytest.mark.parametrize(("base", "origin"), [
    ("/hls", None),
    ("/media/hls/", None),
    ("http://127.0.0.1:8081/hls", "http://127.0.0.1:8081"),
    ("https://Media.Example.cn/hls", "https://media.example.cn"),
    ("https://[2001:db8::1]:8443/live/hls", "https://[2001:db8::1]:8443"),
])
def test_the_origin_of_a_base(base, origin):
    assert hls_origin(base) == origin


@pytest.mark.parametrize("base", [
    "//media.example.cn/hls",                      # scheme-relative: origin unclear
    "ftp://media.example.cn/hls",
    "https://media.example.cn; script-src *",      # would end the directive
    "https://media.example.cn/hls; script-src *",
    "https://user:pw@media.example.cn/hls",
    "https://media.example.cn:99999/hls",
    "https://media.example.cn/hls?x=1",
    "/hls 'unsafe-inline'",
    "hls",
    "https:///hls",
])
def test_an_unusable_base_is_refused_naming_the_setting(base):
    with pytest.raises(ValueError, match=ENV):
        hls_origin(base)
    with pytest.raises(SettingsError, match="live_hls_base"):
        load_settings(env={ENV: base})


def test_the_base_and_a_playlist():
    assert checked_base(None) == "/hls"
    assert load_settings(env={}).live_hls_base == "/hls"
    assert load_settings(env={ENV: "http://127.0.0.1:9/hls/"}).live_hls_base == "http://127.0.0.1:9/hls"
    assert playlist_url("/hls", "HN-DEMO-001", "CAM P01") == "/hls/HN-DEMO-001.CAM%20P01/index.m3u8"
    assert playlist_url("http://m:9/hls/", "D", "C") == "http://m:9/hls/D.C/index.m3u8"


def test_the_policy_adds_only_the_video_origin_and_only_where_video_loads():
    plain, wider = directives(content_security_policy()), directives(content_security_policy("https://m.example.cn"))
    changed = {name for name in plain if plain[name] != wider[name]}
    assert changed == {"connect-src", "media-src"}
    assert wider["connect-src"] == ["'self'", "https://m.example.cn"]
    assert wider["media-src"] == ["'self'", "blob:", "https://m.example.cn"]
    assert wider["script-src"] == ["'self'"]


def _app(env: dict[str, str]) -> Starlette:
    app = Starlette(routes=[Route("/", lambda _request: PlainTextResponse("ok"))])
    app.add_middleware(SecurityHeaders, hls_base=load_settings(env=env).live_hls_base)
    return app


def test_the_middleware_sends_the_configured_policy():
    with TestClient(_app({})) as client:
        assert client.get("/").headers["content-security-policy"] == HEADERS["Content-Security-Policy"]
    with TestClient(_app({ENV: "http://127.0.0.1:8081/hls"})) as client:
        policy = directives(client.get("/").headers["content-security-policy"])
    assert "http://127.0.0.1:8081" in policy["connect-src"] and "http://127.0.0.1:8081" in policy["media-src"]


def test_an_unusable_base_stops_the_start():
    with pytest.raises(SettingsError, match="live_hls_base"):
        _app({ENV: "https://x.cn; script-src *"})
