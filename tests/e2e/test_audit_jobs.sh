#!/usr/bin/env bash
# test_audit_jobs.sh - the hash-chained audit log and the jobs database:
# `audit verify` passes an untouched log of several runs and finds an edited
# line, a reordered pair, a removed middle line, a cut-short line and (with
# --jobs-db) a removed tail job; parallel runs on one log keep the chain; no
# planted patient value or input path reaches the log; `jobs list|show`
# show each run with the report's counts; the default data folder follows
# XDG_DATA_HOME and one that cannot be created stops the run before data.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PY=$(find_py pydicom) || { echo "FAIL - no python3 with pydicom"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
M=$MEDVEIL
cond() { eval "$1"; } # check MSG cond 'A && B'

# Fixtures: three DICOM files carrying planted identity in a folder named
# after the patient, and one file that is no format (rejected) containing
# the planted name too.
mkdir -p "in/Quaxley_Zebediah_MRN4471" in2
"$PY" - <<'PY'
import pydicom, shutil, os
from pydicom.data import get_testdata_file
src = [get_testdata_file(n) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm")]
for i, s in enumerate(src):
    ds = pydicom.dcmread(s)
    ds.PatientName = "Quaxley^Zebediah"
    ds.PatientID = "MRN4471-PLANTED"
    ds.AccessionNumber = "ACC99173"
    ds.save_as(f"in/Quaxley_Zebediah_MRN4471/img{i}.dcm")
    ds.PatientName = "Vornholt^Ilsabet"
    ds.PatientID = "MRN5582-PLANTED"
    ds.save_as(f"in2/other{i}.dcm")
open("in/Quaxley_Zebediah_MRN4471/notes.dcm", "w").write(
    "Quaxley^Zebediah MRN4471-PLANTED not a dicom file\n")
PY
planted="Quaxley Zebediah MRN4471 ACC99173 Vornholt Ilsabet MRN5582"

# Real files from the shared corpus, when present: a few small DICOMs and
# a few broken ones (their patient values are checked against the log too).
shared=${MEDVEIL_SHARED:-/work/shared}
if [ -d "$shared/corpus/dicom" ]; then
  mkdir -p in/corpus
  find "$shared/corpus/dicom" -type f -size -512k 2>/dev/null | sort | awk 'NR<=6' >corpus.list || true
  find "$shared/corpus/bad" -type f -size -512k 2>/dev/null | sort | awk 'NR<=4' >>corpus.list || true
  n=0
  while IFS= read -r f; do n=$((n + 1)); cp "$f" "in/corpus/c$n.dcm"; done <corpus.list
  more=$("$PY" - <<'PY'
import pydicom, glob
vals = set()
for f in glob.glob("in/corpus/*.dcm"):
    try:
        ds = pydicom.dcmread(f, stop_before_pixels=True, force=True)
    except Exception:
        continue
    for k in ("PatientName", "PatientID", "AccessionNumber"):
        v = str(ds.get(k, "") or "").strip()
        for part in v.replace("^", " ").split():
            if len(part) >= 5 and not part.isdigit():
                vals.add(part)
print(" ".join(sorted(vals)))
PY
)
  planted="$planted $more"
  echo "# corpus: $n files added"
fi

"$M" keygen key >/dev/null
A=$tmp/rec/audit.jsonl
D=$tmp/rec/jobs.sqlite
runm() { # runm N INPUT...: one run with the records in rec/
  local n=$1; shift
  "$M" run --rules research --key key --out "out$n" --report "rep$n.json" -q -j 2 \
    --audit-log "$A" --jobs-db "$D" "$@"
}
set +e
runm 1 in; rc1=$?
runm 2 in2; rc2=$?
# Run 3 names the patient's folder itself: its path must not reach the log.
if [ -d in/corpus ]; then runm 3 in/Quaxley_Zebediah_MRN4471 in/corpus; else runm 3 in/Quaxley_Zebediah_MRN4471; fi
rc3=$?
set -e
check "runs exit 0/1 (got $rc1 $rc2 $rc3)" cond '[ "$rc1" -le 1 ] && [ "$rc2" -le 1 ] && [ "$rc3" -le 1 ]'
check "the log is created 0600" [ "$(stat -c %a "$A")" = 600 ]
check "its folder is created 0700" [ "$(stat -c %a rec)" = 700 ]
check "the database is created 0600" [ "$(stat -c %a "$D")" = 600 ]

# Line counts agree with the reports.
"$PY" - "$A" rep1.json rep2.json rep3.json >counts.txt <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ev = [l["event"] for l in lines]
bad = sum(f["status"] != "ok" for r in sys.argv[2:] for f in json.load(open(r))["files"])
print(ev.count("job_start"), ev.count("job_end"), ev.count("object_failed"), bad)
ok = all(l["seq"] == i + 1 for i, l in enumerate(lines))
print("seq-ok" if ok else "seq-bad")
PY
read -r starts ends failed want <counts.txt
check "3 job_start and 3 job_end lines ($starts, $ends)" cond '[ "$starts" -eq 3 ] && [ "$ends" -eq 3 ]'
check "one object_failed line per rejected or held input ($failed = $want)" cond '[ "$failed" -eq "$want" ] && [ "$want" -ge 2 ]'
check "seq counts 1, 2, 3, ..." grep -qx seq-ok counts.txt

# The job_end digests are the report's: sort | sha256sum of the hex.
"$PY" - "$A" rep3.json >digest.txt <<'PY'
import json, sys, hashlib
end = [json.loads(l) for l in open(sys.argv[1])][-1]
rep = json.load(open(sys.argv[2]))["files"]
def agg(key):
    v = sorted(f[key] for f in rep if f.get(key))
    return hashlib.sha256("".join(x + "\n" for x in v).encode()).hexdigest()
print("match" if end["event"] == "job_end" and end["inputs"]["sha256"] == agg("input_sha256")
      and end["outputs"]["sha256"] == agg("output_sha256") else "differ")
PY
check "job_end digests match the report's SHA-256s" grep -qx match digest.txt

# No patient value and no input path in the log.
leaks=0
for w in $planted; do
  if grep -qiF -- "$w" "$A"; then leaks=$((leaks + 1)); echo "# leaked: a planted value (${#w} chars)"; fi
done
check "no planted patient value in the audit log" [ "$leaks" -eq 0 ]
check "no input path in the audit log" [ "$(grep -c -e '"in"' -e '"in2"' -e "$tmp/in" "$A" || true)" -eq 0 ]

# Verify: intact, then each kind of damage on a copy.
verify() { # verify FILE [ARGS]: sets vrc and vout
  set +e
  vout=$("$M" audit verify "$@" 2>&1)
  vrc=$?
  set -e
}
verify "$A"
check "untouched log of 3 runs: exit 0 ($vout)" [ "$vrc" -eq 0 ]
verify "$A" --jobs-db "$D"
check "untouched log with --jobs-db: exit 0" [ "$vrc" -eq 0 ]
nl=$(wc -l <"$A")

"$PY" - "$A" edited.jsonl <<'PY'
import sys
l = open(sys.argv[1]).read().split("\n")
l[1] = l[1].replace('"job":"', '"job":"0', 1)  # still JSON, seq kept
open(sys.argv[2], "w").write("\n".join(l))
PY
verify edited.jsonl
check "edited line 2 found: $vout" cond '[ "$vrc" -eq 1 ] && [[ "$vout" == *"line 2: edited"* ]]'

awk 'NR==3{keep=$0; next} NR==4{print; print keep; next} {print}' "$A" >reordered.jsonl
verify reordered.jsonl
check "reordered lines 3/4 found: $vout" cond '[ "$vrc" -eq 1 ] && [[ "$vout" == *"line 3: reordered"* ]]'

awk 'NR!=4' "$A" >removed.jsonl
verify removed.jsonl
check "removed middle line found: $vout" cond '[ "$vrc" -eq 1 ] && [[ "$vout" == *"line 4: removed"* ]]'

head -c -20 "$A" >cut.jsonl
verify cut.jsonl
check "cut-short last line found: $vout" cond '[ "$vrc" -eq 1 ] && [[ "$vout" == *"line $nl: truncated-or-damaged"* ]]'

# Removing the whole last job leaves a valid chain; the database sees it.
last_start=$(grep -n '"event":"job_start"' "$A" | tail -n 1 | cut -d: -f1)
cp "$A" full.jsonl
head -n $((last_start - 1)) full.jsonl >"$A"
verify "$A"
check "tail removal is invisible to the chain alone (exit 0)" [ "$vrc" -eq 0 ]
verify "$A" --jobs-db "$D"
check "tail removal found with --jobs-db: $vout" cond '[ "$vrc" -eq 1 ] && [[ "$vout" == *"removed"* ]]'
cp full.jsonl "$A"
# Editing the very last line is also only seen with the database.
"$PY" - "$A" <<'PY'
import sys
l = open(sys.argv[1]).read().split("\n")
assert l[-1] == "" and '"job_end"' in l[-2]
l[-2] = l[-2].replace('"outcome":"', '"outcome":"x', 1)
open(sys.argv[1], "w").write("\n".join(l))
PY
verify "$A"
check "an edited last line keeps the chain (exit 0)" [ "$vrc" -eq 0 ]
verify "$A" --jobs-db "$D"
check "an edited last line found with --jobs-db: $vout" cond '[ "$vrc" -eq 1 ] && [[ "$vout" == *"line $nl: edited"* ]]'
cp full.jsonl "$A"

# A run refuses to chain onto a damaged log, before any data.
cp cut.jsonl damaged.jsonl
set +e
"$M" run --rules research --key key --out outd --report repd.json -q \
  --audit-log damaged.jsonl --jobs-db "$D" in2 2>rund.err
rcd=$?
set -e
check "run on a cut-short log exits 2" [ "$rcd" -eq 2 ]
check "... saying why" grep -q "cut short" rund.err
check "... and writes no report" [ ! -e repd.json ]

# Parallel runs on one log and one database keep a valid chain.
set +e
runm 4 in & p4=$!
runm 5 in2 & p5=$!
runm 6 in & p6=$!
wait $p4; r4=$?
wait $p5; r5=$?
wait $p6; r6=$?
set -e
check "parallel runs finish (exit $r4 $r5 $r6)" cond '[ "$r4" -le 1 ] && [ "$r5" -le 1 ] && [ "$r6" -le 1 ]'
verify "$A" --jobs-db "$D"
check "after parallel runs the chain is intact: $vout" [ "$vrc" -eq 0 ]
check "6 job_end lines" [ "$(grep -c '"event":"job_end"' "$A")" -eq 6 ]

# jobs list / show carry each run with the report's counts.
"$M" jobs list --jobs-db "$D" --limit 0 >list.out
check "jobs list shows 6 runs" [ "$(awk 'NR>1' list.out | wc -l)" -eq 6 ]
"$M" jobs list --jobs-db "$D" --limit 2 >list2.out
check "jobs list --limit 2 shows 2" [ "$(awk 'NR>1' list2.out | wc -l)" -eq 2 ]
id1=$("$PY" -c 'import json,sys; [print(json.loads(l)["job"]) for l in open(sys.argv[1]) if "\"job_start\"" in l]' "$A" | awk 'NR==1')
"$M" jobs show "${id1:0:10}" --jobs-db "$D" >show.out
want=$("$PY" -c 'import json,sys; f=json.load(open(sys.argv[1]))["files"]; c=lambda s: sum(x["status"]==s for x in f); print("total %d, ok %d, rejected %d, review %d" % (len(f), c("ok"), c("rejected"), c("review")))' rep1.json)
check "jobs show (id prefix) has the report's counts ($want)" grep -q "counts *$want" show.out
check "jobs show names the policy and status" grep -Eq '^status +(ok|partial)$' show.out
check "jobs list has the run" grep -q "^${id1:0:12} " list.out
fmt=$("$PY" -c 'import json,sys; f=json.load(open(sys.argv[1]))["files"]; print(sum(x.get("format")=="format-dicom" for x in f))' rep1.json)
check "formats counted ($fmt format-dicom)" grep -q "\"format-dicom\":$fmt" show.out
hash=$(awk '$1=="audit_hash"{print $2}' show.out)
"$PY" -c '
import hashlib,sys
for l in open(sys.argv[1],"rb"): print(hashlib.sha256(l.rstrip(b"\n")).hexdigest())' "$A" >hashes.txt
check "the row keeps a line hash of the log" cond '[ -n "$hash" ] && grep -qx "$hash" hashes.txt'
set +e
"$M" jobs show "" --jobs-db "$D" >/dev/null 2>amb.err; ra=$?
"$M" jobs show nosuchid --jobs-db "$D" >/dev/null 2>&1; rn=$?
"$M" audit verify >/dev/null 2>&1; ru=$?
"$M" audit verify nosuch.jsonl >/dev/null 2>&1; rm_=$?
set -e
check "an ambiguous prefix is refused" cond '[ "$ra" -eq 1 ] && grep -q "more than one" amb.err'
check "an unknown id exits 1" [ "$rn" -eq 1 ]
check "audit verify without LOG is a usage error (2)" [ "$ru" -eq 2 ]
check "audit verify on a missing file exits 2" [ "$rm_" -eq 2 ]

# Defaults follow XDG_DATA_HOME.
XDG_DATA_HOME=$tmp/xdg "$M" run --rules research --key key --out out7 --report rep7.json -q in2 || true
check "default audit log under XDG_DATA_HOME" [ -s "$tmp/xdg/medveil/audit.jsonl" ]
check "default jobs database under XDG_DATA_HOME" [ -s "$tmp/xdg/medveil/jobs.sqlite" ]
XDG_DATA_HOME=$tmp/xdg "$M" jobs list >list7.out
check "jobs list reads the default database" [ "$(awk 'NR>1' list7.out | wc -l)" -eq 1 ]
touch notadir
set +e
XDG_DATA_HOME=$tmp/notadir/x "$M" run --rules research --key key --out out8 --report rep8.json -q in2 2>run8.err
r8=$?
set -e
check "a data folder that cannot be created stops the run (exit 2)" [ "$r8" -eq 2 ]
check "... naming the folder" grep -q "notadir/x/medveil: cannot create folder" run8.err
check "... before any report" [ ! -e rep8.json ]
finish
