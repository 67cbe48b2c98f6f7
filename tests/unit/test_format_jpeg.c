/* test_format_jpeg.c - the JPEG format plugin, loaded as the core loads it.
 *
 * dlopens build/plugins/format-jpeg.so and drives its ops on JPEGs built
 * here: a small baseline and a progressive image (bytes below, made once
 * with PIL) with planted identifying values added by hand in every place a
 * JPEG carries metadata (EXIF IFD0/Exif/GPS entries, MakerNote, UserComment,
 * an EXIF thumbnail that has its own comment, XMP, extended XMP, IPTC, COM,
 * an unknown APPn, bytes after EOI). Checks: names and values as shown;
 * the bundled-profile decision (keep ICC, JFIF, Orientation) leaves no
 * planted byte and keeps the entropy-coded data byte-identical; set_value;
 * keep-all round trip; block redaction changes only the MCU under the box;
 * progressive pixels are read-only; hostile files (every truncation, huge
 * SOF, IFD loop, absurd counts, lengths past the end, random mutations) are
 * refused with a reason and never crash. */

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "medveil/plugin.h"
#define MV_TEST_PLUGINS
#include "mv_test.h"

static const mv_plugin *P;
static const mv_format_ops *F;
static void *S;
static char tmpdir[64];

/* ------------------------------------------------ the base images */

/* 32x24 RGB 4:2:0, baseline, PIL quality 60 */
static const uint8_t base_jpg[704] = {
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
  0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x0d, 0x09, 0x0a, 0x0b, 0x0a, 0x08, 0x0d,
  0x0b, 0x0a, 0x0b, 0x0e, 0x0e, 0x0d, 0x0f, 0x13, 0x20, 0x15, 0x13, 0x12, 0x12, 0x13, 0x27, 0x1c,
  0x1e, 0x17, 0x20, 0x2e, 0x29, 0x31, 0x30, 0x2e, 0x29, 0x2d, 0x2c, 0x33, 0x3a, 0x4a, 0x3e, 0x33,
  0x36, 0x46, 0x37, 0x2c, 0x2d, 0x40, 0x57, 0x41, 0x46, 0x4c, 0x4e, 0x52, 0x53, 0x52, 0x32, 0x3e,
  0x5a, 0x61, 0x5a, 0x50, 0x60, 0x4a, 0x51, 0x52, 0x4f, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x0e, 0x0e,
  0x0e, 0x13, 0x11, 0x13, 0x26, 0x15, 0x15, 0x26, 0x4f, 0x35, 0x2d, 0x35, 0x4f, 0x4f, 0x4f, 0x4f,
  0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
  0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
  0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0xff, 0xc0,
  0x00, 0x11, 0x08, 0x00, 0x18, 0x00, 0x20, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
  0x01, 0xff, 0xc4, 0x00, 0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
  0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05,
  0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21,
  0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23,
  0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17,
  0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a,
  0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a,
  0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
  0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
  0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
  0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5,
  0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1,
  0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xc4, 0x00, 0x1f, 0x01, 0x00, 0x03,
  0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
  0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x11, 0x00,
  0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01, 0x02, 0x77, 0x00,
  0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13,
  0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15,
  0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27,
  0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
  0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
  0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
  0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
  0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4,
  0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2,
  0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
  0xfa, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0xe1,
  0x21, 0xb3, 0xf6, 0xab, 0xd0, 0xd9, 0xfb, 0x56, 0x8c, 0x36, 0x7e, 0xd5, 0x7a, 0x1b, 0x3f, 0x6a,
  0x88, 0xcc, 0xcf, 0x0b, 0x8c, 0x33, 0xa1, 0xb3, 0xf6, 0xab, 0xd0, 0xd9, 0xfb, 0x56, 0x8c, 0x36,
  0x7e, 0xd5, 0x7a, 0x1b, 0x3f, 0x6a, 0xda, 0x33, 0x3e, 0x8b, 0x0b, 0x8c, 0x2a, 0x43, 0x67, 0xed,
  0x57, 0xa1, 0xb3, 0xf6, 0xa2, 0x8a, 0xf3, 0xe2, 0xd9, 0xf9, 0xde, 0x16, 0xac, 0x8b, 0xd0, 0xd9,
  0xfb, 0x55, 0xe8, 0x6c, 0xfd, 0xa8, 0xa2, 0xb6, 0x8b, 0x67, 0xd0, 0xe1, 0x6a, 0xc8, 0xff, 0xd9,
};
/* 32x24 RGB 4:2:0, progressive, PIL quality 60 */
static const uint8_t prog_jpg[583] = {
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
  0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x0d, 0x09, 0x0a, 0x0b, 0x0a, 0x08, 0x0d,
  0x0b, 0x0a, 0x0b, 0x0e, 0x0e, 0x0d, 0x0f, 0x13, 0x20, 0x15, 0x13, 0x12, 0x12, 0x13, 0x27, 0x1c,
  0x1e, 0x17, 0x20, 0x2e, 0x29, 0x31, 0x30, 0x2e, 0x29, 0x2d, 0x2c, 0x33, 0x3a, 0x4a, 0x3e, 0x33,
  0x36, 0x46, 0x37, 0x2c, 0x2d, 0x40, 0x57, 0x41, 0x46, 0x4c, 0x4e, 0x52, 0x53, 0x52, 0x32, 0x3e,
  0x5a, 0x61, 0x5a, 0x50, 0x60, 0x4a, 0x51, 0x52, 0x4f, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x0e, 0x0e,
  0x0e, 0x13, 0x11, 0x13, 0x26, 0x15, 0x15, 0x26, 0x4f, 0x35, 0x2d, 0x35, 0x4f, 0x4f, 0x4f, 0x4f,
  0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
  0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
  0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0xff, 0xc2,
  0x00, 0x11, 0x08, 0x00, 0x18, 0x00, 0x20, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
  0x01, 0xff, 0xc4, 0x00, 0x17, 0x00, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x04, 0x05, 0xff, 0xc4, 0x00, 0x17, 0x01, 0x01,
  0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
  0x05, 0x04, 0x06, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x10, 0x03, 0x10, 0x00, 0x00,
  0x01, 0xe0, 0xbe, 0x97, 0x27, 0x33, 0xe9, 0x77, 0x44, 0x5e, 0xb3, 0xf3, 0xae, 0xf4, 0xe8, 0x7f,
  0xff, 0xc4, 0x00, 0x16, 0x10, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01,
  0x05, 0x02, 0x50, 0x28, 0x14, 0x0a, 0x05, 0x02, 0x81, 0x40, 0xa0, 0x50, 0x28, 0x14, 0x0a, 0x0f,
  0xff, 0xc4, 0x00, 0x17, 0x11, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 0x02, 0xff, 0xda, 0x00, 0x08, 0x01, 0x03, 0x01,
  0x01, 0x3f, 0x01, 0x26, 0x89, 0xa2, 0xeb, 0x62, 0xeb, 0x6f, 0xff, 0xc4, 0x00, 0x15, 0x11, 0x01,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
  0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x02, 0x01, 0x01, 0x3f, 0x01, 0x18, 0x62, 0x2f, 0xff, 0xc4,
  0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x30, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x06, 0x3f, 0x02, 0x4f, 0xff,
  0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x30, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3f, 0x21, 0x4a,
  0xaa, 0xaa, 0xaf, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00,
  0x10, 0xcb, 0x2f, 0xbf, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xff, 0xda, 0x00, 0x08, 0x01, 0x03,
  0x01, 0x01, 0x3f, 0x10, 0x00, 0x97, 0xff, 0xc4, 0x00, 0x16, 0x11, 0x01, 0x01, 0x01, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x10, 0xff, 0xda,
  0x00, 0x08, 0x01, 0x02, 0x01, 0x01, 0x3f, 0x10, 0xc5, 0x4c, 0x9b, 0xff, 0xc4, 0x00, 0x15, 0x10,
  0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x61, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3f, 0x10, 0x82, 0x08, 0x20, 0x82,
  0x08, 0x20, 0x82, 0x08, 0x20, 0xff, 0xd9,
};

