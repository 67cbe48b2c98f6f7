/* test_archive.c - mv_archive: limits parsing, recognition by content, and
 * expansion (generated temp names, refusals, nesting, member count). */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_archive.h"
#include "mv_test.h"

/* ---- limits ------------------------------------------------------------- */

static void test_limits(void) {
  mv_archive_limits l;
  char err[256] = "";
  unsetenv("MEDVEIL_ARCHIVE_LIMITS");
  CHECK(mv_archive_limits_init(&l, err, sizeof err) == 0);
  CHECK(l.max_depth == 2 && l.max_members == 100000);
  CHECK(l.max_total == 64ULL << 30 && l.max_member == 4ULL << 30);
  CHECK(l.ratio_floor == 8ULL << 20 && l.max_ratio == 200);
  setenv("MEDVEIL_ARCHIVE_LIMITS", "members=5,total=1M,member=2k,depth=3", 1);
  CHECK(mv_archive_limits_init(&l, err, sizeof err) == 0);
  CHECK(l.max_members == 5 && l.max_total == 1 << 20 && l.max_member == 2048);
  CHECK(l.max_depth == 3);
  setenv("MEDVEIL_ARCHIVE_LIMITS", "total=lots", 1);
  CHECK(mv_archive_limits_init(&l, err, sizeof err) != 0 && strstr(err, "total"));
  setenv("MEDVEIL_ARCHIVE_LIMITS", "nope=1", 1);
  CHECK(mv_archive_limits_init(&l, err, sizeof err) != 0);
  setenv("MEDVEIL_ARCHIVE_LIMITS", "depth=0", 1);
  CHECK(mv_archive_limits_init(&l, err, sizeof err) != 0);
  unsetenv("MEDVEIL_ARCHIVE_LIMITS");
}

/* ---- sniffing ----------------------------------------------------------- */

static void tar_header(uint8_t *h, int good_sum) {
  memset(h, 0, 512);
  strcpy((char *)h, "x.dcm");
  memcpy(h + 100, "0000644", 7);
  memcpy(h + 124, "00000000005", 11);
  h[156] = '0';
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  snprintf((char *)h + 148, 8, "%06o", good_sum ? sum : sum + 1);
}

static void test_sniff(void) {
  uint8_t h[512];
  memset(h, 0, sizeof h);
  CHECK(mv_archive_sniff((const uint8_t *)"PK\3\4....", 8));
  CHECK(mv_archive_sniff((const uint8_t *)"PK\5\6", 4));
  CHECK(mv_archive_sniff((const uint8_t *)"7z\xBC\xAF\x27\x1C", 6));
  CHECK(mv_archive_sniff((const uint8_t *)"\x1F\x8B\x08\0", 4));
  CHECK(mv_archive_sniff((const uint8_t *)"BZh91AY&SY", 10));
  CHECK(mv_archive_sniff((const uint8_t *)"\xFD" "7zXZ\0", 6));
  CHECK(mv_archive_sniff((const uint8_t *)"\x28\xB5\x2F\xFD", 4));
  CHECK(!mv_archive_sniff((const uint8_t *)"PK\3", 3));
  CHECK(!mv_archive_sniff((const uint8_t *)"BZh9xxxxxx", 10));
  tar_header(h, 1);
  CHECK(mv_archive_sniff(h, 512));
  CHECK(!mv_archive_sniff(h, 511));
  tar_header(h, 0);
  CHECK(!mv_archive_sniff(h, 512)); /* "ustar" alone is not enough */
  memset(h, 0, sizeof h);
  memcpy(h + 128, "DICM", 4);
  CHECK(!mv_archive_sniff(h, 512));
  CHECK(!mv_archive_sniff((const uint8_t *)"\x89PNG\r\n\x1a\n", 8));
}

/* ---- expanding ---------------------------------------------------------- */

typedef struct seen {
  char shown[32][256];
  char why[32][256];
  int nmember, nreject;
  int tmp_ok;  /* every member file had the generated prefix and content */
  const char *prefix;
} seen;

static void on_member(void *ud, const char *file, const char *shown) {
  seen *s = ud;
  if (s->nmember < 32) snprintf(s->shown[s->nmember], 256, "%s", shown);
  s->nmember++;
  char buf[64] = "";
  FILE *f = fopen(file, "rb");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f) fclose(f);
  buf[n] = 0;
  if (strncmp(file, s->prefix, strlen(s->prefix)) != 0 ||
      strcmp(buf, "hello") != 0)
    s->tmp_ok = 0;
}

static void on_reject(void *ud, const char *shown, unsigned long long bytes,
                      const char *reason) {
  (void)bytes;
  seen *s = ud;
  if (s->nreject < 32) {
    snprintf(s->shown[16 + s->nreject % 16], 256, "%s", shown);
    snprintf(s->why[s->nreject], 256, "%s", reason);
  }
  s->nreject++;
}

static void add(struct archive *a, const char *name, int type,
                const void *data, size_t n, const char *link) {
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, (unsigned)type);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, (la_int64_t)n);
  if (link) archive_entry_set_symlink(e, link);
  archive_write_header(a, e);
  if (n) archive_write_data(a, data, n);
  archive_entry_free(e);
}

