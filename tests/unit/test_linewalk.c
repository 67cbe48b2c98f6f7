/* test_linewalk.c - how the view changes along a line: characters change
 * it along and across, every row several times a line height; an edge
 * running with the line, or two flat patches meeting in a stepped edge,
 * do not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_linewalk.h"
#include "mv_test.h"

enum { W = 160, H = 60 };

int main(void) {
  uint8_t *px = malloc(W * H);
  mv_image view = mv_test_view(px, W, H, 1);
  mv_line_view v = mv_line_view_of(NULL, &view, 0);

  /* Characters: 2 px strokes every 5 px, rows 20..31, on a flat ground. */
  memset(px, 40, W * H);
  for (int y = 20; y < 32; y++)
    for (int x = 20; x < 140; x++)
      if ((x - 20) % 5 < 2) px[y * W + x] = 200;
  CHECK(mv_line_grain(&v, 20, 140, 18, 34) > 1.0);
  CHECK(mv_line_changes(&v, 20, 140, 18, 34) > 2.0);

  /* A step from one grey to another running with the line, over a
   * gradient along it: much change across, little along. */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) px[y * W + x] = (uint8_t)(x / 2 + (y < 26 ? 0 : 80));
  CHECK(mv_line_grain(&v, 20, 140, 18, 34) < 0.15);

  /* Two flat patches meeting in an edge that steps every 6 columns: the
   * rows change about once in two line heights. */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      px[y * W + x] = (uint8_t)(y < 24 + (x / 6) % 3 ? 60 : 120);
  CHECK(mv_line_changes(&v, 20, 140, 18, 34) < 1.0);

  /* The spread of one row's greys, clipped to the plane: where the edge
   * steps, both patches; past it, one. */
  CHECK(mv_line_spread(&v, -10, W + 10, 25) == 60);
  CHECK(mv_line_spread(&v, 0, W, 30) == 0 && mv_line_spread(&v, 0, W, H) == 0);

  /* A turned view reads down the columns; an empty window gives 0. */
  mv_line_view t = mv_line_view_of(NULL, &view, 1);
  CHECK(mv_line_changes(&t, 10, 10, 0, 5) == 0);
  CHECK(mv_line_grain(&t, 0, 40, 0, 1) >= 0);

  free(px);
  printf("test_linewalk: %d checks, %d failures\n", mv_test_checks,
         mv_test_failures);
  return mv_test_failures != 0;
}
