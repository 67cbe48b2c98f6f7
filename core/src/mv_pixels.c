/* mv_pixels.c - the pixel stage (see mv_pixels.h). */
#include "mv_pixels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mv_cine.h"
#include "mv_flatink.h"
#include "mv_linewalk.h"
#include "mv_inkline.h"
#include "mv_inkvalue.h"
#include "mv_inkfit.h"
#include "mv_log.h"
#include "mv_rect.h"
#include "mv_render.h"
#include "mv_stillline.h"
#include "mv_textnet.h"

#define VERIFY_MIN_CONFIDENCE 0.6f /* below: fill edges read as noise */
#define ROI_FULL_SHARE 0.95         /* a diff this large: search it all */
#define MAX_VERIFY_ROUNDS 3 /* redact, verify; at most twice more */
#define SURE_TEXT 0.9f /* read this well, it is text even on a busy ground */

typedef struct detector {
  const mv_loaded *plugin;
  void *ctx;
  int is_ocr;
  const char *options;
} detector;

struct mv_pixels {
  const mv_pixel_settings *s;
  detector det[MV_PIX_MAX_DETECTORS];
  size_t ndet;
  const mv_loaded *redactor;
  mv_textnet *textnet; /* NULL: lines are not followed by the network */
  float *map;           /* its logits of the whole current plane, or NULL */
  mv_box *boxes; /* of the current object */
  size_t nboxes, capboxes;
  uint32_t plane; /* plane the sink is filling */
};

int mv_pixels_new(const mv_registry *reg, const mv_pixel_settings *s,
                  mv_pixels **out, char *err, size_t errlen) {
  *out = NULL;
  mv_pixels *px = calloc(1, sizeof *px);
  if (!px) return MV_ENOMEM;
  px->s = s;
  for (size_t i = 0; i < s->ndetect; i++) {
    const mv_loaded *p = mv_registry_detector(reg, s->detect[i]);
    if (!p) {
      snprintf(err, errlen,
               "pixels.detect: no installed plugin provides the detector "
               "'%s'",
               s->detect[i]);
      mv_pixels_free(px);
      return MV_EINVAL;
    }
    detector *d = &px->det[px->ndet];
    d->plugin = p;
    d->options = s->detect_options[i];
    d->is_ocr = strcmp(s->detect[i], "ocr") == 0;
    char why[512] = "";
    int rc = p->desc->detector->ctx_new(p->state, d->options, &d->ctx, why,
                                        sizeof why);
    if (rc != MV_OK) {
      snprintf(err, errlen, "detector '%s' (%s): %s", s->detect[i],
               p->desc->name, why[0] ? why : mv_strerror(rc));
      mv_pixels_free(px);
      return rc == MV_ENOMEM ? rc : MV_EPLUGIN;
    }
    px->ndet++;
  }
  /* A registry without a models folder (library use in tests) runs
   * without the network; with one, a missing model is an error, not a
   * silent loss of recall. */
  const char *models = mv_registry_models(reg);
  if (s->complete_lines && models && models[0]) {
    char path[4200], why[512] = "";
    snprintf(path, sizeof path, "%s/textnet.txt", models);
    int rc = mv_textnet_load(path, &px->textnet, why, sizeof why);
    if (rc != MV_OK) {
      snprintf(err, errlen, "pixels.complete_lines: %s", why);
      mv_pixels_free(px);
      return rc;
    }
  }
  px->redactor = mv_registry_redactor(reg, s->redact);
  if (!px->redactor) {
    snprintf(err, errlen,
             "pixels.redact: no installed plugin provides the method '%s'",
             s->redact);
    mv_pixels_free(px);
    return MV_EINVAL;
  }
  *out = px;
  return MV_OK;
}

void mv_pixels_free(mv_pixels *px) {
  if (!px) return;
  for (size_t i = 0; i < px->ndet; i++)
    px->det[i].plugin->desc->detector->ctx_free(px->det[i].ctx);
  mv_textnet_free(px->textnet);
  free(px->map);
  free(px->boxes);
  free(px);
}

void mv_pixel_result_free(mv_pixel_result *r) {
  mv_view_free(&r->before);
  mv_view_free(&r->after);
  free(r->marks);
  r->marks = NULL;
  r->nmarks = 0;
}

/* ---------------------------------------------------------------------- */
/* Boxes.                                                                  */

static int add_box(mv_pixels *px, const mv_box *b) {
  if (px->nboxes == px->capboxes) {
    size_t cap = px->capboxes ? px->capboxes * 2 : 64;
    if (cap > (1u << 20)) return MV_ELIMIT; /* a detector gone wild */
    mv_box *g = realloc(px->boxes, cap * sizeof *g);
    if (!g) return MV_ENOMEM;
    px->boxes = g;
    px->capboxes = cap;
  }
  px->boxes[px->nboxes] = *b;
  px->boxes[px->nboxes].plane = px->plane;
  px->nboxes++;
  return 0;
}

static int sink_box(void *ud, const mv_box *b) { return add_box(ud, b); }

static int doc_get(void *ud, const char *key, const char **v, size_t *n) {
  const mv_pixel_job *job = ud;
  return job->ops->get(job->doc, key, v, n);
}

/* Run detectors on one plane; only_ocr for verification. */
static int run_detectors(mv_pixels *px, const mv_pixel_job *job,
                         uint32_t plane, const mv_image *native,
                         const mv_image *view, const mv_rect *roi,
                         size_t nroi, int only_ocr, char *why, size_t n) {
  px->plane = plane;
  for (size_t i = 0; i < px->ndet; i++) {
    detector *d = &px->det[i];
    if (only_ocr && !d->is_ocr) continue;
    mv_detect_input in = {.size = sizeof in,
                          .plane = plane,
                          .image = view,
                          .native = native,
                          .roi = roi,
                          .n_roi = nroi,
                          .get = doc_get,
                          .get_ud = (void *)job,
                          .options = d->options};
    int rc = d->plugin->desc->detector->detect(d->ctx, &in, sink_box, px, why,
                                               n);
    if (rc != MV_OK) {
      if (!why[0]) snprintf(why, n, "%s", mv_strerror(rc));
      return rc;
    }
  }
  return MV_OK;
}

/* ---------------------------------------------------------------------- */
/* Decisions.                                                              */

