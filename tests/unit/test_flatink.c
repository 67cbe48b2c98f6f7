/* test_flatink.c - faint ink on a flat ground: the map's classes, a
 * redaction finished over faint characters (and not over a blob of another
 * shade, nor on texture), and lines found on the map alone (not an edge
 * between two flat greys, not specks of strong contrast). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_flatink.h"
#include "mv_test.h"

enum { W = 320, H = 96 };

static uint32_t seed = 777;
static int noise(void) {
  seed = seed * 1103515245u + 12345u;
  return (int)((seed >> 16) % 80);
}

/* "Characters" 2 px strokes, 3 px apart, rows y..y+9, from x0 to x1, in
 * grey `ink`, with a one-column gap every 20 px (word spaces). */
static void chars(uint8_t *px, int x0, int x1, int y, int ink) {
  for (int r = y; r < y + 10; r++)
    for (int x = x0; x < x1; x++)
      if ((x - x0) % 5 < 2 && (x - x0) % 20 != 19) px[r * W + x] = (uint8_t)ink;
}

static int found(const mv_rect *r, size_t n, int x0, int x1, int y0, int y1) {
  for (size_t i = 0; i < n; i++)
    if (r[i].x <= x0 + 1 && r[i].x + r[i].w >= x1 - 1 && r[i].y <= y0 + 1 &&
        r[i].y + r[i].h >= y1 - 1)
      return 1;
  return 0;
}

/* Map `v` and find lines on it: 1 when one covers the box x0..x1, y0..y1. */
static int finds_line(const mv_image *v, int x0, int x1, int y0, int y1) {
  unsigned char *m = mv_flatink_map(v);
  mv_rect *lines = NULL;
  size_t n = 0;
  int yes = m && mv_flatink_lines(m, v, &lines, &n) == MV_OK &&
            found(lines, n, x0, x1, y0, y1);
  free(lines);
  free(m);
  return yes;
}

/* Map `v` and find lines on it: 1 when none is found. */
static int no_lines(const mv_image *v) {
  unsigned char *m = mv_flatink_map(v);
  mv_rect *lines = NULL;
  size_t n = 0;
  int none = m && mv_flatink_lines(m, v, &lines, &n) == MV_OK && n == 0;
  free(lines);
  free(m);
  return none;
}

