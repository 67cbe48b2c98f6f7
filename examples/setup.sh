#!/usr/bin/env bash
# examples/setup.sh - make examples/data/ (gitignored) for a first run:
#   data/pydicom/  a handful of real CT/MR files from Debian's python3-pydicom
#   data/planted/  a small planted study (tests/gen/plant_phi.py, fixed seed):
#                  identifying values hidden everywhere, folders named after
#                  the patient and files after the MRN
#   data/other/    a PNG screenshot, a JPEG photo, a NIfTI volume and a zip of
#                  a study, each carrying a planted name
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

if [ -f "$data/pydicom/CT_small.dcm" ] && [ -f "$data/other/study.zip" ] &&
   [ -n "$(find "$data/planted" -name '*.dcm' 2>/dev/null | head -n 1)" ]; then
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
# Other formats, each with a planted name: a screenshot PNG (text chunks and
# the name burned into the pixels), a photo JPEG (EXIF artist and comment),
# a NIfTI volume (descrip, when nibabel is installed) and a zip of a study.
mkdir -p "$tmp/data/other"
"$PY" - "$tmp/data/other" "$PD" <<'PY'
import os, sys, zipfile
out, pd = sys.argv[1], sys.argv[2]
try:
    from PIL import Image, ImageDraw, PngImagePlugin
    im = Image.new("RGB", (320, 200), (20, 20, 30))
    d = ImageDraw.Draw(im)
    d.ellipse((90, 40, 230, 180), fill=(120, 110, 100))
    d.text((8, 6), "MORGENSTERN, ADA  MRN 55120487", fill=(255, 255, 255))
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Author", "Ada Morgenstern")
    meta.add_text("Comment", "MRN 55120487 follow-up")
    im.save(os.path.join(out, "screenshot.png"), pnginfo=meta)
    exif = Image.Exif()
    exif[0x013B] = "Ada Morgenstern"          # Artist
    exif[0x010E] = "wound photo, MRN 55120487"  # ImageDescription
    Image.new("RGB", (160, 120), (180, 140, 120)).save(
        os.path.join(out, "photo.jpg"), exif=exif.tobytes(), quality=90)
except ImportError:
    print("  (python3-pil missing: no PNG/JPEG examples)")
try:
    import numpy as np, nibabel as nib
    img = nib.Nifti1Image(np.arange(8 * 8 * 4, dtype=np.int16).reshape(8, 8, 4), np.eye(4))
    img.header["descrip"] = b"Morgenstern Ada 55120487"
    nib.save(img, os.path.join(out, "volume.nii.gz"))
except ImportError:
    print("  (python3-nibabel missing: no NIfTI example)")
with zipfile.ZipFile(os.path.join(out, "study.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    for n in ["MR_small.dcm", "MR_small_RLE.dcm"]:
        if os.path.exists(os.path.join(pd, n)):
            z.write(os.path.join(pd, n), "study/" + n)
PY
rm -rf "$data"
mv "$tmp/data" "$data"

echo "examples/data: $(find "$data/pydicom" -type f | wc -l) pydicom CT/MR files, $(find "$data/planted" -type f | wc -l) planted files, $(find "$data/other" -type f | wc -l) other formats (PNG, JPEG, NIfTI, zip)"
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
