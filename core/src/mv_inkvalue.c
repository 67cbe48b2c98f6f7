/* mv_inkvalue.c - follow a line over its own ink value (see mv_inkvalue.h). */
#include "mv_inkvalue.h"

#include "mv_linewalk.h"
#include "mv_rect.h"

#define THICK_MIN 4
#define THICK_MAX 32
#define NEAR 1              /* levels off the ink value still counted as it */
#define EXCESS_LEAST 0.05   /* band share over side share, for the value */
#define WIDE 8              /* levels around the value, for its peak */
#define PEAK_SHARE 0.5      /* of the excess within WIDE that is within NEAR */
#define WINDOW_LEAST 0.05   /* a window's band share of the value */
#define WINDOW_MOST 0.7     /* more: a bar or a patch of that grey, not text */
#define SIDE_TIMES 2.0      /* band share over this many times the sides' */
#define SIDE_PLUS 0.02      /* ... plus this */
#define WINDOW_CROSSINGS 1.0 /* changes into and out of the value per row */
/* Mean step at those changes: letters stand off their ground; where a
 * gradient passes through the letters' grey, the pixels of that grey are
 * an iso-line whose neighbours differ by a level or two. */
#define STEP_LEAST 4
#define FLAT_SHARE 0.5      /* of the sides near one grey: a flat ground */

typedef struct ink_value {
  int lo, hi;     /* luma range of the ink */
  int32_t c0, c1; /* the found part of the line, along it */
} ink_value;

/* Share of the pixels in columns [c0, c1), rows [a0, a1) of the line
 * (clipped) whose luma lies in [lo, hi]; *n gets how many were looked at. */
static double share_in(const mv_line_view *v, int32_t c0, int32_t c1,
                       int32_t a0, int32_t a1, int lo, int hi, long *n) {
  long in = 0;
  *n = 0;
  if (!mv_line_clip(v, &c0, &c1, &a0, &a1)) return 0;
  for (int32_t a = a0; a < a1; a++)
    for (int32_t c = c0; c < c1; c++) {
      int y = mv_line_luma(v, c, a);
      in += y >= lo && y <= hi;
      (*n)++;
    }
  return (double)in / *n;
}

/* The share of the two side bands (each as thick as the band, beside it). */
static double side_share(const mv_line_view *v, int32_t c0, int32_t c1,
                         int32_t a0, int32_t a1, int lo, int hi) {
  long n0, n1;
  int32_t t = a1 - a0;
  double s0 = share_in(v, c0, c1, a0 - t, a0, lo, hi, &n0);
  double s1 = share_in(v, c0, c1, a1, a1 + t, lo, hi, &n1);
  return n0 + n1 ? (s0 * n0 + s1 * n1) / (n0 + n1) : 0;
}

/* Changes into and out of [lo, hi] along the rows of the window, per row;
 * *step gets the mean luma step at those changes. */
static double crossings(const mv_line_view *v, int32_t c0, int32_t c1,
                        int32_t a0, int32_t a1, int lo, int hi, double *step) {
  *step = 0;
  if (!mv_line_clip(v, &c0, &c1, &a0, &a1) || c1 - c0 < 2) return 0;
  long n = 0, sum = 0;
  for (int32_t a = a0; a < a1; a++) {
    int prev = -1, prev_y = 0;
    for (int32_t c = c0; c < c1; c++) {
      int y = mv_line_luma(v, c, a), in = y >= lo && y <= hi;
      if (prev >= 0 && in != prev) n++, sum += y > prev_y ? y - prev_y : prev_y - y;
      prev = in;
      prev_y = y;
    }
  }
  if (n) *step = (double)sum / n;
  return (double)n / (a1 - a0);
}

/* Luma histograms of the band [c0, c1) x [a0, a1) (when `band` is not
 * NULL) and of the two side bands as thick as it beside it, clipped to
 * the plane; *nb and *ns get their pixel counts. */
static void band_hists(const mv_line_view *v, int32_t c0, int32_t c1,
                       int32_t a0, int32_t a1, long band[256], long side[256],
                       long *nb, long *ns) {
  int32_t t = a1 - a0, s0 = a0 - t, s1 = a1 + t;
  *nb = *ns = 0;
  if (!mv_line_clip(v, &c0, &c1, &s0, &s1)) return;
  for (int32_t a = s0; a < s1; a++) {
    int in_band = a >= a0 && a < a1;
    if (in_band && !band) continue;
    for (int32_t c = c0; c < c1; c++) {
      int y = mv_line_luma(v, c, a);
      if (in_band) band[y]++, (*nb)++;
      else side[y]++, (*ns)++;
    }
  }
}

