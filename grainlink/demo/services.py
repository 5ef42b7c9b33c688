"""The demo's broker and database: the machine's own when configured, embedded otherwise."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from grainlink.demo import broker_acl

DEMO_MQTT_USER = "grainlink-demo"
DEMO_MQTT_PASSWORD = "grainlink-demo"  # a loopback-only demo broker, not a secret


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` different free ports: all held open at once while they are picked, or the kernel
    may hand the same one out twice (it did, on a busy machine: RTMP and HTTP on one port)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"进程在监听端口 {port} 之前就退出了（退出码 {proc.returncode}）")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{timeout:.0f} s 后 127.0.0.1:{port} 上仍无服务监听")


def start_broker(state_dir: Path, users: list[str], log) -> tuple[str, subprocess.Popen]:
    """Mosquitto when installed, else amqtt (MQTT 3.1.1, clients log in: amqtt keeps the
    queued QoS 1 messages of persistent sessions only for authenticated clients)."""
    port = free_port()
    folder = state_dir / "broker"
    folder.mkdir(parents=True, exist_ok=True)
    mosquitto = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)), None)
    if mosquitto:
        conf = folder / "mosquitto.conf"
        plugin = broker_acl.find_plugin()
        if plugin:
            # The deployment's rules: users, client ids bound to them, subscriptions refused.
            dynsec = folder / "dynamic-security.json"
            dynsec.write_text(broker_acl.dynsec_config(
                [u for u in users if u != DEMO_MQTT_USER], DEMO_MQTT_USER, DEMO_MQTT_PASSWORD))
            dynsec.chmod(0o600)
            auth = f"allow_anonymous false\nplugin {plugin}\nplugin_opt_config_file {dynsec}\n"
        else:
            auth = "allow_anonymous true\n"
        conf.write_text(
            f"per_listener_settings false\nlistener {port} 127.0.0.1\n{auth}persistence true\n"
            f"persistence_location {folder}/\n"
            # the recommended durability: every acknowledged message saved (deploy/mosquitto)
            "autosave_on_changes true\nautosave_interval 1\n"
            # the ingest session's backlog must never be dropped (the default keeps 1000)
            "max_queued_messages 0\nmax_inflight_messages 1000\n"
            # not `information`: it would log every store save
            f"log_dest file {folder}/mosquitto.log\nlog_type error\nlog_type warning\nlog_type notice\n"
            + ("user root\n" if os.geteuid() == 0 else ""))
        proc = subprocess.Popen([mosquitto, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        log(f"消息服务器：mosquitto 在 127.0.0.1:{port}"
            + ("" if plugin else "（没有 dynamic-security 插件：不做访问控制）"))
    else:
        conf = folder / "amqtt.yaml"
        passwd = folder / "passwd"
        passwd.write_text("".join(f"{user}:{_hash(DEMO_MQTT_PASSWORD)}\n" for user in users))
        conf.write_text(
            f"listeners:\n  default:\n    type: tcp\n    bind: 127.0.0.1:{port}\n"
            "plugins:\n"
            "  amqtt.plugins.authentication.AnonymousAuthPlugin:\n    allow_anonymous: false\n"
            f"  amqtt.plugins.authentication.FileAuthPlugin:\n    password_file: {passwd}\n")
        proc = subprocess.Popen([sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(conf)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        log(f"消息服务器：内嵌 amqtt 在 127.0.0.1:{port}（未安装 mosquitto）")
    wait_port(port, proc=proc)
    return f"mqtt://127.0.0.1:{port}", proc


def _hash(password: str) -> str:
    from pwdlib import PasswordHash  # amqtt's own dependency

    return PasswordHash.recommended().hash(password)


def start_database(state_dir: Path, log):
    """GRAINLINK_DATABASE_URL when set, else an embedded PostgreSQL (pgserver) kept in the
    state folder and reused on the next run. Returns (url, server or None)."""
    url = os.environ.get("GRAINLINK_DATABASE_URL")
    if url:
        log("数据库：GRAINLINK_DATABASE_URL")
        return url, None
    import pgserver

    folder = state_dir / "pgdata"
    folder.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(folder), cleanup_mode="stop")
    log(f"数据库：内嵌 PostgreSQL，在 {folder}")
    return server.get_uri(), server
