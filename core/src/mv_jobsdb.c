/* mv_jobsdb.c - the jobs database on SQLite. */
#include "mv_jobsdb.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_fsutil.h"


struct mv_jobsdb {
  sqlite3 *db;
  char path[4096];
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id TEXT PRIMARY KEY, submitted TEXT NOT NULL, ended TEXT,"
    " status TEXT NOT NULL, user TEXT, host TEXT, rules TEXT, policy TEXT,"
    " rules_sha256 TEXT, key_fingerprint TEXT, options TEXT, formats TEXT,"
    " total INTEGER DEFAULT 0, ok INTEGER DEFAULT 0,"
    " rejected INTEGER DEFAULT 0, review INTEGER DEFAULT 0,"
    " bytes_in INTEGER DEFAULT 0, bytes_out INTEGER DEFAULT 0,"
    " duration REAL DEFAULT 0, report TEXT, out TEXT, review_dir TEXT,"
    " audit_log TEXT, audit_hash TEXT, error TEXT);"
    "CREATE INDEX IF NOT EXISTS jobs_submitted ON jobs(submitted);";

/* Column order shared by the SELECTs and row_from(). */
#define COLS                                                              \
  "id, submitted, ended, status, user, host, rules, policy, rules_sha256," \
  " key_fingerprint, options, formats, total, ok, rejected, review,"      \
  " bytes_in, bytes_out, duration, report, out, review_dir, audit_log,"   \
  " audit_hash, error"

static void dberr(mv_jobsdb *db, char *err, size_t n, const char *what) {
  snprintf(err, n, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->db));
}

