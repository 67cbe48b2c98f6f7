/* test_format_dicom.c - the DICOM format plugin, loaded as the core loads it.
 *
 * dlopens build/plugins/format-dicom.so and drives its ops on real files:
 * pydicom's test files (python3-pydicom) and, when ../shared is present,
 * the shared corpus (dicom/ and bad/). Pixel data is compared byte for byte
 * between input and output with a small independent parser below, and
 * every output must satisfy `dcmdump -q`. Parts whose files are missing
 * are skipped, never failed. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "medveil/plugin.h"
#define MV_TEST_PLUGINS
#include "mv_test.h"
#include "mv_test_rawdicom.h"

#define PYDICOM "/usr/lib/python3/dist-packages/pydicom/data"
#define TF PYDICOM "/test_files/"
#define CF PYDICOM "/charset_files/"

static const mv_plugin *P;
static const mv_format_ops *F;
static void *S;
static char tmpdir[64];

/* ------------------------------------------------------------- helpers */

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int probe_file(const char *path) {
  uint8_t head[512];
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  return F->probe(S, head, n);
}

static mv_doc *open_ok(const char *path) {
  char err[256] = "";
  mv_doc *d = NULL;
  int rc = F->open(S, path, &d, err, sizeof err);
  if (rc != MV_OK) fprintf(stderr, "open %s: %d %s\n", path, rc, err);
  CHECK(rc == MV_OK && d != NULL);
  return rc == MV_OK ? d : NULL;
}

static const char *get_str(mv_doc *d, const char *key) {
  const char *v = NULL;
  size_t len = 0;
  if (F->get(d, key, &v, &len) != MV_OK) return NULL;
  return v;
}

static int utf8_valid(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2
                          : (*p >> 3) == 30 ? 3 : -1;
    if (n < 0) return 0;
    p++;
    while (n--) {
      if ((*p & 0xC0) != 0x80) return 0;
      p++;
    }
  }
  return 1;
}

static int has_non_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80) return 1;
  return 0;
}

/* For what the finder cannot read (deflated): dcmdump +W writes each
 * pixel item as a .raw file; compare those. */
static int same_pixels_dcmdump(const char *a, const char *b) {
  char da[200], db[200], cmd[1400];
  snprintf(da, sizeof da, "%s/pa", tmpdir);
  snprintf(db, sizeof db, "%s/pb", tmpdir);
  mkdir(da, 0700);
  mkdir(db, 0700);
  snprintf(cmd, sizeof cmd,
           "cp '%s' '%s/x' && dcmdump -q +W '%s' '%s/x' >/dev/null 2>&1 && "
           "cp '%s' '%s/x' && dcmdump -q +W '%s' '%s/x' >/dev/null 2>&1",
           a, da, da, da, b, db, db, db);
  int r = -1;
  if (system(cmd) == 0) {
    for (int i = 0;; i++) {
      char fa[300], fb[300];
      snprintf(fa, sizeof fa, "%s/x.%d.raw", da, i);
      snprintf(fb, sizeof fb, "%s/x.%d.raw", db, i);
      size_t na, nb;
      uint8_t *ba = slurp(fa, &na), *bb = slurp(fb, &nb);
      if (!ba && !bb) {
        free(ba);
        free(bb);
        break;
      }
      r = ba && bb && na == nb && memcmp(ba, bb, na) == 0;
      free(ba);
      free(bb);
      if (!r) break;
    }
  }
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", da, db);
  if (system(cmd) != 0) r = -1;
  return r;
}

static int dcmdump_ok(const char *path) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "dcmdump -q '%s' >/dev/null 2>&1", path);
  return system(cmd) == 0;
}

/* -------------------------------------------------------------- visitors */

typedef struct {
  int total, nested, private_with_creator, creators, sq, max_depth;
  int parents_ok;
  int saw_pixel;
  size_t pixel_len;
} counts;

static int count_cb(void *ud, const mv_attr *a, void *h) {
  counts *c = ud;
  (void)h;
  c->total++;
  if (a->depth > 0) c->nested++;
  if ((int)a->depth > c->max_depth) c->max_depth = (int)a->depth;
  if (a->depth > 0 && (!a->parents || a->parents[a->depth - 1] == 0))
    c->parents_ok = 0;
  uint16_t g = a->tag >> 16, e = a->tag & 0xFFFF;
  if ((g & 1) && e >= 0x1000 && a->creator && a->creator[0])
    c->private_with_creator++;
  if ((g & 1) && e >= 0x10 && e <= 0xFF) c->creators++;
  if (!strcmp(a->vr, "SQ")) c->sq++;
  if (a->tag == 0x7FE00010u && a->depth == 0) {
    c->saw_pixel = 1;
    c->pixel_len = a->len;
    if (a->value) c->parents_ok = 0; /* binary must come without value */
  }
  if (a->is_meta || (g == 0x0002 && a->depth == 0)) c->parents_ok = 0;
  return MV_VISIT_KEEP;
}

static counts visit_counts(mv_doc *d) {
  counts c;
  memset(&c, 0, sizeof c);
  c.parents_ok = 1;
  CHECK(F->visit(d, count_cb, &c) == MV_OK);
  return c;
}

/* Rename PatientName through set_value during the walk. */
static int rename_cb(void *ud, const mv_attr *a, void *h) {
  mv_doc *d = ud;
  if (a->tag == 0x00100010u && a->depth == 0)
    CHECK(F->set_value(d, h, "Doe^Jane", 8) == MV_OK);
  if (a->tag == 0x7FE00010u) /* binary: refused */
    CHECK(F->set_value(d, h, "x", 1) == MV_EUNSUPPORTED);
  return MV_VISIT_KEEP;
}

static int remove_private_cb(void *ud, const mv_attr *a, void *h) {
  (void)ud;
  (void)h;
  return (a->tag >> 16) & 1 ? MV_VISIT_REMOVE : MV_VISIT_KEEP;
}

static int remove_all_cb(void *ud, const mv_attr *a, void *h) {
  (void)h;
  (void)a;
  ++*(int *)ud;
  return MV_VISIT_REMOVE;
}

static int empty_sq_cb(void *ud, const mv_attr *a, void *h) {
  (void)h;
  (void)ud;
  return !strcmp(a->vr, "SQ") ? MV_VISIT_EMPTY : MV_VISIT_KEEP;
}

static int abort_cb(void *ud, const mv_attr *a, void *h) {
  (void)h;
  (void)a;
  return ++*(int *)ud == 3 ? MV_VISIT_ABORT : MV_VISIT_KEEP;
}

/* Changes the document by key in the middle of the walk. */
static int keyed_cb(void *ud, const mv_attr *a, void *h) {
  mv_doc *d = ud;
  (void)h;
  if (a->tag == 0x00080016u) {
    F->remove(d, "(0008,0018)");            /* next sibling */
    F->set(d, "(0008,0020)", NULL, "20000101", 8);
  }
  if (a->depth > 0 && a->parents[0] == 0x300A0010u) /* DoseReferenceSequence */
    F->remove(d, "(300A,0010)");            /* our own ancestor */
  return MV_VISIT_KEEP;
}


