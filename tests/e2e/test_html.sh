#!/usr/bin/env bash
# test_html.sh - the HTML report of `medveil run` (docs/reports.md): it
# parses, names the job and the right counts, has a row per input (paths
# with < & " and non-UTF-8 bytes escaped), per-attribute counts, before/after
# thumbnails of the redacted objects with the boxes pixelated in "before",
# no external URL and no patient value; the row and thumbnail limits;
# --html FILE; --no-html; nothing left behind.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PY=$(find_py PIL) || { echo "FAIL - no python3 with pydicom and PIL"; exit 1; }
tmp=$(mktemp -d)
export XDG_DATA_HOME="$tmp/xdg" # default audit log and jobs database
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

"$PY" "$MEDVEIL_SRC/tests/pixel/gen_burned.py" gen --seed 5 --count 2 --shared '' >gen.log 2>&1 ||
  { cat gen.log; bad "generate burned-in images"; finish; exit 1; }
mkdir -p in 'in/we<ird&"dir'
cp gen/dicom/*.dcm in/
# Plain CT objects with planted identifiers, one under a path that needs
# escaping and one whose name is not UTF-8; and one broken file.
"$PY" -W ignore - <<'PY'
import os
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

def ct(path, name, pid, acc):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = name
    ds.PatientID = pid
    ds.AccessionNumber = acc
    ds.PatientBirthDate = "19610417"
    ds.StudyDate = "20240105"
    ds.Modality = "CT"
    ds.StudyDescription = "CHEST " + pid
    ds.Rows = ds.Columns = 16
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = (np.arange(256, dtype=np.uint16) * 7).tobytes()
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    with open(path, "wb") as f:  # path may be bytes (not UTF-8)
        ds.save_as(f, write_like_original=False)

ct('in/we<ird&"dir/ct <1>.dcm', "QUIXOTEZ^ZEBULON", "PIDHTML7734", "ACCHTML991")
ct(b"in/ct-\xff-latin.dcm", "VANDERMEER^OTTOLINE", "PIDHTML8812", "ACCHTML992")
ct("in/ct3.dcm", "PLANTED^HTMLNAME", "PIDHTML9901", "ACCHTML993")
with open("in/broken.dcm", "wb") as f:
    f.write(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff" + b"garbage")
PY
"$MEDVEIL" keygen key >/dev/null
set +e
"$MEDVEIL" run --rules research --key key --out out --report rep.json \
  --audit-log audit.log -q in 2>run.err
rc=$?
set -e
check "run exits 1 (a broken input is rejected)" [ "$rc" -eq 1 ]
check "the HTML report is beside the JSON one" [ -s rep.html ]
check "no temporary or spool files are left" \
  [ -z "$(find . -maxdepth 1 \( -name '*.tmp-*' -o -name '*.spool-*' \))" ]

cat >check_html.py <<'PY'
"""Check an HTML report against the JSON report. Prints one line per
failed expectation and exits 1 when there is one."""
import base64, glob, io, json, re, sys
from html.parser import HTMLParser
import pydicom
from PIL import Image

html_path, json_path = sys.argv[1], sys.argv[2]
opts = dict(a.split("=", 1) for a in sys.argv[3:])
raw = open(html_path, "rb").read()
problems = []
def expect(cond, what):
    if not cond:
        problems.append(what)

try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    problems.append("not valid UTF-8: %s" % e)
    text = raw.decode("utf-8", "replace")

VOID = {"meta", "img", "br", "hr", "link", "input"}

class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
        self.ids = {}          # id -> text inside
        self.open_ids = []     # (id, depth, parts)
        self.tables = {}       # table id -> list of rows (list of cell texts)
        self.table = None
        self.row = None
        self.cell = None
        self.imgs = []         # (src, figure id)
        self.figure = None
        self.attr_values = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.attr_values += [v or "" for _, v in attrs]
        if tag not in VOID:
            self.stack.append(tag)
        if "id" in a and tag not in VOID:
            self.open_ids.append((a["id"], len(self.stack), []))
        if tag == "table":
            self.table = a.get("id", "")
            self.tables[self.table] = []
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "figure":
            self.figure = a.get("id")
        elif tag == "img":
            self.imgs.append((a.get("src", ""), self.figure))
    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unbalanced </%s> (open: %s)" % (tag, self.stack[-3:]))
            return
        depth = len(self.stack)
        self.stack.pop()
        while self.open_ids and self.open_ids[-1][1] == depth:
            i, _, parts = self.open_ids.pop()
            self.ids[i] = "".join(parts).strip()
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.table].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "figure":
            self.figure = None
    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        for _, _, parts in self.open_ids:
            parts.append(data)

p = Page()
p.feed(text)
p.close()
expect(not p.errors, "HTML does not nest: %s" % p.errors[:3])
expect(not p.stack, "elements left open: %s" % p.stack)
expect(text.startswith("<!DOCTYPE html>"), "no doctype")

rep = json.load(open(json_path))
s = rep["summary"]
if "job" in opts:
    expect(p.ids.get("job-id") == opts["job"], "job id %r != %r" % (p.ids.get("job-id"), opts["job"]))
expect(re.fullmatch(r"[0-9a-f]{32}", p.ids.get("job-id", "")), "job id is not 32 hex digits")
for k in ("total", "ok", "rejected", "review"):
    expect(p.ids.get("count-" + k) == str(s[k]), "count %s: %r != %d" % (k, p.ids.get("count-" + k), s[k]))
expect(p.ids.get("bytes-in") == str(s["bytes_in"]), "bytes in")
expect(p.ids.get("bytes-out") == str(s["bytes_out"]), "bytes out")
expect(p.ids.get("policy") == s["policy"], "policy name")
expect(p.ids.get("key-fingerprint") == s["key_fingerprint"], "key fingerprint")
expect(re.fullmatch(r"[0-9a-f]{16}", p.ids.get("rules-sha256", "")), "rules digest prefix")
expect("dicom" in p.ids.get("formats", ""), "formats seen: %r" % p.ids.get("formats"))

# Actions: the same counts as the JSON summary.
acts = {r[0]: int(r[1]) for r in p.tables.get("actions", [])[1:]}
want = {k: v for k, v in s["actions"].items() if v}
expect(acts == want, "actions %r != %r" % (acts, want))

# Per attribute: every object that reached the action walk has one
# PatientName; and the per-attribute table adds up to the actions table.
attrs = p.tables.get("attributes", [])[1:]
pn = sum(int(r[2]) for r in attrs if r[0] == "(0010,0010) PatientName")
if "any_pn" not in opts:
    walked = s["ok"] + s["review"]
    expect(pn == walked, "PatientName counted %d times, want %d" % (pn, walked))
    expect(any(r[0].startswith("(0010,0020) PatientID") for r in attrs), "no PatientID row")
else:
    expect(pn > 0, "PatientName never counted")
per_action = {}
for r in attrs:
    per_action[r[1]] = per_action.get(r[1], 0) + int(r[2])
if "any_pn" in opts:
    # Real files: a value the plugin refuses to store is removed instead,
    # an extra "remove" in the Actions table only.
    expect(all(per_action.get(k, 0) == v for k, v in want.items() if k != "remove")
           and per_action.get("remove", 0) <= want.get("remove", 0),
           "per-attribute totals %r do not fit actions %r" % (per_action, want))
else:
    expect(per_action == want, "per-attribute totals %r != actions %r" % (per_action, want))

# A row per input: every non-ok one, and ok ones up to the limit.
bad_rows = p.tables.get("not-released", [])[1:]
ok_rows = p.tables.get("released", [])[1:]
files = rep["files"]
want_bad = sorted(f["input"] for f in files if f["status"] != "ok")
expect(sorted(r[0] for r in bad_rows) == want_bad, "not-released rows %r != %r" % (sorted(r[0] for r in bad_rows), want_bad))
for r in bad_rows:
    f = next((f for f in files if f["input"] == r[0]), None)
    if f:
        expect(r[1] == f["status"] and r[2] == f["reason"], "row of %r: %r" % (r[0], r[1:3]))
ok_inputs = sorted(f["input"] for f in files if f["status"] == "ok")
limit = int(opts.get("rows", 2000))
expect(len(ok_rows) == min(limit, len(ok_inputs)), "%d released rows, want %d" % (len(ok_rows), min(limit, len(ok_inputs))))
for r in ok_rows:
    f = next((f for f in files if f["input"] == r[0]), None)
    expect(f is not None and f["status"] == "ok" and r[2].startswith(f["output"]), "released row %r" % r[:3])
unlisted = len(ok_inputs) - len(ok_rows)
if unlisted:
    expect(("%d more released files" % unlisted) in p.ids.get("released-unlisted", ""), "no count of unlisted rows")
else:
    expect("released-unlisted" not in p.ids, "unlisted count without unlisted rows")

# Thumbnails: a pair per redacted object (up to the limit), PNG, <= 240 px.
changed = [f["input"] for f in files if f.get("pixels", {}).get("changed")]
figs = {}
for src, fig in p.imgs:
    figs.setdefault(fig, []).append(src)
max_thumbs = int(opts.get("thumbs", 500))
expect(len(figs) == min(len(changed), max_thumbs), "%d thumbnail pairs, %d redacted objects" % (len(figs), len(changed)))
if "min_changed" in opts:
    expect(len(changed) >= int(opts["min_changed"]), "only %d objects had pixels redacted" % len(changed))
for fig, srcs in figs.items():
    expect(fig is not None and len(srcs) == 2, "figure %r has %d images" % (fig, len(srcs)))
    for src in srcs:
        expect(src.startswith("data:image/png;base64,"), "image is not a PNG data URI")
        im = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        im.load()
        expect(im.format == "PNG" and 0 < im.size[0] <= 240, "thumbnail %r %r" % (im.format, im.size))

# Pixelation: inside each identifying box of the generator's truth, the
# "before" thumbnail holds flat cells, not text: along the box's middle
# row there are few distinct colours (text downscaled would give many).
truth = opts.get("truth")
if truth and figs:
    t = json.load(open(truth))
    byname = {e["file"].split("/")[-1]: e for e in t["files"]}
    checked = 0
    # A figure's text is its caption: the input path.
    for fig in figs:
        cap = p.ids.get(fig, "")
        e = next((e for n, e in byname.items() if n in cap), None)
        if not e:
            continue
        before, after = (Image.open(io.BytesIO(base64.b64decode(x.split(",", 1)[1]))).convert("RGB") for x in figs[fig])
        src = pydicom.dcmread(opts["gen"] + "/" + e["file"].split("/")[-1])
        div = -(-int(src.Columns) // 240)
        dh = -(-int(src.Rows) // 480)
        div = max(div, dh, 1)
        expect(before.size[0] == int(src.Columns) // div, "thumbnail scale: %r vs %d/%d" % (before.size, src.Columns, div))
        for b in e["boxes"]:
            if not b["identifying"] or b.get("frame", 0) != 0 or b["rotation"]:
                continue
            x0, x1 = b["x"] // div + 2, (b["x"] + b["w"]) // div - 2
            y = (b["y"] + b["h"] // 2) // div
            if x1 - x0 < 12 or y >= before.size[1]:
                continue
            # Only boxes the run redacted (flat in "after") are marked.
            if len({after.getpixel((x, y)) for x in range(x0, x1)}) > 3:
                continue
            colours = {before.getpixel((x, y)) for x in range(x0, x1)}
            colours -= {(255, 0, 0), (0, 200, 0), (255, 0, 255)}
            cell = max(4, b["h"] // div)
            limit_c = (x1 - x0) // cell + 4
            expect(len(colours) <= limit_c, "box %d of %s: %d colours along its middle in the before thumbnail (limit %d): not pixelated" % (b["id"], e["file"], len(colours), limit_c))
            checked += 1
    expect(checked > 0, "no identifying box could be checked for pixelation")

# Nothing from outside, nothing identifying.
# (The embedded thumbnails are base64: "http" turns up in them by chance.)
text_only = re.sub(rb"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", b"", raw)
expect(b"http" not in text_only.lower(), "an external URL (http) in the page")
expect(not re.search(rb"<(script|link|iframe)\b", raw, re.I), "script or link element")
for v in p.attr_values:
    expect(not v.startswith(("//", "data:text", "javascript")), "suspicious attribute %r" % v[:40])
secrets = set(opts.get("secrets_file") and open(opts["secrets_file"]).read().split("\n") or [])
for sec in sorted(x for x in secrets if len(x) >= 5):
    expect(sec.encode() not in raw and sec.lower() not in text.lower(), "planted value %r is in the page" % sec)

for x in problems:
    print(x)
sys.exit(1 if problems else 0)
PY

# Planted values: every input's names, IDs, accession numbers, and the
# identifying text burned into the generated images.
"$PY" -W ignore - <<'PY' >secrets.txt
import glob, json, os, pydicom
out = set()
for path in glob.glob("in/**/*", recursive=True):
    if not os.path.isfile(path):
        continue
    try:
        d = pydicom.dcmread(path)
    except Exception:
        continue
    for k in ("PatientName", "PatientID", "AccessionNumber"):
        v = str(d.get(k, "") or "")
        out.add(v)
        out.update(v.split("^"))
