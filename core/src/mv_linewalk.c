/* mv_linewalk.c - the view of a plane along a line, and the walk along it
 * (see mv_linewalk.h). */
#include "mv_linewalk.h"

#include <stdlib.h>

#define THICK_MIN 4
#define THICK_MAX 32
#define REACH 20 /* line heights each way at most */

mv_line_view mv_line_view_of(const unsigned char *map, const mv_image *view,
                             int vertical) {
  mv_line_view v = {map, view, view->width, view->height, vertical};
  return v;
}

static int32_t length(const mv_line_view *v) {
  return (int32_t)(v->vertical ? v->height : v->width);
}

static int32_t thickness(const mv_line_view *v) {
  return (int32_t)(v->vertical ? v->width : v->height);
}

static size_t offset(const mv_line_view *v, int32_t along, int32_t across) {
  return v->vertical ? (size_t)along * v->width + (uint32_t)across
                     : (size_t)across * v->width + (uint32_t)along;
}

static int in_range(const mv_line_view *v, int32_t along, int32_t across,
                    unsigned char lo, unsigned char hi) {
  unsigned char b = v->map[offset(v, along, across)];
  return b >= lo && b <= hi;
}

int mv_line_luma(const mv_line_view *v, int32_t along, int32_t across) {
  int32_t x = v->vertical ? across : along, y = v->vertical ? along : across;
  const uint8_t *p = (const uint8_t *)v->view->data +
                     (size_t)y * v->view->stride + (size_t)x * v->view->samples;
  return v->view->samples == 3 ? (p[0] + 2 * p[1] + p[2]) / 4 : p[0];
}

int mv_line_clip(const mv_line_view *v, int32_t *c0, int32_t *c1, int32_t *a0,
                 int32_t *a1) {
  if (*c0 < 0) *c0 = 0;
  if (*a0 < 0) *a0 = 0;
  if (*c1 > length(v)) *c1 = length(v);
  if (*a1 > thickness(v)) *a1 = thickness(v);
  return *c1 > *c0 && *a1 > *a0;
}

long mv_line_count(const mv_line_view *v, int32_t c0, int32_t c1, int32_t a0,
                   int32_t a1, unsigned char lo, unsigned char hi, long *n) {
  long s = 0;
  *n = 0;
  if (!mv_line_clip(v, &c0, &c1, &a0, &a1)) return 0;
  for (int32_t c = c0; c < c1; c++)
    for (int32_t a = a0; a < a1; a++) s += in_range(v, c, a, lo, hi), (*n)++;
  return s;
}

double mv_line_crossings(const mv_line_view *v, int32_t c0, int32_t c1,
                         int32_t a0, int32_t a1, unsigned char lo,
                         unsigned char hi) {
  if (!mv_line_clip(v, &c0, &c1, &a0, &a1)) return 0;
  long n = 0;
  for (int32_t a = a0; a < a1; a++)
    for (int32_t c = c0 + 1; c < c1; c++)
      n += in_range(v, c, a, lo, hi) != in_range(v, c - 1, a, lo, hi);
  return (double)n / (a1 - a0);
}

double mv_line_grain(const mv_line_view *v, int32_t c0, int32_t c1,
                     int32_t a0, int32_t a1) {
  if (!mv_line_clip(v, &c0, &c1, &a0, &a1)) return 0;
  long along = 0, across = 0;
  for (int32_t a = a0; a < a1; a++)
    for (int32_t c = c0; c < c1; c++) {
      int y = mv_line_luma(v, c, a);
      if (c > c0) along += abs(y - mv_line_luma(v, c - 1, a));
      if (a > a0) across += abs(y - mv_line_luma(v, c, a - 1));
    }
  if (!across) return along ? 1e9 : 0;
  return (double)along / across;
}

int mv_line_spread(const mv_line_view *v, int32_t c0, int32_t c1,
                   int32_t a) {
  int32_t a1 = a + 1;
  if (!mv_line_clip(v, &c0, &c1, &a, &a1)) return 0;
  int lo = 255, hi = 0;
  for (int32_t c = c0; c < c1; c++) {
    int y = mv_line_luma(v, c, a);
    if (y < lo) lo = y;
    if (y > hi) hi = y;
  }
  return hi - lo;
}

double mv_line_changes(const mv_line_view *v, int32_t c0, int32_t c1,
                       int32_t a0, int32_t a1) {
  if (!mv_line_clip(v, &c0, &c1, &a0, &a1) || c1 - c0 < 2) return 0;
  long n = 0;
  for (int32_t a = a0; a < a1; a++)
    for (int32_t c = c0 + 1; c < c1; c++)
      n += mv_line_luma(v, c, a) != mv_line_luma(v, c - 1, a);
  /* Per row, n / rows; per line height (rows long), times rows / length:
   * n / length. */
  return (double)n / (c1 - c0);
}

int mv_line_shades(const mv_line_view *v, int32_t c0, int32_t c1, int32_t a0,
                   int32_t a1, unsigned char lo, unsigned char hi, double *in,
                   double *out) {
  *in = *out = 0;
  if (!mv_line_clip(v, &c0, &c1, &a0, &a1)) return 0;
  double sum[2] = {0, 0};
  long n[2] = {0, 0};
  for (int32_t a = a0; a < a1; a++)
    for (int32_t c = c0; c < c1; c++) {
      int k = in_range(v, c, a, lo, hi);
      sum[k] += mv_line_luma(v, c, a);
      n[k]++;
    }
  if (!n[0] || !n[1]) return 0;
  *in = sum[1] / n[1];
  *out = sum[0] / n[0];
  return 1;
}

int mv_line_walk(const mv_line_view *v, mv_rect *r, mv_line_holds holds,
                 void *ud) {
  int32_t len = length(v);
  int32_t a0 = v->vertical ? r->x : r->y, t = v->vertical ? r->w : r->h;
  int32_t c0 = v->vertical ? r->y : r->x, c1 = c0 + (v->vertical ? r->h : r->w);
  if (t < THICK_MIN || t > THICK_MAX) return 0;
  int32_t step = t / 2 > 2 ? t / 2 : 2;
  int32_t lo = c0, hi = c1;
  for (int32_t c = c1, last = c1; c < len && c - c1 < REACH * t; c += step) {
    if (holds(v, c, c + t, a0, a0 + t, ud)) {
      last = c + t < len ? c + t : len;
      hi = last;
    } else if (c - last > t) {
      break;
    }
  }
  for (int32_t c = c0, last = c0; c > 0 && c0 - c < REACH * t; c -= step) {
    if (holds(v, c - t, c, a0, a0 + t, ud)) {
      last = c - t > 0 ? c - t : 0;
      lo = last;
    } else if (last - c > t) {
      break;
    }
  }
  if (lo == c0 && hi == c1) return 0;
  if (v->vertical) r->y = lo, r->h = hi - lo;
  else r->x = lo, r->w = hi - lo;
  return 1;
}
