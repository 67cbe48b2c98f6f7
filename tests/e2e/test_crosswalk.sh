#!/usr/bin/env bash
# test_crosswalk.sh - the sealed crosswalk, end to end.
#
#   MEDVEIL=build/medveil MEDVEIL_SRC=. bash tests/e2e/test_crosswalk.sh
#
# - keygen --recipient writes PREFIX.pub 0644 and PREFIX.key 0600, prints a
#   fingerprint, never overwrites; plain keygen FILE still works;
# - run: --crosswalk without --recipient (and the reverse) and a secret key
#   as --recipient are refused with exit 2 before any data is read;
# - run --jobs 2 --crosswalk: one sealed line per object, no planted value
#   in clear in the file (raw, or in any base64-decoded line), nor in logs;
# - lookup by SUBJ pseudonym -> original PatientID; by output path (full
#   and relative) and by new SOPInstanceUID -> the right input;
# - a wrong secret key: "sealed for recipient X; this key is Y", exit 2;
#   a secret key readable by others is refused;
# - two runs' crosswalks concatenated (cat) are looked up fine; inputs that
#   share a SOP Instance UID get renamed outputs (almost always: see below), and lookup by each final
#   path finds the record whose output SHA-256 is that file's;
# - a damaged line is reported by number, the other records still read;
# - export --out CSV: one row per object, parsed by Python's csv;
# - with the shared corpus: every ok/review row of a corpus run is in the
#   export, and no original PatientID is in clear.
set -euo pipefail