enum { D_KEEP = 0, D_REDACT = 1, D_UNCERTAIN = 2, D_NOISE = 3 };

/* Words of one line, joined in windows of up to 4, through the scrubber:
 * catches dates and IDs that OCR split into several words. */
static void mark_line_windows(const mv_pixel_job *job, mv_box *b, size_t n,
                              const size_t *idx, size_t nidx,
                              unsigned char *ident) {
  (void)n;
  char buf[1100];
  for (size_t i = 0; i < nidx; i++) {
    size_t len = 0;
    for (size_t k = i; k < nidx && k < i + 4; k++) {
      const char *t = b[idx[k]].text;
      size_t tl = strnlen(t, sizeof b[idx[k]].text);
      if (len + tl + 2 >= sizeof buf) break;
      if (len) buf[len++] = ' ';
      memcpy(buf + len, t, tl);
      len += tl;
      buf[len] = 0;
      char *cleaned = NULL;
      size_t cl = 0;
      int hits = mv_scrub_text(job->scrub, buf, len, &cleaned, &cl);
      free(cleaned);
      if (hits > 0)
        for (size_t m = i; m <= k; m++) ident[idx[m]] = 1;
    }
  }
}

static int word_is_phi(const mv_pixels *px, const mv_pixel_job *job,
                       const mv_box *b, int identifying) {
  if (identifying) return 1;
  if (job->mode == MV_PHI_ALL_TEXT) return !mv_textphi_allowed(px->s, b->text);
  return 0;
}

static int luma(const mv_image *v, int32_t x, int32_t y) {
  const uint8_t *p = (const uint8_t *)v->data + (size_t)y * v->stride +
                     (size_t)x * v->samples;
  return v->samples == 3 ? (p[0] * 3 + p[1] * 6 + p[2]) / 10 : p[0];
}

/* Burned-in text is strokes on a flat background: the ground just
 * outside the box is smooth (neighbouring pixels nearly equal, even where a
 * device draws bars and frames next to the text) and some pixels inside
 * stand out from it. OCR also "reads" speckle and tissue, whose ground is
 * rough: such a reading, when it is also unsure, is not text and must not
 * black out anatomy. Roughness is the median step between neighbouring
 * pixels of the ring; measured on the generator set (tests/pixel), a
 * median above 2 grey levels keeps 93% of the junk readings out and loses
 * a third of the unsure text readings, fewer than the ring's spread did
 * (half), which also failed text beside a device's bars. */
#define SMOOTH_GROUND 2

