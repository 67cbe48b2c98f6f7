#!/usr/bin/python3
"""gen_ocr_images.py OUTDIR - fixtures for tests/unit/test_detect_ocr.c.

Draws synthetic images with known words at known places (all values are
made up) and writes them as binary PGM/PPM plus OUTDIR/truth.txt, one line
per expected word:

    <file> <word> <x> <y> <w> <h> <angle>

where the rectangle is the ink extent of the word in image pixels and
angle is 0, or 90/180/270 for a word drawn turned (counter-clockwise). The
images are deterministic (no randomness) so a failure reproduces.
"""
import os
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation"]


def font(name, size):
    for d in FONT_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return ImageFont.truetype(p, size)
    raise SystemExit("font not found: " + name)


def texture(img, amp):
    """Deterministic speckle so backgrounds are not perfectly flat (US-like)."""
    px = img.load()
    w, h = img.size
    for y in range(h):
        for x in range(w):
            n = ((x * 7919 + y * 104729) ^ (x * y * 31)) % (2 * amp + 1) - amp
            v = px[x, y]
            if isinstance(v, tuple):
                px[x, y] = tuple(max(0, min(255, c + n)) for c in v)
            else:
                px[x, y] = max(0, min(255, v + n))


class Sheet:
    def __init__(self, outdir, name, mode, size, bg):
        self.outdir, self.name = outdir, name
        self.img = Image.new(mode, size, bg)
        self.draw = ImageDraw.Draw(self.img)
        self.truth = []

    def word(self, xy, text, fnt, fill):
        """Draw one or more words; record each word's ink box."""
        x, y = xy
        space = self.draw.textlength(" ", font=fnt)
        for w in text.split(" "):
            l, t, r, b = self.draw.textbbox((x, y), w, font=fnt)
            self.draw.text((x, y), w, font=fnt, fill=fill)
            self.truth.append((w, l, t, r - l, b - t, 0))
            x += self.draw.textlength(w, font=fnt) + space

    def rotated(self, xy, text, fnt, fill, bg, angle):
        """Draw `text` rotated by `angle` (90: reads bottom to top)."""
        tmp = Image.new(self.img.mode, (800, 200), bg)
        d = ImageDraw.Draw(tmp)
        l, t, r, b = d.textbbox((10, 10), text, font=fnt)
        d.text((10, 10), text, font=fnt, fill=fill)
        tmp = tmp.crop((l - 2, t - 2, r + 2, b + 2)).rotate(angle, expand=True)
        self.img.paste(tmp, xy)
        self.truth.append((text, xy[0], xy[1], tmp.size[0], tmp.size[1], angle))

    def save(self, ext, noise=0):
        if noise:
            texture(self.img, noise)
        fn = self.name + "." + ext
        self.img.save(os.path.join(self.outdir, fn))
        return [(fn,) + t for t in self.truth]


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: gen_ocr_images.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    sans = lambda s: font("DejaVuSans.ttf", s)
    mono = lambda s: font("LiberationMono-Regular.ttf", s)
    truth = []

    # Dark text on a light page (document/screenshot style).
    s = Sheet(out, "dark_on_light", "L", (640, 360), 235)
    s.word((40, 40), "KOWALSKI MARGARET", sans(26), 20)
    s.word((40, 120), "ID 48213377", sans(22), 20)
    s.word((300, 260), "1962-04-17", sans(22), 30)
    truth += s.save("pgm")

    # Light text on a dark, textured ultrasound-like frame, with a grey fan.
    s = Sheet(out, "light_on_dark", "L", (800, 600), 8)
    s.draw.pieslice((150, -300, 650, 560), 60, 120, fill=90)
    s.word((12, 8), "BRANDVOLD ERIK", sans(18), 230)
    s.word((420, 8), "00571234987", sans(18), 230)
    s.word((12, 560), "03/11/1948", sans(16), 200)
    truth += s.save("pgm", noise=6)

    # A word rotated by 90 degrees along the left edge (reads bottom-up).
    s = Sheet(out, "rotated", "L", (400, 500), 10)
    s.word((120, 20), "VERTICAL TEST", sans(22), 240)
    s.rotated((20, 120), "HALVORSEN", sans(28), 240, 10, 90)
    s.rotated((340, 150), "SOLBERG", sans(24), 240, 10, 270)
    s.rotated((150, 420), "LINDQVIST", sans(24), 240, 10, 180)
    truth += s.save("pgm")

    # Small 11 px text, as in ultrasound settings columns.
    s = Sheet(out, "small", "L", (500, 220), 0)
    s.word((10, 10), "QUIGLEY DOROTHEA", sans(11), 220)
    s.word((10, 40), "MRN 77120458", sans(12), 220)
    s.word((260, 190), "11/05/2003", mono(12), 220)
    truth += s.save("pgm")

    # RGB: coloured text on a dark background plus a light header bar with
    # dark text (mixed polarity in one image).
    s = Sheet(out, "rgb", "RGB", (720, 540), (5, 10, 20))
    s.draw.rectangle((0, 0, 719, 40), fill=(210, 210, 200))
    s.word((10, 8), "OYELARAN FOLASADE", sans(20), (10, 10, 40))
    s.word((420, 8), "2019-08-30", sans(20), (10, 10, 40))
    s.word((20, 480), "ACC 55512870", sans(20), (255, 220, 60))
    s.draw.ellipse((250, 150, 470, 380), fill=(120, 60, 40))
    truth += s.save("ppm", noise=4)

    # Light text over mid-grey anatomy in a black frame (a global threshold
    # puts text and anatomy on the same side), and small vertical lines.
    s = Sheet(out, "over_anatomy", "L", (640, 480), 0)
    s.draw.ellipse((60, 40, 580, 460), fill=140)
    s.word((150, 200), "PETTERSEN 07/22/1961", sans(20), 200)
    s.word((200, 300), "ACC 90417733", mono(16), 205)
    s.rotated((20, 150), "555-1024", sans(14), 220, 0, 90)
    s.rotated((600, 170), "MRN4471902", sans(14), 220, 0, 270)
    truth += s.save("pgm", noise=3)

    # Large monospaced text on a light banner in a dark frame: ". " between
    # "E." and the name is two advances wide (the pieces were read apart),
    # and faint light text (18 grey levels) over flat grey anatomy.
    s = Sheet(out, "large_faint", "L", (640, 480), 0)
    s.draw.rectangle((0, 400, 639, 450), fill=235)
    s.word((40, 410), "Dr. E. LINDQVIST", mono(30), 10)
    s.truth = []  # large 2x-upscaled mono reads poorly: checked by place
    s.draw.rectangle((40, 60, 600, 360), fill=150)
    s.word((120, 180), "ID 66104528", sans(20), 168)
    truth += s.save("pgm", noise=2)

    with open(os.path.join(out, "truth.txt"), "w") as f:
        for t in truth:
            f.write("%s %s %d %d %d %d %d\n" % t)


if __name__ == "__main__":
    main()
