#!/usr/bin/python3
"""render_planes.py OUTDIR FILE... - write every plane (frame) of each DICOM
file as an 8-bit PNG (what a plain OCR run would see); print the count.
Files that do not decode are skipped with a note on stderr."""
import os
import sys

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import px_common  # noqa: E402


def main():
    out, files = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    n = 0
    for i, f in enumerate(files):
        try:
            frames, _ = px_common.decode_frames(f)
        except Exception as e:  # noqa: BLE001
            print("render_planes: %s skipped (%s)" % (os.path.basename(f), type(e).__name__),
                  file=sys.stderr)
            continue
        for k, fr in enumerate(frames):
            Image.fromarray(px_common.to_display_u8(fr)).save(
                os.path.join(out, "%04d_%s_%03d.png" % (i, os.path.basename(f), k)))
            n += 1
    print(n)


if __name__ == "__main__":
    main()
