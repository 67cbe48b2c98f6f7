#!/usr/bin/env bash
# test_jpeg.sh - JPEG files end to end through format-jpeg.
#
#   MEDVEIL=build/medveil MEDVEIL_SRC=. bash tests/e2e/test_jpeg.sh
#
# Generates JPEGs with PIL and hand-built segments, planting identifying
# values in every place JPEG metadata hides: EXIF IFD0 (ImageDescription,
# Artist, Copyright), the Exif IFD (DateTimeOriginal, UserComment,
# MakerNote, BodySerialNumber, CameraOwnerName), GPS coordinates, an EXIF
# thumbnail that carries its own comment, XMP, extended XMP, IPTC (APP13),
# COM, an unknown APP5 and bytes after EOI; little- and big-endian EXIF,
# baseline RGB and grey, progressive. Then, for --rules research and basic:
#  - no planted value in any output byte or output path;
#  - the ICC profile and EXIF Orientation survive (the profiles keep them);
#  - outputs open in PIL and djpeg;
#  - the entropy-coded data is byte-identical when no pixel changed;
#  - an image with burned-in text has it redacted (research) and only 8x8
#    blocks in the text band differ (grey image: exact block comparison);
#  - hostile files (truncated at many offsets, 60000-pixel SOF, EXIF IFD
#    loop, segment length past the end, absurd IFD count) are rejected with
#    a reason, every run under `ulimit -v 1000000` (skipped for sanitizer
#    builds, which cannot start under it), and no run crashes;
#  - the JPEGs of the shared corpus (MEDVEIL_SHARED, default /work/shared)
#    when present: every one is reported, outputs open, no pixel change
#    leaves the scans byte-identical.
set -euo pipefail

