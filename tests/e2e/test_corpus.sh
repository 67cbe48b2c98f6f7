#!/usr/bin/env bash
# test_corpus.sh - run the basic profile over the shared corpus of real files
# (../shared/corpus beside the repo) when it is there; skip (and pass) when not.
#
#   MEDVEIL=build/medveil MEDVEIL_SRC=. bash tests/e2e/test_corpus.sh
#
# 1. corpus/dicom (hundreds of files, many vendors and transfer syntaxes);
# 2. corpus/bad (files that break parsers) mixed with 3 files that were ok in 1.
# Each: exit 0 or 1 (not a signal, not a hang: CORPUS_TIMEOUT, default 900 s),
# one report row per input, every ok output parses with dcmdump -q, every
# non-ok row has a reason, the good neighbours are ok, OUT holds only the
# outputs named by the report (no temp files), the inputs are left unchanged.
set -euo pipefail

: "${MEDVEIL:?set MEDVEIL to the medveil binary}"
SRC=${MEDVEIL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
CORPUS=${MEDVEIL_CORPUS:-$SRC/../shared/corpus}
if [ ! -d "$CORPUS/dicom" ]; then
  echo "skipped: no shared corpus ($CORPUS)"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
CORPUS=$(cd "$CORPUS" && pwd)
TIMEOUT=${CORPUS_TIMEOUT:-900}
. "$(dirname "$0")/lib.sh"

PY=$(find_py json) || { bad "python3 not found"; finish; exit 1; }
[ -x "$MEDVEIL" ] || { bad "MEDVEIL=$MEDVEIL is not executable"; finish; exit 1; }
command -v dcmdump >/dev/null || { bad "dcmdump not found (apt-get install dcmtk)"; finish; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/medveil-corpus.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
"$MEDVEIL" keygen "$WORK/key" >/dev/null || { bad "keygen failed"; finish; exit 1; }

# inspect REPORT OUT NINPUTS: prints "ok rejected review" counts, the ok outputs
# (one per line, NUL-separated into WORK/ok.list), and problems (lines "#   ...")
inspect() {
  "$PY" - "$@" <<'PYEOF'
import json, os, sys
rep, out, n, lst = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
errs = []
try:
    R = json.load(open(rep, encoding="utf-8", errors="surrogateescape"))
    rows = R["files"]
except Exception as e:
    print("0 0 0")
    print("#   report unreadable: %s" % e)
    sys.exit(1)
cnt = {"ok": 0, "rejected": 0, "review": 0}
named = set()
with open(lst, "wb") as fh:
    for r in rows:
        st = r.get("status")
        if st not in cnt:
            errs.append("bad status %r for %s" % (st, r.get("input")))
            continue
        cnt[st] += 1
        if st == "ok":
            o = os.path.normpath(r.get("output") or "")
            p = os.path.join(out, o)
            if not os.path.isfile(p):
                errs.append("ok without output file: %s" % r.get("input"))
            else:
                named.add(o)
                fh.write(os.fsencode(p) + b"\0")
        elif not str(r.get("reason") or "").strip():
            errs.append("%s without reason: %s" % (st, r.get("input")))
have = set()
for root, _, names in os.walk(out):
    for nm in names:
        have.add(os.path.relpath(os.path.join(root, nm), out))
stray = sorted(have - named)
if stray:
    errs.append("%d files in OUT not named by an ok row (temp files?): %s" % (len(stray), stray[:3]))
if len(rows) != n:
    errs.append("%d report rows for %d input files" % (len(rows), n))
print("%d %d %d" % (cnt["ok"], cnt["rejected"], cnt["review"]))
for e in errs[:10]:
    print("#   " + e)
sys.exit(1 if errs else 0)
PYEOF
}

# corpus_run NAME INPUT...: run basic with a timeout; sets RC and SECS
corpus_run() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  set +e
  timeout -k 10 "$TIMEOUT" "$MEDVEIL" run --rules basic --key "$WORK/key" --jobs 2 \
    --out "$WORK/$name" --report "$WORK/$name.json" "$@" >"$WORK/$name.log" 2>&1
  RC=$?
  set -e
  t1=$(date +%s.%N)
  SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
}

# parse_all LIST: dcmdump -q every NUL-separated path; prints failures
parse_all() {
  local f n=0 nbad=0
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    if ! timeout 60 dcmdump -q "$f" >/dev/null 2>&1; then
      nbad=$((nbad + 1)); [ "$nbad" -le 5 ] && echo "#   does not parse: ${f#"$WORK"/}"
    fi
  done <"$1"
  [ "$nbad" -eq 0 ]
}

digest() { find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum; }

verdict() {  # NAME: exit code must be 0/1
  case $RC in
    0 | 1) ok "$1: exit $RC in ${SECS}s" ;;
    124 | 137) bad "$1: timed out after ${TIMEOUT}s (hang?)" ;;
    *) if [ "$RC" -gt 128 ]; then bad "$1: killed by signal $((RC - 128)): $(tail -n 2 "$WORK/$1.log" | head -c 300)"
       else bad "$1: exit $RC: $(tail -n 2 "$WORK/$1.log" | head -c 300)"; fi ;;
  esac
}

# ---- 1. corpus/dicom ---------------------------------------------------------------
n1=$(find "$CORPUS/dicom" -type f | wc -l)
before=$(digest "$CORPUS/dicom")
corpus_run dicom "$CORPUS/dicom"
verdict dicom
if [ -f "$WORK/dicom.json" ]; then
  set +e; res=$(inspect "$WORK/dicom.json" "$WORK/dicom" "$n1" "$WORK/dicom.list"); irc=$?; set -e
  read -r c_ok c_rej c_rev <<<"$(head -n 1 <<<"$res")"
  tail -n +2 <<<"$res"
  echo "# corpus/dicom: $n1 inputs: $c_ok ok, $c_rej rejected, $c_rev review (${SECS}s)"
  check "dicom: one report row per input, reasons, no stray files in OUT" test "$irc" -eq 0
  check "dicom: most files ok ($c_ok of $n1)" test "$c_ok" -ge $((n1 / 2))
  check "dicom: every ok output parses (dcmdump -q)" parse_all "$WORK/dicom.list"