/* ------------------------------------------------------------ buffers */

typedef struct buf {
  uint8_t *b;
  size_t n, cap;
} buf;

static void put(buf *o, const void *p, size_t n) {
  if (o->n + n > o->cap) {
    o->cap = (o->n + n) * 2 + 64;
    o->b = realloc(o->b, o->cap);
    if (!o->b) abort();
  }
  memcpy(o->b + o->n, p, n);
  o->n += n;
}
static void put16le(buf *o, uint16_t v) { uint8_t x[2] = {v & 0xFF, v >> 8}; put(o, x, 2); }
static void put32le(buf *o, uint32_t v) {
  uint8_t x[4] = {v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, v >> 24};
  put(o, x, 4);
}
static void put_seg(buf *o, uint8_t m, const void *p, size_t n) {
  uint8_t h[4] = {0xFF, m, (uint8_t)((n + 2) >> 8), (uint8_t)(n + 2)};
  put(o, h, 4);
  put(o, p, n);
}

static const uint8_t *find_bytes(const uint8_t *h, size_t hn, const void *n,
                                 size_t nn) {
  return memmem(h, hn, n, nn);
}

/* ------------------------------------------------------- EXIF by hand */

typedef struct ent {
  uint16_t tag, type;
  uint32_t count;
  const void *val;
  size_t len;
} ent;

/* One little-endian IFD at the end of t, its long values right after. */
static void put_ifd(buf *t, const ent *e, int n, uint32_t next) {
  size_t data = t->n + 2 + 12 * (size_t)n + 4;
  buf d = {0};
  put16le(t, (uint16_t)n);
  for (int i = 0; i < n; i++) {
    put16le(t, e[i].tag);
    put16le(t, e[i].type);
    put32le(t, e[i].count);
    if (e[i].len <= 4) {
      uint8_t v[4] = {0};
      memcpy(v, e[i].val, e[i].len);
      put(t, v, 4);
    } else {
      if ((data + d.n) & 1) put(&d, "", 1);
      put32le(t, (uint32_t)(data + d.n));
      put(&d, e[i].val, e[i].len);
    }
  }
  put32le(t, next);
  if (d.n) put(t, d.b, d.n);
  if (t->n & 1) put(t, "", 1);
  free(d.b);
}

enum { EX_PLAIN = 0, EX_LOOP = 1, EX_HUGE_COUNT = 2 };

