"""Settings of the alarm notifier: webhooks, timeouts, retries and backoff.

Read from the central `Settings` when it carries these fields (`alarm_webhooks`, …), else
from the environment (`GRAINLINK_ALARM_WEBHOOKS` = comma-separated URLs, and
`GRAINLINK_ALARM_<FIELD>` for the rest), else the defaults below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.backoff import doubling_delay

ENV_PREFIX = "GRAINLINK_"


class NotifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alarm_webhooks: tuple[str, ...] = ()
    alarm_mqtt: bool = True                    # publish on grainlink/v1/alarms/{depot}
    alarm_webhook_timeout_s: float = Field(5.0, gt=0)
    alarm_retry_initial_s: float = Field(2.0, gt=0)
    alarm_retry_max_s: float = Field(600.0, gt=0)
    alarm_retry_max_attempts: int = Field(20, ge=1)
    alarm_notify_poll_s: float = Field(0.2, gt=0)
    alarm_notify_batch: int = Field(200, ge=1)

    @field_validator("alarm_webhooks", mode="before")
    @classmethod
    def _split(cls, value):
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value

    @field_validator("alarm_webhooks")
    @classmethod
    def _check_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            u = urlparse(url)
            if u.scheme not in ("http", "https") or not u.hostname:
                raise ValueError(f"{url!r} is not an http(s):// URL")
        return urls

    def backoff_s(self, attempts: int) -> float:
        """Wait after the `attempts`-th failed attempt: doubling from the initial wait."""
        return doubling_delay(attempts, self.alarm_retry_initial_s, self.alarm_retry_max_s)


def notify_settings(settings=None, env: Mapping[str, str] | None = None, **overrides) -> NotifySettings:
    env = os.environ if env is None else env
    values = {}
    for name in NotifySettings.model_fields:
        if settings is not None and hasattr(settings, name):
            values[name] = getattr(settings, name)
        elif env.get(ENV_PREFIX + name.upper()):
            values[name] = env[ENV_PREFIX + name.upper()]
    values.update(overrides)
    return NotifySettings(**values)
