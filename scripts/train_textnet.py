#!/usr/bin/env python3
"""Train medveil's text-region network (models/textnet.txt) on generated sets.

The network marks, per pixel, "inside a line of burned-in text". The core
uses it to finish a redaction along its line (core/src/mv_textnet.h): OCR and
the stroke chains often find only part of a faint line over texture.

Training data comes from tests/pixel/gen_burned.py (text burned on real
images, with the truth boxes). Use seeds that you do not evaluate on:

    for s in $(seq 101 110); do
      python3 tests/pixel/gen_burned.py /tmp/tn/g$s --seed $s --count 60
    done
    python3 scripts/train_textnet.py /tmp/tn/g10[1-6] --out /tmp/tn/base.txt
    python3 scripts/train_textnet.py /tmp/tn/g1[01][0-9] --init /tmp/tn/base.txt \
        --lr 1e-3 --steps 5000 --seed 2 --out models/textnet.txt

(the shipped model was made so; docs/pixels.md has its figures).

To fine-tune the shipped model on a site's own images (burned by the
generator with --shared pointing at them, or any set with the same
truth.json), start from it: --init models/textnet.txt --lr 1e-3.

Needs python3-torch, python3-numpy, python3-pydicom (Debian packages). The
run is deterministic for a given set of inputs and --seed. Inputs are the
8-bit views the core renders (mv_render.c): 8-bit grey and RGB as stored,
deeper grey min-max stretched, MONOCHROME1 inverted; then two channels, luma
and chroma (max - min of R, G, B), both /255.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "pixel"))
from px_common import decode_frames  # noqa: E402

# Layer plan: (in, out, dilation). 3x3 convolutions, ReLU between, then a
# 1x1 to one logit. Receptive field 63 px: a 30 px line and its ground.
DILATIONS = (1, 2, 4, 8, 16)


def plan(width):
    """(in, out, dilation) per 3x3 layer for a network of this width."""
    return [(2 if i == 0 else width, width, d) for i, d in enumerate(DILATIONS)]


def view_of(frame, ds):
    """The core's 8-bit view (mv_render.c) of one decoded frame."""
    if frame.ndim == 3:
        return frame.astype(np.uint8) if frame.dtype == np.uint8 else \
            np.clip(frame / 256, 0, 255).astype(np.uint8)
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    if frame.dtype == np.uint8 and not signed:
        v = frame.copy()
    else:
        f = frame.astype(np.float64)
        lo, hi = f.min(), f.max()
        v = np.zeros(f.shape, np.uint8) if hi <= lo else \
            np.clip((f - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)
    if str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1":
        v = 255 - v
    return v


def channels(v):
    """Luma and chroma, as the core computes them (integer luma)."""
    if v.ndim == 2:
        return np.stack([v.astype(np.float32) / 255, np.zeros(v.shape, np.float32)])
    r, g, b = (v[..., i].astype(np.int32) for i in range(3))
    luma = (77 * r + 150 * g + 29 * b + 128) >> 8
    chroma = v.max(-1).astype(np.int32) - v.min(-1)
    return np.stack([luma.astype(np.float32) / 255, chroma.astype(np.float32) / 255])


def load_set(d, max_frames):
    truth = json.load(open(os.path.join(d, "truth.json")))
    out = []
    for f in truth["files"]:
        try:
            frames, ds = decode_frames(os.path.join(d, f["file"]))
        except Exception as e:  # noqa: BLE001 - one undecodable file is skipped
            print("skip %s: %s" % (f["file"], type(e).__name__), file=sys.stderr)
            continue
        for fr in range(min(len(frames), max_frames)):
            x = channels(view_of(frames[fr], ds))
            h, w = x.shape[1:]
            y = np.zeros((h, w), np.float32)
            wt = np.ones((h, w), np.float32)
            for b in f["boxes"]:
                if b["frame"] != fr:
                    continue
                x0, y0 = max(0, b["x"] - 1), max(0, b["y"] - 1)
                x1, y1 = min(w, b["x"] + b["w"] + 1), min(h, b["y"] + b["h"] + 1)
                # The box's own edge is uncertain by a pixel or two: no loss there.
                wt[max(0, y0 - 2):y1 + 2, max(0, x0 - 2):x1 + 2] = 0
                y[y0:y1, x0:x1] = 1
            wt[y > 0] = 1
            out.append((x, y, wt))
    return out


class TextNet(nn.Module):
    def __init__(self, width):
        super().__init__()
        layers = []
        for cin, cout, dil in plan(width):
            layers += [nn.Conv2d(cin, cout, 3, padding=dil, dilation=dil), nn.ReLU()]
        layers.append(nn.Conv2d(width, 1, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)


def crops(data, rng, n, size):
    xs, ys, ws = [], [], []
    for _ in range(n):
        x, y, wt = data[rng.integers(len(data))]
        h, w = y.shape
        s = min(size, h, w)
        if y.any() and rng.random() < 0.5:  # half the crops on text
            ty, tx = np.nonzero(y)
            k = rng.integers(len(ty))
            cy = int(np.clip(ty[k] - rng.integers(s), 0, h - s))
            cx = int(np.clip(tx[k] - rng.integers(s), 0, w - s))
        else:
            cy, cx = int(rng.integers(h - s + 1)), int(rng.integers(w - s + 1))
        xc = x[:, cy:cy + s, cx:cx + s].copy()
        # Different windows and polarity of the same picture.
        if rng.random() < 0.3:
            g = float(rng.uniform(0.6, 1.6))
            xc[0] = np.clip(xc[0], 0, 1) ** g
        if rng.random() < 0.2:
            xc[0] = 1 - xc[0]
        pad = ((0, 0), (0, size - s), (0, size - s))
        xs.append(np.pad(xc, pad))
        ys.append(np.pad(y[cy:cy + s, cx:cx + s], pad[1:]))
        ws.append(np.pad(wt[cy:cy + s, cx:cx + s], pad[1:]))
    return (torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))[:, None],
            torch.from_numpy(np.stack(ws))[:, None])