/* APP1 Exif with planted values; IFD0 -> Exif, GPS; IFD1 = thumbnail. */
static void put_exif(buf *o, const uint8_t *thumb, size_t thumblen, int mode) {
  uint32_t off[4] = {0}; /* exif, gps, ifd1, thumb */
  static const char desc[] = "PLANT-DESC", artist[] = "PLANT-ARTIST",
                    dto[] = "2019:03:04 05:06:07", serial[] = "PLANT-SERIAL",
                    uc[] = "ASCII\0\0\0PLANT-USERCOMMENT", lat_ref[] = "N",
                    maker[] = "PLANT-MAKERNOTE-0123456789";
  uint8_t orient[2] = {6, 0}, lat[24], ptr[4][4], six[2] = {6, 0}, tl[4];
  uint32_t r[6] = {47, 1, 22, 1, 5531, 100};
  for (int i = 0; i < 6; i++)
    for (int k = 0; k < 4; k++) lat[i * 4 + k] = (uint8_t)(r[i] >> (8 * k));
  buf t = {0};
  for (int pass = 0; pass < 3; pass++) {
    t.n = 0;
    for (int i = 0; i < 4; i++)
      for (int k = 0; k < 4; k++) ptr[i][k] = (uint8_t)(off[i] >> (8 * k));
    if (mode == EX_LOOP) memcpy(ptr[0], "\x08\0\0\0", 4); /* Exif -> IFD0 */
    for (int k = 0; k < 4; k++) tl[k] = (uint8_t)(thumblen >> (8 * k));
    put(&t, "II*\0\x08\0\0\0", 8);
    ent ifd0[] = {{0x010E, 2, sizeof desc, desc, sizeof desc},
                  {0x0112, 3, 1, orient, 2},
                  {0x013B, 2, sizeof artist, artist, sizeof artist},
                  {0x8769, 4, 1, ptr[0], 4},
                  {0x8825, 4, 1, ptr[1], 4}};
    put_ifd(&t, ifd0, 5, off[2]);
    if (mode == EX_HUGE_COUNT) t.b[8] = 0x00, t.b[9] = 0xF0;
    off[0] = (uint32_t)t.n;
    ent exif[] = {{0x9003, 2, sizeof dto, dto, sizeof dto},
                  {0x927C, 7, sizeof maker - 1, maker, sizeof maker - 1},
                  {0x9286, 7, sizeof uc - 1, uc, sizeof uc - 1},
                  {0xA431, 2, sizeof serial, serial, sizeof serial}};
    put_ifd(&t, exif, 4, 0);
    off[1] = (uint32_t)t.n;
    ent gps[] = {{0x0001, 2, 2, lat_ref, 2}, {0x0002, 5, 3, lat, 24}};
    put_ifd(&t, gps, 2, 0);
    off[2] = (uint32_t)t.n;
    ent ifd1[] = {{0x0103, 3, 1, six, 2},
                  {0x0201, 4, 1, ptr[3], 4},
                  {0x0202, 4, 1, tl, 4}};
    put_ifd(&t, ifd1, 3, 0);
    off[3] = (uint32_t)t.n;
    put(&t, thumb, thumblen);
  }
  buf p = {0};
  put(&p, "Exif\0\0", 6);
  put(&p, t.b, t.n);
  put_seg(o, 0xE1, p.b, p.n);
  free(p.b);
  free(t.b);
}

/* ICC payload that must survive the bundled profiles. */
static const char icc_data[] = "ICCPROFILE-KEEP-ME-0123456789abcdef";

/* The base JPEG with planted metadata in every container. */
static void planted(buf *o, const uint8_t *jpg, size_t n, int exif_mode) {
  buf thumb = {0};
  put(&thumb, base_jpg, 2);
  put_seg(&thumb, 0xFE, "PLANT-THUMBCOMMENT", 18);
  put(&thumb, base_jpg + 2, sizeof base_jpg - 2);
  o->n = 0;
  put(o, jpg, 2); /* SOI */
  size_t jfif = 4 + ((size_t)jpg[4] << 8 | jpg[5]);
  put(o, jpg + 2, jfif - 2); /* APP0 JFIF as PIL wrote it */
  put_exif(o, thumb.b, thumb.n, exif_mode);
  static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>PLANT-XMP</x:xmpmeta>";
  put_seg(o, 0xE1, xmp, sizeof xmp - 1);
  buf icc = {0};
  put(&icc, "ICC_PROFILE\0\x01\x02", 14);
  put(&icc, icc_data, 16);
  put_seg(o, 0xE2, icc.b, icc.n);
  icc.n = 0;
  put(&icc, "ICC_PROFILE\0\x02\x02", 14);
  put(&icc, icc_data + 16, sizeof icc_data - 1 - 16);
  put_seg(o, 0xE2, icc.b, icc.n);
  static const char ps[] = "Photoshop 3.0\0008BIM\x04\x04\0\0\0\0\0\x0fPLANT-IPTC-BYLN";
  put_seg(o, 0xED, ps, sizeof ps - 1);
  put_seg(o, 0xFE, "PLANT-COMMENT", 13);
  put_seg(o, 0xE5, "PLANT-APP5", 10);
  put(o, jpg + jfif, n - jfif);
  put(o, "PLANT-TRAILER", 13);
  free(icc.b);
  free(thumb.b);
}

