/* mv_jobsdb.h - the jobs database (SQLite): one row per `medveil run`.
 *
 * A row is inserted when a run begins (status "running") and completed when
 * it ends (status "ok", "partial" or "failed"). WAL and a busy timeout let
 * parallel runs share one file. The file is created 0600, its missing
 * folders 0700. See docs/records.md. */
#ifndef MV_JOBSDB_H
#define MV_JOBSDB_H

#include <stddef.h>

typedef struct mv_jobsdb mv_jobsdb;

/* One run. Strings may be NULL; counts are only meaningful once ended. */
typedef struct mv_job_row {
  char *id;
  char *submitted, *ended;   /* UTC ISO 8601 */
  char *status;              /* running, ok, partial, failed */
  char *user, *host;
  char *rules, *policy, *rules_sha256, *key_fingerprint;
  char *options;             /* the run's argv as a JSON array */
  char *formats;             /* JSON object: format -> count */
  long long total, ok, rejected, review;
  long long bytes_in, bytes_out;
  double duration;           /* seconds */
  char *report, *out, *review_dir;
  char *audit_log, *audit_hash; /* the log and its job_end line's hash */
  char *error;               /* why it failed, when it did */
} mv_job_row;

/* Open (creating) a database. Returns NULL with a reason. */
mv_jobsdb *mv_jobsdb_open(const char *path, int create, char *err,
                          size_t errlen);
void mv_jobsdb_close(mv_jobsdb *db);

/* Insert a new row from r (id, submitted, user, host, rules, policy,
 * rules_sha256, key_fingerprint, options, report, out, review_dir,
 * audit_log), status "running". 0 or -1 with a reason. */
int mv_jobsdb_begin(mv_jobsdb *db, const mv_job_row *r, char *err,
                    size_t errlen);
/* Complete row r->id with ended, status, formats, counts, bytes, duration,
 * audit_hash, error. 0 or -1 with a reason. */
int mv_jobsdb_end(mv_jobsdb *db, const mv_job_row *r, char *err,
                  size_t errlen);

/* The newest `limit` rows (limit <= 0: all), newest first. The caller frees
 * with mv_jobsdb_rows_free. 0 or -1. */
int mv_jobsdb_list(mv_jobsdb *db, long limit, mv_job_row **rows, size_t *n,
                   char *err, size_t errlen);
/* The row whose id starts with `prefix`: 0 found, 1 none, 2 ambiguous,
 * -1 error. */
int mv_jobsdb_find(mv_jobsdb *db, const char *prefix, mv_job_row *row,
                   char *err, size_t errlen);
/* Every ended row's (audit_log, audit_hash) pair, as rows with only id,
 * audit_log and audit_hash set. 0 or -1. */
int mv_jobsdb_audit_hashes(mv_jobsdb *db, mv_job_row **rows, size_t *n,
                           char *err, size_t errlen);

void mv_job_row_free(mv_job_row *r);
void mv_jobsdb_rows_free(mv_job_row *rows, size_t n);

#endif