static int in_rect(const mv_rect *r, int32_t x, int32_t y) {
  return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

/* Glyphs are drawn with strokes much thinner than the line is tall; bone
 * edges and vessels that OCR "reads" are blobs. The median length of the
 * runs of far-from-ground pixels, along rows and columns together, must be
 * under a third of the box's smaller side (5 px at least). */
static int thin_strokes(const mv_image *v, mv_rect r, double mean) {
  int32_t x1 = r.x + r.w < (int32_t)v->width ? r.x + r.w : (int32_t)v->width;
  int32_t y1 = r.y + r.h < (int32_t)v->height ? r.y + r.h : (int32_t)v->height;
  long hist[257] = {0}, runs = 0;
  for (int pass = 0; pass < 2; pass++) {
    int32_t outer0 = pass ? r.x : r.y, outer1 = pass ? x1 : y1;
    int32_t inner0 = pass ? r.y : r.x, inner1 = pass ? y1 : x1;
    for (int32_t o = outer0; o < outer1; o++) {
      int run = 0;
      for (int32_t i = inner0; i <= inner1; i++) {
        int ink = 0;
        if (i < inner1) {
          int l = pass ? luma(v, o, i) : luma(v, i, o);
          ink = l - mean > 48 || mean - l > 48;
        }
        if (ink) {
          run++;
        } else if (run) {
          hist[run > 256 ? 256 : run]++;
          runs++;
          run = 0;
        }
      }
    }
  }
  if (runs < 4) return 1; /* too little ink to judge */
  long seen = 0;
  int median = 0;
  for (int k = 1; k <= 256; k++) {
    seen += hist[k];
    if (2 * seen >= runs) {
      median = k;
      break;
    }
  }
  int side = r.w < r.h ? r.w : r.h;
  int limit = side / 3 > 5 ? side / 3 : 5;
  return median <= limit;
}

static int looks_like_text(const mv_image *v, mv_rect r) {
  if (!v || !v->data) return 1;
  if (r.w < 4 || r.h < 5) return 0;
  mv_rect inner = mv_rect_grow(r, 1, v->width, v->height),
          outer = mv_rect_grow(r, 4, v->width, v->height);
  double sum = 0;
  long n = 0, steps[256] = {0}, nsteps = 0;
  for (int32_t y = outer.y; y < outer.y + outer.h; y++)
    for (int32_t x = outer.x; x < outer.x + outer.w; x++) {
      if (in_rect(&inner, x, y)) continue;
      int l = luma(v, x, y);
      sum += l;
      n++;
      /* steps to the right and down neighbours that are ring pixels too */
      if (x + 1 < outer.x + outer.w && !in_rect(&inner, x + 1, y)) {
        int d = luma(v, x + 1, y) - l;
        steps[d < 0 ? -d : d]++;
        nsteps++;
      }
      if (y + 1 < outer.y + outer.h && !in_rect(&inner, x, y + 1)) {
        int d = luma(v, x, y + 1) - l;
        steps[d < 0 ? -d : d]++;
        nsteps++;
      }
    }
  if (n < 8 || nsteps < 8) return 1; /* the box fills the plane: cannot tell */
  long seen = 0;
  int median = 0;
  for (int d = 0; d < 256; d++) {
    seen += steps[d];
    if (2 * seen >= nsteps) {
      median = d;
      break;
    }
  }
  if (median > SMOOTH_GROUND) return 0;
  double mean = sum / n;
  long strokes = 0, all = 0;
  for (int32_t y = r.y; y < r.y + r.h && y < (int32_t)v->height; y++)
    for (int32_t x = r.x; x < r.x + r.w && x < (int32_t)v->width; x++) {
      int l = luma(v, x, y);
      strokes += (l - mean > 48 || mean - l > 48);
      all++;
    }
  double share = all ? (double)strokes / all : 0;
  if (!(share > 0.02 && share < 0.8)) return 0;
  return thin_strokes(v, r, mean);
}

/* A "word" taller (across its line) than any burned-in font, or covering a
 * good part of the plane, is OCR reading a picture. */
/* More than 5% of the image: a block of picture, not a line of words. */
static int too_big_an_area(const mv_image *v, mv_rect r) {
  return v && v->width && v->height &&
         (double)r.w * r.h > 0.05 * (double)v->width * v->height;
}

static int too_big_for_a_word(const mv_image *v, const mv_box *b) {
  if (!(b->flags & MV_BOX_TEXT)) return 0;
  int32_t across = (b->flags & MV_BOX_ROTATED) && b->r.h > b->r.w ? b->r.w : b->r.h;
  return across > 64 || too_big_an_area(v, b->r);
}

/* A reading that is not text: OCR read it badly, and the ground around
 * it is rough or the box is too big for a line of words (speckle, tissue,
 * colour flow). Identifying readings and lines found by their characters'
 * shape are never noise; the caller checks the first. */
static int reading_is_noise(const mv_image *view, const mv_box *b, float low) {
  if (b->flags & (MV_BOX_REGION | MV_BOX_MARKED | MV_BOX_SHAPED)) return 0;
  int unsure = (b->flags & MV_BOX_UNREAD) || !b->text[0] || b->confidence < low;
  return (unsure || b->confidence < SURE_TEXT) &&
         (!looks_like_text(view, b->r) || too_big_for_a_word(view, b));
}

/* Decide every box in [first, px->nboxes). */
static void decide(mv_pixels *px, const mv_pixel_job *job, size_t first,
                   const mv_image *view, unsigned char *dec) {
  size_t n = px->nboxes - first;
  mv_box *b = px->boxes + first;
  unsigned char *ident = calloc(n ? n : 1, 1);
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  if (!ident || !idx) {
    /* No memory to think: redact everything found (fail closed). */
    for (size_t i = 0; i < n; i++) dec[i] = D_REDACT;
    free(ident);
    free(idx);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    if ((b[i].flags & MV_BOX_TEXT) && b[i].text[0] &&
        mv_textphi_identifying(job->phi, b[i].text))
      ident[i] = 1;
  }
  /* Lines: boxes sharing `line` (only text boxes). */
  unsigned char *seen = calloc(n ? n : 1, 1);
  for (size_t i = 0; seen && i < n; i++) {
    if (seen[i] || !(b[i].flags & MV_BOX_TEXT)) continue;
    size_t nidx = 0;
    for (size_t k = i; k < n; k++)
      if (!seen[k] && (b[k].flags & MV_BOX_TEXT) && b[k].line == b[i].line) {
        seen[k] = 1;
        idx[nidx++] = k;
      }
    mark_line_windows(job, b, n, idx, nidx, ident);
  }
  free(seen);
  float low = (float)px->s->review_below;
  /* Text read badly is never "not PHI": redacted under all_text, and under
   * identifiers redacted or held for a person, as the policy says. */
  unsigned char unsure_text =
      job->mode == MV_PHI_ALL_TEXT || px->s->uncertain_redact ? D_REDACT
                                                              : D_UNCERTAIN;
  for (size_t i = 0; i < n; i++) {
    if (b[i].flags & MV_BOX_REGION) {
      dec[i] = D_REDACT;
    } else if (b[i].flags & MV_BOX_MARKED) {
      /* The network judged it text; only a block too big for a line of
       * words is left as texture. */
      dec[i] = too_big_an_area(view, b[i].r) ? D_NOISE : unsure_text;
    } else if (!ident[i] && reading_is_noise(view, &b[i], low)) {
      dec[i] = D_NOISE;
    } else if (b[i].flags & MV_BOX_UNREAD || !b[i].text[0]) {
      dec[i] = unsure_text;
    } else if (word_is_phi(px, job, &b[i], ident[i])) {
      dec[i] = D_REDACT;
    } else if (b[i].confidence < low) {
      /* Read badly: it may be anything. */
      dec[i] = unsure_text;
    } else {
      dec[i] = D_KEEP;
    }
  }
  free(ident);
  free(idx);
}

/* ---------------------------------------------------------------------- */
/* One object.                                                             */

typedef struct frame_seen {
  uint64_t hash;
  uint32_t kind;
  size_t first, count; /* its boxes */
} frame_seen;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void add_mark(mv_pixel_result *r, mv_rect rect, int kind) {
  mv_mark *g = realloc(r->marks, (r->nmarks + 1) * sizeof *g);
  if (!g) return;
  r->marks = g;
  r->marks[r->nmarks].r = rect;
  r->marks[r->nmarks].kind = kind;
  r->nmarks++;
}

static void hold(mv_pixel_result *r, const char *fmt, const char *detail) {
  if (r->review) return; /* the first reason is the one shown */
  r->review = 1;
  snprintf(r->reason, sizeof r->reason, fmt, detail);
}

/* OCR the redacted plane again where text was and along the borders.
 * Readings that are still PHI are appended to *hits (grown by the margin).
 * Returns MV_OK, or a code when verification itself failed (held). */
static int verify_plane(mv_pixels *px, const mv_pixel_job *job,
                        uint32_t plane, const mv_image *img,
                        const mv_rect *rects, size_t nrects, size_t keep_from,
                        size_t keep_to, const unsigned char *dec,
                        mv_rect **hits, size_t *nhits, mv_pixel_result *r) {
  mv_view v;
  if (mv_render(img, &v) != MV_OK) {
    hold(r, "%s", "cannot render the redacted plane for verification");
    return MV_ENOMEM;
  }
  size_t nroi = 0;
  mv_rect *roi = malloc((nrects + 2) * sizeof *roi);
  if (!roi) {
    mv_view_free(&v);
    hold(r, "%s", "out of memory during verification");
    return MV_ENOMEM;
  }
  for (size_t i = 0; i < nrects; i++)
    roi[nroi++] = mv_rect_grow(rects[i], 6, img->width, img->height);
  int32_t band = (int32_t)img->height / 10;
  if (band < 32) band = 32;
  if (band > (int32_t)img->height) band = (int32_t)img->height;
  roi[nroi++] = (mv_rect){0, 0, (int32_t)img->width, band};
  roi[nroi++] = (mv_rect){0, (int32_t)img->height - band, (int32_t)img->width,
                          band};
  size_t first = px->nboxes;
  char why[256] = "";
  int rc = run_detectors(px, job, plane, img, &v.img, roi, nroi, 1, why,
                         sizeof why);
  free(roi);
  if (rc != MV_OK) {
    mv_view_free(&v);
    hold(r, "verification OCR failed: %s", why);
    px->nboxes = first;
    return rc;
  }
  for (size_t i = first; i < px->nboxes; i++) {
    mv_box *b = &px->boxes[i];
    if (!(b->flags & MV_BOX_TEXT) || !b->text[0]) continue;
    int ident = mv_textphi_identifying(job->phi, b->text);
    if (!ident) {
      char *cleaned = NULL;
      size_t cl = 0;
      ident = mv_scrub_text(job->scrub, b->text, strlen(b->text), &cleaned,
                            &cl) > 0;
      free(cleaned);
    }
    int phi = ident;
    if (!phi && job->mode == MV_PHI_ALL_TEXT &&
        b->confidence >= VERIFY_MIN_CONFIDENCE &&
        !mv_textphi_allowed(px->s, b->text) && looks_like_text(&v.img, b->r)) {
      /* The same harmless word read again differently is not a leak. */
      int over_kept = 0;
      for (size_t k = keep_from; k < keep_to && !over_kept; k++)
        if (dec[k - keep_from] == D_KEEP &&
            mv_rect_intersects(&px->boxes[k].r, &b->r))
          over_kept = 1;
      phi = !over_kept;
    }
    if (!phi) continue;
    r->verify_hits++;
    mv_rect *g = realloc(*hits, (*nhits + 1) * sizeof *g);
    if (!g) continue;
    *hits = g;
    (*hits)[(*nhits)++] = mv_rect_grow(b->r, px->s->margin, img->width, img->height);
  }
  mv_view_free(&v);
  px->nboxes = first;
  return MV_OK;
}

/* 1 when box r lies in the row (or column) of line u: most of its
 * thickness inside u's band, and about as thick. */
static int same_row(const mv_rect *u, const mv_rect *r, int vertical) {
  int32_t a0 = vertical ? u->x : u->y, a1 = a0 + (vertical ? u->w : u->h);
  int32_t b0 = vertical ? r->x : r->y, b1 = b0 + (vertical ? r->w : r->h);
  int32_t o = (a1 < b1 ? a1 : b1) - (a0 > b0 ? a0 : b0);
  int32_t ta = a1 - a0, tb = b1 - b0;
  if (tb <= 0 || ta <= 0 || 2 * tb > 3 * ta || 2 * ta > 3 * tb) return 0;
  return 10 * o >= 6 * (ta < tb ? ta : tb);
}

/* Whole lines go: the redacted word, and the words of its line next to it
 * (OCR splits and misreads words; a half-redacted name is still a name). */
/* What line_rects follows a redacted line on, besides the boxes. */
typedef struct line_aids {
  const mv_textnet *tn;       /* the text network, or NULL */
  const float *map;           /* its logits of the plane, or NULL */
  const unsigned char *still; /* mv_cine_still_map, or NULL */
  const unsigned char *flat;  /* mv_flatink_map, or NULL */
} line_aids;

static size_t line_rects(const mv_box *b, size_t n, const unsigned char *dec,
                         const mv_image *view, const line_aids *aid,
                         int margin, uint32_t w, uint32_t h, mv_rect *out) {
  size_t nout = 0;
  unsigned char *used = calloc(n ? n : 1, 1);
  for (size_t i = 0; i < n; i++) {
    if (dec[i] != D_REDACT || (used && used[i])) continue;
    mv_rect u = b[i].r;
    if (used) used[i] = 1;
    int is_line = (b[i].flags & (MV_BOX_TEXT | MV_BOX_UNREAD)) != 0;
    for (int grew = is_line && used; grew;) {
      grew = 0;
      int vertical = u.h >= 2 * u.w ||
                     ((b[i].flags & MV_BOX_ROTATED) && u.h > u.w);
      int reach = vertical ? (u.w > 8 ? u.w : 8) : (u.h > 8 ? u.h : 8);
      /* The words of a chain of characters are one row by their shape:
       * a monospaced "Dr. C." is two advances from the name. */
      if (b[i].flags & MV_BOX_SHAPED) reach = reach * 5 / 2;
      mv_rect near = u;
      if (vertical) near.y -= reach, near.h += 2 * reach;
      else near.x -= reach, near.w += 2 * reach;
      for (size_t k = 0; k < n; k++) {
        if (used[k] || !(b[k].flags & (MV_BOX_TEXT | MV_BOX_UNREAD)) ||
            !mv_rect_intersects(&near, &b[k].r))
          continue;
        /* Its line as the detector numbered it, or a word on the same
         * row by position ("Tel." read apart from the number after it). */
        if (b[k].line != b[i].line && !same_row(&u, &b[k].r, vertical))
          continue;
        u = mv_rect_union(&u, &b[k].r);
        used[k] = 1;
        grew = 1;
      }
    }
    /* The network marks the rest of a faint line over texture, where
     * neither the reading nor the ink reaches (mv_textnet.h). */
    if (is_line && aid->tn)
      mv_textnet_complete(aid->tn, view, aid->map, &u,
                          (b[i].flags & MV_BOX_ROTATED) && u.h > u.w);
    int along_column =
        u.h >= 2 * u.w || ((b[i].flags & MV_BOX_ROTATED) && u.h > u.w);
    /* In a cine loop, the strokes that stood still while the ground moved
     * (mv_stillline.h); on a flat ground, characters a few levels off it
     * (mv_flatink.h). */
    if (is_line && aid->still)
      mv_still_complete(aid->still, view, &u, along_column);
    if (is_line && aid->flat)
      mv_flatink_complete(aid->flat, view, &u, along_column);
    /* Over texture and gradients, the letters' own grey (mv_inkvalue.h). */
    if (is_line) mv_inkvalue_complete(view, &u, along_column);
    /* The rest of the line, where ink continues it (mv_inkline.h). Then,
     * since OCR often drops the first or last character of a line (an "06"
     * at the end of a time), one character further along it, even where
     * the ground seems to show the line's end: skipping that costs recall
     * (seed 7: 105 -> 101 boxes) for less over-redaction (4.4% -> 3.5%),
     * and a missed character can be an identifier's. */
    /* A line the detector found by its characters' shape (MV_BOX_SHAPED)
     * has its extent already, faint ends included: growing it further
     * only blacks out the ground. A reading beside it judged not text
     * (colour flow read with a chain) does not make it a line to grow:
     * seeds 1/3/7 lose no box, over-redaction 1.88/2.09/1.75% ->
     * 1.83/2.05/1.74%, US1_UNCR's anatomy 91.7% -> 94.7% unchanged. */
    int shaped = (b[i].flags & (MV_BOX_SHAPED | MV_BOX_MARKED)) != 0;
    for (size_t k = 0; shaped && used && k < n; k++)
      if (used[k] && b[k].line == b[i].line && dec[k] != D_NOISE &&
          !(b[k].flags & MV_BOX_SHAPED))
        shaped = 0;
    if (is_line && !shaped) mv_ink_complete(view, &u);
    if (is_line && !shaped) {
      /* A line twice as tall as wide runs down the image whether or not
       * the detector says it turned it (reaching sideways by 3/4 of its
       * height blacked out whole columns of anatomy). */
      int vertical = u.h >= 2 * u.w ||
                     (u.h > u.w && (b[i].flags & MV_BOX_ROTATED));
      int32_t ch = (vertical ? u.w : u.h) * 3 / 4;
      if (vertical) u.y -= ch, u.h += 2 * ch;
      else u.x -= ch, u.w += 2 * ch;
    }
    /* A map's line can be thinner than its text: the network's marks of
     * a large faint font stop short of the glyphs' feet (mv_inkfit.h).
     * Seed 3: +1 box; for every line, +0.1 points of over-redaction and
     * no more boxes. */
    if (is_line && (b[i].flags & MV_BOX_MARKED))
      mv_ink_fit(view, &u,
                 u.h >= 2 * u.w || (u.h > u.w && (b[i].flags & MV_BOX_ROTATED)));
    /* The network's marks run a pixel or two past the strokes already:
     * its own lines take one more (seed 1: the full 3 px margin cost 0.11
     * points of over-redaction and found no box). */
    out[nout++] = mv_rect_grow(u, (b[i].flags & MV_BOX_MARKED) && margin > 1 ? 1 : margin,
                       w, h);
  }
  free(used);
  return nout;
}

/* Lines a map found on its own (the network's, faint ink's), as unread
 * boxes labelled `label`, unless the boxes the plane had before them
 * (first .. found) cover half of one: then the reading decides what it is,
 * and the map only finishes its line. A reading that will be judged noise
 * (reading_is_noise) does not cover: OCR reading a small line together
 * with the colour flow around it is unsure and rough-edged, and the line
 * in it was lost with the flow (seed 1: an accession number left whole). */
#define MARKED_COVERED 0.5
static int add_unread_lines(mv_pixels *px, uint32_t plane, size_t first,
                            size_t found, const mv_image *view,
                            const mv_rect *lines, size_t n, const char *label) {
  int rc = MV_OK;
  float low = (float)px->s->review_below;
  for (size_t i = 0; rc == MV_OK && i < n; i++) {
    double size = (double)lines[i].w * lines[i].h, covered = 0;
    for (size_t k = first; k < found; k++) {
      double o = mv_rect_overlap(&lines[i], &px->boxes[k].r);
      if (o > 0 && !reading_is_noise(view, &px->boxes[k], low)) covered += o;
    }
    if (covered >= MARKED_COVERED * size) continue;
    mv_box b;
    memset(&b, 0, sizeof b);
    b.plane = plane;
    b.r = lines[i];
    b.flags = MV_BOX_UNREAD | MV_BOX_MARKED;
    b.line = 0x80000000u + (uint32_t)(px->nboxes - first);
    snprintf(b.label, sizeof b.label, "%s", label);
    px->plane = plane;
    rc = add_box(px, &b);
  }
  return rc;
}

/* A line the network marks must change the view along it as characters
 * do: as much as across it (an edge running with it changes it across
 * only: a colour step of a synthetic gradient, grain 0.05), and every row
 * more than once a line height (the flat patches of a 16-colour image meet
 * in stepped edges the network marks as short turned lines, whose rows
 * change about once in two heights). The lines the network found on
 * generated seeds 1, 3 and 7 have grain 0.29 and 1.5 changes at least. */
#define MARKED_GRAIN 0.15
#define MARKED_CHANGES 1.0
static size_t keep_crossed(const mv_image *view, mv_rect *lines, size_t n) {
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    mv_rect r = lines[i];
    int vertical = r.h > r.w;
    mv_line_view v = mv_line_view_of(NULL, view, vertical);
    int32_t c0 = vertical ? r.y : r.x, a0 = vertical ? r.x : r.y;
    int32_t c1 = c0 + (vertical ? r.h : r.w), a1 = a0 + (vertical ? r.w : r.h);
    if (mv_line_grain(&v, c0, c1, a0, a1) >= MARKED_GRAIN &&
        mv_line_changes(&v, c0, c1, a0, a1) >= MARKED_CHANGES)
      lines[kept++] = r;
  }
  return kept;
}

