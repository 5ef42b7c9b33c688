"""Camera health with a hold time: report offline only after failing for `offline_after` seconds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HealthTracker:
    offline_after: float
    online: bool = True
    failing_since: float | None = None
    last_error: str | None = None
    error_kind: str | None = None

    def success(self, now: float) -> str | None:
        """Record a good check; returns "camera_online" when it comes back."""
        self.failing_since = None
        self.last_error = self.error_kind = None
        if not self.online:
            self.online = True
            return "camera_online"
        return None

    def failure(self, now: float, kind: str, error: str) -> str | None:
        """Record a failed check; returns "camera_offline" once the hold time has passed."""
        self.last_error, self.error_kind = error, kind
        if self.failing_since is None:
            self.failing_since = now
        if self.online and now - self.failing_since >= self.offline_after:
            self.online = False
            return "camera_offline"
        return None

    @property
    def ok(self) -> bool:
        return self.online and self.failing_since is None
