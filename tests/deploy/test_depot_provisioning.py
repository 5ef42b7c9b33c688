"""The central role registers the inventory's depots (code, name, region) at central, so
their identity comes from provisioning, not from their own layouts (issue 16.3)."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import Deployment


def test_inventory_depots_are_registered_once(deployment: Deployment) -> None:
    if deployment.central is None:
        pytest.skip("no PostgreSQL server answers (GRAINLINK_TEST_DATABASE_URL)")
    import psycopg

    with psycopg.connect(deployment.central.url) as conn:
        rows = conn.execute("SELECT code, name, province, city, county, source FROM depot_registry"
                            ).fetchall()
    assert rows == [(deployment.depot_a, "长沙第一粮库", "430000", "430100", "430102", "inventory")]
    first = deployment.first.output.split("Register the inventory's depots")[1][:400]
    assert f"changed: [test-central] => (item={deployment.depot_a})" in first