static int write_file(const char *path, const uint8_t *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int ok = fwrite(b, 1, n, f) == n;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

static int read_file(const char *path, buf *o) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  o->n = 0;
  uint8_t tmp[4096];
  size_t k;
  while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) put(o, tmp, k);
  fclose(f);
  return 0;
}

/* The scans: first SOS through EOI. */
static const uint8_t *main_sof(const uint8_t *b, size_t n) {
  /* The last SOF: the EXIF thumbnail's comes first, and entropy-coded
   * data never holds FF C0 / FF C2 (FF is always followed by 00 there). */
  const uint8_t *last = NULL;
  for (const uint8_t *p = b; p + 1 < b + n; p++)
    if (p[0] == 0xFF && (p[1] == 0xC0 || p[1] == 0xC2)) last = p;
  return last;
}

static int scan_bytes(const uint8_t *b, size_t n, size_t *off, size_t *len) {
  const uint8_t *sof = main_sof(b, n);
  if (!sof) return -1;
  const uint8_t *s = find_bytes(sof, n - (size_t)(sof - b), "\xFF\xDA", 2);
  if (!s) return -1;
  const uint8_t *e = NULL;
  for (const uint8_t *p = s; p + 1 < b + n; p++)
    if (p[0] == 0xFF && p[1] == 0xD9) e = p;
  if (!e) return -1;
  *off = (size_t)(s - b);
  *len = (size_t)(e + 2 - s);
  return 0;
}

/* ------------------------------------------------------------ visits */

typedef struct seen {
  int n;
  char names[64][48];
  char values[64][128];
  int is_text[64];
} seen;

static int collect(void *ud, const mv_attr *a, void *handle) {
  (void)handle;
  seen *s = ud;
  CHECK(a->name != NULL && a->tag == 0 && a->depth == 0);
  if (s->n < 64 && a->name) {
    snprintf(s->names[s->n], 48, "%s", a->name);
    s->is_text[s->n] = a->value != NULL;
    snprintf(s->values[s->n], 128, "%.*s", a->value ? (int)a->len : 0,
             a->value ? a->value : "");
    if (a->value) CHECK(strlen(a->value) == a->len);
    s->n++;
  }
  return MV_VISIT_KEEP;
}

static int seen_index(const seen *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->names[i], name) == 0) return i;
  return -1;
}

static const char *seen_value(const seen *s, const char *name) {
  int i = seen_index(s, name);
  return i < 0 ? NULL : s->values[i];
}

/* What the bundled profiles keep (the named table of rules/ and scripts/medveil.lua). */
static int profile_keeps(const char *name) {
  return strcmp(name, "jpeg:icc") == 0 || strcmp(name, "jpeg:jfif") == 0 ||
         strcmp(name, "jpeg:adobe") == 0 ||
         strcmp(name, "jpeg:exif:Orientation") == 0;
}

static int decide_profile(void *ud, const mv_attr *a, void *handle) {
  (void)ud, (void)handle;
  return profile_keeps(a->name) ? MV_VISIT_KEEP : MV_VISIT_REMOVE;
}

typedef struct setter {
  mv_doc *doc;
  const char *name, *value;
  int rc;
} setter;

static int decide_set(void *ud, const mv_attr *a, void *handle) {
  setter *s = ud;
  if (strcmp(a->name, s->name) == 0) {
    s->rc = F->set_value(s->doc, handle, s->value, strlen(s->value));
    return MV_VISIT_KEEP;
  }
  return MV_VISIT_REMOVE;
}

static int remove_all(void *ud, const mv_attr *a, void *handle) {
  (void)ud, (void)a, (void)handle;
  return MV_VISIT_REMOVE;
}

static int open_bytes(const uint8_t *b, size_t n, mv_doc **doc, char *err,
                      size_t errlen) {
  char path[96];
  snprintf(path, sizeof path, "%s/in.jpg", tmpdir);
  if (write_file(path, b, n)) return MV_EIO;
  err[0] = 0;
  return F->open(S, path, doc, err, errlen);
}

static int write_doc(mv_doc *doc, buf *out) {
  char path[96], err[256] = "";
  snprintf(path, sizeof path, "%s/out.jpg", tmpdir);
  int rc = F->write(doc, path, err, sizeof err);
  if (rc != MV_OK) {
    fprintf(stderr, "write: %s\n", err);
    return rc;
  }
  return read_file(path, out) ? MV_EIO : MV_OK;
}

/* Keeps only the second EXIF segment (jpeg:app1). */
static int keep_app1(void *ud, const mv_attr *a, void *handle) {
  (void)ud, (void)handle;
  return strcmp(a->name, "jpeg:app1") == 0 ? MV_VISIT_KEEP : MV_VISIT_REMOVE;
}

/* ------------------------------------------------------------- tests */

