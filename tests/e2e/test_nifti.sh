#!/usr/bin/env bash
# test_nifti.sh - format-nifti end to end: NIfTI-1 and -2, both byte orders,
# .nii, .nii.gz and .hdr/.img, with identifying values planted in descrip,
# aux_file, intent_name, db_name, data_type and in extensions (a comment, an
# AFNI XML and a DICOM extension; hidden bytes after a field's NUL).
#
#   MEDVEIL=build/medveil MEDVEIL_SRC=. bash tests/e2e/test_nifti.sh
#
# After `run --rules research`: no planted value in any output byte (gzip
# outputs inflated) or path; every output loads in nibabel with the input's
# shape, dtype, affine and data, NIfTI version kept, .nii.gz stays .nii.gz;
# the voxel block is byte-identical; the .img of a pair is reported "ok"
# with a note and no output. Hostile files (truncated at many offsets, dims
# that overflow, huge declared sizes, bad vox_offset, extension sizes that
# lie, a gzip bomb, a pair without its .img) are each rejected with the
# expected reason, under `ulimit -v 1000000`, without a crash. Files from
# $MEDVEIL_SHARED/corpus/nifti (when present) must come out ok and equal.
set -euo pipefail

: "${MEDVEIL:?set MEDVEIL to the medveil binary}"
. "$(dirname "$0")/lib.sh"

if ! PY=$(find_py nibabel); then bad "python3 with nibabel not found (apt-get install python3-nibabel)"; finish; exit 1; fi
if [ ! -x "$MEDVEIL" ]; then bad "MEDVEIL=$MEDVEIL is not executable"; finish; exit 1; fi
SHARED=${MEDVEIL_SHARED:-/work/shared}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/medveil-nifti.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- helpers written out for python ---------------------------------------
cat > "$WORK/gen.py" <<'PYEOF'
# Generates NIfTI fixtures with planted identifying values (argv[1]: folder).
import gzip, os, shutil, struct, sys
import numpy as np, nibabel as nib
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
P = {  # planted values: none may come out
    'descrip': 'PLANTdescripSmithJohn', 'aux_file': 'PLANTauxfile',
    'intent_name': 'PLANTintent', 'db_name': 'PLANTdbname', 'data_type': 'PLANTdt',
    'comment': 'Patient name: PLANTcommentDoe, MRN PLANTmrn123',
    'afni': '<?xml version="1.0"?><AFNI_attributes><note>PLANTafniNote</note></AFNI_attributes>',
    'dicom': 'PLANTdicomExtPatient',
}
def affine(i):
    a = np.diag([1.5 + i, 2.0, 2.5, 1.0]); a[:3, 3] = [-10 - i, 20, 5.5]; a[0, 1] = 0.1
    return a
def data(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 1000, size=shape) - 200).astype(dtype)
def plant(hdr, v1=True):
    hdr['descrip'] = P['descrip']; hdr['aux_file'] = P['aux_file']
    hdr['intent_name'] = P['intent_name']
    if v1: hdr['db_name'] = P['db_name']; hdr['data_type'] = P['data_type']
def exts(hdr):
    hdr.extensions.append(nib.nifti1.Nifti1Extension(6, P['comment'].encode()))
    hdr.extensions.append(nib.nifti1.Nifti1Extension(4, P['afni'].encode()))
def dicom_ext_bytes():
    # An explicit VR little endian (0010,0010) PN element, as a DICOM
    # extension would carry it.
    v = P['dicom'].encode(); v += b' ' * (len(v) % 2)
    return b'\x10\x00\x10\x00PN' + struct.pack('<H', len(v)) + v
def add_raw_ext(path, ecode, payload, v2=False):
    """Insert one extension into a plain .nii, fixing vox_offset."""
    b = bytearray(open(path, 'rb').read())
    little = struct.unpack('<i', b[:4])[0] in (348, 540)
    e = '<' if little else '>'
    hs = 540 if v2 else 348
    vo_at, vo_fmt = (168, 'q') if v2 else (108, 'f')
    vo = int(struct.unpack(e + vo_fmt, b[vo_at:vo_at + struct.calcsize(vo_fmt)])[0])
    esize = (8 + len(payload) + 15) // 16 * 16
    blob = struct.pack(e + 'ii', esize, ecode) + payload + b'\0' * (esize - 8 - len(payload))
    b[hs] = 1
    nb = b[:vo] + blob + b[vo:]
    nb[vo_at:vo_at + struct.calcsize(vo_fmt)] = struct.pack(e + vo_fmt, vo + esize)
    open(path, 'wb').write(nb)
