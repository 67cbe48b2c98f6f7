/* mv_cine.h - what the frames of a multi-frame object tell about each other.
 *
 * Text burned into a cine loop sits still while the picture moves. The
 * pixel stage searches every frame on its own, and a faint line one frame
 * finds another may miss. This keeps, for one object:
 *   - a copy of frame 0 and of the last frame (read ahead), so each frame
 *     has a still map against another (mv_image_still_map): frame 0
 *     against the last frame, every later frame against frame 0;
 *   - every frame's redactions, and among them those over something that
 *     stood still against frame 0 while the ground around it moved, or
 *     that did not move at all: an overlay, which the other frames carry
 *     too. The stage hands them back to the frames that lack them, frame 0
 *     included, once every frame was searched (mv_cine_missing).
 * Anatomy that moves under a wrongly redacted box is not carried. */
#ifndef MV_CINE_H
#define MV_CINE_H

#include <stddef.h>

#include "medveil/plugin.h"

typedef struct mv_cine_rect {
  uint32_t frame;
  mv_rect r;
} mv_cine_rect;

typedef struct mv_cine {
  uint32_t frames;
  uint32_t width0, height0; /* frame 0's size (icons scale its redactions) */
  mv_image frame0; /* its samples, for objects of two frames or more */
  mv_image last;   /* the last frame's samples, read ahead */
  mv_cine_rect *done;  /* every frame's redactions */
  size_t ndone;
  mv_cine_rect *carry; /* those over an overlay: due in every frame */
  size_t ncarry;
  mv_cine_rect *seen; /* text each frame saw and did not redact */
  size_t nseen;
} mv_cine;

/* Start an object of `frames` frames. For two or more, reads the last
 * frame ahead (plane frames-1, released unchanged); when it cannot be
 * read, frame 0 goes without a still map. */
void mv_cine_begin(mv_cine *c, const mv_format_ops *ops, mv_doc *doc,
                   uint32_t frames);
/* Note frame 0's size, and keep its samples for objects of two frames or
 * more (called with frame 0 before it is changed). */
int mv_cine_keep_frame0(mv_cine *c, const mv_image *img);
/* The still map of frame `img` (unchanged samples) against the other
 * frame; NULL for single frames, other planes, or when memory runs out. */
unsigned char *mv_cine_still_map(const mv_cine *c, const mv_image *img);
/* Frame 0's redactions that stood still in `img` (a later frame, not yet
 * changed) and that rects does not already contain are appended to
 * *rects. */
int mv_cine_from_frame0(const mv_cine *c, const mv_image *img,
                        mv_rect **rects, size_t *nrects);
/* Record frame `frame`'s final redactions (frame 0's serve the icons of
 * single frames too); `still` is its still map (or NULL), `width` x
 * `height` its size. */
int mv_cine_note(mv_cine *c, uint32_t frame, const mv_rect *rects, size_t n,
                 const unsigned char *still, uint32_t width, uint32_t height);
/* Note a text box frame `frame` found and did not redact (read as noise,
 * kept, or held). */
int mv_cine_saw(mv_cine *c, uint32_t frame, mv_rect r);
/* The redactions other frames made that frame `frame` lacks (its own
 * rectangles hold less than 80% of one): those over an overlay, and those
 * over text the frame saw itself but did not redact. A malloc'd list in
 * *out (NULL when none). */
int mv_cine_missing(const mv_cine *c, uint32_t frame, mv_rect **out,
                    size_t *n);
void mv_cine_end(mv_cine *c);

#endif
