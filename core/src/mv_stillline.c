/* mv_stillline.c - follow a text line over the pixels that stood still. */
#include "mv_stillline.h"

#include "mv_render.h"

#define THICK_MIN 4
#define THICK_MAX 32
#define REACH 20      /* line heights each way at most */
#define MORE 0.15     /* band share of still pixels over its sides' */
#define LEAST 0.10    /* and at least this share: strokes, not chance */
#define MOST 0.85     /* and no more: the ground between strokes moved */
#define GROUND 0.5    /* each side mostly moved: a still ground tells nothing */
#define STROKES 2.0   /* still/moved changes per band row in a window: */
                      /* strokes cross it, a still patch of ground does not */
#define SHADE 4.0     /* grey levels between still and moved band pixels */

/* The still map seen along a line: `along` runs with the text, `across`
 * over its thickness, whatever the line's direction. */
typedef struct {
  const unsigned char *m;
  const mv_image *view;
  uint32_t w, h;
  int vertical;
  unsigned char level; /* still: at most this MV_STILL_* level */
} line_view;

/* Luma of the 8-bit view at a point of the line. */
static int grey(const line_view *v, int32_t along, int32_t across) {
  int32_t x = v->vertical ? across : along, y = v->vertical ? along : across;
  const uint8_t *p = (const uint8_t *)v->view->data +
                     (size_t)y * v->view->stride + (size_t)x * v->view->samples;
  return v->view->samples == 3 ? (p[0] + 2 * p[1] + p[2]) / 4 : p[0];
}

static int at(const line_view *v, int32_t along, int32_t across) {
  unsigned char l = v->vertical ? v->m[(size_t)along * v->w + (uint32_t)across]
                                : v->m[(size_t)across * v->w + (uint32_t)along];
  return l <= v->level;
}

/* Still pixels counted in columns [c0, c1) and rows [a0, a1) of the line,
 * clipped; *n gets how many pixels were looked at. */
static long count(const line_view *v, int32_t c0, int32_t c1, int32_t a0,
                  int32_t a1, long *n) {
  int32_t len = (int32_t)(v->vertical ? v->h : v->w);
  int32_t thick = (int32_t)(v->vertical ? v->w : v->h);
  if (c0 < 0) c0 = 0;
  if (c1 > len) c1 = len;
  if (a0 < 0) a0 = 0;
  if (a1 > thick) a1 = thick;
  long s = 0;
  *n = 0;
  for (int32_t c = c0; c < c1; c++)
    for (int32_t a = a0; a < a1; a++) s += at(v, c, a), (*n)++;
  return s;
}

/* How far the still pixels of the band stand from its moved ones in the
 * view: strokes have their own shade, a patch of still ground has the
 * ground's. */
static double contrast(const line_view *v, int32_t c0, int32_t c1,
                       int32_t a0, int32_t a1) {
  int32_t len = (int32_t)(v->vertical ? v->h : v->w);
  if (c0 < 0) c0 = 0;
  if (c1 > len) c1 = len;
  double sum[2] = {0, 0};
  long n[2] = {0, 0};
  for (int32_t a = a0; a < a1; a++)
    for (int32_t c = c0; c < c1; c++) {
      int s = at(v, c, a);
      sum[s] += grey(v, c, a);
      n[s]++;
    }
  if (!n[0] || !n[1]) return 0;
  double d = sum[1] / n[1] - sum[0] / n[0];
  return d < 0 ? -d : d;
}

/* Changes between still and moved along the rows of the band, per row. */
static double crossings(const line_view *v, int32_t c0, int32_t c1,
                        int32_t a0, int32_t a1) {
  int32_t len = (int32_t)(v->vertical ? v->h : v->w);
  if (c0 < 0) c0 = 0;
  if (c1 > len) c1 = len;
  long n = 0;
  for (int32_t a = a0; a < a1; a++)
    for (int32_t c = c0 + 1; c < c1; c++) n += at(v, c, a) != at(v, c - 1, a);
  return a1 > a0 ? (double)n / (a1 - a0) : 0;
}

/* 1 when columns [c0, c1) of the band [a0, a1) hold strokes that stood
 * still over a ground that moved: clearly stiller than the same columns
 * one band above and one below, which mostly moved, and not still
 * throughout (a banner, a flat colour: nothing to tell strokes by). Both
 * sides must be in the image. */
static int stiller_at(const line_view *v, int32_t c0, int32_t c1, int32_t a0,
                      int32_t a1) {
  int32_t t = a1 - a0;
  long nin, nup, ndown;
  long in = count(v, c0, c1, a0, a1, &nin);
  long up = count(v, c0, c1, a0 - t, a0, &nup);
  long down = count(v, c0, c1, a1, a1 + t, &ndown);
  if (!nin || 2 * nup < nin || 2 * ndown < nin) return 0;
  double s_in = (double)in / nin, s_up = (double)up / nup,
         s_down = (double)down / ndown;
  double s_out = (double)(up + down) / (nup + ndown);
  return s_in >= LEAST && s_in <= MOST && s_up <= GROUND &&
         s_down <= GROUND && s_in >= s_out + MORE &&
         crossings(v, c0, c1, a0, a1) >= STROKES &&
         contrast(v, c0, c1, a0, a1) >= SHADE;
}

/* Either way of being still: strokes blended faintly with the ground move
 * by a level or two with it; on a smooth ground that shifted, only the
 * strokes stay exactly the same. */
static int stiller(line_view *v, int32_t c0, int32_t c1, int32_t a0,
                   int32_t a1) {
  v->level = MV_STILL_SAME;
  if (stiller_at(v, c0, c1, a0, a1)) return 1;
  v->level = MV_STILL_NEAR;
  return stiller_at(v, c0, c1, a0, a1);
}

int mv_still_complete(const unsigned char *still, const mv_image *view,
                      mv_rect *r, int vertical) {
  if (!still || !view || !view->data || !r) return 0;
  uint32_t width = view->width, height = view->height;
  line_view v = {still, view, width, height, vertical, MV_STILL_SAME};
  int32_t len = (int32_t)(vertical ? height : width);
  int32_t a0 = vertical ? r->x : r->y, t = vertical ? r->w : r->h;
  int32_t c0 = vertical ? r->y : r->x, c1 = c0 + (vertical ? r->h : r->w);
  if (t < THICK_MIN || t > THICK_MAX) return 0;
  int32_t step = t / 2 > 2 ? t / 2 : 2;
  int32_t lo = c0, hi = c1;
  /* Forward: windows of one line height, half a height apart; a gap of
   * more than one height ends the line. */
  for (int32_t c = c1, last = c1; c < len && c - c1 < REACH * t; c += step) {
    if (stiller(&v, c, c + t, a0, a0 + t)) {
      last = c + t < len ? c + t : len;
      hi = last;
    } else if (c - last > t) {
      break;
    }
  }
  for (int32_t c = c0, last = c0; c > 0 && c0 - c < REACH * t; c -= step) {
    if (stiller(&v, c - t, c, a0, a0 + t)) {
      last = c - t > 0 ? c - t : 0;
      lo = last;
    } else if (last - c > t) {
      break;
    }
  }
  if (lo == c0 && hi == c1) return 0;
  if (vertical) r->y = lo, r->h = hi - lo;
  else r->x = lo, r->w = hi - lo;
  return 1;
}