static void test_names_values(void) {
  buf f = {0};
  planted(&f, base_jpg, sizeof base_jpg, EX_PLAIN);
  mv_doc *doc = NULL;
  char err[256];
  int rc = open_bytes(f.b, f.n, &doc, err, sizeof err);
  CHECK(rc == MV_OK);
  if (rc != MV_OK) {
    fprintf(stderr, "open: %s\n", err);
    free(f.b);
    return;
  }
  CHECK(F->probe(S, f.b, f.n) > 0);
  seen s = {0};
  CHECK(F->visit(doc, collect, &s) == MV_OK);
  static const char *want[] = {
      "jpeg:jfif", "jpeg:exif:ImageDescription", "jpeg:exif:Orientation",
      "jpeg:exif:Artist", "jpeg:exif:DateTimeOriginal", "jpeg:exif:MakerNote",
      "jpeg:exif:UserComment", "jpeg:exif:BodySerialNumber",
      "jpeg:exif:GPSLatitudeRef", "jpeg:exif:GPSLatitude",
      "jpeg:exif:thumbnail", "jpeg:xmp", "jpeg:icc", "jpeg:iptc", "jpeg:com",
      "jpeg:app5", "jpeg:trailer"};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    int found = seen_index(&s, want[i]) >= 0;
    CHECK(found);
    if (!found) fprintf(stderr, "missing attribute %s\n", want[i]);
  }
  CHECK(seen_index(&s, "jpeg:icc") == seen_index(&s, "jpeg:xmp") + 1); /* one ICC */
  CHECK_STR(seen_value(&s, "jpeg:exif:Artist"), "PLANT-ARTIST");
  CHECK_STR(seen_value(&s, "jpeg:exif:Orientation"), "6");
  CHECK_STR(seen_value(&s, "jpeg:exif:GPSLatitude"), "47/1\\22/1\\5531/100");
  CHECK_STR(seen_value(&s, "jpeg:com"), "PLANT-COMMENT");
  CHECK_STR(seen_value(&s, "jpeg:xmp"), "<x:xmpmeta>PLANT-XMP</x:xmpmeta>");
  CHECK(!s.is_text[seen_index(&s, "jpeg:exif:MakerNote")]);
  const char *v = NULL;
  size_t len = 0;
  CHECK(F->get(doc, "Modality", &v, &len) == MV_OK && len == 2 &&
        memcmp(v, "XC", 2) == 0);
  CHECK(F->get(doc, "jpeg:exif:Artist", &v, &len) == MV_OK && len == 12);
  CHECK(F->get(doc, "PatientName", &v, &len) == MV_ENOTFOUND);
  uint32_t tag;
  char vr[4];
  CHECK(F->resolve(S, "PatientName", &tag, vr) == MV_ENOTFOUND);
  CHECK(F->remove(doc, "jpeg:com") == MV_OK);
  CHECK(F->remove(doc, "jpeg:com") == MV_ENOTFOUND);
  CHECK(F->set(doc, "jpeg:exif:Artist", NULL, "X", 1) == MV_OK);
  CHECK(F->get(doc, "jpeg:exif:Artist", &v, &len) == MV_OK && len == 1);
  F->close(doc);
  free(f.b);
}

static void test_profile(const uint8_t *jpg, size_t n, const char *what) {
  buf f = {0}, out = {0};
  planted(&f, jpg, n, EX_PLAIN);
  mv_doc *doc = NULL;
  char err[256];
  if (open_bytes(f.b, f.n, &doc, err, sizeof err) != MV_OK) {
    CHECK(!"open planted");
    fprintf(stderr, "%s: %s\n", what, err);
    free(f.b);
    return;
  }
  CHECK(F->visit(doc, decide_profile, NULL) == MV_OK);
  CHECK(write_doc(doc, &out) == MV_OK);
  F->close(doc);
  CHECK(find_bytes(out.b, out.n, "PLANT", 5) == NULL);
  CHECK(find_bytes(out.b, out.n, "Jane", 4) == NULL);
  CHECK(find_bytes(out.b, out.n, icc_data, sizeof icc_data - 1) == NULL);
  /* The two ICC chunks are kept as they were (the profile is split). */
  CHECK(find_bytes(out.b, out.n, icc_data, 16) != NULL);
  CHECK(find_bytes(out.b, out.n, icc_data + 16, sizeof icc_data - 17) != NULL);
  size_t o1, l1, o2, l2;
  CHECK(scan_bytes(f.b, f.n, &o1, &l1) == 0 &&
        scan_bytes(out.b, out.n, &o2, &l2) == 0 && l1 == l2 &&
        memcmp(f.b + o1, out.b + o2, l1) == 0);
  /* Ends at EOI: the trailer is gone. */
  CHECK(out.n >= 2 && out.b[out.n - 2] == 0xFF && out.b[out.n - 1] == 0xD9);
  if (open_bytes(out.b, out.n, &doc, err, sizeof err) != MV_OK) {
    CHECK(!"reopen output");
    fprintf(stderr, "%s: reopen: %s\n", what, err);
  } else {
    seen s = {0};
    CHECK(F->visit(doc, collect, &s) == MV_OK);
    CHECK(s.n == 3);
    CHECK(seen_index(&s, "jpeg:jfif") >= 0 && seen_index(&s, "jpeg:icc") >= 0);
    CHECK_STR(seen_value(&s, "jpeg:exif:Orientation"), "6");
    F->close(doc);
  }
  free(f.b);
  free(out.b);
}

