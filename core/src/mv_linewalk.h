/* mv_linewalk.h - follow a text line along a per-pixel evidence map.
 *
 * The pixel stage finishes redacted lines with several kinds of evidence
 * (what stood still in a cine loop, faint ink on a flat ground). Each is a
 * map of one byte per pixel and a test of one window of the line: this
 * module holds what they share, the view of a plane along a line and the
 * walk outward from a rectangle, one line height at a time, half a height
 * apart, bridging gaps up to one height, at most 20 heights each way. */
#ifndef MV_LINEWALK_H
#define MV_LINEWALK_H

#include "medveil/plugin.h"

/* A plane seen along a line: `along` runs with the text, `across` over its
 * thickness, whatever the line's direction. */
typedef struct mv_line_view {
  const unsigned char *map; /* one byte per pixel, width x height */
  const mv_image *view;     /* the plane's 8-bit rendering, same size */
  uint32_t width, height;
  int vertical;
} mv_line_view;

/* The view of a plane along a line; vertical lines run down the plane.
 * `map` may be NULL for mv_line_luma alone. */
mv_line_view mv_line_view_of(const unsigned char *map, const mv_image *view,
                             int vertical);
/* Clip columns [*c0, *c1) and rows [*a0, *a1) of the line to the plane;
 * 0 when nothing is left. */
int mv_line_clip(const mv_line_view *v, int32_t *c0, int32_t *c1, int32_t *a0,
                 int32_t *a1);
/* Luma of the view at (along, across) of the line ((R + 2G + B) / 4 for
 * colour), which must lie in the plane. */
int mv_line_luma(const mv_line_view *v, int32_t along, int32_t across);
/* Pixels whose map byte lies in [lo, hi] in columns [c0, c1) and rows
 * [a0, a1) of the line, clipped to the plane; *n gets how many pixels
 * were looked at. */
long mv_line_count(const mv_line_view *v, int32_t c0, int32_t c1, int32_t a0,
                   int32_t a1, unsigned char lo, unsigned char hi, long *n);
/* Changes between in [lo, hi] and not along the rows of the window, per
 * row: strokes cross a line's band, a patch of ground does not. */
double mv_line_crossings(const mv_line_view *v, int32_t c0, int32_t c1,
                         int32_t a0, int32_t a1, unsigned char lo,
                         unsigned char hi);
/* Mean luma of the view over the pixels of the window in [lo, hi] (in)
 * and over the others (out); 0 when one of the two is empty. */
int mv_line_shades(const mv_line_view *v, int32_t c0, int32_t c1, int32_t a0,
                   int32_t a1, unsigned char lo, unsigned char hi, double *in,
                   double *out);

/* How much the view's luma changes along the line against across it, over
 * the window: characters' strokes change it both ways (about 1); an edge
 * running with the line changes it across only (near 0). 0 for an empty
 * or flat window. */
double mv_line_grain(const mv_line_view *v, int32_t c0, int32_t c1,
                     int32_t a0, int32_t a1);
/* Grey levels between the darkest and the lightest pixel of row `a` of
 * the line over columns [c0, c1), clipped to the plane; 0 when empty. */
int mv_line_spread(const mv_line_view *v, int32_t c0, int32_t c1,
                   int32_t a);
/* How often the view's luma changes from one pixel to the next along the
 * line, per row of the window and per line height of its length (the
 * window's thickness): characters' strokes cross every row several times
 * a height; an edge drawn on a clean ground, running with the line, hardly
 * ever. 0 for an empty window. */
double mv_line_changes(const mv_line_view *v, int32_t c0, int32_t c1,
                       int32_t a0, int32_t a1);

/* The evidence that columns [c0, c1) of the band [a0, a1) continue the
 * line. */
typedef int (*mv_line_holds)(const mv_line_view *v, int32_t c0, int32_t c1,
                             int32_t a0, int32_t a1, void *ud);
/* Grow `r` along v's direction over the windows where `holds`. Lines
 * thinner than 4 or thicker than 32 pixels are left alone. Returns 1 when
 * r grew, 0 otherwise. */
int mv_line_walk(const mv_line_view *v, mv_rect *r, mv_line_holds holds,
                 void *ud);

#endif