/* A zip at `path`; with `inner` the archive file to embed as "in.zip". */
static void make_zip(const char *path, const char *inner, int nextra) {
  struct archive *a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open_filename(a, path);
  add(a, "dir/a.dcm", AE_IFREG, "hello", 5, NULL);
  add(a, "../up.dcm", AE_IFREG, "hello", 5, NULL);
  add(a, "/abs.dcm", AE_IFREG, "hello", 5, NULL);
  add(a, "link.dcm", AE_IFLNK, NULL, 0, "/etc/passwd");
  if (inner) {
    static char buf[1 << 16];
    FILE *f = fopen(inner, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    add(a, "in.zip", AE_IFREG, buf, n, NULL);
  }
  for (int i = 0; i < nextra; i++) {
    char name[32];
    snprintf(name, sizeof name, "m%d.dcm", i);
    add(a, name, AE_IFREG, "hello", 5, NULL);
  }
  archive_write_close(a);
  archive_write_free(a);
}

static int has(const seen *s, const char *shown) {
  for (int i = 0; i < 32; i++)
    if (strcmp(s->shown[i], shown) == 0) return 1;
  return 0;
}

static int has_why(const seen *s, const char *part) {
  for (int i = 0; i < s->nreject && i < 32; i++)
    if (strstr(s->why[i], part)) return 1;
  return 0;
}

static int dir_empty(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", dir);
  return system(cmd) == 0;
}

static void test_expand(void) {
  char dir[] = "/tmp/mv_test_archive_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char tmpd[300], l3[300], l2[300], l1[300], prefix[400];
  snprintf(tmpd, sizeof tmpd, "%s/tmp", dir);
  mkdir(tmpd, 0700);
  snprintf(l3, sizeof l3, "%s/l3.zip", dir);
  snprintf(l2, sizeof l2, "%s/l2.zip", dir);
  snprintf(l1, sizeof l1, "%s/l1.zip", dir);
  snprintf(prefix, sizeof prefix, "%s/p1-w0-a0-", tmpd);
  make_zip(l3, NULL, 0);
  make_zip(l2, l3, 0);
  make_zip(l1, l2, 0);
  mv_archive_limits lim;
  char err[128];
  unsetenv("MEDVEIL_ARCHIVE_LIMITS");
  mv_archive_limits_init(&lim, err, sizeof err);

  seen s;
  memset(&s, 0, sizeof s);
  s.tmp_ok = 1;
  s.prefix = prefix;
  mv_archive_sink sink = {.ud = &s, .member = on_member, .reject = on_reject};
  unsigned long handed = mv_archive_expand(l1, "l1.zip", prefix, &lim, &sink);
  CHECK(handed == 2 && s.nmember == 2);
  CHECK(has(&s, "l1.zip!dir/a.dcm"));
  CHECK(has(&s, "l1.zip!in.zip!dir/a.dcm"));
  CHECK(s.tmp_ok);
  CHECK(s.nreject == 7); /* 3 tricks x 2 levels + the depth-3 archive */
  CHECK(has(&s, "l1.zip!in.zip!in.zip"));
  CHECK(has_why(&s, "nested deeper than 2"));
  CHECK(has_why(&s, "absolute path"));
  CHECK(has_why(&s, "'..'"));
  CHECK(has_why(&s, "symbolic link"));
  CHECK(dir_empty(tmpd)); /* every temp file removed */

  /* Member count, across nesting. */
  char many[300];
  snprintf(many, sizeof many, "%s/many.zip", dir);
  make_zip(many, NULL, 20);
  lim.max_members = 10;
  memset(&s, 0, sizeof s);
  s.tmp_ok = 1;
  s.prefix = prefix;
  mv_archive_expand(many, "many.zip", prefix, &lim, &sink);
  CHECK(s.nmember == 7); /* 10 entries: a.dcm, 3 tricks, m0..m5 */
  CHECK(has_why(&s, "more than 10 members"));
  CHECK(dir_empty(tmpd));

  /* Not an archive at all. */
  char junk[300];
  snprintf(junk, sizeof junk, "%s/junk.zip", dir);
  FILE *f = fopen(junk, "wb");
  fputs("PK\3\4 this is not really a zip file at all", f);
  fclose(f);
  memset(&s, 0, sizeof s);
  mv_archive_expand(junk, "junk.zip", prefix, &lim, &sink);
  CHECK(s.nmember == 0 && s.nreject == 1);
  CHECK(dir_empty(tmpd));

  /* Compressed data is an archive only when it holds a tar. */
  char gz[300], tgz[300], cmd[400];
  snprintf(gz, sizeof gz, "%s/x.nii.gz", dir);
  snprintf(tgz, sizeof tgz, "%s/x.tgz", dir);
  struct archive *a = archive_write_new();
  archive_write_set_format_raw(a);
  archive_write_add_filter_gzip(a);
  archive_write_open_filename(a, gz);
  static char zeros[4096];
  add(a, "data", AE_IFREG, zeros, sizeof zeros, NULL);
  archive_write_close(a);
  archive_write_free(a);
  a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  archive_write_open_filename(a, tgz);
  add(a, "a.dcm", AE_IFREG, "hello", 5, NULL);
  archive_write_close(a);
  archive_write_free(a);
  CHECK(!mv_archive_file_is_archive(gz));
  CHECK(mv_archive_file_is_archive(tgz));
  CHECK(mv_archive_file_is_archive(l1));

  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

int main(void) {
  test_limits();
  test_sniff();
  test_expand();
  TEST_MAIN_END();
}
