#!/usr/bin/python3
"""check_real.py - after `medveil run` over the real ultrasound images of
../shared/corpus/pixel, check that their header-bar text is gone and their
anatomy is untouched; optionally render before/after PNGs.

usage: check_real.py --report R.json --out OUT [--png-dir DIR] [--ocr-inputs]

Per file (found by base name among the report's inputs):
  - status must be ok (held or rejected = not cleaned, counts as a failure)
  - tesseract (--psm 11, 2x, both polarities) on the output's top band reads
    none of the header tokens (it is first run on the input's band with
    --ocr-inputs, to show the check can see them at all)
  - >= 90% of the pixels of the centre (anatomy) region are unchanged
Prints one "ok"/"FAIL" line per check, token numbers only (no text). Exit 1
when a check fails, 0 otherwise (files absent from the report are skipped).
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import px_common  # noqa: E402

TOKENS = ["ZZZ", "PATIENT", "00079241539", "08/29/1951", "DOWNTIME", "120907058", "BAPTIST",
          "00047431395", "MARY"]

# name: (top band rows, centre region (y0, y1, x0, x1)); frames checked for cine.
REAL = {
    "GREYSCALE_IMAGE.dcm": (40, (300, 650, 200, 850)),
    "RGB_IMAGE.dcm": (60, (150, 650, 100, 850)),
    "US1_UNCR.dcm": (60, (120, 330, 60, 580)),
    "GREYSCALE_CINE.dcm": (40, (170, 540, 110, 690)),
}


def band_found(frame, rows):
    """Indices of TOKENS readable in the top `rows` rows of frame."""
    band = px_common.to_display_u8(frame[:rows])
    if band.ndim == 3:
        band = np.array(Image.fromarray(band).convert("L"))
    text = px_common.ocr_both_polarities(band, psm=11)
    return [i for i, t in enumerate(TOKENS) if px_common.found_any([t], text)]


def render(path_png, before, after):
    b, a = px_common.to_display_u8(before), px_common.to_display_u8(after)
    if b.ndim == 2:
        b, a = np.stack([b] * 3, -1), np.stack([a] * 3, -1)
    gap = np.full((b.shape[0], 8, 3), 128, np.uint8)
    Image.fromarray(np.concatenate([b, gap, a], axis=1)).save(path_png)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--png-dir", default=os.environ.get("MEDVEIL_PNG_DIR") or None)
    ap.add_argument("--ocr-inputs", action="store_true")
    a = ap.parse_args()
    report = json.load(open(a.report, encoding="utf-8"))
    rows = {os.path.basename(r.get("input", "")): r for r in report.get("files", [])}
    fails = 0

    def say(ok, msg):
        nonlocal fails
        fails += not ok
        print("%s - %s" % ("ok  " if ok else "FAIL", msg))

    for name, (rows_top, (y0, y1, x0, x1)) in REAL.items():
        row = rows.get(name)
        if row is None:
            continue
        if row.get("status") != "ok":
            say(False, "%s: status %s (%s)" % (name, row.get("status"), (row.get("reason") or "")[:100]))
            continue
        outp = row["output"] if os.path.isabs(row["output"]) else os.path.join(a.out, row["output"])
        try:
            fin, _ = px_common.decode_frames(row["input"])
            fout, _ = px_common.decode_frames(outp)
        except Exception as e:  # noqa: BLE001
            say(False, "%s: decode failed (%s)" % (name, type(e).__name__))
            continue
        if fin.shape != fout.shape:
            say(False, "%s: geometry changed" % name)
            continue
        nf = fin.shape[0]
        frames = sorted({0, nf // 2, nf - 1})
        for f in frames:
            tag = "%s frame %d" % (name, f) if nf > 1 else name
            if a.ocr_inputs:
                seen = band_found(fin[f], rows_top)
                print("info - %s: input top band: OCR reads %d of %d header tokens (%s)"
                      % (tag, len(seen), len(TOKENS), ",".join(map(str, seen)) or "none"))
            left = band_found(fout[f], rows_top)
            say(not left, "%s: header text gone from top %d rows%s"
                % (tag, rows_top, "" if not left else " (tokens %s still readable)"
                   % ",".join(map(str, left))))
            c_in, c_out = fin[f][y0:y1, x0:x1], fout[f][y0:y1, x0:x1]
            same = (c_in == c_out)
            same = same.all(axis=-1) if same.ndim == 3 else same
            say(same.mean() >= 0.90, "%s: centre region %.1f%% unchanged (>= 90%%)"
                % (tag, 100 * same.mean()))
        if a.png_dir:
            os.makedirs(a.png_dir, exist_ok=True)
            render(os.path.join(a.png_dir, os.path.splitext(name)[0] + "_before_after.png"),
                   fin[0], fout[0])
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
