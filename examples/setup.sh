#!/usr/bin/env bash
# examples/setup.sh - make examples/data/ (gitignored) for a first run:
#   data/pydicom/  a handful of real CT/MR files from Debian's python3-pydicom
#   data/planted/  a small planted study (tests/gen/plant_phi.py, fixed seed):
#                  identifying values hidden everywhere, folders named after
#                  the patient and files after the MRN
# so you can watch identifying values go in and de-identified outputs come
# out (examples/run.sh).  Idempotent: a complete data/ is left alone; remove
# it to rebuild.  Needs python3 + pydicom (apt-get install python3-pydicom).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data="$here/data"
SEED=20240601
FILES=(CT_small.dcm MR_small.dcm MR_small_implicit.dcm MR_small_expb.dcm MR_small_RLE.dcm
       MR_small_jp2klossless.dcm MR_small_jpeg_ls_lossless.dcm 693_J2KI.dcm)

PY=""
for c in "${PYTHON:-}" /usr/bin/python3 python3; do
  [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && "$c" -c 'import pydicom' >/dev/null 2>&1 && { PY=$c; break; }
done
[ -n "$PY" ] || { echo "setup.sh: needs python3 with pydicom (apt-get install python3-pydicom)" >&2; exit 1; }
PD=$("$PY" -c 'import os, pydicom; print(os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files"))')
[ -f "$PD/CT_small.dcm" ] || { echo "setup.sh: pydicom's test files not found in $PD (Debian's python3-pydicom ships them)" >&2; exit 1; }

if [ -f "$data/pydicom/CT_small.dcm" ] && [ -n "$(find "$data/planted" -name '*.dcm' 2>/dev/null | head -n 1)" ]; then
  echo "examples/data is ready ($(find "$data" -type f | wc -l) files); remove it to rebuild"
  exit 0
fi

tmp=$(mktemp -d "$here/.data.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data/pydicom"
for f in "${FILES[@]}"; do
  [ -f "$PD/$f" ] && cp "$PD/$f" "$tmp/data/pydicom/"
done
"$PY" "$here/../tests/gen/plant_phi.py" --out "$tmp/data/planted" --seed "$SEED" \
  --manifest "$tmp/manifest.json" --quiet
rm -rf "$data"
mv "$tmp/data" "$data"

echo "examples/data: $(find "$data/pydicom" -type f | wc -l) pydicom CT/MR files, $(find "$data/planted" -type f | wc -l) planted files"
"$PY" - "$tmp/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
print("planted patients (these must not come out of medveil):")
for k, p in sorted(m["patients"].items()):
    print("  %s  name %-40s  id %s  born %s  studies %s" % (
        k, p["name"], p["id"], p["birth_date"], ", ".join(p["study_dates"])))
n = sum(len(s["needles"]) for s in m["strings"])
print("plus addresses, phones, e-mails, physicians, accession numbers, comments, private tags")
print("and nested sequences: %d planted strings in all (tests/gen/README.md)." % len(m["strings"]))
PY
echo "next: examples/run.sh"
