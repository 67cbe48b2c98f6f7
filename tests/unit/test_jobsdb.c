/* test_jobsdb.c - the jobs database: begin/end, list order and limit, id
 * prefixes, the audit hashes, file modes, read-only opening. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_jobsdb.h"
#include "mv_test.h"

static void add(mv_jobsdb *db, const char *id, const char *when,
                const char *hash, long long ok, long long rej) {
  char err[512];
  mv_job_row r = {.id = (char *)id,
                  .submitted = (char *)when,
                  .user = "tester",
                  .host = "h",
                  .rules = "research",
                  .policy = "research",
                  .options = "[\"--rules\",\"research\"]",
                  .audit_log = "/x/audit.jsonl"};
  CHECK(mv_jobsdb_begin(db, &r, err, sizeof err) == 0);
  r.ended = (char *)when;
  r.status = rej ? "partial" : "ok";
  r.formats = "{\"dicom\":3}";
  r.total = ok + rej;
  r.ok = ok;
  r.rejected = rej;
  r.bytes_in = 1000;
  r.duration = 1.5;
  r.audit_hash = (char *)hash;
  CHECK(mv_jobsdb_end(db, &r, err, sizeof err) == 0);
}

int main(void) {
  char dir[] = "/tmp/mv-test-jobsdb.XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/a/b/jobs.sqlite", dir);

  /* Read-only open of a missing database fails. */
  CHECK(mv_jobsdb_open(path, 0, err, sizeof err) == NULL);
  mv_jobsdb *db = mv_jobsdb_open(path, 1, err, sizeof err);
  CHECK(db != NULL);
  if (!db) TEST_MAIN_END();
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  char sub[512];
  snprintf(sub, sizeof sub, "%s/a/b", dir);
  CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);

  add(db, "aaaa1111", "2026-01-01T00:00:00Z", "h1", 3, 0);
  add(db, "aaaa2222", "2026-01-02T00:00:00Z", "h2", 2, 1);
  add(db, "bbbb3333", "2026-01-03T00:00:00Z", NULL, 0, 0);
  /* Ending a job that was never begun is an error. */
  mv_job_row ghost = {.id = "nope", .status = "ok"};
  CHECK(mv_jobsdb_end(db, &ghost, err, sizeof err) != 0);
  /* A duplicate id is refused. */
  mv_job_row dup = {.id = "aaaa1111", .submitted = "x"};
  CHECK(mv_jobsdb_begin(db, &dup, err, sizeof err) != 0);
  mv_jobsdb_close(db);

  db = mv_jobsdb_open(path, 0, err, sizeof err);
  CHECK(db != NULL);
  if (!db) TEST_MAIN_END();
  mv_job_row *rows;
  size_t n;
  CHECK(mv_jobsdb_list(db, 0, &rows, &n, err, sizeof err) == 0);
  CHECK(n == 3);
  if (n == 3) {
    CHECK_STR(rows[0].id, "bbbb3333"); /* newest first */
    CHECK_STR(rows[2].id, "aaaa1111");
    CHECK(rows[1].total == 3 && rows[1].ok == 2 && rows[1].rejected == 1);
    CHECK_STR(rows[1].status, "partial");
    CHECK_STR(rows[1].formats, "{\"dicom\":3}");
    CHECK(rows[1].duration == 1.5);
  }
  mv_jobsdb_rows_free(rows, n);
  CHECK(mv_jobsdb_list(db, 2, &rows, &n, err, sizeof err) == 0);
  CHECK(n == 2);
  mv_jobsdb_rows_free(rows, n);

  mv_job_row r;
  CHECK(mv_jobsdb_find(db, "aaaa", &r, err, sizeof err) == 2);
  CHECK(mv_jobsdb_find(db, "zz", &r, err, sizeof err) == 1);
  CHECK(mv_jobsdb_find(db, "%", &r, err, sizeof err) == 1); /* not LIKE */
  CHECK(mv_jobsdb_find(db, "aaaa2", &r, err, sizeof err) == 0);
  CHECK_STR(r.id, "aaaa2222");
  CHECK_STR(r.user, "tester");
  CHECK_STR(r.audit_log, "/x/audit.jsonl");
  CHECK_STR(r.audit_hash, "h2");
  mv_job_row_free(&r);

  CHECK(mv_jobsdb_audit_hashes(db, &rows, &n, err, sizeof err) == 0);
  CHECK(n == 2); /* the job without a hash is left out */
  if (n == 2) {
    CHECK_STR(rows[0].audit_hash, "h1");
    CHECK_STR(rows[1].audit_hash, "h2");
  }
  mv_jobsdb_rows_free(rows, n);
  mv_jobsdb_close(db);

  /* Not a jobs database. */
  char other[512];
  snprintf(other, sizeof other, "%s/other.sqlite", dir);
  FILE *f = fopen(other, "w");
  fputs("hello", f);
  fclose(f);
  CHECK(mv_jobsdb_open(other, 0, err, sizeof err) == NULL);

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
  TEST_MAIN_END();
}
