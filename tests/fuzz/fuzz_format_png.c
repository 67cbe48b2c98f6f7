/* fuzz_format_png.c - libFuzzer target for the PNG format plugin.
 *
 * The plugin sources are compiled into this binary with CRC checks off
 * (MVPNG_FUZZ_NO_CRC), so mutations reach the chunk, text and pixel code
 * instead of stopping at the first checksum. Each input is written to a
 * private scratch dir (fuzz_host.h; open() takes a path) and driven the
 * way the core drives a document:
 *
 *   probe -> open -> visit (collect) -> visit (decisions: keep, remove,
 *   empty, skip, set_value, rarely abort) -> get/set/remove by key ->
 *   pixel_info -> acquire -> (fill a rectangle) -> release -> drop hidden
 *   -> write -> close -> re-open the output (must succeed) -> visit ->
 *   acquire -> close
 *
 * Decisions come from the input's last bytes used as a tape, so every run
 * of one input is the same. Invariants that abort: an output that does not
 * re-open, a failed write, malformed mv_attr fields or images, error
 * strings without a terminator. Everything handed out is read in full so
 * ASan checks the borrowed memory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_host.h"
#include "medveil/plugin.h"

const mv_plugin *mv_plugin_entry(void);

static const mv_format_ops *F;
static void *S;
static char in_path[120], out_path[120];

typedef struct tape {
  const uint8_t *p;
  size_t n, i;
  mv_doc *doc;
  volatile unsigned sink;
} tape;

static unsigned next(tape *t) { return t->n ? t->p[t->i++ % t->n] : 0; }

static void touch(tape *t, const void *p, size_t n) {
  const volatile uint8_t *b = p;
  unsigned s = 0;
  for (size_t i = 0; i < n; i++) s += b[i];
  t->sink += s;
}

static void check_attr(tape *t, const mv_attr *a) {
  if (a->tag != 0 || a->vr[0] || a->depth != 0) fuzz_die("attr fields", NULL);
  if (!a->name || strncmp(a->name, "png:", 4) != 0) fuzz_die("attr name", NULL);
  touch(t, a->name, strlen(a->name) + 1);
  if (a->value) {
    touch(t, a->value, a->len);
    if (a->value[a->len] != 0) fuzz_die("text value not terminated", a->name);
  }
}

static int collect(void *ud, const mv_attr *a, void *h) {
  (void)h;
  check_attr(ud, a);
  return MV_VISIT_KEEP;
}

static const char *const values[] = {
    "", "x", "plain latin \xe9", "\xe2\x82\xac euro", "2001-02-03T04:05:06",
    "1999-13-40T99:99:99", ("bad\xff" "utf8")};

static int decide(void *ud, const mv_attr *a, void *h) {
  tape *t = ud;
  check_attr(t, a);
  switch (next(t) % 9) {
    case 0: case 1: case 2:
      return MV_VISIT_KEEP;
    case 3:
      return MV_VISIT_REMOVE;
    case 4:
      return MV_VISIT_EMPTY;
    case 5: case 6: {
      const char *v = values[next(t) % (sizeof values / sizeof *values)];
      F->set_value(t->doc, h, v, strlen(v));
      return MV_VISIT_KEEP;
    }
    case 7:
      return MV_VISIT_SKIP;
    default:
      return next(t) % 8 == 0 ? MV_VISIT_ABORT : MV_VISIT_KEEP;
  }
}

static void check_image(tape *t, const mv_image *img) {
  if (!img->data || !img->width || !img->height) fuzz_die("empty image", NULL);
  if (img->samples != 1 && img->samples != 3) fuzz_die("samples", NULL);
  if (img->bits != 8 && img->bits != 16) fuzz_die("bits", NULL);
  if (img->stride < (size_t)img->width * img->samples * img->bits / 8)
    fuzz_die("stride", NULL);
  touch(t, img->data, img->stride * img->height);
}

static void pixels(tape *t, mv_doc *d, int change) {
  mv_pixel_info info;
  memset(&info, 0, sizeof info);
  info.size = sizeof info;
  if (F->pixel_info(d, &info) != MV_OK) return;
  char err[256];
  for (uint32_t plane = 0; plane < info.planes; plane++) {
    mv_image img;
    memset(err, 0x55, sizeof err);
    if (F->acquire(d, plane, &img, err, sizeof err) != MV_OK) {
      fuzz_check_err(err, sizeof err);
      continue;
    }
    check_image(t, &img);
    mv_rect r = {0, 0, 0, 0};
    size_t n = 0;
    if (change && next(t) % 2) {
      r.x = (int32_t)(next(t) % (img.width + 4)) - 2;
      r.y = (int32_t)(next(t) % (img.height + 4)) - 2;
      r.w = (int32_t)(next(t) % 64) + 1;
      r.h = (int32_t)(next(t) % 64) + 1;
      size_t px = img.bits / 8 * img.samples;
      for (int32_t y = r.y < 0 ? 0 : r.y; y < r.y + r.h && y < (int32_t)img.height; y++)
        for (int32_t x = r.x < 0 ? 0 : r.x; x < r.x + r.w && x < (int32_t)img.width; x++)
          memset((uint8_t *)img.data + img.stride * (size_t)y + px * (size_t)x,
                 (int)next(t), px);
      n = 1;
    }
    if (F->release(d, plane, n ? &r : NULL, n, err, sizeof err) != MV_OK)
      fuzz_die("release failed", err);
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_setup("fuzz_format_png", "png");
  fuzz_path(in_path, sizeof in_path, "in.png");
  fuzz_path(out_path, sizeof out_path, "out.png");
  const mv_plugin *P = mv_plugin_entry();
  char err[256] = "";
  if (P->init(&fuzz_host, NULL, &S, err, sizeof err) != MV_OK) fuzz_die("init", err);
  F = P->format;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  fuzz_write_file(in_path, data, size);
  F->probe(S, data, size < 512 ? size : 512);
  tape t;
  memset(&t, 0, sizeof t);
  size_t tn = size / 4 < 32 ? size / 4 : 32;
  t.p = data + size - tn;
  t.n = tn;
  mv_doc *d = NULL;
  char err[512];
  memset(err, 0x55, sizeof err);
  if (F->open(S, in_path, &d, err, sizeof err) != MV_OK) {
    fuzz_check_err(err, sizeof err);
    if (d) fuzz_die("open failed but returned a document", NULL);
    return 0;
  }
  t.doc = d;
  if (F->visit(d, collect, &t) != MV_OK) fuzz_die("collect visit failed", NULL);
  F->visit(d, decide, &t);
  const char *v;
  size_t n;
  if (F->get(d, "Modality", &v, &n) != MV_OK || n != 2) fuzz_die("Modality", NULL);
  static const char *const keys[] = {"png:tEXt:Comment", "png:tIME",
                                     "png:eXIf", "png:iTXt:Fz", "png:gAMA"};
  for (size_t i = 0; i < 5; i++)
    if (F->get(d, keys[i], &v, &n) == MV_OK) touch(&t, v, n);
  if (next(&t) % 2) F->set(d, "png:tEXt:Fz", NULL, "abc", 3);
  if (next(&t) % 2) F->set(d, "png:iTXt:Fz", NULL, "\xe2\x82\xac", 3);
  if (next(&t) % 2) F->set(d, "png:zTXt:Fz", NULL, "zz", 2);
  if (next(&t) % 3 == 0) F->remove(d, "png:gAMA");
  if (next(&t) % 3 == 0) F->remove(d, "png:tEXt:Fz");
  pixels(&t, d, 1);
  uint32_t dropped = 0;
  if (next(&t) % 2) F->drop_hidden_pixels(d, &dropped);
  memset(err, 0x55, sizeof err);
  if (F->write(d, out_path, err, sizeof err) != MV_OK) fuzz_die("write failed", err);
  F->close(d);
  d = NULL;
  memset(err, 0x55, sizeof err);
  if (F->open(S, out_path, &d, err, sizeof err) != MV_OK)
    fuzz_die("the output does not re-open", err);
  if (F->visit(d, collect, &t) != MV_OK) fuzz_die("visit of the output", NULL);
  pixels(&t, d, 0);
  F->close(d);
  unlink(out_path);
  return 0;
}
