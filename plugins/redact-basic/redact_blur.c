/* redact_blur.c - blur: a heavy separable box blur computed only from pixels
 * inside the box (windows are cut at its edges), so nothing outside leaks in.
 *
 * The vertical radius is the box height, so one vertical pass already turns
 * every column into its own mean and later vertical passes change nothing.
 * The blur therefore reduces to: column means, then three horizontal box
 * passes of radius max(box height, 8) (clamped to the width), written to
 * every row. Glyphs are narrower than the line is high, so what remains is
 * a smooth horizontal profile without character detail. Memory is O(width). */
#include "redact_internal.h"

#include <math.h>
#include <stdlib.h>

/* One box-blur pass of radius r over n values, in place, with the window
 * cut at both ends (the mean of what lies inside). */
static void box_pass(double *v, size_t n, size_t r, double *tmp) {
  double sum = 0;
  size_t lo = 0, hi = 0; /* window [lo, hi) */
  for (size_t i = 0; i < n; i++) tmp[i] = v[i];
  for (size_t i = 0; i < n; i++) {
    const size_t want_hi = i + r + 1 < n ? i + r + 1 : n;
    const size_t want_lo = i > r ? i - r : 0;
    while (hi < want_hi) sum += tmp[hi++];
    while (lo < want_lo) sum -= tmp[lo++];
    v[i] = sum / (double)(hi - lo);
  }
}

int rd_blur(const rd_plane *p, const rd_box *b) {
  const size_t w = b->x1 - b->x0, h = b->y1 - b->y0;
  size_t r = h > 8 ? h : 8;
  if (r > w) r = w;
  double *prof = malloc(w * sizeof *prof);
  double *tmp = malloc(w * sizeof *tmp);
  if (!prof || !tmp) {
    free(prof);
    free(tmp);
    return MV_ENOMEM;
  }
  for (uint32_t c = 0; c < p->ch; c++) {
    for (size_t x = 0; x < w; x++) {
      int64_t sum = 0;
      for (uint32_t y = b->y0; y < b->y1; y++) sum += rd_get(p, b->x0 + (uint32_t)x, y, c);
      prof[x] = (double)sum / (double)h;
    }
    for (int pass = 0; pass < 3; pass++) box_pass(prof, w, r, tmp);
    for (uint32_t y = b->y0; y < b->y1; y++)
      for (size_t x = 0; x < w; x++)
        rd_put(p, b->x0 + (uint32_t)x, y, c, (int32_t)lround(prof[x]));
  }
  free(prof);
  free(tmp);
  return MV_OK;
}
