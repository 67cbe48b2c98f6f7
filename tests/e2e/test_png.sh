#!/usr/bin/env bash
# test_png.sh - PNG end to end with `medveil run --rules research`.
#
# Generated PNGs (PIL) carry planted values in every place a PNG hides
# text: tEXt, zTXt, iTXt (value and translated keyword), eXIf (description
# and GPS), tIME, a private chunk; one has burned-in text. Checks: no planted
# value in any output byte (compressed chunks inflated) or path, in the report
# or the log; iCCP and gAMA kept; the other metadata gone; pixels unchanged
# (decoded) where there is no text and redacted where there is; every output
# opens in PIL and passes pngfix. Hostile: a 60000x60000 IHDR is refused with
# a reason under `ulimit -v 1000000`; a file truncated at many offsets is
# rejected every time, never a crash. /work/shared/corpus/images PNGs, when
# present, must come out readable (or go to review).
set -euo pipefail

: "${MEDVEIL:?set MEDVEIL to the medveil binary}"
SRC=${MEDVEIL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARED=${MEDVEIL_SHARED:-/work/shared}
. "$(dirname "$0")/lib.sh"

if ! PY=$(find_py PIL); then bad "python3 with PIL not found"; finish; exit 1; fi
"$PY" -c "import numpy" 2>/dev/null || { bad "python3 numpy not found"; finish; exit 1; }
if [ ! -x "$MEDVEIL" ]; then bad "MEDVEIL=$MEDVEIL is not executable"; finish; exit 1; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/medveil-png.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export XDG_DATA_HOME="$WORK/xdg" # the run's audit log and jobs database stay in here
mkdir -p "$WORK/in" "$WORK/hostile" "$WORK/trunc"
"$MEDVEIL" keygen "$WORK/site.key" >/dev/null 2>&1 || { bad "keygen"; finish; exit 1; }

# ---- fixtures ----------------------------------------------------------------
"$PY" - "$WORK" <<'PYEOF'
import struct, sys, zlib, os
import numpy as np
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin
work = sys.argv[1]
PLANTS = ["ZZPNGCOMMENT", "ZZZTXTAUTHOR", "ZZITXTDESC", "ZZITXTKEY", "ZZEXIFDESC",
          "ZZGPSDATUM", "ZZPRIVATE", "ZZVARIANT"]
open(os.path.join(work, "plants.txt"), "w").write("\n".join(PLANTS) + "\n")

def smooth(w, h, ch):
    y, x = np.mgrid[0:h, 0:w]
    planes = [((x * 255) // w), ((y * 255) // h), (((x + y) * 127) // (w + h) + 64)]
    return np.stack(planes[:ch], axis=-1).astype(np.uint8)

def chunk(t, data):
    return (struct.pack(">I", len(data)) + t + data
            + struct.pack(">I", zlib.crc32(t + data) & 0xffffffff))

def add_chunks(path, before_idat):
    """Insert raw chunks (type, data) before the first IDAT."""
    b = open(path, "rb").read()
    i = b.index(b"IDAT") - 4
    b = b[:i] + b"".join(chunk(t, d) for t, d in before_idat) + b[i:]
    open(path, "wb").write(b)

# 1. every metadata kind, smooth pixels (nothing to read)
im = Image.fromarray(smooth(240, 160, 3), "RGB")
info = PngImagePlugin.PngInfo()
info.add_text("Comment", "patient ZZPNGCOMMENT born 1961")
info.add_text("Author", "ZZZTXTAUTHOR", zip=True)
info.add_itxt("Description", "ZZITXTDESC \u00e4", lang="en", tkey="ZZITXTKEY", zip=True)
exif = Image.Exif()
exif[0x010E] = "ZZEXIFDESC"
gps = exif.get_ifd(0x8825)
gps[1] = "N"; gps[2] = (51.0, 30.0, 12.5); gps[3] = "E"; gps[4] = (7.0, 5.0, 1.0)
gps[0x12] = "ZZGPSDATUM"
try:
    from PIL import ImageCms
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
except Exception:
    icc = b"\0" * 128
p = os.path.join(work, "in", "meta.png")
im.save(p, pnginfo=info, exif=exif.tobytes(), icc_profile=icc)
add_chunks(p, [(b"gAMA", struct.pack(">I", 45455)),
               (b"tIME", bytes([0x07, 0xC3, 6, 5, 4, 3, 2])),
               (b"prVt", b"ZZPRIVATE")])

# 2. burned-in text
g = Image.new("L", (480, 240), 24)
d = ImageDraw.Draw(g)
try:
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 24)
except Exception:
    font = ImageFont.load_default()
d.text((20, 20), "SMITH JOHN 12.03.1961", fill=235, font=font)
d.text((20, 190), "MRN 4455667", fill=235, font=font)
g.save(os.path.join(work, "in", "burned.png"))

# 3. variants without text in the pixels: alpha, 16-bit grey, palette, interlaced
def with_text(img, path, **kw):
    i = PngImagePlugin.PngInfo()
    i.add_text("Title", "ZZVARIANT")
    img.save(path, pnginfo=i, **kw)
a = smooth(120, 80, 3)
rgba = np.dstack([a, ((a[:, :, 0].astype(int) + 40) % 256).astype(np.uint8)])
with_text(Image.fromarray(rgba, "RGBA"), os.path.join(work, "in", "rgba.png"))
y, x = np.mgrid[0:80, 0:120]
g16 = (x * 500 + y * 20).astype(np.uint16)
with_text(Image.fromarray(g16, "I;16"), os.path.join(work, "in", "grey16.png"))
with_text(Image.fromarray(a, "RGB").quantize(16), os.path.join(work, "in", "palette.png"))
# interlaced (Adam7): PIL cannot write it, so the passes are built here
def adam7(arr, path):
    h, w, ch = arr.shape
    raw = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        sub = arr[y0::dy, x0::dx]
        if sub.size == 0: continue
        for row in sub: raw += b"\0" + row.tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    i = PngImagePlugin.PngInfo()
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", b"Title\0ZZVARIANT")
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    open(path, "wb").write(data)
adam7(a, os.path.join(work, "in", "adam7.png"))

# hostile: 60000 x 60000 declared, tiny real data
ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
big = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
       + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))
