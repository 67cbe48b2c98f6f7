/* ocr_layout.c - candidate text lines of a work image, from several layout
 * passes (tesseract layout analysis only, no recognition).
 *
 * One pass on the polarity-normalised page misses much burned-in text:
 * tesseract binarises with one global threshold, so light text over grey
 * anatomy, or dark text on a bright banner inside a dark frame, merges with
 * its background; and vertical text comes back one character per "line".
 * So the page is also analysed as stroke images (top-hats: strokes darker,
 * or lighter, than their surroundings) and turned by a quarter turn.
 * Lines from later passes are added where earlier ones found nothing, or
 * replace the fragments (pieces of one line, single characters of a
 * vertical line) that they contain. "Lines" too thick to be text (layout
 * taking a picture for a block) are dropped. Side by side pieces of one row are
 * joined at the end: the core redacts whole lines, and a word split between
 * two clips is read badly or not at all.
 */
#include "ocr_internal.h"

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>


/* A new line is added when less than this percentage of it is covered by
 * lines already found (a block spanning several known lines would read
 * them all again: slow, and nothing new). */
#define OCR_NEW_LINE_COVER 15
/* Join only this many lines pairwise (quadratic; more is hostile input). */
#define OCR_JOIN_MAX 600
/* Contrast (grey levels) of the strokes laid out: lower than the ink of
 * ocr_line.c (24) for faint text over anatomy; the share cap of
 * ocr_pix_strokes raises it on textured images anyway. 16 against 24:
 * +2 points of identifying boxes found on 60 files, and junk that the
 * too_big rules below more than pay for. */
#define OCR_LAYOUT_CONTRAST 16
/* Contrast of the strokes that extend a chain of characters at its ends
 * (ocr_cc_grow): faint ends of a line over shaded ground. */
#define OCR_WEAK_CONTRAST 8
/* Lines thicker than this (native pixels) are not text (see too_big). */
#define OCR_MAX_ACROSS 64.0

static long overlap(const BOX *a, const BOX *b) {
  long x1 = a->x > b->x ? a->x : b->x, y1 = a->y > b->y ? a->y : b->y;
  long x2 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
  long y2 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
  return (x2 > x1 && y2 > y1) ? (x2 - x1) * (y2 - y1) : 0;
}

int ocr_layout_tall(int w, int h) { return h > 2 * w && h >= 16; }

/* Thickness of `b` across the direction of line `ref` (height of a
 * horizontal line, width of a vertical one). */
static int across(const BOX *b, int ref_tall) { return ref_tall ? b->w : b->h; }

/* Offer line nb (work coordinates) to `all`; takes ownership of nb. The
 * first `fixed` lines of `all` (chains of characters) are never replaced:
 * a layout line holding one is a block of text and picture. */
static void offer(BOXA *all, BOX *nb, l_int32 fixed) {
  l_int32 have = boxaGetCount(all);
  long area = (long)nb->w * nb->h, cov = 0, inside_area = 0;
  int tall = ocr_layout_tall(nb->w, nb->h), thick = 0, fragments = 1, n = 0;
  for (l_int32 j = 0; j < have; j++) {
    BOX *o = boxaGetBox(all, j, L_CLONE);
    if (!o) continue;
    long ov = overlap(nb, o);
    if (ov > 0) {
      cov += ov;
      n++;
      long oa = (long)o->w * o->h;
      /* A fragment lies mostly inside nb and runs along it. */
      int crosses = tall ? o->w > 2 * o->h : ocr_layout_tall(o->w, o->h);
      if (ov * 10 < oa * 6 || crosses) fragments = 0;
      if (across(o, tall) > thick) thick = across(o, tall);
      inside_area += oa;
    }
    boxDestroy(&o);
  }
  if (cov * 100 < area * OCR_NEW_LINE_COVER) {
    boxaAddBox(all, nb, L_INSERT);
    return;
  }
  /* Replace fragments by the line holding them: same row (not a block of
   * several rows), and clearly more than the pieces. */
  for (l_int32 j = 0; j < fixed && fragments; j++) {
    BOX *o = boxaGetBox(all, j, L_CLONE);
    if (o && overlap(nb, o) > 0) fragments = 0;
    boxDestroy(&o);
  }
  if (fragments && n > 0 && 10 * across(nb, tall) <= 18 * thick &&
      inside_area * 100 <= area * 85) {
    for (l_int32 j = have - 1; j >= 0; j--) {
      BOX *o = boxaGetBox(all, j, L_CLONE);
      if (!o) continue;
      long ov = overlap(nb, o);
      boxDestroy(&o);
      if (ov > 0) boxaRemoveBox(all, j);
    }
    boxaAddBox(all, nb, L_INSERT);
    return;
  }
  boxDestroy(&nb);
}