/* ------------------------------------------------ synthetic nesting
 * Files built here so the nesting guard is tested in every encoding the
 * pre-scan follows, with or without the shared corpus. */

typedef struct {
  uint8_t *b;
  size_t n, cap;
} buf;

static void put(buf *o, const void *p, size_t n) {
  if (o->n + n > o->cap) {
    o->cap = (o->n + n) * 2;
    o->b = realloc(o->b, o->cap);
  }
  memcpy(o->b + o->n, p, n);
  o->n += n;
}
static void put16(buf *o, uint16_t v, int be) {
  uint8_t x[2] = {be ? v >> 8 : v & 0xFF, be ? v & 0xFF : v >> 8};
  put(o, x, 2);
}
static void put32(buf *o, uint32_t v, int be) {
  put16(o, be ? v >> 16 : v & 0xFFFF, be);
  put16(o, be ? v & 0xFFFF : v >> 16, be);
}
/* explicit VR element header (4-byte length for the long VRs) */
static void hdr_ex(buf *o, uint16_t g, uint16_t e, const char *vr, uint32_t len,
                   int be) {
  put16(o, g, be);
  put16(o, e, be);
  put(o, vr, 2);
  if (long_vr((const uint8_t *)vr)) {
    put16(o, 0, be);
    put32(o, len, be);
  } else {
    put16(o, (uint16_t)len, be);
  }
}
/* Start o afresh with a preamble, "DICM" and the meta group built in *meta
 * (explicit little endian, with its group length); frees meta. */
static void put_file_head(buf *o, buf *meta) {
  o->n = 0;
  uint8_t pre[132] = {0};
  memcpy(pre + 128, "DICM", 4);
  put(o, pre, 132);
  hdr_ex(o, 2, 0, "UL", 4, 0);
  put32(o, (uint32_t)meta->n, 0);
  put(o, meta->b, meta->n);
  free(meta->b);
}
static void hdr_im(buf *o, uint16_t g, uint16_t e, uint32_t len) {
  put16(o, g, 0);
  put16(o, e, 0);
  put32(o, len, 0);
}
static void str_el(buf *o, uint16_t g, uint16_t e, const char *vr,
                   const char *v, int ex, int be) {
  size_t n = strlen(v);
  if (ex) hdr_ex(o, g, e, vr, (uint32_t)n, be);
  else hdr_im(o, g, e, (uint32_t)n);
  put(o, v, n);
}
static void start_file(buf *o, const char *ts, int ex, int be) {
  buf m = {0};
  uint8_t ver[2] = {0, 1};
  hdr_ex(&m, 2, 1, "OB", 2, 0);
  put(&m, ver, 2);
  str_el(&m, 2, 2, "UI", "1.2.840.10008.5.1.4.1.1.7", 1, 0);
  str_el(&m, 2, 3, "UI", "1.2.3.4 ", 1, 0);
  char t[70];
  snprintf(t, sizeof t, "%s%s", ts, strlen(ts) % 2 ? " " : "");
  str_el(&m, 2, 0x10, "UI", t, 1, 0);
  put_file_head(o, &m);
  str_el(o, 8, 0x16, "UI", "1.2.840.10008.5.1.4.1.1.7", ex, be);
  str_el(o, 8, 0x18, "UI", "1.2.3.4 ", ex, be);
  str_el(o, 0x10, 0x10, "PN", "Deep^Test ", ex, be);
}
/* n undefined-length levels of (g,e) sequences, `vr` NULL for implicit */
static void nest_undef(buf *o, int n, uint16_t g, uint16_t e, const char *vr,
                       int be) {
  for (int i = 0; i < n; i++) {
    if (vr) hdr_ex(o, g, e, vr, 0xFFFFFFFFu, be);
    else hdr_im(o, g, e, 0xFFFFFFFFu);
    put16(o, 0xFFFE, be);
    put16(o, 0xE000, be);
    put32(o, 0xFFFFFFFFu, be);
  }
  str_el(o, 0x0008, 0x0100, "SH", "CODE", vr != NULL && strcmp(vr, "UN"), be);
  for (int i = 0; i < n; i++) {
    put16(o, 0xFFFE, be);
    put16(o, 0xE00D, be);
    put32(o, 0, be);
    put16(o, 0xFFFE, be);
    put16(o, 0xE0DD, be);
    put32(o, 0, be);
  }
}
/* n defined-length levels in implicit VR LE, innermost holds one element */
static void nest_def_implicit(buf *o, int n, uint16_t g, uint16_t e) {
  const uint32_t inner = 8 + 4; /* (0008,0100) "CODE" */
  for (int i = 0; i < n; i++) {
    uint32_t below = 16u * (uint32_t)(n - i - 1) + inner;
    hdr_im(o, g, e, 8 + below);
    put16(o, 0xFFFE, 0);
    put16(o, 0xE000, 0);
    put32(o, below, 0);
  }
  str_el(o, 0x0008, 0x0100, "SH", "CODE", 0, 0);
}

static int write_buf(const char *path, const buf *o) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(o->b, 1, o->n, f);
  fclose(f);
  return w == o->n ? 0 : -1;
}

static int open_rc(const char *path, counts *c) {
  char err[256] = "";
  mv_doc *d = NULL;
  int rc = F->open(S, path, &d, err, sizeof err);
  if (rc == MV_OK && c) {
    memset(c, 0, sizeof *c);
    c->parents_ok = 1;
    CHECK(F->visit(d, count_cb, c) == MV_OK);
  }
  if (rc == MV_OK) F->close(d);
  return rc;
}

