/* mv_render.c - min-max rendering of decoded planes to 8 bits. */
#include "mv_render.h"

#include <stdlib.h>
#include <string.h>

static size_t row_bytes(const mv_image *m) {
  return (size_t)m->width * m->samples * (m->bits == 16 ? 2 : 1);
}

static int sample_at(const mv_image *m, const uint8_t *row, size_t i) {
  if (m->bits == 16)
    return m->is_signed ? ((const int16_t *)row)[i] : ((const uint16_t *)row)[i];
  return m->is_signed ? ((const int8_t *)row)[i] : row[i];
}

int mv_render(const mv_image *src, mv_view *v) {
  memset(v, 0, sizeof *v);
  if (!src || !src->data || src->width == 0 || src->height == 0 ||
      (src->samples != 1 && src->samples != 3) ||
      (src->bits != 8 && src->bits != 16))
    return MV_EINVAL;
  mv_image *o = &v->img;
  *o = *src;
  o->bits = 8;
  o->bits_stored = 8;
  o->is_signed = 0;
  o->monochrome1 = 0;
  o->stride = (size_t)src->width * src->samples;
  o->data = malloc(o->stride * src->height);
  if (!o->data) return MV_ENOMEM;
  size_t per_row = (size_t)src->width * src->samples;
  int lo = 1 << 30, hi = -(1 << 30);
  for (uint32_t y = 0; y < src->height; y++) {
    const uint8_t *row = (const uint8_t *)src->data + (size_t)y * src->stride;
    for (size_t i = 0; i < per_row; i++) {
      int s = sample_at(src, row, i);
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
  }
  /* Colour and plain 8-bit grey are shown as stored; deeper grey gets the
   * min-max window. */
  int stretch = src->samples == 1 && (src->bits == 16 || src->is_signed);
  double scale = hi > lo ? 255.0 / (hi - lo) : 0;
  for (uint32_t y = 0; y < src->height; y++) {
    const uint8_t *row = (const uint8_t *)src->data + (size_t)y * src->stride;
    uint8_t *dst = (uint8_t *)o->data + (size_t)y * o->stride;
    for (size_t i = 0; i < per_row; i++) {
      int s = sample_at(src, row, i);
      int q = stretch ? (int)((s - lo) * scale + 0.5) : s;
      if (q < 0) q = 0;
      if (q > 255) q = 255;
      if (src->samples == 1 && src->monochrome1) q = 255 - q;
      dst[i] = (uint8_t)q;
    }
  }
  return MV_OK;
}

void mv_view_free(mv_view *v) {
  if (!v) return;
  free(v->img.data);
  memset(v, 0, sizeof *v);
}

uint64_t mv_image_hash(const mv_image *img) {
  uint64_t h = 1469598103934665603ull;
  size_t n = row_bytes(img);
  for (uint32_t y = 0; y < img->height; y++) {
    const uint8_t *row = (const uint8_t *)img->data + (size_t)y * img->stride;
    for (size_t i = 0; i < n; i++) {
      h ^= row[i];
      h *= 1099511628211ull;
    }
  }
  h ^= ((uint64_t)img->width << 32) ^ img->height ^ ((uint64_t)img->samples << 20);
  return h;
}

int mv_image_diff_rect(const mv_image *a, const mv_image *b, mv_rect *r) {
  if (a->width != b->width || a->height != b->height ||
      a->samples != b->samples || a->bits != b->bits)
    return -1;
  size_t px = (size_t)a->samples * (a->bits == 16 ? 2 : 1);
  int32_t x0 = (int32_t)a->width, y0 = (int32_t)a->height, x1 = -1, y1 = -1;
  for (uint32_t y = 0; y < a->height; y++) {
    const uint8_t *ra = (const uint8_t *)a->data + (size_t)y * a->stride;
    const uint8_t *rb = (const uint8_t *)b->data + (size_t)y * b->stride;
    if (memcmp(ra, rb, px * a->width) == 0) continue;
    if ((int32_t)y < y0) y0 = (int32_t)y;
    y1 = (int32_t)y;
    for (uint32_t x = 0; x < a->width; x++) {
      if (memcmp(ra + x * px, rb + x * px, px) == 0) continue;
      if ((int32_t)x < x0) x0 = (int32_t)x;
      if ((int32_t)x > x1) x1 = (int32_t)x;
    }
  }
  if (y1 < 0) return 0;
  r->x = x0;
  r->y = y0;
  r->w = x1 - x0 + 1;
  r->h = y1 - y0 + 1;
  return 1;
}

/* Two planes sample for sample comparable, both with data. */
static int same_geometry(const mv_image *a, const mv_image *b) {
  return a->width == b->width && a->height == b->height &&
         a->samples == b->samples && a->bits == b->bits && a->data && b->data;
}

/* "Still" within 3 levels at 8 bits, scaled to the stored bits. */
static int32_t still_tolerance(const mv_image *a) {
  uint32_t bits = a->bits == 16 && a->bits_stored > 8 && a->bits_stored <= 16
                      ? a->bits_stored
                      : 8;
  return 3 << (bits - 8);
}

double mv_image_still_share(const mv_image *a, const mv_image *b, mv_rect r) {
  if (!same_geometry(a, b)) return -1;
  int32_t x0 = r.x < 0 ? 0 : r.x, y0 = r.y < 0 ? 0 : r.y;
  int32_t x1 = r.x + r.w, y1 = r.y + r.h;
  if (x1 > (int32_t)a->width) x1 = (int32_t)a->width;
  if (y1 > (int32_t)a->height) y1 = (int32_t)a->height;
  if (x1 <= x0 || y1 <= y0) return -1;
  int32_t tol = still_tolerance(a);
  size_t same = 0, all = 0;
  for (int32_t y = y0; y < y1; y++) {
    const uint8_t *ra = (const uint8_t *)a->data + (size_t)y * a->stride;
    const uint8_t *rb = (const uint8_t *)b->data + (size_t)y * b->stride;
    for (size_t i = (size_t)x0 * a->samples; i < (size_t)x1 * a->samples; i++) {
      int32_t d = sample_at(a, ra, i) - sample_at(b, rb, i);
      same += d <= tol && d >= -tol;
      all++;
    }
  }
  return (double)same / (double)all;
}

unsigned char *mv_image_still_map(const mv_image *a, const mv_image *b) {
  if (!same_geometry(a, b) || !a->width || !a->height) return NULL;
  unsigned char *m = malloc((size_t)a->width * a->height);
  if (!m) return NULL;
  int32_t tol = still_tolerance(a);
  for (uint32_t y = 0; y < a->height; y++) {
    const uint8_t *ra = (const uint8_t *)a->data + (size_t)y * a->stride;
    const uint8_t *rb = (const uint8_t *)b->data + (size_t)y * b->stride;
    unsigned char *out = m + (size_t)y * a->width;
    for (uint32_t x = 0; x < a->width; x++) {
      unsigned char level = MV_STILL_SAME;
      for (uint32_t c = 0; c < a->samples; c++) {
        size_t i = (size_t)x * a->samples + c;
        int32_t d = sample_at(a, ra, i) - sample_at(b, rb, i);
        if (d > tol || d < -tol) level = MV_STILL_MOVED;
        else if (d && level == MV_STILL_SAME) level = MV_STILL_NEAR;
      }
      out[x] = level;
    }
  }
  return m;
}
