#!/usr/bin/env bash
# compress_ratios.sh - lossless compression ratio of `medveil run --compress`
# per output transfer syntax, against dcmtk's own JPEG-LS encoder (dcmcjpls)
# on the same de-identified objects, plus time ratios.
#
# usage: tests/bench/compress_ratios.sh [INPUT_DIR]
#   INPUT_DIR defaults to ../shared/corpus/dicom beside the checkout (or the
#   pydicom test files). The objects are first written uncompressed
#   (--compress none), which is the reference size; each codec's outputs are
#   matched to them by output path (same key, same names).
# env: MEDVEIL (default build/medveil), JOBS (default 2)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
MEDVEIL=${MEDVEIL:-$src/build/medveil}
in=${1:-}
if [ -z "$in" ]; then
  for c in "$src/../shared/corpus/dicom" /work/shared/corpus/dicom \
           /usr/lib/python3/dist-packages/pydicom/data/test_files; do
    [ -d "$c" ] && { in=$c; break; }
  done
fi
[ -x "$MEDVEIL" ] || { echo "no medveil at $MEDVEIL (build first)"; exit 2; }
[ -d "$in" ] || { echo "no input folder"; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mv-ratio.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$MEDVEIL" keygen "$tmp/key" >/dev/null
jobs=${JOBS:-2}
declare -A secs
for c in none htj2k jpegls j2k; do
  t0=$(date +%s.%N)
  "$MEDVEIL" run --rules basic --key "$tmp/key" --out "$tmp/out-$c" --report "$tmp/$c.json" \
    --compress "$c" --jobs "$jobs" -q "$in" >/dev/null 2>&1
  secs[$c]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
done
# dcmtk reference: dcmcjpls on each uncompressed output (one process per file)
mkdir -p "$tmp/dcmtk"
t0=$(date +%s.%N)
find "$tmp/out-none" -name '*.dcm' -print0 | while IFS= read -r -d '' f; do
  rel=${f#"$tmp/out-none/"}
  mkdir -p "$tmp/dcmtk/$(dirname "$rel")"
  dcmcjpls "$f" "$tmp/dcmtk/$rel" >/dev/null 2>&1 || true
done
secs[dcmcjpls]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

/usr/bin/python3 - "$tmp" "${secs[none]}" "${secs[htj2k]}" "${secs[jpegls]}" "${secs[j2k]}" "${secs[dcmcjpls]}" <<'EOF'
import json, os, sys
from collections import defaultdict
tmp = sys.argv[1]
times = dict(zip(["none", "htj2k", "jpegls", "j2k", "dcmcjpls"], sys.argv[2:]))
try:
    import pydicom
except ImportError:
    pydicom = None

def syntax(path):
    if not pydicom:
        return "?"
    try:
        return str(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)
    except Exception:
        return "?"

def rows(codec):
    r = json.load(open(os.path.join(tmp, codec + ".json")))
    return {f["output"]: f for f in r["files"] if f.get("status") == "ok"}

base = rows("none")
in_syntax = {}
for out, f in base.items():
    in_syntax[out] = syntax(f["input"])
print("input files: %d released" % len(base))
print("%-24s %-26s %6s %12s %12s %7s %6s" % ("codec", "input syntax", "files", "uncompressed", "compressed", "ratio", "kept"))
totals = {}
for codec in ["htj2k", "jpegls", "j2k", "dcmcjpls"]:
    if codec == "dcmcjpls":
        got = {}
        for out in base:
            p = os.path.join(tmp, "dcmtk", out)
            if os.path.exists(p):
                got[out] = {"bytes_out": os.path.getsize(p), "note": None}
    else:
        got = rows(codec)
    per = defaultdict(lambda: [0, 0, 0, 0])
    for out, f in base.items():
        g = got.get(out)
        if not g:
            continue
        k = per[in_syntax[out]]
        k[0] += 1
        k[1] += f["bytes_out"]
        k[2] += g["bytes_out"]
        k[3] += 1 if (g.get("note") or "").startswith("kept") else 0
    a = b = 0
    for s, (n, u, c, kept) in sorted(per.items()):
        print("%-24s %-26s %6d %12d %12d %7.2f %6d" % (codec, s, n, u, c, u / c if c else 0, kept))
        a += u; b += c
    totals[codec] = (a, b)
    print("%-24s %-26s %6s %12d %12d %7.2f" % (codec, "ALL", "", a, b, a / b if b else 0))
print()
print("time: none %ss, htj2k %ss, jpegls %ss, j2k %ss; dcmcjpls (one process per file) %ss"
      % (times["none"], times["htj2k"], times["jpegls"], times["j2k"], times["dcmcjpls"]))
EOF
