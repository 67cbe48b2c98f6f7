/* mv_job.h - a batch: walk the inputs, de-identify on worker threads, place
 * outputs atomically, report every input.
 *
 * Every input ends as an output or a rejection with a reason; one bad file
 * never stops the batch. Each worker has its own Lua state and engine, and
 * inputs stream through a bounded queue, so memory stays flat. */
#ifndef MV_JOB_H
#define MV_JOB_H

#include "mv_keys.h"
#include "mv_policy.h"
#include "mv_registry.h"
#include "mv_report.h"

/* Something that wants to hear of every finished input (the crosswalk, the
 * audit log, the jobs database, archive output). Called under the job's
 * lock, in completion order, from worker threads: keep it short, and never
 * log the identity it is given. */
typedef struct mv_job_event {
  const mv_report_row *row;  /* as it goes into the report */
  const struct mv_outcome *o; /* NULL when rejected before parsing; its
                                 before/after identity is set when ok */
  const char *output_abs;    /* status ok: the placed file, else NULL */
} mv_job_event;

typedef struct mv_job_observer {
  void *ud;
  /* One finished input. A non-zero return is logged (once) and counted in
   * the summary's observer_errors; the batch goes on. */
  int (*object)(void *ud, const mv_job_event *ev);
  /* An output reported earlier was renamed (relative to OUT) when the
   * batch settled duplicate names. May be NULL. */
  void (*renamed)(void *ud, const char *from, const char *to);
} mv_job_observer;

typedef struct mv_job_config {
  const char *rules;          /* profile name or rule file */
  mv_policy *loaded;          /* optional: `rules` already loaded by the
                                 caller; worker 0 uses it (caller frees) */
  const mv_key *key;
  const char *out_dir;        /* absolute, exists */
  const char *review_dir;     /* absolute; created when something is held */
  mv_report *report;
  int jobs;                   /* worker threads (>= 1) */
  int progress;               /* draw a progress line on stderr */
  const mv_policy_env *env;
  const mv_registry *registry;
  char *const *inputs;
  int ninputs;
  const mv_job_observer *observers; /* may be NULL */
  int nobservers;
  int want_digests; /* compute SHA-256 of inputs and outputs into the rows */
  const char *output_encoding; /* --compress: "none", "jpegls", "j2k",
                                  "htj2k"; NULL = as read */
  int output_format;           /* --output-format: mv_outfmt (mv_convert.h);
                                  0 = the format's own */
} mv_job_config;

/* Run the batch. Returns MV_OK when it ran (rejections are counted in
 * `sum`), or a code with err when it could not start. */
int mv_job_run(const mv_job_config *cfg, mv_summary *sum, char *err,
               size_t errlen);

#endif
