/* run_jobs.c - the `jobs` part of medveil run: a row in the jobs database
 * inserted before any data (status running) and completed at the end, even
 * when the batch could not start (status failed).
 *
 * Unlike the audit log, the row keeps the full argv, INPUT paths included:
 * the database is the operator's own record (0600, in their data folder),
 * the report beside it names every input anyway, and a row can be found
 * and deleted; the append-only audit log cannot, so it keeps no paths. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mv_audit.h"
#include "mv_fsutil.h"
#include "mv_jobsdb.h"
#include "mv_json.h"
#include "mv_clock.h"
#include "mv_paths.h"
#include "run_part.h"

#define MAX_FORMATS 32

typedef struct jobs_state {
  const char *given;
  char path[4096];
  mv_jobsdb *db;
  char id[33];
  struct {
    char name[64];
    unsigned long n;
  } formats[MAX_FORMATS + 1]; /* the last one is "other" */
  int nformats;
} jobs_state;

static jobs_state g_jobs;

static const struct option jobs_opts[] = {
    {"jobs-db", required_argument, NULL, 1021}, {NULL, 0, NULL, 0}};

static int jobs_option(void **state, int code, const char *arg, char *err,
                       size_t errlen) {
  if (code != 1021 || !arg || !arg[0]) {
    snprintf(err, errlen, "needs a file name");
    return -1;
  }
  g_jobs.given = arg;
  *state = &g_jobs;
  return 0;
}


/* Under the job lock: count formats only. */
static int jobs_object(void *ud, const mv_job_event *ev) {
  jobs_state *s = ud;
  const char *f = ev->row->format && ev->row->format[0] ? ev->row->format
                                                        : "unknown";
  int i;
  for (i = 0; i < s->nformats; i++)
    if (strcmp(s->formats[i].name, f) == 0) break;
  if (i == s->nformats) {
    if (s->nformats < MAX_FORMATS) {
      snprintf(s->formats[i].name, sizeof s->formats[i].name, "%s", f);
      s->nformats++;
    } else {
      i = MAX_FORMATS;
      snprintf(s->formats[i].name, sizeof s->formats[i].name, "other");
    }
  }
  s->formats[i].n++;
  return 0;
}

static char *argv_json(int argc, char **argv) {
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  if (!m) return NULL;
  fputc('[', m);
  for (int i = 1; i < argc; i++) {
    if (i > 1) fputc(',', m);
    mv_json_string(m, argv[i]);
  }
  fputc(']', m);
  if (fclose(m) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static int jobs_end(void *state, mv_run_ctx *ctx, const mv_summary *sum,
                    char *err, size_t errlen);

static int jobs_begin(void *state, mv_run_ctx *ctx, char *err,
                      size_t errlen) {
  jobs_state *s = state ? state : &g_jobs;
  char path[4096];
  if (s->given) {
    snprintf(path, sizeof path, "%s", s->given);
  } else if (mv_data_path("jobs.sqlite", path, sizeof path) != 0) {
    snprintf(err, errlen, "jobs database: no data folder (set XDG_DATA_HOME "
             "or HOME, or give --jobs-db FILE)");
    return -1;
  }
  if (mv_abspath(path, s->path, sizeof s->path) != 0)
    snprintf(s->path, sizeof s->path, "%s", path);
  char e[1024];
  s->db = mv_jobsdb_open(s->path, 1, e, sizeof e);
  if (!s->db) {
    snprintf(err, errlen, "jobs database: %s", e);
    return -1;
  }
  char when[32];
  mv_iso_utc(ctx->submitted, when);
  char *opts = argv_json(ctx->argc, ctx->argv);
  snprintf(s->id, sizeof s->id, "%s", ctx->job_id);
  mv_job_row r = {.id = s->id,
                  .submitted = when,
                  .user = ctx->user,
                  .host = ctx->host,
                  .rules = (char *)ctx->rules,
                  .policy = (char *)ctx->policy_name,
                  .rules_sha256 =
                      ctx->rules_sha256[0] ? ctx->rules_sha256 : NULL,
                  .key_fingerprint = (char *)ctx->key_fingerprint,
                  .options = opts,
                  .report = (char *)ctx->report_abs,
                  .out = (char *)ctx->out_abs,
                  .review_dir = (char *)ctx->review_abs,
                  .audit_log = (char *)mv_run_audit_path()};
  int rc = mv_jobsdb_begin(s->db, &r, e, sizeof e);
  free(opts);
  if (rc != 0) {
    snprintf(err, errlen, "jobs database: %s", e);
    mv_jobsdb_close(s->db);
    s->db = NULL;
    return -1;
  }
  if (mv_run_add_observer(ctx, (mv_job_observer){.ud = s,
                                                 .object = jobs_object}) !=
      0) {
    /* end(NULL) is not called for the part that failed: mark it here. */
    char e2[256];
    jobs_end(s, ctx, NULL, e2, sizeof e2);
    snprintf(err, errlen, "jobs database: too many observers");
    return -1;
  }
  return 0;
}

static char *formats_json(const jobs_state *s) {
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  if (!m) return NULL;
  fputc('{', m);
  int first = 1;
  for (int i = 0; i <= MAX_FORMATS; i++) {
    if (i >= s->nformats && i != MAX_FORMATS) continue;
    if (!s->formats[i].n) continue;
    if (!first) fputc(',', m);
    mv_json_string(m, s->formats[i].name);
    fprintf(m, ":%lu", s->formats[i].n);
    first = 0;
  }
  fputc('}', m);
  if (fclose(m) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static int jobs_end(void *state, mv_run_ctx *ctx, const mv_summary *sum,
                    char *err, size_t errlen) {
  jobs_state *s = state ? state : &g_jobs;
  if (!s->db) return 0;
  char ended[32];
  double now = (double)time(NULL);
  mv_iso_utc(now, ended);
  char *formats = formats_json(s);
  const char *hash = mv_run_audit_hash();
  mv_job_row r = {
      .id = s->id,
      .ended = ended,
      .status = !sum ? "failed" : sum->ok == sum->total ? "ok" : "partial",
      .formats = formats,
      .total = sum ? (long long)sum->total : 0,
      .ok = sum ? (long long)sum->ok : 0,
      .rejected = sum ? (long long)sum->rejected : 0,
      .review = sum ? (long long)sum->review : 0,
      .bytes_in = sum ? (long long)sum->bytes_in : 0,
      .bytes_out = sum ? (long long)sum->bytes_out : 0,
      .duration = sum ? sum->seconds : now - ctx->submitted,
      .audit_hash = hash && hash[0] ? (char *)hash : NULL,
      .error = !sum ? "the batch could not start"
               : sum->observer_errors ? "some records could not be written"
                                      : NULL};
  char e[1024];
  int rc = mv_jobsdb_end(s->db, &r, e, sizeof e);
  free(formats);
  mv_jobsdb_close(s->db);
  s->db = NULL;
  if (rc != 0) {
    snprintf(err, errlen, "jobs database: %s", e);
    return -1;
  }
  return 0;
}

static void jobs_free(void *state) {
  jobs_state *s = state;
  if (s && s->db) mv_jobsdb_close(s->db);
  if (s) s->db = NULL;
}

const mv_run_part mv_run_part_jobs = {
    .name = "jobs",
    .options = jobs_opts,
    .help = "  --jobs-db FILE     jobs database to record the run in (default:\n"
            "                     $XDG_DATA_HOME/medveil/jobs.sqlite); see\n"
            "                     'medveil jobs list'\n",
    .option = jobs_option,
    .begin = jobs_begin,
    .end = jobs_end,
    .free = jobs_free,
};
