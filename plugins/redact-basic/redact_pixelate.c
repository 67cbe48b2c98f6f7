/* redact_pixelate.c - pixelate: blocks of max(8, min(w,h)/2) pixels, anchored
 * at the box's top-left corner and clipped to it, each set to its mean. At
 * most two blocks span the box's short side, so a text line inside it keeps
 * no more than two block rows. */
#include "redact_internal.h"

#include <math.h>

void rd_pixelate(const rd_plane *p, const rd_box *b) {
  const uint32_t w = b->x1 - b->x0, h = b->y1 - b->y0;
  uint32_t bs = (w < h ? w : h) / 2;
  if (bs < 8) bs = 8;
  for (uint32_t by = b->y0; by < b->y1; by += bs) {
    const uint32_t ey = by + bs < b->y1 ? by + bs : b->y1;
    for (uint32_t bx = b->x0; bx < b->x1; bx += bs) {
      const uint32_t ex = bx + bs < b->x1 ? bx + bs : b->x1;
      const double n = (double)(ex - bx) * (ey - by);
      for (uint32_t c = 0; c < p->ch; c++) {
        int64_t sum = 0;
        for (uint32_t y = by; y < ey; y++)
          for (uint32_t x = bx; x < ex; x++) sum += rd_get(p, x, y, c);
        const int32_t mean = (int32_t)lround((double)sum / n);
        for (uint32_t y = by; y < ey; y++)
          for (uint32_t x = bx; x < ex; x++) rd_put(p, x, y, c, mean);
      }
    }
  }
}
