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

# The browser tests drive Debian's chromium (never a downloaded browser); install it where we
# may (root with apt-get), otherwise those tests skip and say why.
ensure_chromium() {
    if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "grainlink: installing chromium for the browser tests" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
            || echo "grainlink: could not install chromium; the browser tests will skip" >&2
    fi
}
