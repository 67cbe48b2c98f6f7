#!/usr/bin/env bash
# test_verify.sh - the leak check (medveil verify, run --verify).
#
# Plants identifying values in generated DICOM files, de-identifies them with
# the research profile, and checks that:
#  - verify on the proper output finds nothing (exit 0);
#  - on a deliberately half-de-identified copy (the original PatientName in
#    ImageComments, the original PatientID in a private element, the birth
#    date spelled 29.08.1951 in StudyDescription, the name as a file name,
#    the AccessionNumber appended raw to a file) it finds each one (exit 1),
#    names the file and the attribute of origin, and prints no value;
#  - the patient ID as a folder name is found, the folder printed as ***;
#  - an unshifted date in its own DA element is counted, and reported only
#    with --strict-dates;
#  - a name burned into the pixels of an otherwise clean copy is found by
#    OCR, and not with --no-ocr;
#  - run --verify exits 0 on a clean run and 1 when the policy lets a name
#    through, or leaves a date unshifted (it knows which output came from
#    which input);
#  - with the shared corpus (MEDVEIL_SHARED), verify runs over research
#    output of 40 of its DICOM files and prints none of their names or IDs.
# VERIFY_KEEP=1 keeps the work folder.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${MEDVEIL:?set MEDVEIL to the medveil binary}"
PY=$(find_py PIL) || { bad "python3 with pydicom and PIL not found"; finish; exit 1; }
SHARED=${MEDVEIL_SHARED:-/work/shared}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/medveil-verify.XXXXXX")
[ -n "${VERIFY_KEEP:-}" ] && echo "# workdir $tmp (kept)" || trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# Planted values: unusual enough that any hit is the planted one.
cat >values.txt <<'EOF'
Quimby
Bartholomew
Zebulon
QX7734521
ACC90417733
19510829
29.08.1951
Wexford Quarry
Larkspur
Okonkwo
EOF

cat >gen.py <<'PYEOF'
import sys, os
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

def make(path, name, pid, acc, birth, study_date, modality="CT", seed=0):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    sop = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = sop
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = sop
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = name
    ds.PatientID = pid
    ds.PatientBirthDate = birth
    ds.PatientSex = "M"
    ds.AccessionNumber = acc
    ds.StudyDate = study_date
    ds.SeriesDate = study_date
    ds.StudyTime = "101500"
    ds.Modality = modality
    ds.InstitutionName = "Wexford Quarry Infirmary"
    ds.PatientAddress = "17 Larkspur Lane, Brindlewood"
    ds.ReferringPhysicianName = "Okonkwo^Adaeze"
    ds.OtherPatientIDs = "OPX55120934"
    ds.StudyDescription = "CT HEAD"
    ds.ImageComments = "routine"
    ds.Manufacturer = "ACME"
    ds.Rows = 32
    ds.Columns = 32
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    rng = np.random.default_rng(seed)
    ds.PixelData = rng.integers(0, 4096, (32, 32), dtype=np.uint16).tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    try:
        ds.save_as(path, enforce_file_format=True)
    except TypeError:  # pydicom < 3
        ds.save_as(path, write_like_original=False)

make(f"{out}/scan_QX7734521_001.dcm", "Quimby^Bartholomew^Zebulon", "QX7734521",
     "ACC90417733", "19510829", "20190314", seed=1)
make(f"{out}/scan_QX7734521_002.dcm", "Quimby^Bartholomew^Zebulon", "QX7734521",
     "ACC90417733", "19510829", "20190314", seed=2)
make(f"{out}/other.dcm", "Fenwick^Ottoline", "FW0042817", "ACC55501234", "19640212",
     "20200607", seed=3)
PYEOF
"$PY" gen.py in || { bad "generate inputs"; finish; exit 1; }
"$MEDVEIL" keygen site.key >/dev/null

set +e
"$MEDVEIL" run --rules research --key site.key --out out --report rep.json -q in 2>run.err
rc=$?
set -e
check "research run exits 0 (got $rc)" [ "$rc" -eq 0 ]

# 1. Proper output: nothing found.
set +e
"$MEDVEIL" verify --original in --deidentified out --report clean.json --jobs 2 \
  >clean.out 2>clean.err
