/* jpeg_write.c - rebuilds the file from its pieces: frame structure and
 * entropy-coded data copied byte for byte (or, after a redaction, the block
 * library's output), kept metadata segments in their original order,
 * removed ones dropped, the EXIF segment rebuilt from its kept entries, the
 * JFIF thumbnail always dropped. The whole file is assembled in memory and
 * written once; on any failure the output file is removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jpeg_internal.h"

typedef struct obuf {
  uint8_t *b;
  size_t len, cap;
  int oom;
} obuf;

static void put(obuf *o, const void *p, size_t n) {
  if (o->oom || !n) return;
  if (o->len + n > o->cap) {
    size_t cap = o->cap ? o->cap : 65536;
    while (cap < o->len + n) cap *= 2;
    uint8_t *b = realloc(o->b, cap);
    if (!b) {
      o->oom = 1;
      return;
    }
    o->b = b;
    o->cap = cap;
  }
  memcpy(o->b + o->len, p, n);
  o->len += n;
}

static int put_segment(obuf *o, uint8_t m, const uint8_t *hdr, size_t hdrlen,
                       const uint8_t *v, size_t n, char *err, size_t errlen) {
  size_t seg = 2 + hdrlen + n;
  if (seg > 0xFFFF)
    return jpg_fail(err, errlen, MV_ELIMIT,
                    "new value too long for a JPEG segment");
  uint8_t h[4] = {0xFF, m, (uint8_t)(seg >> 8), (uint8_t)seg};
  put(o, h, 4);
  put(o, hdr, hdrlen);
  put(o, v, n);
  return MV_OK;
}

/* One metadata piece, if its attribute is kept. */
static int put_meta(mv_doc *d, obuf *o, const jpg_piece *p, char *err,
                    size_t errlen) {
  const jpg_attr *a = &d->attrs[p->attr];
  if (a->removed) return MV_OK;
  const uint8_t *seg = d->buf + p->off;
  if (p->type == JPG_PIECE_TRAILER) {
    put(o, seg, p->len);
    return MV_OK;
  }
  if (a->has_new) {
    if (d->attrs + p->attr != a || a->piece != (int)(p - d->pieces))
      return MV_OK; /* a multi-segment value is written once */
    return put_segment(o, p->marker, seg + 4, a->hdr, a->newval, a->newlen,
                       err, errlen);
  }
  if (strcmp(a->name, "jpeg:jfif") == 0 && p->len >= 4 + 14) {
    /* JFIF 1.0x: keep version, units and density; never the thumbnail. */
    uint8_t v[14];
    memcpy(v, seg + 4, 14);
    v[12] = v[13] = 0;
    return put_segment(o, p->marker, NULL, 0, v, 14, err, errlen);
  }
  put(o, seg, p->len);
  return MV_OK;
}

/* An APP1 segment that a reader takes for EXIF when no EXIF segment came
 * before it (a second one, kept as jpeg:app1). */
static int looks_like_exif(const mv_doc *d, const jpg_piece *p) {
  return p->marker == 0xE1 && p->len >= 4 + 5 &&
         memcmp(d->buf + p->off + 4, "Exif\0", 5) == 0;
}

static int assemble(mv_doc *d, obuf *o, char *err, size_t errlen) {
  static const uint8_t soi[2] = {0xFF, 0xD8};
  int rc = MV_OK, exif_out = 0;
  put(o, soi, 2);
  for (size_t i = 0; i < d->npieces && rc == MV_OK; i++) {
    const jpg_piece *p = &d->pieces[i];
    switch (p->type) {
    case JPG_PIECE_SOI: break;
    case JPG_PIECE_FRAME:
    case JPG_PIECE_EOI:
      if (!d->redacted) put(o, d->buf + p->off, p->len);
      break;
    case JPG_PIECE_META:
      /* A second EXIF segment goes out only after the first: with nothing
       * of the first kept, the output's reader would take it for the
       * file's EXIF, and it does not parse as one (fuzz finding). */
      if (!exif_out && looks_like_exif(d, p)) break;
      rc = put_meta(d, o, p, err, errlen);
      break;
    case JPG_PIECE_EXIF: {
      uint8_t *x = NULL;
      size_t xn = 0;
      rc = jpg_build_exif(d, &x, &xn, err, errlen);
      put(o, x, xn);
      exif_out = xn > 0;
      free(x);
      break;
    }
    case JPG_PIECE_TRAILER:
      if (d->redacted) break; /* appended after the new EOI below */
      rc = put_meta(d, o, p, err, errlen);
      break;
    }
  }
  if (rc != MV_OK || !d->redacted) return rc;
  /* The redacted stream: skip its SOI and the APP0/APP14 it wrote (ours,
   * kept or not by the policy, are already out), copy the rest. */
  const uint8_t *r = d->redacted;
  size_t n = d->redactedlen, pos = 2;
  while (pos + 4 <= n && r[pos] == 0xFF && r[pos + 1] >= 0xE0 &&
         r[pos + 1] <= 0xEF) {
    size_t len = (size_t)r[pos + 2] << 8 | r[pos + 3];
    if (len < 2 || pos + 2 + len > n)
      return jpg_fail(err, errlen, MV_EPLUGIN, "redacted stream malformed");
    pos += 2 + len;
  }
  if (n < pos)
    return jpg_fail(err, errlen, MV_EPLUGIN, "redacted stream malformed");
  put(o, r + pos, n - pos);
  for (size_t i = 0; i < d->npieces && rc == MV_OK; i++)
    if (d->pieces[i].type == JPG_PIECE_TRAILER)
      rc = put_meta(d, o, &d->pieces[i], err, errlen);
  return rc;
}

int jpg_write(mv_doc *d, const char *path, char *err, size_t errlen) {
  obuf o = {0};
  int rc = assemble(d, &o, err, errlen);
  if (rc == MV_OK && o.oom) rc = MV_ENOMEM;
  if (rc != MV_OK) {
    free(o.b);
    return rc;
  }
  FILE *f = fopen(path, "wb");
  if (!f) {
    free(o.b);
    return jpg_fail(err, errlen, MV_EIO, "cannot create the output file");
  }
  int ok = fwrite(o.b, 1, o.len, f) == o.len;
  ok = (fclose(f) == 0) && ok;
  free(o.b);
  if (!ok) {
    unlink(path);
    return jpg_fail(err, errlen, MV_EIO, "cannot write the output file");
  }
  return MV_OK;
}
