"""The central role applied for real against the test PostgreSQL (its own database and role):
migrations, the first admin token, the units for N ingest workers."""

from __future__ import annotations

import stat

import pytest

from tests.deploy.conftest import Deployment


@pytest.fixture
def central(deployment: Deployment):
    if deployment.central is None:
        pytest.skip("no PostgreSQL server answers (GRAINLINK_TEST_DATABASE_URL)")
    return deployment.central


def test_second_run_changes_nothing_on_central(deployment: Deployment, central) -> None:
    assert deployment.first.changed()["test-central"] > 0
    assert deployment.second.changed()["test-central"] == 0, deployment.second.output[-4000:]


def test_database_is_migrated_and_owned_by_the_role(central) -> None:
    import psycopg

    with psycopg.connect(central.url) as conn:
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert owner == central.db_user
    assert len(versions) >= 2


def test_first_admin_token_is_stored_root_only_and_works(central) -> None:
    import psycopg

    token_file = central.root / "etc" / "grainlink" / "admin.token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    assert len(token) >= 20
    from central.users import user_for_token

    with psycopg.connect(central.url) as conn:
        user = user_for_token(conn, token)
    assert user is not None and user.name == central.admin_name and user.role == "admin"


def test_units_for_server_and_workers(central) -> None:
    systemd = central.root / "etc" / "systemd" / "system"
    server = (systemd / "grainlink-central.service").read_text()
    worker = (systemd / "grainlink-ingest@.service").read_text()
    assert "central serve --host 127.0.0.1 --port 8000 --no-ingest --no-migrate" in server
    assert "central ingest --shared --no-migrate --client-id grainlink-ingest-%H-%i" in worker
    env = central.root / "etc" / "grainlink" / "central.env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert f'GRAINLINK_DATABASE_URL="postgresql://{central.db_user}:{central.db_password}@' in env.read_text()
