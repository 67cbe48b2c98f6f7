#!/usr/bin/env bash
# bench.sh [FOLDER] - time medveil against a dcmtk floor and two peers on the
# same folder of DICOM files.  Run by hand (never under ctest).
#
#   tests/bench/bench.sh                      # ../shared/corpus/dicom beside the repo
#   tests/bench/bench.sh /data/some/export    # any folder (recursive)
#   MEDVEIL=build/medveil BENCH_RUNS=5 BENCH_SKIP="gdcm_basic" tests/bench/bench.sh DIR
#
# Rows (each timed BENCH_RUNS times, default 3, median shown; page cache warmed first):
#   medveil_j1 / medveil_j2  medveil run --rules basic --jobs 1 / --jobs 2, one process
#   dcmtk_floor              dcmtk_floor.cc: DcmFileFormat load + save, nothing else, one process
#   gdcm_dumb                gdcmanon --dumb (30 tags), one process per file, as peers run it
#   gdcm_basic               gdcmanon -e -c cert.pem (PS3.15 Basic + CMS), one process per file
#   pydicom_basic            pydicom_anon.py (E.1-1 Basic actions, UIDs hashed, private removed)
# Columns: seconds, files/s and MB/s over all input files, outputs written, and
# the time relative to dcmtk_floor.  Needs g++, libdcmtk-dev, libgdcm-tools,
# openssl, python3-pydicom; a row whose tool is missing is shown as n/a.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
FOLDER=${1:-$SRC/../shared/corpus/dicom}
MEDVEIL=${MEDVEIL:-$SRC/build/medveil}
RUNS=${BENCH_RUNS:-3}
SKIP=" ${BENCH_SKIP:-} "
[ -d "$FOLDER" ] || { echo "bench.sh: no folder $FOLDER (give one: bench.sh DIR)" >&2; exit 2; }
FOLDER=$(cd "$FOLDER" && pwd)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/medveil-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

