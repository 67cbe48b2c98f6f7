#!/usr/bin/env bash
# test_consistency.sh - same key, same output; different key, different
# output; exit codes, reports, and what a failed run leaves behind.
#
#   MEDVEIL=build/medveil MEDVEIL_SRC=. bash tests/e2e/test_consistency.sh
#
# - the same key in two separate runs, in two batches (inputs split over two
#   runs into one OUT), and with --jobs 1 / --jobs 2: byte-identical trees;
# - another key: no pseudonym, UID or output path in common;
# - exit 0 for an all-ok batch, 1 with a bad file (random bytes, a truncated
#   CT), 2 for a missing key / bad rules / report inside OUT, and then OUT
#   holds no file; report JSON rows and statuses; no temp files in OUT;
# - `rules check` on a rule file with a misspelled keyword exits nonzero and
#   names file:line.
set -euo pipefail

: "${MEDVEIL:?set MEDVEIL to the medveil binary}"
SRC=${MEDVEIL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"

if ! PY=$(find_py); then bad "python3 with pydicom not found (apt-get install python3-pydicom)"; finish; exit 1; fi
if [ ! -x "$MEDVEIL" ]; then bad "MEDVEIL=$MEDVEIL is not executable"; finish; exit 1; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/medveil-consistency.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SEED=${PLANT_SEED:-$(( (RANDOM << 15) | RANDOM ))}
echo "# plant seed $SEED, workdir $WORK"
"$PY" "$SRC/tests/gen/plant_phi.py" --out "$WORK/in" --manifest "$WORK/manifest.json" \
  --seed "$SEED" --quiet || { bad "plant_phi.py failed"; finish; exit 1; }
if ! { "$MEDVEIL" keygen "$WORK/k1" >/dev/null && "$MEDVEIL" keygen "$WORK/k2" >/dev/null; }; then
  bad "keygen failed"; finish; exit 1
fi
check "keygen writes mode 0600" test "$(stat -c %a "$WORK/k1")" = 600
# shellcheck disable=SC2016  # $1/$2 belong to the inner shell
check "two keygens differ" bash -c '! cmp -s "$1" "$2"' _ "$WORK/k1" "$WORK/k2"

PD_DIR=$("$PY" -c 'import os, pydicom; print(os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files"))')
RC=0
# run NAME ARGS... : medveil run with --out WORK/NAME --report WORK/NAME.json
run() {
  local name=$1; shift
  set +e
  "$MEDVEIL" run --out "$WORK/$name" --report "$WORK/$name.json" "$@" >"$WORK/$name.log" 2>&1
  RC=$?
  set -e
  if [ "$RC" -gt 2 ]; then echo "#   $name: exit $RC: $(tail -n 3 "$WORK/$name.log" | head -c 400)"; fi
}
nfiles() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }
same_tree() { diff -r "$1" "$2" >"$WORK/diff.log" 2>&1 || { head -n 5 "$WORK/diff.log" | sed 's/^/#   /'; return 1; }; }

# report_ok REPORT OUT N_INPUTS: JSON shape, statuses, outputs exist, reasons, no stray files
report_ok() {
  "$PY" - "$@" <<'PYEOF'
import json, os, sys
rep, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
errs = []
try:
    R = json.load(open(rep, encoding="utf-8"))
except Exception as e:
    print("#   report unreadable: %s" % e); sys.exit(1)
rows = R.get("files") if isinstance(R, dict) else None
if not isinstance(rows, list):
    print("#   report has no files[]"); sys.exit(1)
if "summary" not in R:
    errs.append("no summary")
if len(rows) != n:
    errs.append("%d rows for %d inputs" % (len(rows), n))
want = set()
for r in rows:
    st = r.get("status")
    if st not in ("ok", "rejected", "review"):
        errs.append("bad status %r" % st)
    if st == "ok":
        o = r.get("output") or ""
        if os.path.isabs(o) or not os.path.isfile(os.path.join(out, o)):
            errs.append("ok row without output file: %r" % o)
        want.add(os.path.normpath(o))
    elif not r.get("reason"):
        errs.append("%s row without reason" % st)
have = set()
for root, _, names in os.walk(out):
    for nm in names:
        have.add(os.path.relpath(os.path.join(root, nm), out))
stray = sorted(have - want)
if stray:
    errs.append("files in OUT not named by an ok row (temp files?): %s" % stray[:5])
for e in errs[:8]:
    print("#   " + e)
sys.exit(1 if errs else 0)
PYEOF
}

