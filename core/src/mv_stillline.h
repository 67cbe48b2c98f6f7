/* mv_stillline.h - finish a redaction along its text line by what stood
 * still between two frames.
 *
 * Text burned into a cine loop stays put while the picture under it moves
 * (speckle, a beating heart, a panning probe). Where OCR and the text
 * network lose a faint line over that moving ground, its strokes are still
 * the pixels that did not change. This walks outward from a redaction
 * rectangle along its line, one line height at a time, while the band of
 * the line holds clearly more still pixels than the rows beside it, and
 * stops after a gap wider than one line height. On a ground that did not
 * move (a banner, a still frame) the band and its sides are alike and the
 * line is left as it was. */
#ifndef MV_STILLLINE_H
#define MV_STILLLINE_H

#include "medveil/plugin.h"

/* Grow `r` along its row (along its column when `vertical`) over what
 * `still` (mv_image_still_map of the plane: one MV_STILL_* level per pixel)
 * shows of the rest of its line; `view` is the plane's 8-bit rendering
 * (grey or RGB, same size), where strokes must stand apart from the ground.
 * Lines thinner than 4 or thicker than 32 pixels are left alone. Returns 1
 * when r grew, 0 otherwise. */
int mv_still_complete(const unsigned char *still, const mv_image *view,
                      mv_rect *r, int vertical);

#endif
