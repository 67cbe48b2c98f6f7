/* test_audit.c - the audit log's chain: append, verify, and each kind of
 * tampering found at the right line; the JSON line check; set digests. */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mv_audit.h"
#include "mv_paths.h"
#include "mv_test.h"

static char dir[256];

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)len + 1);
  if (fread(b, 1, (size_t)len, f) != (size_t)len) len = 0;
  b[len] = 0;
  fclose(f);
  *n = (size_t)len;
  return b;
}

static void spit(const char *path, const char *s, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(s, 1, n, f);
  fclose(f);
}

/* Split into lines (the buffer is modified). */
static size_t lines_of(char *s, char **lines, size_t max) {
  size_t n = 0;
  for (char *p = s; *p && n < max;) {
    lines[n++] = p;
    char *nl = strchr(p, '\n');
    if (!nl) break;
    *nl = 0;
    p = nl + 1;
  }
  return n;
}

static void join(const char *path, char **lines, size_t n) {
  FILE *f = fopen(path, "wb");
  for (size_t i = 0; i < n; i++) fprintf(f, "%s\n", lines[i]);
  fclose(f);
}

/* A log of 6 lines written in three appends. */
static void make_log(const char *path) {
  unlink(path);
  char err[512], last[65];
  int fd = mv_audit_open(path, err, sizeof err);
  CHECK(fd >= 0);
  const char *a[] = {"\"event\":\"job_start\",\"job\":\"a\""};
  const char *b[] = {"\"event\":\"object_failed\",\"reason\":\"x \\\"y\\\"\"",
                     "\"event\":\"job_end\",\"job\":\"a\""};
  const char *c[] = {"\"event\":\"job_start\",\"job\":\"b\"",
                     "\"event\":\"object_failed\",\"n\":[1,2.5e3,{\"k\":null}]",
                     "\"event\":\"job_end\",\"job\":\"b\""};
  CHECK(mv_audit_append(fd, a, 1, last, err, sizeof err) == 0);
  CHECK(mv_audit_append(fd, b, 2, last, err, sizeof err) == 0);
  CHECK(mv_audit_append(fd, c, 3, last, err, sizeof err) == 0);
  close(fd);
  /* The last hash returned is the hash of the last line. */
  size_t n;
  char *s = slurp(path, &n);
  char *lines[16];
  size_t k = lines_of(s, lines, 16);
  CHECK(k == 6);
  char h[65];
  mv_audit_line_hash(lines[5], strlen(lines[5]), h);
  CHECK_STR(h, last);
  free(s);
}

static mv_audit_kind verify(const char *path, unsigned long *line) {
  mv_audit_check c;
  char err[512];
  int rc = mv_audit_verify(path, 1, &c, err, sizeof err);
  CHECK(rc == 0);
  *line = c.line;
  mv_audit_kind k = c.kind;
  mv_audit_check_free(&c);
  return k;
}

