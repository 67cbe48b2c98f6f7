/* mv_cine.c - frames of one object seen together (see mv_cine.h). */
#include "mv_cine.h"

#include <stdlib.h>
#include <string.h>

#include "mv_rect.h"
#include "mv_render.h"

/* A rectangle counts as over an overlay when nearly all of it stood still
 * (nothing moved there), or clearly more of it than of the ground around
 * it (strokes held while speckle moved). */
#define STILL_ALL 0.9
#define STILL_MORE 0.1
#define RING 6 /* pixels of ground around a rectangle */
#define COVERED 0.8 /* share of a carried rectangle a frame's own hold */
#define SEEN_INSIDE 0.5 /* of a box a frame saw, inside another's redaction */
#define SEEN_COVERS 0.25 /* ... and of that redaction, covered by the box */

static int copy_samples(const mv_image *src, mv_image *dst) {
  *dst = *src;
  size_t row = (size_t)src->width * src->samples * (src->bits == 16 ? 2 : 1);
  dst->stride = row;
  dst->data = malloc(row * src->height);
  if (!dst->data) return MV_ENOMEM;
  for (uint32_t y = 0; y < src->height; y++)
    memcpy((uint8_t *)dst->data + y * row,
           (const uint8_t *)src->data + (size_t)y * src->stride, row);
  return MV_OK;
}

void mv_cine_begin(mv_cine *c, const mv_format_ops *ops, mv_doc *doc,
                   uint32_t frames) {
  memset(c, 0, sizeof *c);
  c->frames = frames;
  if (frames < 2) return;
  mv_image img;
  memset(&img, 0, sizeof img);
  char why[256] = "";
  if (ops->acquire(doc, frames - 1, &img, why, sizeof why) != MV_OK) return;
  if (img.kind == MV_PLANE_FRAME && img.frame == frames - 1 &&
      copy_samples(&img, &c->last) != MV_OK)
    memset(&c->last, 0, sizeof c->last);
  ops->release(doc, frames - 1, NULL, 0, why, sizeof why);
}

int mv_cine_keep_frame0(mv_cine *c, const mv_image *img) {
  if (!c->width0) c->width0 = img->width, c->height0 = img->height;
  if (c->frames < 2 || c->frame0.data) return MV_OK;
  int rc = copy_samples(img, &c->frame0);
  if (rc != MV_OK) memset(&c->frame0, 0, sizeof c->frame0);
  return rc;
}

unsigned char *mv_cine_still_map(const mv_cine *c, const mv_image *img) {
  if (c->frames < 2 || img->kind != MV_PLANE_FRAME) return NULL;
  const mv_image *other = img->frame == 0 ? &c->last : &c->frame0;
  return other->data ? mv_image_still_map(other, img) : NULL;
}

/* Share of still pixels (MV_STILL_NEAR or better) in r, -1 when empty. */
static double still_share(const unsigned char *still, uint32_t w, mv_rect r) {
  size_t same = 0, all = 0;
  for (int32_t y = r.y; y < r.y + r.h; y++)
    for (int32_t x = r.x; x < r.x + r.w; x++, all++)
      same += still[(size_t)y * w + (size_t)x] <= MV_STILL_NEAR;
  return all ? (double)same / (double)all : -1;
}

static int over_overlay(double in, double all, mv_rect r, mv_rect ring) {
  if (in < 0 || all < 0) return 0;
  double a_in = (double)r.w * r.h, a_all = (double)ring.w * ring.h;
  double out = a_all > a_in ? (all * a_all - in * a_in) / (a_all - a_in) : in;
  return in >= STILL_ALL || in >= out + STILL_MORE;
}

int mv_cine_from_frame0(const mv_cine *c, const mv_image *img,
                        mv_rect **rects, size_t *nrects) {
  if (!c->frame0.data || img->kind != MV_PLANE_FRAME || img->frame == 0)
    return MV_OK;
  for (size_t i = 0; i < c->ndone; i++) {
    if (c->done[i].frame != 0) continue;
    mv_rect f0 = c->done[i].r;
    int covered = 0;
    for (size_t k = 0; k < *nrects && !covered; k++)
      covered = mv_rect_contains(&(*rects)[k], &f0);
    if (covered) continue;
    mv_rect ring = mv_rect_grow(f0, RING, img->width, img->height);
    if (!over_overlay(mv_image_still_share(&c->frame0, img, f0),
                      mv_image_still_share(&c->frame0, img, ring), f0, ring))
      continue;
    mv_rect *g = realloc(*rects, (*nrects + 1) * sizeof *g);
    if (!g) return MV_ENOMEM;
    *rects = g;
    (*rects)[(*nrects)++] = f0;
  }
  return MV_OK;
}

static int push(mv_cine_rect **list, size_t *n, uint32_t frame, mv_rect r) {
  mv_cine_rect *g = realloc(*list, (*n + 1) * sizeof *g);
  if (!g) return MV_ENOMEM;
  *list = g;
  (*list)[(*n)++] = (mv_cine_rect){frame, r};
  return MV_OK;
}

