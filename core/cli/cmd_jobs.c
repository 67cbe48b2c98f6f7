/* cmd_jobs.c - medveil jobs list|show: read the jobs database. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mv_paths.h"
#include "mv_jobsdb.h"

static void usage(FILE *f) {
  fputs("usage: medveil jobs list [--jobs-db FILE] [--limit N]\n"
        "       medveil jobs show ID [--jobs-db FILE]\n"
        "\n"
        "Show the runs recorded in the jobs database (default:\n"
        "$XDG_DATA_HOME/medveil/jobs.sqlite). `show` takes a job id or any\n"
        "prefix of one that names a single job. See docs/records.md.\n",
        f);
}

static mv_jobsdb *open_db(const char *given) {
  char path[4096], err[4096];
  if (given) {
    snprintf(path, sizeof path, "%s", given);
  } else if (mv_data_path("jobs.sqlite", path, sizeof path) != 0) {
    mv_cli_error("no data folder: set XDG_DATA_HOME or HOME, or give "
                 "--jobs-db FILE");
    return NULL;
  }
  if (access(path, F_OK) != 0) {
    mv_cli_error("%s: no jobs database (no run has been recorded there)",
                 path);
    return NULL;
  }
  mv_jobsdb *db = mv_jobsdb_open(path, 0, err, sizeof err);
  if (!db) mv_cli_error("%s", err);
  return db;
}

static int list(const char *dbpath, long limit) {
  mv_jobsdb *db = open_db(dbpath);
  if (!db) return MV_EXIT_CONFIG;
  mv_job_row *rows;
  size_t n;
  char err[4096];
  if (mv_jobsdb_list(db, limit, &rows, &n, err, sizeof err) != 0) {
    mv_cli_error("%s", err);
    mv_jobsdb_close(db);
    return MV_EXIT_CONFIG;
  }
  printf("%-12s  %-20s  %-12s  %-12s  %-8s  %7s %7s %7s %7s  %9s\n", "ID",
         "SUBMITTED", "USER", "POLICY", "STATUS", "TOTAL", "OK", "REJECT",
         "REVIEW", "SECONDS");
  for (size_t i = 0; i < n; i++) {
    const mv_job_row *r = &rows[i];
    printf("%-12.12s  %-20s  %-12.12s  %-12.12s  %-8s  %7lld %7lld %7lld "
           "%7lld  %9.2f\n",
           r->id ? r->id : "", r->submitted ? r->submitted : "",
           r->user ? r->user : "", r->policy ? r->policy : "",
           r->status ? r->status : "", r->total, r->ok, r->rejected,
           r->review, r->duration);
  }
  mv_jobsdb_rows_free(rows, n);
  mv_jobsdb_close(db);
  return MV_EXIT_OK;
}

static void field(const char *k, const char *v) {
  printf("%-16s %s\n", k, v ? v : "-");
}

static int show(const char *dbpath, const char *id) {
  mv_jobsdb *db = open_db(dbpath);
  if (!db) return MV_EXIT_CONFIG;
  mv_job_row r;
  char err[4096];
  int rc = mv_jobsdb_find(db, id, &r, err, sizeof err);
  mv_jobsdb_close(db);
  if (rc < 0) {
    mv_cli_error("%s", err);
    return MV_EXIT_CONFIG;
  }
  if (rc == 1) {
    mv_cli_error("no job with id %s", id);
    return MV_EXIT_REJECTED;
  }
  if (rc == 2) {
    mv_cli_error("%s names more than one job: give more of the id", id);
    return MV_EXIT_REJECTED;
  }
  field("id", r.id);
  field("status", r.status);
  field("submitted", r.submitted);
  field("ended", r.ended);
  printf("%-16s %.3f\n", "duration", r.duration);
  field("user", r.user);
  field("host", r.host);
  field("rules", r.rules);
  field("policy", r.policy);
  field("rules_sha256", r.rules_sha256);
  field("key", r.key_fingerprint);
  field("options", r.options);
  field("formats", r.formats);
  printf("%-16s total %lld, ok %lld, rejected %lld, review %lld\n", "counts",
         r.total, r.ok, r.rejected, r.review);
  printf("%-16s in %lld, out %lld\n", "bytes", r.bytes_in, r.bytes_out);
  field("report", r.report);
  field("out", r.out);
  field("review_dir", r.review_dir);
  field("audit_log", r.audit_log);
  field("audit_hash", r.audit_hash);
  field("error", r.error);
  mv_job_row_free(&r);
  return MV_EXIT_OK;
}

int mv_cmd_jobs(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return MV_EXIT_CONFIG;
  }
  const char *sub = argv[1];
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
    usage(stdout);
    return MV_EXIT_OK;
  }
  static const struct option opts[] = {
      {"jobs-db", required_argument, NULL, 'd'},
      {"limit", required_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *dbpath = NULL;
  long limit = 20;
  optind = 1;
  argc--;
  argv++;
  for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
    switch (c) {
      case 'd': dbpath = optarg; break;
      case 'n': {
        char *end;
        errno = 0;
        limit = strtol(optarg, &end, 10);
        if (*end || errno || limit < 0) {
          mv_cli_error("--limit must be a number >= 0 (0: all)");
          return MV_EXIT_CONFIG;
        }
        break;
      }
      case 'h': usage(stdout); return MV_EXIT_OK;
      default: usage(stderr); return MV_EXIT_CONFIG;
    }
  }
  if (strcmp(sub, "list") == 0 && optind == argc)
    return list(dbpath, limit);
  if (strcmp(sub, "show") == 0 && optind == argc - 1)
    return show(dbpath, argv[optind]);
  usage(stderr);
  return MV_EXIT_CONFIG;
}