/* Strokes counted in `b` grown by `g` (work coordinates; `st` is padded). */
static long strokes_in(PIX *st, const BOX *b, int g, long *area) {
  BOX *r = boxCreate(b->x + OCR_PAD - g, b->y + OCR_PAD - g, b->w + 2 * g,
                     b->h + 2 * g);
  BOX *in = NULL;
  l_int32 n = 0;
  if (r) in = boxClipToRectangle(r, pixGetWidth(st), pixGetHeight(st));
  if (in) pixCountPixelsInRect(st, in, &n, NULL);
  *area = in ? (long)in->w * in->h : 0;
  boxDestroy(&in);
  boxDestroy(&r);
  return n;
}

/* A line found in a stroke image must stand out from its surroundings:
 * strokes inside, few in the ring around it. Texture (ultrasound speckle,
 * photographs) gives stroke images full of "lines" that would each cost a
 * recognition and read as junk. With `ring` 0 (a line found on the page,
 * checked against its strokes) only the strokes inside are required. */
static int stands_out(PIX *st, const BOX *b, int min_thick, int ring) {
  int thick = ocr_layout_tall(b->w, b->h) ? b->w : b->h;
  if (thick < min_thick) return 0; /* elongated speckle, not a text row */
  int g = thick / 2 + 2;
  long a_in, a_out;
  long n_in = strokes_in(st, b, 0, &a_in), n_out = strokes_in(st, b, g, &a_out);
  if (a_in <= 0 || a_out <= a_in) return 1;
  double d_in = (double)n_in / a_in;
  double d_ring = (double)(n_out - n_in) / (a_out - a_in);
  if (!ring) return d_in >= 0.03;
  return d_in >= 0.03 && d_ring * OCR_STROKE_RING <= d_in &&
         d_ring <= OCR_STROKE_RING_MAX;
}

/* A "line" thicker than two rows of the largest burned-in fonts, or a
 * thick one covering a good part of the page, is layout taking a picture
 * for text. Reading it costs a block recognition that returns junk spread
 * over the anatomy, and it would shadow the real lines inside it (later
 * lines are added only where little is covered yet). */
static int too_big(int bw, int bh, int w, int h, double scale) {
  if (scale <= 0) return 0; /* not checked */
  double across = (ocr_layout_tall(bw, bh) ? bw : bh) / scale;
  if (across > OCR_MAX_ACROSS) return 1;
  return across > OCR_MAX_ACROSS / 2 && (double)bw * bh > 0.05 * w * h;
}

/* Layout lines of `pix` (padded by OCR_PAD, turned clockwise by `quads`
 * 0 or 1 from the work image of size w x h) offered to `all`. With
 * `check`, lines must stand out in it (see stands_out); `scale` (work
 * pixels per native pixel, 0: no check) drops lines too thick for text. */
static void pass(ocr_ctx *c, PIX *pix, int psm, int quads, BOXA *all, int w,
                 int h, PIX *check, int min_thick, int ring, double scale,
                 l_int32 fixed) {
  BOXA *found = ocr_read_layout(c->api, pix, psm);
  if (!found) return;
  int ph = h + 2 * OCR_PAD; /* height of the unturned padded image */
  l_int32 n = boxaGetCount(found);
  for (l_int32 i = 0; i < n; i++) {
    BOX *b = boxaGetBox(found, i, L_CLONE);
    if (!b) continue;
    l_int32 x1 = b->x, y1 = b->y, bw = b->w, bh = b->h;
    boxDestroy(&b);
    if (quads == 1) { /* (u,v) turned -> (v, ph-1-u) */
      l_int32 nx = y1, ny = ph - (x1 + bw);
      x1 = nx, y1 = ny;
      l_int32 t = bw;
      bw = bh, bh = t;
    }
    x1 -= OCR_PAD, y1 -= OCR_PAD;
    l_int32 x2 = x1 + bw, y2 = y1 + bh;
    if (x1 < 0) x1 = 0;
    if (y1 < 0) y1 = 0;
    if (x2 > w) x2 = w;
    if (y2 > h) y2 = h;
    if (x2 <= x1 || y2 <= y1) continue;
    /* The turned pass is for vertical lines; what is not tall once turned
     * back is horizontal text (or speckle) that the other passes saw. */
    if (quads == 1 && !ocr_layout_tall(x2 - x1, y2 - y1)) continue;
    if (too_big(x2 - x1, y2 - y1, w, h, scale)) continue;
    BOX *nb = boxCreate(x1, y1, x2 - x1, y2 - y1);
    if (nb && check && !stands_out(check, nb, min_thick, ring)) boxDestroy(&nb);
    if (nb) offer(all, nb, fixed);
  }
  boxaDestroy(&found);
}

