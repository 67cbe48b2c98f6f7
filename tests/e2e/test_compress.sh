#!/usr/bin/env bash
# test_compress.sh - `run --compress htj2k[-rpcl|-general]|jpegls|j2k|none`: every object
# released, the right transfer syntax in the meta, and every frame decoded
# by an independent decoder (OpenJPH's ojph_expand for HTJ2K, dcmtk's
# dcmdjpls for JPEG-LS, openjpeg's opj_decompress for JPEG 2000) equal to
# the uncompressed output, sample for sample.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PY=$(find_py pydicom) || { echo "FAIL - no python3 with pydicom"; exit 1; }
for t in ojph_expand opj_decompress dcmdjpls; do
  command -v $t >/dev/null || { echo "FAIL - $t missing (see scripts/install-deps.sh)"; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mv-compress.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir in
# Inputs: native grey 16-bit (signed and not), RLE grey, RLE RGB single and
# multi-frame, lossy JPEG (decodes to RGB), and a generated 8-bit 3-frame
# grey image with a ramp (so the codecs have something to compress).
"$PY" - in <<'EOF'
import os, shutil, sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
out = sys.argv[1]
src = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
for n in ["CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "SC_rgb_rle.dcm",
          "SC_rgb_rle_2frame.dcm", "SC_rgb_jpeg_dcmtk.dcm"]:
    if os.path.exists(os.path.join(src, n)):
        shutil.copy(os.path.join(src, n), os.path.join(out, n))
ds = Dataset()
ds.file_meta = FileMetaDataset()
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7.2"
ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
ds.PatientName, ds.PatientID, ds.Modality = "RAMP^TEST", "RAMP01", "OT"
ds.Rows, ds.Columns, ds.NumberOfFrames = 96, 80, 3
ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
y, x = np.mgrid[0:96, 0:80]
frames = np.stack([((x + y * 2 + 17 * f) % 256).astype(np.uint8) for f in range(3)])
ds.PixelData = frames.tobytes()
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.save_as(os.path.join(out, "ramp_mf.dcm"), write_like_original=False)
# 12 stored bits at the top of 16 (HighBit 15): no codec here can carry
# them, so the object must be kept as read, with a note.
ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
del ds.NumberOfFrames
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 15
ds.PixelData = ((frames[0].astype(np.uint16) * 16) << 4).tobytes()
ds.save_as(os.path.join(out, "highbit15.dcm"), write_like_original=False)
EOF
n_in=$(ls in | wc -l)
"$MEDVEIL" keygen key >/dev/null
for c in none htj2k htj2k-rpcl htj2k-general jpegls j2k; do
  set +e
  "$MEDVEIL" run --rules basic --key key --out "out-$c" --report "rep-$c.json" --compress "$c" -q in \
    >"run-$c.log" 2>&1
  rc=$?
  set -e
  check "--compress $c: exit 0 ($rc)" test "$rc" -eq 0
done
check "--compress bogus is a usage error" sh -c '"$1" run --rules basic --key key --out x --report x.json --compress lzw in >/dev/null 2>&1; test $? -eq 2' _ "$MEDVEIL"

# Compare every compressed output with the uncompressed one.
"$PY" - "$WORK" "$n_in" <<'EOF' >compare.txt 2>&1 || true
import json, os, subprocess, sys
import numpy as np
import pydicom
from pydicom.encaps import generate_pixel_data_frame
work, n_in = sys.argv[1], int(sys.argv[2])
want = {"htj2k": "1.2.840.10008.1.2.4.201", "htj2k-rpcl": "1.2.840.10008.1.2.4.202",
        "htj2k-general": "1.2.840.10008.1.2.4.203", "jpegls": "1.2.840.10008.1.2.4.80",
        "j2k": "1.2.840.10008.1.2.4.90"}

def rows(c):
    r = json.load(open(os.path.join(work, "rep-%s.json" % c)))
    # keyed by input: outputs sharing a SOP Instance UID get content-named
    # variants, which differ between encodings
    return {f["input"]: f for f in r["files"] if f["status"] == "ok"}, r

def masked(a, bits):
    a = a.astype(np.int64)
    return a & ((1 << bits) - 1)

def read_pnm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts, pos = [], 0
    while len(parts) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        parts.append(data[pos:end]); pos = end
    pos += 1
    magic, w, h, mx = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
    ch = 3 if magic == b"P6" else 1
    dt = ">u2" if mx > 255 else "u1"
    return np.frombuffer(data[pos:], dtype=dt, count=w * h * ch).reshape(h, w, ch).squeeze()

base, _ = rows("none")
fails = 0
def bad(msg):
    global fails
    fails += 1
    print("FAIL - " + msg)
print("ok   - none: %d of %d released" % (len(base), n_in) if len(base) == n_in else "FAIL - none released %d of %d" % (len(base), n_in))
if len(base) != n_in:
    fails += 1
for c in ["htj2k", "htj2k-rpcl", "htj2k-general", "jpegls", "j2k"]:
    got, rep = rows(c)
    if len(got) != n_in:
        bad("%s: %d of %d released" % (c, len(got), n_in))
    checked = kept = 0
    for inp, f in got.items():
        out = f["output"]
        note = f.get("note") or ""
        if note.startswith("kept in its own encoding"):
            kept += 1
            continue
        p = os.path.join(work, "out-" + c, out)
        ref = pydicom.dcmread(os.path.join(work, "out-none", base[inp]["output"]))
        ds = pydicom.dcmread(p)
        ts = str(ds.file_meta.TransferSyntaxUID)
        if ts != want[c]:
            bad("%s: %s has transfer syntax %s" % (c, out, ts)); continue
        nf = int(getattr(ref, "NumberOfFrames", 1) or 1)
        bits = int(ref.BitsStored)
        refarr = ref.pixel_array.reshape((nf,) + ref.pixel_array.shape[-3 + (ref.SamplesPerPixel == 1):]) if nf > 1 else ref.pixel_array[None]
        if c == "jpegls":
            dec = os.path.join(work, "dec.dcm")
            subprocess.run(["dcmdjpls", p, dec], check=True, capture_output=True)
            arr = pydicom.dcmread(dec).pixel_array
            arr = arr.reshape(refarr.shape)
        else:
            frames = list(generate_pixel_data_frame(ds.PixelData, nf))
            arrs = []
            for i, fr in enumerate(frames):
                cs = os.path.join(work, "f.j2c")
                open(cs, "wb").write(fr)
                ext = "ppm" if int(ref.SamplesPerPixel) == 3 else "pgm"
                img = os.path.join(work, "f." + ext)
                if c.startswith("htj2k"):
                    r = subprocess.run(["ojph_expand", "-i", cs, "-o", img], capture_output=True)
                else:
                    r = subprocess.run(["opj_decompress", "-i", cs, "-o", img], capture_output=True)
                if r.returncode != 0 or not os.path.exists(img):
                    bad("%s: %s frame %d: independent decoder failed" % (c, out, i)); break
                arrs.append(read_pnm(img)); os.unlink(img)
            if len(arrs) != nf:
                continue
            arr = np.stack(arrs).astype(np.int64)
            if c == "j2k" and int(ref.PixelRepresentation) == 1:
                arr -= 1 << (bits - 1)  # opj_decompress writes signed data offset to unsigned
        if not np.array_equal(masked(arr, bits), masked(refarr, bits)):
            bad("%s: %s decodes to other samples than the uncompressed output" % (c, out)); continue
        checked += 1
    hb = [f for i, f in got.items() if i.endswith("highbit15.dcm")]
    if not hb or not (hb[0].get("note") or "").startswith("kept in its own encoding: HighBit 15"):
        bad("%s: the HighBit 15 object is not kept as read with its reason" % c)
    print("%s - %s: %d objects decoded independently and equal, %d kept as read" %
          ("ok  " if checked >= 4 else "FAIL", c, checked, kept))
    if checked < 4:
        fails += 1
    a = sum(base[o]["bytes_out"] for o in got if o in base)
    b = sum(f["bytes_out"] for f in got.values())
    print("# %s: %d bytes uncompressed -> %d (ratio %.2f)" % (c, a, b, a / b if b else 0))
    if not b < a:
        bad("%s: output not smaller than uncompressed" % c)
sys.exit(1 if fails else 0)
EOF
sed 's/^/  /' compare.txt
check "independent decoders agree with the uncompressed outputs" sh -c '! grep -q "^FAIL" compare.txt && grep -q "^ok" compare.txt'
finish
