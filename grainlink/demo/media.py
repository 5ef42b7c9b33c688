"""The live-view media server of the demo (and of the live tests and benchmark): Debian's nginx
with its RTMP module, configured from deploy/media/nginx-live.conf.template, on free loopback
ports, in a folder of its own."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

from common.processes import stop_process
from grainlink.demo.services import free_ports

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "media" / "nginx-live.conf.template"
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
LIVE_PACKAGES = ("ffmpeg nginx-light libnginx-mod-rtmp python3-gi gir1.2-gst-rtsp-server-1.0 "
                 "gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-x")


def missing_parts() -> str | None:
    """What the live path lacks on this machine (None: all there)."""
    install = f"apt-get install {LIVE_PACKAGES}"
    for tool in ("ffmpeg", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"未安装 {tool}（{install}）"
    if not RTMP_MODULE.exists() or not TEMPLATE.exists():
        return f"未安装 nginx 的 RTMP 模块（{install}）"
    probe = subprocess.run(["/usr/bin/python3", "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
                           capture_output=True) if Path("/usr/bin/python3").exists() else None
    if probe is None or probe.returncode != 0:
        return f"未安装 GStreamer 的 RTSP 服务（{install}）"
    return None


def wait_port(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"127.0.0.1:{port} 上无服务监听")


@dataclass
class MediaServer:
    proc: subprocess.Popen
    rtmp_port: int
    http_port: int
    run_dir: Path

    @property
    def rtmp_url(self) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live"

    @property
    def hls_base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/hls"

    @property
    def web_url(self) -> str:
        """The pages and their video on one origin (with `central_url`)."""
        return f"http://127.0.0.1:{self.http_port}"

    def publish_url(self, name: str) -> str:
        return f"{self.rtmp_url}/{name}"

    def playlist_url(self, name: str) -> str:
        return f"{self.hls_base}/{name}/index.m3u8"

    def stop(self) -> None:
        stop_process(self.proc, 10)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def render_config(central_url: str | None, **values) -> str:
    """The template filled in. Without `central_url` the lines that name it (the publish-key
    checks, the viewer check before /hls/ files, the pass-through to central) are left out:
    only the relay's own tests run like that; central's media server always checks both."""
    lines = TEMPLATE.read_text().splitlines(keepends=True)
    if central_url is None:
        lines = [ln for ln in lines if "${CENTRAL_URL}" not in ln or ln.lstrip().startswith("#")]
    return Template("".join(lines)).substitute(CENTRAL_URL=(central_url or "").rstrip("/"), **values)


def start_media_server(origin: str = "*", central_url: str | None = None) -> MediaServer:
    """A started nginx; RuntimeError with nginx's own words when it cannot start.
    `central_url`: where `grainlink central serve` answers (publish checks, pages, API)."""
    # Outside private temp folders: nginx's workers run as another user when started as root.
    run_dir = Path(tempfile.mkdtemp(prefix="grainlink-media-"))
    hls = run_dir / "hls"
    hls.mkdir()
    os.chmod(run_dir, 0o755)
    os.chmod(hls, 0o777)
    rtmp, http = free_ports(2)
    conf = run_dir / "nginx.conf"
    conf.write_text(render_config(
        central_url, RUN_DIR=run_dir, HLS_DIR=hls, RTMP_LISTEN=f"127.0.0.1:{rtmp}", HTTP_LISTEN=f"127.0.0.1:{http}",
        PUBLISH_ALLOW="127.0.0.1", RUN_USER=pwd.getpwuid(os.getuid()).pw_name, HLS_ORIGIN=origin))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-p", str(run_dir), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    server = MediaServer(proc, rtmp, http, run_dir)
    try:
        wait_port(rtmp)
        wait_port(http)
    except TimeoutError:
        err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None and proc.stderr else ""
        server.stop()
        raise RuntimeError(f"nginx 没有启动：{err}") from None
    return server
