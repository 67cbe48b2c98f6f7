"""px_common - what the pixel test tools share: decoding any DICOM file the
generator makes (or medveil writes) to plain numpy frames, text normalisation,
fuzzy matching and the tesseract call.

Decoding goes through dcmtk for the JPEG family because pydicom 2.3 with
pillow cannot decode JPEG lossless / 12-bit / JPEG-LS; native, RLE and
JPEG 2000 go through pydicom (numpy and pillow handlers).
"""
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata

import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import convert_color_space

TS_NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
             "1.2.840.10008.1.2.1.99"}
TS_RLE = "1.2.840.10008.1.2.5"
TS_JPEG = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
           "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}
TS_JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
TS_JPEGLS = {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}
TS_J2K = {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"}


class DecodeError(Exception):
    pass


def _dcmtk_to_native(tool, path, tmpdir):
    out = os.path.join(tmpdir, "native.dcm")
    # +cp (default) turns YCbCr JPEG into RGB, the same way for input and output.
    r = subprocess.run([tool, path, out], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0 or not os.path.exists(out):
        raise DecodeError("%s failed (rc=%d)" % (tool, r.returncode))
    return pydicom.dcmread(out)


def decode_frames(path):
    """Return (frames, ds): frames is [F,H,W] (mono, stored values) or
    [F,H,W,3] RGB uint8/uint16; ds is the dataset as read (header only use)."""
    ds = pydicom.dcmread(path)
    ts = str(ds.file_meta.get("TransferSyntaxUID", "1.2.840.10008.1.2"))
    tmpdir = tempfile.mkdtemp(prefix="pxdec-")
    try:
        if ts in TS_JPEG:
            dec = _dcmtk_to_native("dcmdjpeg", path, tmpdir)
        elif ts in TS_JPEGLS:
            dec = _dcmtk_to_native("dcmdjpls", path, tmpdir)
        else:
            dec = ds
        try:
            arr = dec.pixel_array
        except Exception as e:  # noqa: BLE001 - any decoder failure is one reason
            raise DecodeError("pixel decode failed: %s" % type(e).__name__)
        photometric = str(dec.get("PhotometricInterpretation", ""))
        spp = int(dec.get("SamplesPerPixel", 1))
        nframes = int(dec.get("NumberOfFrames", 1) or 1)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    if spp == 1:
        arr = arr.reshape((nframes,) + arr.shape[-2:])
    else:
        arr = arr.reshape((nframes,) + arr.shape[-3:])
        # pillow already applied the inverse RCT/ICT for JPEG 2000.
        if photometric in ("YBR_FULL", "YBR_FULL_422") and ts not in TS_J2K:
            arr = convert_color_space(arr, photometric, "RGB", per_frame=True)
    return np.ascontiguousarray(arr), ds


def to_display_u8(frame, ds=None):
    """A frame as uint8 for OCR/PNG: mono stretched between the 0.5 and 99.5
    percentiles (text is usually the brightest thing), RGB kept."""
    if frame.ndim == 3:
        if frame.dtype == np.uint8:
            return frame
        f = frame.astype(np.float64)
        return np.clip(f / max(f.max(), 1) * 255, 0, 255).astype(np.uint8)
    f = frame.astype(np.float64)
    lo, hi = np.percentile(f, [0.5, 99.9])
    if hi <= lo:
        lo, hi = f.min(), max(f.max(), f.min() + 1)
    return np.clip((f - lo) / (hi - lo) * 255, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- text match

def normalise(s):
    """casefold, strip accents (Ø and friends too), keep [a-z0-9 ]."""
    s = s.replace("Ø", "O").replace("ø", "o").replace("ß", "ss").replace("Æ", "AE")
    s = s.replace("æ", "ae").replace("Ł", "L").replace("ł", "l")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


def levenshtein(a, b, cap=2):
    """Edit distance, stopping early once it exceeds cap."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > cap:
            return cap + 1
        prev = cur
    return prev[-1]


def secret_tokens(secrets):
    """Tokens (>= 3 chars) that must not be readable: each word of each
    secret, plus the secret with separators removed (0007-9241-539)."""
    toks = set()
    for s in secrets:
        n = normalise(s)
        for t in n.split():
            if len(t) >= 3:
                toks.add(t)
        joined = n.replace(" ", "")
        if len(joined) >= 3:
            toks.add(joined)
    return toks


def ocr_tokens(text):
    """(words, joined): OCR words, and concatenations of 2 and 3 neighbours
    (OCR splits IDs and dates at separators)."""
    words = [w for w in normalise(text).split() if w]
    joined = set()
    for k in (2, 3):
        for i in range(len(words) - k + 1):
            joined.add("".join(words[i:i + k]))
    return set(words), joined


def found_any(secrets, text):
    """True when a secret token (>= 3 chars) is readable in the OCR text:
    equal to, or contained in, an OCR word or joined neighbours; or one edit
    away from an OCR word when the token has >= 4 chars (on 3 chars one edit
    matches OCR noise on a filled bar, e.g. "aoe" for "ase")."""
    want = secret_tokens(secrets)
    words, joined = ocr_tokens(text)
    for w in want:
        for g in words | joined:
            if w == g or (len(w) >= 4 and w in g):
                return True
        if len(w) >= 4:
            for g in words:
                if len(g) >= 3 and levenshtein(w, g, 1) <= 1:
                    return True
    return False


# ---------------------------------------------------------------------- OCR

def tesseract(img_u8, psm=7, tmpdir=None):
    """Run the tesseract CLI on a uint8 grey/RGB array; return its text."""
    from PIL import Image
    own = tmpdir is None
    d = tmpdir or tempfile.mkdtemp(prefix="pxocr-")
    try:
        p = os.path.join(d, "crop.png")
        Image.fromarray(img_u8).save(p)
        r = subprocess.run(["tesseract", p, "stdout", "--psm", str(psm)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           timeout=60, env=dict(os.environ, OMP_THREAD_LIMIT="1"))
        return r.stdout.decode("utf-8", "replace")
    finally:
        if own:
            shutil.rmtree(d, ignore_errors=True)


def ocr_both_polarities(img_u8, psm=7, scale=2):
    """OCR a crop upscaled `scale`x, as is and inverted; concatenated text."""
    from PIL import Image
    im = Image.fromarray(img_u8)
    if im.mode != "L":
        im = im.convert("L")
    im = im.resize((max(1, im.width * scale), max(1, im.height * scale)), Image.BICUBIC)
    a = np.array(im)
    d = tempfile.mkdtemp(prefix="pxocr-")
    try:
        return tesseract(a, psm, d) + "\n" + tesseract(255 - a, psm, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
