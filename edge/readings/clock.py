"""Is the system clock synchronised? A Raspberry Pi boots with a stale clock until NTP
answers (DESIGN.md "Time"); scans must not be stamped with it as if it were right."""

from __future__ import annotations

import logging
import shutil
import subprocess

log = logging.getLogger(__name__)

TIME_ERROR = 5  # adjtimex(2) state: clock not synchronised
_TIMEX_SIZE = 512  # larger than struct timex on any architecture; modes = 0 reads only


def adjtimex_synchronised() -> bool | None:
    """The kernel's view (STA_UNSYNC) via adjtimex(2); None if it cannot be asked."""
    # ctypes only where timedatectl cannot answer: most boxes never load it.
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        buf = ctypes.create_string_buffer(_TIMEX_SIZE)  # zeroed: modes = 0
        state = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != TIME_ERROR


def timedatectl_synchronised() -> bool | None:
    exe = shutil.which("timedatectl")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "show", "-p", "NTPSynchronized", "--value"], capture_output=True,
                             text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"yes": True, "no": False}.get(out)


def clock_synchronised(mode: str) -> bool:
    """True when scans may be stamped with the wall clock (`mode` is `ntp` or `none`)."""
    if mode == "none":
        return True
    for probe in (timedatectl_synchronised, adjtimex_synchronised):
        answer = probe()
        if answer is not None:
            return answer
    log.warning("cannot tell whether the clock is synchronised; trusting it")
    return True