/* Lines the text network marks where no detector found anything
 * (mv_textnet_lines): text too faint or too close to its ground for the
 * strokes and the reading, which the network still sees as a line. */
static int add_marked_lines(mv_pixels *px, uint32_t plane, size_t first,
                            const mv_image *view, const mv_rect *roi,
                            size_t nroi) {
  mv_rect whole = {0, 0, (int32_t)view->width, (int32_t)view->height};
  int rc = MV_OK;
  if (!nroi) {
    /* The whole plane's map is kept: line_rects follows lines on it. */
    if ((rc = mv_textnet_map(px->textnet, view, &px->map)) != MV_OK) return rc;
    roi = &whole;
    nroi = 1;
  }
  size_t found = px->nboxes;
  for (size_t a = 0; a < nroi && rc == MV_OK; a++) {
    mv_rect area = mv_rect_grow(roi[a], 0, view->width, view->height); /* clipped */
    if (area.w <= 0 || area.h <= 0) continue;
    float *own = NULL;
    const float *logit = px->map;
    size_t stride = view->width;
    if (logit) {
      logit += (size_t)area.y * stride + area.x;
    } else {
      own = malloc((size_t)area.w * area.h * sizeof *own);
      if (!own) return MV_ENOMEM;
      if ((rc = mv_textnet_logits(px->textnet, view, area, own)) != MV_OK) {
        free(own);
        return rc;
      }
      logit = own;
      stride = (size_t)area.w;
    }
    mv_rect *lines = NULL;
    size_t nlines = 0;
    rc = mv_textnet_lines(logit, stride, area, &lines, &nlines);
    free(own);
    if (rc == MV_OK) nlines = keep_crossed(view, lines, nlines);
    if (rc == MV_OK)
      rc = add_unread_lines(px, plane, first, found, view, lines, nlines,
                            "textnet");
    free(lines);
  }
  return rc;
}

