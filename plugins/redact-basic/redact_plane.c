/* redact_plane.c - checking an mv_image and the helpers every method uses. */
#include "redact_internal.h"

#include <stdarg.h>
#include <stdio.h>

void rd_set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

int rd_plane_init(rd_plane *p, const mv_image *img, char *err, size_t errlen) {
  if (!img) {
    rd_set_err(err, errlen, "no image");
    return MV_EINVAL;
  }
  if (img->samples != 1 && img->samples != 3) {
    rd_set_err(err, errlen, "%u samples per pixel (1 or 3 supported)", img->samples);
    return MV_EINVAL;
  }
  if (img->bits != 8 && img->bits != 16) {
    rd_set_err(err, errlen, "%u bits per sample (8 or 16 supported)", img->bits);
    return MV_EINVAL;
  }
  if (img->samples == 3 && (img->bits != 8 || img->is_signed)) {
    rd_set_err(err, errlen, "colour planes must be unsigned 8-bit RGB");
    return MV_EINVAL;
  }
  p->w = img->width;
  p->h = img->height;
  p->ch = img->samples;
  p->bytes = img->bits / 8;
  p->is_signed = img->is_signed != 0;
  p->monochrome1 = img->samples == 1 && img->monochrome1;
  p->stride = img->stride;
  p->data = img->data;
  if (p->w && p->h) {
    if (!p->data) {
      rd_set_err(err, errlen, "image has no data");
      return MV_EINVAL;
    }
    if (p->stride / p->bytes / p->ch < p->w) {
      rd_set_err(err, errlen, "stride %zu too small for width %u", p->stride, p->w);
      return MV_EINVAL;
    }
    if (p->bytes == 2 && ((uintptr_t)p->data % 2 || p->stride % 2)) {
      rd_set_err(err, errlen, "16-bit samples are not aligned");
      return MV_EINVAL;
    }
  }
  uint32_t bs = img->bits_stored;
  if (bs == 0 || bs > img->bits) bs = img->bits; /* unknown: the whole sample */
  if (p->is_signed) {
    p->lo = -(int32_t)(1u << (bs - 1));
    p->hi = (int32_t)(1u << (bs - 1)) - 1;
  } else {
    p->lo = 0;
    p->hi = (int32_t)((1u << bs) - 1);
  }
  return MV_OK;
}

int rd_clip(const rd_plane *p, const mv_rect *r, rd_box *b) {
  if (r->w <= 0 || r->h <= 0) return 0;
  int64_t x0 = r->x, y0 = r->y, x1 = x0 + r->w, y1 = y0 + r->h;
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > p->w) x1 = p->w;
  if (y1 > p->h) y1 = p->h;
  if (x1 <= x0 || y1 <= y0) return 0;
  *b = (rd_box){(uint32_t)x0, (uint32_t)y0, (uint32_t)x1, (uint32_t)y1};
  return 1;
}

int32_t rd_darkest(const rd_plane *p) {
  int32_t best = p->monochrome1 ? INT32_MIN : INT32_MAX;
  for (uint32_t y = 0; y < p->h; y++)
    for (uint32_t x = 0; x < p->w; x++) {
      int32_t v = rd_get(p, x, y, 0);
      if (p->monochrome1 ? v > best : v < best) best = v;
    }
  if (!p->w || !p->h) best = p->monochrome1 ? p->hi : p->lo;
  return best;
}
