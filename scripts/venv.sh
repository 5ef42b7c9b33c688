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

# The browser tests drive Debian's chromium (never a downloaded browser), with CJK fonts so
# the Chinese pages and their screenshots show characters; install them where we may (root
# with apt-get), otherwise those tests skip and say why.
ensure_chromium() {
    if { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } \
        && [ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto | grep -q CJK; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "grainlink: installing chromium and CJK fonts for the browser tests" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) >/dev/null 2>&1 \
            || echo "grainlink: could not install chromium; the browser tests will skip" >&2
    fi
}

# Live view's parts, Debian packages: FFmpeg (the edge's relay), nginx's RTMP module (central's
# media server), GStreamer's RTSP server (the simulated camera's stream). The live tests skip
# and the demo runs without live view when they are missing. Debian starts nginx's default site
# on install; the tests and the demo run their own, so that one is stopped again.
ensure_live_view() {
    if command -v ffmpeg >/dev/null 2>&1 && [ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] \
        && /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "grainlink: installing FFmpeg, nginx's RTMP module and GStreamer's RTSP server for live view" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            ffmpeg nginx-light libnginx-mod-rtmp python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
            gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-x fonts-noto-cjk) >/dev/null 2>&1 \
            || echo "grainlink: could not install them; the live-view tests will skip" >&2
        if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
    fi
}

# The web pages: central/web (Vue + Element Plus + ECharts, Node.js 20 and npm) built into
# central/dashboard/static, which the package ships. Built when missing or when any source
# changed since the last build (a hash of the sources is kept beside the build).
WEB_SRC=central/web
WEB_OUT=central/dashboard/static

web_sources_hash() {
    (cd "$WEB_SRC" && find src index.html package.json package-lock.json vite.config.ts compress.mjs \
        -type f -print0 | sort -z | xargs -0 sha1sum) | sha1sum | cut -c1-16
}

ensure_web() {
    local want
    want=$(web_sources_hash)
    if [ -f "$WEB_OUT/index.html" ] && [ "$(cat "$WEB_OUT/.source-hash" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "grainlink: npm (Node.js 20) is needed to build the web pages in $WEB_SRC" >&2
        [ -f "$WEB_OUT/index.html" ] && echo "grainlink: keeping the existing, older build" >&2
        return 1
    fi
    echo "grainlink: building the web pages ($WEB_SRC)" >&2
    (
        cd "$WEB_SRC"
        # npm ci only when the installed packages are older than the lock file
        if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
            npm ci --no-audit --no-fund --loglevel=error
        fi
        npm run --silent build
    ) >&2 || { echo "grainlink: the web build failed" >&2; return 1; }
    echo "$want" > "$WEB_OUT/.source-hash"
}
