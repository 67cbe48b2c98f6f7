/* ocr_line.c - read one text line clip, in whichever orientation reads best.
 *
 * The clip is normalised on its own (a light bar with dark text inside a
 * dark frame gets its own polarity), doubled when thin (small fonts),
 * padded, and read as a single block (layout "lines" are sometimes two
 * rows, which single-line mode garbles). Word boxes are then grown over
 * the ink of their words, and the gaps between words of a row closed. */
#include "ocr_internal.h"

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#include <stdlib.h>
#include <string.h>

/* Below this score a horizontal line is also tried upside down. */
#define OCR_DOUBTFUL_SCORE 35.0
/* An upside-down reading replaces a doubtful upright one only when it
 * scores at least this, and this much more: garbage turned over can score
 * higher than garbage upright (measured on US1: 71 against 33). */
#define OCR_TURN_MIN_SCORE 80.0
#define OCR_TURN_MARGIN 15.0
/* On a colour image, a line reading below this score (ocr_read_score: 100
 * and a little for a long, sure reading) is read again in chroma, and that
 * reading replaces it when it scores this much more, and at least
 * OCR_COLOUR_SURE: colour flow read in chroma is junk too, and taking it
 * over a luma reading of grey text lost boxes (seeds 1/7: 2 each). */
#define OCR_COLOUR_RETRY 100.0
#define OCR_COLOUR_MARGIN 10.0
#define OCR_COLOUR_SURE 70.0
/* Lines thinner than this (work pixels) are read at twice the size. */
#define OCR_SMALL_LINE 28
/* Word boxes are grown over at most this many ink components per line. */
#define OCR_GROW_MAX_CC 1500

static size_t text_chars(const ocr_words *w) {
  size_t n = 0;
  for (size_t i = 0; i < w->n; i++) n += strlen(w->v[i].text);
  return n;
}

/* Read `norm` (normalised, padded) turned clockwise by `quads`. */
static int read_turned(ocr_ctx *c, PIX *norm, int quads, ocr_words *out) {
  PIX *p = quads ? pixRotateOrth(norm, quads) : pixClone(norm);
  if (!p) return MV_ENOMEM;
  int rc = ocr_read(c->api, p, PSM_SINGLE_BLOCK, out);
  pixDestroy(&p);
  return rc;
}

/* Read `norm` turned by `quads`; the reading replaces *best when its score
 * reaches `min_score` and beats *best_s by more than `margin`. */
static int try_turn(ocr_ctx *c, PIX *norm, int quads, double min_score,
                    double margin, ocr_words *best, int *best_q,
                    double *best_s) {
  ocr_words cand = {0};
  int rc = read_turned(c, norm, quads, &cand);
  double s = ocr_read_score(&cand);
  if (rc == MV_OK && s >= min_score && s > *best_s + margin) {
    ocr_words tmp = *best;
    *best = cand;
    cand = tmp;
    *best_q = quads;
    *best_s = s;
  }
  ocr_words_free(&cand);
  return rc;
}

/* 1 when the centre of (bx,by,bw,bh) lies in a word of `w` other than i,
 * as read (a component of a neighbouring word is not taken over). */
static int in_other_word(const ocr_words *w, const int *orig, size_t i, int bx,
                         int by, int bw, int bh) {
  int cx = bx + bw / 2, cy = by + bh / 2;
  for (size_t k = 0; k < w->n; k++) {
    const int *o = orig + 4 * k;
    if (k != i && cx >= o[0] && cx < o[2] && cy >= o[1] && cy < o[3])
      return 1;
  }
  return 0;
}

/* Components of `ink` (1 bpp, read-image coordinates) that belong to a
 * word are added to its box: layout clips and tesseract's word boxes can
 * stop short of a word's ink ("N^JOHN" of "HENDERSON^JOHN"), and the core
 * redacts only what the boxes cover. A component belongs when it overlaps
 * the box, or continues it along its row within half a word height, and is
 * no taller than a character of the word. */
