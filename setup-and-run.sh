#!/usr/bin/env bash
# Sets up a Debian 12 machine for spmig (packages, release build) and runs spmigd on its
# embedded defaults (data in ./spmig-data, SharePoint on :8080, Blob :10000, Queue :10001).
# Extra arguments go to spmigd, e.g. ./setup-and-run.sh --in-memory
set -euo pipefail
cd "$(dirname "$0")"
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
if ! dpkg -s $(cat .ci/packages) >/dev/null 2>&1; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $(cat .ci/packages)
fi
[ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
ninja -C build-release >/dev/null
exec build-release/server/spmigd "$@"