/* Lines of faint ink on a flat ground (mv_flatink_lines), decided as the
 * network's are. */
static int add_flat_lines(mv_pixels *px, uint32_t plane, size_t first,
                          const unsigned char *flat, const mv_image *view) {
  mv_rect *lines = NULL;
  size_t nlines = 0;
  int rc = mv_flatink_lines(flat, view, &lines, &nlines);
  if (rc == MV_OK)
    rc = add_unread_lines(px, plane, first, px->nboxes, view, lines, nlines,
                          "flatink");
  free(lines);
  return rc;
}

static int plane_pass(mv_pixels *px, const mv_pixel_job *job,
                      const mv_pixel_info *info, uint32_t plane,
                      mv_image *img, frame_seen *seen, size_t *nseen,
                      mv_cine *cine, mv_pixel_result *r) {
  const mv_format_ops *ops = job->ops;
  char why[512] = "";
  size_t first = px->nboxes;
  mv_rect *rects = NULL;
  size_t nrects = 0;
  int rc = MV_OK;
  mv_view before = {0};
  unsigned char *still = NULL; /* what stood still against another frame */
  unsigned char *flat = NULL;  /* faint ink on a flat ground */

  if (img->kind == MV_PLANE_ICON) {
    /* A thumbnail of frame 0: the same places, scaled. */
    if (cine->ndone && cine->width0 && cine->height0) {
      rects = calloc(cine->ndone, sizeof *rects);
      if (!rects) return MV_ENOMEM;
      double sx = (double)img->width / cine->width0,
             sy = (double)img->height / cine->height0;
      for (size_t i = 0; i < cine->ndone; i++) {
        if (cine->done[i].frame != 0) continue;
        mv_rect s = cine->done[i].r;
        mv_rect t = {(int32_t)(s.x * sx), (int32_t)(s.y * sy),
                     (int32_t)(s.w * sx + 2), (int32_t)(s.h * sy + 2)};
        rects[nrects++] = mv_rect_grow(t, 1, img->width, img->height);
      }
    }
  } else {
    uint64_t h = mv_image_hash(img);
    int reused = 0;
    for (size_t i = 0; i < *nseen; i++) {
      if (seen[i].hash != h || seen[i].kind != img->kind) continue;
      for (size_t k = 0; k < seen[i].count; k++) {
        mv_box b = px->boxes[seen[i].first + k];
        px->plane = plane;
        if ((rc = add_box(px, &b))) return rc;
      }
      reused = 1;
      r->reused++;
      break;
    }
    if ((rc = mv_render(img, &before)) != MV_OK) return rc;
    if (!reused) {
      mv_rect diff, g, *roi = NULL; /* g outlives the block: roi points at it */
      size_t nroi = 0;
      if (img->kind == MV_PLANE_FRAME && img->frame > 0 && cine->frame0.data &&
          mv_image_diff_rect(&cine->frame0, img, &diff) == 1) {
        g = mv_rect_grow(diff, 8, img->width, img->height);
        /* Frame 0's text cut by the changed part is searched whole: a line
         * half inside it would be found, and redacted, by halves. */
        size_t f0n = *nseen ? seen[0].count : 0;
        for (int grew = 1; grew;) {
          grew = 0;
          for (size_t k = 0; k < f0n; k++) {
            mv_rect br = mv_rect_grow(px->boxes[seen[0].first + k].r, 8, img->width,
                              img->height);
            if (!mv_rect_intersects(&br, &g)) continue;
            mv_rect u = mv_rect_union(&g, &br);
            if (u.x != g.x || u.y != g.y || u.w != g.w || u.h != g.h)
              g = u, grew = 1;
          }
        }
        double share = (double)g.w * g.h / ((double)img->width * img->height);
        if (share < ROI_FULL_SHARE) {
          /* Frame 0's findings outside the changed part still hold. */
          for (size_t k = 0; k < f0n; k++) {
            mv_box b = px->boxes[seen[0].first + k];
            if (mv_rect_intersects(&b.r, &g)) continue;
            px->plane = plane;
            if ((rc = add_box(px, &b))) goto out;
          }
          roi = &g;
          nroi = 1;
        }
      }
      rc = run_detectors(px, job, plane, img, &before.img, roi, nroi, 0, why,
                         sizeof why);
      if (rc != MV_OK) {
        px->nboxes = first;
        hold(r, "a detector failed: %s", why);
        rc = MV_OK;
        goto out;
      }
      if (px->textnet &&
          (rc = add_marked_lines(px, plane, first, &before.img, roi, nroi)) !=
              MV_OK)
        goto out;
      flat = mv_flatink_map(&before.img);
      if ((rc = add_flat_lines(px, plane, first, flat, &before.img)) != MV_OK)
        goto out;
      if (*nseen < 64) {
        seen[*nseen] = (frame_seen){h, img->kind, first, px->nboxes - first};
        (*nseen)++;
      }
    }
    size_t n = px->nboxes - first;
    r->boxes += (unsigned)n;
    unsigned char *dec = calloc(n ? n : 1, 1);
    rects = calloc(n ? n : 1, sizeof *rects);
    if (!dec || !rects) {
      free(dec);
      rc = MV_ENOMEM;
      goto out;
    }
    decide(px, job, first, &before.img, dec);
    for (size_t i = 0; i < n; i++) {
      mv_box *b = &px->boxes[first + i];
      /* Text this frame did not redact: another frame's reading there
       * decides for it too (mv_cine_missing). */
      if (img->kind == MV_PLANE_FRAME && dec[i] != D_REDACT &&
          (b->flags & (MV_BOX_TEXT | MV_BOX_UNREAD)) &&
          (rc = mv_cine_saw(cine, img->frame, b->r)) != MV_OK) {
        free(dec);
        goto out;
      }
      if (dec[i] == D_REDACT) {
        r->redacted++;
      } else if (dec[i] == D_UNCERTAIN) {
        r->uncertain++;
        hold(r, "%s", "text the detector could not read with confidence");
      } else if (dec[i] == D_NOISE) {
        r->noise++;
        continue; /* not text: no mark */
      } else {
        r->kept++;
      }
      if (job->keep_preview && !r->before.img.data)
        add_mark(r, b->r, dec[i] == D_REDACT    ? MV_MARK_REDACTED
                          : dec[i] == D_KEEP ? MV_MARK_KEPT
                                             : MV_MARK_UNCERTAIN);
    }
    still = mv_cine_still_map(cine, img);
    if (!flat) flat = mv_flatink_map(&before.img);
    line_aids aid = {px->textnet, px->map, still, flat};
    nrects = line_rects(px->boxes + first, n, dec, &before.img, &aid,
                        px->s->margin, img->width, img->height, rects);
    /* Frame 0's redactions over what stood still here (mv_cine.h). */
    if ((rc = mv_cine_from_frame0(cine, img, &rects, &nrects)) != MV_OK) {
      free(dec);
      goto out;
    }
    if (nrects && info->encoding == MV_PIXENC_READONLY) {
      hold(r, "%s", "text found, but this pixel encoding cannot be written "
                    "back");
      nrects = 0;
    }
    /* Redact, verify; what verification still reads is redacted and
     * verified again, up to MAX_VERIFY_ROUNDS. Still readable after that: a
     * person decides. */
    mv_rect *todo = rects;
    size_t ntodo = nrects;
    for (int round = 0; ntodo && rc == MV_OK; round++) {
      rc = px->redactor->desc->redactor->redact(px->redactor->state,
                                                px->s->redact, img, todo,
                                                ntodo, why, sizeof why);
      if (rc != MV_OK) {
        snprintf(r->reason, sizeof r->reason, "redaction failed: %s",
                 why[0] ? why : mv_strerror(rc));
        break;
      }
      if (todo != rects) {
        mv_rect *g = realloc(rects, (nrects + ntodo) * sizeof *g);
        if (!g) {
          rc = MV_ENOMEM;
          break;
        }
        rects = g;
        memcpy(rects + nrects, todo, ntodo * sizeof *todo);
        nrects += ntodo;
        free(todo);
      }
      todo = NULL;
      ntodo = 0;
      if (!px->s->verify) break;
      mv_rect *hits = NULL;
      size_t nhits = 0;
      if (verify_plane(px, job, plane, img, rects, nrects, first, px->nboxes,
                       dec, &hits, &nhits, r) != MV_OK) {
        free(hits);
        break;
      }
      if (nhits && round >= MAX_VERIFY_ROUNDS - 1) {
        free(hits);
        hold(r, "%s", "text is still readable after redaction (verification)");
        break;
      }
      todo = hits;
      ntodo = nhits;
    }
    if (todo != rects) free(todo);
    if (rc != MV_OK) {
      free(dec);
      goto out;
    }
    free(dec);
    if (img->kind == MV_PLANE_FRAME &&
        (rc = mv_cine_note(cine, img->frame, rects, nrects, still, img->width,
                           img->height)) != MV_OK)
      goto out;
    /* The rectangles blacked out, whole: the word marks alone would leave
     * the rest of a completed line readable in the report's "before"
     * thumbnail, which pixelates marks. */
    if (job->keep_preview && !r->before.img.data)
      for (size_t k = 0; k < nrects; k++)
        add_mark(r, rects[k], MV_MARK_REDACTED);
    if (job->keep_preview && !r->before.img.data && before.img.data &&
        (nrects || r->nmarks || plane == 0)) {
      r->before = before;
      before.img.data = NULL;
      if (mv_render(img, &r->after) != MV_OK) mv_view_free(&r->before);
    }
  }
  if (nrects) {
    rc = ops->release(job->doc, plane, rects, nrects, why, sizeof why);
    if (rc != MV_OK)
      snprintf(r->reason, sizeof r->reason,
               "cannot store the redacted pixels: %s",
               why[0] ? why : mv_strerror(rc));
    else
      r->changed = 1;
  } else {
    rc = ops->release(job->doc, plane, NULL, 0, why, sizeof why);
    if (rc != MV_OK)
      snprintf(r->reason, sizeof r->reason, "cannot release a plane: %s",
               why[0] ? why : mv_strerror(rc));
  }
out:
  mv_view_free(&before);
  free(rects);
  free(px->map);
  px->map = NULL;
  free(still);
  free(flat);
  return rc;
}