: "${MEDVEIL:?set MEDVEIL to the medveil binary}"
SRC=${MEDVEIL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARED=${MEDVEIL_SHARED:-/work/shared}
. "$(dirname "$0")/lib.sh"

if ! PY=$(find_py PIL); then bad "python3 with PIL not found (apt-get install python3-pil)"; finish; exit 1; fi
if ! "$PY" -c "import numpy" 2>/dev/null; then bad "python3-numpy not found"; finish; exit 1; fi
if [ ! -x "$MEDVEIL" ]; then bad "MEDVEIL=$MEDVEIL is not executable"; finish; exit 1; fi
command -v djpeg >/dev/null || { bad "djpeg not found (apt-get install libjpeg-turbo-progs)"; finish; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/medveil-jpeg.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/in" "$WORK/bad"

# ---------------------------------------------------------------- fixtures
"$PY" - "$WORK/in" "$WORK/bad" >"$WORK/gen.log" 2>&1 <<'PYEOF' || { bad "fixture generation failed: $(tail -n 3 "$WORK/gen.log")"; finish; exit 1; }
import io, json, os, struct, sys
from PIL import Image, ImageDraw, ImageFont

indir, baddir = sys.argv[1:3]

def tiff_ifd(entries, base, be, next_off=0):
    E = '>' if be else '<'
    n = len(entries)
    data_off = base + 2 + 12 * n + 4
    ifd, data = struct.pack(E + 'H', n), b''
    for tag, typ, count, val in sorted(entries, key=lambda e: e[0]):
        if len(val) <= 4:
            ifd += struct.pack(E + 'HHI', tag, typ, count) + val.ljust(4, b'\0')
        else:
            if (data_off + len(data)) % 2: data += b'\0'
            ifd += struct.pack(E + 'HHII', tag, typ, count, data_off + len(data))
            data += val
    return ifd + struct.pack(E + 'I', next_off), data

def asc(s): return s.encode() + b'\0'

def exif_app1(be=False, thumb=None, loop=False, huge_count=False):
    E = '>' if be else '<'
    R = lambda *nd: b''.join(struct.pack(E + 'II', a, b) for a, b in nd)
    S = lambda v: struct.pack(E + 'H', v)
    L = lambda v: struct.pack(E + 'I', v)
    def build(offs):
        ifd0 = [(0x010E, 2, 0, asc('PLANT-DESC-7731')), (0x013B, 2, 0, asc('PLANT-ARTIST Jane Roe')),
                (0x8298, 2, 0, asc('PLANT-COPYRIGHT')), (0x0112, 3, 1, S(6)),
                (0x010F, 2, 0, asc('AcmeCam')),
                (0x8769, 4, 1, L(8 if loop else offs.get('exif', 0))),
                (0x8825, 4, 1, L(offs.get('gps', 0)))]
        exif = [(0x9003, 2, 0, asc('2019:03:04 05:06:07')),
                (0x9286, 7, 0, b'ASCII\0\0\0PLANT-USERCOMMENT'),
                (0x927C, 7, 0, b'PLANT-MAKERNOTE serial 998877'.ljust(40, b'\0')),
                (0xA431, 2, 0, asc('PLANT-BODYSERIAL')), (0xA430, 2, 0, asc('PLANT-OWNER')),
                (0x9000, 7, 0, b'0232')]
        gps = [(0x0001, 2, 0, asc('N')), (0x0002, 5, 3, R((47, 1), (22, 1), (5531, 100))),
               (0x0003, 2, 0, asc('E')), (0x0004, 5, 3, R((8, 1), (32, 1), (4411, 100))),
               (0x001D, 2, 0, asc('2019:03:04'))]
        fix = lambda es: [(t, ty, c if c else len(v), v) for t, ty, c, v in es]
        ifd0, exif, gps = fix(ifd0), fix(exif), fix(gps)
        out, pos = {}, 8
        pad = lambda b: b + (b'\0' if len(b) % 2 else b'')
        i0, d0 = tiff_ifd(ifd0, pos, be, offs.get('ifd1', 0) if thumb else 0)
        blk0 = pad(i0 + d0); pos += len(blk0)
        out['exif'] = pos; ie, de = tiff_ifd(exif, pos, be); blke = pad(ie + de); pos += len(blke)
        out['gps'] = pos; ig, dg = tiff_ifd(gps, pos, be); blkg = pad(ig + dg); pos += len(blkg)
        blob = b''
        if thumb:
            out['ifd1'] = pos
            t1 = [(0x0103, 3, 1, S(6)), (0x0201, 4, 1, L(offs.get('thumb', 0))), (0x0202, 4, 1, L(len(thumb)))]
            i1, d1 = tiff_ifd(t1, pos, be); pos += len(i1) + len(d1)
            out['thumb'] = pos
            blob = i1 + d1 + thumb
        t = (b'MM\0*' if be else b'II*\0') + L(8) + blk0 + blke + blkg + blob
        if huge_count:
            t = t[:8] + S(0xF000) + t[10:]
        return t, out
    offs = {}
    for _ in range(3):
        t, offs = build(offs)
    body = b'Exif\0\0' + t
    return b'\xff\xe1' + struct.pack('>H', len(body) + 2) + body

def seg(marker, payload):
    return bytes([0xFF, marker]) + struct.pack('>H', len(payload) + 2) + payload

def jpeg_bytes(im, **kw):
    b = io.BytesIO(); im.save(b, 'JPEG', **kw); return b.getvalue()

def picture(w, h, mode):
    im = Image.new(mode, (w, h), 'white' if mode == 'RGB' else 255)
    d = ImageDraw.Draw(im)
    for x in range(0, w, 8):
        d.line([(x, 0), (x, h)], fill=(x * 2 % 256, 90, 160) if mode == 'RGB' else x * 2 % 256)
    return im

ICC = b'\0\0\0\x30' + b'ICCFAKEPROFILE-KEEP-ME' + bytes(range(22))

def split_jfif(main):
    assert main[2:4] == b'\xff\xe0'
    jl = struct.unpack('>H', main[4:6])[0]
    return main[2:4 + jl], main[4 + jl:]

def planted(progressive=False, mode='RGB', be=False, loop=False, huge_count=False):
    thumb = jpeg_bytes(picture(32, 24, 'RGB'), quality=70)
    thumb = thumb[:2] + seg(0xFE, b'PLANT-THUMBCOMMENT') + thumb[2:]
    jfif, rest = split_jfif(jpeg_bytes(picture(96, 64, mode), quality=85, progressive=progressive))
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>PLANT-XMP-CREATOR</dc:creator></x:xmpmeta>'
    ext = b'http://ns.adobe.com/xmp/extension/\0' + b'0' * 32 + struct.pack('>II', 40, 0) + b'PLANT-XMPEXT'
    iptc = b'Photoshop 3.0\x008BIM\x04\x04\0\0' + struct.pack('>I', 20) + b'\x1c\x02\x50\x00\x0ePLANT-IPTC-BY_\0'
    return (b'\xff\xd8' + jfif + exif_app1(be=be, thumb=thumb, loop=loop, huge_count=huge_count) +
            seg(0xE1, b'http://ns.adobe.com/xap/1.0/\0' + xmp) + seg(0xE1, ext) +
            seg(0xE2, b'ICC_PROFILE\0\x01\x02' + ICC[:30]) + seg(0xE2, b'ICC_PROFILE\0\x02\x02' + ICC[30:]) +
            seg(0xED, iptc) + seg(0xFE, b'PLANT-COMMENT patient Jane Roe') +
            seg(0xE5, b'PLANT-APP5-vendor') + rest + b'PLANT-TRAILER')

def put(d, name, data):
    open(os.path.join(d, name), 'wb').write(data)

put(indir, 'planted.jpg', planted())
put(indir, 'planted_be_grey.jpg', planted(mode='L', be=True))
put(indir, 'planted_prog.jpg', planted(progressive=True))

# burned-in text on a grey image (grey: no chroma upsampling, so decoded
# 8x8 blocks compare exactly)
im = Image.new('L', (320, 160), 40)
d = ImageDraw.Draw(im)
for x in range(0, 320, 16):
    d.line([(x, 0), (x, 159)], fill=60 + x // 4)
try:
    font = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', 22)
except OSError:
    font = ImageFont.load_default()
d.text((16, 100), 'SMITH JOHN 19610312', fill=250, font=font)
jfif, rest = split_jfif(jpeg_bytes(im, quality=90))
put(indir, 'text.jpg', b'\xff\xd8' + jfif + exif_app1() + rest)

# hostile
good = planted()
eoi = len(good) - len(b'PLANT-TRAILER')
for cut in list(range(1, eoi, max(1, eoi // 40))) + [eoi - 1]:
    put(baddir, 'trunc_%05d.jpg' % cut, good[:cut])
sof = good.rfind(b'\xff\xc0')
put(baddir, 'huge_sof.jpg', good[:sof + 7] + b'\xea\x60' + good[sof + 9:])
put(baddir, 'huge_both.jpg', good[:sof + 5] + b'\xff\xf0\xff\xf0' + good[sof + 9:])
put(baddir, 'ifd_loop.jpg', planted(loop=True))
put(baddir, 'ifd_count.jpg', planted(huge_count=True))
put(baddir, 'len_past_end.jpg', good[:2] + b'\xff\xfe\xff\xf0PLANT-COMMENT' + good[2:])
print('ok')
PYEOF
ok "generated $(find "$WORK/in" -type f | wc -l) planted and $(find "$WORK/bad" -type f | wc -l) hostile JPEGs"

if "$MEDVEIL" keygen "$WORK/site.key" >/dev/null 2>"$WORK/keygen.err"; then ok "keygen"
else bad "keygen failed: $(head -c 300 "$WORK/keygen.err")"; finish; exit 1; fi

# Memory cap for the runs: 1 GB of address space, unless the binary cannot
# start under it at all (a sanitizer build reserves terabytes of shadow).
VMEM=1000000
if ! (ulimit -v "$VMEM"; "$MEDVEIL" version) >/dev/null 2>&1; then
  echo "# $MEDVEIL cannot start under ulimit -v $VMEM (sanitizer build?): runs without the cap"
  VMEM=unlimited
fi

run() { # run PROFILE OUT REPORT INPUT... (exit 0 or 1 expected)
  local profile=$1 out=$2 rep=$3; shift 3
  set +e
  (ulimit -v "$VMEM"; "$MEDVEIL" run --rules "$profile" --key "$WORK/site.key" --out "$out" \
    --report "$rep" --no-html --quiet "$@") >"$rep.log" 2>&1
  local rc=$?
  set -e
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then ok "$profile: run exit $rc"
  else bad "$profile: run exit $rc (want 0/1): $(tail -n 3 "$rep.log" | head -c 400)"; fi
  # a sanitizer build exits 1 on its findings too: look for them
  if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:|Segmentation|core dumped" "$rep.log"; then
    bad "$profile: crash or sanitizer report: $(grep -m1 -E "Sanitizer|runtime error:|Segmentation" "$rep.log" | head -c 300)"
  fi
}

# every output opens in djpeg
djpeg_all() {
  local out=$1 what=$2 n=0 nbad=0
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    djpeg "$f" >/dev/null 2>"$WORK/djpeg.err" || { nbad=$((nbad + 1)); echo "#   djpeg failed: ${f#"$out"/}"; }
  done < <(find "$out" -type f -print0 2>/dev/null)
  if [ "$n" -gt 0 ] && [ "$nbad" -eq 0 ]; then ok "$what: all $n outputs decode with djpeg"
  else bad "$what: $nbad of $n outputs fail djpeg"; fi
}

# Python checks against the report; prints ok/FAIL lines that are counted.
pycheck() {
  "$PY" - "$@" >"$WORK/check.log" 2>&1 <<'PYEOF' || true
import json, os, sys
import numpy as np
from PIL import Image

mode, outdir, report = sys.argv[1:4]
rows = {os.path.basename(r['input']): r for r in json.load(open(report))['files']}
PLANTED = [b'PLANT', b'Jane Roe', b'2019:03:04', b'998877', b'DESC-7731', b'SMITH JOHN']
npass = nfail = 0
def ok(m):
    global npass; npass += 1; print('ok   - %s: %s' % (mode, m))
def bad(m):
    global nfail; nfail += 1; print('FAIL - %s: %s' % (mode, m))

def scans(b):
    """First SOS after the main (last) SOF through EOI."""
    sof = max(b.rfind(b'\xff\xc0'), b.rfind(b'\xff\xc1'), b.rfind(b'\xff\xc2'))
    s = b.find(b'\xff\xda', sof)
    e = b.rfind(b'\xff\xd9')
    return b[s:e + 2] if sof >= 0 and s >= 0 and e > s else None

def out_path(r):
    return os.path.join(outdir, r['output']) if r.get('output') else None

if mode.startswith('planted'):
    profile = mode.split(':')[1]
    # no planted value anywhere in any output, nor in output paths
    leaks = []
    for root, dirs, files in os.walk(outdir):
        for f in files:
            p = os.path.join(root, f)
            data = open(p, 'rb').read()
            for s in PLANTED:
                if s in data or s.decode().lower() in p.lower():
                    leaks.append((os.path.relpath(p, outdir), s.decode()))
            if 'planted' in p or 'text' in os.path.basename(p):
                leaks.append((os.path.relpath(p, outdir), 'input name'))
    (ok if not leaks else bad)('no planted value in any output byte or path%s' % ('' if not leaks else ': %s' % leaks[:5]))
    report_text = open(report, 'rb').read()
    (ok if not any(s in report_text for s in PLANTED) else bad)('report carries no planted value')
    for name in ('planted.jpg', 'planted_be_grey.jpg', 'planted_prog.jpg', 'text.jpg'):
        r = rows.get(name)
        if not r or r.get('status') != 'ok' or not out_path(r):
            bad('%s: want status ok, got %s (%s)' % (name, r and r.get('status'), r and r.get('reason')))
            continue
        src = open(os.path.join(sys.argv[4], name), 'rb').read()
        dst = open(out_path(r), 'rb').read()
        try:
            im = Image.open(out_path(r)); im.load()
            ok('%s: output opens in PIL (%dx%d %s)' % (name, im.size[0], im.size[1], im.mode))
        except Exception as e:
            bad('%s: PIL cannot open the output: %s' % (name, e)); continue
        exif = im.getexif()
        (ok if exif.get(0x0112) == 6 else bad)('%s: EXIF Orientation kept (%s)' % (name, exif.get(0x0112)))
        (ok if not exif.get_ifd(0x8825) and not exif.get_ifd(0x8769) and 0x013B not in exif else bad)(
            '%s: no GPS/Exif IFD, no Artist left' % name)
        if name != 'text.jpg':
            icc_in = Image.open(os.path.join(sys.argv[4], name)).info.get('icc_profile')
            (ok if icc_in and im.info.get('icc_profile') == icc_in else bad)('%s: ICC profile kept intact' % name)
        px = r.get('pixels') or {}
        if name == 'text.jpg' and profile == 'research':
            a = np.asarray(Image.open(os.path.join(sys.argv[4], name)).convert('L'), dtype=int)
            b = np.asarray(im.convert('L'), dtype=int)
            diff = a != b
            blocks = {(y // 8, x // 8) for y, x in zip(*np.nonzero(diff))}
            rows_hit = sorted({k[0] * 8 for k in blocks})
            (ok if px.get('changed') and blocks else bad)('text.jpg: burned-in text redacted (%d 8x8 blocks changed)' % len(blocks))
            # text drawn at y 100..126: only blocks of that band may change
            (ok if blocks and min(rows_hit) >= 72 and max(rows_hit) <= 144 else bad)(
                'text.jpg: changed blocks only in the text band (rows %s..%s)' % (rows_hit[:1], rows_hit[-1:]))
            band = b[100:124, 16:290]
            (ok if band.max() < 200 else bad)('text.jpg: no bright text pixel left in the band (max %d)' % band.max())
        elif not px.get('changed'):
            (ok if scans(src) is not None and scans(src) == scans(dst) else bad)(
                '%s: entropy-coded data byte-identical (no pixel changed)' % name)
elif mode == 'hostile':
    n = 0
    for name, r in sorted(rows.items()):
        n += 1
        reason = r.get('reason') or ''
        if r.get('status') != 'rejected' or not reason or 'PLANT' in reason:
            bad('%s: want rejected with a reason, got %s (%s)' % (name, r.get('status'), reason))
    expected = len(os.listdir(sys.argv[4]))
    (ok if n == expected else bad)('every hostile input reported (%d of %d)' % (n, expected))
    for name, part in (('huge_sof.jpg', 'exceeds the limit'), ('ifd_loop.jpg', 'loop'),
                       ('len_past_end.jpg', 'runs past'), ('ifd_count.jpg', 'entries')):
        reason = (rows.get(name) or {}).get('reason') or ''
        (ok if part in reason else bad)('%s: rejected because %s (%s)' % (name, part, reason))
    (ok if nfail == 0 else bad)('all %d hostile inputs rejected with reasons' % n)
elif mode == 'corpus':
    for name, r in sorted(rows.items()):
        st = r.get('status')
        if st not in ('ok', 'review', 'rejected') or (st == 'rejected' and not r.get('reason')):
            bad('%s: status %s reason %s' % (name, st, r.get('reason'))); continue
        if st != 'ok' or not out_path(r):
            print('#   %s: %s (%s)' % (name, st, r.get('reason', '')))
            continue
        try:
            Image.open(out_path(r)).load()
        except Exception as e:
            bad('%s: output does not open in PIL: %s' % (name, e)); continue
        src = open(os.path.join(sys.argv[4], name), 'rb').read()
        dst = open(out_path(r), 'rb').read()
        if not (r.get('pixels') or {}).get('changed'):
            (ok if scans(src) == scans(dst) else bad)('%s: scans byte-identical' % name)
        else:
            ok('%s: pixels redacted, output opens' % name)
print('%d passed, %d failed' % (npass, nfail))
PYEOF
  local line
  while IFS= read -r line; do
    case "$line" in
      "ok   - "*) ok "${line#ok   - }" ;;
      "FAIL - "*) bad "${line#FAIL - }" ;;
      "#"*) echo "$line" ;;
    esac
  done <"$WORK/check.log"
  grep -q "passed, .* failed" "$WORK/check.log" || bad "python check crashed: $(tail -n 3 "$WORK/check.log")"
}

# ------------------------------------------------------------------ runs
for profile in research basic; do
  out="$WORK/out-$profile"
  run "$profile" "$out" "$WORK/rep-$profile.json" "$WORK/in"
  djpeg_all "$out" "$profile"
  pycheck "planted:$profile" "$out" "$WORK/rep-$profile.json" "$WORK/in"
done

run research "$WORK/out-bad" "$WORK/rep-bad.json" "$WORK/bad"
pycheck hostile "$WORK/out-bad" "$WORK/rep-bad.json" "$WORK/bad"

# ------------------------------------------------------ the shared corpus
if [ -d "$SHARED/corpus/images" ]; then
  mkdir -p "$WORK/corpus"
  for f in "$SHARED"/corpus/images/*.jpg "$SHARED"/corpus/images/*.jpeg; do
    [ -f "$f" ] && cp "$f" "$WORK/corpus/"
  done
  if [ -n "$(ls -A "$WORK/corpus")" ]; then
    run research "$WORK/out-corpus" "$WORK/rep-corpus.json" "$WORK/corpus"
    djpeg_all "$WORK/out-corpus" "corpus"
    pycheck corpus "$WORK/out-corpus" "$WORK/rep-corpus.json" "$WORK/corpus"
  fi
else
  echo "# $SHARED/corpus/images not present: corpus part skipped"
fi

finish
