#!/usr/bin/env bash
# docker/test.sh: builds docker/Dockerfile and runs what it makes, with podman (no container
# registry is needed: the debian:12-slim base is made here from Debian's archive when absent).
#
#  1. installs podman, runc, podman-compose and mmdebstrap (and the networking helpers) if missing
#  2. imports a minimal bookworm root file system as debian:12-slim, unless one is present
#  3. builds docker/Dockerfile unmodified and measures the image
#  4. runs it (admin token from a mounted secret file), waits for its HEALTHCHECK, migrates a
#     small share into it with the host's `spmig migrate`, reads a file back through REST,
#     loads the Migration center page at /, and stops it with SIGTERM
#  5. runs docker/compose.yaml (spmigd and two agents), creates a Migration Manager task through
#     POST /api/mm/tasks and waits until an agent has completed it
#  6. removes every container, volume, network and image it made, also when a step fails
#
# Ports are published on 127.0.0.1 only. The last line is "docker: PASS ..." or
# "docker: FAIL: <step>"; the exit code is 0 or 1. Needs root (or sudo) for apt and podman.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$(date +%s)

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
# The project's podman settings (ulimits that fit small machines, runc): see containers.conf.
export CONTAINERS_CONF="$root/docker/containers.conf"

run_id="spmigtest$$"
image="localhost/spmig:$run_id"
name="$run_id-spmigd"
project="$run_id"
work=$(mktemp -d)
log="$work/log"
token="token-$run_id-$RANDOM$RANDOM"
step="start"
made_base=false
compose_up=false
image_size_mb="?"

podman() { $sudo env CONTAINERS_CONF="$CONTAINERS_CONF" podman "$@"; }

