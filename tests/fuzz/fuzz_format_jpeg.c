/* fuzz_format_jpeg.c - libFuzzer target for the JPEG format plugin.
 *
 * The plugin sources and plugins/shared (mv_jpegblock) are compiled into
 * this binary, instrumented. Each input is one file, written to a private
 * directory (/dev/shm when there is one, since open() takes a path) and
 * driven the way the core drives it:
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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "medveil/plugin.h"

const mv_plugin *mv_plugin_entry(void);

static const mv_plugin *P;
static const mv_format_ops *F;
static void *S;
static char dir[80], in_path[112], out_path[112];
static int verbose;

static void host_log(int level, const char *who, const char *fmt, ...) {
  if (!verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "[%d] %s: ", level, who);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static const mv_host host = {MV_PLUGIN_ABI, sizeof(mv_host), host_log, malloc,
                             free};

static void die(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_format_jpeg: INVARIANT: %s%s%s\n", what,
          detail ? ": " : "", detail ? detail : "");
  abort();
}

static void cleanup(void) {
  unlink(in_path);
  unlink(out_path);
  rmdir(dir);
}

/* A crash skips atexit: remove the directories of dead processes. */
static void sweep_stale(const char *base, const char *prefix) {
  DIR *d = opendir(base);
  if (!d) return;
  size_t pl = strlen(prefix);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, prefix, pl) != 0) continue;
    long pid = strtol(e->d_name + pl, NULL, 10);
    if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    char p[512];
    snprintf(p, sizeof p, "%s/%s/in.jpg", base, e->d_name);
    unlink(p);
    snprintf(p, sizeof p, "%s/%s/out.jpg", base, e->d_name);
    unlink(p);
    snprintf(p, sizeof p, "%s/%s", base, e->d_name);
    rmdir(p);
  }
  closedir(d);
}

static volatile uint32_t sink;
static void touch(const void *p, size_t n) {
  const uint8_t *b = p;
  uint32_t h = 0;
  for (size_t i = 0; i < n; i++) h = h * 31 + b[i];
  sink = h;
}

static void check_err(int rc, const char *err, size_t cap) {
  if (!memchr(err, 0, cap)) die("error message not NUL-terminated", NULL);
  if (rc != MV_OK && rc != MV_ENOMEM && !err[0])
    die("failure without a reason", NULL);
}

static int write_file(const char *path, const uint8_t *data, size_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0) {
      close(fd);
      return -1;
    }
    off += (size_t)w;
  }
  close(fd);
  return 0;
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
  if (!a->name) die("mv_attr.name is NULL", NULL);
  touch(a->name, strlen(a->name) + 1);
  if (strncmp(a->name, "jpeg:", 5) != 0) die("name outside jpeg:", a->name);
  if (a->tag || a->depth || a->parents || a->is_meta || a->vr[0])
    die("DICOM fields set on a JPEG attribute", a->name);
  if (a->value) {
    touch(a->value, a->len + 1);
    if (a->value[a->len] != 0 || strlen(a->value) != a->len)
      die("mv_attr.value length or terminator wrong", a->name);
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
  if (info.planes != 1) die("JPEG with more than one plane", NULL);
  char err[256];
  memset(err, 0x55, sizeof err);
  err[0] = 0;
  mv_image img;
  int rc = F->acquire(doc, 0, &img, err, sizeof err);
  check_err(rc, err, sizeof err);
  if (rc != MV_OK) return;
  if (img.width != info.width || img.height != info.height ||
      img.bits != 8 || img.stride != (size_t)img.width * img.samples)
    die("acquired plane disagrees with pixel_info", NULL);
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
  verbose = getenv("FUZZ_VERBOSE") != NULL;
  P = mv_plugin_entry();
  F = P->format;
  char err[256] = "";
  if (P->init(&host, NULL, &S, err, sizeof err) != MV_OK) die("init", err);
  const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  sweep_stale(base, "mv-fuzz-jpeg-");
  snprintf(dir, sizeof dir, "%s/mv-fuzz-jpeg-%ld", base, (long)getpid());
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) die("mkdir", dir);
  snprintf(in_path, sizeof in_path, "%s/in.jpg", dir);
  snprintf(out_path, sizeof out_path, "%s/out.jpg", dir);
  atexit(cleanup);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  int score = F->probe(S, data, size < 512 ? size : 512);
  if (score < 0 || score > 100) die("probe out of range", NULL);
  if (write_file(in_path, data, size)) die("cannot write input", in_path);
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
  if (F->visit(doc, visit_collect, &ap) != MV_OK) die("collect visit failed", NULL);
  const char *v = NULL;
  size_t len = 0;
  if (F->get(doc, "Modality", &v, &len) != MV_OK || len != 2 ||
      memcmp(v, "XC", 2) != 0)
    die("Modality is not XC", NULL);
  if (next(&ap.t) & 1) {
    uint32_t dropped = 0;
    if (F->drop_hidden_pixels(doc, &dropped) != MV_OK) die("drop_hidden", NULL);
  }
  pixels(doc, &ap.t, 1);
  rc = F->visit(doc, visit_apply, &ap);
  if (rc != MV_OK && rc != MV_EREJECT) die("apply visit failed", NULL);
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
  if (rc != MV_OK) die("written output does not open again", err);
  int count = 0;
  F->visit(doc, visit_count, &count);
  pixels(doc, &ap.t, 0);
  F->close(doc);
  return 0;
}
