"""The agent's configuration: the depot file read from disk, plus what the environment adds
(broker URL override, the broker password, files that must exist)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from common.secrets import SecretError
from edge.uplink.broker import URL_ENV, BrokerSettings
from protocols.depot.loader import (
    ConfigErrors,
    ConfigProblem,
    locate_setting,
    parse_depot_config,
    resolve_path,
)
from protocols.depot.model import DepotConfig, SerialBus
from protocols.os_zh import os_reason

OUTBOX_FILE = "outbox.sqlite"


@dataclass
class EdgeConfig:
    depot: DepotConfig
    source: str
    broker: BrokerSettings
    warnings: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.depot.depot.code

    @property
    def state_dir(self) -> Path:
        return Path(resolve_path(self.source, self.depot.state_dir))

    @property
    def outbox_path(self) -> Path:
        return self.state_dir / OUTBOX_FILE

    def serial_device(self, bus: SerialBus) -> str:
        return resolve_path(self.source, bus.device)


def load_config(path: str | os.PathLike, environ: dict[str, str] | None = None) -> EdgeConfig:
    """Read and validate the depot file at `path`; raise `ConfigErrors` with every problem."""
    source = os.fspath(path)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigErrors([ConfigProblem(source, None, "(file)", f"读不了文件：{os_reason(exc)}")]) from None
    return config_from_text(text, source, environ)


def config_from_text(text: str, source: str, environ: dict[str, str] | None = None) -> EdgeConfig:
    env = os.environ if environ is None else environ
    depot = parse_depot_config(text, source)
    problems: list[ConfigProblem] = []

    def report(setting: tuple, message: str) -> None:
        problems.append(locate_setting(text, source, setting, message))

    broker = _broker_settings(depot, source, env, report)
    for name in ("ca_file", "cert_file", "key_file"):
        given = getattr(depot.broker.tls, name)
        if given and not os.access(resolve_path(source, given), os.R_OK):
            report(("broker", "tls", name), f"读不了 {resolve_path(source, given)}")
    if bool(depot.broker.tls.cert_file) != bool(depot.broker.tls.key_file):
        report(("broker", "tls", "cert_file"), "客户端证书须同时写 cert_file 和 key_file")
    state_dir = Path(resolve_path(source, depot.state_dir))
    if not _creatable(state_dir):
        report(("state_dir",), f"无法创建或写入 {state_dir}")
    if problems:
        raise ConfigErrors(problems)
    warnings = [
        f"总线 {bus.name}：串口设备 {resolve_path(source, bus.device)}（目前）不存在"
        for bus in depot.buses
        if isinstance(bus, SerialBus) and not os.path.exists(resolve_path(source, bus.device))
    ]
    return EdgeConfig(depot=depot, source=source, broker=broker, warnings=warnings)


def _broker_settings(depot: DepotConfig, source: str, env, report) -> BrokerSettings:
    try:
        settings = BrokerSettings.from_config(
            depot.broker, config_dir=os.path.dirname(os.path.abspath(source)), environ=env,
        )
    except SecretError as exc:
        report(("broker", f"password_{exc.source}"), exc.reason)
        return BrokerSettings()
    except ValueError as exc:
        origin = URL_ENV if env.get(URL_ENV) else "broker.url"
        report(("broker", "url"), f"{origin}: {exc}")
        return BrokerSettings()
    return settings


def _creatable(path: Path) -> bool:
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK)
