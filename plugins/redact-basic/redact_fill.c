/* redact_fill.c - fill: every pixel of the box gets one value. */
#include "redact_internal.h"

void rd_fill(const rd_plane *p, const rd_box *b, const int32_t value[3]) {
  for (uint32_t y = b->y0; y < b->y1; y++)
    for (uint32_t x = b->x0; x < b->x1; x++)
      for (uint32_t c = 0; c < p->ch; c++) rd_put(p, x, y, c, value[c]);
}
