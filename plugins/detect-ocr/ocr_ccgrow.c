/* ocr_ccgrow.c - grow chains of characters (ocr_cc.c) along their line.
 *
 * A chain is found from its clearest characters; the rest of its line is
 * often fainter, on another ground, or touching texture, and a stroke
 * threshold cuts it off ("Dr. E." above "LINDQVIST" on speckle, two
 * advances away in a monospaced font). Two ways to find it:
 * components of a weaker stroke image (ocr_cc_grow), and pixels of the
 * chain's own ink level (ocr_cc_grow_level): text is drawn in one colour,
 * whatever lies behind it.
 */
#include "ocr_internal.h"

#include <leptonica/allheaders.h>

#include <stdlib.h>

/* Weak components beyond this are texture: lines are not grown. */
#define CC_GROW_MAX 60000
/* Ink-level growth: the chain must stand this far (grey levels) from its
 * ground. Its components must be of the line's height (Doppler colour and
 * bright tissue share the level of light text), and under LEVEL_SURE
 * within one thickness rather than two (texture answers a faint level
 * too). */
#define LEVEL_MIN 24
#define LEVEL_SURE 48
/* ... and stand out from its ground by this many times the ground's own
 * spread: a "chain" in colour Doppler or bright tissue has a ground as
 * varied as its ink, and its level is everywhere around it. */
#define LEVEL_CLEAR 4
/* Pixels sampled for the ink and ground levels of a chain. */
#define LEVEL_SAMPLES 4096

/* Components taken only at the line's ink level: the median grey (in
 * `norm`) of a component's pixels (in `mask`, the image it came from, same
 * coordinates as its box) within `tol` of `ink`. */
typedef struct level_filter {
  PIX *norm, *mask;
  int ink, tol;
} level_filter;

