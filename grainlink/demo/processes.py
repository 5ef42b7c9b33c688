"""The demo's child processes: each in its own process group, logging to its own file,
stopped group by group (SIGTERM, then SIGKILL) so nothing outlives the demo."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    # Runs in the child before exec: if the demo itself is killed (even with SIGKILL) the
    # kernel sends the child SIGTERM, so no process outlives it. Linux only; elsewhere the
    # demo's own signal handling is what stops the children.
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


class ChildFailed(RuntimeError):
    """A child exited or did not become ready; the message carries the end of its log."""


@dataclass
class ProcessSet:
    """Start children (`start`), wait for them (`wait_for`), stop them all (`stop_all`)."""

    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None,
              cwd: str | Path | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd=cwd, start_new_session=True,
                preexec_fn=_die_with_parent if os.name == "posix" else None,
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def wait_for(self, child: Child, ready: Callable[[], bool], timeout_s: float,
                 what: str) -> None:
        """Poll `ready()` until true; raise ChildFailed when the child dies or time runs out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ready():
                return
            if not child.running():
                raise ChildFailed(f"{child.name} exited (code {child.process.returncode}) "
                                  f"before {what}; its log {child.log_path} ends:\n"
                                  f"{child.log_tail()}")
            time.sleep(0.05)
        raise ChildFailed(f"{child.name}: no {what} after {timeout_s:g} s; its log "
                          f"{child.log_path} ends:\n{child.log_tail()}")

    def wait_for_line(self, child: Child, text: str, timeout_s: float) -> None:
        self.wait_for(child, lambda: any(line.strip() == text
                                         for line in child.log_text().splitlines()),
                      timeout_s, f"{text!r} line")

    def dead_children(self) -> list[Child]:
        return [c for c in self.children if not c.running()]

    def stop_all(self, grace_s: float = 10.0) -> list[str]:
        """Stop every child, newest first; returns the names that had to be killed."""
        killed = []
        for child in reversed(self.children):
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in reversed(self.children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                killed.append(child.name)
                _signal_group(child, signal.SIGKILL)
                child.process.wait(5)
            # Anything the child left in its group (it should have none) goes too.
            _signal_group(child, signal.SIGKILL)
        self.children.clear()
        return killed


def _signal_group(child: Child, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)