void ocr_layout_pass(ocr_ctx *c, PIX *norm, int psm, BOXA *all, int w,
                     int h) {
  pass(c, norm, psm, 0, all, w, h, NULL, 0, 0, 0, 0);
}

/* Two lines that continue each other along one row (or column). */
static int continues(const BOX *a, const BOX *b) {
  int ta = ocr_layout_tall(a->w, a->h), tb = ocr_layout_tall(b->w, b->h);
  if (ta != tb) return 0;
  /* In the line's own frame: s = along, t = across. */
  long as = ta ? a->y : a->x, al = ta ? a->h : a->w;
  long at = ta ? a->x : a->y, ath = ta ? a->w : a->h;
  long bs = ta ? b->y : b->x, bl = ta ? b->h : b->w;
  long bt = ta ? b->x : b->y, bth = ta ? b->w : b->h;
  long lo = ath < bth ? ath : bth, hi = ath > bth ? ath : bth;
  if (lo <= 0 || 10 * hi > 16 * lo) return 0; /* other font sizes */
  long o1 = at > bt ? at : bt, o2 = at + ath < bt + bth ? at + ath : bt + bth;
  if (10 * (o2 - o1) < 6 * lo) return 0; /* not the same row */
  /* Up to two heights: monospaced fonts put ". " (two advances) between
   * "E." and a name at 30 px, and the pieces are then read apart. */
  long gap = as < bs ? bs - (as + al) : as - (bs + bl);
  return gap <= 2 * hi;
}

void ocr_layout_join(BOXA *all) {
  if (boxaGetCount(all) > OCR_JOIN_MAX) return;
  /* Sweeps until nothing joins; a sweep grows each line by all the lines
   * continuing it (a few sweeps at most, each quadratic). */
  for (int merged = 1, sweeps = 0; merged && sweeps < 8; sweeps++) {
    merged = 0;
    for (l_int32 i = 0; i < boxaGetCount(all); i++) {
      BOX *a = boxaGetBox(all, i, L_COPY);
      for (l_int32 j = i + 1; a && j < boxaGetCount(all);) {
        BOX *b = boxaGetBox(all, j, L_CLONE);
        BOX *u = b && continues(a, b) ? boxBoundingRegion(a, b) : NULL;
        boxDestroy(&b);
        if (!u) {
          j++;
          continue;
        }
        boxDestroy(&a);
        a = u;
        boxaReplaceBox(all, i, boxCopy(u));
        boxaRemoveBox(all, j);
        merged = 1;
      }
      boxDestroy(&a);
    }
  }
}

/* Chains of characters in `norm` (one grey image of the work image,
 * normalised and padded), darker (st[0]) and lighter (st[1]) than their
 * surroundings, offered to `all`; their characters go to `glyphs`. */
static void chains(PIX *norm, PIX *const *st, double scale, int w, int h,
                   BOXA *all, BOXAA *glyphs) {
  PIX *weak[2] = {NULL, NULL}; /* made when a chain needs them */
  for (int d = 0; d < 2; d++) {
    BOXAA *g = boxaaCreate(16);
    BOXA *cl = g && st[d] ? ocr_cc_lines(st[d], OCR_PAD, scale, g) : NULL;
    /* Grown over the faint strokes of its own polarity, then of the other:
     * a line running from a dark part of a banner onto a lighter one is
     * lighter than its ground at one end and darker at the other; then
     * over pixels of its own ink level. Each step takes the chains' levels
     * as grown so far: the characters a step adds refine them (measured
     * once before all steps, seed 3 lost a box). */
    for (int k = 0; cl && boxaGetCount(cl) && k < 2; k++) {
      int pol = k == 0 ? d : 1 - d;
      if (!weak[pol])
        weak[pol] = ocr_pix_strokes(norm, pol == 0, OCR_STROKE_SIZE,
                                    OCR_WEAK_CONTRAST, 0);
      ocr_cc_level *lv = ocr_cc_levels(cl, g, norm, st[d], OCR_PAD);
      ocr_cc_grow(cl, g, weak[pol], norm, lv, OCR_PAD, k == 1);
      free(lv);
    }
    ocr_cc_level *lv = cl ? ocr_cc_levels(cl, g, norm, st[d], OCR_PAD) : NULL;
    ocr_cc_grow_level(cl, g, norm, lv, OCR_PAD);
    free(lv);
    for (l_int32 i = 0; cl && i < boxaGetCount(cl); i++) {
      BOX *b = boxaGetBox(cl, i, L_COPY);
      if (b && too_big(b->w, b->h, w, h, scale)) boxDestroy(&b);
      if (!b) continue;
      offer(all, b, 0);
      if (glyphs) boxaaAddBoxa(glyphs, boxaaGetBoxa(g, i, L_COPY), L_INSERT);
    }
    boxaDestroy(&cl);
    boxaaDestroy(&g);
  }
  pixDestroy(&weak[0]);
  pixDestroy(&weak[1]);
}

