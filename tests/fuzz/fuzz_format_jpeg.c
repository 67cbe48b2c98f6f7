/* fuzz_format_jpeg.c - libFuzzer target for the JPEG format plugin.
 *
 * The plugin sources and plugins/shared (mv_jpegblock) are compiled into
 * this binary, instrumented. Each input is one file, written to a private
 * scratch directory (fuzz_host.h: open() takes a path) and driven the way
 * the core drives it:
 *
 *   probe -> open -> visit (collect) -> drop hidden pixels -> pixel_info ->
 *   acquire, read every byte, paint a rectangle (or not), release ->
 *   visit (keep/remove/empty/skip/set_value from a tape) -> get/set/remove
 *   by name -> write -> close -> re-open the output (must succeed) ->
 *   visit -> pixel acquire -> close
 *
 * The tape is the input's last 32 bytes, so the fuzzer steers decisions and
 * each run of one input is identical. Aborts (reported by libFuzzer) on:
 * sanitizer findings, leaks, an output that does not open again, malformed
 * mv_attr fields (value not NUL-terminated or length disagreeing), error
 * strings not NUL-terminated or empty on failure, a plane whose geometry
 * disagrees with pixel_info, and Modality other than "XC". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_host.h"
#include "medveil/plugin.h"

const mv_plugin *mv_plugin_entry(void);

static const mv_plugin *P;
static const mv_format_ops *F;
static void *S;
static char in_path[112], out_path[112];

static volatile uint32_t sink;
static void touch(const void *p, size_t n) {
  const uint8_t *b = p;
  uint32_t h = 0;
  for (size_t i = 0; i < n; i++) h = h * 31 + b[i];
  sink = h;
}

static void check_err(int rc, const char *err, size_t cap) {
  fuzz_check_err(err, cap);
  if (rc != MV_OK && rc != MV_ENOMEM && !err[0])
    fuzz_die("failure without a reason", NULL);
}

typedef struct tape {
  const uint8_t *p;
  size_t n, i;
} tape;

static uint8_t next(tape *t) {
  if (!t->n) return 0;
  uint8_t b = t->p[t->i % t->n] ^ (uint8_t)(t->i / t->n * 0x3B);
  t->i++;
  return b;
}

static const char *const kValues[] = {"", "X", "ANON", "6", "65536", "-1",
                                      "\xC3\x84\xC3\x96", "a\\b"};
#define NVALUES (sizeof kValues / sizeof *kValues)

typedef struct apply {
  mv_doc *doc;
  tape t;
  char names[8][48];
  int nnames;
} apply;

static void check_attr(const mv_attr *a) {
  if (!a->name) fuzz_die("mv_attr.name is NULL", NULL);
  touch(a->name, strlen(a->name) + 1);
  if (strncmp(a->name, "jpeg:", 5) != 0) fuzz_die("name outside jpeg:", a->name);
  if (a->tag || a->depth || a->parents || a->is_meta || a->vr[0])
    fuzz_die("DICOM fields set on a JPEG attribute", a->name);
  if (a->value) {
    touch(a->value, a->len + 1);
    if (a->value[a->len] != 0 || strlen(a->value) != a->len)
      fuzz_die("mv_attr.value length or terminator wrong", a->name);
  }
}

static int visit_collect(void *ud, const mv_attr *a, void *handle) {
  (void)handle;
  apply *ap = ud;
  check_attr(a);
  if (ap->nnames < 8)
    snprintf(ap->names[ap->nnames++], sizeof ap->names[0], "%s", a->name);
  return MV_VISIT_KEEP;
}

static int visit_apply(void *ud, const mv_attr *a, void *handle) {
  apply *ap = ud;
  check_attr(a);
  uint8_t b = next(&ap->t);
  switch (b % 8) {
  case 0: case 1: return MV_VISIT_REMOVE;
  case 2: return MV_VISIT_EMPTY;
  case 3: return MV_VISIT_SKIP;
  case 4: {
    const char *v = kValues[next(&ap->t) % NVALUES];
    F->set_value(ap->doc, handle, v, strlen(v));
    return MV_VISIT_KEEP;
  }
  case 5:
    return b == 0xFD ? MV_VISIT_ABORT : MV_VISIT_KEEP;
  default: return MV_VISIT_KEEP;
  }
}

static int visit_count(void *ud, const mv_attr *a, void *handle) {
  (void)handle;
  check_attr(a);
  (*(int *)ud)++;
  return MV_VISIT_KEEP;
}

static void pixels(mv_doc *doc, tape *t, int paint) {
  mv_pixel_info info;
  memset(&info, 0, sizeof info);
  info.size = sizeof info;
  if (F->pixel_info(doc, &info) != MV_OK) return;
  if (info.planes != 1) fuzz_die("JPEG with more than one plane", NULL);
  char err[256];
  memset(err, 0x55, sizeof err);
  err[0] = 0;
  mv_image img;
  int rc = F->acquire(doc, 0, &img, err, sizeof err);
  check_err(rc, err, sizeof err);
  if (rc != MV_OK) return;
  if (img.width != info.width || img.height != info.height ||
      img.bits != 8 || img.stride != (size_t)img.width * img.samples)
    fuzz_die("acquired plane disagrees with pixel_info", NULL);
  touch(img.data, img.stride * img.height);
  mv_rect r = {0, 0, 0, 0};
  size_t n = 0;
  if (paint && (next(t) & 1)) {
    r.x = next(t) % (img.width ? img.width : 1);
    r.y = next(t) % (img.height ? img.height : 1);
    r.w = 1 + next(t) % 40;
    r.h = 1 + next(t) % 40;
    for (int32_t y = r.y; y < r.y + r.h && y < (int32_t)img.height; y++)
      for (int32_t x = r.x; x < r.x + r.w && x < (int32_t)img.width; x++)
        memset((uint8_t *)img.data + y * img.stride + x * img.samples, 0,
               img.samples);
    n = 1;
  }
  err[0] = 0;
  rc = F->release(doc, 0, n ? &r : NULL, n, err, sizeof err);
  check_err(rc, err, sizeof err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_setup("fuzz_format_jpeg", "jpeg");
  P = mv_plugin_entry();
  F = P->format;
  char err[256] = "";
  if (P->init(&fuzz_host, NULL, &S, err, sizeof err) != MV_OK) fuzz_die("init", err);
  fuzz_path(in_path, sizeof in_path, "in.jpg");
  fuzz_path(out_path, sizeof out_path, "out.jpg");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  int score = F->probe(S, data, size < 512 ? size : 512);
  if (score < 0 || score > 100) fuzz_die("probe out of range", NULL);
  fuzz_write_file(in_path, data, size);
  mv_doc *doc = NULL;
  char err[256];
  memset(err, 0x55, sizeof err);
  err[0] = 0;
  int rc = F->open(S, in_path, &doc, err, sizeof err);
  check_err(rc, err, sizeof err);
  if (rc != MV_OK) return 0;

  apply ap;
  memset(&ap, 0, sizeof ap);
  ap.doc = doc;
  ap.t.p = data + (size > 32 ? size - 32 : 0);
  ap.t.n = size > 32 ? 32 : size;
  if (F->visit(doc, visit_collect, &ap) != MV_OK) fuzz_die("collect visit failed", NULL);
  const char *v = NULL;
  size_t len = 0;
  if (F->get(doc, "Modality", &v, &len) != MV_OK || len != 2 ||
      memcmp(v, "XC", 2) != 0)
    fuzz_die("Modality is not XC", NULL);
  if (next(&ap.t) & 1) {
    uint32_t dropped = 0;
    if (F->drop_hidden_pixels(doc, &dropped) != MV_OK) fuzz_die("drop_hidden", NULL);
  }
  pixels(doc, &ap.t, 1);
  rc = F->visit(doc, visit_apply, &ap);
  if (rc != MV_OK && rc != MV_EREJECT) fuzz_die("apply visit failed", NULL);
  for (int i = 0; i < ap.nnames; i++) {
    uint8_t b = next(&ap.t);
    if (F->get(doc, ap.names[i], &v, &len) == MV_OK) touch(v, len + 1);
    if (b % 4 == 0) F->remove(doc, ap.names[i]);
    if (b % 4 == 1) {
      const char *nv = kValues[b / 4 % NVALUES];
      if (F->set(doc, ap.names[i], NULL, nv, strlen(nv)) == MV_OK &&
          F->get(doc, ap.names[i], &v, &len) == MV_OK)
        touch(v, len + 1);
    }
  }
  err[0] = 0;
  rc = F->write(doc, out_path, err, sizeof err);
  check_err(rc, err, sizeof err);
  F->close(doc);
  if (rc != MV_OK) return 0;

  doc = NULL;
  err[0] = 0;
  rc = F->open(S, out_path, &doc, err, sizeof err);
  check_err(rc, err, sizeof err);
  if (rc != MV_OK) fuzz_die("written output does not open again", err);
  int count = 0;
  F->visit(doc, visit_count, &count);
  pixels(doc, &ap.t, 0);
  F->close(doc);
  return 0;
}
