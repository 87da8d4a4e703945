#!/usr/bin/env bash
# bench/run.sh: the Blob/Queue benchmark, spmigd against Azurite 3.35.0 in one run.
# Installs Azurite into bench/node_modules when missing, starts both servers on fresh temp
# dirs and free loopback ports, runs bench/azload against both (same loads, interleaved run by
# run), stops both and prints the markdown report. Every step has a time limit.
#
#   bench/run.sh [azload options]        e.g. bench/run.sh --runs 1 --small 500   (a quick look)
#
# Environment: SPMIGD (server binary, default build-bench/server/spmigd), AZLOAD (default
# build-bench/bench/azload, compiled here from bench/ and common/ if absent), BENCH_OUT (also
# write the report there), BENCH_MAX_SECONDS (load time limit, default 780), KEEP=1 (keep the
# temp dir with both data dirs, server logs and raw.tsv).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
spmigd=${SPMIGD:-$root/build-bench/server/spmigd}
azload=${AZLOAD:-$root/build-bench/bench/azload}
max_s=${BENCH_MAX_SECONDS:-780}
azurite_version=3.35.0

log() { printf '[run.sh] %s\n' "$*" >&2; }
fail() { log "error: $*"; exit 1; }

[ -x "$spmigd" ] || fail "no spmigd at $spmigd; build it: meson setup build-bench -Dbuildtype=release && ninja -C build-bench"
command -v node >/dev/null || fail "node is not installed (Azurite $azurite_version needs Node >= 18)"

work=$(mktemp -d "${TMPDIR:-/tmp}/spmig-bench.XXXXXX")
sp_pid='' az_pid=''
# shellcheck disable=SC2317 # called from the EXIT trap
stop() { # stop one of our servers by pid: TERM, up to 10 s, then KILL
    local pid=$1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317
cleanup() {
    stop "$sp_pid"
    stop "$az_pid"
    if [ "${KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Azurite, pinned, installed next to this script
if [ "$(node -p "try{require('$here/node_modules/azurite/package.json').version}catch(e){''}" 2>/dev/null)" != "$azurite_version" ]; then
    log "installing azurite@$azurite_version into bench/node_modules"
    (cd "$here" && timeout 600 npm install --no-save --no-audit --no-fund "azurite@$azurite_version" >&2) ||
        fail "npm install azurite@$azurite_version failed"
fi

# 2. the load generator (built by meson when bench/ is in the build; else compiled here)
if [ ! -x "$azload" ]; then
    log "no $azload; compiling bench/azload.c with common/ directly"
    cc -std=c17 -O2 -D_GNU_SOURCE -pthread -I"$root/common" -o "$work/azload" \
        "$here/azload.c" "$here/azhttp.c" \
        "$root"/common/{b64,crypto,hex,query,sas,strbuf,timefmt,xmalloc}.c -lcrypto ||
        fail "cannot compile azload"
    azload=$work/azload
fi

# 3. spmigd on a temp data dir, port 0 everywhere; its ready line names the ports
mkdir -p "$work/spmigd" "$work/azurite"
"$spmigd" --data-dir "$work/spmigd" --sp-port 0 --blob-port 0 --queue-port 0 \
    >"$work/spmigd.out" 2>"$work/spmigd.err" &
sp_pid=$!
for _ in $(seq 300); do
    grep -q '"ready":true' "$work/spmigd.out" 2>/dev/null && break
    kill -0 "$sp_pid" 2>/dev/null || fail "spmigd exited: $(tail -5 "$work/spmigd.err")"
    sleep 0.1
done
ready=$(grep -m1 '"ready":true' "$work/spmigd.out") || fail "spmigd not ready within 30 s"
sp_blob=$(sed -E 's/.*"blob":"([^"]+)".*/\1/' <<<"$ready")
sp_queue=$(sed -E 's/.*"queue":"([^"]+)".*/\1/' <<<"$ready")

# 4. Azurite on three free ports (it prints nothing with --silent: wait until they accept)
read -r az_b az_q az_t < <("$azload" --free-ports 3)
node "$here/node_modules/azurite/dist/src/azurite.js" --silent --location "$work/azurite" \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
    --blobPort "$az_b" --queuePort "$az_q" --tablePort "$az_t" \
    --disableTelemetry --skipApiVersionCheck >"$work/azurite.out" 2>&1 &
az_pid=$!
up=0
for _ in $(seq 600); do
    kill -0 "$az_pid" 2>/dev/null || fail "azurite exited: $(tail -5 "$work/azurite.out")"
    if (exec 3<>"/dev/tcp/127.0.0.1/$az_b") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$az_q") 2>/dev/null; then
        up=1
        break
    fi
    sleep 0.1
done
[ "$up" = 1 ] || fail "azurite did not listen within 60 s"
log "spmigd pid $sp_pid ($sp_blob, $sp_queue); azurite pid $az_pid (blob :$az_b, queue :$az_q)"

# 5. the loads, bounded: azload stops itself at max_s, timeout is the backstop
report=$work/report.md
status=0
timeout --kill-after=10 $((max_s + 120)) "$azload" --max-seconds "$max_s" --raw "$work/raw.tsv" \
    --scale-max azurite=10000 "$@" \
    "spmigd=$sp_blob,$sp_queue,$sp_pid" \
    "azurite=http://127.0.0.1:$az_b,http://127.0.0.1:$az_q,$az_pid" >"$report" || status=$?
[ "$status" = 0 ] || log "azload ended with status $status"

{
    echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $(free -m | awk '/^Mem:/{print $2}') MiB RAM; $(uname -sr); node $(node --version); azurite $azurite_version; spmigd $("$spmigd" --version 2>/dev/null | head -1)"
    echo
    cat "$report"
} >"$work/final.md"
cat "$work/final.md"
if [ -n "${BENCH_OUT:-}" ]; then cp "$work/final.md" "$BENCH_OUT"; fi
if [ "${KEEP:-0}" = 1 ]; then cp "$work/raw.tsv" "$work/raw.keep.tsv" 2>/dev/null || true; fi
exit "$status"
