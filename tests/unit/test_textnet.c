/* test_textnet.c - mv_textnet: the model file is checked as it loads; a
 * window's logits equal those of the whole image computed directly (the
 * reach around the window is enough); a redaction follows the marked
 * columns of its line across word gaps and stops at a wider gap; turned
 * lines are followed down their rows; a plane larger than a tile maps as
 * one; a line is found by itself only when
 * its marks are shaped like one. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mv_test.h"
#include "mv_textnet.h"

static char dir[] = "/tmp/mv_textnet_XXXXXX";

static const char *model(const char *name, const char *text) {
  static char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

/* Direct "same"-padded convolution of the whole image, as training ran:
 * two layers (2->2, 3x3, dilation 2, ReLU; 2->1, 3x3, dilation 1). */
static const float W1[2][2][9] = {
    {{0.1f, -0.2f, 0.3f, 0.0f, 0.5f, -0.1f, 0.2f, 0.1f, -0.3f},
     {0.2f, 0.1f, 0.0f, -0.4f, 0.3f, 0.2f, 0.0f, 0.1f, 0.1f}},
    {{-0.3f, 0.2f, 0.1f, 0.4f, -0.2f, 0.0f, 0.1f, 0.3f, 0.2f},
     {0.0f, 0.0f, 0.2f, 0.1f, 0.1f, -0.1f, 0.3f, 0.0f, 0.2f}}};
static const float B1[2] = {0.05f, -0.1f};
static const float W2[2][9] = {{0.2f, 0.1f, -0.1f, 0.3f, 0.4f, 0.0f, 0.1f, -0.2f, 0.2f},
                               {-0.1f, 0.3f, 0.2f, 0.0f, 0.5f, 0.1f, 0.0f, 0.2f, -0.3f}};
static const float B2 = -0.2f;

static void direct(const uint8_t *rgb, int w, int h, float *out) {
  float *in = calloc((size_t)2 * w * h, sizeof *in);
  float *mid = calloc((size_t)2 * w * h, sizeof *mid);
  for (int i = 0; i < w * h; i++) {
    const uint8_t *p = rgb + 3 * i;
    int hi = p[0], lo = p[0];
    for (int c = 1; c < 3; c++) {
      if (p[c] > hi) hi = p[c];
      if (p[c] < lo) lo = p[c];
    }
    in[i] = (float)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8) / 255.0f;
    in[w * h + i] = (float)(hi - lo) / 255.0f;
  }
  for (int co = 0; co < 2; co++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        float s = B1[co];
        for (int ci = 0; ci < 2; ci++)
          for (int k = 0; k < 9; k++) {
            int yy = y + (k / 3 - 1) * 2, xx = x + (k % 3 - 1) * 2;
            if (yy >= 0 && yy < h && xx >= 0 && xx < w)
              s += W1[co][ci][k] * in[ci * w * h + yy * w + xx];
          }
        mid[co * w * h + y * w + x] = s > 0 ? s : 0;
      }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float s = B2;
      for (int ci = 0; ci < 2; ci++)
        for (int k = 0; k < 9; k++) {
          int yy = y + k / 3 - 1, xx = x + k % 3 - 1;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w)
            s += W2[ci][k] * mid[ci * w * h + yy * w + xx];
        }
      out[y * w + x] = s;
    }
  free(in);
  free(mid);
}

static const char *two_layer_model(void) {
  static char text[4096];
  size_t n = 0;
  n += snprintf(text + n, sizeof text - n, "medveil-textnet 1 2\nconv 2 2 3 2\n");
  for (int co = 0; co < 2; co++)
    for (int ci = 0; ci < 2; ci++)
      for (int k = 0; k < 9; k++)
        n += snprintf(text + n, sizeof text - n, "%g ", W1[co][ci][k]);
  n += snprintf(text + n, sizeof text - n, "\n%g %g\nconv 2 1 3 1\n", B1[0], B1[1]);
  for (int ci = 0; ci < 2; ci++)
    for (int k = 0; k < 9; k++)
      n += snprintf(text + n, sizeof text - n, "%g ", W2[ci][k]);
  snprintf(text + n, sizeof text - n, "\n%g\n", B2);
  return text;
}

/* One 1x1 layer: logit = 10 luma - 5, so "text" is whatever is bright. */
static const char *bright_model = "medveil-textnet 1 1\nconv 2 1 1 1\n10 0\n-5\n";

