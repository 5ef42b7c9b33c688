"""`grainlink sim camera`: run one simulated ONVIF camera/NVR until stopped."""

from __future__ import annotations

import argparse
import signal
import threading


def add_parser(commands) -> None:
    p = commands.add_parser(
        "camera", help="run a simulated ONVIF camera/NVR (SOAP over HTTP, WS-Security digest)",
        description="Print its device service URL, then 'ready'; scenario switches: GET "
        "/sim/offline, /sim/online, /sim/motion, /sim/password/NEW on the same port.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=18080)
    p.add_argument("--username", default="admin")
    p.add_argument("--password", default="admin123")
    p.add_argument("--channels", type=int, default=1, help="NVR channels (one media profile each)")
    p.add_argument("--no-osd", action="store_true", help="a camera without OSD support")
    p.add_argument("--rtsp", action="store_true",
                   help="serve each channel as RTSP H.264 with its OSD drawn (GStreamer, Debian packages)")
    p.set_defaults(func=run_camera)


def run_camera(args: argparse.Namespace) -> int:
    from simulators.onvif.server import SimulatedCamera

    try:
        sim = SimulatedCamera(args.host, args.port, username=args.username, password=args.password,
                              channels=args.channels, osd_supported=not args.no_osd, rtsp=args.rtsp).start()
    except RuntimeError as exc:
        print(f"grainlink sim camera: {exc}")
        return 1
    except OSError as exc:
        print(f"grainlink sim camera: cannot listen on {args.host}:{args.port}: {exc}")
        return 1
    print(f"camera listening on {sim.url}", flush=True)
    print("ready", flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    sim.stop()
    return 0
