/* mv_inkline.c - grow a redaction along its text line over the ink that
 * continues it, on even backgrounds only (see mv_inkline.h). */
#include "mv_inkline.h"

#include <stdlib.h>
#include <string.h>

/* The view seen in line coordinates: `a` runs along the line, `b` across. */
typedef struct line_view {
  const mv_image *v;
  int vertical;
  int alen, blen; /* extent of a and b */
} line_view;

static int lum(const line_view *m, int a, int b) {
  int x = m->vertical ? b : a, y = m->vertical ? a : b;
  const uint8_t *p = (const uint8_t *)m->v->data + (size_t)y * m->v->stride;
  if (m->v->samples == 3) {
    p += (size_t)x * 3;
    return (p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8;
  }
  return p[x];
}

/* The RGB of a pixel packed in 24 bits (grey views: the grey level). */
static int rgb(const line_view *m, int a, int b) {
  int x = m->vertical ? b : a, y = m->vertical ? a : b;
  const uint8_t *p = (const uint8_t *)m->v->data + (size_t)y * m->v->stride;
  if (m->v->samples == 3) {
    p += (size_t)x * 3;
    return p[0] << 16 | p[1] << 8 | p[2];
  }
  return p[x];
}

/* Same colour, within a few levels per channel. */
static int same_colour(const line_view *m, int c, int ink) {
  if (m->v->samples != 3) return abs(c - ink) <= 2;
  return abs((c >> 16) - (ink >> 16)) + abs(((c >> 8) & 255) - ((ink >> 8) & 255)) +
             abs((c & 255) - (ink & 255)) <= 6;
}

static int cmp_int(const void *x, const void *y) {
  return *(const int *)x - *(const int *)y;
}

/* Most of the line's surroundings: median and median absolute deviation
 * of the two rows (columns) just outside it. */
static int ring_stats(const line_view *m, int a0, int a1, int b0, int b1,
                      int *median, int *mad) {
  int n = 0, cap = 2 * (a1 - a0);
  if (cap <= 0) return -1;
  int *v = malloc((size_t)cap * sizeof *v);
  if (!v) return -1;
  for (int a = a0; a < a1; a++) {
    if (b0 - 2 >= 0) v[n++] = lum(m, a, b0 - 2);
    if (b1 + 1 < m->blen) v[n++] = lum(m, a, b1 + 1);
  }
  if (n < 8) {
    free(v);
    return -1;
  }
  qsort(v, (size_t)n, sizeof *v, cmp_int);
  *median = v[n / 2];
  for (int i = 0; i < n; i++) v[i] = abs(v[i] - *median);
  qsort(v, (size_t)n, sizeof *v, cmp_int);
  *mad = v[n / 2];
  free(v);
  return 0;
}

/* One step along the line: -1 = the background stops being even here,
 * 1 = the column carries ink, 0 = a clean gap. */
static int column(const line_view *m, int a, int b0, int b1, int bg, int t) {
  int outside = 0, bad = 0, ink = 0;
  if (b0 - 2 >= 0) outside++, bad += abs(lum(m, a, b0 - 2) - bg) > t / 2;
  if (b1 + 1 < m->blen) outside++, bad += abs(lum(m, a, b1 + 1) - bg) > t / 2;
  if (outside && bad == outside) return -1;
  int far = 0, n = b1 - b0;
  for (int b = b0; b < b1; b++) {
    int d = abs(lum(m, a, b) - bg);
    if (d > t) ink++;
    if (d > t / 2) far++;
  }
  /* a column mostly off the background is not text on it */
  if (n > 0 && far * 10 > n * 8) return -1;
  return ink > 0;
}

/* On an uneven ground the text is still drawn in one colour: the most
 * common colour (full RGB on colour views, so cyan text is not mistaken
 * for grey anatomy of the same brightness) inside the line that lies well
 * away from its surroundings, when enough of the line has exactly it. -1
 * when there is none. */
static int ink_colour(const line_view *m, int a0, int a1, int b0, int b1,
                      int bg) {
  size_t n = 0, cap = (size_t)(a1 - a0) * (size_t)(b1 - b0), k = 0;
  int *v = malloc(cap * sizeof *v);
  if (!v) return -1;
  for (int a = a0; a < a1; a++)
    for (int b = b0; b < b1; b++) {
      n++;
      if (abs(lum(m, a, b) - bg) > 24) v[k++] = rgb(m, a, b);
    }
  int best = -1;
  size_t best_n = 0;
  qsort(v, k, sizeof *v, cmp_int);
  for (size_t i = 0; i < k;) {
    size_t j = i;
    while (j < k && v[j] == v[i]) j++;
    if (j - i > best_n) best_n = j - i, best = v[i];
    i = j;
  }
  free(v);
  if (best < 0 || best_n * 20 < n) return -1;
  return best;
}

/* Same-colour walk: -1 = a solid block of that colour (not strokes),
 * 1 = strokes of the text's colour, 0 = none. */
static int colour_column(const line_view *m, int a, int b0, int b1, int ink) {
  int hits = 0, n = b1 - b0;
  for (int b = b0; b < b1; b++) hits += same_colour(m, rgb(m, a, b), ink);
  if (n > 0 && hits * 10 > n * 6) return -1;
  return hits > 0;
}

int mv_ink_complete(const mv_image *view, mv_rect *r) {
  if (!view || !view->data || view->bits != 8 ||
      (view->samples != 1 && view->samples != 3) || r->w <= 0 || r->h <= 0)
    return -1;
  line_view m = {view, r->h >= 2 * r->w, 0, 0};
  m.alen = (int)(m.vertical ? view->height : view->width);
  m.blen = (int)(m.vertical ? view->width : view->height);
  int a0 = m.vertical ? r->y : r->x, a1 = a0 + (m.vertical ? r->h : r->w);
  int b0 = m.vertical ? r->x : r->y, b1 = b0 + (m.vertical ? r->w : r->h);
  if (a0 < 0) a0 = 0;
  if (b0 < 0) b0 = 0;
  if (a1 > m.alen) a1 = m.alen;
  if (b1 > m.blen) b1 = m.blen;
  int hgt = b1 - b0;
  if (a1 - a0 < 2 || hgt < 4) return -1;
  int bg, mad;
  if (ring_stats(&m, a0, a1, b0, b1, &bg, &mad) != 0) return -1;
  /* An uneven surround (anatomy, texture): follow only the text's own
   * colour, over a shorter reach. */
  int even = mad <= 4;
  int ink = even ? -1 : ink_colour(&m, a0, a1, b0, b1, bg);
  if (!even && ink < 0) return -1;
  int t = 4 * mad + 14;
  int max_gap = hgt > 6 ? hgt : 6;         /* a word space, with room */
  int max_reach = (even ? 30 : 12) * hgt;  /* a line, not the screen */
  int max_run = 3 * hgt;                   /* ink columns without a gap */
  int grew = 0;
  for (int dir = -1; dir <= 1; dir += 2) {
    int edge = dir > 0 ? a1 : a0 - 1; /* first position outside */
    int last = -1, gap = 0, run = 0, before_run = -1;
    for (int step = 0; step < max_reach; step++) {
      int a = edge + dir * step;
      if (a < 0 || a >= m.alen) break;
      int c = even ? column(&m, a, b0, b1, bg, t)
                   : colour_column(&m, a, b0, b1, ink);
      if (c < 0) break;
      if (c > 0) {
        if (run++ == 0) before_run = last;
        /* Characters part every few columns; ink along many heights
         * without a gap is an edge of the ground running with the line
         * (a banner's border inside its band), not text. */
        if (run > max_run) {
          last = before_run;
          break;
        }
        last = a;
        gap = 0;
      } else {
        run = 0;
        if (++gap > max_gap) break;
      }
    }
    if (last < 0) continue;
    if (dir > 0 && last + 2 > a1) a1 = last + 2 < m.alen ? last + 2 : m.alen;
    if (dir < 0 && last - 1 < a0) a0 = last - 1 > 0 ? last - 1 : 0;
    grew = 1;
  }
  /* An even ground shows where the line ends; one colour over anatomy
   * does not prove the absence of a faint, anti-aliased last character. */
  if (!grew) return even ? 0 : -1;
  if (m.vertical) {
    r->y = a0;
    r->h = a1 - a0;
  } else {
    r->x = a0;
    r->w = a1 - a0;
  }
  return 1;
}
