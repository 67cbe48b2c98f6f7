#!/usr/bin/env bash
# test_archives.sh - archives as inputs (zip, tar, tar.gz/.bz2/.xz, 7z,
# nested) and as outputs (--out X.zip / X.tar.gz): members de-identified
# and reported as "archive!member", never extracted under their own names,
# hostile members refused with a reason, limits (bomb, depth, count) hold.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PY=$(find_py) || { echo "FAIL - no python3 with pydicom"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
cat >gen.py <<'PYEOF'
#!/usr/bin/env python3
"""gen_archives.py OUTDIR - archives for tests/e2e/test_archives.sh.

Good archives (zip, tar, tar.gz/.bz2/.xz, nested zip in tar) hold DICOM
files from pydicom's test data plus one whose member name and patient name
are a planted value; hostile ones hold every trick medveil must refuse.
Everything is written from memory: no file named like a member is created.
"""
import io, os, sys, tarfile, zipfile
import pydicom

TD = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
good = os.path.join(out, "good")
bad = os.path.join(out, "bad")
plain = os.path.join(out, "plain")
for d in (good, bad, plain):
    os.makedirs(d, exist_ok=True)


def dicom_bytes(name, patient=None):
    ds = pydicom.dcmread(os.path.join(TD, name))
    if patient:
        ds.PatientName = patient
        ds.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[patient])
    b = io.BytesIO()
    ds.save_as(b)
    return b.getvalue()


members = {
    "dir/CT_small.dcm": dicom_bytes("CT_small.dcm"),
    "dir/sub/MR_small.dcm": dicom_bytes("MR_small.dcm"),
    "DOE_JOHN.dcm": dicom_bytes("CT_small.dcm", "DOE^JOHN"),
}
# The same objects as plain files, for the folder run the archive output is
# compared with (names chosen not to carry the planted value).
for i, (k, v) in enumerate(sorted(members.items())):
    open(os.path.join(plain, "f%d.dcm" % i), "wb").write(v)