t = json.load(open("gen/truth.json"))
for e in t["files"]:
    for b in e["boxes"]:
        if b["identifying"]:
            out.update(b.get("secrets", []))
print("\n".join(sorted(x for x in out if len(x) >= 5)))
PY
check "secrets were collected" [ "$(wc -l <secrets.txt)" -ge 10 ]
job=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["job"])' audit.log 2>/dev/null || true)
check "the audit log names the job" [ -n "$job" ]
# Objects that reached the action walk: the report's ok and review rows
# (the broken file never parses).
if "$PY" check_html.py rep.html rep.json job="$job" secrets_file=secrets.txt \
    truth=gen/truth.json gen=gen/dicom min_changed=1 >check1.out 2>&1; then
  ok "HTML report: structure, counts, rows, attributes, thumbnails, no values"
else
  bad "HTML report: $(cat check1.out)"
fi
check "a path with < & \" is escaped in the source" grep -q 'we&lt;ird&amp;&quot;dir/ct &lt;1&gt;.dcm' rep.html
check "a byte that is not UTF-8 becomes a reference" grep -q 'ct-&#xFF;-latin.dcm' rep.html
check "the rejected file is listed with its reason" grep -q 'broken.dcm' rep.html

# Limits and --html FILE.
mkdir -p sub
set +e
"$MEDVEIL" run --rules research --key key --out out2 --report rep2.json -q \
  --html sub/page.html --html-rows 1 --html-thumbnails 0 in 2>run2.err