static void test_set_value(void) {
  buf f = {0}, out = {0};
  planted(&f, base_jpg, sizeof base_jpg, EX_PLAIN);
  mv_doc *doc = NULL;
  char err[256];
  if (open_bytes(f.b, f.n, &doc, err, sizeof err) != MV_OK) {
    CHECK(!"open");
    free(f.b);
    return;
  }
  setter st = {doc, "jpeg:exif:Artist", "ANONYMOUS", -1};
  CHECK(F->visit(doc, decide_set, &st) == MV_OK);
  CHECK(st.rc == MV_OK);
  CHECK(write_doc(doc, &out) == MV_OK);
  F->close(doc);
  CHECK(find_bytes(out.b, out.n, "PLANT", 5) == NULL);
  CHECK(open_bytes(out.b, out.n, &doc, err, sizeof err) == MV_OK);
  if (doc) {
    seen s = {0};
    F->visit(doc, collect, &s);
    CHECK(s.n == 1);
    CHECK_STR(seen_value(&s, "jpeg:exif:Artist"), "ANONYMOUS");
    F->close(doc);
  }
  /* COM and XMP take text; the thumbnail does not. */
  doc = NULL;
  CHECK(open_bytes(f.b, f.n, &doc, err, sizeof err) == MV_OK);
  if (doc) {
    setter a = {doc, "jpeg:com", "clean", -1};
    F->visit(doc, decide_set, &a);
    CHECK(a.rc == MV_OK);
    CHECK(write_doc(doc, &out) == MV_OK);
    CHECK(find_bytes(out.b, out.n, "\xFF\xFE\x00\x07" "clean", 9) != NULL);
    F->close(doc);
  }
  doc = NULL;
  CHECK(open_bytes(f.b, f.n, &doc, err, sizeof err) == MV_OK);
  if (doc) {
    setter a = {doc, "jpeg:exif:thumbnail", "x", -1};
    F->visit(doc, decide_set, &a);
    CHECK(a.rc == MV_EUNSUPPORTED);
    F->close(doc);
  }
  free(f.b);
  free(out.b);
}

/* A second APP1 "Exif" segment (malformed: not a TIFF block) is the
 * attribute jpeg:app1. Kept while the EXIF proper is removed, it must not
 * become the output's EXIF: the output would not open again. */
static void test_second_exif(void) {
  buf f = {0}, g = {0}, out = {0};
  planted(&f, base_jpg, sizeof base_jpg, EX_PLAIN);
  static const char dup[] = "Exif\0/PLANT-SECOND-EXIF";
  /* SOI and APP0 end at `jfif`; the EXIF segment (planted next) is
   * `exif` bytes; the second one goes right after it. */
  size_t jfif = 4 + ((size_t)f.b[4] << 8 | f.b[5]);
  size_t exif = 2 + ((size_t)f.b[jfif + 2] << 8 | f.b[jfif + 3]);
  put(&g, f.b, jfif + exif);
  put_seg(&g, 0xE1, dup, sizeof dup - 1);
  put(&g, f.b + jfif + exif, f.n - (jfif + exif));
  mv_doc *doc = NULL;
  char err[256];
  CHECK(open_bytes(g.b, g.n, &doc, err, sizeof err) == MV_OK);
  if (doc) {
    F->visit(doc, keep_app1, NULL);
    CHECK(write_doc(doc, &out) == MV_OK);
    F->close(doc);
    doc = NULL;
    CHECK(open_bytes(out.b, out.n, &doc, err, sizeof err) == MV_OK);
    CHECK(find_bytes(out.b, out.n, "PLANT-SECOND-EXIF", 17) == NULL);
    if (doc) F->close(doc);
  }
  free(f.b);
  free(g.b);
  free(out.b);
}

static void test_keep_all(void) {
  buf f = {0}, out = {0};
  planted(&f, base_jpg, sizeof base_jpg, EX_PLAIN);
  mv_doc *doc = NULL;
  char err[256];
  if (open_bytes(f.b, f.n, &doc, err, sizeof err) != MV_OK) {
    CHECK(!"open");
    free(f.b);
    return;
  }
  seen a = {0}, b = {0};
  F->visit(doc, collect, &a);
  CHECK(write_doc(doc, &out) == MV_OK);
  F->close(doc);
  CHECK(open_bytes(out.b, out.n, &doc, err, sizeof err) == MV_OK);
  if (!doc) {
    fprintf(stderr, "keep-all reopen: %s\n", err);
  } else {
    F->visit(doc, collect, &b);
    CHECK(a.n == b.n);
    for (int i = 0; i < a.n && i < b.n; i++) {
      /* EXIF entries come back sorted by tag within their IFD */
      int j = seen_index(&b, a.names[i]);
      CHECK(j >= 0);
      if (j >= 0 && a.is_text[i]) CHECK_STR(b.values[j], a.values[i]);
    }
    F->close(doc);
  }
  /* The thumbnail (with its own comment) is carried over intact. */
  CHECK(find_bytes(out.b, out.n, "PLANT-THUMBCOMMENT", 18) != NULL);
  CHECK(find_bytes(out.b, out.n, "PLANT-TRAILER", 13) != NULL);
  free(f.b);
  free(out.b);
}

