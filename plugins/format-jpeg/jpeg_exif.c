/* jpeg_exif.c - the APP1 Exif segment: a TIFF block of IFDs (IFD0, the Exif,
 * GPS and Interoperability IFDs it points to, and IFD1, the thumbnail).
 *
 * Parsing shows every entry as one attribute "jpeg:exif:<TagName>" and the
 * thumbnail as "jpeg:exif:thumbnail". Bounds are strict: an IFD, value or
 * thumbnail past the end of the segment, an IFD visited twice (offset loop),
 * nesting deeper than JPG_MAX_IFD_DEPTH or absurd entry counts refuse the
 * file with a reason.
 *
 * Writing never patches the original block: a new TIFF block is built from
 * the kept entries only (same byte order), so bytes of removed entries,
 * unused gaps, the MakerNote's neighbours and any IFD we did not walk cannot
 * survive. Values are copied raw; offsets inside a kept MakerNote are not
 * rewritten (the bundled profiles remove it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpeg_internal.h"

static const size_t type_size[13] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8};

uint16_t jpg_rd16(const mv_doc *d, const uint8_t *p) {
  return d->big_endian ? (uint16_t)(p[0] << 8 | p[1])
                       : (uint16_t)(p[1] << 8 | p[0]);
}

uint32_t jpg_rd32(const mv_doc *d, const uint8_t *p) {
  return d->big_endian
             ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | p[2] << 8 | p[3]
             : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | p[1] << 8 | p[0];
}

typedef struct walk {
  uint32_t visited[8];
  int nvisited;
  int entries;
} walk;

static const char *ifd_label(int ifd) {
  static const char *l[] = {"IFD0", "Exif", "GPS", "Interop", "IFD1"};
  return l[ifd];
}

static int child_ifd(int ifd, uint16_t tag) {
  if (ifd == JPG_IFD0 && tag == 0x8769) return JPG_IFD_EXIF;
  if (ifd == JPG_IFD0 && tag == 0x8825) return JPG_IFD_GPS;
  if (ifd == JPG_IFD_EXIF && tag == 0xA005) return JPG_IFD_INTEROP;
  return -1;
}

static int check_ifd(mv_doc *d, walk *w, uint32_t off, uint16_t *count,
                     char *err, size_t errlen) {
  for (int i = 0; i < w->nvisited; i++)
    if (w->visited[i] == off)
      return jpg_fail(err, errlen, MV_EFORMAT,
                      "EXIF: IFD offset loop (offset %u visited twice)", off);
  if (w->nvisited == 8)
    return jpg_fail(err, errlen, MV_ELIMIT, "EXIF: too many IFDs");
  w->visited[w->nvisited++] = off;
  if (off < 8 || (size_t)off + 2 > d->tifflen)
    return jpg_fail(err, errlen, MV_EFORMAT,
                    "EXIF: IFD offset %u is outside the segment", off);
  *count = jpg_rd16(d, d->tiff + off);
  if (*count > JPG_MAX_IFD_ENTRIES)
    return jpg_fail(err, errlen, MV_ELIMIT,
                    "EXIF: IFD with %u entries (limit %d)", *count,
                    JPG_MAX_IFD_ENTRIES);
  if ((size_t)off + 2 + 12 * (size_t)*count + 4 > d->tifflen)
    return jpg_fail(err, errlen, MV_EFORMAT,
                    "EXIF: IFD at offset %u runs past the end of the segment",
                    off);
  w->entries += *count;
  if (w->entries > JPG_MAX_EXIF_ENTRIES)
    return jpg_fail(err, errlen, MV_ELIMIT, "EXIF: more than %d entries",
                    JPG_MAX_EXIF_ENTRIES);
  return MV_OK;
}

/* Where the value of entry e lives; unknown types keep their 4 bytes. */
static int entry_value(mv_doc *d, const uint8_t *e, const uint8_t **val,
                       size_t *vlen, char *err, size_t errlen) {
  uint16_t type = jpg_rd16(d, e + 2);
  uint32_t count = jpg_rd32(d, e + 4);
  if (type == 0 || type > 12) {
    *val = e + 8;
    *vlen = 4;
    return MV_OK;
  }
  uint64_t size = (uint64_t)type_size[type] * count;
  if (size <= 4) {
    *val = e + 8;
    *vlen = (size_t)size;
    return MV_OK;
  }
  uint32_t off = jpg_rd32(d, e + 8);
  if (size > d->tifflen || off > d->tifflen - size)
    return jpg_fail(err, errlen, MV_EFORMAT,
                    "EXIF: value of tag 0x%04X runs past the end of the "
                    "segment", jpg_rd16(d, e));
  *val = d->tiff + off;
  *vlen = (size_t)size;
  return MV_OK;
}

