/* jpeg_markers.c - splits a JPEG file into pieces with strict bounds: every
 * marker segment, every scan (SOS plus its entropy-coded data, found by
 * scanning for the next marker), EOI and what follows it. Metadata segments
 * (APPn, COM) become attributes; everything else is frame structure that is
 * copied byte for byte. Nothing here trusts a length without checking it
 * against the end of the file. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpeg_internal.h"

int jpg_fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

int jpg_add_piece(mv_doc *d, int type, uint8_t marker, size_t off, size_t len,
                  int attr, char *err, size_t errlen) {
  if (d->npieces >= JPG_MAX_PIECES)
    return jpg_fail(err, errlen, MV_ELIMIT, "more than %d marker segments",
                    JPG_MAX_PIECES);
  if (d->npieces == d->cappieces) {
    size_t cap = d->cappieces ? d->cappieces * 2 : 32;
    jpg_piece *p = realloc(d->pieces, cap * sizeof *p);
    if (!p) return MV_ENOMEM;
    d->pieces = p;
    d->cappieces = cap;
  }
  d->pieces[d->npieces++] = (jpg_piece){type, marker, off, len, attr};
  return MV_OK;
}

int jpg_add_attr(mv_doc *d, const char *name, int piece, char *err,
                 size_t errlen) {
  if (d->nattrs >= JPG_MAX_ATTRS)
    return jpg_fail(err, errlen, MV_ELIMIT, "more than %d metadata attributes",
                    JPG_MAX_ATTRS);
  if (d->nattrs == d->capattrs) {
    size_t cap = d->capattrs ? d->capattrs * 2 : 32;
    jpg_attr *a = realloc(d->attrs, cap * sizeof *a);
    if (!a) return MV_ENOMEM;
    d->attrs = a;
    d->capattrs = cap;
  }
  jpg_attr *a = &d->attrs[d->nattrs];
  memset(a, 0, sizeof *a);
  snprintf(a->name, sizeof a->name, "%s", name);
  a->piece = piece;
  d->nattrs++;
  return MV_OK;
}

static int has_prefix(const uint8_t *p, size_t n, const char *id, size_t idlen) {
  return n >= idlen && memcmp(p, id, idlen) == 0;
}

#define ID(s) s, sizeof(s) - 1 /* identifier with its terminating NUL */

/* Name and identifier length of an APPn/COM payload. */
static const char *meta_name(uint8_t m, const uint8_t *p, size_t n,
                             size_t *hdr, char *buf, size_t buflen) {
  *hdr = 0;
  switch (m) {
  case 0xFE: return "jpeg:com";
  case 0xE0:
    if (has_prefix(p, n, ID("JFIF\0"))) return "jpeg:jfif";
    break;
  case 0xE1:
    if (has_prefix(p, n, ID("http://ns.adobe.com/xap/1.0/\0"))) {
      *hdr = 29;
      return "jpeg:xmp";
    }
    if (has_prefix(p, n, ID("http://ns.adobe.com/xmp/extension/\0"))) {
      *hdr = n >= 75 ? 75 : n; /* id, GUID, full length, offset */
      return "jpeg:xmp";
    }
    break;
  case 0xE2:
    if (has_prefix(p, n, ID("ICC_PROFILE\0"))) return "jpeg:icc";
    break;
  case 0xED:
    if (has_prefix(p, n, ID("Photoshop 3.0\0"))) return "jpeg:iptc";
    break;
  case 0xEE:
    if (has_prefix(p, n, ID("Adobe"))) return "jpeg:adobe";
    break;
  }
  snprintf(buf, buflen, "jpeg:app%u", (unsigned)(m - 0xE0));
  return buf;
}

