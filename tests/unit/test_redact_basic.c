/* test_redact_basic.c - the redact-basic plugin.
 *
 * dlopens build/plugins/redact-basic.so and runs fill, fill:<value>, blur
 * and pixelate on 8-bit grey, 16-bit signed (12 bits stored), 16-bit
 * MONOCHROME1 and 8-bit RGB planes with padded rows. Checks: not one byte
 * outside the (clipped) rectangles changes; fill is uniform with the right
 * value; blur and pixelate flatten a planted high-contrast pattern;
 * rectangles partly or wholly outside the image, and empty ones, are safe. */
#include "medveil/plugin.h"
#define MV_TEST_PLUGINS
#include "mv_test.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mv_redactor_ops *R;

enum { W = 64, H = 48 };

typedef struct kind {
  const char *name;
  uint32_t samples, bits, bits_stored;
  int is_signed, monochrome1;
  int32_t lo, hi;      /* value range used for the content */
} kind;

static const kind kKinds[] = {
    {"grey8", 1, 8, 8, 0, 0, 0, 255},
    {"signed16", 1, 16, 12, 1, 0, -2048, 2047},
    {"mono1-16", 1, 16, 12, 0, 1, 0, 4095},
    {"rgb8", 3, 8, 8, 0, 0, 0, 255},
};

/* The planted pattern lives in kText; the other rectangles only test
 * clipping and empty input. */
static const mv_rect kText = {10, 8, 30, 16};
static const mv_rect kRects[] = {
    {10, 8, 30, 16},      /* the text */
    {-10, -10, 15, 15},   /* hangs over the top-left corner: [0,5) x [0,5) */
    {60, 40, 100, 100},   /* hangs over the bottom-right: [60,64) x [40,48) */
    {5, 30, 0, 10},       /* empty */
    {5, 30, 10, -3},      /* negative */
    {1000, 1000, 5, 5},   /* outside */
    {-50, 20, 10, 5},     /* outside, left */
};

static size_t bps(const kind *k) { return k->bits / 8; }

static int32_t get(const mv_image *img, const kind *k, uint32_t x, uint32_t y, uint32_t c) {
  const uint8_t *row = (const uint8_t *)img->data + (size_t)y * img->stride;
  size_t i = (size_t)x * k->samples + c;
  if (k->bits == 8) return row[i];
  if (k->is_signed) return ((const int16_t *)(const void *)row)[i];
  return ((const uint16_t *)(const void *)row)[i];
}

static void put(mv_image *img, const kind *k, uint32_t x, uint32_t y, uint32_t c, int32_t v) {
  uint8_t *row = (uint8_t *)img->data + (size_t)y * img->stride;
  size_t i = (size_t)x * k->samples + c;
  if (k->bits == 8) row[i] = (uint8_t)v;
  else if (k->is_signed) ((int16_t *)(void *)row)[i] = (int16_t)v;
  else ((uint16_t *)(void *)row)[i] = (uint16_t)v;
}

static int in_rect(const mv_rect *r, uint32_t x, uint32_t y) {
  return r->w > 0 && r->h > 0 && (int64_t)x >= r->x && (int64_t)x < (int64_t)r->x + r->w &&
         (int64_t)y >= r->y && (int64_t)y < (int64_t)r->y + r->h;
}

/* Background: smooth noise in the middle of the range. Inside kText: a
 * 1-pixel checkerboard of the extremes with 3-pixel-wide vertical strokes,
 * i.e. the highest contrast there is. One pixel outside holds the darkest
 * value (the min, or the max for MONOCHROME1). Row padding is 0xA5. */
static mv_image make(const kind *k, uint8_t **buf) {
  mv_image img;
  memset(&img, 0, sizeof img);
  img.width = W;
  img.height = H;
  img.samples = k->samples;
  img.bits = k->bits;
  img.bits_stored = k->bits_stored;
  img.is_signed = k->is_signed;
  img.monochrome1 = k->monochrome1;
  img.stride = W * k->samples * bps(k) + 6; /* padded, still even */
  *buf = malloc(img.stride * H);
  memset(*buf, 0xA5, img.stride * H);
  img.data = *buf;
  uint32_t seed = 12345;
  const int32_t mid = (k->lo + k->hi) / 2, span = (k->hi - k->lo) / 8;
  for (uint32_t y = 0; y < H; y++)
    for (uint32_t x = 0; x < W; x++)
      for (uint32_t c = 0; c < k->samples; c++) {
        seed = seed * 1103515245u + 12345u;
        int32_t v = mid + (int32_t)((seed >> 16) % (uint32_t)(2 * span + 1)) - span;
        if (in_rect(&kText, x, y)) {
          int stroke = ((x - kText.x) / 3) % 2;
          v = ((x + y) % 2) ^ stroke ? k->hi : k->lo;
        }
        put(&img, k, x, y, c, v);
      }
  /* The darkest value sits outside every rectangle. */
  put(&img, k, 50, 2, 0, k->monochrome1 ? k->hi : k->lo);
  return img;
}