int main(void) {
  CHECK(mkdtemp(dir) != NULL);
  mv_textnet *n = NULL;
  char err[512];

  /* Loading: every malformed model is refused with its reason. */
  CHECK(mv_textnet_load("/nonexistent/textnet.txt", &n, err, sizeof err) == MV_EIO);
  CHECK(strstr(err, "/nonexistent/textnet.txt") != NULL);
  CHECK(mv_textnet_load(model("a", "hello\n"), &n, err, sizeof err) == MV_EFORMAT);
  CHECK(strstr(err, "not a medveil-textnet") != NULL);
  CHECK(mv_textnet_load(model("b", "medveil-textnet 1 1\nconv 3 1 1 1\n1 1 1\n0\n"),
                        &n, err, sizeof err) == MV_EFORMAT);
  CHECK(strstr(err, "layer 1: bad shape") != NULL);
  CHECK(mv_textnet_load(model("c", "medveil-textnet 1 1\nconv 2 1 3 1\n1 2 3\n"), &n,
                        err, sizeof err) == MV_EFORMAT);
  CHECK(strstr(err, "short or bad weights") != NULL);
  CHECK(mv_textnet_load(model("d", "medveil-textnet 1 1\nconv 2 2 1 1\n1 0 0 1\n0 0\n"),
                        &n, err, sizeof err) == MV_EFORMAT);
  CHECK(strstr(err, "one channel") != NULL);
  CHECK(mv_textnet_load(model("e", "medveil-textnet 1 1\nconv 2 1 1 1\nnan 0\n0\n"), &n,
                        err, sizeof err) == MV_EFORMAT);
  CHECK(n == NULL);

  /* A window's logits are the whole image's, borders included. */
  CHECK(mv_textnet_load(model("two", two_layer_model()), &n, err, sizeof err) == MV_OK);
  CHECK(mv_textnet_radius(n) == 3);
  enum { IW = 40, IH = 30 };
  uint8_t *rgb = malloc(IW * IH * 3);
  for (int i = 0; i < IW * IH * 3; i++) rgb[i] = (uint8_t)((i * 37 + (i / 7) * 11) & 255);
  float *full = malloc(IW * IH * sizeof *full), *win = malloc(IW * IH * sizeof *win);
  direct(rgb, IW, IH, full);
  mv_image v = mv_test_view(rgb, IW, IH, 3);
  mv_rect wins[] = {{10, 8, 12, 9}, {0, 0, 5, 4}, {30, 20, 10, 10}, {0, 0, IW, IH}};
  for (size_t k = 0; k < sizeof wins / sizeof *wins; k++) {
    mv_rect r = wins[k];
    CHECK(mv_textnet_logits(n, &v, r, win) == MV_OK);
    float worst = 0;
    for (int y = 0; y < r.h; y++)
      for (int x = 0; x < r.w; x++) {
        float d = fabsf(win[y * r.w + x] - full[(r.y + y) * IW + r.x + x]);
        if (d > worst) worst = d;
      }
    CHECK(worst < 1e-4f);
  }
  CHECK(mv_textnet_logits(n, &v, (mv_rect){35, 0, 10, 5}, win) == MV_EINVAL);
  /* A plane wider and taller than a tile: the tiled map is the whole
   * window's. */
  enum { BW = 1100, BH = 1030 };
  uint8_t *big = malloc((size_t)BW * BH);
  for (size_t i = 0; i < (size_t)BW * BH; i++) big[i] = (uint8_t)((i * 2654435761u) >> 24);
  mv_image bv = mv_test_view(big, BW, BH, 1);
  float *whole = malloc((size_t)BW * BH * sizeof *whole), *tiled = NULL;
  CHECK(mv_textnet_logits(n, &bv, (mv_rect){0, 0, BW, BH}, whole) == MV_OK);
  CHECK(mv_textnet_map(n, &bv, &tiled) == MV_OK);
  float bworst = 0;
  for (size_t i = 0; tiled && i < (size_t)BW * BH; i++)
    if (fabsf(tiled[i] - whole[i]) > bworst) bworst = fabsf(tiled[i] - whole[i]);
  CHECK(tiled && bworst < 1e-4f);
  free(tiled);
  free(whole);
  free(big);
  mv_textnet_free(n);
  free(full);
  free(win);
  free(rgb);

  /* Following a line: bright "words" on black, rows 20..29, 6 px word
   * gaps; a redaction over one word grows over the others. */
  CHECK(mv_textnet_load(model("bright", bright_model), &n, err, sizeof err) == MV_OK);
  enum { W = 400, H = 60 };
  uint8_t *px = calloc(W, H);
  for (int y = 20; y < 30; y++)
    for (int x = 40; x < 220; x++)
      if ((x - 40) % 36 < 30) px[y * W + x] = 220;
  /* Far beyond a gap of three heights: another line's block. */
  for (int y = 20; y < 30; y++)
    for (int x = 260; x < 300; x++) px[y * W + x] = 220;
  v = mv_test_view(px, W, H, 1);
  mv_rect r = {112, 20, 30, 10};
  CHECK(mv_textnet_complete(n, &v, NULL, &r, 0) == 1);
  CHECK(r.x == 40 && r.x + r.w == 214);
  CHECK(r.y == 20 && r.h == 10);
  /* Nothing marked beside it: unchanged. */
  /* The same with the whole view's map. */
  float *map = NULL;
  CHECK(mv_textnet_map(n, &v, &map) == MV_OK);
  r = (mv_rect){112, 20, 30, 10};
  CHECK(mv_textnet_complete(n, &v, map, &r, 0) == 1);
  CHECK(r.x == 40 && r.x + r.w == 214 && r.y == 20 && r.h == 10);
  r = (mv_rect){262, 20, 30, 10};
  CHECK(mv_textnet_complete(n, &v, map, &r, 0) == 1); /* over its own block */
  CHECK(r.x == 260 && r.x + r.w == 300);
  /* Nothing marked beside it: unchanged. */
  r = (mv_rect){260, 20, 40, 10};
  CHECK(mv_textnet_complete(n, &v, NULL, &r, 0) == 0);
  CHECK(mv_textnet_complete(n, &v, map, &r, 0) == 0);
  free(map);

  /* A turned line: the same words down the rows. */
  memset(px, 0, W * H);
  for (int y = 2; y < 58; y++)
    for (int x = 100; x < 108; x++)
      if ((y - 2) % 14 < 11) px[y * W + x] = 220;
  r = (mv_rect){100, 30, 8, 9};
  CHECK(mv_textnet_complete(n, &v, NULL, &r, 1) == 1);
  CHECK(r.y == 2 && r.y + r.h == 55 && r.x == 100 && r.w == 8);

  /* Lines by themselves: a marked bar shaped like a line is one; a square
   * block, a 3 px rule and a ragged scatter are not. */
  memset(px, 0, W * H);
  for (int y = 10; y < 22; y++)
    for (int x = 20; x < 120; x++) px[y * W + x] = 230; /* line 100 x 12 */
  for (int y = 5; y < 45; y++)
    for (int x = 150; x < 190; x++) px[y * W + x] = 230; /* square */
  for (int y = 50; y < 53; y++)
    for (int x = 20; x < 200; x++) px[y * W + x] = 230; /* rule */
  for (int y = 10; y < 40; y++)
    for (int x = 220; x < 300; x++)
      if ((x * 7 + y * 13) % 5 == 0) px[y * W + x] = 230; /* scatter */
  mv_rect *lines = NULL;
  size_t nlines = 0;
  CHECK(mv_textnet_map(n, &v, &map) == MV_OK);
  CHECK(mv_textnet_lines(map, W, (mv_rect){0, 0, W, H}, &lines, &nlines) == MV_OK);
  CHECK(nlines == 1);
  CHECK(nlines && lines[0].x == 20 && lines[0].y == 10 && lines[0].w == 100 &&
        lines[0].h == 12);
  free(lines);
  /* Only inside the area asked for. */
  CHECK(mv_textnet_lines(map + 200, W, (mv_rect){200, 0, 200, H}, &lines, &nlines) ==
        MV_OK);
  CHECK(nlines == 0 && lines == NULL);
  /* The line's area alone: found at its place in the view. */
  CHECK(mv_textnet_lines(map + 5 * W + 10, W, (mv_rect){10, 5, 130, 30}, &lines,
                         &nlines) == MV_OK);
  CHECK(nlines == 1 && lines[0].x == 20 && lines[0].y == 10);
  free(lines);
  free(map);

  /* Marks bleeding off a line into a busy ground below it (colour flow
   * under a small accession number): the box is under-filled, the line is
   * its core. The same shape marked unsurely, and a block too short for a
   * line until trimmed, are not lines. */
  enum { MW = 320, MH = 60 };
  float *lm = malloc(MW * MH * sizeof *lm);
  CHECK(lm != NULL);
  for (size_t i = 0; lm && i < MW * MH; i++) lm[i] = -4.0f;
  for (int y = 10; lm && y < 36; y++)
    for (int x = 10; x < 110; x++) {
      int core = y < 22, streak = x % 5 == 0;
      if (core || streak) lm[y * MW + x] = core ? 3.0f : 1.0f;
      /* the second copy: its core half sure only */
      if (core || streak)
        lm[y * MW + x + 110] = core && x < 60 ? 3.0f : 1.0f;
    }
  for (int y = 10; lm && y < 30; y++) /* 38 x 19 block, one row under it */
    for (int x = 240; x < 278; x++)
      if (y < 29 || x < 248) lm[y * MW + x] = 3.0f;
  lines = NULL;
  nlines = 0;
  CHECK(lm && mv_textnet_lines(lm, MW, (mv_rect){0, 0, MW, MH}, &lines, &nlines) ==
                  MV_OK);
  CHECK(nlines == 1);
  CHECK(nlines && lines[0].x == 10 && lines[0].y == 10 && lines[0].w == 100 &&
        lines[0].h == 12);
  free(lines);
  free(lm);
  mv_textnet_free(n);
  free(px);
  TEST_MAIN_END();
}
