#!/usr/bin/env python3
"""gen_seeds.py - write the fuzz seeds for fuzz_format_png into this folder.

Small PNGs built chunk by chunk (no PIL needed): every colour type and bit
depth, Adam7, palette with tRNS, every text chunk kind (plain and
compressed), tIME, eXIf, iCCP, gAMA, cHRM, sRGB, sBIT, pHYs, bKGD, hIST, an
APNG frame and a private chunk. Deterministic: re-running gives the same
files. Usage: python3 gen_seeds.py [DIR]"""
import os, struct, sys, zlib

out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))

def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)

def raw_rows(w, h, ch, bd, interlace):
    bits = ch * bd
    def row(y, xs):
        if bd >= 8:
            b = bytearray()
            for x in xs:
                for c in range(ch):
                    v = (x * 37 + y * 11 + c * 70) % (1 << bd)
                    b += v.to_bytes(bd // 8, "big")
            return bytes(b)
        acc, n, b = 0, 0, bytearray()
        for x in xs:
            acc = (acc << bd) | ((x + y) % (1 << bd)); n += bd
            if n == 8: b.append(acc); acc, n = 0, 0
        if n: b.append(acc << (8 - n))
        return bytes(b)
    data = b""
    if not interlace:
        for y in range(h): data += b"\0" + row(y, range(w))
        return data
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        xs = list(range(x0, w, dx))
        if not xs: continue
        for y in range(y0, h, dy): data += b"\0" + row(y, xs)
    return data

CH = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}

def png(name, w, h, ct, bd, interlace=0, pre=(), post=(), plte=None, trns=None):
    d = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bd, ct, 0, 0, interlace))
    for t, v in pre: d += chunk(t, v)
    if ct == 3: d += chunk(b"PLTE", plte or bytes(range(48)))
    if trns is not None: d += chunk(b"tRNS", trns)
    raw = zlib.compress(raw_rows(w, h, CH[ct], bd, interlace))
    half = len(raw) // 2
    d += chunk(b"IDAT", raw[:half]) + chunk(b"IDAT", raw[half:])
    for t, v in post: d += chunk(t, v)
    d += chunk(b"IEND", b"")
    open(os.path.join(out, name), "wb").write(d)

text = [(b"tEXt", b"Comment\0patient \xe9 1961"),
        (b"zTXt", b"Author\0\0" + zlib.compress(b"someone")),
        (b"iTXt", b"Description\0\0\0en\0Beschreibung\0text \xc3\xa4"),
        (b"iTXt", b"Title\0\1\0de\0\0" + zlib.compress("titel \u00fc".encode()))]
meta = [(b"gAMA", struct.pack(">I", 45455)), (b"cHRM", struct.pack(">8I", *range(8))),
        (b"sBIT", b"\x08\x08\x08"), (b"pHYs", struct.pack(">IIB", 2835, 2835, 1)),
        (b"iCCP", b"ICC\0\0" + zlib.compress(b"\0" * 128)), (b"tIME", bytes([7, 0xC3, 6, 5, 4, 3, 2])),
        (b"eXIf", b"MM\0*\0\0\0\x08\0\0"), (b"prVt", b"private")]
png("grey1.png", 13, 7, 0, 1)
png("grey2-adam7.png", 11, 9, 0, 2, 1)
png("grey4.png", 9, 5, 0, 4, post=text[:1])
png("grey8-trns.png", 8, 8, 0, 8, trns=b"\0\x10")
png("grey16.png", 6, 6, 0, 16, pre=[(b"sBIT", b"\x0c")])
png("rgb8-meta.png", 10, 6, 2, 8, pre=meta, post=text)
png("rgb16-adam7.png", 9, 9, 2, 16, 1, pre=[(b"sRGB", b"\0")])
png("pal1.png", 17, 3, 3, 1, plte=b"\0\0\0\xff\xff\xff")
png("pal4-trns.png", 10, 10, 3, 4, trns=bytes(range(0, 160, 10)), pre=[(b"bKGD", b"\x03")],
    post=[(b"hIST", b"\0\1" * 16)])
png("pal8.png", 12, 4, 3, 8, plte=bytes(range(256)) * 3)
png("ga8.png", 7, 7, 4, 8, post=text[2:])
png("ga16.png", 5, 5, 4, 16)
png("rgba8-apng.png", 8, 8, 6, 8, pre=[(b"acTL", struct.pack(">II", 2, 0)),
    (b"fcTL", struct.pack(">IIIIIHHBB", 0, 8, 8, 0, 0, 1, 10, 0, 0))],
    post=[(b"fcTL", struct.pack(">IIIIIHHBB", 1, 8, 8, 0, 0, 1, 10, 0, 0)),
          (b"fdAT", struct.pack(">I", 2) + zlib.compress(b"\0" + b"\x80" * 32) )])
png("rgba16.png", 4, 4, 6, 16, post=[(b"tEXt", b"Software\0x")])