int main(void) {
  uint8_t *px = malloc(W * H);
  mv_image v = mv_test_view(px, W, H, 1);

  /* Ground 192, characters at 199 (seven levels off) from 40 to 260. */
  memset(px, 192, W * H);
  chars(px, 40, 260, 40, 199);
  unsigned char *m = mv_flatink_map(&v);
  CHECK(m && m[10 * W + 10] == MV_FLAT_GROUND && m[40 * W + 40] == MV_FLAT_INK);

  /* A redaction over the first part grows over the rest. */
  mv_rect r = {40, 39, 60, 12};
  CHECK(mv_flatink_complete(m, &v, &r, 0) == 1);
  CHECK(r.x <= 40 && r.x + r.w >= 257 && r.x + r.w <= 260 + 12);
  /* And the line is found on the map alone. */
  mv_rect *lines = NULL;
  size_t n = 0;
  CHECK(mv_flatink_lines(m, &v, &lines, &n) == MV_OK &&
        found(lines, n, 40, 258, 40, 50));
  free(lines);
  free(m);

  /* A blob of another shade beyond a small gap is not followed. */
  memset(px, 192, W * H);
  chars(px, 40, 120, 40, 199);
  for (int y = 40; y < 50; y++)
    for (int x = 126; x < 180; x++)
      if ((x + y) % 3 == 0) px[y * W + x] = 150;
  m = mv_flatink_map(&v);
  r = (mv_rect){40, 39, 60, 12};
  mv_flatink_complete(m, &v, &r, 0);
  CHECK(r.x + r.w <= 126);
  free(m);

  /* On texture: no flat ground, nothing to follow or find. */
  for (int i = 0; i < W * H; i++) px[i] = (uint8_t)(100 + noise());
  chars(px, 40, 260, 40, 199);
  m = mv_flatink_map(&v);
  CHECK(m[10 * W + 10] == MV_FLAT_TEXTURE);
  r = (mv_rect){40, 39, 60, 12};
  CHECK(mv_flatink_complete(m, &v, &r, 0) == 0 && r.w == 60);
  CHECK(mv_flatink_lines(m, &v, &lines, &n) == MV_OK && n == 0);
  free(lines);
  free(m);

  /* The edge between two flat greys inside one block is no line. */
  memset(px, 192, W * H);
  for (int y = 0; y < H; y++)
    for (int x = 150; x < W; x++) px[y * W + x] = 200;
  CHECK(no_lines(&v));

  /* Characters in strong contrast are for the readers and the strokes. */
  memset(px, 192, W * H);
  chars(px, 40, 260, 40, 20);
  CHECK(no_lines(&v));

  /* Faint specks darker and lighter than the ground at once, in a row:
   * noise, not characters of one colour. */
  memset(px, 192, W * H);
  chars(px, 40, 260, 40, 199);
  for (int y = 40; y < 50; y++)
    for (int x = 40; x < 260; x++)
      if (px[y * W + x] == 199 && (x / 5) % 2) px[y * W + x] = 185;
  CHECK(no_lines(&v));

  /* A small font, 6 px tall: anti-aliasing inks 70% of its box (an
   * 8-point "ID: MRN..." on a bright panel). */
  memset(px, 192, W * H);
  for (int y = 40; y < 46; y++)
    for (int x = 40; x < 140; x++)
      if ((x - 40) % 10 < 7) px[y * W + x] = (uint8_t)(196 + (x % 3) * 3);
  CHECK(finds_line(&v, 40, 137, 40, 46));
  /* But a faint bar, inked all over, is no line. */
  memset(px, 192, W * H);
  for (int y = 40; y < 46; y++)
    for (int x = 40; x < 140; x++) px[y * W + x] = 198;
  CHECK(no_lines(&v));

  /* Turned text: a column of characters. */
  memset(px, 192, W * H);
  for (int y = 4; y < 92; y++)
    for (int x = 200; x < 210; x++)
      if ((y - 4) % 5 < 2) px[y * W + x] = 186;
  CHECK(finds_line(&v, 200, 210, 4, 90));

  /* Heavy anti-aliased characters (strokes of three shades) filling most
   * of their block, less than half of it left at the ground's level: they
   * lie on the ground of the blocks around. */
  memset(px, 192, W * H);
  for (int y = 34; y < 47; y++)
    for (int x = 40; x < 260; x++)
      if ((x - 40) % 4 < 3 && (x - 40) % 24 != 23)
        px[y * W + x] = (uint8_t)(196 + 3 * ((x - 40) % 4));
  m = mv_flatink_map(&v);
  CHECK(m[40 * W + 50] == MV_FLAT_INK && m[40 * W + 51] == MV_FLAT_GROUND);
  free(m);

  /* A line along the lower edge of a banner, the picture right below it:
   * followed with the flat ground above it alone. */
  for (int i = 0; i < W * H; i++) px[i] = (uint8_t)(100 + noise());
  memset(px, 192, 35 * W);
  chars(px, 40, 260, 20, 199);
  m = mv_flatink_map(&v);
  r = (mv_rect){40, 19, 60, 12};
  CHECK(mv_flatink_complete(m, &v, &r, 0) == 1 && r.x + r.w >= 257);
  free(m);
  /* But not when what flat ground that side has is strewn with ink of
   * the line's shade (here the banner's last row, under the band). */
  for (int x = 0; x < W; x++)
    if (x % 9 < 4) px[31 * W + x] = 199;
  m = mv_flatink_map(&v);
  CHECK(m[31 * W + 1] == MV_FLAT_INK && m[40 * W + 1] == MV_FLAT_TEXTURE);
  r = (mv_rect){40, 19, 60, 12};
  CHECK(mv_flatink_complete(m, &v, &r, 0) == 0 && r.w == 60);
  free(m);

  free(px);
  printf("test_flatink: %d checks, %d failures\n", mv_test_checks,
         mv_test_failures);
  return mv_test_failures != 0;
}