static void test_pixels(void) {
  buf f = {0}, out = {0};
  planted(&f, base_jpg, sizeof base_jpg, EX_PLAIN);
  mv_doc *doc = NULL;
  char err[256];
  if (open_bytes(f.b, f.n, &doc, err, sizeof err) != MV_OK) {
    CHECK(!"open");
    free(f.b);
    return;
  }
  mv_pixel_info info;
  memset(&info, 0, sizeof info);
  info.size = sizeof info;
  CHECK(F->pixel_info(doc, &info) == MV_OK);
  CHECK(info.planes == 1 && info.width == 32 && info.height == 24 &&
        info.samples == 3 && info.encoding == MV_PIXENC_JPEG_BLOCKS);
  uint32_t dropped = 0;
  CHECK(F->drop_hidden_pixels(doc, &dropped) == MV_OK && dropped == 2);
  mv_image img;
  CHECK(F->acquire(doc, 0, &img, err, sizeof err) == MV_OK);
  size_t sz = img.stride * img.height;
  uint8_t *orig = malloc(sz);
  memcpy(orig, img.data, sz);
  mv_rect r = {16, 0, 16, 16}; /* MCU column 1, row 0 (16x16 MCUs) */
  for (int y = r.y; y < r.y + r.h; y++)
    memset((uint8_t *)img.data + y * img.stride + r.x * 3, 0, (size_t)r.w * 3);
  CHECK(F->release(doc, 0, &r, 1, err, sizeof err) == MV_OK);
  F->visit(doc, remove_all, NULL);
  CHECK(write_doc(doc, &out) == MV_OK);
  F->close(doc);
  CHECK(find_bytes(out.b, out.n, "PLANT", 5) == NULL);
  doc = NULL;
  CHECK(open_bytes(out.b, out.n, &doc, err, sizeof err) == MV_OK);
  if (doc) {
    CHECK(F->acquire(doc, 0, &img, err, sizeof err) == MV_OK);
    int outside_diff = 0, inside_max = 0;
    for (uint32_t y = 0; y < img.height; y++)
      for (uint32_t x = 0; x < img.width; x++)
        for (int c = 0; c < 3; c++) {
          uint8_t a = orig[y * img.stride + x * 3 + c],
                  b = ((uint8_t *)img.data)[y * img.stride + x * 3 + c];
          int in_mcu = x >= 16 && y < 16;
          int in_rect = (int)x >= r.x && (int)x < r.x + r.w &&
                        (int)y >= r.y && (int)y < r.y + r.h;
          if (!in_mcu && a != b) outside_diff++;
          if (in_rect && b > inside_max) inside_max = b;
        }
    CHECK(outside_diff == 0);
    if (inside_max > 6) fprintf(stderr, "inside max %d\n", inside_max);
    CHECK(inside_max <= 6); /* painted black, within JPEG rounding */
    CHECK(F->release(doc, 0, NULL, 0, err, sizeof err) == MV_OK);
    F->close(doc);
  }
  free(orig);
  free(f.b);
  free(out.b);
}

static void test_progressive(void) {
  buf f = {0}, out = {0};
  planted(&f, prog_jpg, sizeof prog_jpg, EX_PLAIN);
  mv_doc *doc = NULL;
  char err[256];
  if (open_bytes(f.b, f.n, &doc, err, sizeof err) != MV_OK) {
    CHECK(!"open progressive");
    fprintf(stderr, "%s\n", err);
    free(f.b);
    return;
  }
  mv_pixel_info info;
  memset(&info, 0, sizeof info);
  info.size = sizeof info;
  CHECK(F->pixel_info(doc, &info) == MV_OK &&
        info.encoding == MV_PIXENC_READONLY);
  mv_image img;
  CHECK(F->acquire(doc, 0, &img, err, sizeof err) == MV_OK);
  CHECK(img.width == 32 && img.height == 24 && img.samples == 3);
  mv_rect r = {0, 0, 8, 8};
  err[0] = 0;
  CHECK(F->release(doc, 0, &r, 1, err, sizeof err) == MV_EUNSUPPORTED);
  CHECK(strstr(err, "progressive") != NULL);
  CHECK(F->acquire(doc, 0, &img, err, sizeof err) == MV_OK);
  CHECK(F->release(doc, 0, NULL, 0, err, sizeof err) == MV_OK);
  F->visit(doc, decide_profile, NULL);
  CHECK(write_doc(doc, &out) == MV_OK);
  F->close(doc);
  CHECK(find_bytes(out.b, out.n, "PLANT", 5) == NULL);
  size_t o1, l1, o2, l2;
  CHECK(scan_bytes(f.b, f.n, &o1, &l1) == 0 &&
        scan_bytes(out.b, out.n, &o2, &l2) == 0 && l1 == l2 &&
        memcmp(f.b + o1, out.b + o2, l1) == 0);
  free(f.b);
  free(out.b);
}

/* A refusal: expected code (or any failure when want == -1), a reason, and
 * nothing planted in it. */
static void expect_refusal(const uint8_t *b, size_t n, int want,
                           const char *reason_part, const char *what) {
  mv_doc *doc = NULL;
  char err[256];
  int rc = open_bytes(b, n, &doc, err, sizeof err);
  int ok = rc != MV_OK && (want < 0 || rc == want) && err[0] &&
           !strstr(err, "PLANT") && (!reason_part || strstr(err, reason_part));
  CHECK(ok);
  if (!ok) fprintf(stderr, "%s: rc %d, reason '%s'\n", what, rc, err);
  if (rc == MV_OK) F->close(doc);
}

