/* fuzz_format_nifti.c - libFuzzer target for the NIfTI format plugin.
 *
 * The plugin sources are compiled in (see CMakeLists.txt). Each input is
 * written to a private scratch dir (fuzz_host.h) as x.nii and, for the
 * pair path, also as x.hdr with the same bytes in x.img beside it, then
 * driven the way the core drives it:
 *
 *   probe -> open -> visit (collect) -> visit (decisions) -> get/set/remove
 *   by key -> write -> close -> re-open the output (must succeed) -> visit
 *   -> close; companion_of on x.img. Some inputs are also gzip-compressed
 *   first (z.nii.gz), so mutated headers reach the gzip paths.
 *
 * Decisions come from the last byte of the input, so one input always runs
 * the same way. Invariants that abort: a written output that does not
 * reopen, malformed mv_attr fields, an unterminated error string. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_host.h"
#include "medveil/plugin.h"

const mv_plugin *mv_plugin_entry(void);

static const mv_format_ops *F;
static void *S;
static unsigned tape;
static mv_doc *cur;

static void put(const char *name, const uint8_t *d, size_t n) {
  char p[128];
  fuzz_path(p, sizeof p, name);
  fuzz_write_file(p, d, n);
}

/* The input gzip-compressed, so mutated headers reach the gzip paths. */
static void put_gz(const char *name, const uint8_t *d, size_t n) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY))
    abort();
  size_t cap = deflateBound(&z, n) + 32;
  uint8_t *out = malloc(cap);
  if (!out) abort();
  z.next_in = (Bytef *)(uintptr_t)d;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
  put(name, out, cap - z.avail_out);
  F->probe(S, out, cap - z.avail_out < 512 ? cap - z.avail_out : 512);
  deflateEnd(&z);
  free(out);
}

static int decide(void *ud, const mv_attr *a, void *handle) {
  int *count = ud;
  (*count)++;
  if (a->tag != 0 || a->vr[0] || !a->name || strncmp(a->name, "nifti:", 6))
    abort();
  volatile size_t sum = 0;
  if (a->value)
    for (size_t i = 0; i < a->len; i++) sum += (uint8_t)a->value[i];
  (void)sum;
  unsigned t = (tape >> ((*count * 2) % 8)) & 3;
  switch (t) {
    case 0: return MV_VISIT_KEEP;
    case 1: return MV_VISIT_REMOVE;
    case 2: return MV_VISIT_EMPTY;
    default:
      F->set_value(cur, handle, "fuzz value", (tape & 0x40) ? 10 : 0);
      return MV_VISIT_KEEP;
  }
}

static void drive(const char *name) {
  char p[128], err[512];
  fuzz_path(p, sizeof p, name);
  mv_doc *d = NULL;
  memset(err, 'x', sizeof err);
  err[0] = 0;
  int rc = F->open(S, p, &d, err, sizeof err);
  fuzz_check_err(err, sizeof err);
  if (rc != MV_OK) return;
  cur = d;
  int count = 0;
  F->visit(d, decide, &count);
  count = 0;
  F->visit(d, decide, &count);
  const char *keys[] = {"nifti:descrip", "nifti:aux_file", "nifti:intent_name",
                        "nifti:db_name", "nifti:ext:6:0", "nifti:ext:2:0",
                        "nifti:ext:4:1", "PatientName"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    const char *v;
    size_t len;
    if (F->get(d, keys[i], &v, &len) == MV_OK) {
      volatile size_t sum = 0;
      for (size_t k = 0; k < len; k++) sum += (uint8_t)v[k];
      (void)sum;
    }
  }
  if (tape & 0x80) F->set(d, "nifti:ext:6:0", NULL, "added", 5);
  if (tape & 0x20) F->remove(d, "nifti:ext:2:0");
  const char *ext = F->doc_extension(d);
  if (!ext) abort();
  char out[160], out_name[32];
  snprintf(out_name, sizeof out_name, "out.%s", ext);
  fuzz_path(out, sizeof out, out_name);
  rc = F->write(d, out, err, sizeof err);
  fuzz_check_err(err, sizeof err);
  F->close(d);
  if (rc != MV_OK) return;
  d = NULL;
  rc = F->open(S, out, &d, err, sizeof err);
  if (rc != MV_OK) fuzz_die("written output does not reopen", err);
  cur = d;
  count = 0;
  F->visit(d, decide, &count);
  F->close(d);
  unlink(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!F) {
    fuzz_setup("fuzz_format_nifti", "nifti");
    const mv_plugin *pl = mv_plugin_entry();
    char err[128] = "";
    F = pl->format;
    if (pl->init(&fuzz_host, NULL, &S, err, sizeof err) != MV_OK)
      fuzz_die("init", err);
  }
  tape = size ? data[size - 1] : 0;
  F->probe(S, data, size < 512 ? size : 512);
  put("x.nii", data, size);
  drive("x.nii");
  if (tape & 0x08) {
    put_gz("z.nii.gz", data, size);
    drive("z.nii.gz");
  }
  if (tape & 0x10) { /* the pair path: x.hdr with itself as x.img */
    put("x.hdr", data, size);
    put("x.img", data, size);
    drive("x.hdr");
    char p[128], note[256];
    fuzz_path(p, sizeof p, "x.img");
    F->companion_of(S, p, note, sizeof note);
  }
  return 0;
}