# status_of REPORT BASENAME -> status of the row whose input ends with /BASENAME
status_of() {
  "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
R = json.load(open(sys.argv[1], encoding="utf-8"))
for r in R.get("files", []):
    if r.get("input", "").endswith("/" + sys.argv[2]) or r.get("input") == sys.argv[2]:
        print(r.get("status")); break
else:
    print("none")
PYEOF
}

ALL=$(find "$WORK/in" -type f -name '*.dcm' | wc -l)

# ---- same key, separate runs -------------------------------------------------
run full1 --rules basic --key "$WORK/k1" "$WORK/in"; rc1=$RC
run full2 --rules basic --key "$WORK/k1" "$WORK/in"; rc2=$RC
check "basic run exit 0/1 (got $rc1)" test "$rc1" -le 1
check "same key, two runs: same exit code" test "$rc1" = "$rc2"
check "run produced outputs" test "$(nfiles "$WORK/full1")" -gt 5
check "same key, two runs: byte-identical trees" same_tree "$WORK/full1" "$WORK/full2"
check "report: JSON rows, statuses, outputs, reasons, no stray files" \
  report_ok "$WORK/full1.json" "$WORK/full1" "$ALL"

# ---- same key, two batches into one OUT (cross-batch references) --------------
mapfile -d '' files < <(find "$WORK/in" -type f -name '*.dcm' -print0 | sort -z)
b1=() b2=()
for i in "${!files[@]}"; do if (( i % 2 )); then b1+=("${files[$i]}"); else b2+=("${files[$i]}"); fi; done
run split --rules basic --key "$WORK/k1" "${b1[@]}"
mv "$WORK/split.json" "$WORK/split1.json"
run split --rules basic --key "$WORK/k1" "${b2[@]}"
check "same key, inputs split over two runs: same tree as one run" same_tree "$WORK/full1" "$WORK/split"

# ---- jobs ------------------------------------------------------------------------
run jobs1 --rules basic --key "$WORK/k1" --jobs 1 "$WORK/in"
run jobs2 --rules basic --key "$WORK/k1" --jobs 2 "$WORK/in"
check "--jobs 1 and --jobs 2: byte-identical trees" same_tree "$WORK/jobs1" "$WORK/jobs2"
check "--jobs 2 report valid" report_ok "$WORK/jobs2.json" "$WORK/jobs2" "$ALL"
run research1 --rules research --key "$WORK/k1" --jobs 1 "$WORK/in"
run research2 --rules research --key "$WORK/k1" --jobs 2 "$WORK/in"
check "research (date shift): --jobs 1 and --jobs 2 identical" same_tree "$WORK/research1" "$WORK/research2"

# ---- awkward inputs: objects without SOP Instance UID, two inputs for one output ------
# Real exports have both (the shared corpus: meta_missing_tsyntax.dcm, the same image
# in several transfer syntaxes).  Whatever medveil decides, it must decide the
# same way every time: same tree, same status per input, with 1 or 2 jobs.
"$PY" - "$PD_DIR" "$WORK/src-awkward" <<'PYEOF'
import os, sys
import pydicom
from pydicom.uid import generate_uid
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
for i in range(4):
    uid = generate_uid(prefix="1.2.826.0.1.3680043.8.498.99.")
    for v in "ab":
        ds = pydicom.dcmread(os.path.join(src, "CT_small.dcm"))
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.InstanceNumber = i + 1
        if v == "a":  # same SOP UID, different content; "a" (first by name) is slow to process
            items = []
            for k in range(20000):
                it = Dataset()
                it.CodeValue, it.CodingSchemeDesignator, it.CodeMeaning = "T-%05d" % k, "SRT", "R%d" % k
                items.append(it)
            ds.AnatomicRegionSequence = Sequence(items)
        ds.save_as(os.path.join(out, "dup%d%s.dcm" % (i, v)))
for i in range(3):
    ds = pydicom.dcmread(os.path.join(src, "MR_small.dcm"))
    del ds.SOPInstanceUID
    if i == 2:  # and no MediaStorageSOPInstanceUID either
        del ds.file_meta.MediaStorageSOPInstanceUID
    ds.InstanceNumber = i + 1
    ds.save_as(os.path.join(out, "nosop%d.dcm" % i))