static void test_synthetic_nesting(void) {
  char path[128];
  buf o = {0};
  counts c;
  snprintf(path, sizeof path, "%s/deep.dcm", tmpdir);
  /* explicit VR LE, undefined lengths: the shape of the corpus file */
  start_file(&o, "1.2.840.10008.1.2.1", 1, 0);
  nest_undef(&o, 100000, 0x0040, 0xA730, "SQ", 0);
  CHECK(write_buf(path, &o) == 0 && open_rc(path, NULL) == MV_ELIMIT);
  /* explicit VR big endian */
  start_file(&o, "1.2.840.10008.1.2.2", 1, 1);
  nest_undef(&o, 100000, 0x0040, 0xA730, "SQ", 1);
  CHECK(write_buf(path, &o) == 0 && open_rc(path, NULL) == MV_ELIMIT);
  /* implicit VR, undefined and defined lengths (SQ known only to the
   * dictionary), and private defined-length sequences */
  start_file(&o, "1.2.840.10008.1.2", 0, 0);
  nest_undef(&o, 100000, 0x0040, 0xA730, NULL, 0);
  CHECK(write_buf(path, &o) == 0 && open_rc(path, NULL) == MV_ELIMIT);
  start_file(&o, "1.2.840.10008.1.2", 0, 0);
  nest_def_implicit(&o, 3000, 0x0040, 0xA730);
  CHECK(write_buf(path, &o) == 0 && open_rc(path, NULL) == MV_ELIMIT);
  start_file(&o, "1.2.840.10008.1.2", 0, 0);
  str_el(&o, 0x0009, 0x0010, "LO", "ACME 1.0", 0, 0);
  nest_def_implicit(&o, 3000, 0x0009, 0x1001);
  CHECK(write_buf(path, &o) == 0 && open_rc(path, NULL) == MV_ELIMIT);
  /* UN of undefined length (CP-246): its contents are implicit VR LE */
  start_file(&o, "1.2.840.10008.1.2.1", 1, 0);
  str_el(&o, 0x0009, 0x0010, "LO", "ACME 1.0", 1, 0);
  hdr_ex(&o, 0x0009, 0x1001, "UN", 0xFFFFFFFFu, 0);
  put32(&o, 0xE000FFFEu, 0);
  put32(&o, 0xFFFFFFFFu, 0);
  nest_undef(&o, 100000, 0x0009, 0x1002, NULL, 0);
  put32(&o, 0xE00DFFFEu, 0);
  put32(&o, 0, 0);
  put32(&o, 0xE0DDFFFEu, 0);
  put32(&o, 0, 0);
  CHECK(write_buf(path, &o) == 0 && open_rc(path, NULL) == MV_ELIMIT);
  /* the limit itself: 32 levels open, 33 do not */
  start_file(&o, "1.2.840.10008.1.2.1", 1, 0);
  nest_undef(&o, 32, 0x0040, 0xA730, "SQ", 0);
  CHECK(write_buf(path, &o) == 0 && open_rc(path, &c) == MV_OK);
  CHECK(c.max_depth == 32 && c.parents_ok);
  start_file(&o, "1.2.840.10008.1.2.1", 1, 0);
  nest_undef(&o, 33, 0x0040, 0xA730, "SQ", 0);
  CHECK(write_buf(path, &o) == 0 && open_rc(path, NULL) == MV_ELIMIT);
  start_file(&o, "1.2.840.10008.1.2", 0, 0);
  nest_def_implicit(&o, 32, 0x0040, 0xA730);
  CHECK(write_buf(path, &o) == 0 && open_rc(path, &c) == MV_OK && c.max_depth == 32);
  /* a shallow UN-encoded public sequence is read as the SQ it is */
  start_file(&o, "1.2.840.10008.1.2.1", 1, 0);
  {
    buf in = {0};
    nest_def_implicit(&in, 2, 0x0040, 0xA730);
    hdr_ex(&o, 0x0040, 0xA730, "UN", (uint32_t)(8 + in.n), 0);
    put32(&o, 0xE000FFFEu, 0);
    put32(&o, (uint32_t)in.n, 0);
    put(&o, in.b, in.n);
    free(in.b);
  }
  CHECK(write_buf(path, &o) == 0 && open_rc(path, &c) == MV_OK);
  CHECK(c.max_depth == 3 && c.nested >= 3);
  unlink(path);
  free(o.b);
}

/* ------------------------------------------------------------- sections */

static void test_probe(void) {
  CHECK(probe_file(TF "CT_small.dcm") == 100);
  int raw = probe_file(TF "rtstruct.dcm"); /* raw implicit VR dataset */
  CHECK(raw > 0 && raw < 100);
  uint8_t png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                     'I', 'H', 'D', 'R'};
  CHECK(F->probe(S, png, sizeof png) == 0);
  uint8_t txt[] = "hello world, this is not DICOM";
  CHECK(F->probe(S, txt, sizeof txt) == 0);
  CHECK(F->probe(S, txt, 3) == 0);
}

static void test_resolve(void) {
  uint32_t tag = 0;
  char vr[4] = "";
  CHECK(F->resolve(S, "PatientName", &tag, vr) == MV_OK);
  CHECK(tag == 0x00100010u);
  CHECK_STR(vr, "PN");
  CHECK(F->resolve(S, "(0010,0020)", &tag, vr) == MV_OK && tag == 0x00100020u);
  CHECK_STR(vr, "LO");
  CHECK(F->resolve(S, "(7fe0,0010)", &tag, vr) == MV_OK && tag == 0x7FE00010u);
  CHECK(F->resolve(S, "(0009,1001)", &tag, vr) == MV_OK && tag == 0x00091001u);
  CHECK_STR(vr, "UN");
  CHECK(F->resolve(S, "ContentSequence", &tag, vr) == MV_OK);
  CHECK_STR(vr, "SQ");
  CHECK(F->resolve(S, "NoSuchKeywordAtAll", &tag, vr) == MV_ENOTFOUND);
  CHECK(F->resolve(S, "(0010,001G)", &tag, vr) == MV_EINVAL);
  CHECK(F->resolve(S, "(0010,0010", &tag, vr) == MV_EINVAL);
  CHECK(F->resolve(S, "", &tag, vr) == MV_EINVAL);
}

