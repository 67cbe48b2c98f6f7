/* ocr_region.c - find and read the text in one rectangle of a grey plane.
 *
 * 1. Clip the rectangle and scale it: 2x when small (small fonts read
 *    better), down when its long side exceeds OCR_WORK_LONG_MAX.
 * 2. mode=lines (default): candidate lines from several layout passes
 *    (ocr_layout.c: the page, its stroke images, the strokes turned for
 *    vertical text); then every line is read on its own (ocr_line.c: own
 *    polarity, other orientations when tall or doubtful, word boxes grown
 *    to their ink); lines without a reading are reported UNREAD.
 *    mode=sparse: one PSM 11 recognition of the whole polarity-normalised
 *    padded page; lines that read well are kept, doubtful or tall ones and
 *    PSM 3 lines where nothing was read are re-read as in "lines".
 *    Measured on the corpus (README.md): same header-text recall; "lines"
 *    was 1.3-1.8x faster (US frames are full of doubtful junk lines that
 *    sparse reads twice).
 */
#include "ocr_internal.h"

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A sparse line reading at least this (ocr_read_score) is kept as read. */
#define OCR_GOOD_LINE 50.0

double ocr_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Read lines [from, n) of `lines` one by one; past the deadline or the
 * line limit they are reported UNREAD rather than dropped. */
static int read_lines(ocr_ctx *c, PIX *work, PIX *chroma, BOXA *lines,
                      l_int32 from, const ocr_xform *base, ocr_emitter *e,
                      double deadline, size_t *done) {
  int rc = MV_OK;
  l_int32 n = boxaGetCount(lines);
  for (l_int32 i = from; i < n && rc == MV_OK && !e->stopped; i++) {
    BOX *b = boxaGetBox(lines, i, L_CLONE);
    if (!b) continue;
    if (*done >= OCR_MAX_LINES || ocr_now_ms() > deadline)
      ocr_emit_unread_box(e, base, b->x, b->y, b->w, b->h);
    else
      rc = ocr_line_emit(c, work, chroma, b, base, e);
    (*done)++;
    boxDestroy(&b);
  }
  return rc;
}

static int run_lines(ocr_ctx *c, PIX *const *work, const ocr_xform *base,
                     ocr_emitter *e, double deadline) {
  BOXAA *glyphs = NULL;
  BOXA *lines = ocr_layout_lines(c, work, base->scale, deadline, &glyphs);
  if (!lines) return MV_ENOMEM;
  int rc = MV_OK;
  e->chains_known = 1;
  l_int32 nchains = glyphs ? boxaaGetCount(glyphs) : 0;
  /* The chains' extents, joined where they continue each other ("Dr. E."
   * and the name two advances further are one line for the core). */
  BOXA *ext = boxaCreate(nchains > 0 ? nchains : 1);
  for (l_int32 i = 0; ext && i < nchains; i++) {
    BOXA *g = boxaaGetBoxa(glyphs, i, L_CLONE);
    BOX *b = NULL;
    if (g && boxaGetExtent(g, NULL, NULL, &b) == 0 && b)
      boxaAddBox(ext, b, L_INSERT);
    boxaDestroy(&g);
  }
  if (ext) ocr_layout_join(ext);
  for (l_int32 i = 0; ext && i < boxaGetCount(ext) && rc == MV_OK; i++) {
    l_int32 x, y, w, h;
    mv_rect r;
    if (boxaGetBoxGeometry(ext, i, &x, &y, &w, &h) == 0 &&
        ocr_emit_map(base, x, y, x + w, y + h, &r))
      rc = ocr_emit_add_shaped(e, &r);
  }
  boxaDestroy(&ext);
  size_t done = 0;
  /* Coloured text over grey anatomy of its brightness reads as nothing in
   * luma ("Tel." in green on ultrasound speckle), and plainly in chroma. */
  PIX *chroma = ocr_pix_chroma(work + 1);
  if (rc == MV_OK)
    rc = read_lines(c, work[0], chroma, lines, 0, base, e, deadline, &done);
  pixDestroy(&chroma);
  /* Characters of the chains that no reading covered. */
  for (l_int32 i = 0; i < nchains && rc == MV_OK && !e->stopped; i++) {
    BOXA *g = boxaaGetBoxa(glyphs, i, L_CLONE);
    ocr_emit_uncovered(e, base, g);
    boxaDestroy(&g);
  }
  boxaaDestroy(&glyphs);
  boxaDestroy(&lines);
  return rc;
}

/* Summary of one line of a sparse reading. */
typedef struct line_sum {
  int x1, y1, x2, y2; /* union of its words, read-image coordinates */
  double conf_chars, chars;
} line_sum;

