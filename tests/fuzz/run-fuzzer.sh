#!/bin/sh
# Runs one libFuzzer target for a bounded time on a scratch copy of its seed corpus, so
# the checked-in seeds are never modified. Usage: run-fuzzer.sh FUZZER SEED_DIR SECONDS
set -eu
fuzzer=$1 seeds=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$seeds"/. "$work"/
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
    -artifact_prefix="$work/" -print_final_stats=1 "$work"