static int parse_ifd(mv_doc *d, walk *w, uint32_t off, int ifd, int depth,
                     char *err, size_t errlen) {
  if (depth > JPG_MAX_IFD_DEPTH)
    return jpg_fail(err, errlen, MV_ELIMIT, "EXIF: IFDs nested too deep");
  uint16_t count;
  int rc = check_ifd(d, w, off, &count, err, errlen);
  if (rc) return rc;
  for (uint16_t i = 0; i < count; i++) {
    const uint8_t *e = d->tiff + off + 2 + 12 * (size_t)i;
    uint16_t tag = jpg_rd16(d, e);
    int child = child_ifd(ifd, tag);
    if (child >= 0) {
      if ((rc = parse_ifd(d, w, jpg_rd32(d, e + 8), child, depth + 1, err,
                          errlen)))
        return rc;
      continue;
    }
    const uint8_t *val;
    size_t vlen;
    if ((rc = entry_value(d, e, &val, &vlen, err, errlen))) return rc;
    char name[48];
    const char *tn = jpg_exif_tag_name(ifd, tag);
    if (tn) snprintf(name, sizeof name, "jpeg:exif:%s", tn);
    else snprintf(name, sizeof name, "jpeg:exif:%s-0x%04X", ifd_label(ifd), tag);
    if ((rc = jpg_add_attr(d, name, d->exif_piece, err, errlen))) return rc;
    jpg_attr *a = &d->attrs[d->nattrs - 1];
    a->exif = 1;
    a->ifd = ifd;
    a->tag = tag;
    a->type = jpg_rd16(d, e + 2);
    a->count = jpg_rd32(d, e + 4);
    a->raw = val;
    a->rawlen = vlen;
    jpg_attr_show(d, a);
  }
  return MV_OK;
}

/* IFD1: only its JPEG thumbnail matters; an uncompressed (strip) thumbnail
 * is shown too, and can only be removed. */
static int parse_ifd1(mv_doc *d, walk *w, uint32_t off, char *err,
                      size_t errlen) {
  uint16_t count;
  int rc = check_ifd(d, w, off, &count, err, errlen);
  if (rc) return rc;
  uint32_t toff = 0, tlen = 0;
  int have_off = 0;
  for (uint16_t i = 0; i < count; i++) {
    const uint8_t *e = d->tiff + off + 2 + 12 * (size_t)i;
    uint16_t tag = jpg_rd16(d, e);
    const uint8_t *val;
    size_t vlen;
    if ((rc = entry_value(d, e, &val, &vlen, err, errlen))) return rc;
    if (tag == 0x201 && vlen == 4) toff = jpg_rd32(d, val), have_off = 1;
    if (tag == 0x202 && vlen == 4) tlen = jpg_rd32(d, val);
  }
  d->thumb.ifd = d->tiff + off + 2;
  d->thumb.nentries = count;
  if (have_off && tlen) { /* a zero length means no thumbnail */
    if (toff > d->tifflen || tlen > d->tifflen - toff)
      return jpg_fail(err, errlen, MV_EFORMAT,
                      "EXIF: thumbnail runs past the end of the segment");
    d->thumb.data = d->tiff + toff;
    d->thumb.datalen = tlen;
  }
  if ((rc = jpg_add_attr(d, "jpeg:exif:thumbnail", d->exif_piece, err,
                         errlen)))
    return rc;
  d->thumb.attr = (int)d->nattrs - 1;
  jpg_attr *a = &d->attrs[d->thumb.attr];
  a->ifd = JPG_IFD1;
  a->rawlen = d->thumb.data ? d->thumb.datalen : 12 * (size_t)count;
  jpg_attr_show(d, a);
  return MV_OK;
}

int jpg_parse_exif(mv_doc *d, int piece, char *err, size_t errlen) {
  const jpg_piece *p = &d->pieces[piece];
  d->tiff = d->buf + p->off + 4 + 6; /* after FFE1, length, "Exif\0\0" */
  d->tifflen = p->len - 4 - 6;
  if (d->tifflen < 8)
    return jpg_fail(err, errlen, MV_EFORMAT, "EXIF: TIFF header truncated");
  if (memcmp(d->tiff, "II", 2) == 0) d->big_endian = 0;
  else if (memcmp(d->tiff, "MM", 2) == 0) d->big_endian = 1;
  else return jpg_fail(err, errlen, MV_EFORMAT, "EXIF: bad byte order mark");
  if (jpg_rd16(d, d->tiff + 2) != 42)
    return jpg_fail(err, errlen, MV_EFORMAT, "EXIF: bad TIFF magic number");
  walk w = {.nvisited = 0};
  uint32_t ifd0 = jpg_rd32(d, d->tiff + 4);
  int rc = parse_ifd(d, &w, ifd0, JPG_IFD0, 0, err, errlen);
  if (rc) return rc;
  uint16_t n0 = jpg_rd16(d, d->tiff + ifd0);
  uint32_t next = jpg_rd32(d, d->tiff + ifd0 + 2 + 12 * (size_t)n0);
  if (next) return parse_ifd1(d, &w, next, err, errlen);
  return MV_OK;
}

