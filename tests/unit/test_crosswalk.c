/* test_crosswalk.c - the sealed crosswalk: key files, the record codec
 * (round trip, awkward values), a damaged line, a wrong key, the file
 * writer and reader, and that no value is written in clear. */
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "medveil/errors.h"
#include "mv_crosswalk.h"
#include "mv_test.h"

static char dir[] = "/tmp/mv-xwalk-test-XXXXXX";

static void path_in(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", dir, name);
}

static int make_pair(const char *prefix, mv_xwalk_pub *pub,
                     mv_xwalk_secret *sec) {
  char p[512], pubp[600], secp[600], fp[MV_XWALK_FP_LEN + 1], err[512];
  path_in(p, sizeof p, prefix);
  if (mv_xwalk_keygen(p, fp, err, sizeof err) != MV_OK) {
    fprintf(stderr, "keygen: %s\n", err);
    return -1;
  }
  snprintf(pubp, sizeof pubp, "%s.pub", p);
  snprintf(secp, sizeof secp, "%s.key", p);
  if (mv_xwalk_load_public(pubp, pub, err, sizeof err) != MV_OK ||
      mv_xwalk_load_secret(secp, sec, err, sizeof err) != MV_OK) {
    fprintf(stderr, "load: %s\n", err);
    return -1;
  }
  CHECK_STR(pub->fp, fp);
  CHECK_STR(sec->fp, fp);
  return 0;
}

static void test_keys(void) {
  char p[512], pubp[600], secp[600], fp[MV_XWALK_FP_LEN + 1], err[512];
  path_in(p, sizeof p, "office");
  CHECK(mv_xwalk_keygen(p, fp, err, sizeof err) == MV_OK);
  CHECK(strlen(fp) == MV_XWALK_FP_LEN);
  snprintf(pubp, sizeof pubp, "%s.pub", p);
  snprintf(secp, sizeof secp, "%s.key", p);
  struct stat st;
  CHECK(stat(pubp, &st) == 0 && (st.st_mode & 0777) == 0644);
  CHECK(stat(secp, &st) == 0 && (st.st_mode & 0777) == 0600);
  /* Never overwrites either half. */
  char fp2[MV_XWALK_FP_LEN + 1];
  CHECK(mv_xwalk_keygen(p, fp2, err, sizeof err) != MV_OK);
  CHECK(strstr(err, "refusing to overwrite") != NULL);
  mv_xwalk_pub pub;
  mv_xwalk_secret sec;
  /* The run refuses the secret half as --recipient. */
  CHECK(mv_xwalk_load_public(secp, &pub, err, sizeof err) == MV_EKEY);
  CHECK(strstr(err, "SECRET") != NULL);
  /* Lookup refuses the public half, and a secret others can read. */
  CHECK(mv_xwalk_load_secret(pubp, &sec, err, sizeof err) == MV_EKEY);
  chmod(secp, 0640);
  CHECK(mv_xwalk_load_secret(secp, &sec, err, sizeof err) == MV_EPERM);
  CHECK(strstr(err, "chmod 600") != NULL);
  chmod(secp, 0600);
  CHECK(mv_xwalk_load_secret(secp, &sec, err, sizeof err) == MV_OK);
  CHECK(mv_xwalk_load_public(pubp, &pub, err, sizeof err) == MV_OK);
  CHECK(memcmp(pub.pk, sec.pk, 32) == 0);
  CHECK_STR(pub.fp, fp);
  /* The printed fingerprint is not the key. */
  char pkhex[65];
  sodium_bin2hex(pkhex, sizeof pkhex, pub.pk, 32);
  CHECK(strstr(pkhex, fp) == NULL);
}

static const char *NAME = "M\xc3\xbcller^J\xc3\xb6rg \"Q\", Jr\\";
static const char *PID = "PID-\x01tab\there";

static void fill(const char **f) {
  for (int i = 0; i < MV_XF__COUNT; i++) f[i] = NULL;
  f[MV_XF_KIND] = "object";
  f[MV_XF_JOB] = "0123456789abcdef0123456789abcdef";
  f[MV_XF_STATUS] = "ok";
  f[MV_XF_SUBJECT] = "SUBJ0123456789AB";
  f[MV_XF_PATIENT_NAME] = NAME;
  f[MV_XF_PATIENT_ID] = PID;
  f[MV_XF_ACCESSION] = "ACC\xf0\x9f\x98\x80";  /* a 4-byte UTF-8 char */
  f[MV_XF_SOP_UID] = "1.2.3.4.5.6.7.8.9";
  f[MV_XF_NEW_SOP_UID] = "2.25.1234567890";
  f[MV_XF_INPUT] = "/in/dir with, comma/x.dcm";
  f[MV_XF_OUTPUT] = "SUBJ0123456789AB/2.25.1/2.25.2/2.25.3.dcm";
}

