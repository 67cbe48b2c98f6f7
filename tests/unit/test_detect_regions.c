/* test_detect_regions.c - the detect-regions plugin.
 *
 * dlopens build/plugins/detect-regions.so, writes small region files into a
 * temporary models folder and checks matching (first match, nocase, any /
 * all / no, every test), clipping, the ultrasound-region complement, the
 * refusal of bad or looping data files, and the generated
 * region files in models/regions/ of the source tree. */
#include "medveil/plugin.h"
#define MV_TEST_PLUGINS
#include "mv_test.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const mv_plugin *P;
static const mv_detector_ops *D;
static char tmpdir[64];

/* ---- a getter over a key/value table ----------------------------------- */

typedef struct kv {
  const char *key, *value; /* value NULL: binary attribute */
} kv;

#define KV_FAIL "FailingKey" /* the getter reports an internal error */

static int get_kv(void *ud, const char *key, const char **value, size_t *len) {
  const kv *t = ud;
  if (!strcmp(key, KV_FAIL)) return MV_EPLUGIN;
  for (; t && t->key; t++) {
    if (strcmp(t->key, key)) continue;
    if (!t->value) return MV_EUNSUPPORTED;
    *value = t->value;
    if (len) *len = strlen(t->value);
    return MV_OK;
  }
  return MV_ENOTFOUND;
}

/* ---- a sink that collects boxes ------------------------------------------ */

typedef struct boxes {
  mv_box b[512];
  size_t n;
  size_t stop_after; /* 0: never stop */
} boxes;

static int collect(void *ud, const mv_box *b) {
  boxes *bx = ud;
  if (bx->n < sizeof bx->b / sizeof bx->b[0]) bx->b[bx->n++] = *b;
  return bx->stop_after && bx->n >= bx->stop_after;
}

/* ---- helpers ------------------------------------------------------------- */