static void test_hostile(void) {
  buf f = {0}, g = {0};
  planted(&f, base_jpg, sizeof base_jpg, EX_PLAIN);
  /* Every truncation before the end of EOI is refused. */
  size_t eoi = f.n - 13;
  CHECK(f.b[eoi - 2] == 0xFF && f.b[eoi - 1] == 0xD9);
  int refused = 0, tried = 0;
  for (size_t cut = 0; cut < eoi; cut++) {
    mv_doc *doc = NULL;
    char err[256];
    tried++;
    int rc = open_bytes(f.b, cut, &doc, err, sizeof err);
    if (rc != MV_OK && err[0] && !strstr(err, "PLANT")) refused++;
    else if (rc != MV_OK) fprintf(stderr, "cut %zu: rc %d reason '%s'\n", cut, rc, err);
    if (rc == MV_OK) F->close(doc);
  }
  CHECK(refused == tried);
  if (refused != tried) fprintf(stderr, "truncations refused: %d of %d\n", refused, tried);

  /* Huge frame: 60000 x 24. */
  put(&g, f.b, f.n);
  uint8_t *sof = (uint8_t *)main_sof(g.b, g.n);
  CHECK(sof != NULL);
  if (sof) {
    sof[7] = 0xEA, sof[8] = 0x60; /* width */
    expect_refusal(g.b, g.n, MV_ELIMIT, "exceeds the limit", "huge SOF");
    sof[7] = 0, sof[8] = 0;
    expect_refusal(g.b, g.n, -1, NULL, "zero width");
  }
  /* EXIF IFD offset loop. */
  buf l = {0};
  planted(&l, base_jpg, sizeof base_jpg, EX_LOOP);
  expect_refusal(l.b, l.n, MV_EFORMAT, "loop", "IFD loop");
  planted(&l, base_jpg, sizeof base_jpg, EX_HUGE_COUNT);
  expect_refusal(l.b, l.n, MV_ELIMIT, "entries", "absurd IFD count");
  /* A segment whose length runs past the end. */
  g.n = 0;
  put(&g, base_jpg, 2);
  put(&g, "\xFF\xFE\xFF\xF0PLANT-COMMENT", 17);
  put(&g, base_jpg + 2, sizeof base_jpg - 2);
  expect_refusal(g.b, g.n, MV_EFORMAT, "runs past", "length past end");
  /* Not a JPEG; a lone SOI. */
  expect_refusal((const uint8_t *)"\xFF\xD8", 2, MV_EFORMAT, NULL, "SOI only");
  expect_refusal((const uint8_t *)"GIF89a....", 10, MV_EFORMAT, NULL, "GIF");
  CHECK(F->probe(S, (const uint8_t *)"GIF89a", 6) == 0);

  /* Random mutations: whatever happens, no crash and a reason. */
  uint32_t seed = 12345;
  int opened = 0;
  for (int it = 0; it < 1500; it++) {
    g.n = 0;
    put(&g, f.b, f.n);
    int flips = 1 + it % 4;
    for (int k = 0; k < flips; k++) {
      seed = seed * 1103515245u + 12345u;
      size_t at = (seed >> 8) % g.n;
      seed = seed * 1103515245u + 12345u;
      g.b[at] = (uint8_t)(seed >> 16);
    }
    mv_doc *doc = NULL;
    char err[256];
    int rc = open_bytes(g.b, g.n, &doc, err, sizeof err);
    if (rc != MV_OK) {
      CHECK(err[0] != 0);
      continue;
    }
    opened++;
    F->visit(doc, it & 1 ? decide_profile : collect, &(seen){0});
    mv_pixel_info info = {.size = sizeof info};
    if (F->pixel_info(doc, &info) == MV_OK) {
      mv_image img;
      if (F->acquire(doc, 0, &img, err, sizeof err) == MV_OK) {
        mv_rect r = {0, 0, 8, 8};
        memset(img.data, 0, img.stride * 8 < img.stride * img.height
                                ? img.stride * 8 : img.stride * img.height);
        F->release(doc, 0, &r, 1, err, sizeof err);
      }
    }
    buf out = {0};
    char path[96];
    snprintf(path, sizeof path, "%s/out.jpg", tmpdir);
    if (F->write(doc, path, err, sizeof err) == MV_OK) read_file(path, &out);
    free(out.b);
    F->close(doc);
  }
  CHECK(opened > 0);
  printf("mutations: %d of 1500 opened\n", opened);
  free(f.b);
  free(g.b);
  free(l.b);
}

int main(void) {
  P = mv_test_load_plugin(MV_BUILD_PLUGIN_DIR "/format-jpeg.so");
  CHECK(P != NULL);
  if (!P) TEST_MAIN_END();
  F = P->format;
  char err[256] = "";
  CHECK(P->init(&mv_test_host, NULL, &S, err, sizeof err) == MV_OK);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/mv-test-jpeg-XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  CHECK_STR(F->extension, "jpg");
  test_names_values();
  test_profile(base_jpg, sizeof base_jpg, "baseline");
  test_profile(prog_jpg, sizeof prog_jpg, "progressive");
  test_set_value();
  test_keep_all();
  test_second_exif();
  test_pixels();
  test_progressive();
  test_hostile();
  char path[96];
  snprintf(path, sizeof path, "%s/in.jpg", tmpdir);
  unlink(path);
  snprintf(path, sizeof path, "%s/out.jpg", tmpdir);
  unlink(path);
  rmdir(tmpdir);
  P->fini(S);
  TEST_MAIN_END();
}