static void test_roundtrip(const mv_xwalk_pub *pub,
                           const mv_xwalk_secret *sec) {
  const char *f[MV_XF__COUNT];
  fill(f);
  char *line = NULL, err[512];
  size_t len = 0;
  CHECK(mv_xwalk_seal(pub, f, &line, &len, err, sizeof err) == MV_OK);
  if (!line) return;
  CHECK(len == strlen(line) && line[len - 1] == '\n');
  CHECK(strncmp(line, "MVX1 ", 5) == 0);
  CHECK(strncmp(line + 5, pub->fp, MV_XWALK_FP_LEN) == 0);
  /* Nothing in clear, and padded to a 256-byte block. */
  CHECK(strstr(line, "1.2.3.4.5.6.7.8.9") == NULL);
  CHECK(strstr(line, "SUBJ") == NULL);
  char *got[MV_XF__COUNT], other[MV_XWALK_FP_LEN + 1];
  CHECK(mv_xwalk_open(sec, line, len, got, other, err, sizeof err) == MV_OK);
  for (int i = 0; i < MV_XF__COUNT; i++) {
    if (f[i])
      CHECK_STR(got[i], f[i]);
    else
      CHECK(got[i] == NULL);
  }
  mv_xwalk_fields_free(got);

  /* Two seals of the same record differ (ephemeral keys). */
  char *line2 = NULL;
  size_t len2 = 0;
  CHECK(mv_xwalk_seal(pub, f, &line2, &len2, err, sizeof err) == MV_OK);
  CHECK(line2 && len2 == len && strcmp(line, line2) != 0);
  free(line2);

  /* Damaged: one base64 character changed, cut short, not a record. */
  char *bad = strdup(line);
  size_t mid = 22 + (len - 22) / 2;
  bad[mid] = bad[mid] == 'A' ? 'B' : 'A';
  int rc = mv_xwalk_open(sec, bad, len, got, other, err, sizeof err);
  CHECK(rc == MV_EDECRYPT || rc == MV_EFORMAT);
  memcpy(bad, line, len);
  CHECK(mv_xwalk_open(sec, bad, len / 2, got, other, err, sizeof err) !=
        MV_OK);
  CHECK(mv_xwalk_open(sec, "hello world", 11, got, other, err, sizeof err) ==
        MV_EFORMAT);
  free(bad);

  /* Hostile lines: random bytes changed, cut anywhere. Never a crash
   * (the ASan build runs this), never a record that is not the sealed one. */
  uint32_t seed = 12345;
  for (int round = 0; round < 300; round++) {
    char *m = strdup(line);
    size_t mlen = len;
    int flips = 1 + round % 4;
    for (int k = 0; k < flips; k++) {
      seed = seed * 1103515245u + 12345u;
      size_t at = (seed >> 8) % mlen;
      seed = seed * 1103515245u + 12345u;
      m[at] = (char)(seed >> 16);
    }
    if (round % 3 == 0) mlen = (seed >> 4) % (mlen + 1);
    int r = mv_xwalk_open(sec, m, mlen, got, other, err, sizeof err);
    if (r == MV_OK) {
      /* only possible when the changes missed the sealed part */
      CHECK_STR(got[MV_XF_PATIENT_ID], PID);
      mv_xwalk_fields_free(got);
    }
    free(m);
  }

  /* Too long a record is refused, not truncated. */
  char *huge = malloc(MV_XWALK_MAX_PLAIN + 10);
  memset(huge, 'x', MV_XWALK_MAX_PLAIN + 9);
  huge[MV_XWALK_MAX_PLAIN + 9] = 0;
  f[MV_XF_INPUT] = huge;
  char *l3 = NULL;
  size_t n3;
  CHECK(mv_xwalk_seal(pub, f, &l3, &n3, err, sizeof err) == MV_ELIMIT);
  CHECK(l3 == NULL);
  free(huge);
  free(line);
}

static void test_wrong_key(const mv_xwalk_pub *pub,
                           const mv_xwalk_secret *other_sec) {
  const char *f[MV_XF__COUNT];
  fill(f);
  char *line = NULL, err[512];
  size_t len;
  CHECK(mv_xwalk_seal(pub, f, &line, &len, err, sizeof err) == MV_OK);
  if (!line) return;
  char *got[MV_XF__COUNT], other[MV_XWALK_FP_LEN + 1];
  CHECK(mv_xwalk_open(other_sec, line, len, got, other, err, sizeof err) ==
        MV_EKEY);
  CHECK_STR(other, pub->fp);
  CHECK(strstr(err, "sealed for recipient") && strstr(err, other_sec->fp));
  /* A forged fingerprint does not help: the box still does not open. */
  memcpy(line + 5, other_sec->fp, MV_XWALK_FP_LEN);
  CHECK(mv_xwalk_open(other_sec, line, len, got, other, err, sizeof err) ==
        MV_EDECRYPT);
  free(line);
}