static void test_ct_small(void) {
  mv_doc *d = open_ok(TF "CT_small.dcm");
  if (!d) return;
  counts c = visit_counts(d);
  CHECK(c.total > 100);
  CHECK(c.parents_ok);
  CHECK(c.saw_pixel && c.pixel_len == 32768);
  CHECK(c.creators >= 1);
  CHECK(c.private_with_creator >= 5); /* GEMS_* blocks */

  /* get: text, numeric, binary, sequences, missing */
  const char *v = get_str(d, "PatientName");
  CHECK(v != NULL);
  CHECK_STR(get_str(d, "(0028,0010)"), "128"); /* Rows, US */
  const char *bin = NULL;
  CHECK(F->get(d, "PixelData", &bin, NULL) == MV_EUNSUPPORTED);
  CHECK(F->get(d, "(0040,A730)", &bin, NULL) == MV_ENOTFOUND);
  CHECK(F->get(d, "Bogus", &bin, NULL) == MV_ENOTFOUND);

  /* set_value during visit */
  CHECK(F->visit(d, rename_cb, d) == MV_OK);
  CHECK_STR(get_str(d, "PatientName"), "Doe^Jane");
  /* keyed set, creating a sequence and its first item */
  CHECK(F->set(d, "(0012,0064)[0].(0008,0100)", NULL, "113100", 6) == MV_OK);
  CHECK_STR(get_str(d, "(0012,0064)[0].(0008,0100)"), "113100");
  CHECK_STR(get_str(d, "DeidentificationMethodCodeSequence"), "1");
  CHECK(F->set(d, "DeidentificationMethodCodeSequence[1].CodeMeaning", NULL,
               "Basic Application Confidentiality Profile", 41) == MV_OK);
  CHECK_STR(get_str(d, "(0012,0064)"), "2");
  CHECK(F->set(d, "PatientIdentityRemoved", NULL, "YES", 3) == MV_OK);
  CHECK(F->set(d, "(0010,0021)", "LO", "Issuer\\Two", 10) == MV_OK);
  CHECK_STR(get_str(d, "IssuerOfPatientID"), "Issuer\\Two");
  CHECK(F->set(d, "(0028,0010)", NULL, "128", 3) == MV_OK); /* numeric ok */
  CHECK(F->set(d, "PixelData", NULL, "1", 1) == MV_EUNSUPPORTED);
  CHECK(F->set(d, "PatientName", "ZZ", "x", 1) == MV_EINVAL);
  CHECK(F->set(d, "(0012,0064)[0]", NULL, "x", 1) == MV_EINVAL);
  /* remove */
  CHECK(F->remove(d, "PatientID") == MV_OK);
  CHECK(F->get(d, "PatientID", &bin, NULL) == MV_ENOTFOUND);
  CHECK(F->remove(d, "PatientID") == MV_ENOTFOUND);
  CHECK(F->remove(d, "(0012,0064)[1]") == MV_OK); /* an item */
  CHECK_STR(get_str(d, "(0012,0064)"), "1");

  /* write, then the output must carry the changes and the same pixels */
  char out[128], err[256] = "";
  snprintf(out, sizeof out, "%s/ct.dcm", tmpdir);
  CHECK(F->write(d, out, err, sizeof err) == MV_OK);
  F->close(d);
  CHECK(dcmdump_ok(out));
  CHECK(same_pixels(TF "CT_small.dcm", out) == 1);
  d = open_ok(out);
  if (d) {
    CHECK_STR(get_str(d, "PatientName"), "Doe^Jane");
    CHECK_STR(get_str(d, "(0012,0064)[0].(0008,0100)"), "113100");
    CHECK_STR(get_str(d, "PatientIdentityRemoved"), "YES");
    CHECK(get_str(d, "PatientID") == NULL);
    /* meta repeats the dataset's UIDs */
    const char *sop = get_str(d, "SOPInstanceUID");
    const char *msop = get_str(d, "(0002,0003)");
    CHECK(sop && msop && !strcmp(sop, msop));
    CHECK_STR(get_str(d, "(0002,0010)"), "1.2.840.10008.1.2.1");
    F->close(d);
  }
  /* SourceApplicationEntityTitle and friends never survive */
  size_t n;
  uint8_t *b = slurp(out, &n);
  if (b) {
    int found = 0;
    for (size_t i = 132; i + 4 < n && i < 1024; i += 2)
      if (b[i] == 2 && b[i + 1] == 0 && b[i + 2] == 0x16 && b[i + 3] == 0)
        found = 1;
    CHECK(!found);
    free(b);
  }
  unlink(out);
}

static void test_sequences(void) {
  mv_doc *d = open_ok(TF "rtplan.dcm");
  if (!d) return;
  counts c = visit_counts(d);
  CHECK(c.nested > 20);
  CHECK(c.max_depth >= 2);
  CHECK(c.parents_ok);
  int before = c.total;

  /* keyed changes during the walk: no crash, walk ends cleanly */
  CHECK(F->visit(d, keyed_cb, d) == MV_OK);
  CHECK(F->get(d, "(300A,0010)", &(const char *){0}, NULL) == MV_ENOTFOUND);
  c = visit_counts(d);
  CHECK(c.total < before);

  /* EMPTY on sequences leaves them without items */
  CHECK(F->visit(d, empty_sq_cb, NULL) == MV_OK);
  c = visit_counts(d);
  CHECK(c.nested == 0 && c.sq > 0);

  /* ABORT */
  int k = 0;
  CHECK(F->visit(d, abort_cb, &k) == MV_EREJECT);
  CHECK(k == 3);

  /* REMOVE everything: iteration must survive its own removals */
  int removed = 0;
  CHECK(F->visit(d, remove_all_cb, &removed) == MV_OK);
  CHECK(removed == c.total);
  c = visit_counts(d);
  CHECK(c.total == 0);
  F->close(d);
}

static void test_private_removal(void) {
  mv_doc *d = open_ok(TF "CT_small.dcm");
  if (!d) return;
  CHECK(F->visit(d, remove_private_cb, NULL) == MV_OK);
  counts c = visit_counts(d);
  CHECK(c.creators == 0 && c.private_with_creator == 0);
  CHECK(c.total > 50);
  F->close(d);
  /* a private element holding an implicit VR sequence (UN to dcmtk) */
  d = open_ok(TF "priv_SQ.dcm");
  if (d) {
    c = visit_counts(d);
    CHECK(c.creators == 1 && c.private_with_creator == 1);
    F->close(d);
  }
  /* nested UN sequences (CP-246) are walked like any other */
  d = open_ok(TF "nested_priv_SQ.dcm");
  if (d) {
    c = visit_counts(d);
    CHECK(c.nested >= 2 && c.max_depth == 2);
    F->close(d);
  }
}

/* open + visit + write + dcmdump + pixels + reopen, for one file */
typedef struct {
  int ok, refused, pixel_same, pixel_diff, pixel_na, dump_bad, reopen_bad;
  double secs;
} tally;

static int roundtrip(const char *path, tally *t, int verbose) {
  char err[256] = "", out[160];
  mv_doc *d = NULL;
  double t0 = now();
  int rc = F->open(S, path, &d, err, sizeof err);
  if (rc != MV_OK) {
    t->refused++;
    if (verbose) printf("  refused %-48s %s: %s\n", strrchr(path, '/') + 1,
                        mv_errname(rc), err);
    return rc;
  }
  counts c;
  memset(&c, 0, sizeof c);
  c.parents_ok = 1;
  CHECK(F->visit(d, count_cb, &c) == MV_OK);
  CHECK(c.parents_ok);
  if (!c.parents_ok) printf("  bad attribute shape in %s\n", path);
  snprintf(out, sizeof out, "%s/rt.dcm", tmpdir);
  rc = F->write(d, out, err, sizeof err);
  F->close(d);
  t->secs += now() - t0;
  CHECK(rc == MV_OK);
  if (rc != MV_OK) {
    printf("  write failed %s: %s\n", path, err);
    return rc;
  }
  t->ok++;
  if (!dcmdump_ok(out)) {
    t->dump_bad++;
    printf("  dcmdump rejects output of %s\n", path);
  }
  int px = same_pixels(path, out);
  if (px < 0) px = same_pixels_dcmdump(path, out);
  if (px == 1) t->pixel_same++;
  else if (px == 0) {
    t->pixel_diff++;
    printf("  pixel data differs: %s\n", path);
  } else t->pixel_na++;
  d = NULL;
  if (F->open(S, out, &d, err, sizeof err) != MV_OK) {
    t->reopen_bad++;
    printf("  output does not reopen (%s): %s\n", path, err);
  } else {
    F->close(d);
  }
  unlink(out);
  return MV_OK;
}