rc=$?
set -e
check "verify on the proper output exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "no findings printed" [ ! -s clean.out ]
check "the JSON report says clean" grep -q '"result": "clean"' clean.json
check "values were collected" "$PY" -c '
import json,sys; s=json.load(open(sys.argv[1]))["summary"]
sys.exit(0 if s["values"] >= 20 and s["files"] == 3 and s["originals"] == 3 else 1)' clean.json

# 2. A half-de-identified copy.
cp -r out bad
mapfile -t files < <(cd bad && find . -name '*.dcm' | sed 's|^\./||' | sort)
check "three outputs to spoil" [ "${#files[@]}" -eq 3 ]
cat >spoil.py <<'PYEOF'
import sys, pydicom
a, b, c, d = sys.argv[1:5]
ds = pydicom.dcmread(a)
ds.ImageComments = "Quimby^Bartholomew^Zebulon"           # PatientName
ds.save_as(a)
ds = pydicom.dcmread(b)
blk = ds.private_block(0x0011, "LEAKTEST", create=True)
blk.add_new(0x10, "LO", "QX7734521")                     # PatientID
ds.StudyDescription = "follow-up, born 29.08.1951"        # PatientBirthDate
ds.save_as(b)
with open(c, "ab") as f:                                  # AccessionNumber, raw
    f.write(b"\x00\x01ACC90417733\x00")
PYEOF
"$PY" spoil.py "bad/${files[0]}" "bad/${files[1]}" "bad/${files[2]}" x
named_dir=$(dirname "bad/${files[2]}")
mv "bad/${files[2]}" "$named_dir/Quimby_Bartholomew.dcm"   # the name as a file name
f0=${files[0]}; f1=${files[1]}; f2dir=${named_dir#bad/}

set +e
"$MEDVEIL" verify --original in --deidentified bad --report bad.json --no-ocr \
  >bad.out 2>bad.err
rc=$?
set -e
check "verify on the spoiled copy exits 1 (got $rc)" [ "$rc" -eq 1 ]
has() { awk -v f="$1" -v w="$2" 'index($0, f) && index($0, w) { n++ } END { exit n ? 0 : 1 }' bad.out; }
check "PatientName in ImageComments: file and origin" has "$f0" "PatientName (0010,0010)"
check "PatientID in a private element: file and origin" has "$f1" "PatientID (0010,0020)"
check "birth date in another spelling: file and origin" has "$f1" "PatientBirthDate (0010,0030) date in another spelling"
check "AccessionNumber raw in the file" has "$f2dir/***.dcm: at byte" "AccessionNumber (0008,0050)"
check "the name in the file name" has "$f2dir/***.dcm: in the file name" "PatientName (0010,0010)"
check "JSON has the same findings" "$PY" -c '
import json,sys; r=json.load(open(sys.argv[1])); f=r["findings"]
o={(x["where"], x["origin"].split(" (")[0]) for x in f}
need={("bytes","PatientName"),("bytes","PatientID"),("bytes","PatientBirthDate"),("bytes","AccessionNumber"),("file name","PatientName")}
sys.exit(0 if need <= o and r["summary"]["result"]=="leak" else 1)' bad.json
leaked=0
while IFS= read -r v; do
  for f in bad.out bad.err bad.json; do
    if grep -qiF -- "$v" "$f"; then leaked=1; echo "#   '$v' printed in $f"; fi
  done
done <values.txt
check "no planted value in the output, errors or JSON" [ "$leaked" -eq 0 ]
check "untouched originals file names not printed" [ "$(grep -c 'QX7734521\|scan_' bad.out || true)" -eq 0 ]

# 2a. The patient ID as a folder name: found, and the folder printed masked.
cp -r out folder
mkdir -p "folder/extra/QX7734521 scans"
cp "out/${files[0]}" "folder/extra/QX7734521 scans/x.dcm"
set +e
"$MEDVEIL" verify --original in --deidentified folder --no-ocr >folder.out 2>folder.err
rc=$?
set -e
check "patient ID as a folder name: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "the folder finding names PatientID, masked" \
  awk '/^leak: extra\/\*\*\*\/: in the folder name: PatientID \(0010,0020\)$/ { n++ } END { exit n ? 0 : 1 }' folder.out
check "the folder's ID is not printed" [ "$(cat folder.out folder.err | grep -c 'QX7734521' || true)" -eq 0 ]

# 2b. An unshifted StudyDate in its own element: counted, not a finding,
# unless --strict-dates (one patient here, so no shifted date collides).
cp -r out dates
dfile=$(cd dates && find . -name '*.dcm' | sed 's|^\./||' | sort | awk 'NR==1')
"$PY" -c '
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1]); ds.StudyDate = "20190314"; ds.save_as(sys.argv[1])' "dates/$dfile"
set +e
"$MEDVEIL" verify --original in --deidentified dates --no-ocr --report d1.json >d1.out 2>d1.err
r1=$?
"$MEDVEIL" verify --original in --deidentified dates --no-ocr --strict-dates >d2.out 2>d2.err
r2=$?
"$MEDVEIL" verify --original in --deidentified out --no-ocr --strict-dates >d3.out 2>d3.err
r3=$?
set -e
check "date element value: not a finding by default (exit $r1)" [ "$r1" -eq 0 ]
check "date element value: counted in the summary" grep -q '"dates_in_date_elements": [1-9]' d1.json
check "date element value: found with --strict-dates (exit $r2)" [ "$r2" -eq 1 ]
check "--strict-dates names StudyDate" awk -v f="$dfile" 'index($0, f) && /StudyDate \(0008,0020\)/ { n++ } END { exit n ? 0 : 1 }' d2.out
check "--strict-dates on the proper output: clean (exit $r3)" [ "$r3" -eq 0 ]