/* Overlay lines one frame found go into every frame that lacks them, the
 * frames before it included (mv_cine.h): each frame is searched once, and
 * a faint line read in frame 3 is not left in frames 0 to 2. */
static int carry_overlays(mv_pixels *px, const mv_pixel_job *job,
                          const mv_pixel_info *info, const mv_cine *cine,
                          mv_pixel_result *r) {
  const mv_format_ops *ops = job->ops;
  if (!cine->ncarry || info->encoding == MV_PIXENC_READONLY) return MV_OK;
  for (uint32_t f = 0; f < cine->frames; f++) {
    mv_rect *add = NULL;
    size_t n = 0;
    int rc = mv_cine_missing(cine, f, &add, &n);
    if (rc != MV_OK) return rc;
    if (!n) continue;
    mv_image img;
    memset(&img, 0, sizeof img);
    char why[512] = "";
    rc = ops->acquire(job->doc, f, &img, why, sizeof why);
    if (rc == MV_OK && (img.kind != MV_PLANE_FRAME || img.frame != f)) {
      ops->release(job->doc, f, NULL, 0, why, sizeof why);
      snprintf(why, sizeof why, "plane %u is not frame %u", f, f);
      rc = MV_EINVAL;
    }
    if (rc != MV_OK) {
      free(add);
      hold(r, "a frame cannot be decoded again: %s",
           why[0] ? why : mv_strerror(rc));
      continue;
    }
    rc = px->redactor->desc->redactor->redact(
        px->redactor->state, px->s->redact, &img, add, n, why, sizeof why);
    if (rc != MV_OK) {
      ops->release(job->doc, f, NULL, 0, NULL, 0);
      free(add);
      snprintf(r->reason, sizeof r->reason, "redaction failed: %s",
               why[0] ? why : mv_strerror(rc));
      return rc;
    }
    if (f == 0 && job->keep_preview && r->before.img.data) {
      /* The preview shows frame 0: its new black, and no text under it. */
      for (size_t k = 0; k < n; k++) add_mark(r, add[k], MV_MARK_REDACTED);
      mv_view_free(&r->after);
      if (mv_render(&img, &r->after) != MV_OK) mv_view_free(&r->before);
    }
    rc = ops->release(job->doc, f, add, n, why, sizeof why);
    free(add);
    if (rc != MV_OK) {
      snprintf(r->reason, sizeof r->reason,
               "cannot store the redacted pixels: %s",
               why[0] ? why : mv_strerror(rc));
      return rc;
    }
    r->changed = 1;
  }
  return MV_OK;
}

