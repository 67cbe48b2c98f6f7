/* mv_inkfit.c - widen a redaction across its line over the strokes it cuts
 * (see mv_inkfit.h). */
#include "mv_inkfit.h"

#include <stdlib.h>
#include <string.h>

#include "mv_linewalk.h"

#define EVEN_MAD 4    /* ground's median deviation: even enough to judge */
#define INK_OFF 14    /* levels off the ground (plus 4x its deviation) */
#define EDGE_SHARE 0.5 /* a row this much ink is an edge, not strokes */

static int cmp_int(const void *x, const void *y) {
  return *(const int *)x - *(const int *)y;
}

/* Median and median absolute deviation of the rows [b0, b1) over
 * [a0, a1); -1 when there are too few pixels. */
static int ground_of(const mv_line_view *m, int a0, int a1, int b0, int b1,
                     int blen, int *median, int *mad) {
  if (b0 < 0) b0 = 0;
  if (b1 > blen) b1 = blen;
  if (b1 <= b0) return -1;
  size_t n = 0, cap = (size_t)(a1 - a0) * (size_t)(b1 - b0);
  int *v = malloc(cap * sizeof *v);
  if (!v) return -1;
  for (int b = b0; b < b1; b++)
    for (int a = a0; a < a1; a++) v[n++] = mv_line_luma(m, a, b);
  if (n < 16) {
    free(v);
    return -1;
  }
  qsort(v, n, sizeof *v, cmp_int);
  *median = v[n / 2];
  for (size_t i = 0; i < n; i++) v[i] = abs(v[i] - *median);
  qsort(v, n, sizeof *v, cmp_int);
  *mad = v[n / 2];
  free(v);
  return 0;
}

/* Ink of row b over [a0, a1) into ink[] (1 = off the ground). Returns the
 * count. */
static int row_ink(const mv_line_view *m, int a0, int a1, int b, int bg, int t,
                   unsigned char *ink) {
  int n = 0;
  for (int a = a0; a < a1; a++) {
    ink[a - a0] = abs(mv_line_luma(m, a, b) - bg) > t;
    n += ink[a - a0];
  }
  return n;
}

/* Keep in `cur` only the runs of ink touching ink of `prev` (8-connected);
 * returns how many pixels remain. */
static int touching(unsigned char *cur, const unsigned char *prev, int n) {
  int kept = 0;
  for (int i = 0; i < n;) {
    if (!cur[i]) {
      i++;
      continue;
    }
    int j = i, touch = 0;
    while (j < n && cur[j]) {
      touch |= prev[j] || (j > 0 && prev[j - 1]) || (j + 1 < n && prev[j + 1]);
      j++;
    }
    if (!touch) memset(cur + i, 0, (size_t)(j - i));
    else kept += j - i;
    i = j;
  }
  return kept;
}

int mv_ink_fit(const mv_image *view, mv_rect *r, int vertical) {
  if (!view || !view->data || view->bits != 8 ||
      (view->samples != 1 && view->samples != 3) || !r || r->w <= 0 ||
      r->h <= 0)
    return 0;
  mv_line_view m = mv_line_view_of(NULL, view, vertical);
  int alen = (int)(vertical ? view->height : view->width);
  int blen = (int)(vertical ? view->width : view->height);
  int a0 = vertical ? r->y : r->x, a1 = a0 + (vertical ? r->h : r->w);
  int b0 = vertical ? r->x : r->y, b1 = b0 + (vertical ? r->w : r->h);
  if (a0 < 0) a0 = 0;
  if (b0 < 0) b0 = 0;
  if (a1 > alen) a1 = alen;
  if (b1 > blen) b1 = blen;
  int thick = b1 - b0, reach = thick / 2 > 2 ? thick / 2 : 2;
  if (a1 - a0 < 4 || thick < 4) return 0;
  unsigned char *prev = malloc((size_t)(a1 - a0)),
                *cur = malloc((size_t)(a1 - a0));
  if (!prev || !cur) {
    free(prev);
    free(cur);
    return 0;
  }
  int grew = 0, nb0 = b0, nb1 = b1;
  for (int side = 0; side < 2; side++) {
    /* The ground on this side: as far out as the reach, and a little. */
    int g0 = side ? b1 : b0 - reach - 2, g1 = side ? b1 + reach + 2 : b0;
    int bg, mad;
    if (ground_of(&m, a0, a1, g0, g1, blen, &bg, &mad) != 0 || mad > EVEN_MAD)
      continue;
    int t = INK_OFF + 4 * mad;
    row_ink(&m, a0, a1, side ? b1 - 1 : b0, bg, t, prev);
    /* Cut strokes end within the reach, on a clean row: ink running on
     * past it is something else touching the line (a blotch, an edge). */
    int rows = 0, ended = 0;
    for (int k = 0; k <= reach; k++) {
      int b = side ? b1 + k : b0 - 1 - k;
      if (b < 0 || b >= blen) {
        ended = 1;
        break;
      }
      int all = row_ink(&m, a0, a1, b, bg, t, cur);
      if (all > EDGE_SHARE * (a1 - a0)) break;
      if (!touching(cur, prev, a1 - a0)) {
        ended = 1;
        break;
      }
      rows++;
      unsigned char *s = prev;
      prev = cur;
      cur = s;
    }
    if (!ended || !rows) continue;
    if (side) nb1 = b1 + rows;
    else nb0 = b0 - rows;
    grew = 1;
  }
  free(prev);
  free(cur);
  if (!grew) return 0;
  if (vertical) {
    r->x = nb0;
    r->w = nb1 - nb0;
  } else {
    r->y = nb0;
    r->h = nb1 - nb0;
  }
  return 1;
}
