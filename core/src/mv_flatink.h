/* mv_flatink.h - faint text on a flat ground.
 *
 * Text a few grey levels off a flat ground (a uniform panel, a grey
 * border, a flat colour fill) is plain to a person who looks closely and
 * invisible to OCR and to the ink test of mv_inkline, which needs 14
 * levels. On a ground that is truly flat, any pixel two levels off it is
 * something drawn there. This maps, per pixel, whether its neighbourhood
 * is a flat ground and whether the pixel is off it, and finishes a
 * redacted line over the faint characters that continue it. */
#ifndef MV_FLATINK_H
#define MV_FLATINK_H

#include "medveil/plugin.h"

enum {
  MV_FLAT_TEXTURE = 0, /* no flat ground here */
  MV_FLAT_GROUND = 1,  /* on the ground's level, within one grey level */
  MV_FLAT_INK = 2      /* two levels or more off a flat ground */
};

/* One MV_FLAT_* byte per pixel of `view` (8-bit grey or RGB; luma). The
 * ground of a pixel is the most common level of its 16 x 16 block, when
 * at least half the block is within one level of it. NULL when memory
 * runs out; free() it. */
unsigned char *mv_flatink_map(const mv_image *view);
/* Lines of faint ink no detector needs to have found, on `map` of `view`:
 * runs of ink pixels joined across gaps of up to 5 pixels along rows (and,
 * for turned text, along columns), 5 to 40 pixels thick, at least twice as
 * long, inked over 8-75% of their box and crossed by strokes, with one
 * flat grey all around and no ink touching. A malloc'd list in *out (NULL
 * when none). */
int mv_flatink_lines(const unsigned char *map, const mv_image *view,
                     mv_rect **out, size_t *n);
/* Grow `r` along its row (column when `vertical`) over windows whose band
 * holds faint strokes on the flat ground that also lies on both sides of
 * it. Returns 1 when r grew. */
int mv_flatink_complete(const unsigned char *map, const mv_image *view,
                        mv_rect *r, int vertical);

#endif
