"""The media role applied for real (connection local, throwaway root, `--limit media`): the
nginx configuration rendered from deploy/media/nginx-live.conf.template, checked by `nginx -t`,
unchanged on a second run; started as the unit would start it, it turns away a publisher
without central's key and takes one with it. And the edge role asks for FFmpeg exactly when
the depot has live view."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from tests.deploy import ansible_run
from tests.support import services

SKIP = ansible_run.missing_ansible()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=str(SKIP))


def media_missing() -> str | None:
    from tests.cameras.live_support import missing_parts

    return missing_parts()


@pytest.fixture(scope="module")
def applied(tmp_path_factory, database_url):
    if media_missing():
        pytest.skip(media_missing())
    import uvicorn

    from central.db.migrate import migrate
    from central.wiring import build_app
    from tests.central.api_support import migrated_settings

    migrate(database_url)
    root = tmp_path_factory.mktemp("media-deploy")
    central_port, rtmp, http = services.free_ports(3)
    server = uvicorn.Server(uvicorn.Config(build_app(migrated_settings(database_url)), host="127.0.0.1",
                                          port=central_port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    services.wait_for_port("127.0.0.1", central_port)
    inventory = root / "inventory.yml"
    inventory.write_text(json.dumps({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {"media": {"hosts": {"test-media": {
            "grainlink_media_root": str(root / "host"),
            "grainlink_media_service_manager": "none",
            "grainlink_media_install_packages": False,
            "grainlink_media_run_user": "root",
            "grainlink_media_rtmp_listen": f"127.0.0.1:{rtmp}",
            "grainlink_media_http_listen": f"127.0.0.1:{http}",
            "grainlink_media_publish_allow": "127.0.0.1",
            "grainlink_media_central_url": f"http://127.0.0.1:{central_port}",
        }}}},
    }}))
    first = ansible_run.run_playbook(inventory, root / "home", "--limit", "media")
    assert first.returncode == 0, first.output[-6000:]
    second = ansible_run.run_playbook(inventory, root / "home", "--limit", "media")
    assert second.returncode == 0, second.output[-6000:]
    host = root / "host"
    conf = host / "etc/grainlink-media/nginx.conf"
    run_dir = host / "var/lib/grainlink-media"
    proc = subprocess.Popen(["/usr/sbin/nginx", "-p", str(run_dir), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        services.wait_for_port("127.0.0.1", rtmp)
        yield {"first": first, "second": second, "conf": conf, "host": host, "rtmp": rtmp, "http": http,
               "central_port": central_port, "database_url": database_url}
    finally:
        proc.terminate()
        proc.wait(10)
        server.should_exit = True
        thread.join(10)


def test_second_run_changes_nothing(applied):
    assert applied["first"].changed()["test-media"] > 0
    assert applied["second"].changed() == {"test-media": 0}, applied["second"].output[-3000:]


def test_rendered_config_checks_keys_with_central_and_passes_the_pages_through(applied):
    text = applied["conf"].read_text()
    hook = f"http://127.0.0.1:{applied['central_port']}/internal/media/hook"
    for line in (f"on_publish {hook};", f"on_update {hook};", f"on_publish_done {hook};",
                 "allow publish 127.0.0.1;", f"proxy_pass http://127.0.0.1:{applied['central_port']};",
                 "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                 "auth_request /_grainlink_view;",
                 f"proxy_pass http://127.0.0.1:{applied['central_port']}/internal/media/view;"):
        assert line in text, line
    assert "${" not in text and "$$" not in text
    unit = (applied["host"] / "etc/systemd/system/grainlink-media.service").read_text()
    assert f"-c {applied['conf']}" in unit and "daemon off;" in unit


def test_defaults_stay_behind_the_tls_proxy():
    # loopback only, and Debian's stock nginx (the TLS proxy in front, as a rule) left running
    defaults = yaml.safe_load((ansible_run.ANSIBLE_DIR / "roles/grainlink_media/defaults/main.yml").read_text())
    assert defaults["grainlink_media_http_listen"] == "127.0.0.1:8081"
    assert defaults["grainlink_media_disable_stock_nginx"] is False


def test_deployed_media_server_takes_only_a_keyed_publisher(applied):
    from central.cameras import live_keys
    from central.db.pool import connect
    from central.users import add_user
    from edge.camera.live import live_name, publish_target
    from tests.cameras.test_live_keys import has_fragment, publish, refused, view
    from tests.central.api_support import insert_depot

    rtmp_url = f"rtmp://127.0.0.1:{applied['rtmp']}/live"
    depot = f"M{uuid.uuid4().hex[:5]}"
    stream = live_name(depot, "CAM-1")
    assert refused(publish(f"{rtmp_url}/{stream}", 20))
    with connect(applied["database_url"], autocommit=True) as conn:
        insert_depot(conn, depot, {"province": "430000"}, {})
        token = add_user(conn, f"v-{depot}", "province", "430000", can_write=False)
        key, _ = live_keys.issue(conn, depot, "CAM-1", datetime.now(UTC), timedelta(minutes=5))
    proc = publish(publish_target(rtmp_url, stream, key), 5)
    playlist = f"http://127.0.0.1:{applied['http']}/hls/{stream}/index.m3u8"
    assert has_fragment(playlist, token)
    assert (view(playlist, None), view(playlist, token)) == (401, 200)
    assert proc.wait(30) == 0


@pytest.mark.parametrize(("live", "ffmpeg"), [({"url": "rtmp://central.example/live"}, True), (None, False)])
def test_edge_role_installs_ffmpeg_only_for_live_view(tmp_path, live, ffmpeg):
    role = ansible_run.ANSIBLE_DIR / "roles" / "grainlink_edge"
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "vars_files": [str(role / "defaults/main.yml"), str(role / "vars/main.yml")],
        "tasks": [{"ansible.builtin.debug": {"msg": "PACKAGES={{ grainlink_edge_package_list | to_json }}"}}],
    }]))
    depot = {"depot": {"code": "D1"}, **({"live": live} if live else {})}
    proc = subprocess.run([ansible_run.tool("ansible-playbook"), "-i", "localhost,", "-c", "local", str(play),
                           "-e", json.dumps({"grainlink_edge_depot": depot, "grainlink_edge_extras": ["camera"]})],
                          env=ansible_run.ansible_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = json.loads(proc.stdout.split('"PACKAGES=', 1)[1].split('"\n', 1)[0].replace('\\"', '"'))
    assert ("ffmpeg" in listed) is ffmpeg and "fonts-noto-cjk" in listed and "python3-venv" in listed
