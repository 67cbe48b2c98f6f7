#!/usr/bin/env bash
# test_leaks.sh - plant unique identifiers everywhere they hide, run every
# profile, and prove that none of them comes out.
#
#   MEDVEIL=build/medveil MEDVEIL_SRC=. bash tests/e2e/test_leaks.sh
#
# For basic, research and hipaa over the same planted folder
# (tests/gen/plant_phi.py): no planted string (any encoding, ASCII
# case-insensitive) in any output byte or output path; no planted UID or
# (basic/hipaa) planted date either; every output parses (dcmdump -q); the
# clean CT/MR inputs have outputs; PatientIdentityRemoved and the
# de-identification method codes; references map like the objects they point
# to; research keeps intervals, ages and age-at-study (one offset per
# patient); hipaa keeps only years and caps ages at 90.
# PLANT_SEED=N reproduces a run (the seed is printed).
set -euo pipefail

: "${MEDVEIL:?set MEDVEIL to the medveil binary}"
SRC=${MEDVEIL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"

if ! PY=$(find_py); then bad "python3 with pydicom not found (apt-get install python3-pydicom)"; finish; exit 1; fi
if [ ! -x "$MEDVEIL" ]; then bad "MEDVEIL=$MEDVEIL is not executable"; finish; exit 1; fi
command -v dcmdump >/dev/null || { bad "dcmdump not found (apt-get install dcmtk)"; finish; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/medveil-leaks.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SEED=${PLANT_SEED:-$(( (RANDOM << 15) | RANDOM ))}
echo "# plant seed $SEED (PLANT_SEED=$SEED reproduces), workdir $WORK"

"$PY" "$SRC/tests/gen/plant_phi.py" --out "$WORK/in" --manifest "$WORK/manifest.json" \
  --seed "$SEED" --quiet || { bad "plant_phi.py failed"; finish; exit 1; }
if "$MEDVEIL" keygen "$WORK/site.key" >/dev/null 2>"$WORK/keygen.err"; then
  ok "keygen"
else
  bad "keygen failed: $(head -c 300 "$WORK/keygen.err")"; finish; exit 1
fi

for profile in basic research hipaa; do
  out="$WORK/out-$profile"
  rep="$WORK/report-$profile.json"
  set +e
  "$MEDVEIL" run --rules "$profile" --key "$WORK/site.key" --out "$out" --report "$rep" \
    "$WORK/in" >"$WORK/run-$profile.log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then
    ok "$profile: run exit $rc"
  else
    bad "$profile: run exit $rc (want 0/1): $(tail -n 3 "$WORK/run-$profile.log" | head -c 400)"
    continue
  fi
  # every output parses with dcmtk
  nout=0 nbad=0
  while IFS= read -r -d '' f; do
    nout=$((nout + 1))
    if ! dcmdump -q "$f" >/dev/null 2>&1; then
      nbad=$((nbad + 1)); echo "#   unparseable: ${f#"$out"/}"
    fi
  done < <(find "$out" -type f -print0 2>/dev/null)
  if [ "$nout" -gt 0 ] && [ "$nbad" -eq 0 ]; then ok "$profile: all $nout outputs parse (dcmdump -q)"
  else bad "$profile: $nbad of $nout outputs do not parse"; fi

  # everything else is checked against the manifest in Python
  "$PY" - "$WORK/manifest.json" "$WORK/in" "$out" "$rep" "$profile" >"$WORK/check-$profile.log" 2>&1 <<'PYEOF' || true
import datetime, json, os, sys
import pydicom
from pydicom.tag import Tag

manifest_path, indir, outdir, report_path, profile = sys.argv[1:6]
M = json.load(open(manifest_path, encoding="utf-8"))
npass = nfail = 0

def ok(msg):
    global npass
    npass += 1
    print("ok   - %s: %s" % (profile, msg))

def bad(msg, details=()):
    global nfail
    nfail += 1
    print("FAIL - %s: %s" % (profile, msg))
    for d in list(details)[:12]:
        print("#        %s" % d)
    if len(details) > 12:
        print("#        ... %d more" % (len(details) - 12))

def check(cond, msg, details=()):
    (ok if cond else bad)(msg, *([details] if not cond else []))

IDX = {f["path"]: i for i, f in enumerate(M["files"])}

def label(f):
    return "#%d %s/%s %s" % (IDX[f["path"]], f["persona"], f["series"], f["source"])

# ---- report -------------------------------------------------------------
try:
    R = json.load(open(report_path, encoding="utf-8"))
    rows = R["files"]
    check(isinstance(rows, list) and "summary" in R, "report is JSON with files[] and summary")
except Exception as e:  # noqa
    bad("report unreadable: %s" % e)
    rows = []
by_input = {}
for r in rows:
    if isinstance(r, dict) and "input" in r:
        by_input[os.path.realpath(os.path.join(indir, r["input"]) if not os.path.isabs(r["input"])
                                  else r["input"])] = r
        by_input.setdefault(os.path.realpath(r["input"]), r)

outputs = {}      # manifest path -> (dataset, relpath)
missing, wrong, noreason = [], [], []
for f in M["files"]:
    r = by_input.get(os.path.realpath(os.path.join(indir, f["path"])))
    want = f["expect"][profile]
    if r is None:
        missing.append(label(f))
        continue
    st = r.get("status")
    if st != "ok" and not r.get("reason"):
        noreason.append(label(f))
    if want == "ok" and st != "ok":
        wrong.append("%s: status %s, want ok (%s)" % (label(f), st, r.get("reason")))
    if want == "any" and st != "ok":
        print("#      note: %s %s (%s)" % (label(f), st, r.get("reason")))
    if want == "rejected" and st != "rejected":
        wrong.append("%s: status %s, want rejected" % (label(f), st))
    if want == "cleaned" and st not in ("ok", "review"):
        wrong.append("%s: status %s, want pixel cleaning (ok or review)" % (label(f), st))
    if want == "cleaned" and st == "ok":
        ds = pydicom.dcmread(os.path.join(outdir, r["output"]))
        codes = [c.CodeValue for c in ds.get("DeidentificationMethodCodeSequence", [])]
        if ds.get("BurnedInAnnotation") != "NO" or "113101" not in codes:
            wrong.append("%s: cleaned but BurnedInAnnotation %r, codes %r" %
                         (label(f), ds.get("BurnedInAnnotation"), codes))
    if st == "ok":
        rel = r.get("output")
        p = os.path.join(outdir, rel) if rel else None
        if not p or not os.path.isfile(p):
            wrong.append("%s: status ok but output %r missing" % (label(f), rel))
            continue
        try:
            outputs[f["path"]] = (pydicom.dcmread(p), rel)
        except Exception as e:  # noqa
            wrong.append("%s: pydicom cannot read %s: %s" % (label(f), rel, e))
OUTLABEL = {rel: label(f) for f in M["files"] if f["path"] in outputs
            for rel in [outputs[f["path"]][1]]}

def where(rel):
    return OUTLABEL.get(rel, rel)

check(not missing, "report has a row for every planted input", missing)
check(not wrong, "statuses as expected (clean CT/MR ok%s)" %
      (", pixel-cleaning cases cleaned or held" if profile == "research" else ""), wrong)
check(not noreason, "every non-ok row has a reason", noreason)
check(len(outputs) >= 6, "at least 6 outputs (%d)" % len(outputs))

# ---- bytes and paths ------------------------------------------------------
needles = []
for s in M["strings"]:
    for n in s["needles"]:
        needles.append((bytes.fromhex(n["hex"]).lower(), "%s [%s]" % (s["label"], n["encoding"])))
uid_root = M["uid_root"].encode()
dates = [d.encode() for d in M["dates"]]
births = {p["birth_date"].encode() for p in M["patients"].values()}
leaks, uid_leaks, date_leaks, path_leaks, stray = [], [], [], [], []
for root, dirs, names in os.walk(outdir):
    for nm in names:
        full = os.path.join(root, nm)
        rel = os.path.relpath(full, outdir)
        if not nm.endswith(".dcm") or rel.count(os.sep) != 3:
            stray.append(rel)
        relb = os.fsencode(rel).lower()
        for nd, lab in needles:
            if nd in relb:
                path_leaks.append("%s in path %s" % (lab, rel))
        data = open(full, "rb").read()
        low = data.lower()
        for nd, lab in needles:
            if nd in low:
                leaks.append("%s in %s" % (lab, where(rel)))
        if uid_root in data:
            uid_leaks.append(where(rel))
        for d in dates:
            if (profile != "research" or d in births) and d in data:
                date_leaks.append("%s in %s" % (d.decode(), where(rel)))
check(not leaks, "no planted string in any output byte (%d needles)" % len(needles), leaks)
check(not path_leaks, "no planted string in any output path", path_leaks)
check(not uid_leaks, "no original (planted) UID in any output", uid_leaks)
check(not date_leaks, "no planted %s date in any output" %
      ("birth" if profile == "research" else "(study/birth)"), date_leaks)
check(not stray, "OUT holds only PAT/STUDY/SERIES/SOP.dcm files (no temp files)", stray)

# ---- per-object checks ------------------------------------------------------
TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM",
            "UC", "UI", "UR", "UT"}

def walk(ds, path=""):
    for el in ds:
        yield path, el
        if el.VR == "SQ" and el.value:
            for i, it in enumerate(el.value):
                yield from walk(it, "%s%s[%d]." % (path, el.tag, i))

mark = M["mark"].lower()
catch, pir, codes, layout, uids = [], [], [], [], []
want_codes = {"113100"} | ({"113105", "113107", "113108", "113109"} if profile == "research" else set())
for mp, (ds, rel) in outputs.items():
    for path, el in walk(ds):
        if el.tag == Tag(0x7FE0, 0x0010) or el.VR == "SQ":
            continue
        v = el.value
        try:
            if isinstance(v, (bytes, bytearray)):
                hit = len(v) < 65536 and mark.encode() in bytes(v).lower()
            else:
                hit = mark in str(v).lower()
        except Exception:  # noqa
            hit = False
        if hit:
            catch.append("%s%s %s in %s" % (path, el.tag, el.keyword or "private", where(rel)))
    if str(ds.get("PatientIdentityRemoved", "")).strip() != "YES":
        pir.append(where(rel))
    got = {str(it.get("CodeValue", "")) for it in ds.get("DeidentificationMethodCodeSequence", [])}
    if not want_codes <= got:
        codes.append("%s: has %s, want %s" % (where(rel), sorted(got), sorted(want_codes)))
    parts = rel.split(os.sep)
    exp = [str(ds.get("StudyInstanceUID", "")), str(ds.get("SeriesInstanceUID", "")),
           str(ds.get("SOPInstanceUID", "")) + ".dcm"]
    if len(parts) != 4 or parts[1:] != exp:
        layout.append("%s vs study/series/sop %s" % (rel, exp))
    for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"):
        v = str(ds.get(kw, "2.25.")) or "2.25."
        if not v.startswith("2.25."):
            uids.append("%s %s=%s" % (rel, kw, v))
    if str(ds.file_meta.get("MediaStorageSOPInstanceUID", "")) != str(ds.get("SOPInstanceUID")):
        uids.append("%s MediaStorageSOPInstanceUID != SOPInstanceUID" % rel)
check(not catch, "no '%s' token in any decoded attribute (any depth)" % M["mark"], catch)
check(not pir, "PatientIdentityRemoved == YES", pir)
check(not codes, "DeidentificationMethodCodeSequence has %s" % ", ".join(sorted(want_codes)), codes)
check(not layout, "output path is <patient>/<study uid>/<series uid>/<sop uid>.dcm", layout)
check(not uids, "UIDs remapped to 2.25.<n>, file meta consistent", uids)

# ---- patients and studies --------------------------------------------------
byp = {}
for f in M["files"]:
    if f["path"] in outputs:
        ds, rel = outputs[f["path"]]
        byp.setdefault(f["persona"], []).append((f, ds, rel))
probs = []
pseud = {}
for pk, lst in byp.items():
    pids = {str(ds.get("PatientID", "")) for _, ds, _ in lst}
    dirs = {rel.split(os.sep)[0] for _, _, rel in lst}
    if len(pids) != 1 or len(dirs) != 1:
        probs.append("%s: PatientIDs %s, folders %s" % (pk, sorted(pids), sorted(dirs)))
    pseud[pk] = (tuple(pids), tuple(dirs))
    planted_studies = {f["study_uid"] for f, _, _ in lst}
    out_studies = {str(ds.StudyInstanceUID) for _, ds, _ in lst}
    planted_series = {f["series_uid"] for f, _, _ in lst}
    out_series = {str(ds.SeriesInstanceUID) for _, ds, _ in lst}
    if len(planted_studies) != len(out_studies) or len(planted_series) != len(out_series):
        probs.append("%s: %d/%d studies, %d/%d series (planted/out)" % (
            pk, len(planted_studies), len(out_studies), len(planted_series), len(out_series)))
vals = list(pseud.values())
if len({v[1] for v in vals}) != len(vals):
    probs.append("different patients share a pseudonym folder: %s" % vals)
check(not probs, "one pseudonym per patient, distinct across patients; study/series structure kept", probs)

# ---- references -------------------------------------------------------------
sop_map = {f["sop_uid"]: str(outputs[f["path"]][0].SOPInstanceUID)
           for f in M["files"] if f["path"] in outputs}
ref_probs, verified = [], 0
for f in M["files"]:
    if f["path"] not in outputs:
        continue
    ds, rel = outputs[f["path"]]
    for seq, targets in f.get("reference_sequences", {}).items():
        if seq not in ds:
            continue
        got = set()
        for it in ds[seq].value or []:
            for _, el in walk(it):
                if el.keyword == "ReferencedSOPInstanceUID":
                    got.add(str(el.value))
        if not got:
            continue        # sequence emptied (Z): nothing to map
        for t in targets:
            if t not in sop_map:
                continue
            if sop_map[t] in got:
                verified += 1
            else:
                ref_probs.append("%s %s: want %s, has %s" % (label(f), seq, sop_map[t], sorted(got)))
check(not ref_probs, "ReferencedSOPInstanceUID == SOPInstanceUID of the referenced output", ref_probs)
check(verified >= 1, "at least one reference survived to be verified (%d)" % verified)

# ---- dates and ages -----------------------------------------------------------
def pdate(s):
    return datetime.datetime.strptime(s[:8], "%Y%m%d").date()

def das(ds):
    for path, el in walk(ds):
        if el.VR in ("DA", "DT") and el.value not in (None, "") and el.tag.group != 0x0002:
            for v in (el.value if el.VM > 1 else [el.value]):
                if str(v).strip():
                    yield path, el, str(v).strip()

if profile == "research":
    probs, offsets = [], {}
    for pk, lst in byp.items():
        P = M["patients"][pk]
        for f, ds, rel in lst:
            if str(ds.get("PatientAge", "")) != f["age"]:
                probs.append("%s PatientAge %r, want %r" % (label(f), ds.get("PatientAge"), f["age"]))
            src_sex = str(pydicom.dcmread(os.path.join(indir, f["path"]),
                                          specific_tags=["PatientSex"]).get("PatientSex", ""))
            if str(ds.get("PatientSex", "")) != src_sex:
                probs.append("%s PatientSex %r, want %r" % (label(f), ds.get("PatientSex"), src_sex))
            bd = str(ds.get("PatientBirthDate", "")).strip()
            if not bd:
                probs.append("%s PatientBirthDate missing (want it shifted)" % label(f))
            for path, el, v in das(ds):
                orig = (P["birth_date"] if el.keyword == "PatientBirthDate" and not path
                        else f["study_date"])
                try:
                    off = (pdate(v) - pdate(orig)).days
                except ValueError:
                    probs.append("%s %s%s unparseable %r" % (label(f), path, el.keyword, v))
                    continue
                offsets.setdefault(pk, {}).setdefault(off, []).append(
                    "%s %s%s" % (label(f), path, el.keyword))
    for pk, offs in offsets.items():
        if len(offs) != 1:
            probs.append("%s: %d different date offsets %s" % (
                pk, len(offs), {k: v[:2] for k, v in offs.items()}))
        elif 0 in offs:
            probs.append("%s: dates not shifted (offset 0)" % pk)
    check(not probs, "one nonzero date offset per patient (intervals, birth date, age kept)", probs)
    A = M["patients"]["A"]
    st = {}
    for f, ds, rel in byp.get("A", []):
        st.setdefault(f["study"], str(ds.get("StudyDate", "")))
    if len(st) == 2 and all(st.values()):
        got = (pdate(st[1]) - pdate(st[0])).days
        check(got == A["interval_days"][1], "interval between A's two studies kept (%d days, got %d)"
              % (A["interval_days"][1], got))
    else:
        bad("A's two studies not both present with StudyDate: %s" % st)
    desc = [label(f) for pk, lst in byp.items() for f, ds, rel in lst
            if f["modality"] in ("CT", "MR") and not str(ds.get("StudyDescription", "")).strip()]
    check(not desc, "StudyDescription kept (cleaned) on CT/MR", desc)
elif profile == "hipaa":
    probs = []
    for pk, lst in byp.items():
        P = M["patients"][pk]
        for f, ds, rel in lst:
            old = int(f["age"][:3]) > 89
            for path, el, v in das(ds):
                birth = el.keyword == "PatientBirthDate" and not path
                orig = P["birth_date"] if birth else f["study_date"]
                if birth and old:
                    if v[:4] == orig[:4]:
                        probs.append("%s birth year %s kept for age %s (> 89)" % (label(f), v, f["age"]))
                elif not (v == orig[:4] or v[:8] == orig[:4] + "0101"):
                    probs.append("%s %s%s=%r (orig %s): not reduced to the year" %
                                 (label(f), path, el.keyword, v, orig))
            age = str(ds.get("PatientAge", "")).strip()
            if age:
                want = "090Y" if int(f["age"][:3]) > 89 else f["age"]
                if age != want:
                    probs.append("%s PatientAge %s, want %s" % (label(f), age, want))
    check(not probs, "dates reduced to the year, ages over 89 become 090Y", probs)
else:
    probs = [label(f) for pk, lst in byp.items() for f, ds, rel in lst
             if str(ds.get("PatientAge", "")).strip() or str(ds.get("StudyDescription", "")).strip()]
    check(not probs, "PatientAge and StudyDescription removed", probs)

print("__counts__ %d %d" % (npass, nfail))
PYEOF
  grep -v '^__counts__' "$WORK/check-$profile.log" || true
  if counts=$(grep '^__counts__' "$WORK/check-$profile.log"); then
    read -r _ p f <<<"$counts"
    pass=$((pass + p)); fail=$((fail + f))
  else
    bad "$profile: checker crashed"
  fi
done

finish