PYEOF
statuses() {
  "$PY" -c 'import json, os, sys
for r in sorted(json.load(open(sys.argv[1]))["files"], key=lambda r: r["input"]):
    print(os.path.basename(r["input"]), r["status"], r.get("output", ""))' "$1"
}
for r in a1 a2; do run awk_$r --rules basic --key "$WORK/k1" --jobs 1 "$WORK/src-awkward"; done
for r in b1 b2 b3; do run awk_$r --rules basic --key "$WORK/k1" --jobs 2 "$WORK/src-awkward"; done
check "no SOP UID / duplicate SOP UID: two --jobs 1 runs identical" same_tree "$WORK/awk_a1" "$WORK/awk_a2"
awk_same=0
for r in b1 b2 b3; do same_tree "$WORK/awk_a1" "$WORK/awk_$r" >/dev/null 2>&1 &&
  [ "$(statuses "$WORK/awk_a1.json")" = "$(statuses "$WORK/awk_$r.json")" ] && awk_same=$((awk_same + 1)); done
check "no SOP UID / duplicate SOP UID: --jobs 2 (3 runs) same tree and statuses as --jobs 1 ($awk_same/3)" \
  test "$awk_same" -eq 3
nonkeyed() {  # every UID in the file meta / SOP of the outputs is keyed (2.25.)
  local f bad=0
  while IFS= read -r -d '' f; do
    if dcmdump -q "$f" 2>/dev/null | grep -E '^\((0002,0003|0008,0018)\)' | grep -vq '\[2\.25\.'; then
      bad=$((bad + 1)); echo "#   not a keyed UID: $(dcmdump -q "$f" | grep -E '^\(0002,0003\)' | head -c 120)"
    fi
  done < <(find "$WORK/awk_a1" -type f -print0)
  [ "$bad" -eq 0 ]
}
check "no SOP UID: MediaStorageSOPInstanceUID is keyed (2.25.), not made up by the writer" nonkeyed

# ---- another key --------------------------------------------------------------------
run other --rules basic --key "$WORK/k2" "$WORK/in"
diffkey() {
  "$PY" - "$WORK/full1" "$WORK/other" <<'PYEOF'
import os, sys
import pydicom
def scan(d):
    parts, vals = set(), set()
    for root, _, names in os.walk(d):
        for nm in names:
            p = os.path.join(root, nm)
            parts.update(os.path.relpath(p, d).split(os.sep))
            ds = pydicom.dcmread(p, stop_before_pixels=True)
            for kw in ("PatientName", "PatientID", "StudyInstanceUID", "SeriesInstanceUID",
                       "SOPInstanceUID", "FrameOfReferenceUID"):
                v = str(ds.get(kw, "")).strip()
                if v:
                    vals.add((kw, v))
    return parts, vals
p1, v1 = scan(sys.argv[1])
p2, v2 = scan(sys.argv[2])
common = sorted(v1 & v2)
cparts = sorted(p1 & p2)
for c in common[:5]:
    print("#   same with both keys: %s=%s" % c)
for c in cparts[:5]:
    print("#   same path component with both keys: %s" % c)
sys.exit(1 if (common or cparts or not v1) else 0)
PYEOF
}
check "another key: no pseudonym, UID or path component in common" diffkey
check "another key: same number of outputs" test "$(nfiles "$WORK/other")" = "$(nfiles "$WORK/full1")"

# ---- exit codes -------------------------------------------------------------------------
PD=$PD_DIR
mkdir -p "$WORK/src-good" "$WORK/src-mixed"
cp "$PD/CT_small.dcm" "$WORK/src-good/ct.dcm"
cp "$PD/MR_small.dcm" "$WORK/src-good/mr.dcm"
cp "$PD/CT_small.dcm" "$PD/MR_small.dcm" "$WORK/src-mixed/"
head -c 4096 /dev/urandom >"$WORK/src-mixed/x.dcm"
head -c 20000 "$PD/CT_small.dcm" >"$WORK/src-mixed/truncated_ct.dcm"
run good --rules basic --key "$WORK/k1" "$WORK/src-good"
check "all-ok batch: exit 0 (got $RC)" test "$RC" -eq 0
check "all-ok batch: 2 outputs" test "$(nfiles "$WORK/good")" -eq 2
run mixed --rules basic --key "$WORK/k1" "$WORK/src-mixed"
check "batch with bad files: exit 1 (got $RC)" test "$RC" -eq 1
check "batch with bad files: report valid, no temp files left in OUT" \
  report_ok "$WORK/mixed.json" "$WORK/mixed" 4
