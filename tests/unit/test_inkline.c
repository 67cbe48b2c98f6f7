/* test_inkline.c - mv_ink_complete: a redaction grows along its line over
 * the characters that continue it, and not along an edge of the ground
 * that runs through the line's band. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_inkline.h"
#include "mv_test.h"

enum { W = 400, H = 60 };

/* Grey view: ground 200, a row of "characters" (3 px strokes, 3 px apart,
 * rows 22..27 of the line's band 20..29) from x0 to x1, and with `edge` a 2 px dark line through the
 * band (rows 24..25) from edge_x to the right border. */
static void scene(uint8_t *px, int x0, int x1, int edge, int edge_x) {
  memset(px, 200, W * H);
  for (int y = 22; y < 28; y++)
    for (int x = x0; x < x1; x++)
      if ((x - x0) % 6 < 3) px[y * W + x] = 40;
  if (edge)
    for (int y = 24; y < 26; y++)
      for (int x = edge_x; x < W; x++) px[y * W + x] = 40;
}

int main(void) {
  uint8_t *px = malloc(W * H);
  /* Characters from 20 to 200; the redaction covers 20..80. */
  scene(px, 20, 200, 0, 0);
  mv_image v = mv_test_view(px, W, H, 1);
  mv_rect r = {20, 20, 60, 10};
  CHECK(mv_ink_complete(&v, &r) == 1);
  CHECK(r.x <= 20 && r.x + r.w >= 197 && r.x + r.w <= 205);

  /* Nothing continues it on an even ground: the line ends there. */
  scene(px, 20, 80, 0, 0);
  r = (mv_rect){20, 20, 60, 10};
  CHECK(mv_ink_complete(&v, &r) == 0);
  CHECK(r.x == 20 && r.w == 60);

  /* A border line through the band, from the end of the characters to
   * the right edge: the characters are taken, the border is not. */
  scene(px, 20, 140, 1, 143);
  r = (mv_rect){20, 20, 60, 10};
  mv_ink_complete(&v, &r);
  CHECK(r.x + r.w >= 137 && r.x + r.w < 180);

  /* Only the border line: not followed at all. */
  scene(px, 20, 80, 1, 80);
  r = (mv_rect){20, 20, 60, 10};
  mv_ink_complete(&v, &r);
  CHECK(r.x + r.w <= 90);
  free(px);
  TEST_MAIN_END();
}
