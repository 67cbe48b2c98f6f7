/* mv_inkline.h - finish a redaction along its text line by following ink.
 *
 * OCR boxes often stop short of the text they belong to: a dropped first
 * or last word, a half-read vertical line, a word the engine never saw.
 * Where the text sits on an even background (a banner, a flat border, the
 * black around an ultrasound sector), the rest of the line is plain to
 * see: columns of "ink" (pixels far from the background) separated by gaps
 * no wider than a word space. This walks outward from a redaction
 * rectangle along the line while that holds, and stops at once where the
 * background stops being even (anatomy, speckle), so it never eats into the
 * image. Ink in every column for more than three line heights is an edge
 * of the ground running with the line (a banner's border, the seam of two
 * colour bands), not characters: the walk stops before it. */
#ifndef MV_INKLINE_H
#define MV_INKLINE_H

#include "medveil/plugin.h"

/* Grow `r` (a redaction rectangle over a text line; vertical when it is at
 * least twice as tall as wide) along its line over the ink that continues
 * it in `view` (8-bit grey or RGB rendering of the plane). Returns 1 when r
 * grew, 0 when an even ground shows that the line ends at r, -1 when the
 * ground cannot tell (too small, uneven, or followed by colour only). */
int mv_ink_complete(const mv_image *view, mv_rect *r);

#endif