: "${MEDVEIL:?set MEDVEIL to the medveil binary}"
SRC=${MEDVEIL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARED=${MEDVEIL_SHARED:-/work/shared}
. "$(dirname "$0")/lib.sh"

if ! PY=$(find_py); then bad "python3 with pydicom not found"; finish; exit 1; fi
if [ ! -x "$MEDVEIL" ]; then bad "MEDVEIL=$MEDVEIL is not executable"; finish; exit 1; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/medveil-crosswalk.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
TAG=$(( (RANDOM << 15) | RANDOM ))
echo "# workdir $WORK, tag $TAG"

# --- fixtures: distinct patients (set 1 and 2), and pairs that share a SOP
# Instance UID with different pixels (set 2) so the batch renames outputs.
"$PY" - "$TAG" <<'PYEOF' || { bad "fixture generation failed"; finish; exit 1; }
import json, os, sys
import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid
tag = sys.argv[1]
src = get_testdata_file("CT_small.dcm")
planted = []
def make(path, i, name, pid, acc, study, series, sop, pixel_bump=0):
    ds = pydicom.dcmread(src)
    ds.PatientName = name
    ds.PatientID = pid
    ds.AccessionNumber = acc
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.SOPInstanceUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = sop
    if pixel_bump:
        arr = bytearray(ds.PixelData)
        arr[100] = (arr[100] + pixel_bump) % 256
        ds.PixelData = bytes(arr)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ds.save_as(path)
    planted.append({"file": os.path.abspath(path), "name": name, "pid": pid,
                    "acc": acc, "study": study, "series": series, "sop": sop})
for i in range(4):
    make("in1/f%d.dcm" % i, i, "XWNAME%s%d^ALPHA" % (tag, i), "XWPID%s%d" % (tag, i),
         "XWA%s%d" % (tag, i), generate_uid(), generate_uid(), generate_uid())
for i in range(2):
    make("in2/g%d.dcm" % i, i, "XWNAMEB%s%d^BETA" % (tag, i), "XWPIDB%s%d" % (tag, i),
         "XWAB%s%d" % (tag, i), generate_uid(), generate_uid(), generate_uid())
# five groups of three: same patient, study, series and SOP UID, different
# pixels. The batch keeps all three and gives the plain name to the smallest
# digest; the first placed is not the smallest with odds 2/3 per group.
for p in range(5):
    study, series, sop = generate_uid(), generate_uid(), generate_uid()
    for k in range(3):
        make("in2/pair%d_%d.dcm" % (p, k), p, "XWNAMEP%s%d^GAMMA" % (tag, p),
             "XWPIDP%s%d" % (tag, p), "XWAP%s%d" % (tag, p), study, series, sop,
             pixel_bump=k + 1)
json.dump(planted, open("planted.json", "w"))
PYEOF

# --- keys
"$MEDVEIL" keygen site.key >/dev/null || { bad "site keygen failed"; finish; exit 1; }
check "plain keygen FILE still writes a 0600 site key" test "$(stat -c %a site.key)" = 600
set +e
"$MEDVEIL" keygen --recipient office >kg.out 2>&1; RC=$?
set -e
check "keygen --recipient exits 0" test "$RC" -eq 0
check "PREFIX.pub is 0644" test "$(stat -c %a office.pub 2>/dev/null)" = 644
check "PREFIX.key is 0600" test "$(stat -c %a office.key 2>/dev/null)" = 600
FP=$(awk '/recipient fingerprint/ {print $3}' kg.out)
check "keygen prints a 16-hex fingerprint" bash -c '[[ "$1" =~ ^[0-9a-f]{16}$ ]]' _ "$FP"
# the fingerprint is not the key: neither key file holds it
check "fingerprint is not in either key file" bash -c '! grep -q -F "$1" office.pub office.key' _ "$FP"
cp office.key office.key.orig
set +e
"$MEDVEIL" keygen --recipient office >kg2.out 2>&1; RC=$?
set -e
check "keygen --recipient refuses to overwrite" test "$RC" -ne 0
check "refusal says why" grep -q "refusing to overwrite" kg2.out
check "existing secret key untouched" cmp -s office.key office.key.orig
"$MEDVEIL" keygen --recipient other >other.out 2>&1 || bad "second keygen --recipient failed"
FPO=$(awk '/recipient fingerprint/ {print $3}' other.out)
check "two recipients have different fingerprints" test "$FP" != "$FPO"

RC=0
run() { # run NAME ARGS...: medveil run into WORK/NAME, report NAME.json
  local name=$1; shift
  set +e
  "$MEDVEIL" run --rules research --key site.key --out "$name" \
    --report "$name.json" --quiet "$@" >"$name.log" 2>&1
  RC=$?
  set -e
}

# --- refusals before any data
run bad1 --crosswalk cw-bad.mvx in1
check "--crosswalk without --recipient: exit 2" test "$RC" -eq 2
check "... says they go together" grep -q -- "--recipient" bad1.log
check "... no report written" test ! -e bad1.json
run bad2 --recipient office.pub in1
check "--recipient without --crosswalk: exit 2" test "$RC" -eq 2
check "... no report written" test ! -e bad2.json
run bad3 --crosswalk cw-bad.mvx --recipient office.key in1
check "secret key as --recipient: exit 2" test "$RC" -eq 2
check "... says it is the secret key" grep -q "SECRET" bad3.log
check "... no crosswalk written" test ! -e cw-bad.mvx
run bad4 --crosswalk bad4/cw.mvx --recipient office.pub in1
check "crosswalk inside OUT: exit 2" test "$RC" -eq 2

# --- run 1
run out1 --jobs 2 --crosswalk cw1.mvx --recipient office.pub in1
check "run 1 with crosswalk exits 0" test "$RC" -eq 0
[ "$RC" -eq 0 ] || sed 's/^/#   /' out1.log
check "crosswalk file is 0600" test "$(stat -c %a cw1.mvx 2>/dev/null)" = 600
N1=$(awk 'END {print NR}' cw1.mvx 2>/dev/null || echo 0)
check "one line per object in run 1 (4, got $N1)" test "$N1" -eq 4
check "every line is MVX1 <recipient fingerprint> <base64>" \
  awk -v fp="$FP" '$1 != "MVX1" || $2 != fp || NF != 3 || $3 !~ /^[A-Za-z0-9+\/]+=*$/ {bad=1} END {exit bad}' cw1.mvx

# --- run 2 (into another OUT), with the colliding pairs
run out2 --jobs 2 --crosswalk cw2.mvx --recipient office.pub in2
check "run 2 exits 0" test "$RC" -eq 0
[ "$RC" -eq 0 ] || sed 's/^/#   /' out2.log
cat cw1.mvx cw2.mvx >cw.mvx

# --- nothing in clear
"$PY" - cw1.mvx cw2.mvx cw.mvx out1.log out2.log <<'PYEOF' >clear.log 2>&1 && ok "no planted value in clear in crosswalks (raw and base64-decoded) or logs" || { bad "planted value found in clear"; sed 's/^/#   /' clear.log; }
import base64, json, sys
planted = json.load(open("planted.json"))
vals = set()
for p in planted:
    for k in ("name", "pid", "acc", "study", "series", "sop"):
        vals.add(p[k].encode())
    vals.add(p["name"].split("^")[0].encode())
bad = 0
for path in sys.argv[1:]:
    raw = open(path, "rb").read()
    blobs = [("raw", raw)]
    if path.endswith(".mvx"):
        for n, line in enumerate(raw.splitlines(), 1):
            parts = line.split()
            if len(parts) == 3:
                blobs.append(("line %d decoded" % n, base64.b64decode(parts[2])))
    for what, blob in blobs:
        for v in vals:
            if v in blob:
                print("%s %s: holds a planted value" % (path, what)); bad += 1
sys.exit(1 if bad else 0)
PYEOF

# --- lookups
# facts from run 1: for input f0, its output path (report), SUBJ folder,
# and the new SOP Instance UID read from the output.
"$PY" - <<'PYEOF' >facts.sh || { bad "cannot read report/outputs"; finish; exit 1; }
import json, os, shlex, pydicom
planted = {p["file"]: p for p in json.load(open("planted.json"))}
rows = json.load(open("out1.json"))["files"]
row = [r for r in rows if r["input"].endswith("in1/f0.dcm")][0]
rel = row["output"]
ds = pydicom.dcmread(os.path.join("out1", rel))
p = planted[os.path.abspath("in1/f0.dcm")]
print("REL=%s" % shlex.quote(rel))
print("SUBJ=%s" % shlex.quote(rel.split("/")[0]))
print("NEWSOP=%s" % shlex.quote(str(ds.SOPInstanceUID)))
print("PID0=%s" % shlex.quote(p["pid"]))
print("SOP0=%s" % shlex.quote(p["sop"]))
print("NAME0=%s" % shlex.quote(p["name"]))
print("IN0=%s" % shlex.quote(p["file"]))
PYEOF
. ./facts.sh
check "the subject folder is a SUBJ pseudonym" bash -c '[[ "$1" == SUBJ* ]]' _ "$SUBJ"

lookup() { # lookup OUTFILE VALUE...: stdout to OUTFILE, stderr to OUTFILE.err
  local outf=$1; shift
  set +e
  "$MEDVEIL" crosswalk lookup --crosswalk cw.mvx --secret office.key "$@" >"$outf" 2>"$outf.err"
  RC=$?
  set -e
}
# has FILE KEY VALUE: some JSON line of FILE has KEY equal to VALUE
has() { "$PY" -c 'import json,sys
sys.exit(0 if any(json.loads(l).get(sys.argv[2]) == sys.argv[3]
                  for l in open(sys.argv[1]) if l.strip()) else 1)' "$1" "$2" "$3"; }
# field FILE KEY: the values of KEY over the JSON lines of FILE, one per line
field() { "$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    if l.strip(): print(json.loads(l).get(sys.argv[2], ""))' "$1" "$2"; }

lookup l1.json "$SUBJ"
check "lookup by SUBJ pseudonym exits 0" test "$RC" -eq 0
check "... returns the original PatientID" has l1.json patient_id "$PID0"
check "... and only that patient's records" test "$(field l1.json patient_id | sort -u | awk 'END{print NR}')" -eq 1
lookup l2.json "$WORK/out1/$REL"
check "lookup by full output path finds the input" has l2.json input "$IN0"
lookup l2b.json "$REL"
check "lookup by output path relative to OUT finds the input" has l2b.json input "$IN0"
lookup l2c.json "out1/$REL"
check "lookup by output path relative to the current folder" has l2c.json input "$IN0"
lookup l3.json "$NEWSOP"
check "lookup by new SOPInstanceUID gives the original SOP UID" has l3.json sop_uid "$SOP0"
check "... exactly one record" test "$(awk 'END{print NR}' l3.json)" -eq 1
lookup l4.json "$(echo "$NAME0" | tr 'A-Z' 'a-z')"
check "lookup by original name, any case" has l4.json patient_id "$PID0"
check "lookup output never to stderr" test ! -s l4.json.err
lookup l5.json "NO-SUCH-VALUE-$TAG"
check "a value that matches nothing: exit 1" test "$RC" -eq 1
check "... named by position, not echoed" bash -c 'grep -q "value 1 of 1" "$1" && ! grep -q "NO-SUCH" "$1"' _ l5.json.err

# concatenation: values from run 2 too
SUBJB=$("$PY" -c 'import json
rows = json.load(open("out2.json"))["files"]
print([r for r in rows if r["input"].endswith("in2/g1.dcm")][0]["output"].split("/")[0])')
PIDB=$("$PY" -c 'import json,os
print([p for p in json.load(open("planted.json")) if p["file"].endswith("in2/g1.dcm")][0]["pid"])')
lookup l6.json "$SUBJB" "$SUBJ"
check "concatenated crosswalks: run 2 value found" has l6.json patient_id "$PIDB"
check "concatenated crosswalks: run 1 value found" has l6.json patient_id "$PID0"

# renames: every output of run 2 looked up by its final path gives the
# record whose output SHA-256 is that file's
"$PY" - "$MEDVEIL" <<'PYEOF' >ren.log 2>&1 && ok "every final output path maps to its own record (renames applied)" || { bad "output paths do not map to their records"; sed 's/^/#   /' ren.log; }
import hashlib, json, os, subprocess, sys
mv = sys.argv[1]
rows = json.load(open("out2.json"))["files"]
outs = [r["output"] for r in rows if r["status"] == "ok"]
renamed = 0
bad = 0
for rel in outs:
    full = os.path.join(os.getcwd(), "out2", rel)
    p = subprocess.run([mv, "crosswalk", "lookup", "--crosswalk", "cw.mvx",
                        "--secret", "office.key", full], capture_output=True, text=True)
    recs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    sha = hashlib.sha256(open(full, "rb").read()).hexdigest()
    if len(recs) != 1 or recs[0].get("output_sha256") != sha or recs[0].get("output") != rel:
        print("%s: %d records, sha match %s" % (rel, len(recs), [r.get("output_sha256") == sha for r in recs])); bad += 1
    renamed += sum(1 for r in recs if "output_first" in r)
print("# %d outputs, %d renamed" % (len(outs), renamed))
sys.exit(1 if bad or len(outs) != 17 else 0)
PYEOF
sed -n 's/^# /#   /p' ren.log

# --- wrong key, unsafe key
set +e
"$MEDVEIL" crosswalk lookup --crosswalk cw.mvx --secret other.key "$SUBJ" >l7.json 2>l7.err
RC=$?
set -e
check "wrong secret key: non-zero exit" test "$RC" -ne 0
check "wrong secret key: 'sealed for recipient $FP; this key is $FPO'" grep -q -F "sealed for recipient $FP; this key is $FPO" l7.err
check "wrong secret key: nothing printed" test ! -s l7.json
cp office.key loose.key
chmod 644 loose.key
set +e
"$MEDVEIL" crosswalk lookup --crosswalk cw.mvx --secret loose.key "$SUBJ" >l8.json 2>l8.err
RC=$?
set -e
check "secret key readable by others refused (exit 2)" test "$RC" -eq 2
check "... with chmod advice" grep -q "chmod 600" l8.err

# --- a damaged line: line 2 of the concatenation loses a few characters
awk 'NR == 2 {print substr($0, 1, 40) substr($0, 60); next} {print}' cw.mvx >cwd.mvx
set +e
"$MEDVEIL" crosswalk lookup --crosswalk cwd.mvx --secret office.key "$SUBJB" >l9.json 2>l9.err
RC=$?
set -e
check "damaged line reported with its number" grep -q "cwd.mvx: line 2:" l9.err
check "damaged line: exit 1" test "$RC" -eq 1
check "damaged line: the rest still read" has l9.json patient_id "$PIDB"

# --- export
set +e
"$MEDVEIL" crosswalk export --crosswalk cw.mvx --secret office.key --out all.csv 2>exp.err
RC=$?
set -e
check "export exits 0" test "$RC" -eq 0
check "export CSV is 0600" test "$(stat -c %a all.csv 2>/dev/null)" = 600
"$PY" - <<'PYEOF' >csv.log 2>&1 && ok "export: one CSV row per object, originals beside replacements" || { bad "export CSV wrong"; sed 's/^/#   /' csv.log; }
import csv, json, os
rows = list(csv.DictReader(open("all.csv", newline="")))
planted = json.load(open("planted.json"))
n_ok = sum(1 for f in ("out1.json", "out2.json") for r in json.load(open(f))["files"]
           if r["status"] in ("ok", "review"))
assert len(rows) == n_ok == len(planted), (len(rows), n_ok, len(planted))
by_input = {r["input"]: r for r in rows}
for p in planted:
    r = by_input[p["file"]]
    assert r["patient_id"] == p["pid"] and r["accession_number"] == p["acc"], p["file"]
    assert r["sop_uid"] == p["sop"] and r["new_sop_uid"] and r["new_sop_uid"] != p["sop"]
    assert r["subject"].startswith("SUBJ") and r["new_patient_id"] != p["pid"]
    assert os.path.isfile(os.path.join(r["out_dir"], r["output"])), r["output"]
print("ok")
PYEOF
set +e
"$MEDVEIL" crosswalk export --crosswalk cw.mvx --secret office.key --out all.csv 2>exp2.err
RC=$?
set -e
check "export refuses to overwrite" bash -c '[ "$1" -ne 0 ] && grep -q "refusing to overwrite" exp2.err' _ "$RC"

# --- an archive output: records name the archive, not its staging folder
run rel.zip --jobs 2 --crosswalk cwz.mvx --recipient office.pub in1
if [ "$RC" -eq 0 ] && [ -f rel.zip ]; then
  "$MEDVEIL" crosswalk export --crosswalk cwz.mvx --secret office.key --out z.csv 2>z.err || true
  check "archive output: out_dir is the archive" "$PY" -c 'import csv,os,sys
rows = list(csv.DictReader(open("z.csv", newline="")))
sys.exit(0 if len(rows) == 4 and all(r["out_dir"] == os.path.abspath("rel.zip") for r in rows) else 1)'
else
  echo "# --out NAME.zip not available (exit $RC): archive part skipped"
fi

# --- objects held for review get a record too (status review, review_id)
if PYPIL=$(find_py PIL) && [ -f "$SRC/tests/pixel/gen_burned.py" ]; then
  mkdir -p held && (cd held && "$PYPIL" "$SRC/tests/pixel/gen_burned.py" gen --seed 5 --count 2 --shared '' >gen.log 2>&1) ||
    bad "gen_burned.py failed"
  cat >hold.lua <<'LUA'
local mv = require "medveil"
return mv.profile "research" {
  pixels = { when = "always", phi = "identifiers", review_below = 1.0, uncertain = "review" },
}
LUA
  set +e
  "$MEDVEIL" run --rules hold.lua --key site.key --out outh --report outh.json --quiet \
    --crosswalk cwh.mvx --recipient office.pub held/gen/dicom >outh.log 2>&1
  RC=$?
  set -e
  check "held run exits 1" test "$RC" -eq 1
  RID=$("$PY" -c 'import json; print(" ".join(f["review_id"] for f in json.load(open("outh.json"))["files"] if f["status"] == "review"))')
  NH=$(echo "$RID" | awk '{print NF}')
  check "two objects held ($NH)" test "$NH" -eq 2
  FIRST=$(echo "$RID" | awk '{print $1}')
  set +e
  "$MEDVEIL" crosswalk lookup --crosswalk cwh.mvx --secret office.key "$FIRST" >lh.json 2>lh.err
  RC=$?
  set -e
  check "lookup by review id finds the held object" \
    bash -c '[ "$1" -eq 0 ] && "$2" -c "import json,sys
r=[json.loads(l) for l in open(\"lh.json\")]
sys.exit(0 if len(r)==1 and r[0][\"status\"]==\"review\" and r[0].get(\"patient_id\") and \"output\" not in r[0] else 1)"' _ "$RC" "$PY"
else
  echo "# PIL or gen_burned.py missing: review part skipped"
fi

# --- no value on stderr of any lookup or export
"$PY" - ./*.err <<'PYEOF' >errs.log 2>&1 && ok "no planted value in any lookup/export message" || { bad "a message holds a planted value"; sed 's/^/#   /' errs.log; }
import json, sys
planted = json.load(open("planted.json"))
vals = {p[k] for p in planted for k in ("name", "pid", "acc", "study", "series", "sop")}
bad = [f for f in sys.argv[1:] if any(v in open(f, errors="replace").read() for v in vals)]
print(bad); sys.exit(1 if bad else 0)
PYEOF

# --- the shared corpus, when present: every ok/review object is recorded
if [ -d "$SHARED/corpus/dicom" ]; then
  mkdir -p corpus_in
  n=0
  while IFS= read -r f; do
    n=$((n + 1)); ln -s "$f" "corpus_in/c$n.dcm"
  done < <(find "$SHARED/corpus/dicom" -type f -size -2M | LC_ALL=C sort | awk 'NR % 10 == 1 && n < 8 {print; n++}')
  run outc --jobs 2 --crosswalk cwc.mvx --recipient office.pub corpus_in
  check "corpus run finishes (exit 0 or 1)" test "$RC" -le 1
  "$MEDVEIL" crosswalk export --crosswalk cwc.mvx --secret office.key --out corpus.csv 2>/dev/null || true
  "$PY" - <<'PYEOF' >cc.log 2>&1 && ok "corpus: every ok/review object in the crosswalk, no PatientID in clear" || { bad "corpus crosswalk"; sed 's/^/#   /' cc.log; }
import csv, json, os, pydicom
rows = json.load(open("outc.json"))["files"]
want = sorted(os.path.abspath(r["input"]) for r in rows if r["status"] in ("ok", "review"))
got = sorted(r["input"] for r in csv.DictReader(open("corpus.csv", newline=""))) if os.path.exists("corpus.csv") else []
assert want == got, (len(want), len(got))
raw = open("cwc.mvx", "rb").read()
for r in rows:
    if r["status"] not in ("ok", "review"): continue
    pid = str(pydicom.dcmread(r["input"], stop_before_pixels=True, force=True).get("PatientID", "") or "")
    if len(pid) >= 4: assert pid.encode() not in raw, "PatientID in clear"
print(len(want), "objects")
PYEOF
else
  echo "# $SHARED/corpus absent: corpus part skipped"
fi

finish