int mv_pixels_clean(mv_pixels *px, const mv_pixel_job *job,
                    mv_pixel_result *r) {
  double t0 = now_ms();
  const mv_format_ops *ops = job->ops;
  r->ran = 1;
  px->nboxes = 0;
  if (!mv_format_has_pixels(ops)) {
    hold(r, "%s", "this format plugin cannot decode pixels");
    return MV_OK;
  }
  if (ops->drop_hidden_pixels) {
    uint32_t dropped = 0;
    int rc = ops->drop_hidden_pixels(job->doc, &dropped);
    if (rc != MV_OK && rc != MV_ENOTFOUND) {
      snprintf(r->reason, sizeof r->reason,
               "cannot remove hidden pixel payloads: %s", mv_strerror(rc));
      return rc;
    }
    r->hidden_removed = dropped;
  }
  mv_pixel_info info;
  memset(&info, 0, sizeof info);
  info.size = sizeof info;
  int rc = ops->pixel_info(job->doc, &info);
  if (rc == MV_ENOTFOUND) {
    r->cleaned = 1; /* nothing to clean */
    r->ms = now_ms() - t0;
    return MV_OK;
  }
  if (rc != MV_OK) {
    const char *ts = NULL;
    size_t tslen = 0;
    char syntax[72];
    if (info.syntax[0]) snprintf(syntax, sizeof syntax, "%s", info.syntax);
    else if (ops->get(job->doc, "(0002,0010)", &ts, &tslen) == MV_OK && ts)
      snprintf(syntax, sizeof syntax, "%.*s", (int)(tslen < 64 ? tslen : 64), ts);
    else
      snprintf(syntax, sizeof syntax, "not stated");
    hold(r, "pixel data cannot be decoded (transfer syntax %s)", syntax);
    r->ms = now_ms() - t0;
    return MV_OK;
  }
  frame_seen seen[64];
  size_t nseen = 0;
  mv_cine cine;
  mv_cine_begin(&cine, ops, job->doc,
                info.frames <= info.planes ? info.frames : 0);
  for (uint32_t plane = 0; plane < info.planes && rc == MV_OK; plane++) {
    mv_image img;
    memset(&img, 0, sizeof img);
    char why[512] = "";
    rc = ops->acquire(job->doc, plane, &img, why, sizeof why);
    if (rc != MV_OK) {
      hold(r, "a plane cannot be decoded: %s", why[0] ? why : mv_strerror(rc));
      rc = MV_OK;
      continue;
    }
    r->planes++;
    if (img.kind == MV_PLANE_FRAME && img.frame == 0)
      mv_cine_keep_frame0(&cine, &img); /* none kept: frames go on alone */
    rc = plane_pass(px, job, &info, plane, &img, seen, &nseen, &cine, r);
  }
  if (rc == MV_OK) rc = carry_overlays(px, job, &info, &cine, r);
  mv_cine_end(&cine);
  r->cleaned = rc == MV_OK && !r->review;
  r->ms = now_ms() - t0;
  if (rc != MV_OK && !r->reason[0])
    snprintf(r->reason, sizeof r->reason, "pixel stage failed: %s",
             mv_strerror(rc));
  return rc;
}

