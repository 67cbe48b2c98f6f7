/* ocr_ccgrow_test.c - growth of chains of characters at their ink level
 * (plugins/detect-ocr/ocr_ccgrow.c), on drawn scenes.
 *
 * A chain of five "characters" (boxes with a hole, 14x20) lies on a flat
 * ground; two more of its ink lie a wide gap (36 px, "Dr. E." before a
 * name) to its left on speckle crossed by a tissue line, which joins them
 * to the tissue in any stroke image. The chain must take them, and must
 * not take a character too far away, a mark of another grey, anything
 * when its ground is as varied as its ink (Doppler), or anything when it
 * is too faint to have a level of its own. The weak-stroke growth
 * (ocr_cc_grow) given the line's levels leaves a mark nearer the ground's
 * grey than the ink's. */
#include <leptonica/allheaders.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mv_test.h"
#include "ocr_internal.h"

enum { W = 320, H = 100, PAD = OCR_PAD };

static void glyph(PIX *p, int x0, int y0, int v) {
  for (int y = y0; y < y0 + 20; y++)
    for (int x = x0; x < x0 + 14; x++) {
      int inner = y >= y0 + 3 && y < y0 + 17 && x >= x0 + 3 && x < x0 + 11;
      if (!inner) pixSetPixel(p, x + PAD, y + PAD, (l_uint32)v);
    }
}

typedef struct scene {
  PIX *norm, *strokes;
  BOXA *lines;
  BOXAA *glyphs;
} scene;

/* ink: the characters' grey; varied: the ground right of the speckle takes
 * any grey (colour flow), not 40. */
static void build(scene *s, int ink, int varied, int far_left, int other) {
  unsigned seed = 4711u;
  s->norm = pixCreate(W + 2 * PAD, H + 2 * PAD, 8);
  pixSetAllArbitrary(s->norm, 40);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      seed = seed * 1103515245u + 12345u;
      int r = (int)((seed >> 16) & 255);
      int v = 40;
      if (x < 118) v = 40 + r * 115 / 255;             /* speckle to 155 */
      if (x < 118 && y >= 48 && y < 51) v = 130;        /* tissue line */
      if (x >= 118 && varied) v = r;
      pixSetPixel(s->norm, x + PAD, y + PAD, (l_uint32)v);
    }
  s->strokes = pixCreate(W + 2 * PAD, H + 2 * PAD, 1);
  s->glyphs = boxaaCreate(1);
  BOXA *g = boxaCreate(5);
  for (int k = 0; k < 5; k++) {
    int x0 = 136 + 22 * k;
    glyph(s->norm, x0, 40, ink);
    glyph(s->strokes, x0, 40, 1);
    boxaAddBox(g, boxCreate(x0, 40, 14, 20), L_INSERT);
  }
  boxaaAddBoxa(s->glyphs, g, L_INSERT);
  glyph(s->norm, 64, 40, ink);
  glyph(s->norm, 86, 40, ink);
  if (far_left) glyph(s->norm, 2, 40, ink); /* 48 px before the 64 */
  if (other) glyph(s->norm, 248, 40, 100);   /* 10 px after, grey 100 */
  s->lines = boxaCreate(1);
  boxaAddBox(s->lines, boxCreate(136, 40, 22 * 4 + 14, 20), L_INSERT);
}

static void span(scene *s, int *x0, int *x1) {
  l_int32 x, y, w, h;
  boxaGetBoxGeometry(s->lines, 0, &x, &y, &w, &h);
  *x0 = x, *x1 = x + w;
}

/* The scene's levels (ocr_cc_levels), or NULL when `with` is 0. */
static ocr_cc_level *levels_of(scene *s, int with) {
  return with ? ocr_cc_levels(s->lines, s->glyphs, s->norm, s->strokes, PAD)
              : NULL;
}

/* Build a scene, grow it at its ink level, and return its line's extent. */
static void grown_at_level(int ink, int varied, int far_left, int other,
                           scene *s, int *x0, int *x1) {
  build(s, ink, varied, far_left, other);
  ocr_cc_level *lv = levels_of(s, 1);
  ocr_cc_grow_level(s->lines, s->glyphs, s->norm, lv, PAD);
  free(lv);
  span(s, x0, x1);
}

static void destroy(scene *s) {
  pixDestroy(&s->norm);
  pixDestroy(&s->strokes);
  boxaDestroy(&s->lines);
  boxaaDestroy(&s->glyphs);
}

int main(void) {
  setMsgSeverity(L_SEVERITY_NONE);
  scene s;
  int x0, x1;

  /* Grown over the two characters on the speckle, not the far one nor the
   * grey-100 mark; their glyphs join the line's. */
  grown_at_level(230, 0, 1, 1, &s, &x0, &x1);
  printf("flat ground: line %d..%d\n", x0, x1);
  CHECK(x0 <= 64 && x0 > 16);
  CHECK(x1 >= 136 + 22 * 4 + 14 && x1 < 248);
  BOXA *g = boxaaGetBoxa(s.glyphs, 0, L_CLONE);
  CHECK(g && boxaGetCount(g) >= 7);
  boxaDestroy(&g);
  destroy(&s);

  /* The same line without the level growth's reach: the weak-stroke
   * growth (ocr_cc_grow) over the pixels above a threshold joins the
   * speckle characters to the tissue line, and does not take them. */
  build(&s, 230, 0, 0, 0);
  PIX *weak = pixThresholdToBinary(s.norm, 120);
  pixInvert(weak, weak);
  ocr_cc_grow(s.lines, s.glyphs, weak, NULL, NULL, PAD, 0);
  span(&s, &x0, &x1);
  printf("weak strokes: line %d..%d\n", x0, x1);
  CHECK(x0 == 136);
  pixDestroy(&weak);
  destroy(&s);

  /* Weak-stroke growth with the line's levels: a mark of grey 80 just
   * after the line (a weak stroke on ground 40) is taken without them and
   * not with them (ink 230: nearer the ground than the ink). */
  for (int with = 0; with < 2; with++) {
    build(&s, 230, 0, 0, 0);
    for (int y = 40; y < 60; y++)
      for (int x = 250; x < 262; x++)
        if (x < 253 || y >= 57) pixSetPixel(s.norm, x + PAD, y + PAD, 80);
    weak = pixThresholdToBinary(s.norm, 60);
    pixInvert(weak, weak);
    /* only the right half: the speckle side is another test */
    pixRasterop(weak, 0, 0, PAD + 118, H + 2 * PAD, PIX_CLR, NULL, 0, 0);
    ocr_cc_level *lv = levels_of(&s, with);
    ocr_cc_grow(s.lines, s.glyphs, weak, s.norm, lv, PAD, 0);
    free(lv);
    span(&s, &x0, &x1);
    printf("mark of another grey, levels %s: line %d..%d\n", with ? "on" : "off",
           x0, x1);
    CHECK(with ? x1 == 238 : x1 >= 262);
    pixDestroy(&weak);
    destroy(&s);
  }

  /* A ground as varied as the ink (Doppler): not grown. */
  grown_at_level(230, 1, 0, 0, &s, &x0, &x1);
  printf("varied ground: line %d..%d\n", x0, x1);
  CHECK(x0 == 136);
  destroy(&s);

  /* Too faint for a level of its own (20 grey levels): not grown. */
  grown_at_level(60, 0, 0, 0, &s, &x0, &x1);
  printf("faint ink: line %d..%d\n", x0, x1);
  CHECK(x0 == 136);
  destroy(&s);
  TEST_MAIN_END();
}