with zipfile.ZipFile(os.path.join(good, "a.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    for k, v in members.items():
        z.writestr(k, v)


def tar_with(path, mode, items):
    with tarfile.open(path, mode) as t:
        for k, v in items:
            ti = tarfile.TarInfo(k)
            ti.size = len(v)
            t.addfile(ti, io.BytesIO(v))


rt = dicom_bytes("rtplan.dcm")
tar_with(os.path.join(good, "t.tar"), "w", [("x/rtplan.dcm", rt)])
tar_with(os.path.join(good, "t.tar.bz2"), "w:bz2", [("rtplan.dcm", rt)])
tar_with(os.path.join(good, "t.tar.xz"), "w:xz", [("rtplan.dcm", rt)])
# A tar.gz with a misleading name: recognised by content.
tar_with(os.path.join(good, "looks_like.dcm"), "w:gz", [("rtplan.dcm", rt)])
zbytes = open(os.path.join(good, "a.zip"), "rb").read()
tar_with(os.path.join(good, "nested.tar.gz"), "w:gz", [("inner/a.zip", zbytes)])

# ---- hostile ---------------------------------------------------------------
ct = members["dir/CT_small.dcm"]


def zip_raw_names(path, entries):
    """Zip with names Python would refuse or rewrite, patched in place."""
    with zipfile.ZipFile(path, "w") as z:
        for i, (name, data) in enumerate(entries):
            z.writestr(chr(65 + i) * len(name), data)
    raw = open(path, "rb").read()
    for i, (name, data) in enumerate(entries):
        raw = raw.replace((chr(65 + i) * len(name)).encode(), name.encode())
    open(path, "wb").write(raw)


zip_raw_names(os.path.join(bad, "paths.zip"),
              [("/abs/x.dcm", ct), ("../up.dcm", ct), ("a/../../b.dcm", ct),
               ("ok.dcm", ct)])

with tarfile.open(os.path.join(bad, "types.tar"), "w") as t:
    ti = tarfile.TarInfo("ok.dcm"); ti.size = len(ct); t.addfile(ti, io.BytesIO(ct))
    ti = tarfile.TarInfo("sym.dcm"); ti.type = tarfile.SYMTYPE; ti.linkname = "/etc/passwd"; t.addfile(ti)
    ti = tarfile.TarInfo("hard.dcm"); ti.type = tarfile.LNKTYPE; ti.linkname = "ok.dcm"; t.addfile(ti)
    ti = tarfile.TarInfo("dev.dcm"); ti.type = tarfile.CHRTYPE; ti.devmajor = 1; ti.devminor = 3; t.addfile(ti)
    ti = tarfile.TarInfo("fifo.dcm"); ti.type = tarfile.FIFOTYPE; t.addfile(ti)
    ti = tarfile.TarInfo("/etc/abs.dcm"); ti.size = 1; t.addfile(ti, io.BytesIO(b"x"))

# Bomb: 64 MiB of zeros deflates to ~64 KiB (ratio ~1000).
with zipfile.ZipFile(os.path.join(bad, "bomb.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("zeros.dcm", b"\0" * (64 << 20))
# Depth: zip in zip in zip (depth 3).
def zip_of(name, data):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return b.getvalue()
open(os.path.join(bad, "deep.zip"), "wb").write(
    zip_of("l2.zip", zip_of("l3.zip", zip_of("x.dcm", ct))))
# Member count: 40 empty members (the test lowers the limit to 25).
with zipfile.ZipFile(os.path.join(bad, "many.zip"), "w") as z:
    for i in range(40):
        z.writestr("m%03d.dcm" % i, b"")
# Corrupt: a zip signature followed by garbage, and a truncated tar.gz.
open(os.path.join(bad, "corrupt.zip"), "wb").write(b"PK\x03\x04" + os.urandom(3000))
tgz = io.BytesIO()
with tarfile.open(fileobj=tgz, mode="w:gz") as t:
    for i in range(3):
        ti = tarfile.TarInfo("r%d.dcm" % i); ti.size = len(os.urandom(1)) * 0 + 200000
        t.addfile(ti, io.BytesIO(os.urandom(200000)))
v = tgz.getvalue()
open(os.path.join(bad, "truncated.tar.gz"), "wb").write(v[: len(v) // 2])
# gzip that is not a tar (a .nii.gz is one): left to the format plugins.
import gzip
open(os.path.join(bad, "single.dcm.gz"), "wb").write(gzip.compress(ct))
PYEOF
"$PY" gen.py arc >gen.log 2>&1 || { cat gen.log; bad "generate archives"; finish; exit 1; }
"$MEDVEIL" keygen key >/dev/null

# 7z archives when p7zip is there: a good one, and encrypted zip and 7z.
have7z=0
if command -v 7z >/dev/null 2>&1; then
  have7z=1
  (cd arc/plain && 7z a -bd ../good/g.7z f0.dcm f1.dcm >/dev/null)
  (cd arc/plain && 7z a -bd -tzip -psecret ../bad/enc.zip f0.dcm >/dev/null)
  (cd arc/plain && 7z a -bd -psecret ../bad/enc.7z f0.dcm >/dev/null)
fi

# report FILE: "input<TAB>status<TAB>output-or-reason" per row.
rows() {
  "$PY" -c 'import json,sys
for f in json.load(open(sys.argv[1]))["files"]:
    print("%s\t%s\t%s" % (f["input"], f["status"], f.get("output") or f.get("reason") or ""))' "$1"
}
# row_is FILE INPUT-SUFFIX STATUS [REASON-SUBSTRING]
row_is() {
  awk -F'\t' -v s="$2" -v st="$3" -v r="${4:-}" '
    { n = length(s); if (length($1) >= n && substr($1, length($1) - n + 1) == s &&
        $2 == st && index($3, r) > 0) found = 1 }
    END { exit found ? 0 : 1 }' "$1"
}

# ---- good archives -----------------------------------------------------------
set +e
"$MEDVEIL" run --rules basic --key key --out out --report good.json -q arc/good 2>good.err
rc=$?
set -e
rows good.json >good.tsv
check "good archives: exit 0 (rc=$rc)" [ "$rc" -eq 0 ]
check "zip member reported as a.zip!dir/CT_small.dcm" row_is good.tsv "/a.zip!dir/CT_small.dcm" ok
check "zip member in a subfolder" row_is good.tsv "/a.zip!dir/sub/MR_small.dcm" ok
check "planted-name member processed" row_is good.tsv "/a.zip!DOE_JOHN.dcm" ok
check "tar member" row_is good.tsv "/t.tar!x/rtplan.dcm" ok
check "tar.bz2 member" row_is good.tsv "/t.tar.bz2!rtplan.dcm" ok
check "tar.xz member" row_is good.tsv "/t.tar.xz!rtplan.dcm" ok
check "tar.gz named .dcm recognised by content" row_is good.tsv "/looks_like.dcm!rtplan.dcm" ok
check "zip nested in tar.gz" row_is good.tsv "/nested.tar.gz!inner/a.zip!dir/CT_small.dcm" ok
check "zip nested in tar.gz (planted)" row_is good.tsv "/nested.tar.gz!inner/a.zip!DOE_JOHN.dcm" ok
if [ "$have7z" -eq 1 ]; then
  check "7z member" row_is good.tsv "/g.7z!f1.dcm" ok
fi
nrows=$(awk 'END{print NR}' good.tsv)
nexp=$((3 + 1 + 1 + 1 + 1 + 3 + 2 * have7z))
check "one row per member ($nrows of $nexp)" [ "$nrows" -eq "$nexp" ]
outs=$(find out -name '*.dcm' | awk 'END{print NR}')
check "outputs placed ($outs)" [ "$outs" -ge 3 ]
check "every output parses" "$PY" -c 'import pydicom,sys,glob
for p in glob.glob("out/**/*.dcm", recursive=True): pydicom.dcmread(p)'
check "the planted patient name is gone from OUT" sh -c '! grep -rqa "DOE^JOHN" out'
check "no temp folder or member file left in OUT" [ ! -e out/.medveil-tmp ]
stray=$(find "$tmp" out -name '*DOE_JOHN*' 2>/dev/null | awk 'END{print NR}')
check "no file named like a member anywhere ($stray)" [ "$stray" -eq 0 ]
stray=$(find "$tmp" \( -name 'CT_small.dcm' -o -name 'MR_small.dcm' -o -name '*.part' \) | awk 'END{print NR}')
check "no member extracted under its own name, no .part ($stray)" [ "$stray" -eq 0 ]
check "no patient value in messages" sh -c '! grep -q "DOE" good.err'

# ---- hostile archives ----------------------------------------------------------
set +e
MEDVEIL_ARCHIVE_LIMITS="members=25,ratio_floor=1M" \
  "$MEDVEIL" run --rules basic --key key --out out2 --report bad.json -q arc/bad 2>bad.err
rc=$?
set -e
rows bad.json >bad.tsv
check "hostile archives: exit 1 (rc=$rc)" [ "$rc" -eq 1 ]
check "absolute path refused" row_is bad.tsv "/paths.zip!/abs/x.dcm" rejected "absolute path"
check "../ refused" row_is bad.tsv "/paths.zip!../up.dcm" rejected "'..'"
check "a/../../ refused" row_is bad.tsv "/paths.zip!a/../../b.dcm" rejected "'..'"
check "good member beside them processed" row_is bad.tsv "/paths.zip!ok.dcm" ok
check "symlink refused" row_is bad.tsv "/types.tar!sym.dcm" rejected "symbolic link"
check "hardlink refused" row_is bad.tsv "/types.tar!hard.dcm" rejected "hard link"
check "device refused" row_is bad.tsv "/types.tar!dev.dcm" rejected "device"
check "fifo refused" row_is bad.tsv "/types.tar!fifo.dcm" rejected "fifo"
check "tar absolute path refused" row_is bad.tsv "/types.tar!/etc/abs.dcm" rejected "absolute path"
check "zip bomb refused" row_is bad.tsv "/bomb.zip!zeros.dcm" rejected "decompression bomb"
check "depth 3 refused" row_is bad.tsv "/deep.zip!l2.zip!l3.zip" rejected "nested deeper than 2"
check "member count bounded" row_is bad.tsv "/many.zip" rejected "more than 25 members"
nmany=$(awk -F'\t' 'index($1, "/many.zip!") > 0' bad.tsv | awk 'END{print NR}')
check "members up to the limit reported ($nmany)" [ "$nmany" -eq 25 ]
check "corrupt zip is one rejected row" row_is bad.tsv "/corrupt.zip" rejected "archive"
check "truncated tar.gz reported" sh -c 'awk -F"\t" "index(\$1, \"/truncated.tar.gz\") && \$2 == \"rejected\"" bad.tsv | grep -q .'
if [ "$have7z" -eq 1 ]; then
  check "encrypted zip member refused" row_is bad.tsv "/enc.zip!f0.dcm" rejected "encrypted"
  check "encrypted 7z refused" sh -c 'awk -F"\t" "index(\$1, \"/enc.7z\") && \$2 == \"rejected\"" bad.tsv | grep -q .'
fi
check "gzip that is not a tar is not read as an archive" sh -c 'awk -F"\t" "index(\$1, \"/single.dcm.gz\") && \$2 == \"rejected\" && index(\$3, \"recognised\")" bad.tsv | grep -q .'
big=$(find out2 -size +1M | awk 'END{print NR}')
check "the bomb left nothing behind ($big)" [ "$big" -eq 0 ]
check "no temp folder left" [ ! -e out2/.medveil-tmp ]
check "nothing created outside OUT" sh -c '[ -z "$(find "$1" -newer "$1/key" -name "*.dcm" -not -path "$1/out*" -not -path "$1/arc/*")" ]' _ "$tmp"

# Per-member and total limits.
set +e
MEDVEIL_ARCHIVE_LIMITS="member=1K" "$MEDVEIL" run --rules basic --key key --out out3 --report lim.json -q arc/good/t.tar 2>>misc.err
MEDVEIL_ARCHIVE_LIMITS="total=60K" "$MEDVEIL" run --rules basic --key key --out out4 --report tot.json -q arc/good/a.zip 2>>misc.err
MEDVEIL_ARCHIVE_LIMITS="bogus=1" "$MEDVEIL" run --rules basic --key key --out out5 --report x.json -q arc/good/a.zip 2>bogus.err
rc=$?
set -e
rows lim.json >lim.tsv
rows tot.json >tot.tsv
check "per-member limit" row_is lim.tsv "/t.tar!x/rtplan.dcm" rejected "per-member limit"
ntot=$(awk -F'\t' 'index($1, "/a.zip!") && $2 == "rejected" && index($3, "total limit")' tot.tsv | awk 'END{print NR}')
check "total limit ($ntot)" [ "$ntot" -eq 1 ]
check "a malformed MEDVEIL_ARCHIVE_LIMITS stops the run (rc=$rc)" [ "$rc" -ne 0 ]

# ---- archive output ------------------------------------------------------------
"$MEDVEIL" run --rules basic --key key --out fold --report f.json -q arc/plain 2>>misc.err
(cd fold && find . -type f | sed 's|^\./||' | LC_ALL=C sort) >fold.list
for kind in zip tar.gz; do
  "$MEDVEIL" run --rules basic --key key --out "set.$kind" --report "s-$kind.json" -q arc/plain 2>>misc.err
  "$PY" -c 'import sys,zipfile,tarfile
p=sys.argv[1]
names = ([n for n in zipfile.ZipFile(p).namelist() if not n.endswith("/")] if p.endswith(".zip")
         else [m.name for m in tarfile.open(p).getmembers() if m.isfile()])
print("\n".join(sorted(names)))' "set.$kind" >"set-$kind.list"
  check "--out set.$kind opens and its members equal the folder run" cmp -s fold.list "set-$kind.list"
  n=$(find . -maxdepth 1 -name '.set*' | awk 'END{print NR}')
  check "--out set.$kind leaves no staging or part file ($n)" [ "$n" -eq 0 ]
  check "--out set.$kind: report outputs are paths inside the archive" "$PY" -c 'import json,sys
outs = sorted(f["output"] for f in json.load(open(sys.argv[1]))["files"] if f["status"] == "ok")
sys.exit(0 if outs == open(sys.argv[2]).read().split() else 1)' "s-$kind.json" "set-$kind.list"
done
set +e
"$MEDVEIL" run --rules basic --key key --out rr.zip --report rr.zip -q arc/plain 2>>misc.err
rc=$?
set -e
check "report may not be the output archive (rc=$rc)" [ "$rc" -eq 2 ]

# The shared corpus, when present: its DICOM folder zipped runs like the folder.
shared=${MEDVEIL_SHARED:-/work/shared}
if [ -d "$shared/corpus/dicom" ]; then
  "$PY" -c 'import sys,os,zipfile
src = sys.argv[1]
with zipfile.ZipFile("corpus.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for d, _, fs in os.walk(src):
        for f in sorted(fs)[:20]:
            z.write(os.path.join(d, f), os.path.relpath(os.path.join(d, f), src))' "$shared/corpus/dicom"
  set +e
  "$MEDVEIL" run --rules basic --key key --out outc --report c.json -q corpus.zip 2>>misc.err
  rc=$?
  set -e
  rows c.json >c.tsv
  nz=$("$PY" -c 'import zipfile; print(sum(1 for i in zipfile.ZipFile("corpus.zip").infolist() if not i.is_dir()))')
  nr=$(awk 'END{print NR}' c.tsv)
  check "corpus zip: a row per member ($nr of $nz, rc=$rc)" [ "$nr" -eq "$nz" ] 
fi
# Under ASan/UBSan builds: no sanitizer report in any run's messages.
san=$(cat ./*.err 2>/dev/null | awk '/Sanitizer|runtime error:/' | awk 'END{print NR}')
check "no sanitizer report ($san)" [ "$san" -eq 0 ]
finish