static void grow_words(ocr_words *w, PIX *ink) {
  BOXA *cc = ink ? pixConnCompBB(ink, 8) : NULL;
  int *orig = cc && w->n ? malloc(w->n * 4 * sizeof *orig) : NULL;
  if (!orig) {
    boxaDestroy(&cc);
    return; /* no memory: the boxes stay as read */
  }
  for (size_t i = 0; i < w->n; i++) {
    orig[4 * i] = w->v[i].x1, orig[4 * i + 1] = w->v[i].y1;
    orig[4 * i + 2] = w->v[i].x2, orig[4 * i + 3] = w->v[i].y2;
  }
  l_int32 n = boxaGetCount(cc);
  /* A clip of pure texture has thousands of components: no text to grow. */
  if (n > OCR_GROW_MAX_CC) n = 0;
  for (size_t i = 0; i < w->n; i++) {
    ocr_word *x = &w->v[i];
    int wh = x->y2 - x->y1;
    if (wh <= 0) continue;
    for (int grew = 1, rounds = 0; grew && rounds < 16; rounds++) {
      grew = 0;
      for (l_int32 k = 0; k < n; k++) {
        l_int32 bx, by, bw, bh;
        if (boxaGetBoxGeometry(cc, k, &bx, &by, &bw, &bh)) continue;
        if (bh * 2 > wh * 3 + 4) continue; /* not a character of this word */
        int x2 = bx + bw, y2 = by + bh;
        if (bx >= x->x1 && by >= x->y1 && x2 <= x->x2 && y2 <= x->y2)
          continue; /* inside already */
        int oy = (y2 < x->y2 ? y2 : x->y2) - (by > x->y1 ? by : x->y1);
        int minh = bh < wh ? bh : wh;
        if (2 * oy < minh) continue; /* another row */
        int gap = bx >= x->x2 ? bx - x->x2 : x->x1 >= x2 ? x->x1 - x2 : 0;
        if (2 * gap > wh || in_other_word(w, orig, i, bx, by, bw, bh)) continue;
        if (bx < x->x1) x->x1 = bx;
        if (x2 > x->x2) x->x2 = x2;
        if (by < x->y1) x->y1 = by;
        if (y2 > x->y2) x->y2 = y2;
        grew = 1;
      }
    }
  }
  boxaDestroy(&cc);
  free(orig);
  /* Close the gaps between neighbouring words of a row (up to 1.5 word
   * heights: monospaced fonts space widely): the row is then covered whole
   * even where the core does not join the words of a line. */
  for (size_t i = 0; i < 2 * w->n; i++) { /* twice: bands reach a row's end */
    ocr_word *a = &w->v[i % w->n];
    ocr_word *next = NULL;
    for (size_t k = 0; k < w->n; k++) {
      ocr_word *b = &w->v[k];
      if (b == a || b->line != a->line || b->x1 < a->x2) continue;
      int oy = (a->y2 < b->y2 ? a->y2 : b->y2) - (a->y1 > b->y1 ? a->y1 : b->y1);
      int ha = a->y2 - a->y1, hb = b->y2 - b->y1;
      if (2 * oy < (ha < hb ? ha : hb)) continue;
      if (2 * (b->x1 - a->x2) > 3 * (ha > hb ? ha : hb)) continue;
      if (!next || b->x1 < next->x1) next = b;
    }
    if (next) {
      a->x2 = next->x1;
      /* One band for the row: the union of the boxes has no notches. */
      int y1 = a->y1 < next->y1 ? a->y1 : next->y1;
      int y2 = a->y2 > next->y2 ? a->y2 : next->y2;
      a->y1 = next->y1 = y1;
      a->y2 = next->y2 = y2;
    }
  }
}