static int cmp_int(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

/* Median of v[0..n) (sorted in place); -1 when empty. */
static int median(int *v, int n) {
  if (n <= 0) return -1;
  qsort(v, (size_t)n, sizeof *v, cmp_int);
  return v[n / 2];
}

static int at_level(const level_filter *lf, l_int32 x, l_int32 y, l_int32 w,
                    l_int32 h) {
  int W = pixGetWidth(lf->mask), H = pixGetHeight(lf->mask);
  l_uint32 *md = pixGetData(lf->mask), *nd = pixGetData(lf->norm);
  l_int32 mw = pixGetWpl(lf->mask), nw = pixGetWpl(lf->norm);
  int *v = malloc(LEVEL_SAMPLES * sizeof *v), n = 0;
  if (!v) return 1; /* cannot judge: as without the filter */
  for (int yy = y < 0 ? 0 : y; yy < y + h && yy < H; yy++)
    for (int xx = x < 0 ? 0 : x; xx < x + w && xx < W && n < LEVEL_SAMPLES; xx++)
      if (GET_DATA_BIT(md + yy * mw, xx))
        v[n++] = GET_DATA_BYTE(nd + yy * nw, xx);
  int m = median(v, n);
  free(v);
  return m >= 0 && abs(m - lf->ink) <= lf->tol;
}

/* How strictly grow_one picks components by size. */
enum {
  GROW_ANY = 0,       /* character-sized */
  GROW_HEIGHT = 1,    /* of about the line's height (0.6-1.3 thicknesses) */
  GROW_NO_BIGGER = 2  /* at most 1.3 thicknesses across, 2 along */
};

/* Grow line `li` of `lines` over the components `cc` (boxes offset by dx,
 * dy into line coordinates) within `gaps` thicknesses of its ends; `size`
 * (GROW_*) picks them by size; with `lf`, only those at the
 * line's ink level. `near` is scratch for as many ints as cc has boxes. */
static void grow_one(BOXA *lines, l_int32 li, BOXAA *glyphs, BOXA *cc, int dx,
                     int dy, int size, int gaps, const level_filter *lf,
                     int *near) {
  l_int32 n = boxaGetCount(cc);
  l_int32 lx, ly, lw, lh;
  if (boxaGetBoxGeometry(lines, li, &lx, &ly, &lw, &lh)) return;
  int vertical = ocr_layout_tall(lw, lh);
  int t0 = vertical ? lx : ly, thick = vertical ? lw : lh;
  int s0 = vertical ? ly : lx, len = vertical ? lh : lw;
  /* Candidates: in the band of the line, no thicker than it, and within
   * reach of its ends (as far again as the line is long). */
  int nn = 0;
  for (l_int32 i = 0; i < n; i++) {
    l_int32 x, y, w, h;
    if (boxaGetBoxGeometry(cc, i, &x, &y, &w, &h)) continue;
    x += dx, y += dy;
    int ct = vertical ? x : y, ctl = vertical ? w : h;
    int cs = vertical ? y : x, csl = vertical ? h : w;
    /* Character-sized: no thicker than the line by half, and not a
     * speck (a textured ground is full of them, and they would bridge
     * the gap to the next line). */
    if (2 * ctl > 3 * thick || csl > 3 * thick || 3 * ctl < thick) continue;
    /* Strict (where texture answers too): of the line's own height, give
     * or take. */
    if (size == GROW_HEIGHT && (5 * ctl < 3 * thick || 10 * ctl > 13 * thick))
      continue;
    if (size == GROW_NO_BIGGER && (10 * ctl > 13 * thick || csl > 2 * thick))
      continue;
    int o1 = ct > t0 ? ct : t0;
    int o2 = ct + ctl < t0 + thick ? ct + ctl : t0 + thick;
    if (2 * (o2 - o1) < ctl) continue; /* mostly outside the band */
    if (cs + csl < s0 - len || cs > s0 + 2 * len) continue;
    if (lf && !at_level(lf, x - dx, y - dy, w, h)) continue;
    near[nn++] = i;
  }
  BOXA *g = glyphs ? boxaaGetBoxa(glyphs, li, L_CLONE) : NULL;
  int a = s0, b = s0 + len;
  for (int grew = 1, rounds = 0; grew && rounds < 64; rounds++) {
    grew = 0;
    for (int k = 0; k < nn; k++) {
      if (near[k] < 0) continue;
      l_int32 x, y, w, h;
      boxaGetBoxGeometry(cc, near[k], &x, &y, &w, &h);
      x += dx, y += dy;
      int cs = vertical ? y : x, csl = vertical ? h : w;
      int gap = cs >= b ? cs - b : a >= cs + csl ? a - (cs + csl) : 0;
      if (gap > gaps * thick) continue; /* 2: ". " in mono */
      if (cs + csl > b) b = cs + csl;
      if (cs < a) a = cs;
      /* Inside already: nothing new, but it is ink of the line. Its
       * glyph is cut to the band (and a quarter of it either side): a
       * rib edge crossing the line is not a character. */
      if (g) {
        int ct = vertical ? x : y, ce = ct + (vertical ? w : h);
        int lo = t0 - thick / 4, hi = t0 + thick + thick / 4;
        if (ct < lo) ct = lo;
        if (ce > hi) ce = hi;
        BOX *gb = vertical ? boxCreate(ct, y, ce - ct, h)
                           : boxCreate(x, ct, w, ce - ct);
        if (gb) boxaAddBox(g, gb, L_INSERT);
      }
      near[k] = -1;
      grew = 1;
    }
  }
  boxaDestroy(&g);
  BOX *nb = vertical ? boxCreate(lx, a, lw, b - a) : boxCreate(a, ly, b - a, lh);
  if (nb) boxaReplaceBox(lines, li, nb);
}

/* Ink and ground levels of a line in `norm`: the grey of its stroke pixels
 * (in `strokes`) under its glyphs `g`, and of the other pixels of its box,
 * with the ground's median absolute deviation. 0 when they cannot be
 * measured. */
static int levels(PIX *norm, PIX *strokes, int pad, BOX *line, BOXA *g,
                  int *ink, int *ground, int *spread) {
  int *vi = malloc(LEVEL_SAMPLES * sizeof *vi);
  int *vg = malloc(LEVEL_SAMPLES * sizeof *vg);
  int ni = 0, ng = 0;
  l_uint32 *nd = pixGetData(norm), *sd = pixGetData(strokes);
  l_int32 nw = pixGetWpl(norm), sw = pixGetWpl(strokes);
  int W = pixGetWidth(norm), H = pixGetHeight(norm);
  l_int32 n = g ? boxaGetCount(g) : 0;
  for (l_int32 i = 0; vi && vg && i < n; i++) {
    l_int32 x, y, w, h;
    if (boxaGetBoxGeometry(g, i, &x, &y, &w, &h)) continue;
    for (int yy = y + pad; yy < y + pad + h && yy < H; yy++)
      for (int xx = x + pad; xx < x + pad + w && xx < W; xx++) {
        if (yy < 0 || xx < 0) continue;
        if (GET_DATA_BIT(sd + yy * sw, xx) && ni < LEVEL_SAMPLES)
          vi[ni++] = GET_DATA_BYTE(nd + yy * nw, xx);
      }
  }
  l_int32 lx, ly, lw, lh;
  boxGetGeometry(line, &lx, &ly, &lw, &lh);
  /* The ground: a subsample of the box, without strokes and the pixel
   * around each (anti-aliasing). */
  int step = (int)((long)lw * lh / LEVEL_SAMPLES) + 1;
  long k = 0;
  for (int yy = ly + pad; vi && vg && yy < ly + pad + lh && yy < H; yy++)
    for (int xx = lx + pad; xx < lx + pad + lw && xx < W; xx++, k++) {
      if (k % step || yy < 1 || xx < 1 || yy + 1 >= H || xx + 1 >= W) continue;
      int stroke = 0;
      for (int d = -1; d <= 1 && !stroke; d++)
        stroke = GET_DATA_BIT(sd + (yy + d) * sw, xx - 1) ||
                 GET_DATA_BIT(sd + (yy + d) * sw, xx) ||
                 GET_DATA_BIT(sd + (yy + d) * sw, xx + 1);
      if (!stroke && ng < LEVEL_SAMPLES)
        vg[ng++] = GET_DATA_BYTE(nd + yy * nw, xx);
    }
  int ok = ni >= 8 && ng >= 8;
  if (ok) {
    *ink = median(vi, ni);
    *ground = median(vg, ng);
    for (int i = 0; i < ng; i++) vg[i] = abs(vg[i] - *ground);
    *spread = median(vg, ng);
  }
  free(vi);
  free(vg);
  return ok;
}

ocr_cc_level *ocr_cc_levels(BOXA *lines, BOXAA *glyphs, PIX *norm,
                            PIX *strokes, int pad) {
  l_int32 nl = lines ? boxaGetCount(lines) : 0;
  if (!nl || !glyphs || !norm || !strokes || pixGetDepth(norm) != 8)
    return NULL;
  ocr_cc_level *lv = calloc((size_t)nl, sizeof *lv);
  for (l_int32 li = 0; lv && li < nl; li++) {
    BOX *line = boxaGetBox(lines, li, L_COPY);
    BOXA *g = line ? boxaaGetBoxa(glyphs, li, L_CLONE) : NULL;
    lv[li].ok = line && g &&
                levels(norm, strokes, pad, line, g, &lv[li].ink,
                       &lv[li].ground, &lv[li].spread);
    boxaDestroy(&g);
    boxDestroy(&line);
  }
  return lv;
}

void ocr_cc_grow(BOXA *lines, BOXAA *glyphs, PIX *weak, PIX *norm,
                 const ocr_cc_level *lv, int pad, int strict) {
  l_int32 nl = lines ? boxaGetCount(lines) : 0;
  if (!nl || !weak) return;
  BOXA *cc = pixConnCompBB(weak, 8);
  l_int32 n = cc ? boxaGetCount(cc) : 0;
  int *near = n > 0 && n <= CC_GROW_MAX ? malloc((size_t)n * sizeof *near)
                                        : NULL;
  for (l_int32 li = 0; near && li < nl; li++) {
    /* A chain with a clear ink level of its own (LEVEL_SURE) takes only
     * components nearer that level than its ground (within 3/4 of the
     * contrast: thin faint strokes blend towards the ground): text is
     * drawn in one colour, and the bone edge or tissue a weak stroke image
     * also holds is not (a turned name grew 120 px down a vertebra). Seeds
     * 1/3/7: over-redaction 1.94/2.29/1.86% -> 1.88/2.09/1.75%, no box
     * lost; at half the contrast, or from 36 levels, a box lost each. */
    int contrast = lv && lv[li].ok ? abs(lv[li].ink - lv[li].ground) : 0;
    level_filter lf = {norm, weak, lv ? lv[li].ink : 0, contrast * 3 / 4};
    int use = norm && contrast >= LEVEL_SURE;
    /* Such a chain also takes no component thicker than itself by 30%, or
     * longer than two thicknesses: bright bone and tissue share the level
     * of light text, and their fragments strung a turned name 120 px on
     * down a vertebra. Seeds 1/3/7: over-redaction 1.80/1.97/1.84% ->
     * 1.78/1.94/1.82%, no box lost. Only components of about its height
     * (as for the other polarity) took 0.1-0.26 points more off, and lost
     * 5 boxes: the faint last characters of turned lines are thinner. */
    int size = strict ? GROW_HEIGHT : use ? GROW_NO_BIGGER : GROW_ANY;
    grow_one(lines, li, glyphs, cc, -pad, -pad, size, strict ? 1 : 2,
             use ? &lf : NULL, near);
  }
  free(near);
  boxaDestroy(&cc);
}

void ocr_cc_grow_level(BOXA *lines, BOXAA *glyphs, PIX *norm,
                       const ocr_cc_level *lv, int pad) {
  l_int32 nl = lines ? boxaGetCount(lines) : 0;
  if (!nl || !norm || !lv || !glyphs || pixGetDepth(norm) != 8) return;
  int W = pixGetWidth(norm), H = pixGetHeight(norm);
  for (l_int32 li = 0; li < nl; li++) {
    int ink = lv[li].ink;
    int contrast = lv[li].ok ? abs(ink - lv[li].ground) : 0;
    if (contrast < LEVEL_MIN || contrast < LEVEL_CLEAR * lv[li].spread)
      continue;
    l_int32 lx, ly, lw, lh;
    if (boxaGetBoxGeometry(lines, li, &lx, &ly, &lw, &lh)) continue;
    int vertical = ocr_layout_tall(lw, lh);
    int thick = vertical ? lw : lh, len = vertical ? lh : lw;
    /* The window: the band and half a thickness either side (whole
     * characters), as far along as grow_one looks. */
    int x0 = lx + pad, y0 = ly + pad, x1 = x0 + lw, y1 = y0 + lh;
    if (vertical) x0 -= thick / 2, x1 += thick / 2, y0 -= len + thick,
                  y1 += len + thick;
    else y0 -= thick / 2, y1 += thick / 2, x0 -= len + thick, x1 += len + thick;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > W) x1 = W;
    if (y1 > H) y1 = H;
    if (x1 - x0 < 2 || y1 - y0 < 2) continue;
    PIX *win = pixCreate(x1 - x0, y1 - y0, 1);
    if (!win) continue;
    l_uint32 *nd = pixGetData(norm), *wd = pixGetData(win);
    l_int32 nw = pixGetWpl(norm), ww = pixGetWpl(win);
    int tol = contrast / 2;
    for (int y = y0; y < y1; y++)
      for (int x = x0; x < x1; x++)
        if (abs((int)GET_DATA_BYTE(nd + y * nw, x) - ink) <= tol)
          SET_DATA_BIT(wd + (y - y0) * ww, x - x0);
    BOXA *all = pixConnCompBB(win, 8);
    pixDestroy(&win);
    /* A component reaching the window's side edges may run on beyond
     * them: a bone edge or an organ at the ink's level, cut to the window,
     * is not a character of the line (seeds 1/3/7: over-redaction
     * 1.81/1.99/1.84% -> 1.80/1.97/1.84%, no box lost). */
    BOXA *cc = all ? boxaCreate(boxaGetCount(all)) : NULL;
    for (l_int32 i = 0; cc && i < boxaGetCount(all); i++) {
      l_int32 bx, by, bw, bh;
      if (boxaGetBoxGeometry(all, i, &bx, &by, &bw, &bh)) continue;
      int lo = vertical ? bx : by, hi = lo + (vertical ? bw : bh);
      int side = vertical ? x1 - x0 : y1 - y0;
      int open_lo = (vertical ? x0 : y0) > 0, open_hi = vertical ? x1 < W : y1 < H;
      if (((lo == 0 && open_lo) || (hi == side && open_hi))) continue;
      boxaAddBox(cc, boxaGetBox(all, i, L_CLONE), L_INSERT);
    }
    boxaDestroy(&all);
    l_int32 n = cc ? boxaGetCount(cc) : 0;
    int *near = n > 0 && n <= CC_GROW_MAX ? malloc((size_t)n * sizeof *near)
                                          : NULL;
    if (near)
      grow_one(lines, li, glyphs, cc, x0 - pad, y0 - pad, GROW_HEIGHT,
               contrast < LEVEL_SURE ? 1 : 2, NULL, near);
    free(near);
    boxaDestroy(&cc);
  }
}
