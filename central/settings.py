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
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ENV_PREFIX = "GRAINLINK_"
SETTINGS_FILE_ENV = "GRAINLINK_SETTINGS_FILE"


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the setting and where it came from."""


def _default_client_id() -> str:
    # Stable across restarts of the same host, so the broker keeps the persistent session.
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())
    return f"grainlink-ingest-{host}"[:64]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- connections ---
    database_url: str = "postgresql://127.0.0.1:5432/test"
    db_pool_min: int = Field(1, ge=0)
    db_pool_max: int = Field(10, ge=1)
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_username: str | None = None
    mqtt_password: str | None = None
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
    # Run the hooks (alarm rules) in the ingest transaction. Off only to measure storage alone
    # (bench/central_ingest.py): a worker without hooks evaluates no alarms for its share.
    ingest_hooks: bool = True
    ingest_queue_max: int = Field(5_000, ge=1)   # messages held in memory
    db_retry_initial_s: float = Field(0.5, gt=0)
    db_retry_max_s: float = Field(15.0, gt=0)

    # --- time ---
    clock_skew_tolerance_s: float = Field(300.0, gt=0)
    reading_max_age_days: float = Field(400.0, gt=0)

    # --- storage ---
    timescale: Literal["auto", "on", "off"] = "auto"
    compress_after_days: int = Field(7, ge=1)
    raw_retention_days: int | None = Field(None, ge=1)
    aggregate_refresh_window_days: int = Field(30, ge=1)
    dead_letter_retention_days: int = Field(90, ge=1)
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

    # --- reserve accounts ---
    shelf_life_warning_days: int = Field(30, ge=0, le=3650)

    # --- serve (used by central-api's `serve`) ---
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=0, le=65535)
    serve_ingest: bool = True
    serve_jobs: bool = True

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, v: str) -> str:
        if urlparse(v).scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL")
        return v

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
        if u.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
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
    def mqtt_host(self) -> str:
        return urlparse(self.mqtt_url).hostname or "127.0.0.1"

    @property
    def mqtt_tls(self) -> bool:
        return urlparse(self.mqtt_url).scheme in ("mqtts", "ssl")

    @property
    def mqtt_port(self) -> int:
        return urlparse(self.mqtt_url).port or (8883 if self.mqtt_tls else 1883)

    @property
    def mqtt_credentials(self) -> tuple[str | None, str | None]:
        """Username/password: the explicit settings, else those in the URL."""
        u = urlparse(self.mqtt_url)
        user = self.mqtt_username or (unquote(u.username) if u.username else None)
        password = self.mqtt_password or (unquote(u.password) if u.password else None)
        return user, password

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
