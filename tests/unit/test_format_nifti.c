/* test_format_nifti.c - the format-nifti plugin through its ops: probe
 * (plain and gzip), open, the attributes it shows, remove/empty/set_value
 * semantics on fixed fields and extensions, write (vox_offset, alignment,
 * byte-identical voxels, hidden bytes zeroed), NIfTI-2 big endian, the
 * .img companion, per-document extension, and a few hostile headers. */
#define MV_TEST_PLUGINS
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mv_test.h"

static const mv_format_ops *F;
static void *S;
static char dir[64];

static void put32(uint8_t *p, uint32_t v, int be) {
  for (int i = 0; i < 4; i++) p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}
static void put16(uint8_t *p, uint16_t v, int be) {
  p[be ? 1 : 0] = (uint8_t)v;
  p[be ? 0 : 1] = (uint8_t)(v >> 8);
}
static void put64(uint8_t *p, uint64_t v, int be) {
  for (int i = 0; i < 8; i++) p[be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p, int be) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)p[be ? 3 - i : i] << (8 * i);
  return v;
}

/* One extension: esize, ecode, content padded to 16. Returns bytes. */
static size_t ext(uint8_t *p, int32_t code, const char *c, size_t n, int be) {
  size_t esize = (8 + n + 15) / 16 * 16;
  memset(p, 0, esize);
  put32(p, (uint32_t)esize, be);
  put32(p + 4, (uint32_t)code, be);
  memcpy(p + 8, c, n);
  return esize;
}

static const char COMMENT[] = "patient Xcomment";
static const uint8_t DICOM[] = {0x10, 0, 0x10, 0, 'P', 'N', 4, 0, 'X', 'd', 'c', 'm'};

/* A NIfTI-1 (4x3x2 int16) or NIfTI-2 (same) file with text
 * fields set and three extensions; voxel i has value i*7+1. */
static size_t make(uint8_t *b, int version, int be, int pair) {
  memset(b, 0, 4096);
  size_t hs = version == 1 ? 348 : 540, pos = hs + 4;
  b[hs] = 1;
  pos += ext(b + pos, 6, COMMENT, sizeof COMMENT - 1, be);
  pos += ext(b + pos, 2, (const char *)DICOM, sizeof DICOM, be);
  pos += ext(b + pos, 6, "second comment\0\0", 16, be);
  put32(b, (uint32_t)hs, be);
  if (version == 1) {
    memcpy(b + 344, pair ? "ni1" : "n+1", 4);
    uint16_t dims[8] = {3, 4, 3, 2, 1, 1, 1, 1};
    for (int i = 0; i < 8; i++) put16(b + 40 + 2 * i, dims[i], be);
    put16(b + 70, 4, be);
    put16(b + 72, 16, be);
    float vo = pair ? 0.0f : (float)pos;
    uint32_t u;
    memcpy(&u, &vo, 4);
    put32(b + 108, u, be);
    memcpy(b + 14, "Xdbname", 7);
    memcpy(b + 148, "Xdescrip", 8);
    memcpy(b + 148 + 20, "Xhidden", 7); /* after the NUL */
    memcpy(b + 228, "Xaux", 4);
    memcpy(b + 328, "Xintent", 7);
  } else {
    memcpy(b + 4, pair ? "ni2\0\r\n\032\n" : "n+2\0\r\n\032\n", 8);
    put16(b + 12, 4, be);
    put16(b + 14, 16, be);
    uint64_t dims[8] = {3, 4, 3, 2, 1, 1, 1, 1};
    for (int i = 0; i < 8; i++) put64(b + 16 + 8 * i, dims[i], be);
    put64(b + 168, pair ? 0 : pos, be);
    memcpy(b + 240, "Xdescrip", 8);
    memcpy(b + 320, "Xaux", 4);
    memcpy(b + 508, "Xintent", 7);
    memcpy(b + 525, "Xunused", 7);
  }
  return pos;
}

static size_t voxels(uint8_t *p) {
  for (int i = 0; i < 48; i++) p[i] = (uint8_t)(i * 7 + 1);
  return 48;
}

