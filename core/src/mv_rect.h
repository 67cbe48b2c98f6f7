/* mv_rect.h - rectangle arithmetic for the pixel stage (native pixel
 * coordinates, half-open: x .. x+w-1). */
#ifndef MV_RECT_H
#define MV_RECT_H

#include <stdint.h>

#include "medveil/plugin.h"

/* 1 when a and b share at least one pixel. */
int mv_rect_intersects(const mv_rect *a, const mv_rect *b);
/* 1 when r lies wholly inside outer. */
int mv_rect_contains(const mv_rect *outer, const mv_rect *r);
/* Area shared by two rectangles (0 when apart). */
double mv_rect_overlap(const mv_rect *a, const mv_rect *b);
/* The smallest rectangle holding both. */
mv_rect mv_rect_union(const mv_rect *a, const mv_rect *b);
/* r grown by `by` pixels on every side, clipped to a w x h plane (an empty
 * rectangle when nothing of it is inside). */
mv_rect mv_rect_grow(mv_rect r, int by, uint32_t w, uint32_t h);

#endif
