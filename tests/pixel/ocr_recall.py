#!/usr/bin/python3
"""ocr_recall.py - recall of medveil's OCR detector against gen_burned.py's
ground truth, box by box.

usage: ocr_recall.py GEN [--medveil BIN] [--plugin-dir DIR] [--rules NAME]
                     [--raw FILE] [--reuse] [--only SUBSTR] [--misses]
                     [--json FILE|-]

Runs `medveil detect --rules NAME GEN/dicom/*.dcm` once (one engine, files
one after the other) and compares the boxes labelled "ocr" with the truth
boxes of GEN/truth.json (plane n = frame n).

Per truth box: cover = share of the box's area inside the union of detected
boxes; "found" when cover >= 90%. Also "ink found": >= 90% of the pixels the
text changed (GEN/masks) are covered, which does not penalise the gaps
between words that word boxes leave. Reported for identifying and harmless
boxes, split by rotation (0/90/180/270) and font size (8-11, 12-16, 17-30).
False positives: share of the detected area (union per plane) lying outside
every truth box dilated by 6 px. Time: the CLI's ms per file, per file and
per plane (frame).

--raw FILE keeps the CLI's JSON lines; --reuse scores a kept FILE without
running medveil again. --misses lists missed identifying boxes (file, frame,
coordinates, kind, rotation, size, font; never the text).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

FOUND = 0.90
DILATE = 6
SIZE_BUCKETS = [(8, 11), (12, 16), (17, 30)]


def run_detect(args, files):
    env = dict(os.environ)
    env["MEDVEIL_PLUGIN_DIR"] = args.plugin_dir
    env.setdefault("OMP_THREAD_LIMIT", "1")
    t0 = time.time()
    r = subprocess.run([args.medveil, "detect", "--rules", args.rules] + files,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    wall = time.time() - t0
    if r.returncode != 0 and not r.stdout:
        sys.exit("ocr_recall: medveil detect failed (rc=%d): %s"
                 % (r.returncode, r.stderr.decode(errors="replace")[:400]))
    return r.stdout.decode(), wall


def parse(text):
    """{basename: {"planes": {n: [boxes]}, "ms": float, "status": str}}"""
    out, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        if "input" in row:
            name = os.path.basename(row["input"])
            cur = out.setdefault(name, {"planes": {}, "ms": 0.0, "status": None})
            if "ms" in row:
                cur["ms"] = float(row["ms"])
                cur["status"] = row.get("status")
        elif "plane" in row and cur is not None:
            cur["planes"].setdefault(int(row["plane"]), []).extend(row.get("boxes", []))
    return out


def size_bucket(s):
    for lo, hi in SIZE_BUCKETS:
        if lo <= s <= hi:
            return "size %d-%d" % (lo, hi)
    return "size other"


def score(gen, truth, det, only):
    rows, fp_out, fp_all, planes, ms, nfiles = [], 0, 0, 0, 0.0, 0
    for f in truth["files"]:
        name = os.path.basename(f["file"])
        if only and only not in name:
            continue
        d = det.get(name)
        if d is None:
            print("ocr_recall: no result for %s" % name, file=sys.stderr)
            continue
        nfiles += 1
        ms += d["ms"]
        H, W, nf = f["rows"], f["columns"], f["frames"]
        planes += nf
        labels = np.load(os.path.join(gen, f["mask"]))["labels"]
        for fr in range(nf):
            m = np.zeros((H, W), dtype=bool)
            for b in d["planes"].get(fr, []):
                if b.get("label") != "ocr":
                    continue
                x, y = max(0, int(b["x"])), max(0, int(b["y"]))
                m[y:y + int(b["h"]), x:x + int(b["w"])] = True
            near = np.zeros((H, W), dtype=bool)
            for tb in f["boxes"]:
                if tb["frame"] != fr:
                    continue
                x, y, w, h = tb["x"], tb["y"], tb["w"], tb["h"]
                near[max(0, y - DILATE):y + h + DILATE, max(0, x - DILATE):x + w + DILATE] = True
                cover = float(m[y:y + h, x:x + w].mean())
                ink = labels[fr, y:y + h, x:x + w] == tb["id"] + 1
                ink_cover = float(m[y:y + h, x:x + w][ink].mean()) if ink.any() else 1.0
                rows.append(dict(file=name, frame=fr, x=x, y=y, w=w, h=h, kind=tb["kind"],
                                 identifying=tb["identifying"], rotation=tb["rotation"],
                                 size=tb["size"], font=tb["font"],
                                 banner=tb.get("on_banner", False), cover=cover,
                                 ink=ink_cover))
            fp_all += int(m.sum())
            fp_out += int((m & ~near).sum())
    return rows, fp_out, fp_all, planes, ms, nfiles


def summarise(rows):
    groups = []
    for ident, gname in ((True, "identifying"), (False, "harmless")):
        sel = [r for r in rows if r["identifying"] == ident]
        parts = [("all", sel)]
        for rot in (0, 90, 180, 270):
            parts.append(("rot %d" % rot, [r for r in sel if r["rotation"] == rot]))
        for lo, hi in SIZE_BUCKETS:
            parts.append(("size %d-%d" % (lo, hi), [r for r in sel if lo <= r["size"] <= hi]))
        parts.append(("on banner", [r for r in sel if r["banner"]]))
        for label, rs in parts:
            n = len(rs)
            groups.append(dict(group=gname, split=label, n=n,
                               found=sum(r["cover"] >= FOUND for r in rs) / n if n else None,
                               ink_found=sum(r["ink"] >= FOUND for r in rs) / n if n else None,
                               cover=sum(r["cover"] for r in rs) / n if n else None))
    return groups


def pct(v):
    return "   -  " if v is None else "%5.1f%%" % (100 * v)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.dirname(os.path.dirname(here))
    build = os.environ.get("MEDVEIL_BUILD", os.path.join(src, "build"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gen", help="gen_burned.py output directory")
    ap.add_argument("--medveil", default=os.path.join(build, "medveil"))
    ap.add_argument("--plugin-dir", default=None)
    ap.add_argument("--rules", default="research")
    ap.add_argument("--raw", help="keep the CLI output here (or read it with --reuse)")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--only", help="only files whose name contains this")
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--json", help="write the summary as JSON (- for stdout)")
    a = ap.parse_args()
    if a.plugin_dir is None:
        a.plugin_dir = os.path.join(os.path.dirname(os.path.abspath(a.medveil)), "plugins")
    with open(os.path.join(a.gen, "truth.json"), encoding="utf-8") as fh:
        truth = json.load(fh)
    wall = None
    if a.reuse:
        if not a.raw:
            sys.exit("ocr_recall: --reuse needs --raw FILE")
        with open(a.raw, encoding="utf-8") as fh:
            text = fh.read()
    else:
        files = [os.path.join(a.gen, f["file"]) for f in truth["files"]
                 if not a.only or a.only in os.path.basename(f["file"])]
        text, wall = run_detect(a, files)
        if a.raw:
            with open(a.raw, "w", encoding="utf-8") as fh:
                fh.write(text)
    det = parse(text)
    bad = [n for n, d in det.items() if d["status"] != "ok"]
    rows, fp_out, fp_all, planes, ms, nfiles = score(a.gen, truth, det, a.only)
    groups = summarise(rows)
    fp = fp_out / fp_all if fp_all else 0.0
    print("# %s: %d files, %d planes, %d truth boxes%s" % (
        a.gen, nfiles, planes, len(rows), ", %d not ok" % len(bad) if bad else ""))
    print("%-12s %-11s %5s %7s %7s %7s" % ("group", "split", "n", "found", "ink", "cover"))
    for g in groups:
        if g["n"] == 0:
            continue
        print("%-12s %-11s %5d %7s %7s %7s" % (g["group"], g["split"], g["n"], pct(g["found"]),
                                               pct(g["ink_found"]), pct(g["cover"])))
    print("false positive area (outside truth +%dpx): %s of %d detected px" % (DILATE, pct(fp), fp_all))
    print("time: %.0f ms/file, %.0f ms/plane%s" % (
        ms / max(1, nfiles), ms / max(1, planes),
        " (wall %.1f s)" % wall if wall is not None else ""))
    if a.misses:
        print("# missed identifying boxes (cover < %d%%)" % int(FOUND * 100))
        for r in rows:
            if r["identifying"] and r["cover"] < FOUND:
                print("%s f%d %d,%d %dx%d %-11s rot %3d size %2d %-24s%s cover %3.0f%% ink %3.0f%%" % (
                    r["file"], r["frame"], r["x"], r["y"], r["w"], r["h"], r["kind"], r["rotation"],
                    r["size"], r["font"], " banner" if r["banner"] else "", 100 * r["cover"],
                    100 * r["ink"]))
    if a.json:
        out = dict(groups=groups, false_positive=fp, detected_px=fp_all, files=nfiles,
                   planes=planes, ms_per_file=ms / max(1, nfiles), ms_per_plane=ms / max(1, planes))
        if a.json == "-":
            json.dump(out, sys.stdout, indent=1)
            print()
        else:
            with open(a.json, "w", encoding="utf-8") as fh:
                json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