static void test_pydicom_files(void) {
  static const char *files[] = {
      "CT_small.dcm", "MR_small.dcm", "MR_small_bigendian.dcm",
      "MR_small_implicit.dcm", "MR_small_RLE.dcm", "MR_small_jp2klossless.dcm",
      "MR_small_jpeg_ls_lossless.dcm", "JPEG2000.dcm", "JPEG-lossy.dcm",
      "JPGExtended.dcm", "SC_rgb_rle.dcm", "SC_rgb_jpeg_dcmtk.dcm",
      "image_dfl.dcm", "rtplan.dcm", "rtstruct.dcm", "no_meta_group_length.dcm",
      "ExplVR_BigEndNoMeta.dcm", "ExplVR_LitEndNoMeta.dcm", "meta_missing_tsyntax.dcm",
      "emri_small_jpeg_2k_lossless.dcm", "UN_sequence.dcm", "priv_SQ.dcm",
      "reportsi.dcm", "waveform_ecg.dcm", "badVR.dcm", NULL};
  tally t;
  memset(&t, 0, sizeof t);
  int present = 0;
  for (int i = 0; files[i]; i++) {
    char path[256];
    snprintf(path, sizeof path, TF "%s", files[i]);
    if (!exists(path)) continue;
    present++;
    int rc = roundtrip(path, &t, 1);
    CHECK(rc == MV_OK);
  }
  CHECK(t.dump_bad == 0 && t.pixel_diff == 0 && t.reopen_bad == 0);
  printf("pydicom files: %d present, %d ok, %d refused; pixels same %d, "
         "not comparable %d\n", present, t.ok, t.refused, t.pixel_same, t.pixel_na);

  /* raw dataset: comes out as a Part 10 file, explicit VR LE */
  char err[256], out[160];
  mv_doc *d = open_ok(TF "rtstruct.dcm");
  if (d) {
    snprintf(out, sizeof out, "%s/raw.dcm", tmpdir);
    CHECK(F->write(d, out, err, sizeof err) == MV_OK);
    F->close(d);
    CHECK(probe_file(out) == 100);
    d = open_ok(out);
    if (d) {
      CHECK_STR(get_str(d, "(0002,0010)"), "1.2.840.10008.1.2.1");
      F->close(d);
    }
    unlink(out);
  }
  /* a truncated file is refused with a reason */
  d = NULL;
  err[0] = 0;
  int rc = F->open(S, TF "rtplan_truncated.dcm", &d, err, sizeof err);
  CHECK(rc == MV_EFORMAT && err[0]);
  /* the preamble never survives */
  size_t n;
  uint8_t *b = slurp(TF "CT_small.dcm", &n);
  if (b) {
    char in[160];
    snprintf(in, sizeof in, "%s/preamble.dcm", tmpdir);
    memcpy(b, "Name^Hidden In Preamble", 23);
    FILE *f = fopen(in, "wb");
    if (f) {
      fwrite(b, 1, n, f);
      fclose(f);
    }
    free(b);
    d = open_ok(in);
    if (d) {
      snprintf(out, sizeof out, "%s/preamble_out.dcm", tmpdir);
      CHECK(F->write(d, out, err, sizeof err) == MV_OK);
      F->close(d);
      b = slurp(out, &n);
      int zero = b && n > 132;
      for (size_t i = 0; zero && i < 128; i++) zero = b[i] == 0;
      CHECK(zero);
      free(b);
      unlink(out);
    }
    unlink(in);
  }
}

static void test_charsets(void) {
  static const char *files[] = {"chrJapMulti.dcm", "chrH31.dcm", "chrX1.dcm",
                                "chrArab.dcm", "chrGreek.dcm", "chrRuss.dcm",
                                "chrHbrw.dcm", "chrFren.dcm", "chrKoreanMulti.dcm",
                                "chrSQEncoding.dcm", NULL};
  int tested = 0;
  for (int i = 0; files[i]; i++) {
    char path[256], out[160], err[256];
    snprintf(path, sizeof path, CF "%s", files[i]);
    if (!exists(path)) continue;
    mv_doc *d = open_ok(path);
    if (!d) continue;
    tested++;
    const char *pn = get_str(d, "PatientName");
    if (!pn) pn = get_str(d, "(0008,1032)[0].(0008,0104)"); /* chrSQEncoding */
    if (pn) {
      CHECK(utf8_valid(pn));
      if (strcmp(files[i], "chrSQEncoding.dcm")) CHECK(has_non_ascii(pn));
    }
    char keep[256] = "";
    if (pn) snprintf(keep, sizeof keep, "%s", pn);
    snprintf(out, sizeof out, "%s/cs.dcm", tmpdir);
    CHECK(F->write(d, out, err, sizeof err) == MV_OK);
    F->close(d);
    CHECK(dcmdump_ok(out));
    d = open_ok(out);
    if (d) {
      if (strcmp(files[i], "chrSQEncoding.dcm"))
        CHECK_STR(get_str(d, "SpecificCharacterSet"), "ISO_IR 192");
      if (keep[0] && strcmp(files[i], "chrSQEncoding.dcm"))
        CHECK_STR(get_str(d, "PatientName"), keep);
      F->close(d);
    }
    unlink(out);
  }
  printf("charset files converted to UTF-8: %d\n", tested);
  /* a UTF-8 value set into an ASCII dataset declares ISO_IR 192 */
  mv_doc *d = open_ok(TF "CT_small.dcm");
  if (d) {
    char out[160], err[256];
    CHECK(F->set(d, "PatientName", NULL, "M\xc3\xbcller^J\xc3\xb6rg", 13) == MV_OK);
    snprintf(out, sizeof out, "%s/u8.dcm", tmpdir);
    CHECK(F->write(d, out, err, sizeof err) == MV_OK);
    F->close(d);
    d = open_ok(out);
    if (d) {
      CHECK_STR(get_str(d, "SpecificCharacterSet"), "ISO_IR 192");
      CHECK_STR(get_str(d, "PatientName"), "M\xc3\xbcller^J\xc3\xb6rg");
      F->close(d);
    }
    unlink(out);
  }
}

/* ------------------------------------------ pass-through transfer syntaxes
 * Syntaxes dcmtk 3.6.7 does not know but that are explicit VR little endian
 * with encapsulated pixel data (HTJ2K, JPEG XL, Deflated Image Frame,
 * Encapsulated Uncompressed): the header is edited, the UID and every pixel
 * fragment (the basic offset table included) leave as they came. */

static const char *passthrough_ts[] = {
    "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.4.110",
    "1.2.840.10008.1.2.4.111", "1.2.840.10008.1.2.4.112",
    "1.2.840.10008.1.2.8.1",   "1.2.840.10008.1.2.1.98", NULL};

