#!/usr/bin/env bash
# Runs every test of spmig: the unit and end-to-end suites on a normal build, the same
# suites on an AddressSanitizer + UndefinedBehaviorSanitizer build, the libFuzzer targets for
# a bounded time, and the formatting check. Ends with one line "N passed, N failed".
# Needs the packages README.md lists (setup-and-run.sh or .ci/run install them).
set -uo pipefail
cd "$(dirname "$0")"

werror=false
[ "${CI:-}" = true ] && werror=true
status=0
builds=()
broken=0 # steps that failed outside a test runner (setup, build, formatting): each counts as failed

run_suite() { # name, setup args...
    local dir=$1
    shift
    builds+=("$dir")
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >/dev/null || { echo "meson setup $dir failed"; status=1; broken=$((broken + 1)); return; }
    fi
    ninja -C "$dir" || { echo "build $dir failed"; status=1; broken=$((broken + 1)); return; }
    meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
}

run_suite build -Dwerror=$werror
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite build-asan -Dwerror=$werror -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debug
if command -v clang >/dev/null; then
    CC=clang run_suite build-fuzz -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
        -Db_lundef=false -Dfuzz_seconds="${FUZZ_SECONDS:-20}"
else
    echo "clang not found: fuzz targets not run"
    status=1
    broken=$((broken + 1))
fi

# Formatting: every C file must match .clang-format.
unformatted=$(git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror 2>&1 | grep -c 'error:' || true)
if [ "$unformatted" != 0 ]; then
    echo "clang-format: $unformatted formatting problems (run: git ls-files '*.c' '*.h' | xargs clang-format -i)"
    status=1
    broken=$((broken + 1))
fi

/usr/bin/python3 - "$broken" "${builds[@]}" <<'PY'
import json, os, sys
passed, failed = 0, int(sys.argv[1])
for d in sys.argv[2:]:
    path = os.path.join(d, 'meson-logs', 'testlog.json')
    if not os.path.exists(path):
        continue
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line).get('result')
            if r in ('OK', 'EXPECTEDFAIL', 'SKIP'):
                passed += r != 'SKIP'
            else:
                failed += 1
print(f"{passed} passed, {failed} failed")
PY
exit $status