rc=$?
set -e
check "second run exits 1" [ "$rc" -eq 1 ]
check "--html FILE writes there" [ -s sub/page.html ]
check "--html FILE: no default page" [ ! -e rep2.html ]
if "$PY" check_html.py sub/page.html rep2.json rows=1 thumbs=0 secrets_file=secrets.txt >check2.out 2>&1; then
  ok "limits: one released row listed, the rest counted; no thumbnails"
else
  bad "limits: $(cat check2.out)"
fi
check "the thumbnail cap is counted" grep -q 'id="thumbnails-unshown"' sub/page.html

# --no-html; and a page that cannot go where asked stops the run early.
set +e
"$MEDVEIL" run --rules research --key key --out out3 --report rep3.json -q --no-html in 2>/dev/null
"$MEDVEIL" run --rules research --key key --out out4 --report rep4.json -q --html out4/x.html in 2>inside.err
rc4=$?
"$MEDVEIL" run --rules research --key key --out out5 --report rep5.json -q --html nodir/x.html in 2>nodir.err
rc5=$?
set -e
check "--no-html writes no page" [ -z "$(find . -maxdepth 1 -name 'rep3*.html')" ]
check "--no-html still writes the JSON report" [ -s rep3.json ]
check "a page inside OUT is refused before any data" \
  test "$rc4" -eq 2 -a ! -e rep4.json -a -z "$(find out4 -type f 2>/dev/null)"
