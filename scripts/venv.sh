# Sourced by the other scripts: a virtual environment with the pinned packages, made once
# and refreshed whenever pyproject.toml changes.
VENV=${GRAINLINK_VENV:-.venv}

ensure_venv() {
    local extras=$1
    if [ ! -x "$VENV/bin/python" ]; then
        echo "grainlink: creating the virtual environment in $VENV" >&2
        python3 -m venv "$VENV"
    fi
    local stamp
    stamp="$VENV/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)-${extras//,/-}"
    if [ ! -f "$stamp" ]; then
        echo "grainlink: installing packages ($extras)" >&2
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e ".[$extras]"
        touch "$stamp"
    fi
}
