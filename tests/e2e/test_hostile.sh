#!/usr/bin/env bash
# test_hostile.sh - the hostile-input matrix: for every format with a plugin
# in the build (DICOM always; PNG, JPEG, NIfTI when built) empty files,
# truncations at many offsets, lengths past the end, absurd dimensions,
# random bytes with the right extension, a .dcm that is a PNG; plus archive
# tricks. The whole batch runs under `ulimit -v 4000000` and a timeout:
# no crash, no hang, a report row (ok or a reason) for every input and
# member, nothing written outside OUT, nothing half-written.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PY=$(find_py PIL) || { echo "FAIL - no python3 with pydicom and PIL"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
plugdir="$MEDVEIL_BUILD/plugins"
fmts="dicom"
for f in png jpeg nifti; do
  [ -f "$plugdir/format-$f.so" ] && fmts="$fmts $f"
done
echo "# formats with a plugin: $fmts"

cat >gen.py <<'PYEOF'
import io, os, random, struct, sys, tarfile, zipfile, zlib
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

out, fmts = sys.argv[1], sys.argv[2].split()
os.makedirs(out, exist_ok=True)
rnd = random.Random(7)
TD = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
expect = open(os.path.join(out, "..", "expect.tsv"), "w")

def put(name, data, want=""):
    open(os.path.join(out, name), "wb").write(data)
    if want:
        expect.write("%s\t%s\n" % (name, want))

def dicom_bytes(ds):
    b = io.BytesIO()
    ds.save_as(b, write_like_original=False)
    return b.getvalue()

