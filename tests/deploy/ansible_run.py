"""Running the Ansible tools from the tests: where they are, the play recap, the wheelhouse."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = ROOT / "deploy" / "ansible"
BIN = Path(sys.executable).parent

RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$", re.MULTILINE)


def tool(name: str) -> str | None:
    """The path of an Ansible command next to this Python, else on PATH."""
    beside = BIN / name
    return str(beside) if beside.exists() else shutil.which(name)


def missing_ansible() -> str | None:
    """Why the deployment tests cannot run here, or None when they can."""
    try:
        import ansible  # noqa: F401
    except ImportError:
        return "ansible-core is not installed (pip install -e '.[test]')"
    if tool("ansible-playbook") is None:
        return "ansible-playbook is not on PATH"
    return None


def parse_recap(output: str) -> dict[str, dict[str, int]]:
    """host -> {ok, changed, failed, ...} from the PLAY RECAP of ansible-playbook's output."""
    _, _, recap = output.rpartition("PLAY RECAP")
    hosts = {}
    for m in RECAP_LINE.finditer(recap):
        hosts[m["host"]] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m["counts"])}
    return hosts


@dataclass
class PlaybookRun:
    returncode: int
    output: str
    recap: dict[str, dict[str, int]]

    def changed(self) -> dict[str, int]:
        return {host: counts.get("changed", 0) for host, counts in self.recap.items()}


def ansible_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg"),
        ANSIBLE_LOCAL_TEMP=str(home / "local-tmp"),
        ANSIBLE_REMOTE_TEMP=str(home / "remote-tmp"),
        ANSIBLE_HOME=str(home / "ansible-home"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        # The roles need facts only for the default wheelhouse path, which the tests set.
        ANSIBLE_GATHERING="explicit",
        # Only the wheelhouse may feed pip, not this machine's pip configuration (find-links).
        PIP_CONFIG_FILE=os.devnull,
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def run_playbook(inventory: Path, home: Path, *args: str, timeout: float = 240) -> PlaybookRun:
    """ansible-playbook site.yml against `inventory`, from deploy/ansible."""
    proc = subprocess.run(
        [tool("ansible-playbook"), "-i", str(inventory), "site.yml", *args],
        cwd=ANSIBLE_DIR, env=ansible_env(home), capture_output=True, text=True, timeout=timeout,
    )
    output = proc.stdout + proc.stderr
    return PlaybookRun(proc.returncode, output, parse_recap(proc.stdout))


def run_playbook_split(inventory: Path, home: Path, limits: list[str], timeout: float = 240) -> PlaybookRun:
    """site.yml once per host limit, all at the same time (the plays of site.yml run one
    after the other; hosts that do not depend on each other need not wait); one merged run."""
    procs = [
        subprocess.Popen(
            [tool("ansible-playbook"), "-i", str(inventory), "site.yml", "--limit", limit],
            cwd=ANSIBLE_DIR, env=ansible_env(home / f"part{i}"), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )
        for i, limit in enumerate(limits)
    ]
    outputs = [p.communicate(timeout=timeout)[0] for p in procs]
    recap: dict[str, dict[str, int]] = {}
    for out in outputs:
        recap.update(parse_recap(out))
    returncode = max(p.returncode for p in procs)
    return PlaybookRun(returncode, "\n".join(outputs), recap)


def build_wheelhouse(out: Path) -> Path:
    """The wheelhouse archive, by the real build-wheelhouse.sh for this machine (dependencies
    from pip's cache or index)."""
    proc = subprocess.run(
        [str(ANSIBLE_DIR / "build-wheelhouse.sh"), str(out)],
        env={**os.environ, "PYTHON": sys.executable}, capture_output=True, text=True, timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"build-wheelhouse.sh failed:\n{proc.stdout}\n{proc.stderr}")
    return out


def base_python() -> str:
    """The interpreter a fresh venv is made from (`python -m venv` in a venv uses its base)."""
    return getattr(sys, "_base_executable", None) or sys.executable

