#!/usr/bin/env python3
"""retag-ts.py SRC DST UID: copy a Part 10 file (explicit VR little endian
meta) with its TransferSyntaxUID replaced and the meta group length fixed.
Used by run-fuzz.sh to make seeds for transfer syntaxes no test file has
(the pass-through ones: HTJ2K, JPEG XL, ...) from encapsulated test files."""
import struct
import sys

LONG = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
        b"UR", b"UT", b"UV"}


def main(src, dst, uid):
    d = open(src, "rb").read()
    if d[128:132] != b"DICM":
        sys.exit("no Part 10 preamble")
    p, elems = 132, []
    while p + 8 <= len(d):
        g, e = struct.unpack_from("<HH", d, p)
        if g != 2:
            break
        vr = d[p + 4:p + 6]
        if vr in LONG:
            (n,) = struct.unpack_from("<I", d, p + 8)
            hdr = 12
        else:
            (n,) = struct.unpack_from("<H", d, p + 6)
            hdr = 8
        elems.append((e, vr, d[p + hdr:p + hdr + n]))
        p += hdr + n
    v = uid.encode() + (b"\0" if len(uid) % 2 else b"")
    out = b""
    for e, vr, val in elems:
        if e == 0x0000:
            continue
        if e == 0x0010:
            val = v
        if vr in LONG:
            out += struct.pack("<HH2sHI", 2, e, vr, 0, len(val)) + val
        else:
            out += struct.pack("<HH2sH", 2, e, vr, len(val)) + val
    glen = struct.pack("<HH2sHI", 2, 0, b"UL", 4, len(out))
    open(dst, "wb").write(d[:132] + glen + out + d[p:])


if __name__ == "__main__":
    main(*sys.argv[1:4])