int mv_cine_note(mv_cine *c, uint32_t frame, const mv_rect *rects, size_t n,
                 const unsigned char *still, uint32_t width, uint32_t height) {
  if (c->frames < 2 && frame != 0) return MV_OK;
  for (size_t i = 0; i < n; i++) {
    mv_rect r = mv_rect_grow(rects[i], 0, width, height); /* clipped */
    if (r.w <= 0 || r.h <= 0) continue;
    int rc = push(&c->done, &c->ndone, frame, r);
    if (rc != MV_OK) return rc;
    /* Frame 0's own go forward as each frame comes (mv_cine_from_frame0). */
    if (frame == 0 || !still || c->frames < 2) continue;
    mv_rect ring = mv_rect_grow(r, RING, width, height);
    if (over_overlay(still_share(still, width, r),
                     still_share(still, width, ring), r, ring) &&
        (rc = push(&c->carry, &c->ncarry, frame, r)) != MV_OK)
      return rc;
  }
  return MV_OK;
}

int mv_cine_saw(mv_cine *c, uint32_t frame, mv_rect r) {
  if (c->frames < 2 || r.w <= 0 || r.h <= 0) return MV_OK;
  return push(&c->seen, &c->nseen, frame, r);
}

/* The rectangles of `list` that belong to frame `frame`, copied (a
 * malloc'd array, NULL when none or out of memory: *n says which). */
static int frame_rects(const mv_cine_rect *list, size_t nlist, uint32_t frame,
                       mv_rect **out, size_t *n) {
  *out = NULL;
  *n = 0;
  for (size_t i = 0; i < nlist; i++)
    if (list[i].frame == frame) (*n)++;
  if (!*n) return MV_OK;
  *out = malloc(*n * sizeof **out);
  if (!*out) return MV_ENOMEM;
  *n = 0;
  for (size_t i = 0; i < nlist; i++)
    if (list[i].frame == frame) (*out)[(*n)++] = list[i].r;
  return MV_OK;
}

/* A box the frame saw (read, or could not, and did not redact) lies
 * mostly inside r and covers a good part of it. */
static int saw_there(const mv_rect *seen, size_t nseen, const mv_rect *r) {
  for (size_t k = 0; k < nseen; k++) {
    double ov = mv_rect_overlap(&seen[k], r);
    if (ov >= SEEN_INSIDE * (double)seen[k].w * seen[k].h &&
        ov >= SEEN_COVERS * (double)r->w * r->h)
      return 1;
  }
  return 0;
}

/* Append r to *out unless the frame's own rectangles (and those already
 * in *out) mostly hold it: the same line, redacted a little differently
 * there. */
static int add_lacking(const mv_rect *own, size_t nown, const mv_rect *r,
                       mv_rect **out, size_t *n) {
  double covered = 0;
  for (size_t k = 0; k < nown; k++) covered += mv_rect_overlap(&own[k], r);
  for (size_t k = 0; k < *n; k++) covered += mv_rect_overlap(&(*out)[k], r);
  if (covered >= COVERED * r->w * r->h) return MV_OK;
  mv_rect *g = realloc(*out, (*n + 1) * sizeof *g);
  if (!g) return MV_ENOMEM;
  *out = g;
  (*out)[(*n)++] = *r;
  return MV_OK;
}

int mv_cine_missing(const mv_cine *c, uint32_t frame, mv_rect **out,
                    size_t *n) {
  *out = NULL;
  *n = 0;
  /* The frame's own lists, gathered once: a long loop holds thousands of
   * rectangles, and each candidate is checked against them. */
  mv_rect *own = NULL, *seen = NULL;
  size_t nown = 0, nseen = 0;
  int rc = frame_rects(c->done, c->ndone, frame, &own, &nown);
  if (rc == MV_OK) rc = frame_rects(c->seen, c->nseen, frame, &seen, &nseen);
  for (size_t i = 0; rc == MV_OK && i < c->ncarry; i++)
    if (c->carry[i].frame != frame)
      rc = add_lacking(own, nown, &c->carry[i].r, out, n);
  /* Text this frame saw but did not redact, where another frame read
   * enough to redact it: the reading of one frame decides for all (a
   * vertical phone number over moving speckle read as junk in frame 0
   * and plainly in the frames after). The still test above cannot tell
   * there: anti-aliased strokes over moving speckle change too. */
  for (size_t i = 0; rc == MV_OK && nseen && i < c->ndone; i++)
    if (c->done[i].frame != frame && saw_there(seen, nseen, &c->done[i].r))
      rc = add_lacking(own, nown, &c->done[i].r, out, n);
  free(own);
  free(seen);
  if (rc != MV_OK) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

void mv_cine_end(mv_cine *c) {
  free(c->frame0.data);
  free(c->last.data);
  free(c->done);
  free(c->carry);
  free(c->seen);
  memset(c, 0, sizeof *c);
}
