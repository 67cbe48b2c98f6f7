/* test_stillline.c - what stands still between two frames:
 * mv_image_still_map levels, mv_still_complete (a redaction grows along
 * strokes that held still over a moving ground, and not over a still
 * ground or a patch of still ground), and mv_cine (a later frame's overlay
 * redactions are due in frame 0; anatomy that moved is not carried). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_cine.h"
#include "mv_render.h"
#include "mv_stillline.h"
#include "mv_test.h"

enum { W = 400, H = 80 };

static uint32_t seed = 12345;
static int noise(void) {
  seed = seed * 1103515245u + 12345u;
  return (int)((seed >> 16) % 120);
}

/* "Characters" (3 px strokes, 3 px apart, rows 32..41 of the band
 * 30..43) from x0 to x1 in grey 230. */
static void strokes(uint8_t *px, int x0, int x1) {
  for (int y = 32; y < 42; y++)
    for (int x = x0; x < x1; x++)
      if ((x - x0) % 6 < 3) px[y * W + x] = 230;
}

/* A frame: speckle (moving: fresh per frame) or a flat ground (still),
 * with characters from x0 to x1. */
static void frame(uint8_t *px, int speckle, int x0, int x1) {
  for (int i = 0; i < W * H; i++) px[i] = (uint8_t)(speckle ? 60 + noise() : 90);
  strokes(px, x0, x1);
}

static mv_image image_of(uint8_t *px, uint32_t frame_no) {
  mv_image v = mv_test_view(px, W, H, 1);
  v.kind = MV_PLANE_FRAME, v.frame = frame_no;
  return v;
}

