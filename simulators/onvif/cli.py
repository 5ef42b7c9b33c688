"""`grainlink sim camera`: run one simulated ONVIF camera/NVR until stopped."""

from __future__ import annotations

import argparse
import signal
import threading

from protocols.os_zh import os_reason


def add_parser(commands) -> None:
    p = commands.add_parser(
        "camera", help="运行一台模拟的 ONVIF 摄像机/NVR（HTTP 上的 SOAP，WS-Security 摘要认证）",
        description="打印其设备服务地址，然后打印 'ready'；切换场景：在同一端口上 GET "
        "/sim/offline、/sim/online、/sim/motion、/sim/password/新密码。")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=int, default=18080, help="监听端口（默认 18080）")
    p.add_argument("--username", default="admin", help="用户名（默认 admin）")
    p.add_argument("--password", default="admin123", help="密码（默认 admin123）")
    p.add_argument("--channels", type=int, default=1, help="NVR 通道数（每个通道一个媒体配置）")
    p.add_argument("--no-osd", action="store_true", help="模拟不支持 OSD 的摄像机")
    p.add_argument("--rtsp", action="store_true",
                   help="每个通道以 RTSP H.264 提供，画上 OSD（需要 GStreamer 的 Debian 软件包）")
    p.set_defaults(func=run_camera)


def run_camera(args: argparse.Namespace) -> int:
    from simulators.onvif.server import SimulatedCamera

    try:
        sim = SimulatedCamera(args.host, args.port, username=args.username, password=args.password,
                              channels=args.channels, osd_supported=not args.no_osd, rtsp=args.rtsp).start()
    except RuntimeError as exc:
        print(f"grainlink sim camera：{exc}")
        return 1
    except OSError as exc:
        print(f"grainlink sim camera：无法监听 {args.host}:{args.port}：{os_reason(exc)}")
        return 1
    print(f"模拟摄像机监听 {sim.url}", flush=True)  # the URL stays the last word: scripts read it
    print("ready", flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    sim.stop()
    return 0
