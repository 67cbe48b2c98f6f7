/* mv_render.h - 8-bit views of decoded planes, for detectors and previews.
 *
 * Detectors see every plane with a min-max window: burned-in text usually
 * sits at the top of the stored range, where a clinical VOI window would
 * clip it to white or hide it in the background. RGB stays RGB; grey stays
 * grey with MONOCHROME1 inverted so what is rendered is what a viewer
 * shows. */
#ifndef MV_RENDER_H
#define MV_RENDER_H

#include <stdint.h>

#include "medveil/plugin.h"

typedef struct mv_view {
  mv_image img; /* 8-bit, samples 1 or 3, owns img.data */
} mv_view;

/* Render `src` (as acquired) into v. Returns MV_OK or MV_ENOMEM /
 * MV_EINVAL. */
int mv_render(const mv_image *src, mv_view *v);
void mv_view_free(mv_view *v);
/* 64-bit FNV-1a over the plane's samples (rows only, no padding), so
 * identical frames are recognised and detected once. */
uint64_t mv_image_hash(const mv_image *img);
/* Bounding rectangle of the samples that differ between two planes of the
 * same geometry; returns 0 when identical, 1 with *r set otherwise, -1 when
 * the geometry differs. */
int mv_image_diff_rect(const mv_image *a, const mv_image *b, mv_rect *r);
/* Share (0..1) of the samples inside `r` that are the same in a and b,
 * within a few levels (3 at 8 bits, scaled to bits_stored): how still that
 * part of the picture stayed between two frames. -1 when the geometry
 * differs or r is empty. */
double mv_image_still_share(const mv_image *a, const mv_image *b, mv_rect r);
/* One byte per pixel (row-major, width x height) saying how still it
 * stood between a and b: MV_STILL_SAME (every sample equal), MV_STILL_NEAR
 * (within the tolerance above: lossy coding, or a faint overlay blended
 * with a ground that moved a little) or MV_STILL_MOVED. NULL when the
 * geometry differs or memory runs out; free() it. */
enum { MV_STILL_SAME = 0, MV_STILL_NEAR = 1, MV_STILL_MOVED = 2 };
unsigned char *mv_image_still_map(const mv_image *a, const mv_image *b);

#endif
