#!/usr/bin/env bash
# test_textnet.sh - the text network's model file (models/textnet.txt):
# a missing or damaged model stops a run at start, naming the file and the
# reason, before any object is touched; `pixels.complete_lines = false`
# runs without it; the shipped model loads and the run cleans the images.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PY=$(find_py) || { echo "FAIL - no python3 with pydicom"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

"$PY" "$MEDVEIL_SRC/tests/pixel/gen_burned.py" gen --seed 5 --count 3 --shared '' >gen.log 2>&1 ||
  { cat gen.log; bad "generate"; finish; exit 1; }
"$MEDVEIL" keygen key >/dev/null
mkdir data
cp -r "$MEDVEIL_SRC/rules" "$MEDVEIL_SRC/scripts" "$MEDVEIL_SRC/models" data/
check "the shipped model is a medveil-textnet file" grep -q '^medveil-textnet 1 ' data/models/textnet.txt

run() { # run NAME RULES: exit status in $rc, stderr in NAME.err
  set +e
  MEDVEIL_DATA_DIR="$tmp/data" "$MEDVEIL" run --rules "$2" --key key --out "out-$1" \
    --report "rep-$1.json" --no-html -q gen/dicom 2>"$1.err"
  rc=$?
  set -e
}

run shipped research
check "the shipped model runs (exit $rc)" [ "$rc" -eq 0 ]
n=$(find out-shipped -name '*.dcm' | wc -l)
check "every image is released ($n)" [ "$n" -eq 3 ]

mv data/models/textnet.txt textnet.keep
run missing research
check "a missing model stops the run (exit $rc)" [ "$rc" -ne 0 ]
check "the error names the setting and the file" \
  grep -q 'pixels.complete_lines: .*models/textnet.txt' missing.err
check "nothing is written" [ -z "$(find out-missing -type f 2>/dev/null)" ]

cat >nonet.lua <<'LUA'
local mv = require "medveil"
return mv.profile "research" { pixels = { complete_lines = false } }
LUA
run nonet nonet.lua
check "complete_lines = false runs without the model (exit $rc)" [ "$rc" -eq 0 ]

head -c 2000 textnet.keep >data/models/textnet.txt
run short research
check "a truncated model stops the run (exit $rc)" [ "$rc" -ne 0 ]
check "the error says the weights are short" grep -q 'short or bad weights' short.err

printf 'medveil-textnet 2 1\n' >data/models/textnet.txt
run version research
check "an unknown model version stops the run" grep -q 'not a medveil-textnet 1 model' version.err
finish