/* Pixels of a histogram within `near` levels of y. */
static long near_count(const long hist[256], int y, int near) {
  long n = 0;
  for (int d = -near; d <= near; d++)
    if (y + d >= 0 && y + d < 256) n += hist[y + d];
  return n;
}

/* Whether the two side bands are one flat grey (half their pixels within
 * NEAR levels of their commonest): a banner, a border, a sector's black.
 * There, mv_inkline and mv_flatink follow the line and see the gaps between
 * its words; this walk only takes a character the found part missed, half
 * a line height on (followed further, it joined a banner's words across
 * their gaps: seed 1, +1 point of over-redaction in one image). */
static int sides_flat(const mv_line_view *v, int32_t c0, int32_t c1,
                      int32_t a0, int32_t a1) {
  long side[256] = {0}, nb, ns;
  band_hists(v, c0, c1, a0, a1, NULL, side, &nb, &ns);
  for (int y = 0; ns && y < 256; y++)
    if (near_count(side, y, NEAR) >= FLAT_SHARE * ns) return 1;
  return 0;
}

static int holds_value(const mv_line_view *v, int32_t c0, int32_t c1,
                       int32_t a0, int32_t a1, void *ud) {
  const ink_value *k = ud;
  long n;
  int32_t t = a1 - a0;
  if ((c0 >= k->c1 + t / 2 || c1 <= k->c0 - t / 2) &&
      sides_flat(v, c0, c1, a0, a1))
    return 0;
  double band = share_in(v, c0, c1, a0, a1, k->lo, k->hi, &n);
  if (!n || band < WINDOW_LEAST || band > WINDOW_MOST) return 0;
  if (band < SIDE_TIMES * side_share(v, c0, c1, a0, a1, k->lo, k->hi) + SIDE_PLUS)
    return 0;
  double step;
  if (crossings(v, c0, c1, a0, a1, k->lo, k->hi, &step) < WINDOW_CROSSINGS)
    return 0;
  return step >= STEP_LEAST;
}

/* How much more of the band than of its sides lies within `near` levels
 * of y, as shares of each. */
static double excess(const long *band, long nb, const long *side, long ns,
                     int y, int near) {
  return (double)near_count(band, y, near) / nb -
         (ns ? (double)near_count(side, y, near) / ns : 0);
}

/* The luma the band [c0, c1) x [a0, a1) holds most in excess of its sides
 * (within NEAR levels); -1 when none exceeds them by EXCESS_LEAST. */
static int line_value(const mv_line_view *v, int32_t c0, int32_t c1,
                      int32_t a0, int32_t a1) {
  long band[256] = {0}, side[256] = {0}, nb, ns;
  band_hists(v, c0, c1, a0, a1, band, side, &nb, &ns);
  if (!nb) return -1;
  int best = -1;
  double best_excess = EXCESS_LEAST;
  for (int y = 0; y < 256; y++) {
    double e = excess(band, nb, side, ns, y, NEAR);
    /* As the windows must hold it (holds_value): the band's own ground,
     * when the sides are paler or busier, is in excess too, not in
     * proportion (a white ground beside grey letters). */
    double in_side = ns ? (double)near_count(side, y, NEAR) / ns : 0;
    if (e > best_excess && e + in_side >= SIDE_TIMES * in_side + SIDE_PLUS)
      best_excess = e, best = y;
  }
  /* Letters are one grey: the excess sits at that value, not over a range
   * of shades around it (a dark patch of speckle under a misread box: a
   * quarter of its excess within a level, against nine tenths for text). */
  if (best >= 0) {
    double wide = excess(band, nb, side, ns, best, WIDE);
    if (wide <= 0 || best_excess < PEAK_SHARE * wide) return -1;
  }
  return best;
}

int mv_inkvalue_complete(const mv_image *view, mv_rect *r, int vertical) {
  if (!view || !view->data || view->bits != 8 ||
      (view->samples != 1 && view->samples != 3))
    return 0;
  mv_rect c = mv_rect_grow(*r, 0, view->width, view->height); /* clipped */
  int32_t t = vertical ? c.w : c.h;
  if (c.w <= 0 || c.h <= 0 || t < THICK_MIN || t > THICK_MAX) return 0;
  mv_line_view v = mv_line_view_of(NULL, view, vertical);
  int32_t a0 = vertical ? c.x : c.y, c0 = vertical ? c.y : c.x;
  int32_t c1 = c0 + (vertical ? c.h : c.w);
  int y = line_value(&v, c0, c1, a0, a0 + t);
  if (y < 0) return 0;
  ink_value k = {y - NEAR, y + NEAR, c0, c1};
  if (!mv_line_walk(&v, &c, holds_value, &k)) return 0;
  *r = c;
  return 1;
}