/* Bytes that belong to pixels inside any rectangle (clipped). */
static unsigned char *changeable(const mv_image *img, const kind *k) {
  unsigned char *m = calloc(img->stride * H, 1);
  for (size_t r = 0; r < sizeof kRects / sizeof kRects[0]; r++)
    for (uint32_t y = 0; y < H; y++)
      for (uint32_t x = 0; x < W; x++)
        if (in_rect(&kRects[r], x, y))
          memset(m + (size_t)y * img->stride + (size_t)x * k->samples * bps(k), 1,
                 k->samples * bps(k));
  return m;
}

static double variance_in_text(const mv_image *img, const kind *k, uint32_t c) {
  double s = 0, s2 = 0, n = 0;
  for (int32_t y = kText.y; y < kText.y + kText.h; y++)
    for (int32_t x = kText.x; x < kText.x + kText.w; x++) {
      double v = get(img, k, (uint32_t)x, (uint32_t)y, c);
      s += v;
      s2 += v * v;
      n++;
    }
  return s2 / n - (s / n) * (s / n);
}

static void run_method(const kind *k, const char *method) {
  uint8_t *orig_buf, *buf;
  mv_image orig = make(k, &orig_buf);
  mv_image img = make(k, &buf);
  char err[200] = "";
  int rc = R->redact(NULL, method, &img, kRects, sizeof kRects / sizeof kRects[0], err,
                     sizeof err);
  if (rc != MV_OK) fprintf(stderr, "%s %s: %s\n", k->name, method, err);
  CHECK(rc == MV_OK);

  /* Not one byte outside the rectangles changed (padding included). */
  unsigned char *m = changeable(&img, k);
  size_t outside = 0, inside_changed = 0;
  for (size_t i = 0; i < img.stride * H; i++) {
    if (!m[i] && buf[i] != orig_buf[i]) outside++;
    if (m[i] && buf[i] != orig_buf[i]) inside_changed++;
  }
  if (outside) fprintf(stderr, "%s %s: %zu bytes changed outside\n", k->name, method, outside);
  CHECK(outside == 0);
  CHECK(inside_changed > 0);

  /* Every value inside stays in the range bits_stored allows. */
  const int32_t vlo = k->is_signed ? -(1 << (k->bits_stored - 1)) : 0;
  const int32_t vhi = k->is_signed ? (1 << (k->bits_stored - 1)) - 1 : (1 << k->bits_stored) - 1;
  size_t out_of_range = 0;
  for (uint32_t y = 0; y < H; y++)
    for (uint32_t x = 0; x < W; x++)
      for (uint32_t c = 0; c < k->samples; c++) {
        int32_t v = get(&img, k, x, y, c);
        if (v < vlo || v > vhi) out_of_range++;
      }
  CHECK(out_of_range == 0);

  for (uint32_t c = 0; c < k->samples; c++) {
    double before = variance_in_text(&orig, k, c), after = variance_in_text(&img, k, c);
    if (!strncmp(method, "fill", 4)) {
      int32_t want;
      if (method[4] == ':') want = atoi(method + 5);
      else if (k->samples == 3) want = 0;
      else want = k->monochrome1 ? k->hi : k->lo;
      size_t wrong = 0;
      for (size_t r = 0; r < 3; r++) /* the three rectangles that reach the image */
        for (uint32_t y = 0; y < H; y++)
          for (uint32_t x = 0; x < W; x++)
            if (in_rect(&kRects[r], x, y) && get(&img, k, x, y, c) != want) wrong++;
      if (wrong) fprintf(stderr, "%s %s: %zu pixels not %d\n", k->name, method, wrong, want);
      CHECK(wrong == 0);
    } else {
      /* The pattern is flattened: at most 1% of its variance is left. */
      if (!(after < before * 0.01))
        fprintf(stderr, "%s %s: variance %.1f -> %.1f\n", k->name, method, before, after);
      CHECK(before > 0 && after < before * 0.01);
    }
  }
  free(m);
  free(orig_buf);
  free(buf);
}

