# tests/e2e/lib.sh - what the end-to-end tests share: TAP-like counters, the
# closing "N passed, M failed" line, and finding a python3 with pydicom.
# Sourced, not run; expects `set -euo pipefail` in the caller.
# Every run records itself in $XDG_DATA_HOME/medveil (audit log, jobs
# database): keep the tests out of the user's own records, one fresh folder
# per script (left in place after it for a look).
XDG_DATA_HOME="${MEDVEIL_BUILD:-${TMPDIR:-/tmp}/medveil-e2e-$(id -u)}/e2e-data/$(basename "$0" .sh)"
rm -rf "$XDG_DATA_HOME" && mkdir -p "$XDG_DATA_HOME" && export XDG_DATA_HOME
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { local msg=$1; shift; if "$@"; then ok "$msg"; else bad "$msg"; fi; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; }

# find_py [MODULE]: a python3 that imports MODULE (default pydicom). The
# python3 first on PATH may be a private one without Debian's packages.
find_py() {
  local c mod=${1:-pydicom}
  for c in "${PYTHON:-}" /usr/bin/python3 python3; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 &&
      "$c" -c "import $mod" >/dev/null 2>&1 && { echo "$c"; return 0; }
  done
  return 1
}
