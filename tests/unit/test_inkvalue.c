/* test_inkvalue.c - mv_inkvalue_complete: a redaction grows along its line
 * over characters of the line's own grey on speckle, even where they are
 * no brighter than the speckle, and over a smooth gradient; not over
 * speckle alone, a rule, a sprinkle or a crest of that grey, not where it
 * is as common beside the line as in it; on a flat ground, one character
 * on at most; the same down a column for a turned line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_inkvalue.h"
#include "mv_test.h"

enum { W = 400, H = 80, INK = 168 };

static uint32_t seed = 4242;
static int noise(int span) {
  seed = seed * 1103515245u + 12345u;
  return (int)((seed >> 16) % (uint32_t)span);
}

/* Speckle from 100 to 254, never within two levels of the ink's grey
 * (those draws become 100, evenly over band and sides). */
static int speckle_value(void) {
  int y = 100 + noise(155);
  return y >= INK - 2 && y <= INK + 2 ? 100 : y;
}

static void speckle(uint8_t *px) {
  for (int i = 0; i < W * H; i++) px[i] = (uint8_t)speckle_value();
}

/* "Characters": 2 px strokes 4 px apart over rows 32..43, from x0 to x1,
 * with a crossbar every 12 px, in the ink's grey. */
static void letters(uint8_t *px, int x0, int x1) {
  for (int y = 32; y < 44; y++)
    for (int x = x0; x < x1; x++)
      if ((x - x0) % 6 < 2 || ((x - x0) % 12 < 6 && y == 38)) px[y * W + x] = INK;
}

int main(void) {
  uint8_t *px = malloc(W * H);
  CHECK(px != NULL);
  if (!px) TEST_MAIN_END();
  mv_image v = mv_test_view(px, W, H, 1);

  /* Letters from 40 to 300; OCR found 40..120. The walk goes by windows
   * of one line height (mv_linewalk.h): it ends within one of the
   * letters' end. */
  speckle(px);
  letters(px, 40, 300);
  mv_rect r = {40, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 1);
  CHECK(r.x == 40 && r.x + r.w >= 296 && r.x + r.w <= 316);
  CHECK(r.y == 30 && r.h == 16);

  /* Found at the end: it grows back to the start. */
  r = (mv_rect){220, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 1);
  CHECK(r.x <= 44 && r.x >= 24 && r.x + r.w == 300);

  /* Speckle alone after the letters: the walk stops there. */
  speckle(px);
  letters(px, 40, 120);
  r = (mv_rect){40, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 0);
  CHECK(r.x == 40 && r.w == 80);

  /* Grey letters on a white band whose sides are white only in part: the
   * band holds more white than its sides, but not twice as much; the
   * letters' grey is the line's. */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int side = y < 30 || y >= 46;
      px[y * W + x] = (uint8_t)(side && noise(10) < 6 ? 200 + noise(40) : 250);
    }
  letters(px, 40, 300);
  r = (mv_rect){40, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 1);
  CHECK(r.x == 40 && r.x + r.w >= 296 && r.x + r.w <= 316);

  /* A rule of the grey running on with the line is not letters (no
   * strokes cross the band), nor a sprinkle of it (4% of the band). */
  speckle(px);
  letters(px, 40, 120);
  for (int y = 37; y < 39; y++) /* dashed: 28 on, 4 off */
    for (int x = 120; x < 300; x++)
      if (x % 32 < 28) px[y * W + x] = INK;
  r = (mv_rect){40, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 0);
  speckle(px);
  letters(px, 40, 120);
  for (int y = 30; y < 46; y++)
    for (int x = 120; x < 300; x++)
      if ((x * 7 + y * 13) % 25 == 0) px[y * W + x] = INK;
  r = (mv_rect){40, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 0);

  /* A band darker than its sides in a range of shades (a dark patch of
   * speckle under a misread box) has no grey of its own. */
  speckle(px);
  for (int y = 30; y < 46; y++)
    for (int x = 0; x < 300; x++)
      if ((x * 5 + y * 3) % 3 == 0) px[y * W + x] = (uint8_t)(10 + (x * 7 + y) % 17);
  r = (mv_rect){40, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 0);

  /* The grey as common beside the line as along it: a ground of that
   * grey, not a line. */
  speckle(px);
  letters(px, 40, 300);
  for (int y = 14; y < 30; y++)
    for (int x = 120; x < 300; x++)
      if (x % 3 == 0) px[y * W + x] = INK;
  for (int y = 46; y < 62; y++)
    for (int x = 120; x < 300; x++)
      if (x % 3 == 0) px[y * W + x] = INK;
  r = (mv_rect){40, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 0);

  /* On a smooth ground (a film's gradient down the rows) letters are
   * followed; the crest of a gradient in the letters' grey, running on
   * with the line, is not letters: its pixels of that grey are a level or
   * two off their neighbours. */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) px[y * W + x] = (uint8_t)(120 + y);
  letters(px, 40, 300);
  r = (mv_rect){40, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 1);
  CHECK(r.x == 40 && r.x + r.w >= 296 && r.x + r.w <= 316);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int d = y > 38 ? y - 38 : 38 - y;
      px[y * W + x] = (uint8_t)(INK - d + (x + y) % 3 - 1);
    }
  letters(px, 40, 120);
  r = (mv_rect){40, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 0);

  /* On a flat ground (a banner), only a character the found part missed:
   * half a line height on, not the next words. */
  memset(px, 40, W * H);
  letters(px, 40, 130);
  letters(px, 150, 300);
  r = (mv_rect){40, 30, 80, 16};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 1);
  CHECK(r.x == 40 && r.x + r.w >= 128 && r.x + r.w <= 136);

  /* A turned line down a column, in a tall view. */
  uint8_t *tall = malloc(W * H);
  CHECK(tall != NULL);
  if (tall) {
    mv_image t = mv_test_view(tall, H, W, 1); /* 80 wide, 400 tall */
    for (int i = 0; i < W * H; i++) tall[i] = (uint8_t)speckle_value();
    for (int a = 32; a < 44; a++)
      for (int c = 40; c < 300; c++)
        if ((c - 40) % 6 < 2 || ((c - 40) % 12 < 6 && a == 38))
          tall[c * H + a] = INK;
    r = (mv_rect){30, 40, 16, 80};
    CHECK(mv_inkvalue_complete(&t, &r, 1) == 1);
    CHECK(r.y == 40 && r.y + r.h >= 296 && r.y + r.h <= 316 && r.x == 30);
    free(tall);
  }

  /* Too thin or thick a line, an empty view: left alone. */
  r = (mv_rect){40, 30, 80, 3};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 0);
  r = (mv_rect){40, 10, 80, 40};
  CHECK(mv_inkvalue_complete(&v, &r, 0) == 0);
  CHECK(mv_inkvalue_complete(NULL, &r, 0) == 0);
  free(px);
  TEST_MAIN_END();
}