compose() {
    # podman-compose reads the image, token and host ports from the environment.
    $sudo env CONTAINERS_CONF="$CONTAINERS_CONF" SPMIG_IMAGE="$image" SPMIG_ADMIN_TOKEN="$token" \
        SPMIG_HOST_SP_PORT="$c_sp" SPMIG_HOST_BLOB_PORT="$c_blob" SPMIG_HOST_QUEUE_PORT="$c_queue" \
        podman-compose -p "$project" -f docker/compose.yaml "$@"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    {
        podman rm -f -v "$name"
        if $compose_up; then
            compose down -v
            podman network rm -f "${project}_default"
        fi
        podman rmi -f "$image"
        if $made_base; then podman rmi -f localhost/debian:12-slim; fi
    } >>"$log" 2>&1 || true
    local secs=$(($(date +%s) - started))
    if [ "$rc" = 0 ]; then
        echo "docker: PASS (image ${image_size_mb} MB, ${secs} s)"
    else
        echo "--- docker/test.sh log (last 60 lines) ---"
        tail -n 60 "$log" || true
        echo "docker: FAIL: $step (${secs} s)"
    fi
    [ -z "${SPMIG_DOCKER_TEST_LOG:-}" ] || cp "$log" "$SPMIG_DOCKER_TEST_LOG" || true
    $sudo rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Names the step under way (for the FAIL line) and notes the time in the log.
at() {
    step=$1
    echo "[$(($(date +%s) - started)) s] $step" >>"$log"
}

fail() {
    echo "$*" >>"$log"
    exit 1
}

# Runs "$@" every half second until it succeeds, for at most $1 seconds.
wait_until() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@" >>"$log" 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- 1. tools ----------------------------------------------------------------------------
at "installing podman, runc, podman-compose, mmdebstrap"
# iptables: netavark's port forwarding; aardvark-dns: service names inside a compose network.
need=()
for pkg in podman runc podman-compose mmdebstrap netavark aardvark-dns iptables curl; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    {
        $sudo apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
    } >>"$log" 2>&1 || fail "apt-get install ${need[*]} failed"
fi

# The host's spmig: the suite's build when there is one, else a client-only build of its own.
at "building the host's spmig"
if [ -f build/build.ninja ]; then
    hostbuild=build
else
    hostbuild=build-host
    [ -f "$hostbuild/build.ninja" ] || meson setup "$hostbuild" -Dtests=false >>"$log" 2>&1
fi
ninja -C "$hostbuild" client/spmig >>"$log" 2>&1
spmig="$root/$hostbuild/client/spmig"

# ---- 2. base image -------------------------------------------------------------------------
at "making debian:12-slim"
if ! podman image exists debian:12-slim; then
    # minbase, merged /usr without the usrmerge package (no perl), no docs, man pages or
    # locales; dpkg without fsync, as Debian's own container images are set up.
    # Debian's own python3 for mmdebstrap's helper scripts, whatever comes first on PATH.
    $sudo env PATH=/usr/sbin:/usr/bin:/sbin:/bin mmdebstrap --variant=minbase --format=tar \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --aptopt='Acquire::Languages "none"' --dpkgopt=force-unsafe-io \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        bookworm "$work/rootfs.tar" >>"$log" 2>&1
    podman import --change 'CMD ["bash"]' "$work/rootfs.tar" localhost/debian:12-slim >>"$log" 2>&1
    made_base=true
    $sudo rm -f "$work/rootfs.tar"
fi

# ---- 3. the image ----------------------------------------------------------------------------
at "podman build"
# --format docker keeps the HEALTHCHECK (OCI images have none); --layers=false leaves no
# intermediate images behind; --pull=never: no registry is asked; --jobs 2 builds the two
# stages side by side.
podman build --format docker --layers=false --pull=never --jobs 2 -f docker/Dockerfile -t "$image" . \
    >>"$log" 2>&1
image_bytes=$(podman image inspect "$image" --format '{{.Size}}')
image_size_mb=$((image_bytes / 1000000))
echo "image $image: $image_bytes bytes" >>"$log"
at "image checks"
podman image inspect "$image" --format '{{.Config.Env}}' | grep -q ADMIN_TOKEN &&
    fail "the image carries an admin token"
podman image inspect "$image" --format '{{.Config.Healthcheck}}' | grep -q '_emu/health' ||
    fail "the image has no HEALTHCHECK on /_emu/health"
if podman run --rm "$image" sh -c 'command -v gcc cc meson' >>"$log" 2>&1; then
    fail "the image holds a compiler or meson"
fi

# ---- 4. one container, the host's spmig migrating into it ---------------------------------
at "podman run"
sp=$(free_port) blob=$(free_port) queue=$(free_port)
# The same port inside and out: the storage URLs spmigd hands out carry its own ports.
printf '%s\n' "$token" >"$work/admin-token"
chmod 0644 "$work/admin-token" # read by the image's unprivileged user through the mount
podman run -d --name "$name" \
    -p "127.0.0.1:$sp:$sp" -p "127.0.0.1:$blob:$blob" -p "127.0.0.1:$queue:$queue" \
    -e SPMIG_SP_PORT="$sp" -e SPMIG_BLOB_PORT="$blob" -e SPMIG_QUEUE_PORT="$queue" \
    -e SPMIG_ADMIN_TOKEN_FILE=/run/secrets/spmig_admin_token \
    -v "$work/admin-token:/run/secrets/spmig_admin_token:ro" \
    "$image" >>"$log" 2>&1
at "waiting for the HEALTHCHECK"
wait_until 60 podman healthcheck run "$name" || fail "$(podman logs "$name" 2>&1)"
[ "$(podman exec "$name" id -u)" != 0 ] || fail "spmigd runs as root"

at "spmig migrate into the container"
mkdir -p "$work/share/Reports" "$work/share/Projects/Apollo"
echo "Q1 numbers from the host" >"$work/share/Reports/q1.txt"
printf 'quarter,revenue\nQ1,1200\n' >"$work/share/Reports/quarterly.csv"
echo "launch plan" >"$work/share/Projects/Apollo/plan.txt"
SPMIG_TOKEN="$token" "$spmig" migrate "$work/share" --site "http://localhost:$sp" \
    --report-dir "$work/reports" --state-dir "$work/state" >>"$log" 2>&1
at "reading the file back through REST"
got=$(curl -fsS -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$sp/_api/web/GetFileByServerRelativeUrl('/Shared%20Documents/Reports/q1.txt')/\$value")
[ "$got" = "Q1 numbers from the host" ] || fail "read back '$got'"
at "the Migration center page"
curl -fsS "http://127.0.0.1:$sp/" | grep -q '<title>Migration center' || fail "no page at /"

at "stopping spmigd with SIGTERM"
t0=$(date +%s)
podman stop -t 10 "$name" >>"$log" 2>&1
[ "$(podman inspect "$name" --format '{{.State.ExitCode}}')" = 0 ] || fail "exit code not 0"
[ $(($(date +%s) - t0)) -lt 10 ] || fail "SIGTERM took the whole grace period"
podman rm -v "$name" >>"$log" 2>&1

# ---- 5. the compose stack: spmigd and two agents -------------------------------------------
at "podman-compose up"
c_sp=$(free_port) c_blob=$(free_port) c_queue=$(free_port)
compose_up=true
compose up -d >>"$log" 2>&1
mm() { # method path [body]: an admin call to the stack's SharePoint port
    local args=(-fsS -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json')
    [ $# -lt 3 ] || args+=(-d "$3")
    curl "${args[@]}" "http://127.0.0.1:$c_sp$2"
}
at "waiting for spmigd and two agents"
wait_until 60 curl -fsS "http://127.0.0.1:$c_sp/_emu/health"
agents_ready() { [ "$(mm GET /api/mm/agents | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["value"]))')" = 2 ]; }
wait_until 60 agents_ready || fail "the agents did not register"

at "a Migration Manager task on the agents"
task=$(mm POST /api/mm/tasks \
    '{"name":"compose sample","source":"/share","destination":{"site":"/","library":"Documents"}}')
task_id=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$task")
task_done() {
    mm GET "/api/mm/tasks/$task_id" | python3 -c '
import json, sys
t = json.load(sys.stdin)
print(t["status"])
sys.exit(0 if t["status"] in ("Completed", "CompletedWithIssues", "Failed", "Cancelled") else 1)'
}
wait_until 120 task_done || fail "the task did not end"
status=$(mm GET "/api/mm/tasks/$task_id" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])')
[ "$status" = Completed ] || fail "the task ended $status"
got=$(curl -fsS -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$c_sp/_api/web/GetFileByServerRelativeUrl('/Shared%20Documents/Reports/q1.txt')/\$value")
[ "$got" = "Q1 numbers" ] || fail "compose read back '$got'"

at "podman-compose down"
compose down -v >>"$log" 2>&1
podman network rm -f "${project}_default" >>"$log" 2>&1 || true
compose_up=false
at "done"
