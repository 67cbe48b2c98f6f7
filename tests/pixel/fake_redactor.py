#!/usr/bin/python3
"""fake_redactor.py - stand-ins for `medveil run` that write the same report
shape, to prove evaluate.py passes a perfect run and fails bad ones.

usage: fake_redactor.py --truth GEN/truth.json --out OUT --report R.json --mode MODE

modes:
  null     copy every input unchanged, status ok              (recall must fail)
  fill     fill the identifying truth boxes with the box's
           darkest value, write native Explicit VR LE         (all targets met)
  miss     like fill but leave every 7th identifying box      (recall must fail)
  band     like fill plus blank the top 25% of each frame     (over-redaction must fail)
  review   like fill but hold every 10th file for review      (review share must fail)
  reencode JPEG baseline inputs re-encoded whole (dcmcjpeg)
           after filling                                      (jpeg block check must fail)
  invert   invert the identifying boxes: every text pixel changes but the
           text stays readable, so only the OCR leg can catch it (recall
           must fail; 1 - recall = share of boxes the OCR leg cannot read)
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import px_common  # noqa: E402


def write_native(src_path, frames, out_path):
    ds = pydicom.dcmread(src_path)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds.is_little_endian, ds.is_implicit_VR = True, False
    if frames.ndim == 4:
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
    ds.PixelData = frames.tobytes()
    ds["PixelData"].VR = "OB" if frames.dtype.itemsize == 1 else "OW"
    ds["PixelData"].is_undefined_length = False
    ds.save_as(out_path, write_like_original=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--truth", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--mode", default="fill",
                    choices=["null", "fill", "miss", "band", "review", "reencode", "invert"])
    a = ap.parse_args()
    truth = json.load(open(a.truth, encoding="utf-8"))
    gen = os.path.dirname(os.path.abspath(a.truth))
    os.makedirs(a.out, exist_ok=True)
    review_dir = os.path.splitext(a.report)[0] + ".review"
    rows, k = [], 0
    for i, e in enumerate(truth["files"]):
        src = os.path.join(gen, e["file"])
        name = os.path.basename(e["file"])
        if a.mode == "review" and i % 10 == 0:
            os.makedirs(review_dir, exist_ok=True)
            shutil.copyfile(src, os.path.join(review_dir, name))
            rows.append({"input": src, "status": "review", "reason": "fake: held"})
            continue
        out = os.path.join(a.out, name)
        if a.mode == "null":
            shutil.copyfile(src, out)
        else:
            frames, _ = px_common.decode_frames(src)
            rects = []
            for b in e["boxes"]:
                if not b["identifying"]:
                    continue
                k += 1
                if a.mode == "miss" and k % 7 == 0:
                    continue
                f = frames[b["frame"]]
                reg = f[b["y"]:b["y"] + b["h"], b["x"]:b["x"] + b["w"]]
                if a.mode == "invert":
                    reg[...] = (reg.max() + reg.min() - reg.astype(np.int64)).astype(reg.dtype)
                else:
                    reg[...] = reg.min(axis=(0, 1)) if reg.ndim == 3 else reg.min()
                rects.append({"plane": b["frame"], "x": b["x"], "y": b["y"], "w": b["w"], "h": b["h"]})
            if a.mode == "band":
                frames[:, :frames.shape[1] // 4] = frames.min()
            write_native(src, frames, out)
            if a.mode == "reencode" and e["encoding"] == "jpegbase":
                tmp = out + ".tmp"
                subprocess.run(["dcmcjpeg", "+eb", "+q", "88", out, tmp], check=True)
                os.replace(tmp, out)
        rows.append({"input": src, "status": "ok", "output": name, "format": "dicom",
                     "pixels": {"boxes": rects} if a.mode != "null" else {}})
    with open(a.report, "w") as f:
        json.dump({"files": rows, "summary": {"total": len(rows)}}, f, indent=1)


if __name__ == "__main__":
    main()