mv_jobsdb *mv_jobsdb_open(const char *path, int create, char *err,
                          size_t errlen) {
  mv_jobsdb *db = calloc(1, sizeof *db);
  if (!db) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  snprintf(db->path, sizeof db->path, "%s", path);
  if (create) {
    char dir[4096];
    if (mv_mkdirs_for_file(path, 0700, dir, sizeof dir) != 0) {
      snprintf(err, errlen, "%s: cannot create folder: %s", dir,
               strerror(errno));
      free(db);
      return NULL;
    }
    /* Create it 0600 ourselves: SQLite would use 0644, and its -wal and
     * -shm files copy the database's mode. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      snprintf(err, errlen, "%s: %s", path, strerror(errno));
      free(db);
      return NULL;
    }
    close(fd);
  }
  int flags = create ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(path, &db->db, flags | SQLITE_OPEN_FULLMUTEX, NULL) !=
      SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", path,
             db->db ? sqlite3_errmsg(db->db) : "cannot open");
    sqlite3_close(db->db);
    free(db);
    return NULL;
  }
  sqlite3_busy_timeout(db->db, 30000);
  if (create) {
    char *msg = NULL;
    if (sqlite3_exec(db->db, "PRAGMA journal_mode=WAL;", NULL, NULL, &msg) !=
            SQLITE_OK ||
        sqlite3_exec(db->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
      snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot set up");
      sqlite3_free(msg);
      mv_jobsdb_close(db);
      return NULL;
    }
  } else {
    /* A read-only look must still find the table. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, "SELECT 1 FROM jobs LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK) {
      dberr(db, err, errlen, "not a medveil jobs database");
      mv_jobsdb_close(db);
      return NULL;
    }
    sqlite3_finalize(st);
  }
  return db;
}

void mv_jobsdb_close(mv_jobsdb *db) {
  if (!db) return;
  sqlite3_close(db->db);
  free(db);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
  if (s)
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

static int step_done(mv_jobsdb *db, sqlite3_stmt *st, char *err, size_t n,
                     const char *what) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) {
    dberr(db, err, n, what);
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return 0;
}

int mv_jobsdb_begin(mv_jobsdb *db, const mv_job_row *r, char *err,
                    size_t errlen) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(
          db->db,
          "INSERT INTO jobs (id, submitted, status, user, host, rules, policy,"
          " rules_sha256, key_fingerprint, options, report, out, review_dir,"
          " audit_log) VALUES (?,?,'running',?,?,?,?,?,?,?,?,?,?,?)",
          -1, &st, NULL) != SQLITE_OK) {
    dberr(db, err, errlen, "insert");
    return -1;
  }
  const char *v[] = {r->id,     r->submitted,    r->user,
                     r->host,   r->rules,        r->policy,
                     r->rules_sha256, r->key_fingerprint, r->options,
                     r->report, r->out,          r->review_dir,
                     r->audit_log};
  for (int i = 0; i < (int)(sizeof v / sizeof v[0]); i++)
    bind_text(st, i + 1, v[i]);
  return step_done(db, st, err, errlen, "insert");
}

int mv_jobsdb_end(mv_jobsdb *db, const mv_job_row *r, char *err,
                  size_t errlen) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(
          db->db,
          "UPDATE jobs SET ended=?, status=?, formats=?, total=?, ok=?,"
          " rejected=?, review=?, bytes_in=?, bytes_out=?, duration=?,"
          " audit_hash=?, error=? WHERE id=?",
          -1, &st, NULL) != SQLITE_OK) {
    dberr(db, err, errlen, "update");
    return -1;
  }
  bind_text(st, 1, r->ended);
  bind_text(st, 2, r->status);
  bind_text(st, 3, r->formats);
  sqlite3_bind_int64(st, 4, r->total);
  sqlite3_bind_int64(st, 5, r->ok);
  sqlite3_bind_int64(st, 6, r->rejected);
  sqlite3_bind_int64(st, 7, r->review);
  sqlite3_bind_int64(st, 8, r->bytes_in);
  sqlite3_bind_int64(st, 9, r->bytes_out);
  sqlite3_bind_double(st, 10, r->duration);
  bind_text(st, 11, r->audit_hash);
  bind_text(st, 12, r->error);
  bind_text(st, 13, r->id);
  if (step_done(db, st, err, errlen, "update") != 0) return -1;
  if (sqlite3_changes(db->db) != 1) {
    snprintf(err, errlen, "%s: job %s is not in the database", db->path,
             r->id);
    return -1;
  }
  return 0;
}

static char *col(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? strdup((const char *)t) : NULL;
}

static void row_from(sqlite3_stmt *st, mv_job_row *r) {
  memset(r, 0, sizeof *r);
  char **s[] = {&r->id,    &r->submitted, &r->ended,  &r->status,
                &r->user,  &r->host,      &r->rules,  &r->policy,
                &r->rules_sha256, &r->key_fingerprint, &r->options,
                &r->formats};
  for (int i = 0; i < 12; i++) *s[i] = col(st, i);
  r->total = sqlite3_column_int64(st, 12);
  r->ok = sqlite3_column_int64(st, 13);
  r->rejected = sqlite3_column_int64(st, 14);
  r->review = sqlite3_column_int64(st, 15);
  r->bytes_in = sqlite3_column_int64(st, 16);
  r->bytes_out = sqlite3_column_int64(st, 17);
  r->duration = sqlite3_column_double(st, 18);
  r->report = col(st, 19);
  r->out = col(st, 20);
  r->review_dir = col(st, 21);
  r->audit_log = col(st, 22);
  r->audit_hash = col(st, 23);
  r->error = col(st, 24);
}

static int collect(mv_jobsdb *db, sqlite3_stmt *st, mv_job_row **rows,
                   size_t *n, char *err, size_t errlen) {
  *rows = NULL;
  *n = 0;
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      mv_job_row *nr = realloc(*rows, nc * sizeof *nr);
      if (!nr) {
        snprintf(err, errlen, "out of memory");
        sqlite3_finalize(st);
        return -1;
      }
      *rows = nr;
      cap = nc;
    }
    row_from(st, &(*rows)[(*n)++]);
  }
  if (rc != SQLITE_DONE) {
    dberr(db, err, errlen, "read");
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return 0;
}

int mv_jobsdb_list(mv_jobsdb *db, long limit, mv_job_row **rows, size_t *n,
                   char *err, size_t errlen) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->db,
                         "SELECT " COLS " FROM jobs ORDER BY submitted DESC,"
                         " rowid DESC LIMIT ?",
                         -1, &st, NULL) != SQLITE_OK) {
    dberr(db, err, errlen, "list");
    return -1;
  }
  sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
  return collect(db, st, rows, n, err, errlen);
}

int mv_jobsdb_find(mv_jobsdb *db, const char *prefix, mv_job_row *row,
                   char *err, size_t errlen) {
  sqlite3_stmt *st;
  /* substr() rather than LIKE: an id prefix is literal text. */
  if (sqlite3_prepare_v2(db->db,
                         "SELECT " COLS " FROM jobs WHERE"
                         " substr(id, 1, length(?1)) = ?1 LIMIT 2",
                         -1, &st, NULL) != SQLITE_OK) {
    dberr(db, err, errlen, "find");
    return -1;
  }
  bind_text(st, 1, prefix);
  mv_job_row *rows;
  size_t n;
  if (collect(db, st, &rows, &n, err, errlen) != 0) return -1;
  int rc = n == 0 ? 1 : n > 1 ? 2 : 0;
  if (rc == 0) {
    *row = rows[0];
    free(rows);
  } else {
    mv_jobsdb_rows_free(rows, n);
  }
  return rc;
}

int mv_jobsdb_audit_hashes(mv_jobsdb *db, mv_job_row **rows, size_t *n,
                           char *err, size_t errlen) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->db,
                         "SELECT " COLS " FROM jobs WHERE audit_hash IS NOT"
                         " NULL AND audit_hash != '' ORDER BY rowid",
                         -1, &st, NULL) != SQLITE_OK) {
    dberr(db, err, errlen, "read");
    return -1;
  }
  return collect(db, st, rows, n, err, errlen);
}

void mv_job_row_free(mv_job_row *r) {
  char *s[] = {r->id,     r->submitted, r->ended,   r->status,
               r->user,   r->host,      r->rules,   r->policy,
               r->rules_sha256, r->key_fingerprint, r->options, r->formats,
               r->report, r->out,       r->review_dir, r->audit_log,
               r->audit_hash, r->error};
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) free(s[i]);
  memset(r, 0, sizeof *r);
}

void mv_jobsdb_rows_free(mv_job_row *rows, size_t n) {
  for (size_t i = 0; i < n; i++) mv_job_row_free(&rows[i]);
  free(rows);
}