# 3. OCR: a clean copy whose pixels carry the name.
cp -r out ocr
target=$(cd ocr && find . -name '*.dcm' | sed 's|^\./||' | sort | awk 'NR==1')
cat >burn.py <<'PYEOF'
import sys, numpy as np, pydicom
from PIL import Image, ImageDraw, ImageFont
p = sys.argv[1]
ds = pydicom.dcmread(p)
im = Image.new("L", (640, 200), 0)
d = ImageDraw.Draw(im)
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 20)
d.text((30, 70), "QUIMBY BARTHOLOMEW", fill=255, font=font)
a = np.asarray(im).astype(np.uint16) * 16
ds.Rows, ds.Columns = a.shape
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
ds.PixelData = a.tobytes()
ds.save_as(p)
PYEOF
if [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  "$PY" burn.py "ocr/$target"
  set +e
  "$MEDVEIL" verify --original in --deidentified ocr >ocr.out 2>ocr.err
  rc=$?
  "$MEDVEIL" verify --original in --deidentified ocr --no-ocr >noocr.out 2>noocr.err
  rc2=$?
  set -e
  check "burned-in name: exit 1 (got $rc)" [ "$rc" -eq 1 ]
  check "burned-in name found on pixels plane 0 as PatientName" \
    awk -v f="$target" 'index($0, f) && /pixels plane 0 \(OCR\)/ && /PatientName \(0010,0010\)/ { n++ } END { exit n ? 0 : 1 }' ocr.out
  check "only the pixels: nothing else found" \
    awk '!/pixels plane 0 \(OCR\)/ { n++ } END { exit (n == 0 && NR > 0) ? 0 : 1 }' ocr.out
  check "--no-ocr does not read pixels (exit $rc2)" [ "$rc2" -eq 0 ]
  check "OCR text not printed" [ "$(cat ocr.out ocr.err | grep -ci 'quimby\|bartholomew' || true)" -eq 0 ]
else
  echo "# no DejaVu font: OCR case skipped"
fi

# 4. run --verify.
set +e
"$MEDVEIL" run --rules research --key site.key --out out2 --report rep2.json -q \
  --verify --verify-report v2.json --verify-no-ocr in >run2.out 2>run2.err
rc=$?
set -e
check "run --verify on a clean run exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "run --verify wrote its JSON" grep -q '"result": "clean"' v2.json
cat >leaky.lua <<'LUA'
local mv = require "medveil"
return mv.profile "research" {
  name = "leaky",
  tags = { ImageComments = mv.keep },
}
LUA
mkdir in3
cp in/scan_QX7734521_001.dcm in3/a.dcm
"$PY" -c '
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1]); ds.ImageComments = "seen by Bartholomew Quimby"; ds.save_as(sys.argv[1])' in3/a.dcm
set +e
"$MEDVEIL" run --rules leaky.lua --key site.key --out out3 --report rep3.json -q \
  --verify --verify-no-ocr in3 >run3.out 2>run3.err
