/* run_verify.c - the `verify` part of medveil run: after the batch, the
 * leak check (mv_verify.h) of the run's own inputs against its output
 * folder, with the run's policy. A finding raises the run's exit status to
 * at least 1; the findings are printed like `medveil verify` prints them.
 *
 * It also records which output came from which input (an observer), so a
 * date element holding its own original's date, not shifted, is found:
 * without that link such hits are only counted (see docs/verify.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mv_verify.h"
#include "run_part.h"

enum { OPT_VERIFY = 1060, OPT_VERIFY_REPORT = 1061, OPT_VERIFY_NO_OCR = 1062 };

typedef struct verify_state {
  const char *report; /* NULL: no JSON */
  int ocr;
  mv_verify_pair *pairs; /* input -> output (relative), both owned */
  size_t npairs, cap;
  int oom;
} verify_state;

/* Observers run under the job's lock: no locking here. */
static int on_object(void *ud, const mv_job_event *ev) {
  verify_state *s = ud;
  const mv_report_row *row = ev->row;
  if (!ev->output_abs || !row->input || !row->output || s->oom) return 0;
  if (s->npairs == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    mv_verify_pair *g = realloc(s->pairs, cap * sizeof *g);
    if (!g) {
      s->oom = 1; /* the check still runs, without the link */
      return 0;
    }
    s->pairs = g;
    s->cap = cap;
  }
  char *in = strdup(row->input), *out = strdup(row->output);
  if (!in || !out) {
    free(in);
    free(out);
    s->oom = 1;
    return 0;
  }
  s->pairs[s->npairs++] = (mv_verify_pair){.input = in, .output = out};
  return 0;
}

static void on_renamed(void *ud, const char *from, const char *to) {
  verify_state *s = ud;
  /* Two renames settle a collision (a -> b, then c -> a): change only the
   * first pair still named `from`, newest first. */
  for (size_t i = s->npairs; i-- > 0;)
    if (strcmp(s->pairs[i].output, from) == 0) {
      char *c = strdup(to);
      if (!c) return;
      free((char *)s->pairs[i].output);
      s->pairs[i].output = c;
      return;
    }
}

static int verify_begin(void *state, mv_run_ctx *ctx, char *err,
                        size_t errlen) {
  verify_state *s = state;
  if (!s) return 0;
  mv_job_observer ob = {.ud = s, .object = on_object, .renamed = on_renamed};
  if (mv_run_add_observer(ctx, ob) != 0) {
    snprintf(err, errlen, "verify: too many run parts observe the batch");
    return -1;
  }
  return 0;
}

static const struct option verify_opts[] = {
    {"verify", no_argument, NULL, OPT_VERIFY},
    {"verify-report", required_argument, NULL, OPT_VERIFY_REPORT},
    {"verify-no-ocr", no_argument, NULL, OPT_VERIFY_NO_OCR},
    {NULL, 0, NULL, 0}};

static int verify_option(void **state, int code, const char *arg, char *err,
                         size_t errlen) {
  verify_state *s = *state;
  if (!s) {
    if (!(s = calloc(1, sizeof *s))) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    s->ocr = 1;
    *state = s;
  }
  switch (code) {
    case OPT_VERIFY: break;
    case OPT_VERIFY_REPORT:
      if (!arg || !arg[0]) {
        snprintf(err, errlen, "needs a file name");
        return -1;
      }
      s->report = arg;
      break;
    case OPT_VERIFY_NO_OCR: s->ocr = 0; break;
    default: return -1;
  }
  return 0;
}

static int verify_end(void *state, mv_run_ctx *ctx, const mv_summary *sum,
                      char *err, size_t errlen) {
  verify_state *s = state;
  if (!s || !sum) return 0;
  mv_paths paths;
  char why[1024];
  if (mv_paths_find(&paths, why, sizeof why) != 0) {
    snprintf(err, errlen, "verify: %s", why);
    return -1;
  }
  mv_policy_env env;
  mv_policy *policy = mv_cli_load_policy(&paths, ctx->registry, ctx->rules,
                                         &env);
  if (!policy) {
    snprintf(err, errlen, "verify: the policy could not be loaded again");
    return -1;
  }
  int rc = mv_cli_verify(ctx->registry, policy,
                         (const char *const *)ctx->inputs, ctx->ninputs,
                         ctx->out_abs, s->report, s->ocr, 0,
                         s->oom ? NULL : s->pairs, s->oom ? 0 : s->npairs,
                         ctx->jobs, 0);
  mv_policy_free(policy);
  if (rc == MV_EXIT_CONFIG) {
    snprintf(err, errlen, "verify: the leak check could not run");
    return -1;
  }
  if (rc != MV_EXIT_OK && ctx->exit_code < MV_EXIT_REJECTED)
    ctx->exit_code = MV_EXIT_REJECTED;
  return 0;
}

static void verify_free(void *state) {
  verify_state *s = state;
  if (!s) return;
  for (size_t i = 0; i < s->npairs; i++) {
    free((char *)s->pairs[i].input);
    free((char *)s->pairs[i].output);
  }
  free(s->pairs);
  free(s);
}

const mv_run_part mv_run_part_verify = {
    .name = "verify",
    .options = verify_opts,
    .help =
        "  --verify           after the batch, check OUT for the inputs'\n"
        "                     identifying values (see 'medveil verify'); a\n"
        "                     finding makes the exit status 1\n"
        "  --verify-report FILE  the leak check's findings as JSON\n"
        "  --verify-no-ocr    the leak check does not read pixels\n",
    .option = verify_option,
    .begin = verify_begin,
    .end = verify_end,
    .free = verify_free};