specs = []
# 1: NIfTI-1 little endian .nii, int16 3D, with extensions (+ raw DICOM ext)
img = nib.Nifti1Image(data((10, 12, 5), np.int16, 1), affine(0))
plant(img.header); exts(img.header)
nib.save(img, f'{out}/n1_le.nii'); add_raw_ext(f'{out}/n1_le.nii', 2, dicom_ext_bytes())
# 2: NIfTI-1 big endian .nii.gz, float32 4D
h = nib.Nifti1Header(endianness='>')
img = nib.Nifti1Image(data((6, 7, 4, 3), np.float32, 2), affine(1), header=h)
plant(img.header); exts(img.header)
nib.save(img, f'{out}/n1_be.nii.gz')
# 3: NIfTI-1 .hdr/.img pair, uint8
img = nib.Nifti1Pair(data((9, 8, 7), np.uint8, 3), affine(2))
plant(img.header); exts(img.header)
nib.save(img, f'{out}/pair.hdr')
# 4: NIfTI-2 little endian .nii, float64, with raw DICOM ext
img = nib.Nifti2Image(data((5, 6, 7), np.float64, 4), affine(3))
plant(img.header, v1=False); exts(img.header)
nib.save(img, f'{out}/n2_le.nii'); add_raw_ext(f'{out}/n2_le.nii', 2, dicom_ext_bytes(), v2=True)
# 5: NIfTI-2 big endian .nii.gz, int32
h = nib.Nifti2Header(endianness='>')
img = nib.Nifti2Image(data((4, 5, 6, 2), np.int32, 5), affine(4), header=h)
plant(img.header, v1=False); exts(img.header)
nib.save(img, f'{out}/n2_be.nii.gz')
# 6: NIfTI-1 .nii.gz little endian without extensions, hidden bytes after
# descrip's NUL (a naive cleaner keeps them)
img = nib.Nifti1Image(data((3, 4, 5), np.int16, 6), affine(5))
nib.save(img, f'{out}/hidden.nii')
b = bytearray(open(f'{out}/hidden.nii', 'rb').read())
b[148:148 + 40] = b'\0' * 10 + b'PLANThiddenTail' + b'\0' * 15
with gzip.open(f'{out}/hidden.nii.gz', 'wb') as f: f.write(bytes(b))
os.remove(f'{out}/hidden.nii')
PYEOF
cat > "$WORK/check.py" <<'PYEOF'
# check.py IN OUT REPORT: every NIfTI input has an output that loads in
# nibabel with the same shape/dtype/affine/data and byte-identical voxels.
import gzip, json, os, struct, sys
import numpy as np, nibabel as nib
inp, out, rep = sys.argv[1:4]
rows = {os.path.basename(r['input']): r for r in json.load(open(rep))['files']}
fails = 0
def bad(msg):
    global fails; fails += 1; print('FAIL -', msg)
def raw(path):
    op = gzip.open if path.endswith('.gz') else open
    with op(path, 'rb') as f: return f.read()
def block(img, path):
    h = img.header
    n = int(np.prod(h.get_data_shape())) * h.get_data_dtype().itemsize
    if path.endswith('.hdr'):
        b, off = raw(path[:-4] + '.img'), int(img.dataobj.offset)
    else:
        b, off = raw(path), int(img.dataobj.offset)
    return b[off:off + n], n
def load(path):
    # by header version, not by file name (a .dconn.nii would ask for CIFTI)
    b = raw(path)[:4]
    if struct.unpack('<i', b)[0] == 540 or struct.unpack('>i', b)[0] == 540:
        return nib.Nifti2Image.from_filename(path)
    if path.endswith('.hdr'): return nib.Nifti1Pair.from_filename(path)
    return nib.Nifti1Image.from_filename(path)