static void save(const char *name, const uint8_t *b, size_t n) {
  char p[128];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  fwrite(b, 1, n, f);
  fclose(f);
}

static size_t load(const char *name, uint8_t *b, size_t cap) {
  char p[128];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "rb");
  if (!f) return 0;
  size_t n = fread(b, 1, cap, f);
  fclose(f);
  return n;
}

static mv_doc *open_doc(const char *name, int want_rc, const char *reason) {
  char p[128], err[256] = "";
  snprintf(p, sizeof p, "%s/%s", dir, name);
  mv_doc *d = NULL;
  int rc = F->open(S, p, &d, err, sizeof err);
  if (rc != want_rc) fprintf(stderr, "%s: rc %d (%s)\n", name, rc, err);
  CHECK(rc == want_rc);
  if (reason) CHECK(strstr(err, reason) != NULL);
  if (rc == MV_OK) CHECK(d != NULL);
  return rc == MV_OK ? d : NULL;
}

typedef struct seen {
  char names[16][48];
  int binary[16];
  char values[16][96];
  int n;
  int action; /* what to answer */
} seen;

static int visitor(void *ud, const mv_attr *a, void *handle) {
  (void)handle;
  seen *s = ud;
  if (s->n < 16) {
    snprintf(s->names[s->n], 48, "%s", a->name ? a->name : "(null)");
    s->binary[s->n] = a->value == NULL;
    snprintf(s->values[s->n], 96, "%.*s", a->value ? (int)a->len : 0,
             a->value ? a->value : "");
    s->n++;
  }
  CHECK(a->tag == 0 && a->vr[0] == 0 && a->name);
  return s->action;
}

static int has(const seen *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->names[i], name) == 0) return i;
  return -1;
}

static int write_doc(mv_doc *d, const char *name) {
  char p[128], err[256] = "";
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int rc = F->write(d, p, err, sizeof err);
  if (rc != MV_OK) fprintf(stderr, "write %s: %s\n", name, err);
  return rc;
}

static int contains(const uint8_t *b, size_t n, const char *s) {
  size_t k = strlen(s);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(b + i, s, k) == 0) return 1;
  return 0;
}

static void test_n1(int be) {
  uint8_t b[4096], o[4096];
  size_t vo = make(b, 1, be, 0), n = vo + voxels(b + vo);
  save("a.nii", b, n);
  CHECK(F->probe(S, b, n < 512 ? n : 512) == 100);
  mv_doc *d = open_doc("a.nii", MV_OK, NULL);
  if (!d) return;
  seen s = {.action = MV_VISIT_KEEP};
  CHECK(F->visit(d, visitor, &s) == MV_OK);
  CHECK(s.n == 7); /* db_name, descrip, aux, intent, 3 extensions */
  CHECK(has(&s, "nifti:descrip") >= 0 && has(&s, "nifti:aux_file") >= 0);
  CHECK(has(&s, "nifti:intent_name") >= 0 && has(&s, "nifti:db_name") >= 0);
  int i = has(&s, "nifti:ext:6:0");
  CHECK(i >= 0 && !s.binary[i] && strcmp(s.values[i], COMMENT) == 0);
  i = has(&s, "nifti:ext:2:0");
  CHECK(i >= 0 && s.binary[i]);
  CHECK(has(&s, "nifti:ext:6:1") >= 0);
  const char *v;
  size_t len;
  CHECK(F->get(d, "nifti:descrip", &v, &len) == MV_OK && len == 8 &&
        memcmp(v, "Xdescrip", 8) == 0);
  CHECK(F->get(d, "nifti:ext:2:0", &v, &len) == MV_EUNSUPPORTED);
  CHECK(F->get(d, "PatientName", &v, &len) == MV_ENOTFOUND);
  mv_pixel_info pi = {.size = sizeof pi};
  CHECK(F->pixel_info(d, &pi) == MV_ENOTFOUND);
  CHECK_STR(F->doc_extension(d), "nii");
  /* remove everything: fields zeroed, extensions dropped */
  seen r = {.action = MV_VISIT_REMOVE};
  CHECK(F->visit(d, visitor, &r) == MV_OK && r.n == 7);
  CHECK(write_doc(d, "a.out.nii") == MV_OK);
  F->close(d);
  size_t on = load("a.out.nii", o, sizeof o);
  CHECK(on == 352 + 48);
  CHECK(memcmp(o + 352, b + vo, 48) == 0);
  CHECK(o[348] == 0);
  CHECK(!contains(o, on, "Xdescrip") && !contains(o, on, "Xhidden") &&
        !contains(o, on, "Xcomment") && !contains(o, on, "Xdcm") &&
        !contains(o, on, "Xaux") && !contains(o, on, "Xintent") &&
        !contains(o, on, "Xdbname"));
  float vof;
  uint32_t u = get32(o + 108, be);
  memcpy(&vof, &u, 4);
  CHECK(vof == 352.0f);
  d = open_doc("a.out.nii", MV_OK, NULL);
  if (d) {
    seen e = {.action = MV_VISIT_KEEP};
    CHECK(F->visit(d, visitor, &e) == MV_OK && e.n == 0);
    F->close(d);
  }
}