static int is_passthrough_ts(const char *ts) {
  for (int i = 0; passthrough_ts[i]; i++)
    if (!strcmp(ts, passthrough_ts[i])) return 1;
  return 0;
}

/* The raw TransferSyntaxUID of a Part 10 file, padding removed ("" if none). */
static void file_ts(const char *path, char *ts, size_t cap) {
  size_t n, pos = 132;
  uint8_t *p = slurp(path, &n);
  ts[0] = 0;
  if (p && n >= 132 && memcmp(p + 128, "DICM", 4) == 0) {
    while (pos + 8 <= n && r16(p + pos, 0) == 0x0002) {
      uint16_t g, e;
      uint32_t len;
      if (header(p, n, &pos, 1, 0, &g, &e, &len) || len > n - pos) break;
      if (e == 0x0010 && len < cap) {
        size_t k = len;
        memcpy(ts, p + pos, k);
        ts[k] = 0;
        while (k && (ts[k - 1] == 0 || ts[k - 1] == ' ')) ts[--k] = 0;
      }
      pos += len;
    }
  }
  free(p);
}

static void us_el(buf *o, uint16_t g, uint16_t e, uint16_t v) {
  hdr_ex(o, g, e, "US", 2, 0);
  put16(o, v, 0);
}

/* A Part 10 file in `ts` with two pixel fragments of 10 000 and 5 002 bytes
 * (over dcmtk's 4 KiB, so they stay on disk until written) and a basic
 * offset table. dup_ts adds a second TransferSyntaxUID to the meta. */
static void passthrough_file(buf *o, const char *ts, const char *dup_ts) {
  buf m = {0};
  uint8_t ver[2] = {0, 1};
  char t[70];
  hdr_ex(&m, 2, 1, "OB", 2, 0);
  put(&m, ver, 2);
  str_el(&m, 2, 2, "UI", "1.2.840.10008.5.1.4.1.1.7", 1, 0);
  str_el(&m, 2, 3, "UI", "1.2.3.4.5.6.7.8 ", 1, 0);
  snprintf(t, sizeof t, "%s", ts);
  hdr_ex(&m, 2, 0x10, "UI", (uint32_t)((strlen(ts) + 1) & ~1u), 0);
  put(&m, t, (strlen(ts) + 1) & ~1u); /* NUL padding, as UIDs are padded */
  if (dup_ts) { /* a second TransferSyntaxUID */
    snprintf(t, sizeof t, "%s", dup_ts);
    hdr_ex(&m, 2, 0x10, "UI", (uint32_t)((strlen(dup_ts) + 1) & ~1u), 0);
    put(&m, t, (strlen(dup_ts) + 1) & ~1u);
  }
  put_file_head(o, &m);
  str_el(o, 8, 0x16, "UI", "1.2.840.10008.5.1.4.1.1.7", 1, 0);
  str_el(o, 8, 0x18, "UI", "1.2.3.4.5.6.7.8 ", 1, 0);
  str_el(o, 0x10, 0x10, "PN", "Pass^Through", 1, 0);
  str_el(o, 0x10, 0x20, "LO", "ID-4711 ", 1, 0);
  us_el(o, 0x28, 0x02, 1);
  str_el(o, 0x28, 0x04, "CS", "MONOCHROME2 ", 1, 0);
  str_el(o, 0x28, 0x08, "IS", "2 ", 1, 0);
  us_el(o, 0x28, 0x10, 64);
  us_el(o, 0x28, 0x11, 64);
  us_el(o, 0x28, 0x100, 8);
  us_el(o, 0x28, 0x101, 8);
  us_el(o, 0x28, 0x102, 7);
  us_el(o, 0x28, 0x103, 0);
  static const uint32_t frag[2] = {10000, 5002};
  hdr_ex(o, 0x7FE0, 0x0010, "OB", 0xFFFFFFFFu, 0);
  put16(o, 0xFFFE, 0); /* basic offset table */
  put16(o, 0xE000, 0);
  put32(o, 8, 0);
  put32(o, 0, 0);
  put32(o, 8 + frag[0], 0);
  for (int f = 0; f < 2; f++) {
    put16(o, 0xFFFE, 0);
    put16(o, 0xE000, 0);
    put32(o, frag[f], 0);
    for (uint32_t i = 0; i < frag[f]; i++) {
      uint8_t b = (uint8_t)(i * 31u + (unsigned)f * 7u + 0x5A);
      put(o, &b, 1);
    }
  }
  put16(o, 0xFFFE, 0);
  put16(o, 0xE0DD, 0);
  put32(o, 0, 0);
}

/* Open, rename PatientName in the walk, set a new key, write; the output
 * keeps the syntax and every pixel byte and parses with dcmtk and with the
 * plugin. Returns 1 when all of that held. */
static int passthrough_roundtrip(const char *in, const char *ts) {
  char out[160], err[256] = "", got[80];
  int ok = 1;
  mv_doc *d = open_ok(in);
  if (!d) return 0;
  CHECK_STR(get_str(d, "(0002,0010)"), ts);
  counts c = visit_counts(d);
  CHECK(c.saw_pixel && c.pixel_len > 0);
  ok &= c.saw_pixel && c.pixel_len > 0;
  CHECK(F->visit(d, rename_cb, d) == MV_OK);
  CHECK(F->set(d, "StudyDescription", NULL, "edited", 6) == MV_OK);
  snprintf(out, sizeof out, "%s/pt_out.dcm", tmpdir);
  int rc = F->write(d, out, err, sizeof err);
  F->close(d);
  CHECK(rc == MV_OK);
  if (rc != MV_OK) {
    printf("  write failed %s: %s\n", in, err);
    return 0;
  }
  file_ts(out, got, sizeof got);
  CHECK_STR(got, ts);
  ok &= !strcmp(got, ts);
  int dump = dcmdump_ok(out), same = same_pixels(in, out),
      same_dump = same_pixels_dcmdump(in, out);
  CHECK(dump);
  CHECK(same == 1);
  CHECK(same_dump == 1);
  ok &= dump && same == 1 && same_dump == 1;
  d = open_ok(out);
  if (d) {
    CHECK_STR(get_str(d, "(0002,0010)"), ts);
    const char *pn = get_str(d, "PatientName");
    if (pn) CHECK_STR(pn, "Doe^Jane"); /* corpus files may have none */
    CHECK_STR(get_str(d, "StudyDescription"), "edited");
    F->close(d);
  } else {
    ok = 0;
  }
  unlink(out);
  return ok;
}