static PIX *strokes_of(PIX *norm, int dark) {
  return ocr_pix_strokes(norm, dark, OCR_STROKE_SIZE, OCR_LAYOUT_CONTRAST,
                         OCR_STROKE_SHARE);
}

BOXA *ocr_layout_lines(ocr_ctx *c, PIX *const *planes, double scale,
                       double deadline, BOXAA **glyphs) {
  *glyphs = boxaaCreate(16);
  PIX *work = planes[0];
  int w = pixGetWidth(work), h = pixGetHeight(work);
  /* Rows of the smallest text kept (OCR_MIN_ROW native pixels). */
  int min_thick = (int)(OCR_MIN_ROW * scale);
  BOXA *all = boxaCreate(16);
  PIX *norm = ocr_pix_normalise(work, ocr_pix_dark_background(work), OCR_PAD);
  if (!all || !norm) {
    boxaDestroy(&all);
    pixDestroy(&norm);
    return NULL;
  }
  /* 0. Rows and columns of character-sized strokes (ocr_cc.c), darker,
   *    then lighter, than their surroundings: first, so that the layout
   *    passes below only add what they find elsewhere. Then the same in
   *    each colour channel: grey text on yellow has almost the luma of
   *    its ground, but not its blue. */
  PIX *st[2] = {strokes_of(norm, 1), strokes_of(norm, 0)}; /* dark, light */
  chains(norm, st, scale, w, h, all, *glyphs);
  for (int i = 1; i < OCR_PLANES; i++) {
    if (!planes[i]) continue;
    PIX *cn = ocr_pix_normalise(planes[i], ocr_pix_dark_background(planes[i]),
                                OCR_PAD);
    PIX *cst[2] = {cn ? strokes_of(cn, 1) : NULL, cn ? strokes_of(cn, 0) : NULL};
    if (cn) chains(cn, cst, scale, w, h, all, *glyphs);
    pixDestroy(&cst[0]);
    pixDestroy(&cst[1]);
    pixDestroy(&cn);
  }
  l_int32 fixed = boxaGetCount(all);
  if (c->opt.layout == OCR_LAYOUT_CHAINS) {
    pixDestroy(&st[0]);
    pixDestroy(&st[1]);
    pixDestroy(&norm);
    ocr_layout_join(all);
    return all;
  }
  /* 1. Layout of the stroke images: text over anatomy, and text of the
   *    other polarity (a banner). */
  for (int d = 0; d < 2 && ocr_now_ms() < deadline; d++)
    if (st[d])
      pass(c, st[d], PSM_SPARSE_TEXT, 0, all, w, h, st[d], min_thick, 1, scale,
           fixed);
  PIX *dark = st[0];
  pixDestroy(&st[1]);
  /* 2. Vertical text: the dark strokes (text, once normalised) turned by a
   *    quarter; either reading direction gives the same lines. */
  if (dark && ocr_now_ms() < deadline) {
    PIX *turned = pixRotateOrth(dark, 1);
    if (turned)
      pass(c, turned, PSM_SPARSE_TEXT, 1, all, w, h, dark, min_thick, 1, scale,
           fixed);
    pixDestroy(&turned);
  }
  /* 3. Sparse layout of the page finds the scattered short lines of
   *    ultrasound screens. It comes after the stroke passes: where its
   *    polarity guess is wrong, or it takes a picture for a block, its
   *    lines would shadow the clean ones of the strokes (measured: +1.5
   *    points found on 60 files). */
  pass(c, norm, PSM_SPARSE_TEXT, 0, all, w, h, NULL, 0, 0, scale, fixed);
  /* 4. Vertical text on the page itself (clean grounds, where the stroke
   *    image holds only the outlines of thick glyphs): +2 points of
   *    vertical boxes found. Its lines need strokes inside but no clean
   *    ring (text on a busy ground is what it is for). */
  if (dark && ocr_now_ms() < deadline) {
    PIX *turned = pixRotateOrth(norm, 1);
    if (turned)
      pass(c, turned, PSM_SPARSE_TEXT, 1, all, w, h, dark, min_thick, 0, scale,
           fixed);
    pixDestroy(&turned);
  }
  pixDestroy(&dark);
  pixDestroy(&norm);
  ocr_layout_join(all);
  return all;
}
