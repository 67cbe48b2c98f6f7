#!/usr/bin/env bash
# test_review.sh - objects held for review: status, review folder beside the
# report (never in OUT), preview PNG, `medveil review list|approve|reject`,
# the decisions log, and that nothing in logs or listings carries text.
#
# A policy with phi = "identifiers", review_below = 1 and uncertain = "review" makes every reading
# that does not match the header uncertain, so images with harmless burned-in
# words are held deterministically.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PY=$(find_py PIL) || { echo "FAIL - no python3 with pydicom and PIL"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

"$PY" "$MEDVEIL_SRC/tests/pixel/gen_burned.py" gen --seed 3 --count 4 --shared '' >gen.log 2>&1 ||
  { cat gen.log; bad "generate"; finish; exit 1; }
cat >hold.lua <<'LUA'
local mv = require "medveil"
return mv.profile "research" {
  pixels = { when = "always", phi = "identifiers", review_below = 1.0, uncertain = "review" },
}
LUA
"$MEDVEIL" keygen key >/dev/null
set +e
"$MEDVEIL" run --rules hold.lua --key key --out out --report rep.json -q gen/dicom 2>run.err
rc=$?
set -e
check "run exits 1 when objects are held" [ "$rc" -eq 1 ]
held=$("$PY" -c 'import json,sys; r=json.load(open("rep.json")); print(sum(f["status"]=="review" for f in r["files"]))')
check "every image is held for review ($held)" [ "$held" -eq 4 ]
check "the review folder is beside the report" [ -d rep.review ]
check "nothing held lands in OUT" [ -z "$(find out -name '*.dcm' 2>/dev/null)" ]
ids=$("$PY" -c 'import json; r=json.load(open("rep.json")); print(" ".join(f["review_id"] for f in r["files"] if f["status"]=="review"))')
set -- $ids
check "report rows carry review ids" [ $# -eq 4 ]
first=$1 second=$2
check "each item has the object" [ -s "rep.review/$first/object.dcm" ]
check "each item has a PNG preview" "$PY" -c 'import sys; from PIL import Image; im=Image.open(sys.argv[1]); sys.exit(0 if im.size[0] > im.size[1] else 1)' "rep.review/$first/preview.png"
check "item.json names the output path, not the input's text" grep -q '"output": "SUBJ' "rep.review/$first/item.json"
check "held object parses (dcmdump)" sh -c 'dcmdump -q "$1" >/dev/null' _ "rep.review/$first/object.dcm"
"$MEDVEIL" review list --report rep.json >list.out 2>list.err
check "list shows 4 items" [ "$(grep -c '^[0-9a-f]\{16\}' list.out)" -eq 4 ]
"$MEDVEIL" review list --review-dir rep.review --json >list.json
check "list --json is JSON" "$PY" -c 'import json,sys; assert len(json.load(open(sys.argv[1])))==4' list.json
# No burned-in text, names or IDs in anything the CLI printed.
secrets=$("$PY" -c 'import json; t=json.load(open("gen/truth.json")); print("\n".join(sorted({b["text"] for e in t["files"] for b in e["boxes"] if b["identifying"] and len(b["text"])>=6})))')
leak=0
while IFS= read -r s; do
  [ -n "$s" ] || continue
  if grep -qF -- "$s" list.out list.json run.err rep.json 2>/dev/null; then leak=1; fi
done <<<"$secrets"
check "no burned-in text in report, listing or messages" [ "$leak" -eq 0 ]

"$MEDVEIL" review approve --report rep.json --out out --note "checked" "$first" >approve.out
out_path=$("$PY" -c 'import json; print(json.loads(open("rep.review/decisions.jsonl").readline())["output"])')
check "approve moves the object into OUT" [ -f "out/$out_path" ]
check "approve removes the item" [ ! -d "rep.review/$first" ]
"$MEDVEIL" review reject --report rep.json "$second" >reject.out
check "reject removes the item" [ ! -d "rep.review/$second" ]
check "reject puts nothing in OUT" [ "$(find out -name '*.dcm' | wc -l)" -eq 1 ]
check "decisions log has both" [ "$(wc -l <rep.review/decisions.jsonl)" -eq 2 ]
check "decision records the approval" grep -q '"decision": "approve"' rep.review/decisions.jsonl
set +e
"$MEDVEIL" review approve --report rep.json --out out "$second" 2>again.err
rc=$?
"$MEDVEIL" review approve --report rep.json --out out "../../etc" 2>bad.err
rc2=$?
"$MEDVEIL" run --rules hold.lua --key key --out out --report r2.json --review-dir out/held -q gen/dicom 2>overlap.err
rc3=$?
set -e
check "approving a decided item fails" [ "$rc" -eq 1 ]
check "an id that is not an id is refused" [ "$rc2" -eq 1 ]
check "a review folder inside OUT is refused" [ "$rc3" -eq 2 ]
check "listing now shows 2" [ "$("$MEDVEIL" review list --report rep.json 2>/dev/null | grep -c '^[0-9a-f]\{16\}')" -eq 2 ]

# Two objects wanting one output path (same SOP Instance UID, other
# content) are held as two items, neither replacing the other.
mkdir dup
gens=(gen/dicom/*)
one=$(basename "${gens[0]}")
cp "gen/dicom/$one" dup/a.dcm
"$PY" -c 'import sys, pydicom; d = pydicom.dcmread(sys.argv[1]); d.SeriesDescription = "OTHER SERIES"; d.save_as(sys.argv[2])' "gen/dicom/$one" dup/b.dcm
set +e
"$MEDVEIL" run --rules hold.lua --key key --out dout --report drep.json -q dup 2>/dev/null
set -e
check "same output path, other content: two review items" \
  "$PY" -c 'import json,sys; r=json.load(open("drep.json")); ids={f["review_id"] for f in r["files"] if f["status"]=="review"}; sys.exit(0 if len(ids)==2 else 1)'
check "both held objects are in the review folder" [ "$(find drep.review -name object.dcm | wc -l)" -eq 2 ]

# Secondary captures without burned-in text go through the pixel stage and
# come out with PixelData byte-identical (native, RLE and JPEG baseline).
mkdir plain
td=$("$PY" -c 'import pydicom, os; print(os.path.dirname(pydicom.__file__) + "/data/test_files")')
for f in SC_rgb_rle.dcm SC_rgb_jpeg_dcmtk.dcm SC_rgb_small_odd.dcm; do cp "$td/$f" plain/; done
set +e
"$MEDVEIL" run --rules research --key key --out pout --report prep.json -q plain 2>/dev/null
set -e
check "text-free SC images: cleaned, unchanged pixel data, 113101 claimed" "$PY" - <<'PYEOF'
import json, pydicom, sys
r = json.load(open("prep.json"))
ok = True
for f in r["files"]:
    px = f.get("pixels") or {}
    if f["status"] != "ok" or not px.get("planes"):
        print("#", f["input"], f["status"], f.get("reason")); ok = False; continue
    a = pydicom.dcmread(f["input"]); b = pydicom.dcmread("pout/" + f["output"])
    if not px.get("changed") and a.PixelData != b.PixelData:
        print("#", f["input"], "PixelData changed although nothing was redacted"); ok = False
    codes = [c.CodeValue for c in b.DeidentificationMethodCodeSequence]
    if "113101" not in codes or b.get("BurnedInAnnotation") != "NO":
        print("#", f["input"], "marks", codes, b.get("BurnedInAnnotation")); ok = False
sys.exit(0 if ok else 1)
PYEOF
finish
