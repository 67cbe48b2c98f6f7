/* mv_inkvalue.h - finish a redaction along its line over pixels of the
 * line's own ink value.
 *
 * A device burns its text in with one value (one grey, one colour), and
 * anti-aliasing only touches the strokes' edges. Over speckle or tissue
 * that value is one among many in the ground, but along the line it
 * recurs far more often than in the rows beside it, whatever the contrast:
 * grey letters over speckle that grows bright, where the text network and
 * the ink test lose the line, are still that one grey. This takes the
 * value that the found part of the line holds in excess of its sides, and
 * walks on (mv_line_walk) over windows where the band holds it in excess
 * again, in strokes that stand off their ground. On a flat ground, where
 * mv_inkline and mv_flatink follow lines, it takes one character at most
 * (half a line height on). */
#ifndef MV_INKVALUE_H
#define MV_INKVALUE_H

#include "medveil/plugin.h"

/* Grow `r` (a redaction rectangle over part of a text line, 4 to 32
 * pixels thick) along its row (column when `vertical`) of `view` (the
 * plane's 8-bit grey or RGB rendering, luma) over the windows that hold
 * the line's ink value. Returns 1 when r grew, 0 otherwise (no value
 * stands out in r, or none continues it). */
int mv_inkvalue_complete(const mv_image *view, mv_rect *r, int vertical);

#endif
