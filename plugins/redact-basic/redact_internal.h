/* redact_internal.h - shared pieces of the redact-basic plugin.
 *
 * rd_plane is a checked view of an mv_image: every method reads and writes
 * samples through rd_get / rd_put, which know the sample type, and clamps
 * what it writes to the range bits_stored allows. */
#ifndef MV_REDACT_INTERNAL_H
#define MV_REDACT_INTERNAL_H

#include "medveil/plugin.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rd_plane {
  uint32_t w, h;
  uint32_t ch;       /* samples per pixel: 1 or 3 */
  uint32_t bytes;    /* 1 or 2 per sample */
  int is_signed;
  int monochrome1;
  int32_t lo, hi;    /* valid sample range from bits_stored */
  size_t stride;
  uint8_t *data;
} rd_plane;

/* Check `img` and make a view. MV_EINVAL with a reason when unusable. */
int rd_plane_init(rd_plane *p, const mv_image *img, char *err, size_t errlen);

static inline int32_t rd_get(const rd_plane *p, uint32_t x, uint32_t y, uint32_t c) {
  const uint8_t *row = p->data + (size_t)y * p->stride;
  size_t i = (size_t)x * p->ch + c;
  if (p->bytes == 1) return p->is_signed ? (int32_t)((const int8_t *)row)[i] : row[i];
  return p->is_signed ? (int32_t)((const int16_t *)(const void *)row)[i]
                      : (int32_t)((const uint16_t *)(const void *)row)[i];
}

static inline void rd_put(const rd_plane *p, uint32_t x, uint32_t y, uint32_t c,
                          int32_t v) {
  if (v < p->lo) v = p->lo;
  if (v > p->hi) v = p->hi;
  uint8_t *row = p->data + (size_t)y * p->stride;
  size_t i = (size_t)x * p->ch + c;
  if (p->bytes == 1) {
    if (p->is_signed) ((int8_t *)row)[i] = (int8_t)v;
    else row[i] = (uint8_t)v;
  } else if (p->is_signed) {
    ((int16_t *)(void *)row)[i] = (int16_t)v;
  } else {
    ((uint16_t *)(void *)row)[i] = (uint16_t)v;
  }
}

/* A rectangle clipped to the plane, as half-open pixel ranges. */
typedef struct rd_box {
  uint32_t x0, y0, x1, y1;
} rd_box;

/* 0 when the rectangle misses the plane or has no area. */
int rd_clip(const rd_plane *p, const mv_rect *r, rd_box *b);

/* The darkest grey value present in the plane (minimum, or maximum for
 * MONOCHROME1). */
int32_t rd_darkest(const rd_plane *p);

/* The methods. `value` per channel for fill. */
void rd_fill(const rd_plane *p, const rd_box *b, const int32_t value[3]);
int rd_blur(const rd_plane *p, const rd_box *b);      /* MV_OK / MV_ENOMEM */
void rd_pixelate(const rd_plane *p, const rd_box *b);

void rd_set_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