static mv_doc *cur;
static int setter(void *ud, const mv_attr *a, void *handle) {
  (void)ud;
  if (strcmp(a->name, "nifti:descrip") == 0) {
    char big[200];
    memset(big, 'Y', sizeof big);
    CHECK(F->set_value(cur, handle, big, sizeof big) == MV_OK);
    return MV_VISIT_KEEP;
  }
  if (strcmp(a->name, "nifti:ext:6:0") == 0) {
    CHECK(F->set_value(cur, handle, "cleaned", 7) == MV_OK);
    return MV_VISIT_KEEP;
  }
  if (strcmp(a->name, "nifti:ext:6:1") == 0) return MV_VISIT_EMPTY;
  return MV_VISIT_REMOVE;
}

static void test_n2_be_set(void) {
  uint8_t b[4096], o[4096];
  size_t vo = make(b, 2, 1, 0), n = vo + voxels(b + vo);
  save("b.nii", b, n);
  CHECK(F->probe(S, b, 512) == 100);
  mv_doc *d = open_doc("b.nii", MV_OK, NULL);
  if (!d) return;
  cur = d;
  CHECK(F->visit(d, setter, NULL) == MV_OK);
  const char *v;
  size_t len;
  CHECK(F->get(d, "nifti:descrip", &v, &len) == MV_OK && len == 79);
  CHECK(F->get(d, "nifti:ext:6:0", &v, &len) == MV_OK && len == 7);
  CHECK(F->get(d, "nifti:aux_file", &v, &len) == MV_ENOTFOUND);
  CHECK(F->set(d, "nifti:ext:4:0", NULL, "<x/>", 4) == MV_OK);
  CHECK(F->set(d, "nifti:ext:4:5", NULL, "<x/>", 4) == MV_ENOTFOUND);
  CHECK(F->set(d, "PatientName", NULL, "x", 1) == MV_EUNSUPPORTED);
  CHECK(F->remove(d, "nifti:intent_name") == MV_ENOTFOUND); /* removed */
  CHECK(write_doc(d, "b.out.nii") == MV_OK);
  F->close(d);
  size_t on = load("b.out.nii", o, sizeof o);
  /* header 540 + 4 + ext "cleaned" 16 + empty 16 + "<x/>" 16 */
  CHECK(on == 544 + 48 + 48);
  CHECK(get32(o + 172, 1) == 544 + 48 && get32(o + 168, 1) == 0);
  CHECK(memcmp(o + 544 + 48, b + vo, 48) == 0);
  CHECK(!contains(o, on, "Xunused") && !contains(o, on, "Xcomment") &&
        !contains(o, on, "Xdcm") && contains(o, on, "cleaned"));
  CHECK(memcmp(o + 4, "n+2\0\r\n\032\n", 8) == 0);
}