/* Strokes whose column means differ: blur must still flatten them; and a
 * pixelate block never straddles the rectangle's edge. */
static void test_strokes(void) {
  const kind *k = &kKinds[0];
  uint8_t *buf;
  mv_image img = make(k, &buf);
  for (int32_t y = kText.y; y < kText.y + kText.h; y++)
    for (int32_t x = kText.x; x < kText.x + kText.w; x++)
      put(&img, k, (uint32_t)x, (uint32_t)y, 0, ((x - kText.x) / 3) % 2 ? 255 : 0);
  double before = variance_in_text(&img, k, 0);
  char err[200];
  CHECK(R->redact(NULL, "blur", &img, &kText, 1, err, sizeof err) == MV_OK);
  double after = variance_in_text(&img, k, 0);
  if (!(after < before * 0.01)) fprintf(stderr, "strokes blur: %.1f -> %.1f\n", before, after);
  CHECK(after < before * 0.01);
  free(buf);
}

static void test_errors(void) {
  const kind *k = &kKinds[1]; /* signed, 12 bits stored */
  uint8_t *buf;
  mv_image img = make(k, &buf);
  char err[200];
  static const char *const bad[] = {"smudge", "fill:", "fill:abc", "fill:2048",
                                    "fill:-2049", "fill:1x", "FILL", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    CHECK(R->redact(NULL, bad[i], &img, kRects, 1, err, sizeof err) == MV_EINVAL);
    CHECK(err[0] != '\0');
  }
  CHECK(R->redact(NULL, NULL, &img, kRects, 1, err, sizeof err) == MV_EINVAL);
  CHECK(R->redact(NULL, "fill:-2048", &img, kRects, 1, err, sizeof err) == MV_OK);
  /* 8-bit and RGB ranges. */
  uint8_t *b8;
  mv_image g8 = make(&kKinds[0], &b8);
  CHECK(R->redact(NULL, "fill:256", &g8, kRects, 1, err, sizeof err) == MV_EINVAL);
  CHECK(R->redact(NULL, "fill:-1", &g8, kRects, 1, err, sizeof err) == MV_EINVAL);
  /* No rectangles: nothing to do. */
  CHECK(R->redact(NULL, "blur", &g8, NULL, 0, err, sizeof err) == MV_OK);
  /* Bad images. */
  mv_image odd = g8;
  odd.bits = 12;
  CHECK(R->redact(NULL, "fill", &odd, kRects, 1, err, sizeof err) == MV_EINVAL);
  odd = g8;
  odd.stride = W - 1;
  CHECK(R->redact(NULL, "fill", &odd, kRects, 1, err, sizeof err) == MV_EINVAL);
  odd = g8;
  odd.samples = 3;
  odd.bits = 16;
  CHECK(R->redact(NULL, "fill", &odd, kRects, 1, err, sizeof err) == MV_EINVAL);
  CHECK(R->redact(NULL, "fill", NULL, kRects, 1, err, sizeof err) == MV_EINVAL);
  free(buf);
  free(b8);
}

int main(void) {
  const mv_plugin *P = mv_test_load_plugin(MV_BUILD_PLUGIN_DIR "/redact-basic.so");
  CHECK(P != NULL);
  if (!P) TEST_MAIN_END();
  CHECK(P && P->abi == MV_PLUGIN_ABI && P->size >= sizeof(mv_plugin));
  CHECK_STR(P->name, "redact-basic");
  CHECK(P->kinds == MV_KIND_REDACTOR);
  R = P->redactor;
  CHECK(R && R->size >= sizeof(mv_redactor_ops));
  if (!R) TEST_MAIN_END();
  CHECK_STR(R->methods, "fill,blur,pixelate");
  void *state = NULL;
  char err[200];
  CHECK(P->init(NULL, NULL, &state, err, sizeof err) == MV_OK);

  static const char *const methods[] = {"fill", "blur", "pixelate"};
  for (size_t k = 0; k < sizeof kKinds / sizeof kKinds[0]; k++) {
    for (size_t m = 0; m < 3; m++) run_method(&kKinds[k], methods[m]);
  }
  run_method(&kKinds[0], "fill:200");
  run_method(&kKinds[1], "fill:-7");
  run_method(&kKinds[2], "fill:100");
  run_method(&kKinds[3], "fill:255");
  test_strokes();
  test_errors();

  P->fini(state);
  TEST_MAIN_END();
}
