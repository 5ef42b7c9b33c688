"""Settings of the central service: defaults < settings file (YAML) < environment.

Every field `x` can be set in the environment as `GRAINLINK_X` (upper case), or in a YAML file
given by `--settings FILE` or `GRAINLINK_SETTINGS_FILE` as `x: value`. The environment wins so
a deployment can override one value of a shared file. Domain defaults (retention, compression,
clock skew, offline detection) live here, never in the code that uses them.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from central.cameras.hls_base import DEFAULT as DEFAULT_HLS_BASE
from central.cameras.hls_base import checked_base
from central.cameras.live_keys import media_clients
from common.mqtt_client import BrokerUrl, parse_broker_url

ENV_PREFIX = "GRAINLINK_"
SETTINGS_FILE_ENV = "GRAINLINK_SETTINGS_FILE"
MQTT_SCHEMES = ("mqtt", "mqtts", "tcp", "ssl")


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the setting and where it came from."""


def _default_client_id() -> str:
    # Stable across restarts of the same host, so the broker keeps the persistent session.
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())
    return f"grainlink-ingest-{host}"[:64]


# National grade standards' moisture limits (domain.md §8), English and Chinese names.
SAFE_MOISTURE_PCT = {
    "wheat": 12.5, "小麦": 12.5, "maize": 14.0, "corn": 14.0, "玉米": 14.0,
    "indica_paddy": 13.5, "籼稻": 13.5, "paddy": 13.5, "稻谷": 13.5,
    "japonica_paddy": 14.5, "粳稻": 14.5, "soybean": 13.0, "大豆": 13.0,
    "rapeseed": 8.0, "油菜籽": 8.0,
}


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- connections ---
    database_url: str = "postgresql://127.0.0.1:5432/test"
    db_pool_min: int = Field(1, ge=0)
    db_pool_max: int = Field(10, ge=1)
    # Not in the settings' repr: either may hold the broker password (logs use mask_url).
    mqtt_url: str = Field("mqtt://127.0.0.1:1883", repr=False)
    mqtt_username: str | None = None
    mqtt_password: str | None = Field(None, repr=False)
    mqtt_client_id: str = Field(default_factory=_default_client_id, min_length=1, max_length=64)
    mqtt_keepalive_s: int = Field(30, ge=5)
    mqtt_ca_file: str | None = None

    # --- ingest ---
    ingest_shared_subscription: bool = False
    ingest_shared_group: str = "grainlink-ingest"
    ingest_batch_messages: int = Field(500, ge=1)
    ingest_batch_rows: int = Field(100_000, ge=1)
    ingest_batch_latency_s: float = Field(0.25, gt=0)
    ingest_idle_flush_s: float = Field(0.02, gt=0)
    # Run the hooks (alarm rules; central/wiring.py passes them to the worker only when on) in
    # the ingest transaction. Off only to measure storage alone
    # (bench/central_ingest.py): a worker without hooks evaluates no alarms for its share.
    ingest_hooks: bool = True
    ingest_queue_max: int = Field(5_000, ge=1)   # messages held in memory
    db_retry_initial_s: float = Field(0.5, gt=0)
    db_retry_max_s: float = Field(15.0, gt=0)

    # --- time ---
    clock_skew_tolerance_s: float = Field(300.0, gt=0)
    reading_max_age_days: float = Field(400.0, gt=0)

    # --- depot identity (central/depots) ---
    # Register a never-provisioned depot from its first layout (the demo, tests). Off: its
    # layout waits for `grainlink central depot add` or a supervisor's approval.
    auto_provision: bool = False

    # --- data integrity (central/ingest/batches.py) ---
    # A unit scan counter names one scan for this long (counters wrap at 65535 scans).
    scan_counter_window_h: float = Field(24.0, gt=0)
    # A batch-number jump wider than slack + rate x hours (the readings' times) is an anomaly,
    # not missing batches: generous, a depot sends one message per granary per scan at most.
    batch_rate_max_per_hour: float = Field(3600.0, gt=0)
    batch_jump_slack: int = Field(1000, ge=0)

    # --- storage ---
    timescale: Literal["auto", "on", "off"] = "auto"
    compress_after_days: int = Field(7, ge=1)
    # TimescaleDB rolls daily chunks up into compressed chunks of this many days: longer runs
    # per sensor compress better, but each day's compression recompresses the open roll-up
    # (central/db/timescale.py; 28 for the smallest store, 1 = no roll-up).
    compress_rollup_days: int = Field(7, ge=1)
    raw_retention_days: int | None = Field(None, ge=1)
    aggregate_refresh_window_days: int = Field(30, ge=1)
    dead_letter_retention_days: int = Field(90, ge=1)
    # depot_commands rows (commands to the edge and their results) kept this long
    commands_retention_days: int = Field(90, ge=1)
    day_timezone: str = "Asia/Shanghai"   # where the daily aggregates' days start

    # --- jobs ---
    aggregate_refresh_interval_s: float = Field(300.0, gt=0)
    expected_scan_interval_s: float = Field(3600.0, gt=0)
    offline_after_scans: float = Field(3.0, gt=0)
    offline_check_interval_s: float = Field(60.0, gt=0)

    # --- API ---
    history_max_days_raw: int = Field(7, ge=1, le=366)
    history_max_days_1h: int = Field(92, ge=1, le=3660)
    history_max_days_1d: int = Field(1830, ge=1, le=36600)

    # --- camera stills (None: $GRAINLINK_STILLS_DIR, else ./var/stills; the ingest hook,
    # which has no settings object, reads the same environment) ---
    stills_dir: str | None = None
    stills_retention_days: int | None = Field(None, ge=1)

    # --- live view: where the pages find the HLS playlists (a path on the pages' own origin,
    # or the media server's absolute URL, whose origin the pages' CSP then allows), and how
    # long a one-time publish key is good for: a little longer than the edge's live.duration
    # (5 min), so that the edge, not the media server, ends a stream on time
    live_hls_base: str = DEFAULT_HLS_BASE
    live_key_ttl_s: float = Field(330.0, gt=0, le=86400)
    # who may ask central whether a publisher may stream: the media server's addresses
    live_hook_clients: str = "127.0.0.1/32,::1/128"

    # --- reserve accounts ---
    shelf_life_warning_days: int = Field(30, ge=0, le=3650)
    # safe moisture (安全水分, wet basis %) per variety; keys as depots write the variety
    safe_moisture_pct: dict[str, float] = Field(default_factory=lambda: dict(SAFE_MOISTURE_PCT))
    intake_impurity_max_pct: float = Field(1.0, ge=0, le=100)
    intake_moisture_hard_margin_pp: float = Field(3.0, ge=0, le=100)  # never straight in beyond
    stocktake_tolerance_pct: float = Field(3.0, gt=0, le=100)
    semi_safe_margin_pp: float = Field(2.0, ge=0, le=100)   # 半安全: up to this above safe moisture
    rectification_check_interval_s: float = Field(3600.0, gt=0)

    # --- serve (used by central-api's `serve`) ---
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=0, le=65535)
    serve_ingest: bool = True
    serve_jobs: bool = True

    @field_validator("safe_moisture_pct", mode="before")
    @classmethod
    def _json_mapping(cls, v):
        # the environment gives a JSON object as text
        if isinstance(v, str):
            import json
            try:
                return json.loads(v)
            except ValueError as exc:
                raise ValueError(f"a JSON object of variety: percent ({exc})") from None
        return v

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, v: str) -> str:
        if urlparse(v).scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL")
        return v

    @field_validator("live_hls_base")
    @classmethod
    def _usable_hls_base(cls, value: str) -> str:
        return checked_base(value)

    @field_validator("live_hook_clients")
    @classmethod
    def _hook_clients_are_networks(cls, value: str) -> str:
        media_clients(value)
        return value

    @field_validator("day_timezone")
    @classmethod
    def _check_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name like Asia/Shanghai)") from None
        return v

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, v: str) -> str:
        u = urlparse(v)
        if u.scheme not in MQTT_SCHEMES:
            raise ValueError("must be mqtt://host:port or mqtts://host:port")
        if not u.hostname:
            raise ValueError("has no host")
        return v

    @model_validator(mode="after")
    def _check_windows(self) -> Settings:
        if self.raw_retention_days is not None and (
            self.raw_retention_days <= self.aggregate_refresh_window_days
        ):
            raise ValueError(
                "raw_retention_days must exceed aggregate_refresh_window_days, or the "
                "aggregates would be refreshed over dropped raw data"
            )
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("db_pool_min must not exceed db_pool_max")
        return self

    # --- derived ---
    @property
    def mqtt_broker(self) -> BrokerUrl:
        return parse_broker_url(self.mqtt_url, schemes=MQTT_SCHEMES, default_host="127.0.0.1")

    @property
    def mqtt_host(self) -> str:
        return self.mqtt_broker.host

    @property
    def mqtt_tls(self) -> bool:
        return self.mqtt_broker.tls

    @property
    def mqtt_port(self) -> int:
        return self.mqtt_broker.port

    @property
    def mqtt_credentials(self) -> tuple[str | None, str | None]:
        """Username/password: the explicit settings, else those in the URL."""
        b = self.mqtt_broker
        return self.mqtt_username or b.username, self.mqtt_password or b.password

    @property
    def offline_after_s(self) -> float:
        return self.expected_scan_interval_s * self.offline_after_scans