checked = 0
for name in sorted(os.listdir(inp)):
    if name.endswith('.img'):
        r = rows.get(name)
        if not r or r['status'] != 'ok' or r.get('output') or 'pair' not in (r.get('note') or ''):
            bad(f'{name}: .img companion row {r}')
        continue
    r = rows.get(name)
    if not r or r['status'] != 'ok':
        bad(f'{name}: not ok: {r}'); continue
    o = os.path.join(out, r['output'])
    want_ext = '.nii.gz' if name.endswith('.gz') else '.nii'
    if not o.endswith(want_ext): bad(f'{name}: output {r["output"]} is not {want_ext}')
    a, b = load(os.path.join(inp, name)), load(o)
    if type(b.header).__name__ != ('Nifti2Header' if isinstance(a.header, nib.Nifti2Header) else 'Nifti1Header'):
        bad(f'{name}: NIfTI version changed ({type(b.header).__name__})')
    if a.shape != b.shape: bad(f'{name}: shape {a.shape} != {b.shape}')
    if a.get_data_dtype() != b.get_data_dtype(): bad(f'{name}: dtype changed')
    if not np.array_equal(a.affine, b.affine): bad(f'{name}: affine changed')
    if not np.array_equal(a.get_fdata(), b.get_fdata(), equal_nan=True): bad(f'{name}: data differ')
    ba, na = block(a, os.path.join(inp, name))
    bb, nb = block(b, o)
    if len(ba) != na or ba != bb: bad(f'{name}: voxel bytes differ ({len(ba)}/{len(bb)} of {na})')
    if int(b.dataobj.offset) % 16: bad(f'{name}: vox_offset not 16-aligned')
    checked += 1
print(f'checked {checked} outputs, {fails} failures')
sys.exit(1 if fails or not checked else 0)
PYEOF
cat > "$WORK/hostile.py" <<'PYEOF'
# hostile.py GOOD_NII OUTDIR: broken NIfTI files and the reason each must be
# rejected with (OUTDIR/expect.tsv: name TAB substring of the reason).
import gzip, os, struct, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
good = open(src, 'rb').read()
vo = int(struct.unpack('<f', good[108:112])[0])
exp = []
def put(name, data, why, gz=False):
    with (gzip.open if gz else open)(os.path.join(out, name), 'wb') as f: f.write(data)
    exp.append((name, why))
def patch(b, off, fmt, *v):
    b = bytearray(b); b[off:off + struct.calcsize(fmt)] = struct.pack(fmt, *v); return bytes(b)
for cut in (1, 4, 100, 347):
    put(f'trunc{cut:05d}.nii', good[:cut], 'not a recognised format')
for cut in (348, 351, 352, 360, vo - 1, vo, vo + 1, len(good) - 1):
    put(f'trunc{cut:05d}.nii', good[:cut], 'truncated')
