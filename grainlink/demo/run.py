"""`grainlink demo`: a simulated province in miniature as real processes over real sockets.

Broker and database first, then central (migrated, one admin token), then per depot its
simulated devices and its edge agent. Every child runs in its own process group and is
stopped, group and all, on Ctrl-C or SIGTERM, so nothing is left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from grainlink.demo import media, province, services

GRAINLINK = [sys.executable, "-m", "grainlink"]


class Processes:
    """The demo's children; `stop_all` ends them in reverse order of start."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log_file = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(argv, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log_file.close()
        self.children.append((name, proc))
        return proc

    def adopt(self, name: str, proc: subprocess.Popen) -> None:
        self.children.append((name, proc))

    def dead(self) -> list[str]:
        return [name for name, proc in self.children if proc.poll() is not None]

    def stop_all(self, timeout: float = 10.0) -> None:
        for _name, proc in reversed(self.children):
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _name, proc in reversed(self.children):
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        for _name, proc in self.children:
            _signal_group(proc, signal.SIGKILL)  # stragglers of an exited leader


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _admin_token(database_url: str, state_dir: Path) -> str:
    """A fresh token for the demo's admin (only hashes are stored, so it cannot be re-read)."""
    from central.db.pool import connect
    from central.users import add_user, revoke_user

    with connect(database_url, autocommit=True) as conn:
        try:
            revoke_user(conn, "demo-admin")
        except Exception:  # first run: no such user yet
            pass
        token = add_user(conn, "demo-admin", "admin", "000000", True)
    token_file = state_dir / "admin-token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    return token


def _provision_depots(database_url: str) -> None:
    """Register the demo's depots and regions as a deployment does (`central depot add`):
    central takes a depot's identity from provisioning, not from its layout."""
    from central.db.pool import connect
    from central.depots.store import provision

    with connect(database_url, autocommit=True) as conn:
        for depot in province.DEPOTS:
            provision(conn, depot["code"], depot["region"]["county"], depot["name"], update=True)


def _api(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=3) as answer:
        return json.load(answer)


def _wait_http(url: str, timeout: float, procs: Processes) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if procs.dead():
            raise RuntimeError(f"{'、'.join(procs.dead())} 已停止；请看日志")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} 在 {timeout:.0f} s 内没有应答")


def start_live_media(env: dict, log, central_port: int):
    """The live-view media server when this machine has its parts (else the demo runs without
    live view and says why); central learns where its HLS is, nginx asks central about keys.
    The pages are shown through the media server (its web_url: pages and video on one origin,
    as in a deployment); the absolute HLS base also lets pages opened on central's own port
    play, since central's Content-Security-Policy then allows the media server's origin."""
    reason = media.missing_parts()
    if reason is None:
        try:
            server = media.start_media_server(central_url=f"http://127.0.0.1:{central_port}")
        except RuntimeError as exc:
            reason = str(exc)
        else:
            env["GRAINLINK_LIVE_HLS_BASE"] = server.hls_base
            log(f"实时视频：媒体服务器（nginx RTMP → HLS）在 {server.hls_base}")
            return server
    log(f"实时视频关闭：{reason}")
    return None


def run_demo(state_dir: Path, port: int, speed: float, log=print, stop_after: float | None = None) -> int:
    started = time.monotonic()
    state_dir.mkdir(parents=True, exist_ok=True)
    log_dir = state_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    procs = Processes(log_dir)
    stop = {"asked": False}

    def on_signal(*_):
        stop["asked"] = True

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    db_server = None
    live_media = None
    oneshots: list[subprocess.Popen] = []
    try:
        users = [d["code"] for d in province.DEPOTS] + [services.DEMO_MQTT_USER]
        mqtt_url, broker = services.start_broker(state_dir, users, log)
        procs.adopt("broker", broker)
        database_url, db_server = services.start_database(state_dir, log)
        env = {**os.environ, "GRAINLINK_DATABASE_URL": database_url, "GRAINLINK_MQTT_URL": mqtt_url,
               "GRAINLINK_MQTT_USERNAME": services.DEMO_MQTT_USER,
               "GRAINLINK_MQTT_PASSWORD": services.DEMO_MQTT_PASSWORD,
               "GRAINLINK_EXPECTED_SCAN_INTERVAL_S": "15", "GRAINLINK_AGGREGATE_REFRESH_INTERVAL_S": "30",
               "PYTHONUNBUFFERED": "1"}
        log("中心服务：正在迁移数据库")
        subprocess.run([*GRAINLINK, "central", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        token = _admin_token(database_url, state_dir)
        _provision_depots(database_url)
        live_media = start_live_media(env, log, port)
        procs.start("central", [*GRAINLINK, "central", "serve", "--host", "127.0.0.1", "--port", str(port),
                                "--no-migrate"], env)
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/healthz", 60, procs)
        log(f"中心服务：API 和页面在 {base}")
        ports = services.free_ports(len(province.DEPOTS))
        camera_ports = services.free_ports(len(province.DEPOTS))
        env[province.CAMERA_PASSWORD_ENV] = "admin123"  # the simulated NVR's default
        live_url = live_media.rtmp_url if live_media else None
        for path, camera_port in zip(province.write_province(state_dir, mqtt_url, ports, speed, camera_ports,
                                                             live_url), camera_ports, strict=True):
            code = path.stem
            procs.start(f"sim-{code}", [*GRAINLINK, "sim", "depot", "--config", str(path)], env)
            procs.start(f"camera-{code}", [*GRAINLINK, "sim", "camera", "--port", str(camera_port),
                                           "--channels", "2", *(["--rtsp"] if live_media else [])], env)
        # a year of reserve business for the depots, in the background (readings do not wait)
        seed_files = [a for p in sorted((state_dir / "depots").glob("*.yaml")) for a in ("--depot-file", str(p))]
        seeder = procs.start("seed", [*GRAINLINK, "central", "seed", *seed_files], env)
        procs.children.remove(("seed", seeder))   # it ends by itself; `dead()` watches services
        oneshots.append(seeder)
        for port_, path in zip(ports, sorted((state_dir / "depots").glob("*.yaml")), strict=True):
            services.wait_port(port_, 30)
            procs.start(f"edge-{path.stem}", [*GRAINLINK, "edge", "run", str(path)], env)
        log(f"库点：{'、'.join(d['code'] for d in province.DEPOTS)}（模拟，时间 {speed:g} 倍速）")
        log("")
        log(f"  页面：    {live_media.web_url if live_media else base}/")
        log(f"  登录令牌：{token}")
        log(f"  日志：    {log_dir}")
        log("")
        first = None
        while not stop["asked"]:
            if procs.dead():
                log(f"错误：{'、'.join(procs.dead())} 已停止；日志在 {log_dir}")
                return 1
            if first is None:
                try:
                    code = province.DEPOTS[0]["code"]
                    latest = _api(f"{base}/api/v1/depots/{code}/granaries/P01/latest", token)
                    if latest.get("cables"):
                        first = time.monotonic() - started
                        log(f"启动 {first:.1f} s 后页面上出现第一次粮温读数；按 Ctrl-C 停止演示")
                except OSError:
                    pass
            if stop_after is not None and time.monotonic() - started > stop_after:
                break
            time.sleep(0.5)
        return 0
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None)
        log(f"错误：{exc}{('：' + detail.decode(errors='replace').strip()) if detail else ''}")
        return 1
    finally:
        log("正在停止全部进程")
        for proc in oneshots:
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
            proc.wait()
        procs.stop_all()
        if live_media is not None:
            live_media.stop()
        if db_server is not None:
            db_server.cleanup()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