static void test_passthrough(void) {
  char path[160], err[256];
  buf o = {0};
  int ok = 0;
  snprintf(path, sizeof path, "%s/pt.dcm", tmpdir);
  for (int i = 0; passthrough_ts[i]; i++) {
    passthrough_file(&o, passthrough_ts[i], NULL);
    CHECK(write_buf(path, &o) == 0);
    mv_doc *d = open_ok(path);
    if (!d) continue;
    CHECK_STR(get_str(d, "PatientName"), "Pass^Through");
    F->close(d);
    ok += passthrough_roundtrip(path, passthrough_ts[i]);
  }
  CHECK(ok == 8);
  int rc;
  /* a syntax dcmtk does not know and that is not one of them: refused */
  passthrough_file(&o, "1.2.840.10008.1.2.4.204", NULL); /* JPIP HTJ2K Referenced */
  CHECK(write_buf(path, &o) == 0);
  mv_doc *d = NULL;
  err[0] = 0;
  CHECK(F->open(S, path, &d, err, sizeof err) == MV_EFORMAT);
  CHECK(strstr(err, "not supported") != NULL);
  /* two TransferSyntaxUIDs: whichever the guard and dcmtk each believe,
   * a mismatch is refused rather than written without its pixel data */
  for (int i = 0; i < 2; i++) {
    passthrough_file(&o, i ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2.4.201",
                     i ? "1.2.840.10008.1.2.4.201" : "1.2.840.10008.1.2.1");
    CHECK(write_buf(path, &o) == 0);
    err[0] = 0;
    d = NULL;
    rc = F->open(S, path, &d, err, sizeof err);
    CHECK(rc == MV_EFORMAT);
    CHECK(strstr(err, "not supported") != NULL);
    if (rc == MV_OK) F->close(d);
  }
  unlink(path);
  free(o.b);
  printf("pass-through syntaxes: %d of 8 round trips byte-identical\n", ok);
}

/* Corpus files in a pass-through syntax, checked one by one. */
static void passthrough_corpus(const char *dir) {
  DIR *dp = opendir(dir);
  if (!dp) return;
  struct dirent *de;
  int seen = 0, ok = 0;
  while ((de = readdir(dp))) {
    char path[1024], ts[80];
    if (de->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    file_ts(path, ts, sizeof ts);
    if (!is_passthrough_ts(ts)) continue;
    seen++;
    int r = passthrough_roundtrip(path, ts);
    ok += r;
    printf("  %-40s %s %s\n", de->d_name, ts, r ? "ok" : "FAILED");
  }
  closedir(dp);
  CHECK(ok == seen);
  printf("corpus pass-through syntaxes: %d files, %d byte-identical\n", seen, ok);
}

static void corpus_dir(const char *dir, const char *label, int expect_all_ok) {
  DIR *dp = opendir(dir);
  if (!dp) {
    printf("%s: skipped (no %s)\n", label, dir);
    return;
  }
  struct dirent *de;
  tally t;
  memset(&t, 0, sizeof t);
  char **names = NULL;
  size_t nn = 0;
  while ((de = readdir(dp))) {
    if (de->d_name[0] == '.') continue;
    names = realloc(names, (nn + 1) * sizeof *names);
    names[nn++] = strdup(de->d_name);
  }
  closedir(dp);
  for (size_t i = 0; i < nn; i++) { /* stable order: simple sort */
    for (size_t j = i + 1; j < nn; j++)
      if (strcmp(names[j], names[i]) < 0) {
        char *x = names[i];
        names[i] = names[j];
        names[j] = x;
      }
  }
  printf("%s:\n", label);
  for (size_t i = 0; i < nn; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    roundtrip(path, &t, 1);
    free(names[i]);
  }
  free(names);
  printf("%s: %zu files, %d open+write ok, %d refused; dcmdump failures %d, "
         "pixel data same %d / differs %d / not comparable %d, reopen failures %d; "
         "%.3f s in open+visit+write\n",
         label, nn, t.ok, t.refused, t.dump_bad, t.pixel_same, t.pixel_diff,
         t.pixel_na, t.reopen_bad, t.secs);
  CHECK(t.dump_bad == 0);
  CHECK(t.pixel_diff == 0);
  CHECK(t.reopen_bad == 0);
  if (expect_all_ok) CHECK(t.ok > 0);
}

static void test_corpus(void) {
  char base[512];
  /* MEDVEIL_CORPUS overrides (the e2e tests read it too). */
  const char *env = getenv("MEDVEIL_CORPUS");
  if (env && *env) snprintf(base, sizeof base, "%s", env);
  else snprintf(base, sizeof base, "%s/../shared/corpus", MV_SOURCE_DIR);
  if (!exists(base)) {
    printf("corpus: skipped (no shared corpus)\n");
    return;
  }
  char path[600], err[256];
  mv_doc *d = NULL;
  snprintf(path, sizeof path, "%s/bad/2026-05-06-Deeply-Nested-Sequence.dcm", base);
  if (exists(path)) {
    int rc = F->open(S, path, &d, err, sizeof err);
    CHECK(rc == MV_ELIMIT);
    CHECK(strstr(err, "nesting") != NULL);
  }
  snprintf(path, sizeof path, "%s/bad/3gb-bulk-data-truncated", base);
  if (exists(path)) {
    int rc = F->open(S, path, &d, err, sizeof err);
    CHECK(rc == MV_EFORMAT);
    CHECK(err[0] != 0);
  }
  snprintf(path, sizeof path, "%s/bad", base);
  corpus_dir(path, "corpus/bad", 0);
  snprintf(path, sizeof path, "%s/dicom", base);
  corpus_dir(path, "corpus/dicom", 1);
  passthrough_corpus(path);
}

/* ------------------------------------------- fuzz findings F1, F2
 * Every crasher the plugin opens must survive open -> write -> re-open
 * untouched, and again after a non-ASCII value is set (the output must
 * then declare ISO_IR 192 and dcmdump must accept it). A refusal at open
 * must come with a reason. */

static int write_reopen(mv_doc *d, const char *name, const char *pn) {
  char err[256] = "", out[160];
  snprintf(out, sizeof out, "%s/reopen.dcm", tmpdir);
  int rc = F->write(d, out, err, sizeof err);
  if (rc != MV_OK) printf("  write %s: %s\n", name, err);
  CHECK(rc == MV_OK);
  if (rc != MV_OK) return 0;
  CHECK(dcmdump_ok(out));
  mv_doc *r = NULL;
  err[0] = 0;
  rc = F->open(S, out, &r, err, sizeof err);
  if (rc != MV_OK) printf("  reopen %s: %s\n", name, err);
  CHECK(rc == MV_OK && r != NULL);
  if (r && pn) {
    const char *v = get_str(r, "(0010,0010)");
    CHECK(v && !strcmp(v, pn));
    const char *cs = get_str(r, "(0008,0005)");
    CHECK(cs && !strcmp(cs, "ISO_IR 192"));
  }
  if (r) F->close(r);
  unlink(out);
  return rc == MV_OK;
}

static void test_fuzz_reopen(void) {
  static const char *const names[] = {
      "format_dicom-dicomdir-charset-reopen",
      "format_dicom-charset-badvr-reopen",
      "format_dicom-unknown-vr-sq-reopen",
  };
  const char *pn = "M\xc3\xbcller^J\xc3\xb6rg"; /* UTF-8 */
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char path[600], err[256] = "";
    snprintf(path, sizeof path, "%s/tests/fuzz/crashers/%s", MV_SOURCE_DIR,
             names[i]);
    CHECK(exists(path));
    for (int edit = 0; edit < 2; edit++) {
      mv_doc *d = NULL;
      err[0] = 0;
      int rc = F->open(S, path, &d, err, sizeof err);
      if (rc != MV_OK) {
        CHECK(err[0] != 0); /* refused, with a reason */
        break;
      }
      if (edit)
        CHECK(F->set(d, "(0010,0010)", NULL, pn, strlen(pn)) == MV_OK);
      CHECK(write_reopen(d, names[i], edit ? pn : NULL));
      F->close(d);
    }
  }

  /* a SpecificCharacterSet with a VR dcmtk does not know still converts
   * Latin-1 (raw explicit VR little endian dataset) */
  static const unsigned char badvr[] = {
      /* a known VR first, so the encoding is recognised as explicit */
      0x04, 0x00, 0x30, 0x11, 'C', 'S', 4, 0, 'T', 'E', 'S', 'T',
      /* unknown VRs made of letters take a 4-byte length, like UN */
      0x08, 0x00, 0x05, 0x00, 'Z', 'Z', 0, 0, 10, 0, 0, 0, 'I', 'S', 'O', '_', 'I', 'R',
      ' ', '1', '0', '0',
      0x10, 0x00, 0x10, 0x00, 'P', 'N', 4, 0, 'B', 'r', 0xFC, 'n',
      0x10, 0x00, 0x20, 0x00, 'Q', 'Q', 0, 0, 4, 0, 0, 0, 'I', 'D', '4', '2'};
  char in[160];
  snprintf(in, sizeof in, "%s/badvr.dcm", tmpdir);
  FILE *f = fopen(in, "wb");
  CHECK(f && fwrite(badvr, 1, sizeof badvr, f) == sizeof badvr);
  if (f) fclose(f);
  mv_doc *d = open_ok(in);
  if (d) {
    const char *v = get_str(d, "(0010,0010)");
    CHECK(v && !strcmp(v, "Br\xc3\xbcn"));
    v = get_str(d, "(0010,0020)"); /* unknown VR, dictionary LO */
    CHECK(v && !strcmp(v, "ID42"));
    CHECK(write_reopen(d, "badvr", NULL));
    F->close(d);
  }
  unlink(in);

  /* a DICOMDIR whose top level and records declare Latin-1: converted per
   * item, declared ISO_IR 192 everywhere, re-opens */
  char dump[160], dir[160], cmd[600];
  snprintf(dump, sizeof dump, "%s/dicomdir.txt", tmpdir);
  snprintf(dir, sizeof dir, "%s/DICOMDIR", tmpdir);
  f = fopen(dump, "wb");
  CHECK(f != NULL);
  if (!f) return;
  fputs("(0002,0001) OB 00\\01\n"
        "(0002,0002) UI =MediaStorageDirectoryStorage\n"
        "(0002,0003) UI [1.2.3.4]\n"
        "(0002,0010) UI =LittleEndianExplicit\n"
        "(0004,1130) CS [TEST]\n"
        "(0008,0005) CS [ISO_IR 100]\n"
        "(0010,0010) PN [Top\xe9]\n"
        "(0004,1220) SQ (Sequence with explicit length #=2)\n"
        "  (fffe,e000) na (Item with explicit length #=4)\n"
        "    (0004,1430) CS [PATIENT]\n"
        "    (0010,0010) PN [M\xfcller^J\xf6rg]\n"
        "    (0010,0020) LO [ID1]\n"
        "  (fffe,e00d) na (ItemDelimitationItem for re-encoding)\n"
        "  (fffe,e000) na (Item with explicit length #=4)\n"
        "    (0004,1430) CS [PATIENT]\n"
        "    (0008,0005) CS [ISO_IR 101]\n"
        "    (0010,0010) PN [\xb3\xf3" "d\xbc]\n"
        "  (fffe,e00d) na (ItemDelimitationItem for re-encoding)\n"
        "(fffe,e0dd) na (SequenceDelimitationItem for re-encoding)\n",
        f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "dump2dcm -q +E '%s' '%s' >/dev/null 2>&1", dump,
           dir);
  if (system(cmd) != 0) {
    printf("DICOMDIR charset: skipped (dump2dcm failed)\n");
  } else if ((d = open_ok(dir)) != NULL) {
    const char *v = get_str(d, "(0010,0010)");
    CHECK(v && !strcmp(v, "Top\xc3\xa9"));
    v = get_str(d, "(0004,1220)[0].(0010,0010)");
    CHECK(v && !strcmp(v, pn));
    v = get_str(d, "(0004,1220)[1].(0010,0010)");
    CHECK(v && !strcmp(v, "\xc5\x82\xc3\xb3" "d\xc5\xba"));
    v = get_str(d, "(0004,1220)[1].(0008,0005)");
    CHECK(v && !strcmp(v, "ISO_IR 192"));
    CHECK(F->set(d, "(0010,0010)", NULL, pn, strlen(pn)) == MV_OK);
    CHECK(write_reopen(d, "DICOMDIR", pn));
    F->close(d);
  }
  unlink(dump);
  unlink(dir);
}