open(os.path.join(work, "hostile", "huge.png"), "wb").write(big)
# a zTXt that inflates to 64 MiB (a bomb) on a small image
bomb = zlib.compress(b"A" * (64 << 20), 9)
small = os.path.join(work, "hostile", "bomb.png")
Image.fromarray(smooth(16, 16, 3), "RGB").save(small)
add_chunks(small, [(b"zTXt", b"Bomb\0\0" + bomb)])

# truncations of meta.png
b = open(p, "rb").read()
cuts = sorted(set(list(range(1, 64)) + list(range(64, len(b) - 1, max(1, len(b) // 60)))
                  + [len(b) - 13, len(b) - 1]))
for c in cuts:
    open(os.path.join(work, "trunc", "cut%06d.png" % c), "wb").write(b[:c])
PYEOF
ok "fixtures generated ($(ls "$WORK/in" | wc -l) inputs, $(ls "$WORK/trunc" | wc -l) truncations)"

# corpus PNGs, when present
ncorpus=0
if [ -d "$SHARED/corpus/images" ]; then
  mkdir -p "$WORK/corpus"
  for f in "$SHARED"/corpus/images/*.png; do
    [ -f "$f" ] || continue
    cp "$f" "$WORK/corpus/"; ncorpus=$((ncorpus + 1))
  done
fi

# ---- inspect -----------------------------------------------------------------
"$MEDVEIL" inspect --rules research --no-values "$WORK/in/meta.png" >"$WORK/inspect.txt" 2>&1 || true
check "inspect names png:tEXt:Comment -> remove" grep -q "^png:tEXt:Comment -> remove" "$WORK/inspect.txt"
check "inspect names png:iCCP -> keep" grep -q "^png:iCCP -> keep" "$WORK/inspect.txt"
check "inspect shows eXIf and the private chunk" grep -q "^png:chunk:prVt -> remove" "$WORK/inspect.txt"
if grep -q "ZZ" "$WORK/inspect.txt"; then bad "inspect --no-values printed a value"; else ok "inspect --no-values prints no value"; fi

# ---- run ---------------------------------------------------------------------
set +e
"$MEDVEIL" run --rules research --key "$WORK/site.key" --out "$WORK/out" \
  --report "$WORK/report.json" "$WORK/in" >"$WORK/run.log" 2>&1
rc=$?
set -e
check "run exit 0 (got $rc)" test "$rc" -eq 0
if grep -q "ZZ" "$WORK/run.log" "$WORK/report.json"; then bad "a planted value in the log or report"
else ok "log and report carry no planted value"; fi

"$PY" - "$WORK" >"$WORK/check.log" 2>&1 <<'PYEOF' || true
import json, os, struct, sys, zlib, subprocess, shutil
import numpy as np
from PIL import Image
work = sys.argv[1]
plants = open(os.path.join(work, "plants.txt")).read().split()
rep = json.load(open(os.path.join(work, "report.json")))
npass = nfail = 0
def ok(m):
    global npass; npass += 1; print("ok   - " + m)
def bad(m):
    global nfail; nfail += 1; print("FAIL - " + m)

def chunks(path):
    b = open(path, "rb").read()
    o, out = 8, []
    while o + 12 <= len(b):
        n = struct.unpack(">I", b[o:o + 4])[0]
        out.append((b[o + 4:o + 8].decode("latin-1"), b[o + 8:o + 8 + n]))
        o += n + 12
    return out

def all_text(path):
    """raw bytes plus every chunk payload inflated where it is zlib data"""
    parts = [open(path, "rb").read()]
    for t, d in chunks(path):
        for start in range(0, min(len(d), 100)):
            try:
                parts.append(zlib.decompress(d[start:]))
                break
            except Exception:
                pass
    return b"".join(parts)

rows = {os.path.basename(r["input"]): r for r in rep["files"]}
outdir = os.path.join(work, "out")
outs = {}
for name, r in rows.items():
    if r["status"] != "ok":
        bad("%s: status %s (%s)" % (name, r["status"], r.get("reason")))
        continue
    outs[name] = os.path.join(outdir, r["output"])
if len(outs) == len(rows) == 6:
    ok("%d of %d inputs ok" % (len(outs), len(rows)))
else:
    bad("%d of %d inputs ok" % (len(outs), len(rows)))

for name, path in outs.items():
    if not path.endswith(".png"): bad("%s: output %s does not end in .png" % (name, path))
    low = path.lower()
    for pl in plants:
        if pl.lower() in low: bad("%s: planted %s in the output path" % (name, pl))
    blob = all_text(path).lower()
    leaked = [pl for pl in plants if pl.lower().encode() in blob]
    if leaked: bad("%s: planted values in output bytes: %s" % (name, leaked))
    else: ok("%s: no planted value in any output byte (inflated too)" % name)
    try:
        im = Image.open(path); im.load(); ok("%s: opens in PIL (%s %dx%d)" % (name, im.mode, *im.size))
    except Exception as e:
        bad("%s: PIL cannot open the output: %s" % (name, e))
    if shutil.which("pngfix"):
        pf = subprocess.run(["pngfix", path], capture_output=True)
        if pf.returncode == 0: ok("%s: pngfix finds no error" % name)
        else: bad("%s: pngfix rc %d" % (name, pf.returncode))

# meta.png: display chunks kept, the rest gone
if "meta.png" in outs:
    types = [t for t, _ in chunks(outs["meta.png"])]
    for t in ("iCCP", "gAMA"):
        if t in types: ok("meta: %s kept" % t)
        else: bad("meta: %s dropped" % t)
    for t in ("tEXt", "zTXt", "iTXt", "eXIf", "tIME", "prVt"):
        if t in types: bad("meta: %s still present" % t)
        else: ok("meta: %s removed" % t)

# pixels: unchanged without text (decoded), redacted with text
def arr(p):
    im = Image.open(p); im.load(); return np.array(im)
src = os.path.join(work, "in")
def idat(p): return b"".join(d for t, d in chunks(p) if t == "IDAT")
for name in ("meta.png", "rgba.png", "palette.png", "adam7.png"):
    if name in outs:
        if idat(os.path.join(src, name)) == idat(outs[name]): ok("%s: image data (IDAT) copied byte for byte" % name)
        else: bad("%s: image data re-encoded without a pixel change" % name)
for name in ("meta.png", "rgba.png", "grey16.png", "palette.png", "adam7.png"):
    if name not in outs: continue
    a, b = arr(os.path.join(src, name)), arr(outs[name])
    if a.shape == b.shape and np.array_equal(a, b): ok("%s: decoded pixels unchanged" % name)
    else: bad("%s: decoded pixels differ" % name)
if "burned.png" in outs:
    a = arr(os.path.join(src, "burned.png")).astype(int)
    b = arr(outs["burned.png"]).astype(int)
    text = a > 128                      # the glyph pixels of the input
    gone = (np.abs(a - b) > 60) & text  # no longer bright there
    share = gone.sum() / max(1, text.sum())
    if share > 0.95: ok("burned: %.0f%% of glyph pixels redacted" % (share * 100))
    else: bad("burned: only %.0f%% of glyph pixels redacted" % (share * 100))
    if rows["burned.png"].get("pixels", {}).get("changed"): ok("burned: report says pixels changed")
    else: bad("burned: report says pixels unchanged")
    if shutil.which("tesseract"):
        o = subprocess.run(["tesseract", outs["burned.png"], "-", "--psm", "11"],
                           capture_output=True, text=True).stdout
        if "4455667" in o or "SMITH" in o.upper(): bad("burned: OCR still reads the text")
        else: ok("burned: OCR reads none of the text")
for name in ("meta.png", "rgba.png"):
    if name in rows and rows[name].get("pixels", {}).get("changed"):
        bad("%s: pixels changed without text" % name)
print("%d passed, %d failed" % (npass, nfail))
PYEOF
cat "$WORK/check.log"
pyfail=$(awk '/^FAIL/ {n++} END {print n+0}' "$WORK/check.log")
pypass=$(awk '/^ok/ {n++} END {print n+0}' "$WORK/check.log")
pass=$((pass + pypass)); fail=$((fail + pyfail))
grep -q "passed," "$WORK/check.log" || bad "output checks did not finish"

# ---- hostile -----------------------------------------------------------------
# A sanitizer build cannot start under a 1 GB address-space limit (its
# shadow memory): then the limit is left out and said so.
limit="ulimit -v 1000000"
if ! bash -c 'ulimit -v 1000000; "$0" --version; r=$?; exit $r' "$MEDVEIL" >/dev/null 2>&1; then
  echo "# $MEDVEIL does not start under ulimit -v 1000000 (sanitizer build?): no limit"
  limit=true
fi
set +e
( $limit; "$MEDVEIL" run --rules research --key "$WORK/site.key" --out "$WORK/out-h" \
    --report "$WORK/report-h.json" "$WORK/hostile" ) >"$WORK/run-h.log" 2>&1
rc=$?
set -e
check "hostile run ends normally ($limit; exit $rc, want 1)" test "$rc" -eq 1
"$PY" - "$WORK/report-h.json" >"$WORK/check-h.log" 2>&1 <<'PYEOF' || true
import json, sys
r = {f["input"].rsplit("/", 1)[-1]: f for f in json.load(open(sys.argv[1]))["files"]}
h = r.get("huge.png", {})
print(("ok   - " if h.get("status") == "rejected" and "limit" in (h.get("reason") or "")
       else "FAIL - ") + "huge.png refused for its size: %s" % h.get("reason"))
b = r.get("bomb.png", {})
print(("ok   - " if b.get("status") == "ok" else "FAIL - ")
      + "bomb.png: the over-long zTXt is treated as binary and removed (%s)" % b.get("status"))
PYEOF
cat "$WORK/check-h.log"
pass=$((pass + $(awk '/^ok/ {n++} END {print n+0}' "$WORK/check-h.log")))
fail=$((fail + $(awk '/^FAIL/ {n++} END {print n+0}' "$WORK/check-h.log")))
set +e
"$MEDVEIL" run --rules basic --key "$WORK/site.key" --out "$WORK/out-t" \
  --report "$WORK/report-t.json" "$WORK/trunc" >"$WORK/run-t.log" 2>&1
rc=$?
set -e
check "truncated inputs: run exit 1 (got $rc)" test "$rc" -eq 1
ntrunc=$(ls "$WORK/trunc" | wc -l)
"$PY" - "$WORK/report-t.json" "$ntrunc" >"$WORK/check-t.log" 2>&1 <<'PYEOF' || true
import json, sys
files = json.load(open(sys.argv[1]))["files"]
want = int(sys.argv[2])
rej = [f for f in files if f["status"] == "rejected" and f.get("reason")]
print(("ok   - " if len(files) == want and len(rej) == want else "FAIL - ")
      + "%d of %d truncated files rejected with a reason" % (len(rej), want))
PYEOF
cat "$WORK/check-t.log"
pass=$((pass + $(awk '/^ok/ {n++} END {print n+0}' "$WORK/check-t.log")))
fail=$((fail + $(awk '/^FAIL/ {n++} END {print n+0}' "$WORK/check-t.log")))
nt_out=$(find "$WORK/out-t" -type f -name '*.png' 2>/dev/null | wc -l)
check "no output from a truncated file ($nt_out)" test "$nt_out" -eq 0

# ---- corpus --------------------------------------------------------------------
if [ "$ncorpus" -gt 0 ]; then
  set +e
  "$MEDVEIL" run --rules research --key "$WORK/site.key" --out "$WORK/out-c" \
    --review-dir "$WORK/review-c" --report "$WORK/report-c.json" "$WORK/corpus" >"$WORK/run-c.log" 2>&1
  rc=$?
  set -e
  check "corpus run ends normally (exit $rc)" test "$rc" -le 1
  "$PY" - "$WORK" >"$WORK/check-c.log" 2>&1 <<'PYEOF' || true
import json, os, sys
from PIL import Image
work = sys.argv[1]
for f in json.load(open(os.path.join(work, "report-c.json")))["files"]:
    name = f["input"].rsplit("/", 1)[-1]
    if f["status"] == "ok":
        try:
            a = Image.open(os.path.join(work, "corpus", name)); b = Image.open(os.path.join(work, "out-c", f["output"]))
            b.load()
            print(("ok   - " if a.size == b.size else "FAIL - ") + "corpus %s: output opens, %dx%d" % (name, *b.size))
        except Exception as e:
            print("FAIL - corpus %s: output does not open: %s" % (name, e))
    elif f["status"] == "review":
        print("ok   - corpus %s: held for review (%s)" % (name, f.get("reason")))
    else:
        print("FAIL - corpus %s: %s (%s)" % (name, f["status"], f.get("reason")))
PYEOF
  cat "$WORK/check-c.log"
  pass=$((pass + $(awk '/^ok/ {n++} END {print n+0}' "$WORK/check-c.log")))
  fail=$((fail + $(awk '/^FAIL/ {n++} END {print n+0}' "$WORK/check-c.log")))
else
  echo "# no $SHARED/corpus/images PNGs: corpus part skipped"
fi
finish