typedef struct seen {
  unsigned long records, problems, last_problem_line;
  int problem_code;
  char pid[64];
} seen;

static int on_record(void *ud, unsigned long line, char *const *f) {
  (void)line;
  seen *s = ud;
  s->records++;
  if (f[MV_XF_PATIENT_ID])
    snprintf(s->pid, sizeof s->pid, "%s", f[MV_XF_PATIENT_ID]);
  return 0;
}

static void on_problem(void *ud, unsigned long line, int code,
                       const char *fp) {
  (void)fp;
  seen *s = ud;
  s->problems++;
  s->last_problem_line = line;
  s->problem_code = code;
}

static void test_file(const mv_xwalk_pub *pub, const mv_xwalk_secret *sec,
                      const mv_xwalk_pub *pub2) {
  char path[512], err[512];
  path_in(path, sizeof path, "cw.mvx");
  mv_xwalk_writer *w = mv_xwalk_writer_open(path, pub, err, sizeof err);
  CHECK(w != NULL);
  if (!w) return;
  const char *f[MV_XF__COUNT];
  fill(f);
  for (int i = 0; i < 3; i++)
    CHECK(mv_xwalk_append(w, f, err, sizeof err) == MV_OK);
  CHECK(mv_xwalk_written(w) == 3);
  CHECK(mv_xwalk_writer_close(w, err, sizeof err) == MV_OK);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  /* Appending for another recipient is refused. */
  CHECK(mv_xwalk_writer_open(path, pub2, err, sizeof err) == NULL);
  CHECK(strstr(err, "sealed for recipient") != NULL);

  /* Damage line 2 (flip a byte in the middle of it). */
  FILE *fp = fopen(path, "r+");
  char *l1 = NULL, *l2 = NULL;
  size_t c1 = 0, c2 = 0;
  ssize_t n1 = getline(&l1, &c1, fp), n2 = getline(&l2, &c2, fp);
  CHECK(n1 > 0 && n2 > 0);
  fseek(fp, n1 + n2 / 2, SEEK_SET);
  fputc(l2[n2 / 2] == 'Q' ? 'R' : 'Q', fp);
  fclose(fp);
  free(l1);
  free(l2);
  /* And append a line that is not base64 at all, and a blank line. */
  int fd = open(path, O_WRONLY | O_APPEND);
  CHECK(write(fd, "\nMVX1 0000000000000000 !!!\n", 27) == 27);
  close(fd);

  seen s = {0};
  mv_xwalk_visit v = {.ud = &s, .record = on_record, .problem = on_problem};
  CHECK(mv_xwalk_read(path, sec, &v, err, sizeof err) == MV_OK);
  CHECK(s.records == 2);
  CHECK(s.problems == 2);
  CHECK(s.last_problem_line == 5);
  CHECK_STR(s.pid, PID);

  /* Wrong secret: every line is reported as another recipient's. */
  mv_xwalk_secret sec2;
  char p2[512], fpx[MV_XWALK_FP_LEN + 1];
  path_in(p2, sizeof p2, "third");
  CHECK(mv_xwalk_keygen(p2, fpx, err, sizeof err) == MV_OK);
  strcat(p2, ".key");
  CHECK(mv_xwalk_load_secret(p2, &sec2, err, sizeof err) == MV_OK);
  seen s2 = {0};
  v.ud = &s2;
  CHECK(mv_xwalk_read(path, &sec2, &v, err, sizeof err) == MV_OK);
  CHECK(s2.records == 0);
  CHECK(s2.problems == 4);
  mv_xwalk_secret_wipe(&sec2);
}

int main(void) {
  if (sodium_init() < 0 || !mkdtemp(dir)) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  test_keys();
  mv_xwalk_pub pub, pub2;
  mv_xwalk_secret sec, sec2;
  if (make_pair("a", &pub, &sec) == 0 && make_pair("b", &pub2, &sec2) == 0) {
    test_roundtrip(&pub, &sec);
    test_wrong_key(&pub, &sec2);
    test_file(&pub, &sec, &pub2);
  } else {
    CHECK(!"key pairs");
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
  TEST_MAIN_END();
}