/* ---- rebuilding ------------------------------------------------------- */

typedef struct wbuf {
  uint8_t *b;
  size_t len, cap;
  int be;
  int oom;
} wbuf;

static void w_grow(wbuf *w, size_t more) {
  if (w->oom) return;
  if (w->len + more <= w->cap) return;
  size_t cap = w->cap ? w->cap : 1024;
  while (cap < w->len + more) cap *= 2;
  uint8_t *b = realloc(w->b, cap);
  if (!b) {
    w->oom = 1;
    return;
  }
  w->b = b;
  w->cap = cap;
}

static void w_bytes(wbuf *w, const void *p, size_t n) {
  w_grow(w, n);
  if (w->oom) return;
  if (n) memcpy(w->b + w->len, p, n);
  w->len += n;
}

static void w_put16(wbuf *w, size_t at, uint16_t v) {
  if (w->oom) return;
  w->b[at] = w->be ? v >> 8 : v & 0xFF;
  w->b[at + 1] = w->be ? v & 0xFF : v >> 8;
}

static void w_put32(wbuf *w, size_t at, uint32_t v) {
  if (w->oom) return;
  for (int i = 0; i < 4; i++)
    w->b[at + i] = (uint8_t)(v >> (w->be ? 24 - 8 * i : 8 * i));
}

typedef struct ent {
  uint16_t tag, type;
  uint32_t count;
  const uint8_t *val;
  size_t vlen;
  int ptr_to; /* child IFD index, or -1 */
} ent;

static int ent_cmp(const void *a, const void *b) {
  const ent *x = a, *y = b;
  return (int)x->tag - (int)y->tag;
}

/* Writes one IFD and its data; records where child pointers go. Returns
 * the IFD's offset (the TIFF block starts at 0). */
static size_t write_ifd(wbuf *w, ent *e, size_t n, size_t ptr_at[5]) {
  if (n > 1) qsort(e, n, sizeof *e, ent_cmp);
  if (w->len & 1) w_bytes(w, "", 1);
  size_t start = w->len;
  w_grow(w, 2 + 12 * n + 4);
  if (w->oom) return 0;
  memset(w->b + start, 0, 2 + 12 * n + 4);
  w->len += 2 + 12 * n + 4;
  w_put16(w, start, (uint16_t)n);
  for (size_t i = 0; i < n && !w->oom; i++) {
    size_t at = start + 2 + 12 * i;
    w_put16(w, at, e[i].tag);
    w_put16(w, at + 2, e[i].type);
    w_put32(w, at + 4, e[i].count);
    if (e[i].ptr_to >= 0) {
      ptr_at[e[i].ptr_to] = at + 8;
    } else if (e[i].vlen <= 4) {
      memcpy(w->b + at + 8, e[i].val, e[i].vlen);
    } else {
      if (w->len & 1) w_bytes(w, "", 1);
      size_t off = w->len;
      w_bytes(w, e[i].val, e[i].vlen);
      w_put32(w, at + 8, (uint32_t)off);
    }
  }
  return start;
}

static int kept(const jpg_attr *a) { return !a->removed; }