int main(void) {
  P = mv_test_load_plugin(MV_BUILD_PLUGIN_DIR "/format-dicom.so");
  CHECK(P != NULL);
  if (!P) TEST_MAIN_END();
  CHECK(P && P->abi == MV_PLUGIN_ABI && P->size >= sizeof(mv_plugin));
  CHECK_STR(P->name, "format-dicom");
  CHECK(P->kinds & MV_KIND_FORMAT);
  F = P->format;
  CHECK(F && F->size >= sizeof(mv_format_ops));
  CHECK_STR(F->extension, "dcm");
  char err[256] = "";
  int rc = P->init(&mv_test_host, NULL, &S, err, sizeof err);
  if (rc != MV_OK) fprintf(stderr, "init: %s\n", err);
  CHECK(rc == MV_OK);
  if (rc != MV_OK) TEST_MAIN_END();

  snprintf(tmpdir, sizeof tmpdir, "/tmp/mvdcm.XXXXXX");
  CHECK(mkdtemp(tmpdir) != NULL);

  test_resolve();
  test_synthetic_nesting();
  test_passthrough();
  if (exists(TF "CT_small.dcm")) {
    test_probe();
    test_ct_small();
    test_sequences();
    test_private_removal();
    test_pydicom_files();
    test_charsets();
  } else {
    printf("pydicom test files: skipped (python3-pydicom not installed)\n");
  }
  test_fuzz_reopen();
  test_corpus();

  rmdir(tmpdir);
  P->fini(S);
  TEST_MAIN_END();
}