static void test_chain(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/sub/dir/audit.jsonl", dir);
  make_log(path);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  char sub[512];
  snprintf(sub, sizeof sub, "%s/sub/dir", dir);
  CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);

  unsigned long line;
  CHECK(verify(path, &line) == MV_AUDIT_INTACT);
  mv_audit_check c;
  char err[512];
  CHECK(mv_audit_verify(path, 1, &c, err, sizeof err) == 0);
  CHECK(c.lines == 6 && c.jobs == 2 && c.nhashes == 6);
  size_t n;
  char *s = slurp(path, &n);
  char *lines[16];
  lines_of(s, lines, 16);
  char h[65];
  mv_audit_line_hash(lines[2], strlen(lines[2]), h);
  CHECK(mv_audit_check_has(&c, h));
  h[0] = h[0] == 'a' ? 'b' : 'a';
  CHECK(!mv_audit_check_has(&c, h));
  mv_audit_check_free(&c);
  /* The first line chains on 64 zeros with seq 1. */
  CHECK(strncmp(lines[0], "{\"seq\":1,\"prev\":\"0000000000", 26) == 0);
  free(s);

  /* Edited: change one byte of line 3 (a value, JSON stays valid). */
  s = slurp(path, &n);
  lines_of(s, lines, 16);
  char *p = strstr(lines[2], "job_end");
  CHECK(p != NULL);
  if (p) p[4] = 'E';
  join(path, lines, 6);
  CHECK(verify(path, &line) == MV_AUDIT_EDITED);
  CHECK(line == 3);
  free(s);

  /* Reordered: swap lines 4 and 5. */
  make_log(path);
  s = slurp(path, &n);
  lines_of(s, lines, 16);
  char *t = lines[3];
  lines[3] = lines[4];
  lines[4] = t;
  join(path, lines, 6);
  CHECK(verify(path, &line) == MV_AUDIT_REORDERED);
  CHECK(line == 4);
  free(s);

  /* Removed: drop line 2. */
  make_log(path);
  s = slurp(path, &n);
  lines_of(s, lines, 16);
  memmove(&lines[1], &lines[2], 4 * sizeof *lines);
  join(path, lines, 5);
  CHECK(verify(path, &line) == MV_AUDIT_REMOVED);
  CHECK(line == 2);
  free(s);

  /* Removed at the end: the chain alone cannot tell. */
  make_log(path);
  s = slurp(path, &n);
  lines_of(s, lines, 16);
  join(path, lines, 3);
  CHECK(verify(path, &line) == MV_AUDIT_INTACT);
  free(s);

  /* Truncated: cut the last line short. */
  make_log(path);
  s = slurp(path, &n);
  spit(path, s, n - 10);
  CHECK(verify(path, &line) == MV_AUDIT_DAMAGED);
  CHECK(line == 6);
  /* ... and a writer refuses to chain onto it. */
  CHECK(mv_audit_open(path, err, sizeof err) < 0);
  CHECK(strstr(err, "cut short") != NULL);
  /* Damaged: a line that is not JSON in the middle. */
  char *copy = malloc(n + 1);
  memcpy(copy, s, n + 1);
  lines_of(copy, lines, 16);
  lines[1] = "not json at all";
  join(path, lines, 6);
  CHECK(verify(path, &line) == MV_AUDIT_DAMAGED);
  CHECK(line == 2);
  free(copy);
  free(s);

  /* Missing file: an error, not a verdict. */
  char missing[512];
  snprintf(missing, sizeof missing, "%s/none.jsonl", dir);
  CHECK(mv_audit_verify(missing, 0, &c, err, sizeof err) == -1);
  mv_audit_check_free(&c);
}

static void test_parse(void) {
  unsigned long long seq = 0;
  char prev[65];
  const char *z =
      "0000000000000000000000000000000000000000000000000000000000000000";
  char line[256];
  snprintf(line, sizeof line, "{\"seq\":12,\"prev\":\"%s\",\"a\":[true]}", z);
  CHECK(mv_audit_parse_line(line, strlen(line), &seq, prev) == 0);
  CHECK(seq == 12);
  CHECK_STR(prev, z);
  snprintf(line, sizeof line, "{\"seq\":12,\"prev\":\"%s\",\"a\":[tru]}", z);
  CHECK(mv_audit_parse_line(line, strlen(line), &seq, prev) != 0);
  snprintf(line, sizeof line, "{\"seq\":1.5,\"prev\":\"%s\"}", z);
  CHECK(mv_audit_parse_line(line, strlen(line), &seq, prev) != 0);
  snprintf(line, sizeof line, "{\"seq\":1,\"prev\":\"%.63s\"}", z);
  CHECK(mv_audit_parse_line(line, strlen(line), &seq, prev) != 0);
  snprintf(line, sizeof line, "{\"seq\":1,\"prev\":\"%s\"} x", z);
  CHECK(mv_audit_parse_line(line, strlen(line), &seq, prev) != 0);
  snprintf(line, sizeof line, "{\"prev\":\"%s\"}", z);
  CHECK(mv_audit_parse_line(line, strlen(line), &seq, prev) != 0);
  CHECK(mv_audit_parse_line("{\"seq\":1,", 9, &seq, prev) != 0);
  /* Deep nesting is refused, not recursed into. */
  char deep[400];
  memset(deep, '[', 300);
  deep[300] = 0;
  snprintf(line, sizeof line, "{\"seq\":1,\"x\":");
  char big[512];
  snprintf(big, sizeof big, "%s%s", line, deep);
  CHECK(mv_audit_parse_line(big, strlen(big), &seq, prev) != 0);
}