int main(void) {
  uint8_t *a = malloc(W * H), *b = malloc(W * H);

  /* Levels: equal, a level or two apart, moved. */
  memset(a, 100, W * H);
  memcpy(b, a, W * H);
  b[1] = 102;
  b[2] = 140;
  mv_image ia = image_of(a, 0), ib = image_of(b, 1);
  unsigned char *m = mv_image_still_map(&ia, &ib);
  CHECK(m && m[0] == MV_STILL_SAME && m[1] == MV_STILL_NEAR &&
        m[2] == MV_STILL_MOVED);
  free(m);
  mv_image other = ia;
  other.width = W - 1;
  CHECK(mv_image_still_map(&ia, &other) == NULL);

  /* Characters 40..300 over speckle that changes between the frames; the
   * redaction covers 40..100. It grows to the end of the characters, and
   * not much past it. */
  frame(a, 1, 40, 300);
  frame(b, 1, 40, 300);
  m = mv_image_still_map(&ia, &ib);
  mv_rect r = {40, 30, 60, 14};
  CHECK(mv_still_complete(m, &ia, &r, 0) == 1);
  CHECK(r.x <= 40 && r.x + r.w >= 297 && r.x + r.w <= 300 + 14);
  /* Started from the middle: both ways. */
  r = (mv_rect){150, 30, 40, 14};
  CHECK(mv_still_complete(m, &ia, &r, 0) == 1);
  CHECK(r.x <= 46 && r.x >= 40 - 14 && r.x + r.w >= 297);
  free(m);

  /* A gap of three line heights ends the line. */
  frame(a, 1, 40, 100);
  strokes(a, 142, 250);
  frame(b, 1, 40, 100);
  strokes(b, 142, 250);
  m = mv_image_still_map(&ia, &ib);
  r = (mv_rect){40, 30, 60, 14};
  mv_still_complete(m, &ia, &r, 0);
  CHECK(r.x + r.w <= 100 + 14);
  free(m);

  /* A ground that did not move: nothing tells strokes from it. */
  frame(a, 0, 40, 300);
  frame(b, 0, 40, 300);
  m = mv_image_still_map(&ia, &ib);
  r = (mv_rect){40, 30, 60, 14};
  CHECK(mv_still_complete(m, &ia, &r, 0) == 0 && r.w == 60);
  free(m);

  /* A solid still patch over most of the band, on moving speckle: no
   * strokes cross it, so it is not text. */
  frame(a, 1, 40, 100);
  frame(b, 1, 40, 100);
  for (int y = 33; y < 42; y++)
    for (int x = 100; x < 250; x++) a[y * W + x] = b[y * W + x] = 200;
  m = mv_image_still_map(&ia, &ib);
  r = (mv_rect){40, 30, 60, 14};
  mv_still_complete(m, &ia, &r, 0);
  CHECK(r.x + r.w <= 100 + 14);
  free(m);

  /* A frame's edge drawn along the band (rows 36-37, still in one shade
   * from end to end) with still specks beside it past the characters: the
   * edge is no stroke, the line ends with its characters. */
  frame(a, 1, 40, 100);
  frame(b, 1, 40, 100);
  for (int x = 0; x < W; x++) {
    a[36 * W + x] = b[36 * W + x] = a[37 * W + x] = b[37 * W + x] = 250;
    if (x >= 100 && x % 3 == 0)
      a[33 * W + x] = b[33 * W + x] = a[40 * W + x] = b[40 * W + x] = 200;
  }
  m = mv_image_still_map(&ia, &ib);
  r = (mv_rect){40, 30, 60, 14};
  mv_still_complete(m, &ia, &r, 0);
  CHECK(r.x + r.w <= 100 + 14);
  free(m);

  /* Lines too thin or too thick are left alone. */
  frame(a, 1, 40, 300);
  frame(b, 1, 40, 300);
  m = mv_image_still_map(&ia, &ib);
  r = (mv_rect){40, 30, 60, 3};
  CHECK(mv_still_complete(m, &ia, &r, 0) == 0);
  r = (mv_rect){40, 10, 60, 40};
  CHECK(mv_still_complete(m, &ia, &r, 0) == 0);

  /* The cine: frame 1 redacted the characters (still against frame 0);
   * frame 0 lacks them and gets them. A box over speckle that moved is
   * not carried. */
  mv_cine c;
  memset(&c, 0, sizeof c);
  c.frames = 2;
  CHECK(mv_cine_keep_frame0(&c, &ia) == MV_OK && c.frame0.data &&
        c.width0 == W);
  mv_rect text = {38, 30, 264, 14}, moved = {320, 50, 60, 14};
  mv_rect f1[2] = {text, moved};
  CHECK(mv_cine_note(&c, 0, NULL, 0, NULL, W, H) == MV_OK);
  CHECK(mv_cine_note(&c, 1, f1, 2, m, W, H) == MV_OK);
  CHECK(c.ncarry == 1 && c.carry[0].r.x == text.x);
  mv_rect *add = NULL;
  size_t nadd = 0;
  CHECK(mv_cine_missing(&c, 0, &add, &nadd) == MV_OK && nadd == 1 &&
        add[0].x == text.x && add[0].w == text.w);
  free(add);
  /* Not due in the frame that found it. */
  CHECK(mv_cine_missing(&c, 1, &add, &nadd) == MV_OK && nadd == 0 && !add);
  /* A frame whose own redaction mostly covers it has it already. */
  mv_rect own = {40, 30, 250, 14};
  CHECK(mv_cine_note(&c, 0, &own, 1, NULL, W, H) == MV_OK);
  CHECK(mv_cine_missing(&c, 0, &add, &nadd) == MV_OK && nadd == 0);
  free(m);

  /* Frame 0's redactions go to a later frame where they stood still. */
  ib.frame = 1;
  mv_rect *rs = NULL;
  size_t nrs = 0;
  CHECK(mv_cine_from_frame0(&c, &ib, &rs, &nrs) == MV_OK && nrs == 1 &&
        rs[0].x == own.x);
  free(rs);
  mv_cine_end(&c);

  /* A redaction that did not stand still (anti-aliased strokes over moving
   * speckle change too) goes to a frame that saw text there itself and
   * did not redact it, and only there. */
  memset(&c, 0, sizeof c);
  c.frames = 3;
  mv_rect read = {60, 10, 120, 16};
  CHECK(mv_cine_note(&c, 1, &read, 1, NULL, W, H) == MV_OK && c.ncarry == 0);
  mv_rect junk = {56, 8, 100, 20}, elsewhere = {250, 10, 120, 16};
  CHECK(mv_cine_saw(&c, 0, junk) == MV_OK &&
        mv_cine_saw(&c, 2, elsewhere) == MV_OK);
  CHECK(mv_cine_missing(&c, 0, &add, &nadd) == MV_OK && nadd == 1 &&
        add[0].x == read.x && add[0].w == read.w);
  free(add);
  CHECK(mv_cine_missing(&c, 2, &add, &nadd) == MV_OK && nadd == 0);
  /* A speck seen inside a large redaction is no corroboration. */
  mv_cine_end(&c);
  memset(&c, 0, sizeof c);
  c.frames = 2;
  mv_rect block = {0, 0, 200, 60}, speck = {50, 30, 6, 6};
  CHECK(mv_cine_note(&c, 1, &block, 1, NULL, W, H) == MV_OK &&
        mv_cine_saw(&c, 0, speck) == MV_OK);
  CHECK(mv_cine_missing(&c, 0, &add, &nadd) == MV_OK && nadd == 0);
  mv_cine_end(&c);

  free(a);
  free(b);
  printf("test_stillline: %d checks, %d failures\n", mv_test_checks,
         mv_test_failures);
  return mv_test_failures != 0;
}
