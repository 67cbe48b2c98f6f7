#!/usr/bin/env bash
# The main job on the example data: make the data (from Debian's
# python3-pydicom test files, a planted study and a few other formats), make
# a site key and a crosswalk key pair once, de-identify with the bundled
# research profile, and show the result and the records a compliance office
# keeps: the JSON and HTML reports, the sealed crosswalk, the hash-chained
# audit log and the jobs database (all under examples/, not the home folder),
# and the leak check (--verify) of the outputs against the originals.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
medveil="${MEDVEIL:-$here/../build/medveil}"
bash "$here/setup.sh"
[ -f "$here/site.key" ] || "$medveil" keygen "$here/site.key"
[ -f "$here/office.pub" ] || "$medveil" keygen --recipient "$here/office" >/dev/null
rm -rf "$here/out" "$here/crosswalk.mvx" "$here/report.html"
status=0
"$medveil" run --rules research --key "$here/site.key" --out "$here/out" \
  --report "$here/report.json" \
  --crosswalk "$here/crosswalk.mvx" --recipient "$here/office.pub" \
  --audit-log "$here/audit.jsonl" --jobs-db "$here/jobs.sqlite" --verify \
  "$here/data" || status=$?
echo
echo "Outputs (folder names are keyed pseudonyms and new UIDs):"
(cd "$here/out" && find . -type f | sort | sed -n 1,24p)
echo
echo "Report: $here/report.json (and report.html)"
python3 - "$here/report.json" <<'PY'
import collections, json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
print(f"{s['total']} files: {s['ok']} ok, {s['rejected']} rejected, {s['review']} for review")
print("formats:", dict(collections.Counter(f.get("format") or "none" for f in r["files"])))
for f in r["files"]:
    if f["status"] != "ok":
        print(f"  {f['status']}: {f['input']}: {f['reason']}")
PY
echo
echo "Audit log: $here/audit.jsonl"
"$medveil" audit verify "$here/audit.jsonl" --jobs-db "$here/jobs.sqlite" || status=2
echo
echo "Jobs database: $here/jobs.sqlite"
"$medveil" jobs list --jobs-db "$here/jobs.sqlite" --limit 3
echo
# One pseudonym back to its record, as the office holding office.key can.
subjs=("$here"/out/SUBJ*)
subj=$(basename "${subjs[0]}")
echo "Crosswalk lookup of $subj (needs the office's secret key):"
"$medveil" crosswalk lookup --crosswalk "$here/crosswalk.mvx" --secret "$here/office.key" "$subj" \
  >"$here/.lookup.txt" || status=2
cut -c1-160 "$here/.lookup.txt" | sed -n 1p
rm -f "$here/.lookup.txt"
# 1 means some inputs were rejected with a reason or held for review (images
# whose burned-in text could not be cleaned with certainty): the demo ran as
# intended. 2 or worse is a failure.
[ "$status" -le 1 ] || exit "$status"
