#!/usr/bin/env bash
# The whole test suite from a fresh clone: makes its own virtual environment, installs the
# pinned packages, lints, then runs pytest. PostgreSQL and MQTT come from
# GRAINLINK_TEST_DATABASE_URL / GRAINLINK_TEST_MQTT_URL (defaults: the machine's services on
# 127.0.0.1); when those do not answer, the tests start private instances themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv "test,camera,demo"
ensure_chromium
ensure_live_view
ensure_web || echo "grainlink: the browser tests of the web pages will skip" >&2
"$VENV/bin/ruff" check .
# Two workers (pytest-xdist): most tests wait on sockets, brokers and browsers, so the two cores
# stay busy; GRAINLINK_TEST_WORKERS=0 runs everything in this one process.
exec "$VENV/bin/python" -m pytest -n "${GRAINLINK_TEST_WORKERS:-2}" --dist loadfile "$@"
