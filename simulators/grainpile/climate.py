"""Outside air as a pure function of time: mean + annual + daily + seeded "weather" waves.

Every part is a sinusoid, so a first-order lag (how grain and granary air follow the outside)
has an exact closed form: the model is a function of time, not of how often it is stepped,
and therefore deterministic for a seed whatever the real-time jitter.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

YEAR_S = 365.2425 * 86400.0
DAY_S = 86400.0
_EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Wave:
    """amplitude · cos(omega · t − theta), t in UNIX seconds."""

    amplitude: float
    omega: float
    theta: float
    daily: bool = False  # part of the day/night swing (ignored for the slow vapour pressure)

    def phase(self, t: float) -> float:
        return self.omega * t - self.theta


@dataclass(frozen=True)
class ClimateSettings:
    mean_c: float = 17.0
    annual_amplitude_c: float = 12.0
    daily_amplitude_c: float = 5.0
    rh_pct: float = 70.0
    warmest_day_of_year: float = 200.0
    warmest_hour: float = 15.0          # local solar-ish time of the daily maximum
    weather_amplitude_c: float = 2.0    # spread of the multi-day weather waves
    weather_waves: int = 4


def saturation_vapour_hpa(temp_c: float) -> float:
    """Magnus (Sonntag 1990), the same constants as domain.md's dew point."""
    return 6.112 * math.exp(17.62 * temp_c / (243.12 + temp_c))


def dew_point_c(temp_c: float, rh_pct: float) -> float:
    gamma = math.log(max(rh_pct, 0.1) / 100.0) + 17.62 * temp_c / (243.12 + temp_c)
    return 243.12 * gamma / (17.62 - gamma)


def rh_for(vapour_hpa: float, temp_c: float) -> float:
    """Relative humidity of air at `temp_c` holding `vapour_hpa`, clipped to 5..100 %."""
    return min(100.0, max(5.0, 100.0 * vapour_hpa / saturation_vapour_hpa(temp_c)))


class Climate:
    """Outside air temperature and humidity of one depot."""

    def __init__(self, settings: ClimateSettings, seed: int, utc_offset_h: float = 8.0):
        self.settings = settings
        s = settings
        annual_peak = (_EPOCH_2000 + timedelta(days=s.warmest_day_of_year - 1)).timestamp()
        daily_peak = (_EPOCH_2000 + timedelta(hours=s.warmest_hour - utc_offset_h)).timestamp()
        w_year, w_day = 2 * math.pi / YEAR_S, 2 * math.pi / DAY_S
        waves = [
            Wave(s.annual_amplitude_c, w_year, w_year * annual_peak),
            Wave(s.daily_amplitude_c, w_day, w_day * daily_peak, daily=True),
        ]
        rng = random.Random(f"climate:{seed}")
        n = max(0, s.weather_waves)
        for _ in range(n):
            period = rng.uniform(2.0, 12.0) * DAY_S
            amp = s.weather_amplitude_c / math.sqrt(n) * rng.uniform(0.6, 1.4)
            waves.append(Wave(amp, 2 * math.pi / period, rng.uniform(0, 2 * math.pi)))
        self.waves: tuple[Wave, ...] = tuple(waves)

    def outdoor_temp_c(self, t: float) -> float:
        return self.settings.mean_c + sum(w.amplitude * math.cos(w.phase(t)) for w in self.waves)

    def slow_temp_c(self, t: float) -> float:
        """Outside temperature without the daily swing (sets the day's vapour pressure)."""
        return self.settings.mean_c + sum(
            w.amplitude * math.cos(w.phase(t)) for w in self.waves if not w.daily
        )

    def outdoor_rh_pct(self, t: float) -> float:
        # The air's water content changes slowly; RH swings because temperature does.
        vapour = self.settings.rh_pct / 100.0 * saturation_vapour_hpa(self.slow_temp_c(t))
        return rh_for(vapour, self.outdoor_temp_c(t))

    def lagged_temp_c(self, t: float, tau_s: float) -> float:
        """The outside temperature seen through a first-order lag of time constant `tau_s`."""
        total = self.settings.mean_c
        for w in self.waves:
            x = w.omega * tau_s
            total += w.amplitude / math.sqrt(1 + x * x) * math.cos(w.phase(t) - math.atan(x))
        return total