static void test_pair_and_gz(void) {
  uint8_t b[4096], o[4096], img[64];
  size_t hn = make(b, 1, 0, 1);
  save("p.hdr", b, hn);
  save("p.img", img, voxels(img));
  save("lone.img", img, 48);
  char p[128], note[256] = "";
  snprintf(p, sizeof p, "%s/p.img", dir);
  CHECK(F->companion_of(S, p, note, sizeof note) == MV_OK &&
        strstr(note, ".hdr/.img pair"));
  snprintf(p, sizeof p, "%s/lone.img", dir);
  CHECK(F->companion_of(S, p, note, sizeof note) == MV_ENOTFOUND);
  mv_doc *d = open_doc("p.hdr", MV_OK, NULL);
  if (d) {
    CHECK(write_doc(d, "p.out.nii") == MV_OK);
    F->close(d);
    size_t on = load("p.out.nii", o, sizeof o);
    CHECK(on >= 48 && memcmp(o + on - 48, img, 48) == 0);
    CHECK(memcmp(o + 344, "n+1", 4) == 0); /* one file now */
  }
  /* gzip: probe looks inside the stream; output stays gzip */
  size_t vo = make(b, 1, 0, 0), n = vo + voxels(b + vo);
  save("g.nii", b, n);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "gzip -f -n %s/g.nii", dir);
  CHECK(system(cmd) == 0);
  size_t gn = load("g.nii.gz", o, sizeof o);
  CHECK(gn > 18 && F->probe(S, o, gn < 512 ? gn : 512) == 100);
  CHECK(F->probe(S, o, 40) == 0 || F->probe(S, o, 40) == 60);
  d = open_doc("g.nii.gz", MV_OK, NULL);
  if (d) {
    CHECK_STR(F->doc_extension(d), "nii.gz");
    CHECK(write_doc(d, "g.out.nii.gz") == MV_OK);
    F->close(d);
    d = open_doc("g.out.nii.gz", MV_OK, NULL);
    if (d) F->close(d);
  }
}

static void test_hostile(void) {
  uint8_t b[4096];
  size_t vo = make(b, 1, 0, 0), n = vo + voxels(b + vo);
  save("t.nii", b, n - 1);
  open_doc("t.nii", MV_EFORMAT, "truncated");
  uint8_t c[4096];
  memcpy(c, b, n);
  put32(c + 352, 17, 0);
  save("t.nii", c, n);
  open_doc("t.nii", MV_EFORMAT, "multiple of 16");
  memcpy(c, b, n);
  put32(c + 352, 4096, 0);
  save("t.nii", c, n);
  open_doc("t.nii", MV_EFORMAT, "runs past");
  memcpy(c, b, n);
  put16(c + 72, 8, 0);
  save("t.nii", c, n);
  open_doc("t.nii", MV_EFORMAT, "bitpix");
  vo = make(b, 2, 0, 0);
  for (int i = 1; i <= 3; i++) put64(b + 16 + 8 * i, (uint64_t)1 << 40, 0);
  save("t.nii", b, vo + 48);
  open_doc("t.nii", MV_ELIMIT, "overflow");
  save("t.nii", b, 100);
  CHECK(F->probe(S, b, 100) == 100); /* N2 magic is at 4 */
  open_doc("t.nii", MV_EFORMAT, "truncated header");
}

int main(void) {
  const mv_plugin *p = mv_test_load_plugin(MV_BUILD_PLUGIN_DIR "/format-nifti.so");
  CHECK(p != NULL);
  if (!p) TEST_MAIN_END();
  char err[128];
  F = p->format;
  CHECK(F && F->size >= sizeof(mv_format_ops));
  CHECK(p->init(NULL, NULL, &S, err, sizeof err) == MV_OK);
  snprintf(dir, sizeof dir, "/tmp/mv-nifti-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  test_n1(0);
  test_n1(1);
  test_n2_be_set();
  test_pair_and_gz();
  test_hostile();
  p->fini(S);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  TEST_MAIN_END();
}
