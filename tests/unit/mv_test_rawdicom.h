/* mv_test_rawdicom.h - reading DICOM bytes without dcmtk, for tests that
 * check what the plugin wrote: whole files, and an independent finder of
 * the top-level PixelData value. Included by one test file each. */
#ifndef MV_TEST_RAWDICOM_H
#define MV_TEST_RAWDICOM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(sz > 0 ? (size_t)sz : 1);
  if (b && sz > 0 && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *n = sz > 0 ? (size_t)sz : 0;
  return b;
}

/* ------------------------------------------- independent pixel finder
 * Just enough DICOM to find the top-level (7FE0,0010) value in a file that
 * is not deflated: returns 0 and its value bytes (for encapsulated data:
 * every item up to and including the sequence delimiter; *encap, when not
 * NULL, says whether it is encapsulated), -1 otherwise. */

static uint16_t r16(const uint8_t *p, int be) {
  return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}
static uint32_t r32(const uint8_t *p, int be) {
  return be ? (uint32_t)r16(p, 1) << 16 | r16(p + 2, 1)
            : (uint32_t)r16(p + 2, 0) << 16 | r16(p, 0);
}
static int long_vr(const uint8_t *v) {
  static const char *l = "OBODOFOLOVOWSQSVUCUNURUTUV";
  for (const char *s = l; *s; s += 2)
    if (v[0] == s[0] && v[1] == s[1]) return 1;
  return 0;
}

/* Read one element header at *pos; 0 on success. */
static int header(const uint8_t *p, size_t n, size_t *pos, int ex, int be,
                  uint16_t *g, uint16_t *e, uint32_t *len) {
  if (*pos + 8 > n) return -1;
  *g = r16(p + *pos, be);
  *e = r16(p + *pos + 2, be);
  if (*g == 0xFFFE || !ex) {
    *len = r32(p + *pos + 4, be);
    *pos += 8;
  } else if (long_vr(p + *pos + 4)) {
    if (*pos + 12 > n) return -1;
    *len = r32(p + *pos + 8, be);
    *pos += 12;
  } else {
    *len = r16(p + *pos + 6, be);
    *pos += 8;
  }
  return 0;
}

/* Skip content of an undefined-length element (after its header). */
static int skip_undefined(const uint8_t *p, size_t n, size_t *pos, int ex,
                          int be) {
  int level = 1;
  while (level > 0) {
    uint16_t g, e;
    uint32_t len;
    if (header(p, n, pos, ex, be, &g, &e, &len)) return -1;
    if (g == 0xFFFE && (e == 0xE0DD || e == 0xE00D)) {
      level--;
    } else if (len == 0xFFFFFFFFu) {
      level++;
    } else {
      if (len > n - *pos) return -1;
      *pos += len;
    }
    if (level > 64) return -1;
  }
  return 0;
}

static int find_pixels(const uint8_t *p, size_t n, const uint8_t **out,
                       size_t *outlen, int *encap) {
  size_t pos = 0;
  int ex = 1, be = 0;
  char ts[80] = "";
  if (n >= 132 && memcmp(p + 128, "DICM", 4) == 0) pos = 132;
  if (pos == 132 || (n > 8 && p[0] == 2 && p[1] == 0)) {
    while (pos + 8 <= n && r16(p + pos, 0) == 0x0002) {
      uint16_t g, e;
      uint32_t len;
      if (header(p, n, &pos, 1, 0, &g, &e, &len) || len > n - pos) return -1;
      if (e == 0x0010 && len < sizeof ts) {
        size_t k = len;
        memcpy(ts, p + pos, k);
        ts[k] = 0;
        while (k && (ts[k - 1] == 0 || ts[k - 1] == ' ')) ts[--k] = 0;
      }
      pos += len;
    }
  }
  if (ts[0]) {
    if (!strcmp(ts, "1.2.840.10008.1.2")) ex = 0;
    if (!strcmp(ts, "1.2.840.10008.1.2.2")) be = 1;
    if (!strcmp(ts, "1.2.840.10008.1.2.1.99")) return -1; /* deflated */
  } else if (pos + 8 <= n) {
    ex = p[pos + 4] >= 'A' && p[pos + 4] <= 'Z' && p[pos + 5] >= 'A' &&
         p[pos + 5] <= 'Z';
    be = r16(p + pos, 1) < r16(p + pos, 0);
  }
  while (pos < n) {
    uint16_t g, e;
    uint32_t len;
    if (header(p, n, &pos, ex, be, &g, &e, &len)) return -1;
    size_t v = pos;
    if (len == 0xFFFFFFFFu) {
      if (skip_undefined(p, n, &pos, ex, be)) return -1;
    } else {
      if (len > n - pos) return -1;
      pos += len;
    }
    if (g == 0x7FE0 && e == 0x0010) {
      *out = p + v;
      *outlen = pos - v;
      if (encap) *encap = len == 0xFFFFFFFFu;
      return 0;
    }
  }
  return -1;
}

/* 1 same, 0 different, -1 could not compare (deflated, no pixels...) */
static int same_pixels(const char *a, const char *b) {
  size_t na, nb, la, lb;
  const uint8_t *pa, *pb;
  uint8_t *ba = slurp(a, &na), *bb = slurp(b, &nb);
  int r = -1;
  if (ba && bb && find_pixels(ba, na, &pa, &la, NULL) == 0) {
    if (find_pixels(bb, nb, &pb, &lb, NULL) == 0)
      r = la == lb && memcmp(pa, pb, la) == 0;
    else
      r = 0; /* input had pixels, output has none */
  }
  free(ba);
  free(bb);
  return r;
}

#endif