static void test_digest(void) {
  /* Order does not matter; the value is `sort | sha256sum` of the hex. */
  unsigned char a[64], b[64];
  memset(a, 0x11, 32);
  memset(a + 32, 0x01, 32);
  memcpy(b, a + 32, 32);
  memcpy(b + 32, a, 32);
  char ha[65], hb[65], he[65];
  mv_audit_set_digest(a, 2, ha);
  mv_audit_set_digest(b, 2, hb);
  CHECK_STR(ha, hb);
  char text[200];
  snprintf(text, sizeof text, "%064d\n", 0);
  for (int i = 0; i < 64; i++) text[i] = (i % 2) ? '1' : '0';
  char t2[65];
  memset(t2, '1', 64);
  t2[64] = 0;
  snprintf(text + 65, sizeof text - 65, "%s\n", t2);
  mv_audit_line_hash(text, 130, he);
  CHECK_STR(ha, he);
  mv_audit_set_digest(NULL, 0, he);
  CHECK_STR(he,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Processes appending to one log at once leave one unbroken chain. */
static void test_concurrent(void) {
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/concurrent.jsonl", dir);
  enum { PROCS = 4, EACH = 60 };
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++) {
    pids[p] = fork();
    if (pids[p] == 0) {
      int fd = mv_audit_open(path, err, sizeof err);
      if (fd < 0) _exit(1);
      for (int i = 0; i < EACH; i++) {
        char body[64];
        snprintf(body, sizeof body, "\"p\":%d,\"i\":%d", p, i);
        const char *one[] = {body, body};
        if (mv_audit_append(fd, one, 1 + (i % 2), NULL, err, sizeof err))
          _exit(1);
      }
      _exit(0);
    }
  }
  int all_ok = 1;
  for (int p = 0; p < PROCS; p++) {
    int st = 0;
    waitpid(pids[p], &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) all_ok = 0;
  }
  CHECK(all_ok);
  mv_audit_check c;
  CHECK(mv_audit_verify(path, 0, &c, err, sizeof err) == 0);
  CHECK(c.kind == MV_AUDIT_INTACT);
  CHECK(c.lines == PROCS * (EACH + EACH / 2));
  mv_audit_check_free(&c);
}

static void test_data_path(void) {
  char out[512];
  setenv("XDG_DATA_HOME", "/srv/data", 1);
  CHECK(mv_data_path("audit.jsonl", out, sizeof out) == 0);
  CHECK_STR(out, "/srv/data/medveil/audit.jsonl");
  setenv("XDG_DATA_HOME", "relative/ignored", 1);
  setenv("HOME", "/home/op", 1);
  CHECK(mv_data_path("jobs.sqlite", out, sizeof out) == 0);
  CHECK_STR(out, "/home/op/.local/share/medveil/jobs.sqlite");
  unsetenv("XDG_DATA_HOME");
  CHECK(mv_data_path("x", out, sizeof out) == 0);
  CHECK_STR(out, "/home/op/.local/share/medveil/x");
  CHECK(mv_data_path("x", out, 10) == -1);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  snprintf(dir, sizeof dir, "/tmp/mv-test-audit.XXXXXX");
  if (!mkdtemp(dir)) return 1;
  test_parse();
  test_chain();
  test_digest();
  test_concurrent();
  test_data_path();
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
  TEST_MAIN_END();
}
