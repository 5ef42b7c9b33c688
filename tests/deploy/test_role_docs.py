"""Each role's README describes every variable of its defaults (Galaxy convention)."""

from __future__ import annotations

import pytest
import yaml

from tests.deploy import ansible_run


@pytest.mark.parametrize("role", ["grainlink_edge", "grainlink_broker", "grainlink_central", "grainlink_media"])
def test_role_readme_lists_every_variable(role) -> None:
    folder = ansible_run.ANSIBLE_DIR / "roles" / role
    defaults = yaml.safe_load((folder / "defaults" / "main.yml").read_text())
    readme = (folder / "README.md").read_text()
    missing = [name for name in defaults if f"`{name}`" not in readme]
    assert not missing, f"{role}/README.md does not describe {missing}"
