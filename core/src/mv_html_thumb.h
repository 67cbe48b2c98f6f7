/* mv_html_thumb.h - before/after thumbnails for the HTML report.
 *
 * Both halves are scaled down (area average) to at most `max_width`
 * pixels wide, with the pixel stage's boxes outlined (red: redacted,
 * green: kept as harmless, magenta: uncertain). In the "before" half every
 * box's interior is pixelated with cells as tall as the box, and in the
 * "after" half so are the uncertain ones (an object held for review may
 * still show them): the page shows where text was, never what it said. */
#ifndef MV_HTML_THUMB_H
#define MV_HTML_THUMB_H

#include <stdio.h>

#include "mv_pixels.h"

/* Write two <img> elements (before, after) with PNG data: URIs to f.
 * Both PNGs are made before anything is written: on failure (-1) f is
 * untouched. Returns 0 or -1 (no views, geometry differs, no memory). */
int mv_html_thumb_pair(FILE *f, const mv_pixel_result *px,
                       unsigned max_width);

#endif
