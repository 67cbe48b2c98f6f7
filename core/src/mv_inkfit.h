/* mv_inkfit.h - fit a redaction across its line to the characters it cuts.
 *
 * A line's rectangle can be thinner than its text: the network's marks of
 * a large faint font stop short of the glyphs' feet, a reading's box
 * misses the tops of capitals. What it leaves is the cut ends of strokes,
 * plain to read on an even ground. This widens the rectangle across its
 * line, row by row (column by column when vertical), while the next row
 * holds ink touching the ink of the row before: strokes that go on, not a
 * new line of text or the edge of a banner (a row mostly ink). */
#ifndef MV_INKFIT_H
#define MV_INKFIT_H

#include "medveil/plugin.h"

/* Widen `r` (a redaction rectangle over a text line, vertical when
 * `vertical`) across its line, by up to half its thickness on each side,
 * over the strokes it cuts on an even ground in `view` (8-bit grey or RGB).
 * Returns 1 when r grew, 0 otherwise (uneven ground included). */
int mv_ink_fit(const mv_image *view, mv_rect *r, int vertical);

#endif