def png_bytes(w, h, raw=None, color=0):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    if raw is None:
        raw = b"".join(b"\0" + bytes([(x * 7 + y) & 255 for x in range(w)]) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

def variants(stem, ext, valid, extra):
    put("%s_valid.%s" % (stem, ext), valid, "ok")
    put("%s_empty.%s" % (stem, ext), b"", "rejected")
    n = len(valid)
    cuts = sorted({1, 2, 3, 4, 8, 16, 64, 127, 128, 131, 132, 200, 512, 1024,
                   n // 4, n // 3, n // 2, n - 100, n - 10, n - 2, n - 1})
    for c in cuts:
        if 0 < c < n:
            put("%s_trunc%06d.%s" % (stem, c, ext), valid[:c])
    for i in range(6):
        size = rnd.choice([1, 7, 100, 600, 4096, 70000])
        put("%s_random%d.%s" % (stem, i, ext), bytes(rnd.getrandbits(8) for _ in range(size)))
    for name, data in extra:
        put("%s_%s.%s" % (stem, name, ext), data)

# ---- DICOM (always) -----------------------------------------------------------
ct = open(os.path.join(TD, "CT_small.dcm"), "rb").read()
def patch_len_past_end(raw, tag):
    i = raw.find(tag)
    b = bytearray(raw)
    if raw[i + 4:i + 6] in (b"OB", b"OW", b"UN", b"SQ", b"UT"):
        b[i + 8:i + 12] = struct.pack("<I", 0x7FFFFFF0)
    else:
        b[i + 4:i + 8] = struct.pack("<I", 0x7FFFFFF0)
    return bytes(b)
def dicom_dims(rows, cols, frames=None, bits=16):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.PatientName = "HOSTILE^TEST"
    ds.Modality = "OT"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = bits; ds.BitsStored = bits; ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if frames: ds.NumberOfFrames = frames
    ds.PixelData = b"\0" * 128
    return dicom_bytes(ds)
dcm_extra = [("pixlen_past_end", patch_len_past_end(ct, b"\xe0\x7f\x10\x00")),
             ("namelen_past_end", patch_len_past_end(ct, b"\x10\x00\x10\x00")),
             ("dims_65535", dicom_dims(65535, 65535)),
             ("dims_zero", dicom_dims(0, 0)),
             ("frames_huge", dicom_dims(512, 512, 2147483647)),
             ("bits_odd", dicom_dims(4, 4, None, 64))]
variants("dcm", "dcm", ct, dcm_extra)

# A .dcm that is a PNG: processed as PNG when the PNG plugin exists.
put("png_named.dcm", png_bytes(32, 16), "ok:png" if "png" in fmts else "rejected")

if "png" in fmts:
    valid = png_bytes(64, 48)
    huge = bytearray(png_bytes(8, 8))
    def ihdr(w, h):
        d = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
        return struct.pack(">I", 13) + b"IHDR" + d + struct.pack(">I", zlib.crc32(b"IHDR" + d) & 0xffffffff)
    absurd = b"\x89PNG\r\n\x1a\n" + ihdr(0x7FFFFFFF, 0x7FFFFFFF) + valid[33:]
    wide = b"\x89PNG\r\n\x1a\n" + ihdr(1 << 20, 1 << 20) + valid[33:]
    zero = b"\x89PNG\r\n\x1a\n" + ihdr(0, 0) + valid[33:]
    pastend = bytearray(valid); pastend[33:37] = struct.pack(">I", 0x7FFFFFF0)
    variants("png", "png", valid, [("dims_max", absurd), ("dims_1m", wide), ("dims_zero", zero),
                                   ("chunk_past_end", bytes(pastend))])

if "jpeg" in fmts:
    from PIL import Image
    b = io.BytesIO()
    Image.new("L", (64, 48), 90).save(b, "JPEG")
    valid = b.getvalue()
    def patch_sof(w, h):
        v = bytearray(valid); i = v.find(b"\xff\xc0")
        v[i + 5:i + 7] = struct.pack(">H", h); v[i + 7:i + 9] = struct.pack(">H", w)
        return bytes(v)
    seg = bytearray(valid); i = seg.find(b"\xff\xdb"); seg[i + 2:i + 4] = b"\xff\xff"
    variants("jpg", "jpg", valid, [("dims_max", patch_sof(65535, 65535)), ("dims_zero", patch_sof(0, 0)),
                                   ("segment_past_end", bytes(seg))])

if "nifti" in fmts:
    hdr = bytearray(348)
    struct.pack_into("<i", hdr, 0, 348)
    struct.pack_into("<8h", hdr, 40, 3, 4, 4, 4, 1, 1, 1, 1)
    struct.pack_into("<hh", hdr, 70, 4, 16)          # datatype int16, bitpix
    struct.pack_into("<8f", hdr, 76, 1, 1, 1, 1, 1, 1, 1, 1)
    struct.pack_into("<f", hdr, 108, 352.0)          # vox_offset
    hdr[344:348] = b"n+1\0"
    valid = bytes(hdr) + b"\0" * 4 + b"\1\0" * 64
    def nii(**kw):
        h = bytearray(valid)
        if "dims" in kw: struct.pack_into("<8h", h, 40, *kw["dims"])
        if "vox" in kw: struct.pack_into("<f", h, 108, kw["vox"])
        if "size" in kw: struct.pack_into("<i", h, 0, kw["size"])
        return bytes(h)
    variants("nii", "nii", valid, [("dims_max", nii(dims=(7, 32767, 32767, 32767, 32767, 32767, 32767, 32767))),
                                   ("dims_negative", nii(dims=(3, -4, 4, 4, 1, 1, 1, 1))),
                                   ("vox_past_end", nii(vox=1e9)),
                                   ("sizeof_hdr_bad", nii(size=12345))])

# ---- archive tricks (member names carry the token mvhostile) -------------------
def zip_raw(entries):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for i, (name, data) in enumerate(entries):
            z.writestr(chr(65 + i) * len(name), data)
    raw = b.getvalue()
    for i, (name, data) in enumerate(entries):
        raw = raw.replace((chr(65 + i) * len(name)).encode(), name.encode())
    return raw
def zip_of(items, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for n, d in items:
            z.writestr(n, d)
    return b.getvalue()
put("arc_paths.zip", zip_raw([("/tmp/mvhostile_abs.dcm", ct), ("../mvhostile_up.dcm", ct),
                              ("ok_mvhostile.dcm", ct)]))
t = io.BytesIO()
with tarfile.open(fileobj=t, mode="w") as tf:
    ti = tarfile.TarInfo("mvhostile_sym.dcm"); ti.type = tarfile.SYMTYPE; ti.linkname = "/etc/passwd"; tf.addfile(ti)
    ti = tarfile.TarInfo("../../mvhostile_up.dcm"); ti.size = len(ct); tf.addfile(ti, io.BytesIO(ct))
    ti = tarfile.TarInfo("mvhostile_fifo"); ti.type = tarfile.FIFOTYPE; tf.addfile(ti)
put("arc_links.tar", t.getvalue())
put("arc_bomb.zip", zip_of([("mvhostile_zeros.dcm", b"\0" * (96 << 20))]))
inner = zip_of([("mvhostile_z.dcm", b"\0" * (32 << 20))])
lvl2 = zip_of([("mvhostile_l2_%d.zip" % i, inner) for i in range(4)])
put("arc_42.zip", zip_of([("mvhostile_l1_%d.zip" % i, lvl2) for i in range(4)]))
put("arc_deep.zip", zip_of([("mvhostile_a.zip", zip_of([("mvhostile_b.zip", zip_of([("mvhostile_c.dcm", ct)]))]))]))
put("arc_many.zip", zip_of([("mvhostile_%04d.dcm" % i, b"") for i in range(3000)], zipfile.ZIP_STORED))
put("arc_corrupt.zip", b"PK\x03\x04" + bytes(rnd.getrandbits(8) for _ in range(5000)))
good = zip_of([("mvhostile_ok.dcm", ct)])
put("arc_trunc.zip", good[: len(good) // 2])
tg = io.BytesIO()
with tarfile.open(fileobj=tg, mode="w:gz") as tf:
    ti = tarfile.TarInfo("mvhostile_t.dcm"); ti.size = len(ct); tf.addfile(ti, io.BytesIO(ct))
put("arc_trunc.tar.gz", tg.getvalue()[:300])
PYEOF
mkdir in
"$PY" gen.py in/hostile "$fmts" >gen.log 2>&1 || { cat gen.log; bad "generate"; finish; exit 1; }
ninputs=$(find in/hostile -type f | awk 'END{print NR}')
echo "# $ninputs hostile inputs"
"$MEDVEIL" keygen key >/dev/null

# ASan reserves terabytes of address space: the memory cap is for plain builds.
cap=4000000
if grep -qs 'MEDVEIL_SANITIZE:BOOL=ON' "$MEDVEIL_BUILD/CMakeCache.txt" ||
   ldd "$MEDVEIL" 2>/dev/null | awk '/libasan/ { f = 1 } END { exit !f }'; then
  cap=unlimited
fi
echo "# memory cap: $cap"

# A stray file would carry a member's name (token mvhostile). Other tests
# running at the same time leave .part files of their own under /tmp, so
# .part files are looked for in this run's OUT only (below).
strays() {
  # find fails when another test's temp dir vanishes under it: not ours.
  { find /tmp -xdev -maxdepth 4 -name '*mvhostile*' 2>/dev/null || true; } |
    awk -v t="$tmp" 'index($0, t "/in/") != 1' | LC_ALL=C sort
}
strays >strays.before
mkdir runs # the parent of every OUT: nothing but OUT may appear in it

# run NAME INPUT...: the batch under the memory cap and a hang guard.
run() {
  local name=$1; shift
  set +e
  (ulimit -v "$cap"; exec timeout 900 "$MEDVEIL" run --rules basic --key key \
    --out "runs/out-$name" --report "$name.json" -q "$@") 2>"$name.err"
  rc=$?
  set -e
}
rows() {
  "$PY" -c 'import json,sys
for f in json.load(open(sys.argv[1]))["files"]:
    print("%s\t%s\t%s\t%s" % (f["input"], f["status"], f.get("format") or "",
                              f.get("reason") or ""))' "$1"
}

MEDVEIL_ARCHIVE_LIMITS="members=1000" run hostile in/hostile
check "hostile batch: no crash, no hang (exit $rc is 0 or 1)" [ "$rc" -eq 0 -o "$rc" -eq 1 ]
if [ -s hostile.json ]; then
  rows hostile.json >hostile.tsv
else
  : >hostile.tsv; bad "hostile batch wrote a report"
fi
# Every input has a row: a plain file as its own input, an archive as the
# prefix of its members' rows (or its own row when refused as a whole).
find in/hostile -type f | LC_ALL=C sort >inputs.list
missing=$(awk -F'\t' 'NR == FNR { seen[$1] = 1; split($1, p, "!"); seen[p[1]] = 1; next }
                      !($0 in seen) { m++ } END { print m + 0 }' hostile.tsv inputs.list)
check "every input has a report row (missing $missing of $ninputs)" [ "$missing" -eq 0 ]
dups=$(awk -F'\t' 'index($1, "!") == 0 { c[$1]++ } END { for (k in c) if (c[k] > 1) d++; print d + 0 }' hostile.tsv)
check "no plain input reported twice ($dups)" [ "$dups" -eq 0 ]
noreason=$(awk -F'\t' '$2 != "ok" && $4 == ""' hostile.tsv | awk 'END{print NR}')
check "every refusal has a reason ($noreason without)" [ "$noreason" -eq 0 ]
# What the generator says about particular files.
while IFS=$'\t' read -r name want; do
  got=$(awk -F'\t' -v p="in/hostile/$name" '$1 == p { print $2 ":" $3 }' hostile.tsv)
  case "$want" in
    ok:*) fmt=${want#ok:}
          check "$name is ok as $fmt ($got)" sh -c 'case "$1" in ok:*"$2"*) exit 0;; *) exit 1;; esac' _ "$got" "$fmt" ;;
    *) check "$name is $want ($got)" sh -c 'case "$1" in "$2":*) exit 0;; *) exit 1;; esac' _ "$got" "$want" ;;
  esac
done <in/expect.tsv
has() { awk -F'\t' -v p="$1" -v r="$2" 'index($1, p) == 1 && $2 == "rejected" && index($4, r) { f = 1 } END { exit !f }' hostile.tsv; }
check "absolute member refused" has "in/hostile/arc_paths.zip!/tmp/mvhostile_abs.dcm" "absolute"
check "../ member refused" has "in/hostile/arc_paths.zip!../mvhostile_up.dcm" "'..'"
check "symlink member refused" has "in/hostile/arc_links.tar!mvhostile_sym.dcm" "symbolic link"
check "fifo member refused" has "in/hostile/arc_links.tar!mvhostile_fifo" "fifo"
check "zip bomb refused" has "in/hostile/arc_bomb.zip!" "bomb"
check "42.zip-style bomb refused" has "in/hostile/arc_42.zip!" "nested deeper"
check "nesting beyond depth 2 refused" has "in/hostile/arc_deep.zip!mvhostile_a.zip!mvhostile_b.zip" "nested deeper"
check "member-count bomb bounded" has "in/hostile/arc_many.zip" "more than 1000 members"
check "corrupt archive refused" has "in/hostile/arc_corrupt.zip" "archive"
check "truncated zip reported" has "in/hostile/arc_trunc.zip" ""
check "truncated tar.gz reported" has "in/hostile/arc_trunc.tar.gz" ""
# Nothing outside OUT, nothing half-written.
strays >strays.after
check "no stray member-named file under /tmp" cmp -s strays.before strays.after
extra=$(ls -A runs | awk '$0 != "out-hostile"' | awk 'END{print NR}')
check "nothing beside OUT in its parent ($extra)" [ "$extra" -eq 0 ]
parts=$(find runs/out-hostile \( -name '*.part' -o -name '.medveil-tmp' -o -name '*mvhostile*' \) | awk 'END{print NR}')
check "no .part, temp folder or member-named file in OUT ($parts)" [ "$parts" -eq 0 ]
big=$(find runs/out-hostile -size +10M | awk 'END{print NR}')
check "no bomb output in OUT ($big)" [ "$big" -eq 0 ]
check "no patient value in messages" sh -c '! grep -q "HOSTILE" "$1"' _ hostile.err

# The shared corpus of bad files, when present, under the same constraints.
shared=${MEDVEIL_SHARED:-/work/shared}
if [ -d "$shared/corpus/bad" ]; then
  run bad "$shared/corpus/bad"
  check "corpus/bad: no crash, no hang (exit $rc)" [ "$rc" -eq 0 -o "$rc" -eq 1 ]
  [ -s bad.json ] && rows bad.json >bad.tsv || : >bad.tsv
  find "$shared/corpus/bad" -type f | LC_ALL=C sort >bad.list
  nb=$(awk 'END{print NR}' bad.list)
  missing=$(awk -F'\t' 'NR == FNR { seen[$1] = 1; split($1, p, "!"); seen[p[1]] = 1; next }
                        !($0 in seen) { m++ } END { print m + 0 }' bad.tsv bad.list)
  check "corpus/bad: every file has a row (missing $missing of $nb)" [ "$missing" -eq 0 ]
  parts=$(find runs/out-bad -name '*.part' | awk 'END{print NR}')
  check "corpus/bad: nothing half-written ($parts)" [ "$parts" -eq 0 ]
fi
# Under ASan/UBSan builds: no sanitizer report in any run's messages.
san=$(cat ./*.err 2>/dev/null | awk '/Sanitizer|runtime error:/' | awk 'END{print NR}')
check "no sanitizer report ($san)" [ "$san" -eq 0 ]
finish