check "a page in a missing folder is refused before any data" \
  test "$rc5" -eq 2 -a ! -e rep5.json -a -z "$(find out5 -type f 2>/dev/null)"
check "the refusals say why" grep -q 'output folder' inside.err
check "no temporary or spool files are left at the end" \
  [ -z "$(find . \( -name '*.tmp-*' -o -name '*.spool-*' \))" ]

# The shared corpus, when present: every input has a row, the page parses.
shared=${MEDVEIL_SHARED:-/work/shared}
if [ -f "$shared/corpus/MANIFEST.tsv" ]; then
  mkdir corpus
  n=0
  while IFS= read -r f; do
    [ "$n" -lt 40 ] || continue
    cp "$f" "corpus/$n.dcm" && n=$((n + 1))
  done < <(find "$shared/corpus" -name '*.dcm' -size -4M | sort)
  set +e
  "$MEDVEIL" run --rules research --key key --out outc --report repc.json -q corpus 2>runc.err
  set -e
  if [ -s repc.json ] && "$PY" check_html.py repc.html repc.json any_pn=1 >checkc.out 2>&1; then
    ok "corpus ($n files): page parses, counts and rows match"
  else
    bad "corpus: $(cat checkc.out 2>/dev/null; tail -3 runc.err)"
  fi
fi
finish