check "random bytes x.dcm rejected" test "$(status_of "$WORK/mixed.json" x.dcm)" = rejected
check "truncated CT rejected" test "$(status_of "$WORK/mixed.json" truncated_ct.dcm)" = rejected
check "good neighbours ok" test "$(status_of "$WORK/mixed.json" CT_small.dcm)$(status_of "$WORK/mixed.json" MR_small.dcm)" = okok
check "no hidden/temp files in OUT" test -z "$(find "$WORK/mixed" -type f \( -name '.*' -o ! -name '*.dcm' \) 2>/dev/null)"

run nokey --rules basic --key "$WORK/no-such-key" "$WORK/src-good"
check "missing key: exit 2 (got $RC)" test "$RC" -eq 2
check "missing key: OUT has no files" test "$(nfiles "$WORK/nokey")" -eq 0
printf 'return {\n  tags = {\n' >"$WORK/broken.lua"
run badrules --rules "$WORK/broken.lua" --key "$WORK/k1" "$WORK/src-good"
check "unparseable rules file: exit 2 (got $RC)" test "$RC" -eq 2
check "unparseable rules file: OUT has no files" test "$(nfiles "$WORK/badrules")" -eq 0
run noprofile --rules no-such-profile --key "$WORK/k1" "$WORK/src-good"
check "unknown profile name: exit 2 (got $RC)" test "$RC" -eq 2
mkdir -p "$WORK/inside"
set +e
"$MEDVEIL" run --rules basic --key "$WORK/k1" --out "$WORK/inside" \
  --report "$WORK/inside/report.json" "$WORK/src-good" >"$WORK/inside.log" 2>&1
RC=$?
set -e
check "report inside OUT: exit 2 (got $RC)" test "$RC" -eq 2
check "report inside OUT: nothing written" test "$(nfiles "$WORK/inside")" -eq 0

# ---- rules check: misspelled keyword -> file:line ----------------------------------------
# Take a bundled rule file that names PatientName (a site example first), so
# the test follows the real rule API; fall back to the DESIGN.md sketch.
base=""
for f in "$SRC"/rules/site*.lua "$SRC"/examples/*.lua "$SRC"/rules/*.lua; do
  [ -f "$f" ] && grep -q 'PatientName *=' "$f" && { base=$f; break; }
done
if [ -n "$base" ]; then
  cp "$base" "$WORK/good_rules.lua"
  echo "# rule file template: ${base#"$SRC"/}"
else
  cat >"$WORK/good_rules.lua" <<'EOF'
local mv = require "medveil"
return mv.profile "basic" {
  tags = {
    PatientName = mv.pseudonym "SUBJ",
  },
}
EOF
fi
line=$(grep -n -m1 'PatientName *=' "$WORK/good_rules.lua" | cut -d: -f1)
sed "${line}s/PatientName/PatientNmae/" "$WORK/good_rules.lua" >"$WORK/typo_rules.lua"
set +e
"$MEDVEIL" rules check "$WORK/good_rules.lua" >"$WORK/check-good.log" 2>&1; rcg=$?
"$MEDVEIL" rules check "$WORK/typo_rules.lua" >"$WORK/check-typo.log" 2>&1; rct=$?
set -e
check "rules check: control file (correct keyword) exits 0 (got $rcg)" test "$rcg" -eq 0
check "rules check: misspelled keyword exits nonzero (got $rct)" test "$rct" -ne 0
check "rules check: names typo_rules.lua:$line" grep -q "typo_rules.lua:$line" "$WORK/check-typo.log"
check "rules check: mentions PatientNmae" grep -q "PatientNmae" "$WORK/check-typo.log"
run typo --rules "$WORK/typo_rules.lua" --key "$WORK/k1" "$WORK/src-good"
check "run with misspelled rules: exit 2 (got $RC), OUT has no files" \
  test "$RC" -eq 2 -a "$(nfiles "$WORK/typo")" -eq 0

finish
