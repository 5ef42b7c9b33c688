"""`grainlink edge status`: from the running agent's status port, else from its database."""

from __future__ import annotations

import json
import unicodedata
import urllib.request

from edge.config import EdgeConfig


def fetch_status(cfg: EdgeConfig) -> tuple[dict | None, str]:
    """(status data, where it came from) or (None, why there is none)."""
    agent = cfg.depot.agent
    if agent.metrics_port:
        url = f"http://{agent.metrics_host}:{agent.metrics_port}/status"
        try:
            with urllib.request.urlopen(url, timeout=3) as reply:
                return json.loads(reply.read()), f"数据来自运行中的代理 {url}"
        except (OSError, ValueError):
            pass
    if not cfg.outbox_path.exists():
        return None, f"没有运行中的代理应答，{cfg.outbox_path} 也没有数据库"
    return status_from_database(cfg), f"数据来自数据库 {cfg.outbox_path}（代理未运行）"


def status_from_database(cfg: EdgeConfig) -> dict:
    from edge.outbox.outbox import Outbox
    from edge.status.report import outbox_summary

    outbox = Outbox(cfg.outbox_path, cfg.code)
    try:
        return {"depot": cfg.code, **outbox_summary(outbox, [g.code for g in cfg.depot.granaries]),
                "buses": []}
    finally:
        outbox.close()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _rpad(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text


def _num(v) -> str:
    return "-" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v)


def format_status(data: dict, origin: str) -> str:
    lines = [f"库点 {data['depot']}  {origin}"]
    if "clock_synchronised" in data:
        lines.append(f"时钟已同步：{'是' if data['clock_synchronised'] else '否'}"
                     f"   暂扣的扫描：{data.get('scans_held', 0)}   "
                     f"消息服务器：{'已连接' if data.get('mqtt_connected') else '未连接'}")
    lines.append("")
    # Column titles are padded by display width: a CJK character takes two columns.
    lines.append(f"{_pad('仓房', 10)} {_pad('最近扫描', 22)} {_rpad('最低', 6)} {_rpad('最高', 6)} "
                 f"{_rpad('平均', 6)} {_rpad('测点', 6)} {_rpad('故障', 6)}")
    for g in data["granaries"]:
        if g.get("last_scan") is None:
            lines.append(f"{g['granary']:10} {_pad('从未扫描', 22)}")
            continue
        lines.append(f"{g['granary']:10} {g['last_scan']:22} {_num(g['min']):>6} {_num(g['max']):>6} "
                     f"{_num(g['mean']):>6} {_num(g['points']):>6} {_num(g['faults']):>6}")
    b = data["buffer"]
    lines += ["", f"缓存：{b['pending']} 条消息（{b.get('pending_readings', '?')} 条读数）待发送，"
              f"最早 {b['oldest'] or '-'}，已丢弃 {b['dropped_total']}"]
    for bus in data.get("buses", []):
        lines.append(f"总线 {bus['bus']}：{'正常' if bus['ok'] else '故障'}，累计错误 {bus['errors_total']}"
                     + (f"，最近：{bus['last_error']}" if bus.get("last_error") else ""))
        for u in bus["units"]:
            errs = "，".join(f"{k} {n}" for k, n in sorted(u["errors"].items())) or "无错误"
            lines.append(f"  分机 {u['address']:3d} {u['profile']:10} "
                         f"{_pad('故障' if u['failing'] else '正常', 8)} {errs}")
    return "\n".join(lines)