put('trunc_gz.nii.gz', b'', '')  # replaced below: a cut gzip stream
gzb = gzip.compress(good)
open(os.path.join(out, 'trunc_gz.nii.gz'), 'wb').write(gzb[:len(gzb) * 2 // 3])
exp[-1] = ('trunc_gz.nii.gz', 'truncated')
put('gz_trailing_garbage.nii.gz', gzb + b'garbage!', 'corrupt gzip')
bad_crc = bytearray(gzb); bad_crc[-8] ^= 0xff
put('gz_bad_crc.nii.gz', bytes(bad_crc), 'corrupt gzip')
put('dim0_zero.nii', patch(good, 40, '<h', 0), 'dim[0]')
put('dim0_eight.nii', patch(good, 40, '<h', 8), 'dim[0]')
put('dim_negative.nii', patch(good, 44, '<h', -5), 'must be positive')
put('dim_overflow.nii', patch(good, 40, '<8h', 7, 32767, 32767, 32767, 32767, 32767, 32767, 32767),
    'overflow')
put('dim_huge.nii', patch(good, 40, '<8h', 4, 32767, 32767, 32767, 32767, 1, 1, 1),
    'exceeds the limit')
put('bitpix_wrong.nii', patch(good, 72, '<h', 8), 'bitpix')
put('datatype_unknown.nii', patch(good, 70, '<h', 3), 'unknown datatype')
put('voxoff_past_end.nii', patch(good, 108, '<f', 1e7), 'truncated')
put('voxoff_nan.nii', patch(good, 108, '<f', float('nan')), 'vox_offset')
put('voxoff_inside.nii', patch(good, 108, '<f', 100.0), 'inside the header')
put('voxoff_fraction.nii', patch(good, 108, '<f', 352.5), 'vox_offset')
put('ext_size_17.nii', patch(good, 352, '<i', 17), 'multiple of 16')
put('ext_size_huge.nii', patch(good, 352, '<i', 1 << 30), 'runs past')
put('ext_size_negative.nii', patch(good, 352, '<i', -16), 'multiple of 16')
# NIfTI-2: dims whose product overflows 64 bits
n2 = bytearray(540 + 4 + 16)
n2[0:4] = struct.pack('<i', 540); n2[4:12] = b'n+2\0\r\n\x1a\n'
n2[12:16] = struct.pack('<hh', 2, 8)
n2[16:80] = struct.pack('<8q', 3, 1 << 40, 1 << 40, 1 << 40, 1, 1, 1, 1)
n2[168:176] = struct.pack('<q', 544)
put('n2_dim_overflow.nii', bytes(n2), 'overflow')
n2[16:80] = struct.pack('<8q', 3, 1 << 20, 1 << 20, 1 << 20, 1, 1, 1, 1)
put('n2_huge_declared.nii', bytes(n2), 'exceeds the limit')
n2[16:80] = struct.pack('<8q', 3, 4, 4, 4, 1, 1, 1, 1)
n2[168:176] = struct.pack('<q', -1)
put('n2_voxoff_negative.nii', bytes(n2), 'vox_offset')
# gzip bomb: a 10x10x10 uint8 header followed by 300 MB of zeros
b = bytearray(352 + 1000)
b[0:4] = struct.pack('<i', 348); b[344:348] = b'n+1\0'
b[40:56] = struct.pack('<8h', 3, 10, 10, 10, 1, 1, 1, 1)
b[70:74] = struct.pack('<hh', 2, 8); b[108:112] = struct.pack('<f', 352.0)
c = __import__('zlib').compressobj(9, 8, 31)
with open(os.path.join(out, 'bomb.nii.gz'), 'wb') as f:
    f.write(c.compress(bytes(b)))
    z = bytes(1 << 20)
    for _ in range(300): f.write(c.compress(z))
    f.write(c.flush())
exp.append(('bomb.nii.gz', 'gzip bomb'))
# a pair header whose .img is missing, and one whose .img is short
pb = bytearray(good[:352]); pb[344:348] = b'ni1\0'; pb[108:112] = struct.pack('<f', 0.0)
put('lonely.hdr', bytes(pb), 'voxel file')
put('short.hdr', bytes(pb), 'truncated')
open(os.path.join(out, 'short.img'), 'wb').write(good[vo:vo + 10])
with open(os.path.join(out, 'expect.tsv'), 'w') as f:
    for n, w in exp: f.write(f'{n}\t{w}\n')
PYEOF

# ---- fixtures ---------------------------------------------------------------
"$PY" "$WORK/gen.py" "$WORK/in" || { bad "gen.py failed"; finish; exit 1; }
"$MEDVEIL" keygen "$WORK/site.key" >/dev/null
PLANTED="PLANTdescripSmithJohn PLANTauxfile PLANTintent PLANTdbname PLANTdt
PLANTcommentDoe PLANTmrn123 PLANTafniNote PLANTdicomExtPatient PLANThiddenTail"

# every byte of the files below (gzip inflated) on stdout
dump_all() {
  local f
  while IFS= read -r -d '' f; do
    case $f in *.gz) gzip -dc "$f" ;; *) cat "$f" ;; esac
  done < <(find "$1" -type f ! -name '*.json' -print0)
}
# how many of the planted values occur in file $1
count_planted() {
  local n=0 p
  for p in $PLANTED; do
    if LC_ALL=C grep -a -F -q -- "$p" "$1"; then n=$((n + 1)); fi
  done
  echo "$n"
}

dump_all "$WORK/in" > "$WORK/in.bytes"
n=$(count_planted "$WORK/in.bytes")
check "the fixtures carry all 10 planted values (found $n)" [ "$n" -eq 10 ]

# ---- de-identify ------------------------------------------------------------
rc=0
"$MEDVEIL" run --rules research --key "$WORK/site.key" --out "$WORK/out" \
  --report "$WORK/report.json" -q "$WORK/in" >"$WORK/run.log" 2>&1 || rc=$?
check "run exits 0 (every input ok)" [ "$rc" -eq 0 ]
if "$PY" "$WORK/check.py" "$WORK/in" "$WORK/out" "$WORK/report.json" >"$WORK/check.log" 2>&1; then
  ok "outputs load in nibabel, same shape/dtype/affine/data, voxel bytes identical ($(tail -n 1 "$WORK/check.log"))"
else
  bad "output check: $(tail -c 800 "$WORK/check.log")"