static int is_sof(uint8_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

static int parse_sof(mv_doc *d, uint8_t m, const uint8_t *p, size_t len,
                     size_t off, char *err, size_t errlen) {
  if (d->sof)
    return jpg_fail(err, errlen, MV_EUNSUPPORTED,
                    "more than one frame header (hierarchical JPEG)");
  if (m == 0xC3 || m == 0xC7 || m == 0xCB || m == 0xCF)
    return jpg_fail(err, errlen, MV_EUNSUPPORTED,
                    "lossless JPEG (SOF%u) is not supported", m - 0xC0u);
  if (m == 0xC5 || m == 0xC6 || m == 0xCD || m == 0xCE)
    return jpg_fail(err, errlen, MV_EUNSUPPORTED,
                    "hierarchical JPEG (SOF%u) is not supported", m - 0xC0u);
  if (len < 6)
    return jpg_fail(err, errlen, MV_EFORMAT,
                    "frame header at offset %zu is too short", off);
  uint32_t prec = p[0], h = (uint32_t)p[1] << 8 | p[2],
           w = (uint32_t)p[3] << 8 | p[4], nc = p[5];
  if (nc < 1 || nc > 4 || len != 6 + 3 * (size_t)nc)
    return jpg_fail(err, errlen, MV_EFORMAT,
                    "frame header at offset %zu: bad component count %u", off,
                    nc);
  if (w == 0 || h == 0)
    return jpg_fail(err, errlen, MV_EUNSUPPORTED,
                    "frame header with zero width or height (DNL) is not "
                    "supported");
  if (w > JPG_MAX_SIDE || h > JPG_MAX_SIDE ||
      (uint64_t)w * h > JPG_MAX_PIXELS)
    return jpg_fail(err, errlen, MV_ELIMIT,
                    "image of %ux%u pixels exceeds the limit (%u per side, "
                    "2^28 pixels)", w, h, JPG_MAX_SIDE);
  d->sof = m;
  d->precision = prec;
  d->width = w;
  d->height = h;
  d->components = nc;
  d->progressive = m == 0xC2 || m == 0xCA;
  d->arithmetic = m >= 0xC8;
  return MV_OK;
}

/* Offset of the marker ending the entropy-coded data that starts at i. */
static int scan_entropy(const uint8_t *b, size_t n, size_t i, size_t *end,
                        char *err, size_t errlen) {
  for (;;) {
    const uint8_t *f = memchr(b + i, 0xFF, n - i);
    if (!f || (size_t)(f - b) + 1 >= n)
      return jpg_fail(err, errlen, MV_EFORMAT,
                      "truncated: entropy-coded data runs to the end of the "
                      "file without an EOI marker");
    i = (size_t)(f - b);
    uint8_t nb = b[i + 1];
    if (nb == 0x00 || (nb >= 0xD0 && nb <= 0xD7) || nb == 0xFF) {
      i += nb == 0xFF ? 1 : 2; /* stuffed byte, restart marker, fill */
      continue;
    }
    *end = i;
    return MV_OK;
  }
}

static int add_meta(mv_doc *d, uint8_t m, size_t pos, size_t seglen,
                    size_t *meta_total, char *err, size_t errlen) {
  const uint8_t *p = d->buf + pos + 4;
  size_t n = seglen - 2;
  *meta_total += seglen + 2;
  if (*meta_total > JPG_MAX_META_BYTES)
    return jpg_fail(err, errlen, MV_ELIMIT,
                    "more than %zu MiB of metadata segments",
                    JPG_MAX_META_BYTES >> 20);
  int rc;
  if (m == 0xE1 && d->exif_piece < 0 && n >= 6 && memcmp(p, "Exif\0", 5) == 0) {
    d->exif_piece = (int)d->npieces;
    if ((rc = jpg_add_piece(d, JPG_PIECE_EXIF, m, pos, seglen + 2, -1, err,
                            errlen)))
      return rc;
    return jpg_parse_exif(d, d->exif_piece, err, errlen);
  }
  size_t hdr;
  char buf[16];
  const char *name = meta_name(m, p, n, &hdr, buf, sizeof buf);
  /* All ICC chunks are one attribute: the profile. */
  if (strcmp(name, "jpeg:icc") == 0)
    for (size_t k = 0; k < d->nattrs; k++)
      if (strcmp(d->attrs[k].name, "jpeg:icc") == 0)
        return jpg_add_piece(d, JPG_PIECE_META, m, pos, seglen + 2, (int)k,
                             err, errlen);
  if ((rc = jpg_add_attr(d, name, (int)d->npieces, err, errlen))) return rc;
  d->attrs[d->nattrs - 1].hdr = hdr;
  if ((rc = jpg_add_piece(d, JPG_PIECE_META, m, pos, seglen + 2,
                          (int)d->nattrs - 1, err, errlen)))
    return rc;
  jpg_attr_show(d, &d->attrs[d->nattrs - 1]);
  return MV_OK;
}

int jpg_parse_markers(mv_doc *d, char *err, size_t errlen) {
  const uint8_t *b = d->buf;
  size_t n = d->n, pos = 2, meta_total = 0;
  int rc, scans = 0;
  d->exif_piece = -1;
  d->thumb.attr = -1;
  if (n < 4 || b[0] != 0xFF || b[1] != 0xD8)
    return jpg_fail(err, errlen, MV_EFORMAT, "not a JPEG file (no SOI marker)");
  if ((rc = jpg_add_piece(d, JPG_PIECE_SOI, 0xD8, 0, 2, -1, err, errlen)))
    return rc;
  for (;;) {
    if (pos >= n || b[pos] != 0xFF) {
      if (pos >= n)
        return jpg_fail(err, errlen, MV_EFORMAT,
                        "truncated: the file ends before the EOI marker");
      return jpg_fail(err, errlen, MV_EFORMAT,
                      "expected a marker at offset %zu", pos);
    }
    while (pos + 1 < n && b[pos + 1] == 0xFF) pos++; /* fill bytes */
    if (pos + 1 >= n)
      return jpg_fail(err, errlen, MV_EFORMAT,
                      "truncated: the file ends inside a marker");
    uint8_t m = b[pos + 1];
    if (m == 0xD9) {
      if (!d->sof || !scans)
        return jpg_fail(err, errlen, MV_EFORMAT,
                        "EOI before any frame header or scan");
      if ((rc = jpg_add_piece(d, JPG_PIECE_EOI, m, pos, 2, -1, err, errlen)))
        return rc;
      pos += 2;
      if (pos < n) {
        if ((rc = jpg_add_attr(d, "jpeg:trailer", (int)d->npieces, err,
                               errlen)) ||
            (rc = jpg_add_piece(d, JPG_PIECE_TRAILER, 0, pos, n - pos,
                                (int)d->nattrs - 1, err, errlen)))
          return rc;
        jpg_attr_show(d, &d->attrs[d->nattrs - 1]);
      }
      return MV_OK;
    }
    if (m == 0xD8)
      return jpg_fail(err, errlen, MV_EFORMAT, "second SOI at offset %zu", pos);
    if ((m >= 0xD0 && m <= 0xD7) || m == 0x00)
      return jpg_fail(err, errlen, MV_EFORMAT,
                      "marker 0x%02X outside entropy-coded data at offset %zu",
                      m, pos);
    if (m == 0x01) { /* TEM: no length */
      if ((rc = jpg_add_piece(d, JPG_PIECE_FRAME, m, pos, 2, -1, err, errlen)))
        return rc;
      pos += 2;
      continue;
    }
    if (pos + 4 > n)
      return jpg_fail(err, errlen, MV_EFORMAT,
                      "truncated: segment 0x%02X at offset %zu has no length",
                      m, pos);
    size_t seglen = (size_t)b[pos + 2] << 8 | b[pos + 3];
    if (seglen < 2 || seglen > n - pos - 2)
      return jpg_fail(err, errlen, MV_EFORMAT,
                      "segment 0x%02X at offset %zu: length %zu runs past the "
                      "end of the file", m, pos, seglen);
    const uint8_t *p = b + pos + 4;
    size_t plen = seglen - 2;
    if ((m >= 0xE0 && m <= 0xEF) || m == 0xFE) {
      if ((rc = add_meta(d, m, pos, seglen, &meta_total, err, errlen)))
        return rc;
      pos += seglen + 2;
      continue;
    }
    if (is_sof(m)) {
      if ((rc = parse_sof(d, m, p, plen, pos, err, errlen))) return rc;
    } else if (m == 0xDA) {
      if (!d->sof)
        return jpg_fail(err, errlen, MV_EFORMAT,
                        "scan at offset %zu before the frame header", pos);
      size_t end = 0;
      if ((rc = scan_entropy(b, n, pos + 2 + seglen, &end, err, errlen)))
        return rc;
      if ((rc = jpg_add_piece(d, JPG_PIECE_FRAME, m, pos, end - pos, -1, err,
                              errlen)))
        return rc;
      scans++;
      pos = end;
      continue;
    } else if (m == 0xDE || m == 0xDF) {
      return jpg_fail(err, errlen, MV_EUNSUPPORTED,
                      "hierarchical JPEG (marker 0x%02X) is not supported", m);
    } else if (m == 0xF7 || m == 0xF8) {
      return jpg_fail(err, errlen, MV_EUNSUPPORTED,
                      "JPEG-LS is not supported");
    } else if (m != 0xC4 && m != 0xCC && m != 0xDB && m != 0xDC &&
               m != 0xDD) {
      return jpg_fail(err, errlen, MV_EFORMAT,
                      "unknown marker 0x%02X at offset %zu", m, pos);
    }
    if ((rc = jpg_add_piece(d, JPG_PIECE_FRAME, m, pos, seglen + 2, -1, err,
                            errlen)))
      return rc;
    pos += seglen + 2;
  }
}
