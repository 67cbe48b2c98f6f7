#!/usr/bin/env bash
# test_convert.sh - `run --output-format png|jpeg`: image frames as files,
# rendered through the object's Modality LUT and VOI window (checked pixel by
# pixel against the PS3.3 formula computed here with numpy), MONOCHROME1
# inverted, colour kept, one file per frame, no metadata in the files, and
# nothing of the patient's in any byte or name.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PY=$(find_py pydicom) || { echo "FAIL - no python3 with pydicom"; exit 1; }
"$PY" -c 'import numpy, PIL' 2>/dev/null || { echo "FAIL - python3 needs numpy and PIL"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mv-convert.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir in
"$PY" - in <<'EOF'
import os, sys
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

def base(name, rows, cols, frames=1, spp=1, photo="MONOCHROME2", bits=16, signed=0):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID = "Zyxwerth^Quintessa", "PLANT7731"
    ds.PatientBirthDate, ds.Modality = "19520311", "CT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, spp, photo
    if frames > 1:
        ds.NumberOfFrames = frames
    if spp > 1:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.PixelRepresentation = signed
    ds.is_little_endian, ds.is_implicit_VR = True, False
    return ds

y, x = np.mgrid[0:64, 0:80]
# CT, signed, rescale and a window
ct = base("ct", 64, 80, signed=1)
ct.RescaleSlope, ct.RescaleIntercept = "1", "-1024"
ct.WindowCenter, ct.WindowWidth = "40", "400"
ct.PixelData = ((x * 30 + y * 7) % 2000).astype(np.int16).tobytes()
ct.save_as(os.path.join(sys.argv[1], "ct.dcm"), write_like_original=False)
# MONOCHROME1, no window: min-max, inverted
m1 = base("m1", 64, 80, photo="MONOCHROME1", bits=16)
m1.BitsStored, m1.HighBit = 12, 11
m1.PixelData = ((x * 50 + y) % 4096).astype(np.uint16).tobytes()
m1.save_as(os.path.join(sys.argv[1], "m1.dcm"), write_like_original=False)
# RGB, 3 frames
rgb = base("rgb", 64, 80, frames=3, spp=3, photo="RGB", bits=8)
rgb.Modality = "XC"
fr = np.stack([np.stack([(x * 3 + f * 40) % 256, (y * 4) % 256, np.full_like(x, 60 * f)], -1)
               for f in range(3)]).astype(np.uint8)
rgb.PixelData = fr.tobytes()
rgb.save_as(os.path.join(sys.argv[1], "rgb.dcm"), write_like_original=False)
EOF
"$MEDVEIL" keygen key >/dev/null
for f in png jpeg; do
  set +e
  "$MEDVEIL" run --rules research --key key --out "out-$f" --report "rep-$f.json" --output-format "$f" -q in \
    >"run-$f.log" 2>&1
  rc=$?
  set -e
  check "--output-format $f: exit 0 ($rc)" test "$rc" -eq 0
done
check "--output-format tiff is a usage error" sh -c '"$1" run --rules basic --key key --out x --report x.json --output-format tiff in >/dev/null 2>&1; test $? -eq 2' _ "$MEDVEIL"

"$PY" - "$WORK" <<'EOF' >compare.txt 2>&1 || true
import json, os, sys
import numpy as np
import pydicom
from PIL import Image
work = sys.argv[1]
fails = 0
def say(ok, msg):
    global fails
    fails += not ok
    print(("ok   - " if ok else "FAIL - ") + msg)

def window_linear(v, c, w):
    out = ((v - (c - 0.5)) / (w - 1) + 0.5) * 255.0
    out = np.where(v <= c - 0.5 - (w - 1) / 2, 0, out)
    out = np.where(v > c - 0.5 + (w - 1) / 2, 255, out)
    return np.clip(np.rint(out), 0, 255)

src = {n: pydicom.dcmread(os.path.join(work, "in", n)) for n in ["ct.dcm", "m1.dcm", "rgb.dcm"]}
for fmt, ext, tol in [("png", ".png", 0), ("jpeg", ".jpg", 6)]:
    rep = json.load(open(os.path.join(work, "rep-%s.json" % fmt)))
    rows = {os.path.basename(r["input"]): r for r in rep["files"]}
    for n, ds in src.items():
        r = rows.get(n)
        if not r or r["status"] != "ok":
            say(False, "%s %s: not released" % (fmt, n)); continue
        out = os.path.join(work, "out-" + fmt, r["output"])
        frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
        if frames > 1:
            files = [out.replace("-f0001" + ext, "-f%04d%s" % (k + 1, ext)) for k in range(frames)]
            say(out.endswith("-f0001" + ext) and all(os.path.exists(f) for f in files),
                "%s %s: %d frame files" % (fmt, n, frames))
        else:
            files = [out]
            say(out.endswith(ext) and os.path.exists(out), "%s %s: one file" % (fmt, n))
        arr = ds.pixel_array.astype(np.float64)
        if n == "ct.dcm":
            want = [window_linear(arr * 1 - 1024, 40, 400)]
        elif n == "m1.dcm":
            lo, hi = arr.min(), arr.max()
            want = [255 - np.clip(np.rint((arr - lo) / (hi - lo) * 255), 0, 255)]
        else:
            want = [arr[k] for k in range(frames)]
        for k, f in enumerate(files):
            if not os.path.exists(f):
                continue
            im = Image.open(f)
            got = np.asarray(im).astype(np.float64)
            ok = got.shape == want[k].shape and np.abs(got - want[k]).mean() <= max(tol, 0.01) \
                 and (tol > 0 or np.array_equal(got, want[k]))
            say(ok, "%s %s frame %d: pixels as the window renders them (mean diff %.2f)"
                % (fmt, n, k, np.abs(got - want[k]).mean() if got.shape == want[k].shape else -1))
            data = open(f, "rb").read()
            if fmt == "png":
                chunks, pos = [], 8
                while pos + 8 <= len(data):
                    ln = int.from_bytes(data[pos:pos + 4], "big")
                    chunks.append(data[pos + 4:pos + 8].decode("latin-1"))
                    pos += 12 + ln
                say(set(chunks) <= {"IHDR", "IDAT", "IEND"}, "%s %s: only IHDR/IDAT/IEND chunks (%s)"
                    % (fmt, n, ",".join(sorted(set(chunks)))))
            else:
                say(b"\xff\xe1" not in data[:64] and b"\xff\xfe" not in data,
                    "%s %s: no EXIF, no comment" % (fmt, n))
            for v in [b"Zyxwerth", b"Quintessa", b"PLANT7731", b"19520311"]:
                if v.lower() in data.lower():
                    say(False, "%s %s: a planted value is in the file" % (fmt, n))
    names = "\n".join(os.path.join(dp, x) for dp, dn, fn in os.walk(os.path.join(work, "out-" + fmt)) for x in dn + fn)
    say(not any(v in names for v in ["Zyxwerth", "PLANT7731", "ct.dcm", "rgb"]), "%s: no input value in output names" % fmt)
sys.exit(1 if fails else 0)
EOF
sed 's/^/  /' compare.txt
check "converted outputs are the windowed frames, with nothing else" sh -c '! grep -q "^FAIL" compare.txt && grep -q "^ok" compare.txt'
finish