static void write_file(const char *name, const char *fmt, ...) {
  char path[256];
  snprintf(path, sizeof path, "%s/regions/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fclose(f);
}

static void remove_file(const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/regions/%s", tmpdir, name);
  unlink(path);
}

/* Make a context over `models` with `options`; returns the rc. */
static int new_ctx(const char *models, const char *options, void **state,
                   void **ctx, char *err, size_t errlen) {
  char config[300];
  snprintf(config, sizeof config, "models=%s\n", models);
  err[0] = '\0';
  int rc = P->init(NULL, models ? config : NULL, state, err, errlen);
  if (rc != MV_OK) return rc;
  rc = D->ctx_new(*state, options, ctx, err, errlen);
  if (rc != MV_OK) {
    P->fini(*state);
    *state = NULL;
  }
  return rc;
}

static void free_ctx(void *state, void *ctx) {
  if (ctx) D->ctx_free(ctx);
  if (state) P->fini(state);
}

/* Run detect on a W x H frame (or another plane kind). */
static int run(void *ctx, const kv *attrs, uint32_t W, uint32_t H, uint32_t kind,
               boxes *out, char *err, size_t errlen) {
  mv_image img;
  memset(&img, 0, sizeof img);
  img.width = W;
  img.height = H;
  img.samples = 1;
  img.bits = 8;
  img.bits_stored = 8;
  img.stride = W;
  img.kind = kind;
  mv_detect_input in;
  memset(&in, 0, sizeof in);
  in.size = sizeof in;
  in.image = &img;
  in.native = &img;
  in.get = get_kv;
  in.get_ud = (void *)attrs;
  out->n = 0;
  err[0] = '\0';
  return D->detect(ctx, &in, collect, out, err, errlen);
}

static int rect_eq(mv_rect r, int x, int y, int w, int h) {
  return r.x == x && r.y == y && r.w == w && r.h == h;
}

/* ---- tests ----------------------------------------------------------------- */

static const char *kSite =
    "-- a site's own devices come first\n"
    "return {\n"
    "  { name = \"site-acme\", source = \"test\",\n"
    "    match = { all = { {Modality = {equals = \"US\"}},\n"
    "                      {Manufacturer = {contains = \"acme\", nocase = true}} } },\n"
    "    regions = { {10, 10, 50, 20} } },\n"
    "}\n";

static const char *kStock =
    "return {\n"
    "  { name = \"t-case\", match = {Manufacturer = {contains = \"Initech\"}},\n"
    "    regions = { {1, 1, 1, 1} } },\n"
    "  { name = \"t-logic\",\n"
    "    match = { all = { {no = {Rows = {equals = \"600\"}}},\n"
    "                      {any = { {Modality = {equals = \"MR\"}},\n"
    "                               {Modality = {equals = \"CT\"}} }} } },\n"
    "    regions = { {90, 5, 50, 50}, {0, 30, 0, 0}, {500, 500, 5, 5} } },\n"
    "  { name = \"t-us\", match = {Modality = {equals = \"US\"}},\n"
    "    regions = { {0, 0, 100, 10} } },\n"
    "  { name = \"t-us-2\", match = {Modality = {equals = \"US\"}},\n"
    "    regions = { {0, 0, 5, 5} } },\n"
    "  { name = \"t-starts\", match = {StationName = {startswith = \"ws\", nocase = true}},\n"
    "    regions = { {0, 0, 2, 2} } },\n"
    "  { name = \"t-ends\", match = {StationName = {endswith = \"-7\"}},\n"
    "    regions = { {0, 0, 3, 3} } },\n"
    "  { name = \"t-matches\", match = {StationName = {matches = \"^x+y?z.q$|foo\\\\.bar\"}},\n"
    "    regions = { {0, 0, 4, 4} } },\n"
    "  { name = \"t-lt\", match = { all = { {Rows = {lt = 100}}, {Columns = {gt = 50.5}} } },\n"
    "    regions = { {0, 0, 6, 6} } },\n"
    "  { name = \"t-present\", match = { all = { {PixelSpacing = {present = true}},\n"
    "                                          {BodyPartExamined = {missing = true}},\n"
    "                                          {[\"(0008,0080)\"] = {empty = true}} } },\n"
    "    regions = { {0, 0, 7, 7} } },\n"
    "  { name = \"t-flag\", flag = \"blacklist\", match = {Modality = {equals = \"OT\"}} },\n"
    "  { name = \"t-ot\", match = {Modality = {equals = \"OT\"}}, regions = { {0, 0, 8, 8} } },\n"
    "  { name = \"t-clean\", match = {Modality = {equals = \"XA\"}}, regions = {} },\n"
    "  { name = \"t-usk\", match = {Modality = {equals = \"IVUS\"}}, keep_us_regions = true },\n"
    "  { name = \"t-fail\", match = { all = { {Modality = {equals = \"NM\"}},\n"
    "                                      {" KV_FAIL " = {present = true}} } },\n"
    "    regions = {{0,0,1,1}} },\n"
    "}\n";

static void test_matching(void) {
  write_file("site.lua", "%s", kSite);
  write_file("ctp.lua", "%s", kStock);
  char err[256];
  void *st = NULL, *ctx = NULL;
  int rc = new_ctx(tmpdir, NULL, &st, &ctx, err, sizeof err);
  if (rc != MV_OK) fprintf(stderr, "ctx_new: %s\n", err);
  CHECK(rc == MV_OK);
  if (rc != MV_OK) return;
  boxes bx;

  /* site.lua first; nocase matches "ACME". */
  kv acme[] = {{"Modality", "US"}, {"Manufacturer", "ACME Imaging"}, {NULL, NULL}};
  CHECK(run(ctx, acme, 640, 480, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 1);
  CHECK(bx.n >= 1 && rect_eq(bx.b[0].r, 10, 10, 50, 20));
  CHECK_STR(bx.n >= 1 ? bx.b[0].label : "", "region:site-acme");
  CHECK(bx.n >= 1 && bx.b[0].flags == MV_BOX_REGION && bx.b[0].confidence == 1.0f);

  /* Not ACME: the stock file; its first matching entry only (t-us, not t-us-2). */
  kv other[] = {{"Modality", "US"}, {"Manufacturer", "Other"}, {NULL, NULL}};
  CHECK(run(ctx, other, 640, 480, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 1 && rect_eq(bx.b[0].r, 0, 0, 100, 10));
  CHECK_STR(bx.n ? bx.b[0].label : "", "region:t-us");

  /* Case-sensitive contains: "INITECH" is not "Initech". */
  kv initech[] = {{"Manufacturer", "INITECH"}, {NULL, NULL}};
  CHECK(run(ctx, initech, 64, 64, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 0);
  kv initech2[] = {{"Manufacturer", "  Initech  "}, {NULL, NULL}};
  CHECK(run(ctx, initech2, 64, 64, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 1 && !strcmp(bx.b[0].label, "region:t-case"));

  /* all / any / no, and clipping: (90,5,50,50) on 100x40 -> (90,5,10,35);
   * (0,30,0,0) reaches the edges; (500,500,..) is outside. */
  kv mr[] = {{"Modality", "MR"}, {"Rows", "40"}, {NULL, NULL}};
  CHECK(run(ctx, mr, 100, 40, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 2);
  CHECK(bx.n == 2 && rect_eq(bx.b[0].r, 90, 5, 10, 35));
  CHECK(bx.n == 2 && rect_eq(bx.b[1].r, 0, 30, 100, 10));
  kv mr600[] = {{"Modality", "MR"}, {"Rows", "600"}, {NULL, NULL}};
  CHECK(run(ctx, mr600, 100, 40, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 0); /* `no` excluded it */
  kv pt[] = {{"Modality", "PT"}, {NULL, NULL}};
  CHECK(run(ctx, pt, 100, 40, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 0); /* `any` had no true member */

  /* Overlays and icons are not frames: nothing. */
  CHECK(run(ctx, mr, 100, 40, MV_PLANE_OVERLAY, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 0);
  CHECK(run(ctx, mr, 100, 40, MV_PLANE_ICON, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 0);

  /* The other tests. */
  struct {
    kv attrs[4];
    const char *want;
  } cases[] = {
      {{{"StationName", "WS-12"}}, "region:t-starts"},
      {{{"StationName", "scanner-7"}}, "region:t-ends"},
      {{{"StationName", "xxxzaq"}}, "region:t-matches"},
      {{{"StationName", "xz-q"}}, "region:t-matches"},
      {{{"StationName", "a foo.bar b"}}, "region:t-matches"},
      {{{"StationName", "xxxzaqq"}}, NULL},  /* $ anchors */
      {{{"StationName", "axzaq"}}, NULL},    /* ^ anchors */
      {{{"StationName", "foo-bar"}}, NULL},  /* \. is a dot */
      {{{"Rows", "99"}, {"Columns", "51"}}, "region:t-lt"},
      {{{"Rows", "100"}, {"Columns", "51"}}, NULL},
      {{{"Rows", "99"}, {"Columns", "50.5"}}, NULL},
      {{{"Rows", "9\\9"}, {"Columns", "51"}}, NULL}, /* not a number */
      {{{"PixelSpacing", NULL}, {"(0008,0080)", ""}}, "region:t-present"},
      {{{"PixelSpacing", "1\\1"}, {"(0008,0080)", "  "}}, "region:t-present"},
      {{{"PixelSpacing", "1"}, {"(0008,0080)", "X"}}, NULL},
      {{{"PixelSpacing", "1"}, {"(0008,0080)", ""}, {"BodyPartExamined", "HEAD"}}, NULL},
      {{{"Modality", "OT"}}, "region:t-ot"}, /* the flag entry never matches */
      {{{"Modality", "XA"}}, ""},            /* empty regions: matches, no boxes */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rc = run(ctx, cases[i].attrs, 64, 64, MV_PLANE_FRAME, &bx, err, sizeof err);
    CHECK(rc == MV_OK);
    if (cases[i].want && cases[i].want[0]) {
      if (bx.n != 1 || strcmp(bx.b[0].label, cases[i].want))
        fprintf(stderr, "case %zu: %zu boxes, first %s\n", i, bx.n, bx.n ? bx.b[0].label : "-");
      CHECK(bx.n == 1 && !strcmp(bx.b[0].label, cases[i].want));
    } else {
      if (bx.n) fprintf(stderr, "case %zu: unexpected %s\n", i, bx.b[0].label);
      CHECK(bx.n == 0);
    }
  }

  /* A getter failure is an error naming the key, not a silent miss. */
  kv failing[] = {{"Modality", "NM"}, {NULL, NULL}};
  err[0] = '\0';
  rc = run(ctx, failing, 64, 64, MV_PLANE_FRAME, &bx, err, sizeof err);
  CHECK(rc == MV_EPLUGIN);
  CHECK(strstr(err, KV_FAIL) != NULL);

  /* The sink can stop the detector. */
  bx.stop_after = 1;
  CHECK(run(ctx, mr, 100, 40, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 1);
  bx.stop_after = 0;
  free_ctx(st, ctx);

  /* files= picks and orders the files: without site, ACME falls to t-us. */
  rc = new_ctx(tmpdir, "files=ctp", &st, &ctx, err, sizeof err);
  CHECK(rc == MV_OK);
  if (rc == MV_OK) {
    CHECK(run(ctx, acme, 640, 480, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
    CHECK(bx.n == 1 && !strcmp(bx.b[0].label, "region:t-us"));
    free_ctx(st, ctx);
  }
  remove_file("site.lua");
  remove_file("ctp.lua");
}

/* Mark rectangles in a W x H bitmap; returns how many marks overlapped. */
static size_t paint(unsigned char *map, uint32_t W, uint32_t H, const mv_rect *r) {
  size_t overlaps = 0;
  for (int32_t y = r->y; y < r->y + r->h; y++)
    for (int32_t x = r->x; x < r->x + r->w; x++) {
      if (x < 0 || y < 0 || (uint32_t)x >= W || (uint32_t)y >= H) {
        overlaps++;
        continue;
      }
      if (map[(size_t)y * W + x]++) overlaps++;
    }
  return overlaps;
}

static void check_complement(void *ctx, const kv *attrs, uint32_t W, uint32_t H,
                             const mv_rect *keep, size_t n_keep) {
  char err[256];
  boxes bx;
  int rc = run(ctx, attrs, W, H, MV_PLANE_FRAME, &bx, err, sizeof err);
  CHECK(rc == MV_OK);
  unsigned char *kept = calloc((size_t)W * H, 1), *out = calloc((size_t)W * H, 1);
  if (!kept || !out) {
    free(kept);
    free(out);
    return;
  }
  for (size_t i = 0; i < n_keep; i++) {
    mv_rect r = keep[i];
    for (int32_t y = r.y; y < r.y + r.h; y++)
      for (int32_t x = r.x; x < r.x + r.w; x++)
        if (x >= 0 && y >= 0 && (uint32_t)x < W && (uint32_t)y < H) kept[(size_t)y * W + x] = 1;
  }
  size_t overlaps = 0;
  for (size_t i = 0; i < bx.n; i++) {
    CHECK_STR(bx.b[i].label, "region:outside-us");
    overlaps += paint(out, W, H, &bx.b[i].r);
  }
  CHECK(overlaps == 0); /* disjoint and inside the image */
  size_t wrong = 0;
  for (size_t i = 0; i < (size_t)W * H; i++) wrong += (out[i] != 0) == (kept[i] != 0);
  CHECK(wrong == 0); /* exactly the image minus the regions */
  free(kept);
  free(out);
}

static void test_us_regions(void) {
  write_file("ctp.lua", "%s", kStock);
  char err[256];
  void *st = NULL, *ctx = NULL;
  int rc = new_ctx(tmpdir, "files=ctp;us_regions=keep", &st, &ctx, err, sizeof err);
  if (rc != MV_OK) fprintf(stderr, "ctx_new: %s\n", err);
  CHECK(rc == MV_OK);
  if (rc != MV_OK) return;
  /* Two overlapping regions (max corners inclusive) and one hanging out. */
  kv us[] = {
      {"(0018,6011)[0].(0018,6018)", "20"},  {"(0018,6011)[0].(0018,601A)", "10"},
      {"(0018,6011)[0].(0018,601C)", "119"}, {"(0018,6011)[0].(0018,601E)", "69"},
      {"(0018,6011)[1].(0018,6018)", "100"}, {"(0018,6011)[1].(0018,601A)", "50"},
      {"(0018,6011)[1].(0018,601C)", "159"}, {"(0018,6011)[1].(0018,601E)", "89"},
      {"(0018,6011)[2].(0018,6018)", "180"}, {"(0018,6011)[2].(0018,601A)", "0"},
      {"(0018,6011)[2].(0018,601C)", "400"}, {"(0018,6011)[2].(0018,601E)", "9"},
      {NULL, NULL}};
  const mv_rect keep[] = {{20, 10, 100, 60}, {100, 50, 60, 40}, {180, 0, 221, 10}};
  check_complement(ctx, us, 200, 100, keep, 3);

  /* No regions: nothing, and no error. */
  kv none[] = {{"Modality", "DX"}, {NULL, NULL}};
  boxes bx;
  CHECK(run(ctx, none, 200, 100, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 0);
  free_ctx(st, ctx);

  /* A signature with keep_us_regions does the same without the option. */
  rc = new_ctx(tmpdir, "files=ctp", &st, &ctx, err, sizeof err);
  CHECK(rc == MV_OK);
  if (rc == MV_OK) {
    kv ivus[] = {{"Modality", "IVUS"},
                 {"(0018,6011)[0].(0018,6018)", "0"},  {"(0018,6011)[0].(0018,601A)", "0"},
                 {"(0018,6011)[0].(0018,601C)", "49"}, {"(0018,6011)[0].(0018,601E)", "29"},
                 {NULL, NULL}};
    const mv_rect k1[] = {{0, 0, 50, 30}};
    check_complement(ctx, ivus, 64, 48, k1, 1);
    /* Without the option, an object with regions but no matching
     * signature yields nothing. */
    CHECK(run(ctx, us, 200, 100, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
    CHECK(bx.n == 0);
    free_ctx(st, ctx);
  }
  /* No models folder at all: still works with us_regions. */
  rc = new_ctx(NULL, "us_regions=keep", &st, &ctx, err, sizeof err);
  CHECK(rc == MV_OK);
  if (rc == MV_OK) {
    check_complement(ctx, us, 200, 100, keep, 3);
    free_ctx(st, ctx);
  }
  remove_file("ctp.lua");
}

/* ctx_new over a single file `body` must fail with `want_rc` and a reason
 * containing `want_reason`. */
static void expect_refused(const char *body, int want_rc, const char *want_reason) {
  write_file("bad.lua", "%s", body);
  char err[256];
  void *st = NULL, *ctx = NULL;
  int rc = new_ctx(tmpdir, "files=bad", &st, &ctx, err, sizeof err);
  if (rc != want_rc || !strstr(err, want_reason))
    fprintf(stderr, "refusal: rc %d, reason \"%s\" (want %d, \"%s\")\n", rc, err, want_rc,
            want_reason);
  CHECK(rc == want_rc);
  CHECK(strstr(err, want_reason) != NULL);
  CHECK(strstr(err, "bad.lua") != NULL);
  if (rc == MV_OK) free_ctx(st, ctx);
  remove_file("bad.lua");
}

static void test_bad_files(void) {
  expect_refused("return {", MV_EFORMAT, "bad.lua");
  expect_refused("while true do end return {}", MV_ELIMIT, "instruction limit");
  expect_refused("local t = {} for i = 1, 1e12 do t[i] = {i, i, i} end return t",
                 MV_ELIMIT, "refused");
  expect_refused("return os.execute('true')", MV_EFORMAT, "os");
  expect_refused("return require('io')", MV_EFORMAT, "require");
  expect_refused("return 42", MV_EFORMAT, "must be a table");
  expect_refused("return { { name = 'x', match = {Modality = {equals = 'US'}},"
                 " regions = {{0,0,1,1}}, colour = 'red' } }",
                 MV_EFORMAT, "unknown field 'colour'");
  expect_refused("return { { name = 'x', match = {Modality = {equal = 'US'}},"
                 " regions = {{0,0,1,1}} } }",
                 MV_EFORMAT, "unknown test 'equal'");
  expect_refused("return { { name = 'x', match = {Modality = {matches = '(a|b)'}},"
                 " regions = {{0,0,1,1}} } }",
                 MV_EFORMAT, "subset");
  expect_refused("return { { name = 'x', match = {Modality = {equals = 'US'}},"
                 " regions = {{0,0,-1,1}} } }",
                 MV_EFORMAT, "entry 1 (x)");
  expect_refused("return { { name = 'x', match = {Modality = {equals = 'US'}} } }",
                 MV_EFORMAT, "needs regions");
  expect_refused("return { { name = 'x', match = { Modality = {equals = 'US'},"
                 " Rows = {equals = '1'} }, regions = {} } }",
                 MV_EFORMAT, "exactly one key");
  expect_refused("local e = {} e.no = e return { { name = 'x', match = e, regions = {} } }",
                 MV_EFORMAT, "deeper");
  expect_refused("return { { name = 'x', match = {A = {present = true}}, regions = {} },"
                 " { name = 'x', match = {A = {present = true}}, regions = {} } }",
                 MV_EFORMAT, "used twice");
  expect_refused("return { { name = 'a b', match = {A = {present = true}}, regions = {} } }",
                 MV_EFORMAT, "name must be");

  /* Nesting the parser itself refuses (no C stack overflow). */
  char *deep = malloc(20000 + 16);
  if (deep) {
    strcpy(deep, "return ");
    memset(deep + 7, '{', 20000);
    deep[20007] = '\0';
    expect_refused(deep, MV_EFORMAT, "bad.lua");
    free(deep);
  }

  /* Option errors. */
  char err[256];
  void *st = NULL, *ctx = NULL;
  CHECK(new_ctx(tmpdir, "colour=red", &st, &ctx, err, sizeof err) == MV_EINVAL);
  CHECK(strstr(err, "unknown option") != NULL);
  CHECK(new_ctx(tmpdir, "us_regions=maybe", &st, &ctx, err, sizeof err) == MV_EINVAL);
  CHECK(new_ctx(tmpdir, "files=../etc/passwd", &st, &ctx, err, sizeof err) == MV_EINVAL);
  CHECK(new_ctx(tmpdir, "files=nosuch", &st, &ctx, err, sizeof err) == MV_ENOTFOUND);
  CHECK(strstr(err, "nosuch.lua") != NULL);
  /* The default list tolerates absent files (no site.lua, nothing at all). */
  int rc = new_ctx(tmpdir, NULL, &st, &ctx, err, sizeof err);
  CHECK(rc == MV_OK);
  if (rc == MV_OK) free_ctx(st, ctx);
}

/* The generated files of the source tree. */
static void test_real_models(void) {
  char err[256];
  void *st = NULL, *ctx = NULL;
  int rc = new_ctx(MV_SOURCE_DIR "/models", NULL, &st, &ctx, err, sizeof err);
  if (rc != MV_OK) fprintf(stderr, "real models: %s\n", err);
  CHECK(rc == MV_OK);
  if (rc != MV_OK) return;
  boxes bx;
  /* CTP: Siemens ACUSON S2000, US 1024x768 -> (0,0,1024,60). */
  kv s2000[] = {{"Modality", "US"},
                {"Manufacturer", "SIEMENS"},
                {"ManufacturerModelName", "ACUSON S2000"},
                {"Rows", "768"},
                {"Columns", "1024"},
                {NULL, NULL}};
  CHECK(run(ctx, s2000, 1024, 768, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 1);
  CHECK(bx.n == 1 && rect_eq(bx.b[0].r, 0, 0, 1024, 60));
  CHECK(bx.n == 1 && !strncmp(bx.b[0].label, "region:ctp-", 11));
  /* Only in deid: Hitachi HI VISION Avius, 768 rows -> (0,0,1140,74),
   * clipped to a 1024-wide frame. */
  kv avius[] = {{"Modality", "US"},
                {"Manufacturer", "Hitachi Aloka"},
                {"ManufacturerModelName", "HI VISION Avius"},
                {"Rows", "768"},
                {NULL, NULL}};
  CHECK(run(ctx, avius, 1024, 768, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 1 && rect_eq(bx.b[0].r, 0, 0, 1024, 74));
  CHECK(bx.n == 1 && !strncmp(bx.b[0].label, "region:deid-", 12));
  /* An ordinary CT matches nothing. */
  kv ct[] = {{"Modality", "CT"}, {"Manufacturer", "Vendor"}, {"Rows", "512"},
             {"ImageType", "ORIGINAL\\PRIMARY\\AXIAL"}, {NULL, NULL}};
  CHECK(run(ctx, ct, 512, 512, MV_PLANE_FRAME, &bx, err, sizeof err) == MV_OK);
  CHECK(bx.n == 0);
  free_ctx(st, ctx);
}

int main(void) {
  P = mv_test_load_plugin(MV_BUILD_PLUGIN_DIR "/detect-regions.so");
  CHECK(P != NULL);
  if (!P) TEST_MAIN_END();
  CHECK(P && P->abi == MV_PLUGIN_ABI && P->size >= sizeof(mv_plugin));
  CHECK_STR(P->name, "detect-regions");
  CHECK(P->kinds == MV_KIND_DETECTOR);
  D = P->detector;
  CHECK(D && D->size >= sizeof(mv_detector_ops));
  CHECK_STR(D ? D->method : "", "regions");
  if (!D) TEST_MAIN_END();

  snprintf(tmpdir, sizeof tmpdir, "/tmp/mvregions.XXXXXX");
  CHECK(mkdtemp(tmpdir) != NULL);
  char sub[96];
  snprintf(sub, sizeof sub, "%s/regions", tmpdir);
  CHECK(mkdir(sub, 0700) == 0);

  test_matching();
  test_us_regions();
  test_bad_files();
  test_real_models();

  rmdir(sub);
  rmdir(tmpdir);
  TEST_MAIN_END();
}
