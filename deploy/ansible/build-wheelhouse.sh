#!/usr/bin/env bash
# Build the wheelhouse archive the grainlink_edge / grainlink_central roles install from: the
# grainlink wheel of this checkout plus every dependency, for one CPU and Python version, so
# a depot without internet can install it.
#
#   deploy/ansible/build-wheelhouse.sh ARCHIVE [PLATFORM PYTHON_VERSION] [EXTRAS]
#
#   ARCHIVE         e.g. deploy/ansible/wheelhouse/grainlink-0.1.0-aarch64.tar (the roles
#                   look for wheelhouse/grainlink-<version>-<ansible_facts.architecture>.tar
#                   next to site.yml by default)
#   PLATFORM        pip platform tag, e.g. manylinux2014_aarch64 (Raspberry Pi OS 64-bit) or
#                   manylinux2014_x86_64; omit it and PYTHON_VERSION to build for this computer
#   PYTHON_VERSION  the host's python3, e.g. 3.11 (Debian bookworm)
#   EXTRAS          e.g. camera (comma separated)
set -euo pipefail

archive=${1:?usage: build-wheelhouse.sh ARCHIVE [PLATFORM PYTHON_VERSION] [EXTRAS]}
platform=${2:-}
pyver=${3:-}
extras=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}

mkdir -p "$(dirname "$archive")"
archive="$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src" "$work/wheels"

# Build from a clean copy so the checkout gets no build/ or *.egg-info litter.
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    # The work tree as it is: tracked files deleted but not yet committed are left out.
    (cd "$repo" && git ls-files -co --exclude-standard -z \
        | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf -) \
        | tar -xf - -C "$work/src"
else
    tar -C "$repo" --exclude=.venv --exclude=.git -cf - . | tar -xf - -C "$work/src"
fi

# The web pages are built, not committed: build them (when missing or stale) and put them in
# the copy, so the wheel serves them with no CDN and no Node.js at the central host.
(cd "$repo" && source scripts/venv.sh && ensure_web) \
    || { echo "build-wheelhouse: the web pages could not be built (Node.js 20 and npm needed)" >&2; exit 1; }
rm -rf "$work/src/central/dashboard/static"
cp -R "$repo/central/dashboard/static" "$work/src/central/dashboard/static"

SOURCE_DATE_EPOCH=315532800 "$python" -m pip wheel --quiet --no-deps --wheel-dir "$work/wheels" "$work/src"
wheel=$(ls "$work"/wheels/grainlink-*.whl)
req="$wheel"
if [ -n "$extras" ]; then
    req="grainlink[$extras] @ file://$wheel"
fi
if [ -n "$platform" ]; then
    "$python" -m pip download --quiet --dest "$work/wheels" --only-binary=:all: \
        --platform "$platform" --python-version "${pyver:?give PYTHON_VERSION with PLATFORM}" "$req"
else
    "$python" -m pip download --quiet --dest "$work/wheels" "$req"
fi

# Fixed order, owner and times: the same wheels give the same archive, so unpacking it again
# on a host changes nothing.
touch -d @0 "$work"/wheels/*
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/wheels" -cf "$archive" .
echo "wheelhouse ready: $archive ($(ls "$work/wheels" | wc -l) files)"
