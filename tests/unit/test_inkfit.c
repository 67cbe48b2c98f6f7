/* test_inkfit.c - a line's rectangle widened across over the strokes it
 * cuts on an even ground; not over a blotch running on, an edge, or
 * texture. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_inkfit.h"
#include "mv_test.h"

enum { W = 200, H = 80 };

/* Vertical strokes 2 px wide every 6 px, rows y0..y1, in grey `ink`. */
static void strokes(uint8_t *px, int x0, int x1, int y0, int y1, int ink) {
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      if ((x - x0) % 6 < 2) px[y * W + x] = (uint8_t)ink;
}

int main(void) {
  uint8_t *px = malloc(W * H);
  mv_image v = mv_test_view(px, W, H, 1);

  /* Text rows 20..36; the rectangle stops at row 32: widened to 36. */
  memset(px, 200, W * H);
  strokes(px, 40, 160, 20, 36, 120);
  mv_rect r = {38, 20, 124, 12};
  CHECK(mv_ink_fit(&v, &r, 0) == 1);
  CHECK(r.y == 20 && r.y + r.h == 36 && r.x == 38 && r.w == 124);

  /* The same on a turned line (the rectangle stops short of the strokes'
   * right ends). */
  memset(px, 200, W * H);
  for (int y = 4; y < 76; y++)
    for (int x = 80; x < 96; x++)
      if ((y - 4) % 6 < 2) px[y * W + x] = 120;
  r = (mv_rect){80, 2, 12, 76};
  CHECK(mv_ink_fit(&v, &r, 1) == 1 && r.x == 80 && r.x + r.w == 96);

  /* A rectangle that holds its text whole stays as it is. */
  memset(px, 200, W * H);
  strokes(px, 40, 160, 20, 36, 120);
  r = (mv_rect){38, 19, 124, 18};
  CHECK(mv_ink_fit(&v, &r, 0) == 0 && r.y == 19 && r.h == 18);

  /* A blotch under the line running on past half its height: not cut
   * strokes, the rectangle stays. */
  memset(px, 200, W * H);
  strokes(px, 40, 160, 20, 32, 120);
  for (int y = 32; y < 60; y++)
    for (int x = 60; x < 64; x++) px[y * W + x] = 120;
  r = (mv_rect){38, 20, 124, 12};
  CHECK(mv_ink_fit(&v, &r, 0) == 0 && r.h == 12);

  /* An edge right under the line (a banner's border, a row mostly ink). */
  memset(px, 200, W * H);
  strokes(px, 40, 160, 20, 34, 120);
  for (int x = 0; x < W; x++) px[32 * W + x] = px[33 * W + x] = 120;
  r = (mv_rect){38, 20, 124, 12};
  CHECK(mv_ink_fit(&v, &r, 0) == 0 && r.h == 12);

  /* Texture around the line: the ground cannot tell. */
  uint32_t seed = 99;
  for (int i = 0; i < W * H; i++) {
    seed = seed * 1103515245u + 12345u;
    px[i] = (uint8_t)(120 + (seed >> 16) % 100);
  }
  strokes(px, 40, 160, 20, 36, 20);
  r = (mv_rect){38, 20, 124, 12};
  CHECK(mv_ink_fit(&v, &r, 0) == 0 && r.h == 12);

  free(px);
  printf("test_inkfit: %d checks, %d failures\n", mv_test_checks,
         mv_test_failures);
  return mv_test_failures != 0;
}
