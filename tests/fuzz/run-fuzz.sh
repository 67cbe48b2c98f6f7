#!/usr/bin/env bash
# run-fuzz.sh TARGET BINARY WORKDIR [SECONDS] [extra libFuzzer flags...]
#
# What the fuzz.* ctests run (see README.md):
#   1. rebuild WORKDIR/seeds: for format_dicom small files of pydicom's test
#      data (python3-pydicom) and, when present, ../shared/corpus/bad and the
#      small files of ../shared/corpus/dicom, plus encapsulated test files
#      relabelled with the pass-through transfer syntaxes (retag-ts.py); for
#      policy the bundled rule files, the example and tests/fuzz/seeds/policy.
#      Nothing is committed but our own text seeds.
#   2. run every committed crasher tests/fuzz/crashers/TARGET-* once as a
#      plain input (a regression fails the test);
#   3. fuzz for SECONDS (default 30; 0 skips) with WORKDIR/corpus as the
#      growing corpus and the seeds read-only. New crashes land in
#      WORKDIR/artifacts/.
set -euo pipefail
target=$1 bin=$2 work=$3 secs=${4:-30}
shift $(( $# < 4 ? $# : 4 ))
here=$(cd "$(dirname "$0")" && pwd)
src=${MEDVEIL_SRC:-$(cd "$here/../.." && pwd)}
shared=$src/../shared/corpus
[ -d "$shared" ] || shared=/work/shared/corpus
pydicom=/usr/lib/python3/dist-packages/pydicom/data

mkdir -p "$work/corpus" "$work/artifacts"
rm -rf "$work/seeds"
mkdir -p "$work/seeds"

# copy files under $max bytes from $1 into seeds (prefix $2)
seed_from() {
  local from=$1 prefix=$2 max=$3 f
  [ -d "$from" ] || return 0
  while IFS= read -r -d '' f; do
    cp -- "$f" "$work/seeds/$prefix-$(basename "$f")"
  done < <(find "$from" -maxdepth 1 -type f -size -"$max"c -print0 | sort -z)
}

case $target in
  format_dicom)
    seed_from "$pydicom/test_files" pydicom 65536
    seed_from "$pydicom/charset_files" charset 65536
    seed_from "$shared/bad" bad 262144
    seed_from "$shared/dicom" dicom 65536
    # syntaxes dcmtk does not know but the plugin passes through (no test
    # file has them): encapsulated test files relabelled
    if command -v python3 >/dev/null; then
      for f in JPEG2000.dcm 693_J2KI.dcm SC_rgb_jpeg.dcm; do
        [ -f "$pydicom/test_files/$f" ] || continue
        for uid in 1.2.840.10008.1.2.4.201 1.2.840.10008.1.2.4.202 \
                   1.2.840.10008.1.2.4.203 1.2.840.10008.1.2.4.110 \
                   1.2.840.10008.1.2.4.111 1.2.840.10008.1.2.4.112 \
                   1.2.840.10008.1.2.8.1 1.2.840.10008.1.2.1.98; do
          python3 "$here/retag-ts.py" "$pydicom/test_files/$f" \
            "$work/seeds/retag-$uid-$f" "$uid" || true
        done
      done
    fi
    flags=(-max_len=65536 -dict="$here/dicom.dict")
    ;;
  policy)
    seed_from "$src/rules" rules 65536
    seed_from "$src/examples" example 65536
    seed_from "$here/seeds/policy" own 65536
    flags=(-max_len=16384 -dict="$here/policy.dict")
    ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
echo "seeds: $(find "$work/seeds" -type f | wc -l) files"

shopt -s nullglob
crashers=("$here"/crashers/"$target"-*)
if [ ${#crashers[@]} -gt 0 ]; then
  echo "crashers: ${#crashers[@]} regression inputs"
  "$bin" -rss_limit_mb=2048 -timeout=30 "${crashers[@]}"
fi

if [ "$secs" -gt 0 ]; then
  "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "${flags[@]}" "$@" "$work/corpus" "$work/seeds"
fi