int ocr_line_read(ocr_ctx *c, PIX *work, const BOX *lb, const ocr_xform *base,
                  ocr_words *out, ocr_xform *t, double *score) {
  *score = -1;
  *t = *base;
  /* Margin: layout boxes cut off ascenders. A sixth of a row's height; a
   * third of a vertical line's width (a sixth of its length took in the
   * anatomy beside it; a sixth of its width cut glyphs off: measured). */
  int m = ocr_layout_tall(lb->w, lb->h) ? 3 + lb->w / 3 : 3 + lb->h / 6;
  BOX *want = boxCreate(lb->x - m, lb->y - m, lb->w + 2 * m, lb->h + 2 * m);
  if (!want) return MV_ENOMEM;
  BOX *got = NULL;
  PIX *clip = pixClipRectangle(work, want, &got);
  boxDestroy(&want);
  if (!clip || !got) {
    pixDestroy(&clip);
    boxDestroy(&got);
    return MV_OK; /* outside the image: nothing to read */
  }
  t->cx = got->x;
  t->cy = got->y;
  boxDestroy(&got);
  /* Small text reads better larger: lines thinner than OCR_SMALL_LINE work
   * pixels are doubled (the work image may already be). */
  int tall = ocr_layout_tall(lb->w, lb->h);
  int thick = tall ? lb->w : lb->h;
  t->lscale = 1;
  if (c->opt.upscale && thick < OCR_SMALL_LINE) {
    PIX *big = pixScaleGrayLI(clip, 2.0f, 2.0f);
    if (big) {
      pixDestroy(&clip);
      clip = big;
      t->lscale = 2;
    }
  }
  t->cw = pixGetWidth(clip);
  t->ch = pixGetHeight(clip);
  t->pad = OCR_LINE_PAD;
  PIX *norm = ocr_pix_normalise(clip, ocr_pix_dark_background(clip),
                                OCR_LINE_PAD);
  pixDestroy(&clip);
  if (!norm) return MV_ENOMEM;
  /* Strokes darker than their surroundings (text, after normalising): the
   * ink of the words. (Reading this image when the grey one reads badly
   * was measured: no gain, 15% slower.) */
  PIX *ink = ocr_pix_strokes(norm, 1, OCR_STROKE_SIZE * (int)t->lscale,
                             OCR_STROKE_CONTRAST, 0);

  /* Vertical text: layout returns a tall, thin line; it reads either way
   * up, so both quarter turns are tried and the better one wins. A
   * horizontal line is tried upside down only when it read as several
   * doubtful characters (specks and rulers read as one or none). */
  int q = tall ? 1 : 0;
  int rc = read_turned(c, norm, q, out);
  double s = ocr_read_score(out);
  if (rc == MV_OK && c->opt.rotate) {
    if (tall) {
      rc = try_turn(c, norm, 3, 0, 0, out, &q, &s);
      if (rc == MV_OK && s < OCR_DOUBTFUL_SCORE) /* a lone "1" or "I" */
        rc = try_turn(c, norm, 0, 0, 0, out, &q, &s);
    } else if (s < OCR_DOUBTFUL_SCORE && text_chars(out) >= 3) {
      rc = try_turn(c, norm, 2, OCR_TURN_MIN_SCORE, OCR_TURN_MARGIN, out, &q,
                    &s);
    }
  }
  if (rc == MV_OK && ink && out->n) {
    PIX *turned = q ? pixRotateOrth(ink, q) : pixClone(ink);
    grow_words(out, turned);
    pixDestroy(&turned);
  }
  pixDestroy(&ink);
  pixDestroy(&norm);
  t->quads = q;
  *score = s;
  return rc;
}

int ocr_line_emit(ocr_ctx *c, PIX *work, PIX *chroma, const BOX *lb,
                  const ocr_xform *base, ocr_emitter *e) {
  ocr_words w = {0};
  ocr_xform t;
  double s;
  int rc = ocr_line_read(c, work, lb, base, &w, &t, &s);
  if (rc == MV_OK && chroma && s < OCR_COLOUR_RETRY) {
    ocr_words cw = {0};
    ocr_xform ct;
    double cs;
    rc = ocr_line_read(c, chroma, lb, base, &cw, &ct, &cs);
    if (rc == MV_OK && cs > s + OCR_COLOUR_MARGIN && cs >= OCR_COLOUR_SURE) {
      ocr_words tmp = w;
      w = cw;
      cw = tmp;
      t = ct;
      s = cs;
    }
    ocr_words_free(&cw);
  }
  mv_rect nr;
  int chained = ocr_emit_map(base, lb->x, lb->y, lb->x + lb->w, lb->y + lb->h,
                             &nr) && ocr_emit_in_chains(e, &nr);
  if (rc == MV_OK && e->chains_known && !chained) {
    /* A line only layout analysis saw (no chain of characters under it):
     * its reading must be sure to count, and silence is not text. */
    size_t k = 0;
    for (size_t i = 0; i < w.n; i++)
      if (w.v[i].conf >= OCR_LAYOUT_SURE) w.v[k++] = w.v[i];
    w.n = k;
    if (w.n) ocr_emit_words(e, &t, &w, t.quads != 0);
  } else if (rc == MV_OK) {
    /* A line whose words were all dropped (specks, blocks) is still a
     * line: it is reported unread and the core judges it. */
    size_t before = e->emitted;
    if (w.n) ocr_emit_words(e, &t, &w, t.quads != 0);
    if (e->emitted == before)
      ocr_emit_unread_box(e, base, lb->x, lb->y, lb->w, lb->h);
  }
  ocr_words_free(&w);
  return rc;
}