else
  bad "dicom: no report written"
fi
check "dicom: inputs unchanged" test "$before" = "$(digest "$CORPUS/dicom")"
# real exports hold duplicates (one image in several transfer syntaxes) and
# objects without UIDs: the result must not depend on thread timing. When two
# inputs share a SOP Instance UID, which of them takes <sop>.dcm and which the
# content-named variant <sop>~<digest>.dcm follows completion order, so the
# comparison is by content per folder and by status per input.
rows() {
  "$PY" -c 'import json, sys
for r in sorted(json.load(open(sys.argv[1]))["files"], key=lambda r: r["input"]):
    print(r["input"], r["status"], r.get("output", "").split("~")[0].removesuffix(".dcm"))' "$1"
}
contents() {
  (cd "$1" && find . -name '*.dcm' -type f -print0 | sort -z |
     xargs -0 -r sha256sum | awk '{ d = $2; sub(/\/[^\/]*$/, "", d); print d, $1 }' | sort)
}
if [ -f "$WORK/dicom.json" ]; then
  timeout -k 10 "$TIMEOUT" "$MEDVEIL" run --rules basic --key "$WORK/key" --jobs 1 \
    --out "$WORK/dicom_j1" --report "$WORK/dicom_j1.json" "$CORPUS/dicom" >/dev/null 2>&1 || true
  samej() {
    local n
    rows "$WORK/dicom.json" >"$WORK/rows2"; rows "$WORK/dicom_j1.json" >"$WORK/rows1"
    n=$(diff "$WORK/rows1" "$WORK/rows2" | grep -c '^<' || true)
    [ "$n" -eq 0 ] || echo "#   $n report rows differ, e.g. $(diff "$WORK/rows1" "$WORK/rows2" | grep -m1 '^<' | cut -c1-150)"
    contents "$WORK/dicom_j1" >"$WORK/c1"; contents "$WORK/dicom" >"$WORK/c2"
    n=$(diff "$WORK/c1" "$WORK/c2" | grep -c '^<' || true)
    [ "$n" -eq 0 ] || echo "#   $n output files differ, e.g. $(diff "$WORK/c1" "$WORK/c2" | grep -m1 '^<' | cut -c1-150)"
    cmp -s "$WORK/rows1" "$WORK/rows2" && cmp -s "$WORK/c1" "$WORK/c2"
  }
  check "dicom: --jobs 1 gives the same tree and statuses as --jobs 2" samej
fi

# ---- 2. corpus/bad + 3 good neighbours ----------------------------------------------------
good=()
if [ -f "$WORK/dicom.json" ]; then
  mapfile -t good < <("$PY" - "$WORK/dicom.json" <<'PYEOF'
import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))["files"]
for r in [r for r in rows if r.get("status") == "ok"][:3]:
    print(r["input"])
PYEOF
  )
fi
if [ "${#good[@]}" -lt 3 ]; then
  PD=$("$PY" -c 'import os, pydicom; print(os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files"))' 2>/dev/null || true)
  good=("$PD/CT_small.dcm" "$PD/MR_small.dcm" "$PD/rtplan.dcm")
fi
mkdir -p "$WORK/good"
for i in "${!good[@]}"; do cp "${good[$i]}" "$WORK/good/good$i.dcm"; done
n2=$(( $(find "$CORPUS/bad" -type f | wc -l) + ${#good[@]} ))
before=$(digest "$CORPUS/bad")
corpus_run bad "$CORPUS/bad" "$WORK/good"
verdict bad
if [ -f "$WORK/bad.json" ]; then
  set +e; res=$(inspect "$WORK/bad.json" "$WORK/bad" "$n2" "$WORK/bad.list"); irc=$?; set -e
  read -r c_ok c_rej c_rev <<<"$(head -n 1 <<<"$res")"
  tail -n +2 <<<"$res"
  echo "# corpus/bad + ${#good[@]} good: $n2 inputs: $c_ok ok, $c_rej rejected, $c_rev review (${SECS}s)"
  check "bad: one report row per input, reasons, no stray files in OUT" test "$irc" -eq 0
  check "bad: exit 1 (some rejected)" test "$RC" -eq 1
  check "bad: every ok output parses (dcmdump -q)" parse_all "$WORK/bad.list"
  goodok() {
    "$PY" - "$WORK/bad.json" <<'PYEOF'
import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))["files"]
g = [r for r in rows if "/good/good" in r.get("input", "")]
for r in g:
    if r.get("status") != "ok":
        print("#   good neighbour %s: %s %s" % (r["input"], r.get("status"), r.get("reason")))
sys.exit(0 if len(g) == 3 and all(r.get("status") == "ok" for r in g) else 1)
PYEOF
  }
  check "bad: the 3 good neighbours are ok" goodok
  "$PY" - "$WORK/bad.json" <<'PYEOF' || true
import json, os, sys
for r in json.load(open(sys.argv[1], encoding="utf-8"))["files"]:
    if "/good/good" not in r.get("input", ""):
        print("#   %-45s %-8s %s" % (os.path.basename(r.get("input", "")), r.get("status"),
                                   str(r.get("reason") or "")[:70]))
PYEOF
else
  bad "bad: no report written"
fi
check "bad: inputs unchanged" test "$before" = "$(digest "$CORPUS/bad")"

finish