rc=$?
set -e
check "run --verify with a leaking policy exits 1 (got $rc)" [ "$rc" -eq 1 ]
check "run --verify names the origin" grep -q "PatientName (0010,0010)" run3.out
check "run --verify prints no value" [ "$(cat run3.out run3.err | grep -ci 'quimby\|bartholomew' || true)" -eq 0 ]

# run --verify knows which output came from which input: a date the policy
# leaves unshifted in its own element is found there, while the standalone
# check (no link) only counts it.
cat >keepdate.lua <<'LUA'
local mv = require "medveil"
return mv.profile "research" {
  name = "keepdate",
  tags = { StudyDate = mv.keep },
}
LUA
set +e
"$MEDVEIL" run --rules keepdate.lua --key site.key --out out4 --report rep4.json -q \
  --verify --verify-no-ocr in >run4.out 2>run4.err
rc=$?
"$MEDVEIL" verify --rules keepdate.lua --original in --deidentified out4 --no-ocr \
  >ver4.out 2>ver4.err
rc2=$?
set -e
check "run --verify: an unshifted date in its own element is found (exit $rc)" [ "$rc" -eq 1 ]
# (StudyDate is kept, so the value is known by SeriesDate, which had it too)
check "run --verify names the date's origin" grep -Eq "at byte [0-9]+: (Study|Series)Date \(0008,002[01]\)" run4.out
check "standalone verify without the link counts it only (exit $rc2)" [ "$rc2" -eq 0 ]
check "and says so" grep -q "date element values not counted" ver4.err

# 5. Usage errors exit 2.
set +e
"$MEDVEIL" verify --deidentified out >/dev/null 2>&1; r1=$?
"$MEDVEIL" verify --original in --deidentified nowhere >/dev/null 2>&1; r2=$?
"$MEDVEIL" verify --original in --deidentified out --rules no-such-profile >/dev/null 2>&1; r3=$?
set -e
check "usage and configuration errors exit 2 ($r1 $r2 $r3)" [ "$r1" -eq 2 ] && [ "$r2" -eq 2 ] && [ "$r3" -eq 2 ]

# 6. The shared corpus, when present: verify runs over research output of
# real files (exit 0 or 1: the corpus holds genuine first-line misses, e.g.
# DICOMDIR file IDs), and prints none of their names or IDs.
if [ -d "$SHARED/corpus/dicom" ]; then
  mkdir corpus
  n=0
  while IFS= read -r -d '' f; do
    n=$((n + 1)); cp "$f" "corpus/$n.$(basename "$f")"
    [ "$n" -ge 40 ] && break
  done < <(find "$SHARED/corpus/dicom" -type f -size -8M -print0 | sort -z)
  set +e
  "$MEDVEIL" run --rules research --key site.key --out cout --report crep.json -q corpus 2>crun.err
  "$MEDVEIL" verify --original corpus --deidentified cout --no-ocr --report cver.json \
    >cver.out 2>cver.err
  rc=$?
  set -e
  check "corpus ($n files): verify runs (exit $rc)" [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]
  echo "# corpus: $(wc -l <cver.out) findings"
  "$PY" - corpus >cvalues.txt <<'PYEOF'
import os, sys, pydicom
seen = set()
for name in sorted(os.listdir(sys.argv[1])):
    try:
        ds = pydicom.dcmread(os.path.join(sys.argv[1], name), stop_before_pixels=True, force=True)
    except Exception:
        continue
    for kw in ("PatientName", "PatientID"):
        v = str(ds.get(kw, "") or "").strip()
        if len(v) >= 6 and v.upper() not in ("ANONYMIZED", "ANONYMOUS", "UNKNOWN"):
            seen.add(v)
print("\n".join(sorted(seen)))
PYEOF
  printed=0
  while IFS= read -r v; do
    [ -n "$v" ] || continue
    if grep -qiF -- "$v" cver.out cver.json cver.err; then printed=$((printed + 1)); fi
  done <cvalues.txt
  check "corpus: no original PatientName/PatientID printed ($(wc -l <cvalues.txt) values)" [ "$printed" -eq 0 ]
else
  echo "# no shared corpus at $SHARED: corpus case skipped"
fi

finish