fi
dump_all "$WORK/out" > "$WORK/out.bytes"
n=$(count_planted "$WORK/out.bytes")
check "no planted value in any output byte (found $n)" [ "$n" -eq 0 ]
find "$WORK/out" > "$WORK/out.paths"
n=$(count_planted "$WORK/out.paths")
check "no planted value in any output path (found $n)" [ "$n" -eq 0 ]
n=$(find "$WORK/out" -type f -name '*.nii' | awk 'END { print NR }')
m=$(find "$WORK/out" -type f -name '*.nii.gz' | awk 'END { print NR }')
check "3 .nii and 3 .nii.gz outputs (got $n and $m)" [ "$n" -eq 3 ] && [ "$m" -eq 3 ]
n=$(count_planted "$WORK/report.json")
check "the report names no planted value (found $n)" [ "$n" -eq 0 ]

# ---- hostile inputs ---------------------------------------------------------
"$PY" "$WORK/hostile.py" "$WORK/in/n1_le.nii" "$WORK/hostile" || { bad "hostile.py failed"; finish; exit 1; }
mv "$WORK/hostile/expect.tsv" "$WORK/expect.tsv"
# ASan/UBSan builds reserve terabytes of address space and cannot start
# under ulimit -v; they run unbounded (the sanitizers watch memory instead).
VLIMIT=1000000
if ! bash -c 'ulimit -v "$1"; "$0" version; exit $?' "$MEDVEIL" $VLIMIT >/dev/null 2>&1; then
  echo "# $MEDVEIL cannot start under ulimit -v (sanitizer build): run without it"
  VLIMIT=unlimited
fi
rc=0
( ulimit -v $VLIMIT
  exec "$MEDVEIL" run --rules research --key "$WORK/site.key" --out "$WORK/hout" \
    --report "$WORK/hreport.json" -q -j 2 "$WORK/hostile" ) >"$WORK/hrun.log" 2>&1 || rc=$?
check "hostile run ends with status 1, no crash (status $rc)" [ "$rc" -eq 1 ]
if "$PY" - "$WORK/hreport.json" "$WORK/expect.tsv" "$WORK/hostile" >"$WORK/hcheck.log" 2>&1 <<'PYEOF'
import json, os, sys
rows = {os.path.basename(r['input']): r for r in json.load(open(sys.argv[1]))['files']}
want = dict(l.rstrip('\n').split('\t') for l in open(sys.argv[2]))
fails = 0
for name in sorted(os.listdir(sys.argv[3])):
    r = rows.get(name)
    if name == 'short.img':  # the .img of a (broken) pair: a note, no output
        if not r or r['status'] != 'ok' or r.get('output'): fails += 1; print('FAIL', name, r)
        continue
    if not r or r['status'] != 'rejected' or want[name] not in r.get('reason', ''):
        fails += 1; print('FAIL', name, 'wanted', repr(want[name]), 'got', r)
print(f'{len(want)} hostile files, {fails} unexpected')
sys.exit(1 if fails or len(want) < 30 else 0)
PYEOF
then ok "every hostile file rejected with its reason ($(tail -n 1 "$WORK/hcheck.log"))"
else bad "hostile: $(tail -c 1500 "$WORK/hcheck.log")"; fi
n=$(find "$WORK/hout" -type f \( -name '*.nii' -o -name '*.nii.gz' \) | awk 'END { print NR }')
check "no output from hostile files (got $n)" [ "$n" -eq 0 ]

# ---- shared corpus ----------------------------------------------------------
if [ -d "$SHARED/corpus/nifti" ]; then
  rc=0
  "$MEDVEIL" run --rules research --key "$WORK/site.key" --out "$WORK/cout" \
    --report "$WORK/creport.json" -q "$SHARED/corpus/nifti" >"$WORK/crun.log" 2>&1 || rc=$?
  check "corpus/nifti: every file ok" [ "$rc" -eq 0 ]
  if "$PY" "$WORK/check.py" "$SHARED/corpus/nifti" "$WORK/cout" "$WORK/creport.json" >"$WORK/ccheck.log" 2>&1; then
    ok "corpus/nifti: outputs equal the inputs in nibabel, voxel bytes identical ($(tail -n 1 "$WORK/ccheck.log"))"
  else
    bad "corpus/nifti: $(tail -c 800 "$WORK/ccheck.log")"
  fi
else
  echo "# $SHARED/corpus/nifti absent: corpus part skipped"
fi
finish
