/* run_part.h - pieces of `medveil run` that keep their own records beside
 * the batch: the crosswalk, the audit log, the jobs database, the HTML
 * report, the leak check.
 *
 * Each part brings its own long options, a begin() that runs after the
 * command line, key and policy are checked and before any data is read
 * (it may refuse the run, and may add observers of finished inputs), and
 * an end() that runs after the report is in place. cmd_run.c lists the
 * parts in run_parts[]; a new part is one file and one line there. */
#ifndef MV_RUN_PART_H
#define MV_RUN_PART_H

#include <getopt.h>
#include <stddef.h>

#include "mv_job.h"
#include "mv_keys.h"
#include "mv_registry.h"
#include "mv_report.h"

#define MV_RUN_MAX_OBSERVERS 8

/* What a part knows of the run. Strings are owned by cmd_run. */
typedef struct mv_run_ctx {
  char job_id[33];          /* 32 hex digits, random, unique per run */
  double submitted;         /* Unix time the command started */
  char user[256];           /* who runs it: the OS user name (or uid:N) */
  char host[256];           /* where: the host name */
  int argc;                 /* the run's own arguments (after "run") */
  char **argv;
  const char *rules;        /* as given: profile name or file */
  const char *policy_name;
  const char *policy_source; /* the rules file that was loaded */
  char rules_sha256[65];    /* SHA-256 of that file, hex */
  const char *key_fingerprint;
  const mv_key *key;
  const mv_registry *registry;
  const char *out_abs, *report_abs, *review_abs;
  char *const *inputs;
  int ninputs;
  int jobs;
  /* Parts append observers here in begin(). */
  mv_job_observer observers[MV_RUN_MAX_OBSERVERS];
  int nobservers;
  int want_digests;         /* a part needs input/output SHA-256 */
  int exit_code;            /* a part may raise it in end() */
} mv_run_ctx;

typedef struct mv_run_part {
  const char *name;
  /* Long options, ended by a zero entry. `val` codes must be >= 1000 and
   * unique across parts. */
  const struct option *options;
  /* Lines for `run --help`, each ending in '\n'. */
  const char *help;
  /* One of this part's options. *state starts NULL and is the part's to
   * allocate. Returns 0, or -1 with a reason in err. */
  int (*option)(void **state, int code, const char *arg, char *err,
                size_t errlen);
  /* Before any data (state may still be NULL: no option of this part was
   * given). Returns 0, or -1 with a reason: the run stops, nothing read. */
  int (*begin)(void *state, mv_run_ctx *ctx, char *err, size_t errlen);
  /* After the batch and the report. Returns 0, or -1 with a reason (the
   * run's exit status becomes at least 1). `sum` is NULL when the batch
   * could not start after begin() ran: close what was opened. */
  int (*end)(void *state, mv_run_ctx *ctx, const mv_summary *sum, char *err,
             size_t errlen);
  void (*free)(void *state);
} mv_run_part;

/* Add an observer in begin(); -1 when the table is full. */
int mv_run_add_observer(mv_run_ctx *ctx, mv_job_observer ob);

extern const mv_run_part mv_run_part_crosswalk;
extern const mv_run_part mv_run_part_archive;
extern const mv_run_part mv_run_part_audit;
extern const mv_run_part mv_run_part_jobs;
extern const mv_run_part mv_run_part_html;
extern const mv_run_part mv_run_part_verify;
/* The audit part's log (absolute) and its job_end line's hash, for the
 * jobs part (listed after it); NULL / "" until known. */
const char *mv_run_audit_path(void);
const char *mv_run_audit_hash(void);
#endif
