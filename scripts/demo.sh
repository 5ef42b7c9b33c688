#!/usr/bin/env bash
# The whole system as a demo on one machine: simulated depots -> edge agents -> broker ->
# central -> dashboard. Makes its own virtual environment; starts its own broker and
# database when none is configured.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv "camera,demo"
ensure_live_view
ensure_web || echo "grainlink: the dashboard will say its pages are not built" >&2
exec "$VENV/bin/grainlink" demo "$@"