int mv_pixels_detect_only(mv_pixels *px, const mv_format_ops *ops,
                          mv_doc *doc, mv_box_sink sink, void *ud, char *err,
                          size_t errlen) {
  if (!mv_format_has_pixels(ops)) {
    snprintf(err, errlen, "this format plugin cannot decode pixels");
    return MV_EUNSUPPORTED;
  }
  mv_pixel_info info;
  memset(&info, 0, sizeof info);
  info.size = sizeof info;
  int rc = ops->pixel_info(doc, &info);
  if (rc != MV_OK) {
    snprintf(err, errlen, "%s", rc == MV_ENOTFOUND ? "no pixel data"
                                                   : "pixels cannot be decoded");
    return rc;
  }
  mv_pixel_job job = {.ops = ops, .doc = doc};
  for (uint32_t plane = 0; plane < info.planes; plane++) {
    mv_image img;
    memset(&img, 0, sizeof img);
    rc = ops->acquire(doc, plane, &img, err, errlen);
    if (rc != MV_OK) return rc;
    mv_view v;
    rc = mv_render(&img, &v);
    if (rc == MV_OK) {
      px->nboxes = 0;
      rc = run_detectors(px, &job, plane, &img, &v.img, NULL, 0, 0, err,
                         errlen);
      if (rc == MV_OK && px->textnet)
        rc = add_marked_lines(px, plane, 0, &v.img, NULL, 0);
      free(px->map);
      px->map = NULL;
      mv_view_free(&v);
    }
    ops->release(doc, plane, NULL, 0, NULL, 0);
    if (rc != MV_OK) return rc;
    for (size_t i = 0; i < px->nboxes; i++)
      if (sink(ud, &px->boxes[i])) return MV_OK;
  }
  return MV_OK;
}