def export(model, path):
    convs = [m for m in model.body if isinstance(m, nn.Conv2d)]
    with open(path, "w") as f:
        f.write("medveil-textnet 1 %d\n" % len(convs))
        for m in convs:
            cout, cin, k, _ = m.weight.shape
            f.write("conv %d %d %d %d\n" % (cin, cout, k, m.dilation[0]))
            w = m.weight.detach().numpy().reshape(-1)
            b = m.bias.detach().numpy().reshape(-1)
            for i in range(0, len(w), 8):
                f.write(" ".join("%.7g" % v for v in w[i:i + 8]) + "\n")
            f.write(" ".join("%.7g" % v for v in b) + "\n")


def load_model(path):
    """A model written by export(), to start training from (fine-tuning)."""
    toks = open(path).read().split()
    if toks[:2] != ["medveil-textnet", "1"]:
        sys.exit("%s: not a medveil-textnet 1 model" % path)
    if len(toks) < 6 or toks[3] != "conv" or not toks[5].isdigit():
        sys.exit("%s: no first layer (conv <in> <out> <k> <dilation>)" % path)
    model = TextNet(int(toks[5]))  # the first layer's output channels
    i = 3
    for m in (m for m in model.body if isinstance(m, nn.Conv2d)):
        cin, cout, k, dil = map(int, toks[i + 1:i + 5])
        if (cout, cin, k, k) != tuple(m.weight.shape) or dil != m.dilation[0]:
            sys.exit("%s: layer shapes differ from plan()" % path)
        i += 5
        nw = cin * cout * k * k
        m.weight.data = torch.tensor(np.array(toks[i:i + nw], np.float32).reshape(cout, cin, k, k))
        i += nw
        m.bias.data = torch.tensor(np.array(toks[i:i + cout], np.float32))
        i += cout
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="+", help="folders written by gen_burned.py")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--max-frames", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", help="start from this model (fine-tune the shipped one "
                    "on your own generated images)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--width", type=int, default=16,
                    help="channels per layer (ignored with --init: the model's own)")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    data = []
    for d in a.sets:
        data += load_set(d, a.max_frames)
    print("planes: %d" % len(data), file=sys.stderr)
    model = load_model(a.init) if a.init else TextNet(a.width)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.steps)
    lossf = nn.BCEWithLogitsLoss(reduction="none")
    run = 0.0
    for step in range(a.steps):
        x, y, w = crops(data, rng, a.batch, a.size)
        loss = (lossf(model(x), y) * w).sum() / w.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run = 0.98 * run + 0.02 * loss.item()
        if step % 200 == 0 or step == a.steps - 1:
            print("step %d loss %.4f" % (step, run), file=sys.stderr, flush=True)
    export(model, a.out)


if __name__ == "__main__":
    main()
