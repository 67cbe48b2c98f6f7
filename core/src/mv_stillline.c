/* mv_stillline.c - follow a text line over the pixels that stood still
 * (see mv_stillline.h). */
#include "mv_stillline.h"

#include "mv_linewalk.h"
#include "mv_render.h"

#define MORE 0.15    /* band share of still pixels over its sides' */
#define LEAST 0.10   /* and at least this share: strokes, not chance */
#define MOST 0.85    /* and no more: the ground between strokes moved */
#define GROUND 0.5   /* each side mostly moved: a still ground tells nothing */
#define STROKES 2.0  /* still/moved changes per band row in a window: */
                     /* strokes cross it, a still patch of ground does not */
#define SHADE 4.0    /* grey levels between still and moved band pixels */
#define RULE 0.9     /* of a band row still over three line heights, */
#define RULE_EVEN 8  /* in one shade (grey levels from end to end): a */
                     /* line drawn along the band, not a character */

/* 1 when row `a` of the line, from c0 to c1 (clipped to the plane), is
 * a drawn line: still (map byte <= level) nearly throughout, in one shade
 * (a frame's edge, a ruler). A ground that barely moved is still too, but
 * not even. */
static int drawn_rule(const mv_line_view *v, int32_t c0, int32_t c1,
                      int32_t a, unsigned char level) {
  long n, still = mv_line_count(v, c0, c1, a, a + 1, 0, level, &n);
  return n && still >= RULE * n && mv_line_spread(v, c0, c1, a) <= RULE_EVEN;
}

/* 1 when columns [c0, c1) of the band [a0, a1) hold strokes that stood
 * still (map byte <= level) over a ground that moved: clearly stiller
 * than the same columns one band above and one below, which mostly moved,
 * and not still throughout (a banner, a flat colour: nothing to tell
 * strokes by); crossed by strokes, which have their own shade. Both sides
 * must be in the image. */
static int stiller_at(const mv_line_view *v, int32_t c0, int32_t c1,
                      int32_t a0, int32_t a1, unsigned char level) {
  int32_t t = a1 - a0;
  long nin, nup, ndown;
  long in = mv_line_count(v, c0, c1, a0, a1, 0, level, &nin);
  long up = mv_line_count(v, c0, c1, a0 - t, a0, 0, level, &nup);
  long down = mv_line_count(v, c0, c1, a1, a1 + t, 0, level, &ndown);
  if (!nin || 2 * nup < nin || 2 * ndown < nin) return 0;
  double s_in = (double)in / nin, s_up = (double)up / nup,
         s_down = (double)down / ndown;
  double s_out = (double)(up + down) / (nup + ndown);
  if (s_in < LEAST || s_in > MOST || s_up > GROUND || s_down > GROUND ||
      s_in < s_out + MORE ||
      mv_line_crossings(v, c0, c1, a0, a1, 0, level) < STROKES)
    return 0;
  /* A frame's edge along the band stood still too, from end to end of
   * three line heights: longer than any stroke of a character. */
  for (int32_t a = a0; a < a1; a++)
    if (drawn_rule(v, c0 - t, c1 + t, a, level)) return 0;
  double still, moved;
  if (!mv_line_shades(v, c0, c1, a0, a1, 0, level, &still, &moved)) return 0;
  return still - moved >= SHADE || moved - still >= SHADE;
}

/* Either way of being still: strokes blended faintly with the ground move
 * by a level or two with it; on a smooth ground that shifted, only the
 * strokes stay exactly the same. */
static int stiller(const mv_line_view *v, int32_t c0, int32_t c1, int32_t a0,
                   int32_t a1, void *ud) {
  (void)ud;
  return stiller_at(v, c0, c1, a0, a1, MV_STILL_SAME) ||
         stiller_at(v, c0, c1, a0, a1, MV_STILL_NEAR);
}

int mv_still_complete(const unsigned char *still, const mv_image *view,
                      mv_rect *r, int vertical) {
  if (!still || !view || !view->data || !r) return 0;
  mv_line_view v = mv_line_view_of(still, view, vertical);
  return mv_line_walk(&v, r, stiller, NULL);
}
