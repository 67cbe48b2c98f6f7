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
} mv_job_config;

/* Run the batch. Returns MV_OK when it ran (rejections are counted in
 * `sum`), or a code with err when it could not start. */
int mv_job_run(const mv_job_config *cfg, mv_summary *sum, char *err,
               size_t errlen);

#endif