static int run_sparse(ocr_ctx *c, PIX *work, const ocr_xform *base,
                      ocr_emitter *e, double deadline) {
  ocr_xform t = *base;
  t.cw = pixGetWidth(work);
  t.ch = pixGetHeight(work);
  t.pad = OCR_PAD;
  PIX *norm = ocr_pix_normalise(work, ocr_pix_dark_background(work), OCR_PAD);
  if (!norm) return MV_ENOMEM;
  ocr_words w = {0}, keep = {0};
  line_sum *ls = NULL;
  BOXA *lines = boxaCreate(16);
  int rc = lines ? ocr_read(c->api, norm, PSM_SPARSE_TEXT, &w) : MV_ENOMEM;
  if (rc == MV_OK && w.lines > 0) {
    ls = calloc((size_t)w.lines, sizeof *ls);
    if (!ls) rc = MV_ENOMEM;
  }
  for (size_t i = 0; rc == MV_OK && i < w.n; i++) {
    const ocr_word *x = &w.v[i];
    line_sum *l = &ls[x->line];
    if (l->chars == 0) {
      l->x1 = x->x1, l->y1 = x->y1, l->x2 = x->x2, l->y2 = x->y2;
    } else {
      if (x->x1 < l->x1) l->x1 = x->x1;
      if (x->y1 < l->y1) l->y1 = x->y1;
      if (x->x2 > l->x2) l->x2 = x->x2;
      if (x->y2 > l->y2) l->y2 = x->y2;
    }
    double n = (double)strlen(x->text);
    l->conf_chars += x->conf * n;
    l->chars += n;
  }
  /* Good lines are kept; their boxes come first in `lines` so that the
   * re-read lines after them can be told apart. */
  l_int32 ngood = 0;
  for (int pass = 0; rc == MV_OK && pass < 2; pass++) {
    for (int li = 0; li < w.lines; li++) {
      const line_sum *l = &ls[li];
      if (l->chars == 0) continue;
      int bw = l->x2 - l->x1, bh = l->y2 - l->y1;
      int tall = bh > 2 * bw && bh >= 16;
      int good = !tall && l->conf_chars / l->chars >= OCR_GOOD_LINE;
      if (good != (pass == 0)) continue;
      /* A doubtful single character (a speck, a tick mark) is not worth a
       * second recognition; its word is emitted as read. */
      if (!good && !tall && l->chars < 2) continue;
      BOX *b = boxCreate(l->x1 - OCR_PAD, l->y1 - OCR_PAD, bw, bh);
      if (b) boxaAddBox(lines, b, L_INSERT);
      if (good) ngood++;
    }
  }
  for (size_t i = 0; rc == MV_OK && i < w.n; i++) {
    const line_sum *l = &ls[w.v[i].line];
    int bw = l->x2 - l->x1, bh = l->y2 - l->y1;
    int tall = bh > 2 * bw && bh >= 16;
    if (!tall && (l->conf_chars / l->chars >= OCR_GOOD_LINE || l->chars < 2))
      rc = ocr_words_push(&keep, &w.v[i]);
  }
  keep.lines = w.lines;
  if (rc == MV_OK) ocr_emit_words(e, &t, &keep, 0);
  /* Doubtful sparse lines are re-read one by one below; what full layout
   * finds where nothing was read is added after them. */
  if (rc == MV_OK && ocr_now_ms() < deadline)
    ocr_layout_pass(c, norm, PSM_AUTO, lines, pixGetWidth(work),
                    pixGetHeight(work));
  pixDestroy(&norm);
  size_t done = 0;
  if (rc == MV_OK)
    rc = read_lines(c, work, NULL, lines, ngood, base, e, deadline, &done);
  boxaDestroy(&lines);
  free(ls);
  ocr_words_free(&keep);
  ocr_words_free(&w);
  return rc;
}

/* Clip `pix` to `roi` and scale it by s (NULL when pix is NULL or on
 * failure). */
static PIX *clip_scaled(PIX *pix, const mv_rect *roi, double s) {
  if (!pix) return NULL;
  BOX *rb = boxCreate(roi->x, roi->y, roi->w, roi->h);
  PIX *clip = rb ? pixClipRectangle(pix, rb, NULL) : NULL;
  boxDestroy(&rb);
  if (!clip) return NULL;
  PIX *work = s == 1.0  ? pixClone(clip)
              : s > 1.0 ? pixScaleGrayLI(clip, (l_float32)s, (l_float32)s)
                        : pixScaleAreaMap(clip, (l_float32)s, (l_float32)s);
  pixDestroy(&clip);
  return work;
}

int ocr_region(ocr_ctx *c, PIX *const *planes, const mv_rect *roi,
               ocr_emitter *e, double deadline, char *err, size_t errlen) {
  PIX *grey = planes[0];
  int w = roi->w, h = roi->h;
  if (roi->x + w > pixGetWidth(grey)) w = pixGetWidth(grey) - roi->x;
  if (roi->y + h > pixGetHeight(grey)) h = pixGetHeight(grey) - roi->y;
  if (w <= 0 || h <= 0) return MV_OK; /* empty intersection */
  int lng = w > h ? w : h, sht = w < h ? w : h;
  double s = 1.0;
  if (lng > OCR_WORK_LONG_MAX)
    s = (double)OCR_WORK_LONG_MAX / lng;
  else if (c->opt.upscale && 2 * lng <= OCR_WORK_LONG_MAX &&
           (lng < OCR_UPSCALE_BELOW || sht < 100))
    s = 2.0; /* small images and thin text bands */
  PIX *work[OCR_PLANES] = {NULL};
  for (int i = 0; i < OCR_PLANES; i++) work[i] = clip_scaled(planes[i], roi, s);
  if (!work[0]) {
    ocr_set_err(err, errlen, "cannot scale a %dx%d region", w, h);
    return MV_ENOMEM;
  }
  ocr_xform base;
  memset(&base, 0, sizeof base);
  base.scale = s;
  base.ox = roi->x;
  base.oy = roi->y;
  base.plane_w = pixGetWidth(grey);
  base.plane_h = pixGetHeight(grey);
  int rc = c->opt.mode == OCR_MODE_LINES
               ? run_lines(c, work, &base, e, deadline)
               : run_sparse(c, work[0], &base, e, deadline);
  for (int i = 0; i < OCR_PLANES; i++) pixDestroy(&work[i]);
  if (rc == MV_EPLUGIN) ocr_set_err(err, errlen, "tesseract recognition failed");
  else if (rc == MV_ENOMEM) ocr_set_err(err, errlen, "out of memory during OCR");
  return rc;
}
