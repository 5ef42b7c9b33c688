"""GB/T 2260 administrative division codes: a county lies inside its city and its province.

Pure; the messages are for supervisors and operators, in Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SIX_DIGITS = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class Region:
    province: str
    city: str
    county: str

    def __str__(self) -> str:
        return f"{self.province}/{self.city}/{self.county}"


def region_problem(province: str, city: str, county: str) -> str | None:
    """What is wrong with a province/city/county triple, or None when the parts agree."""
    for label, code in (("省级", province), ("市级", city), ("县级", county)):
        if not isinstance(code, str) or not _SIX_DIGITS.fullmatch(code):
            return f"{label}代码 {code!r} 不是 6 位数字"
    if province.endswith("0000") is False or province == "000000":
        return f"省级代码 {province} 不是省级区划（应为 XX0000）"
    if not city.endswith("00") or city.endswith("0000"):
        return f"市级代码 {city} 不是市级区划（应为 XXXX00）"
    if city[:2] != province[:2]:
        return f"市级代码 {city} 不在省级代码 {province} 内"
    if county[:4] != city[:4]:
        return f"县级代码 {county} 不在市级代码 {city} 内"
    if county.endswith("00") and county != city:
        return f"县级代码 {county} 不是县级区划"
    return None


def region_of_county(county: str) -> Region:
    """The province and city a county code lies in; ValueError (Chinese) when it is no county."""
    if not isinstance(county, str) or not _SIX_DIGITS.fullmatch(county):
        raise ValueError(f"县级代码 {county!r} 不是 6 位数字")
    region = Region(county[:2] + "0000", county[:4] + "00", county)
    problem = region_problem(region.province, region.city, region.county)
    if problem:
        raise ValueError(problem)
    return region
