"""The CJK font stamped text is drawn with (edge stills, the simulated camera's pictures).

OpenCV's built-in fonts have no CJK glyphs, so text goes through Pillow with Noto Sans CJK
(Debian's fonts-noto-cjk). GRAINLINK_CJK_FONT names another font file; a missing font is a
clear error rather than boxes or transliterated ASCII.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
# Index of the Simplified Chinese face inside Noto's .ttc collections (JP, KR, SC, TC, HK).
_SC_INDEX = 2


class FontMissing(RuntimeError):
    """No CJK font on this machine."""


def cjk_font_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    chosen = env.get("GRAINLINK_CJK_FONT")
    if chosen:
        if not Path(chosen).is_file():
            raise FontMissing(f"GRAINLINK_CJK_FONT={chosen}：没有这个字体文件")
        return Path(chosen)
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing("找不到叠加文字用的中文字体：请安装 Debian 的 fonts-noto-cjk "
                      "（apt-get install fonts-noto-cjk），或把 GRAINLINK_CJK_FONT 设为 .ttf/.ttc/.otf 字体文件")


@lru_cache(maxsize=16)
def _load(path: str, size: int) -> ImageFont.FreeTypeFont:
    index = _SC_INDEX if path.endswith(".ttc") and "NotoS" in path else 0
    try:
        return ImageFont.truetype(path, size, index=index)
    except OSError:
        return ImageFont.truetype(path, size)


def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    return _load(str(cjk_font_path()), size)
