/* cmd_audit.c - medveil audit verify: check the audit log's hash chain
 * and, with the jobs database, that no job's last lines were cut off. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mv_audit.h"
#include "mv_fsutil.h"
#include "mv_jobsdb.h"

static void usage(FILE *f) {
  fputs("usage: medveil audit verify LOG [--jobs-db FILE] [--quiet]\n"
        "\n"
        "Check the hash chain of an audit log (see docs/records.md). Reports\n"
        "the first bad line and what happened to it: edited, reordered,\n"
        "removed, or truncated-or-damaged.\n"
        "\n"
        "  --jobs-db FILE  also check that the last line of every job this\n"
        "                  database recorded for LOG is still in it (lines\n"
        "                  removed at the end leave no gap in the chain)\n"
        "  --quiet         print nothing when the log is intact\n"
        "\n"
        "Exit status: 0 intact, 1 not intact, 2 usage error or unreadable.\n",
        f);
}

static const char *explain(mv_audit_kind k) {
  switch (k) {
    case MV_AUDIT_EDITED:
      return "its bytes do not match the hash the next line chained on "
             "(this line, or the next line's \"prev\", was changed)";
    case MV_AUDIT_REORDERED: return "a line appears out of its seq order";
    case MV_AUDIT_REMOVED: return "seq jumps: lines before it are missing";
    case MV_AUDIT_DAMAGED:
      return "not a whole JSON chain line (cut short or overwritten)";
    default: return "";
  }
}

/* The line of the log holding this job's job_end, or 0. A recorded hash
 * that is missing while the line is there means the line was edited. */
static unsigned long job_end_line(const char *log, const char *id) {
  FILE *f = fopen(log, "re");
  if (!f || !id) {
    if (f) fclose(f);
    return 0;
  }
  char needle[128];
  snprintf(needle, sizeof needle, "\"event\":\"job_end\",\"job\":\"%s\"", id);
  char *line = NULL;
  size_t cap = 0;
  unsigned long n = 0, found = 0;
  while (getline(&line, &cap, f) > 0) {
    n++;
    if (strstr(line, needle)) {
      found = n;
      break;
    }
  }
  free(line);
  fclose(f);
  return found;
}

/* The jobs recorded for this log whose job_end line is missing. */
static int check_jobs(const char *log, const char *dbpath,
                      const mv_audit_check *c, int quiet) {
  char err[4096], log_abs[4096], db_abs[4096];
  if (mv_abspath(log, log_abs, sizeof log_abs) != 0)
    snprintf(log_abs, sizeof log_abs, "%s", log);
  if (mv_abspath(dbpath, db_abs, sizeof db_abs) != 0)
    snprintf(db_abs, sizeof db_abs, "%s", dbpath);
  mv_jobsdb *db = mv_jobsdb_open(db_abs, 0, err, sizeof err);
  if (!db) {
    mv_cli_error("%s", err);
    return MV_EXIT_CONFIG;
  }
  mv_job_row *rows;
  size_t n;
  if (mv_jobsdb_audit_hashes(db, &rows, &n, err, sizeof err) != 0) {
    mv_cli_error("%s", err);
    mv_jobsdb_close(db);
    return MV_EXIT_CONFIG;
  }
  size_t checked = 0, missing = 0;
  for (size_t i = 0; i < n; i++) {
    if (!rows[i].audit_log || strcmp(rows[i].audit_log, log_abs) != 0)
      continue;
    checked++;
    if (mv_audit_check_has(c, rows[i].audit_hash)) continue;
    if (missing++ > 0) continue;
    unsigned long at = job_end_line(log, rows[i].id);
    if (at)
      printf("%s: line %lu: edited: job %s's job_end line is not the one the "
             "jobs database recorded\n", log, at, rows[i].id);
    else
      printf("%s: after line %lu: removed (job %s ended with a line that is "
             "not in the log: lines were cut off its end)\n",
             log, c->lines, rows[i].id);
  }
  mv_jobsdb_rows_free(rows, n);
  mv_jobsdb_close(db);
  if (missing) {
    printf("%s: %zu of %zu recorded jobs do not find their last line\n", log,
           missing, checked);
    return MV_EXIT_REJECTED;
  }
  if (!quiet)
    printf("%s: intact, %lu lines, %lu jobs; %zu jobs in %s all present\n",
           log, c->lines, c->jobs, checked, dbpath);
  if (checked == 0)
    fprintf(stderr, "medveil: note: %s records no job for %s\n", dbpath,
            log_abs);
  return MV_EXIT_OK;
}

static int verify(int argc, char **argv) {
  static const struct option opts[] = {
      {"jobs-db", required_argument, NULL, 'd'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *dbpath = NULL;
  int quiet = 0;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "qh", opts, NULL)) != -1;) {
    switch (c) {
      case 'd': dbpath = optarg; break;
      case 'q': quiet = 1; break;
      case 'h': usage(stdout); return MV_EXIT_OK;
      default: usage(stderr); return MV_EXIT_CONFIG;
    }
  }
  if (optind != argc - 1) {
    usage(stderr);
    return MV_EXIT_CONFIG;
  }
  const char *log = argv[optind];
  mv_audit_check c;
  char err[4096];
  if (mv_audit_verify(log, dbpath != NULL, &c, err, sizeof err) != 0) {
    mv_cli_error("%s", err);
    mv_audit_check_free(&c);
    return MV_EXIT_CONFIG;
  }
  int rc;
  if (c.kind != MV_AUDIT_INTACT) {
    printf("%s: line %lu: %s: %s", log, c.line, mv_audit_kind_name(c.kind),
           explain(c.kind));
    if (c.kind == MV_AUDIT_REORDERED || c.kind == MV_AUDIT_REMOVED)
      printf(" (seq %llu where %llu was due)", c.found_seq, c.expected_seq);
    printf("\n");
    rc = MV_EXIT_REJECTED;
  } else if (dbpath) {
    rc = check_jobs(log, dbpath, &c, quiet);
  } else {
    if (!quiet)
      printf("%s: intact, %lu lines, %lu jobs\n", log, c.lines, c.jobs);
    rc = MV_EXIT_OK;
  }
  mv_audit_check_free(&c);
  return rc;
}

int mv_cmd_audit(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                    strcmp(argv[1], "-h") == 0)) {
    usage(stdout);
    return MV_EXIT_OK;
  }
  if (argc < 2 || strcmp(argv[1], "verify") != 0) {
    usage(stderr);
    return MV_EXIT_CONFIG;
  }
  return verify(argc - 1, argv + 1);
}
