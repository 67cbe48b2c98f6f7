/* mv_png.h - write 8-bit grey or RGB images as PNG (libpng), and the
 * side-by-side review previews built from them. */
#ifndef MV_PNG_H
#define MV_PNG_H

#include <stddef.h>

#include "medveil/plugin.h"

/* Write an 8-bit image (samples 1 or 3) to path. Returns MV_OK or MV_EIO. */
int mv_png_write(const char *path, const mv_image *img);

/* How a preview box is drawn. */
enum { MV_MARK_REDACTED = 0, MV_MARK_KEPT = 1, MV_MARK_UNCERTAIN = 2 };

typedef struct mv_mark {
  mv_rect r;
  int kind; /* MV_MARK_* */
} mv_mark;

/* Before | after, side by side, both RGB, with the boxes outlined on both
 * halves (red: redacted, green: kept as harmless, magenta: uncertain).
 * Halves wider than `max_width` are scaled down. */
int mv_png_preview(const char *path, const mv_image *before,
                   const mv_image *after, const mv_mark *marks, size_t n,
                   unsigned max_width);

#endif