PY=""
for c in "${PYTHON:-}" /usr/bin/python3 python3; do
  [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && "$c" -c 'import pydicom' >/dev/null 2>&1 && { PY=$c; break; }
done

NFILES=$(find "$FOLDER" -type f | wc -l)
BYTES=$(find "$FOLDER" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
echo "# bench: $FOLDER: $NFILES files, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB; $RUNS runs each, median; $(nproc) cores"
find "$FOLDER" -type f -print0 | xargs -0 cat >/dev/null    # warm the page cache

# ---- tools ---------------------------------------------------------------------------
FLOOR="$WORK/dcmtk_floor"
if ! g++ -O2 -std=c++17 "$HERE/dcmtk_floor.cc" -o "$FLOOR" -ldcmdata -loflog -lofstd -lz -lpthread \
    2>"$WORK/floor.log"; then
  echo "# dcmtk_floor does not build (apt-get install g++ libdcmtk-dev): $(head -c 300 "$WORK/floor.log")"
  FLOOR=""
fi
if [ -x "$MEDVEIL" ]; then
  "$MEDVEIL" keygen "$WORK/site.key" >/dev/null
else
  echo "# medveil not found at $MEDVEIL (set MEDVEIL=...)"
fi
if command -v gdcmanon >/dev/null && command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/gdcm_key.pem" -out "$WORK/gdcm_cert.pem" \
    -subj /CN=medveil-bench -days 1 >/dev/null 2>&1
fi
# shellcheck disable=SC2054  # the commas are gdcmanon's tag syntax
# the 30 tags a --dumb run touches (names, IDs, dates, institution, physicians, comments)
DUMB=(--replace 10,10=ANONYMOUS --replace 10,20=ANONID --empty 10,30 --empty 10,40 --remove 10,1000
      --remove 10,1001 --remove 10,1010 --remove 10,1040 --remove 10,2154 --remove 10,4000
      --empty 8,20 --empty 8,21 --empty 8,22 --empty 8,23 --empty 8,30 --empty 8,50
      --remove 8,80 --remove 8,81 --empty 8,90 --remove 8,1010 --remove 8,1030 --remove 8,103e
      --remove 8,1040 --remove 8,1048 --remove 8,1050 --remove 8,1060 --remove 8,1070
      --empty 20,10 --remove 20,4000 --remove 40,a123)

run_medveil() {  # JOBS OUT
  "$MEDVEIL" run --rules basic --key "$WORK/site.key" --jobs "$1" --out "$2" \
    --report "$WORK/report.json" "$FOLDER" >/dev/null 2>&1 || [ $? -eq 1 ]
}
run_floor() { "$FLOOR" "$1" "$FOLDER" 2>/dev/null; }
run_gdcm() {  # MODE OUT: one process per file
  local mode=$1 out=$2 i=0 f
  mkdir -p "$out"
  while IFS= read -r -d '' f; do
    i=$((i + 1))
    if [ "$mode" = dumb ]; then
      gdcmanon --dumb "${DUMB[@]}" -i "$f" -o "$out/$i.dcm" >/dev/null 2>&1 || true
    else
      gdcmanon -e -c "$WORK/gdcm_cert.pem" -i "$f" -o "$out/$i.dcm" >/dev/null 2>&1 || true
    fi
  done 2>/dev/null < <(find "$FOLDER" -type f -print0)   # no "Aborted" notices
}
run_pydicom() { "$PY" "$HERE/pydicom_anon.py" "$1" "$FOLDER" 2>/dev/null; }

# ---- timing --------------------------------------------------------------------------
declare -A SECS OUTS
bench() {  # NAME CMD...
  local name=$1; shift
  local times=() r t0 t1 out
  for ((r = 1; r <= RUNS; r++)); do
    out="$WORK/out-$name"
    rm -rf "$out"
    t0=$(date +%s.%N)
    if ! "$@" "$out"; then echo "# $name: run $r failed"; fi
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
  done
  SECS[$name]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  OUTS[$name]=$(find "$out" -type f 2>/dev/null | wc -l)
  rm -rf "$out"
  echo "# $name: ${times[*]} s"
}
skip() { [[ "$SKIP" == *" $1 "* ]]; }

ORDER=(medveil_j1 medveil_j2 dcmtk_floor gdcm_dumb gdcm_basic pydicom_basic)
[ -x "$MEDVEIL" ] && ! skip medveil_j1 && bench medveil_j1 run_medveil 1
[ -x "$MEDVEIL" ] && ! skip medveil_j2 && bench medveil_j2 run_medveil 2
[ -n "$FLOOR" ] && ! skip dcmtk_floor && bench dcmtk_floor run_floor
command -v gdcmanon >/dev/null && ! skip gdcm_dumb && bench gdcm_dumb run_gdcm dumb
[ -f "$WORK/gdcm_cert.pem" ] && ! skip gdcm_basic && bench gdcm_basic run_gdcm basic
[ -n "$PY" ] && ! skip pydicom_basic && bench pydicom_basic run_pydicom

# ---- table -----------------------------------------------------------------------------
floor=${SECS[dcmtk_floor]:-}
printf '\n%-15s %9s %9s %8s %8s %9s\n' tool seconds files/s MB/s outputs vs_floor
for name in "${ORDER[@]}"; do
  s=${SECS[$name]:-}
  if [ -z "$s" ]; then printf '%-15s %9s\n' "$name" "n/a"; continue; fi
  awk -v n="$name" -v s="$s" -v f="$NFILES" -v b="$BYTES" -v o="${OUTS[$name]}" -v fl="$floor" 'BEGIN {
    if (s <= 0) s = 0.001
    ratio = (fl == "" || fl <= 0) ? "n/a" : sprintf("%.2fx", s / fl)
    printf "%-15s %9.3f %9.1f %8.1f %8d %9s\n", n, s, f / s, b / 1e6 / s, o, ratio }'
done
