"""`grainlink edge status`: from the running agent's status port, else from its database."""

from __future__ import annotations

import json
import urllib.request

from edge.config import EdgeConfig


def fetch_status(cfg: EdgeConfig) -> tuple[dict | None, str]:
    """(status data, where it came from) or (None, why there is none)."""
    agent = cfg.depot.agent
    if agent.metrics_port:
        url = f"http://{agent.metrics_host}:{agent.metrics_port}/status"
        try:
            with urllib.request.urlopen(url, timeout=3) as reply:
                return json.loads(reply.read()), f"running agent at {url}"
        except (OSError, ValueError):
            pass
    if not cfg.outbox_path.exists():
        return None, f"no running agent answers and there is no database at {cfg.outbox_path}"
    return status_from_database(cfg), f"database {cfg.outbox_path} (agent not running)"


def status_from_database(cfg: EdgeConfig) -> dict:
    from edge.outbox.outbox import Outbox
    from edge.status.report import outbox_summary

    outbox = Outbox(cfg.outbox_path, cfg.code)
    try:
        return {"depot": cfg.code, **outbox_summary(outbox, [g.code for g in cfg.depot.granaries]),
                "buses": []}
    finally:
        outbox.close()


def _num(v) -> str:
    return "-" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v)


def format_status(data: dict, origin: str) -> str:
    lines = [f"depot {data['depot']}  ({origin})"]
    if "clock_synchronised" in data:
        lines.append(f"clock synchronised: {'yes' if data['clock_synchronised'] else 'NO'}"
                     f"   scans held: {data.get('scans_held', 0)}   "
                     f"broker: {'connected' if data.get('mqtt_connected') else 'not connected'}")
    lines.append("")
    lines.append(f"{'granary':10} {'last scan':22} {'min':>6} {'max':>6} {'mean':>6} {'points':>6} {'faults':>6}")
    for g in data["granaries"]:
        if g.get("last_scan") is None:
            lines.append(f"{g['granary']:10} {'never':22}")
            continue
        lines.append(f"{g['granary']:10} {g['last_scan']:22} {_num(g['min']):>6} {_num(g['max']):>6} "
                     f"{_num(g['mean']):>6} {_num(g['points']):>6} {_num(g['faults']):>6}")
    b = data["buffer"]
    lines += ["", f"buffer: {b['pending']} messages ({b.get('pending_readings', '?')} readings) pending, "
              f"oldest {b['oldest'] or '-'}, dropped {b['dropped_total']}"]
    for bus in data.get("buses", []):
        lines.append(f"bus {bus['bus']}: {'ok' if bus['ok'] else 'FAULT'}, {bus['errors_total']} errors"
                     + (f", last: {bus['last_error']}" if bus.get("last_error") else ""))
        for u in bus["units"]:
            errs = ", ".join(f"{k} {n}" for k, n in sorted(u["errors"].items())) or "no errors"
            lines.append(f"  unit {u['address']:3d} {u['profile']:10} "
                         f"{'FAILING' if u['failing'] else 'ok':8} {errs}")
    return "\n".join(lines)
