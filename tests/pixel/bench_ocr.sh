#!/usr/bin/env bash
# tests/pixel/bench_ocr.sh [N] - images/s of medveil's text detector against
# plain full-frame tesseract (--psm 11) on the same images, plus `medveil run`.
#
# The set: N generated images (gen_burned.py, default 20, seed 11; every
# frame counts as one image) and, when present, ../shared/corpus/pixel's DICOM
# files (GREYSCALE_CINE.zip unpacked). Everything runs once, one thread each
# (OMP_THREAD_LIMIT=1, --jobs 1), one after the other, in this script.
# env: MEDVEIL (default $MEDVEIL_BUILD/medveil or build/medveil), MEDVEIL_SHARED,
#      BENCH_RULES (default research; a policy file with options ocr =
#      "layout=chains" measures the chains-only layout),
#      KEEP=1 to keep the temp dir.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
n=${1:-20}
MEDVEIL=${MEDVEIL:-${MEDVEIL_BUILD:+$MEDVEIL_BUILD/medveil}}
MEDVEIL=${MEDVEIL:-$src/build/medveil}
PY=/usr/bin/python3
shared=${MEDVEIL_SHARED:-/work/shared}
export OMP_THREAD_LIMIT=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mv-bench-ocr.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "# keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; printf "%d images in %.2fs = %.2f images/s", n, d, (d > 0 ? n / d : 0) }'; }
ips() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; printf "%.4f", (d > 0 ? n / d : 0) }'; }

"$PY" "$here/gen_burned.py" "$tmp/gen" --count "$n" --seed 11 --shared "${shared:-}" | sed 's/^/# /'
mkdir -p "$tmp/set"
cp "$tmp"/gen/dicom/*.dcm "$tmp/set/"
if [ -d "$shared/corpus/pixel" ]; then
  cp "$shared"/corpus/pixel/*.dcm "$tmp/set/"
  [ -f "$shared/corpus/pixel/GREYSCALE_CINE.zip" ] &&
    "$PY" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("GREYSCALE_CINE.dcm", sys.argv[2])' \
      "$shared/corpus/pixel/GREYSCALE_CINE.zip" "$tmp/set"
  chmod u+w "$tmp"/set/*.dcm
fi
files=("$tmp"/set/*.dcm)
planes=$("$PY" "$here/render_planes.py" "$tmp/png" "${files[@]}")
echo "# set: ${#files[@]} DICOM files, $planes planes (PNG for tesseract)"

# 1. plain tesseract, full frame, sparse text
t0=$(now)
for p in "$tmp"/png/*.png; do tesseract "$p" "$tmp/tess" --psm 11 >/dev/null 2>&1; done
t1=$(now)
echo "tesseract --psm 11 : $(rate "$planes" "$t0" "$t1")"
tess_ips=$(ips "$planes" "$t0" "$t1")

# 2. medveil's detector
if [ -x "$MEDVEIL" ] && "$MEDVEIL" detect --help >/dev/null 2>&1; then
  # --jobs 1 when detect has it (the first version ran one thread without it)
  jobs=(); "$MEDVEIL" detect --help 2>&1 | grep -q -- --jobs && jobs=(--jobs 1)
  t0=$(now)
  "$MEDVEIL" detect --rules "${BENCH_RULES:-research}" "${jobs[@]}" "${files[@]}" >"$tmp/detect.jsonl" 2>"$tmp/detect.err"
  rc=$?
  t1=$(now)
  # detect decodes the DICOM files itself: the same planes tesseract got
  # as PNG (a plane without boxes prints no line, so count the set's).
  dplanes=$planes
  echo "medveil detect     : $(rate "$dplanes" "$t0" "$t1") (rc=$rc)"
  det_ips=$(ips "$dplanes" "$t0" "$t1")
  awk -v d="$det_ips" -v t="$tess_ips" 'BEGIN { if (t > 0) printf "ratio detect/tesseract: %.2fx\n", d / t }'
  "$PY" - "$tmp/detect.jsonl" <<'PYEOF'
import json, sys
ms = []
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if "ms" in o:
        ms.append(float(o["ms"]))
if ms:
    ms.sort()
    print("detect ms per file: median %.1f, p90 %.1f, max %.1f" % (ms[len(ms) // 2], ms[int(len(ms) * 0.9)], ms[-1]))
PYEOF
else
  echo "medveil detect     : not available in $MEDVEIL (skipped)"
fi

# 3. medveil run (includes triage: CT/MR without burned-in flags skip OCR)
if [ -x "$MEDVEIL" ]; then
  "$MEDVEIL" keygen "$tmp/key" >/dev/null 2>&1
  t0=$(now)
  "$MEDVEIL" run --rules "${BENCH_RULES:-research}" --key "$tmp/key" --report "$tmp/report.json" --out "$tmp/out" \
    --jobs 1 --quiet "$tmp/set" >/dev/null 2>&1
  rc=$?
  t1=$(now)
  echo "medveil run --jobs 1: $(rate "$planes" "$t0" "$t1") (rc=$rc; $("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print("ok %d, review %d, rejected %d" % (s.get("ok",0), s.get("review",0), s.get("rejected",0)))' "$tmp/report.json" 2>/dev/null))"
fi
