"""`grainlink edge check|probe|status|history` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from edge.agent import EdgeAgent
from edge.config import load_config
from grainlink.cli import main
from simulators.depot import SimulatedDepot
from tests.edge.depot_support import write_depot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "depot.yaml"


def test_check_accepts_the_example(capsys, monkeypatch):
    monkeypatch.setenv("GRAINLINK_MQTT_PASSWORD", "x")
    assert main(["edge", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "正常：库点 HN-0731-001，3 个仓房，89 根电缆" in out


def test_check_lists_every_problem_and_fails(tmp_path, capsys):
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("baud: 9600", "baud: 300").replace("air_interval: 10m", "air_interval: 10 min")
    text = text.replace("profile: silo8x8", "profile: nosuch")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    assert main(["edge", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    for setting in ("buses[1].baud", "schedules.air_interval", "buses[1].units[1].profile"):
        assert f"{bad}:" in err and setting in err, err
    assert "共 3 处问题，未启动任何部分" in err


def test_check_missing_file(tmp_path, capsys):
    assert main(["edge", "check", str(tmp_path / "nope.yaml")]) == 1
    assert "读不了文件" in capsys.readouterr().err


def test_scan_probes_a_bus(tmp_path, capsys):
    path = write_depot(tmp_path, wire_time="false")
    cfg = load_config(path, environ={})
    with SimulatedDepot(cfg.depot, config_source=str(path)):
        assert main(["edge", "scan", str(path), "--bus", "rs485-1", "--addresses", "2-3,10,20",
                     "--timeout", "0.2"]) == 0
        out = capsys.readouterr().out
        assert main(["edge", "scan", str(path), "--bus", "tcp-1"]) == 0
        tcp_out = capsys.readouterr().out
    lines = {int(line.split()[0]): line for line in out.splitlines() if line[:3].strip().isdigit()}
    assert "按 lst1812 应答" in lines[2] and "5 根电缆" in lines[2] and "0x0101" in lines[2]
    assert "按 silo8x8 应答" in lines[3] and "8 根电缆" in lines[3]
    assert "按 th485 应答" in lines[10]
    assert "无应答" in lines[20]
    assert "总线 rs485-1：4 个地址中有 3 个应答" in out
    assert "10 根电缆" in tcp_out


def test_scan_unknown_bus(tmp_path, capsys):
    path = write_depot(tmp_path)
    assert main(["edge", "probe", str(path), "--bus", "nope"]) == 2
    assert "已有总线：tcp-1、rs485-1" in capsys.readouterr().err


def test_status_from_the_database(tmp_path, capsys):
    path = write_depot(tmp_path, wire_time="false")
    cfg = load_config(path, environ={})
    with SimulatedDepot(cfg.depot, config_source=str(path)):
        agent = EdgeAgent(cfg, with_uplink=False, metrics_port=0)
        agent.polling.poll_granary("P03", "rs485-1")
        agent.stop()
    assert main(["edge", "status", str(path)]) == 0
    out = capsys.readouterr().out
    assert "代理未运行" in out
    p03 = next(line for line in out.splitlines() if line.startswith("P03"))
    assert "16" in p03.split()  # 2 cables x 8 layers
    assert next(line for line in out.splitlines() if line.startswith("P01")).split()[1] == "从未扫描"
    assert "缓存：1 条消息（16 条读数）" in out  # agent_started is not queued without start()


def test_history_shows_what_the_database_kept(tmp_path, capsys):
    path = write_depot(tmp_path, wire_time="false")
    cfg = load_config(path, environ={})
    assert main(["edge", "history", str(path)]) == 1
    assert "没有边缘数据库" in capsys.readouterr().err
    with SimulatedDepot(cfg.depot, config_source=str(path)):
        agent = EdgeAgent(cfg, with_uplink=False, metrics_port=0)
        agent.polling.poll_granary("P03", "rs485-1")
        agent.stop()
    assert main(["edge", "history", str(path), "--granary", "P03"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "2 次电缆扫描" in lines[0]
    assert sorted(line.split("电缆")[1].split()[0] for line in lines[1:] if "仓房 P03" in line) == ["1", "2"]
    assert main(["edge", "history", str(path), "--since", "yesterday"]) == 2
    assert "--since" in capsys.readouterr().err
    assert main(["edge", "history", str(path), "--granary", "P99"]) == 2