int jpg_build_exif(mv_doc *d, uint8_t **out, size_t *outlen, char *err,
                   size_t errlen) {
  *out = NULL;
  *outlen = 0;
  size_t per[5] = {0};
  for (size_t i = 0; i < d->nattrs; i++)
    if (d->attrs[i].exif && kept(&d->attrs[i])) per[d->attrs[i].ifd]++;
  int thumb = d->thumb.attr >= 0 && kept(&d->attrs[d->thumb.attr]) &&
              d->thumb.data;
  if (per[JPG_IFD_INTEROP]) per[JPG_IFD_EXIF]++; /* + pointer */
  if (per[JPG_IFD_EXIF]) per[JPG_IFD0]++;
  if (per[JPG_IFD_GPS]) per[JPG_IFD0]++;
  if (!per[JPG_IFD0] && !thumb) return MV_OK; /* nothing kept: no EXIF */

  ent *e[4] = {0};
  for (int k = 0; k < 4; k++)
    if (per[k] && !(e[k] = calloc(per[k], sizeof(ent)))) {
      for (int j = 0; j < k; j++) free(e[j]);
      return MV_ENOMEM;
    }
  size_t ne[4] = {0};
  static const uint8_t zero4[4];
  for (size_t i = 0; i < d->nattrs; i++) {
    const jpg_attr *a = &d->attrs[i];
    if (!a->exif || !kept(a)) continue;
    ent *x = &e[a->ifd][ne[a->ifd]++];
    x->tag = a->tag;
    x->type = a->type;
    x->count = a->count;
    x->val = a->has_new ? a->newval : a->raw;
    x->vlen = a->has_new ? a->newlen : a->rawlen;
    x->ptr_to = -1;
  }
  if (per[JPG_IFD_INTEROP])
    e[JPG_IFD_EXIF][ne[JPG_IFD_EXIF]++] =
        (ent){0xA005, 4, 1, zero4, 4, JPG_IFD_INTEROP};
  if (per[JPG_IFD_EXIF])
    e[JPG_IFD0][ne[JPG_IFD0]++] = (ent){0x8769, 4, 1, zero4, 4, JPG_IFD_EXIF};
  if (per[JPG_IFD_GPS])
    e[JPG_IFD0][ne[JPG_IFD0]++] = (ent){0x8825, 4, 1, zero4, 4, JPG_IFD_GPS};

  wbuf w = {.be = d->big_endian};
  uint8_t hdr[8] = {'I', 'I', 42, 0, 8, 0, 0, 0};
  if (d->big_endian) memcpy(hdr, "MM\0*\0\0\0\x08", 8);
  w_bytes(&w, hdr, 8);
  size_t ptr_at[5] = {0}, ifd_off[5] = {0};
  ifd_off[JPG_IFD0] = write_ifd(&w, e[JPG_IFD0], ne[JPG_IFD0], ptr_at);
  for (int k = JPG_IFD_EXIF; k <= JPG_IFD_INTEROP; k++)
    if (ne[k]) ifd_off[k] = write_ifd(&w, e[k], ne[k], ptr_at);
  for (int k = JPG_IFD_EXIF; k <= JPG_IFD_INTEROP; k++)
    if (ne[k] && ptr_at[k]) w_put32(&w, ptr_at[k], (uint32_t)ifd_off[k]);
  if (thumb && !w.oom) {
    /* A minimal IFD1: JPEG compression, where the thumbnail is, its size. */
    static const uint8_t six[2] = {6, 0}, six_be[2] = {0, 6};
    ent t[3] = {{0x103, 3, 1, d->big_endian ? six_be : six, 2, -1},
                {0x201, 4, 1, zero4, 4, -1},
                {0x202, 4, 1, zero4, 4, -1}};
    size_t at = write_ifd(&w, t, 3, ptr_at);
    if (w.len & 1) w_bytes(&w, "", 1);
    size_t toff = w.len;
    w_bytes(&w, d->thumb.data, d->thumb.datalen);
    w_put32(&w, at + 2 + 12 * 1 + 8, (uint32_t)toff);
    w_put32(&w, at + 2 + 12 * 2 + 8, (uint32_t)d->thumb.datalen);
    /* IFD0's next-IFD pointer. */
    uint16_t n0 = (uint16_t)ne[JPG_IFD0];
    w_put32(&w, ifd_off[JPG_IFD0] + 2 + 12 * (size_t)n0, (uint32_t)at);
  }
  for (int k = 0; k < 4; k++) free(e[k]);
  if (w.oom) {
    free(w.b);
    return MV_ENOMEM;
  }
  size_t seg = 2 + 6 + w.len; /* length field + "Exif\0\0" + TIFF */
  if (seg > 0xFFFF) {
    free(w.b);
    return jpg_fail(err, errlen, MV_ELIMIT,
                    "EXIF: rebuilt segment would exceed 64 KiB");
  }
  uint8_t *o = malloc(seg + 2);
  if (!o) {
    free(w.b);
    return MV_ENOMEM;
  }
  o[0] = 0xFF;
  o[1] = 0xE1;
  o[2] = (uint8_t)(seg >> 8);
  o[3] = (uint8_t)seg;
  memcpy(o + 4, "Exif\0\0", 6);
  memcpy(o + 10, w.b, w.len);
  free(w.b);
  *out = o;
  *outlen = seg + 2;
  return MV_OK;
}