def _field_names() -> list[str]:
    return list(Settings.model_fields)


def read_settings_file(path: str | Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The mapping in a YAML settings file and the line of each key (1-based)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"settings file {path}: cannot read it: {exc.strerror}") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise SettingsError(f"settings file {path}{where}: not valid YAML: {exc}") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {path}: must be a mapping of setting: value")
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            lines[str(key_node.value)] = key_node.start_mark.line + 1
    return {str(k): v for k, v in data.items()}, lines


def _env_values(env: dict[str, str]) -> dict[str, str]:
    values = {}
    for name in _field_names():
        key = ENV_PREFIX + name.upper()
        if key in env and env[key] != "":
            values[name] = env[key]
    return values


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Settings from defaults, the file (`path`, else `$GRAINLINK_SETTINGS_FILE`), the
    environment and finally explicit overrides. Raises SettingsError naming each bad setting."""
    env = dict(os.environ if env is None else env)
    path = path or env.get(SETTINGS_FILE_ENV) or None
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    if path:
        data, lines = read_settings_file(path)
        unknown = sorted(set(data) - set(_field_names()))
        if unknown:
            where = ", ".join(f"{k!r} (line {lines.get(k, '?')})" for k in unknown)
            raise SettingsError(f"settings file {path}: unknown setting {where}")
        values.update(data)
        origin.update({k: f"settings file {path}, line {lines.get(k, '?')}" for k in data})
    for name, value in _env_values(env).items():
        values[name] = value
        origin[name] = f"environment {ENV_PREFIX}{name.upper()}"
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            source = origin.get(name, "default" if name not in overrides else "argument")
            label = f"{name} ({source})" if name else "settings"
            problems.append(f"{label}: {err['msg']}")
        raise SettingsError("; ".join(problems)) from None
