/* run_audit.c - the `audit` part of medveil run: a job_start line before
 * any data, one object_failed line per rejected or held input, a job_end
 * line with counts and digests, all in the hash-chained audit log.
 *
 * Lines name no path and no value: inputs are known by their SHA-256, and
 * the reasons are the report's, which never carry patient values. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mv_audit.h"
#include "mv_fsutil.h"
#include "mv_json.h"
#include "mv_clock.h"
#include "mv_paths.h"
#include "run_part.h"

/* Buffered lines are flushed once they pass this, so memory stays flat. */
#define FLUSH_BYTES (1u << 20)

typedef struct audit_state {
  char path[4096]; /* absolute */
  const char *given;
  int fd;
  const mv_run_ctx *ctx;
  char **bodies;
  size_t nbodies, capbodies, buffered;
  unsigned char *in_dig, *out_dig; /* 32 bytes each */
  size_t nin, capin, nout, capout;
  int failed; /* an append failed; end() reports it */
  char err[512];
} audit_state;

static audit_state g_audit = {.fd = -1};
static char g_last_hash[65];

const char *mv_run_audit_hash(void) { return g_last_hash; }
const char *mv_run_audit_path(void) {
  return g_audit.path[0] ? g_audit.path : NULL;
}

static const struct option audit_opts[] = {
    {"audit-log", required_argument, NULL, 1020}, {NULL, 0, NULL, 0}};

static int audit_option(void **state, int code, const char *arg, char *err,
                        size_t errlen) {
  if (code != 1020 || !arg || !arg[0]) {
    snprintf(err, errlen, "needs a file name");
    return -1;
  }
  g_audit.given = arg;
  *state = &g_audit;
  return 0;
}

/* `"key":"value"` with the value escaped, or null. */
static void jfield(FILE *m, const char *key, const char *v, int comma) {
  fprintf(m, "%s\"%s\":", comma ? "," : "", key);
  if (v)
    mv_json_string(m, v);
  else
    fputs("null", m);
}

static int push_body(audit_state *a, char *body) {
  if (a->nbodies == a->capbodies) {
    size_t nc = a->capbodies ? a->capbodies * 2 : 64;
    char **nb = realloc(a->bodies, nc * sizeof *nb);
    if (!nb) return -1;
    a->bodies = nb;
    a->capbodies = nc;
  }
  a->bodies[a->nbodies++] = body;
  a->buffered += strlen(body);
  return 0;
}

static int flush(audit_state *a, char last[65]) {
  if (a->fd < 0) return -1;
  char err[512];
  if (mv_audit_append(a->fd, (const char *const *)a->bodies, a->nbodies,
                      last, err, sizeof err) != 0) {
    if (!a->failed) snprintf(a->err, sizeof a->err, "%s: %s", a->path, err);
    a->failed = 1;
    return -1;
  }
  for (size_t i = 0; i < a->nbodies; i++) free(a->bodies[i]);
  a->nbodies = 0;
  a->buffered = 0;
  return 0;
}

static int push_digest(unsigned char **v, size_t *n, size_t *cap,
                       const char *hex) {
  if (!hex || strlen(hex) != 64) return 0;
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 256;
    unsigned char *nv = realloc(*v, nc * 32);
    if (!nv) return -1;
    *v = nv;
    *cap = nc;
  }
  if (sodium_hex2bin(*v + *n * 32, 32, hex, 64, NULL, NULL, NULL) != 0)
    return 0;
  (*n)++;
  return 0;
}

/* Under the job lock: keep it cheap (no fsync but once a megabyte). */
static int audit_object(void *ud, const mv_job_event *ev) {
  audit_state *a = ud;
  const mv_report_row *r = ev->row;
  int ok = r->status && strcmp(r->status, "ok") == 0;
  if (push_digest(&a->in_dig, &a->nin, &a->capin, r->input_sha256) != 0)
    return -1;
  if (ok && push_digest(&a->out_dig, &a->nout, &a->capout,
                        r->output_sha256) != 0)
    return -1;
  if (ok) return 0;
  char *body = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&body, &len);
  if (!m) return -1;
  fputs("\"event\":\"object_failed\"", m);
  jfield(m, "job", a->ctx->job_id, 1);
  jfield(m, "input_sha256", r->input_sha256, 1);
  jfield(m, "status", r->status, 1);
  jfield(m, "format", r->format, 1);
  jfield(m, "reason", r->reason, 1);
  if (fclose(m) != 0 || push_body(a, body) != 0) {
    free(body);
    return -1;
  }
  if (a->buffered >= FLUSH_BYTES) return flush(a, NULL);
  return 0;
}

static void release(audit_state *a);
static int audit_end(void *state, mv_run_ctx *ctx, const mv_summary *sum,
                     char *err, size_t errlen);

static int audit_begin(void *state, mv_run_ctx *ctx, char *err,
                       size_t errlen) {
  audit_state *a = state ? state : &g_audit;
  char path[4096];
  if (a->given) {
    snprintf(path, sizeof path, "%s", a->given);
  } else if (mv_data_path("audit.jsonl", path, sizeof path) != 0) {
    snprintf(err, errlen, "audit log: no data folder (set XDG_DATA_HOME or "
             "HOME, or give --audit-log FILE)");
    return -1;
  }
  if (mv_abspath(path, a->path, sizeof a->path) != 0)
    snprintf(a->path, sizeof a->path, "%s", path);
  a->ctx = ctx;
  char e[1024];
  a->fd = mv_audit_open(a->path, e, sizeof e);
  if (a->fd < 0) {
    snprintf(err, errlen, "audit log: %s", e);
    a->path[0] = 0;
    return -1;
  }
  char *body = NULL, when[32];
  size_t len = 0;
  mv_iso_utc(ctx->submitted, when);
  FILE *m = open_memstream(&body, &len);
  if (!m) {
    snprintf(err, errlen, "out of memory");
    release(a);
    return -1;
  }
  fputs("\"event\":\"job_start\"", m);
  jfield(m, "job", ctx->job_id, 1);
  jfield(m, "when", when, 1);
  jfield(m, "user", ctx->user, 1);
  jfield(m, "host", ctx->host, 1);
  jfield(m, "rules", ctx->rules, 1);
  jfield(m, "policy", ctx->policy_name, 1);
  jfield(m, "rules_sha256", ctx->rules_sha256[0] ? ctx->rules_sha256 : NULL,
         1);
  jfield(m, "key_fingerprint", ctx->key_fingerprint, 1);
  /* The options as given, without the INPUT paths (getopt moved them to
   * the end): a path may carry a patient's name, and this log is kept for
   * good and cannot be edited. */
  fputs(",\"options\":[", m);
  int nopt = ctx->argc - ctx->ninputs, first = 1;
  for (int i = 1; i < nopt; i++) {
    if (strcmp(ctx->argv[i], "--") == 0) continue;
    if (!first) fputc(',', m);
    mv_json_string(m, ctx->argv[i]);
    first = 0;
  }
  fprintf(m, "],\"inputs_given\":%d,\"jobs\":%d", ctx->ninputs, ctx->jobs);
  if (fclose(m) != 0) {
    free(body);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  const char *one[] = {body};
  int rc = mv_audit_append(a->fd, one, 1, NULL, e, sizeof e);
  free(body);
  if (rc != 0) {
    snprintf(err, errlen, "%s: %s", a->path, e);
    release(a);
    a->path[0] = 0;
    return -1;
  }
  ctx->want_digests = 1;
  if (mv_run_add_observer(ctx, (mv_job_observer){.ud = a,
                                                 .object = audit_object}) !=
      0) {
    /* end(NULL) is not called for the part that failed: close the job. */
    char e2[256];
    audit_end(a, ctx, NULL, e2, sizeof e2);
    snprintf(err, errlen, "audit log: too many observers");
    return -1;
  }
  return 0;
}

static void release(audit_state *a) {
  for (size_t i = 0; i < a->nbodies; i++) free(a->bodies[i]);
  free(a->bodies);
  free(a->in_dig);
  free(a->out_dig);
  a->bodies = NULL;
  a->in_dig = a->out_dig = NULL;
  a->nbodies = a->capbodies = a->buffered = 0;
  a->nin = a->capin = a->nout = a->capout = 0;
  if (a->fd >= 0) close(a->fd);
  a->fd = -1;
}

static int audit_end(void *state, mv_run_ctx *ctx, const mv_summary *sum,
                     char *err, size_t errlen) {
  audit_state *a = state ? state : &g_audit;
  if (a->fd < 0) return 0; /* begin never opened it */
  char when[32], din[65], dout[65];
  mv_iso_utc((double)time(NULL), when);
  mv_audit_set_digest(a->in_dig, a->nin, din);
  mv_audit_set_digest(a->out_dig, a->nout, dout);
  const char *outcome = !sum ? "failed" : sum->ok == sum->total ? "ok"
                                                                : "partial";
  char *body = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&body, &len);
  if (!m) {
    snprintf(err, errlen, "out of memory");
    release(a);
    return -1;
  }
  fputs("\"event\":\"job_end\"", m);
  jfield(m, "job", ctx->job_id, 1);
  jfield(m, "when", when, 1);
  jfield(m, "outcome", outcome, 1);
  fprintf(m, ",\"counts\":{\"total\":%lu,\"ok\":%lu,\"rejected\":%lu,"
             "\"review\":%lu}",
          sum ? sum->total : 0, sum ? sum->ok : 0, sum ? sum->rejected : 0,
          sum ? sum->review : 0);
  fprintf(m, ",\"bytes_in\":%llu,\"bytes_out\":%llu,\"duration\":%.3f",
          sum ? sum->bytes_in : 0, sum ? sum->bytes_out : 0,
          sum ? sum->seconds : (double)time(NULL) - ctx->submitted);
  fprintf(m, ",\"inputs\":{\"count\":%zu,\"sha256\":\"%s\"}", a->nin, din);
  fprintf(m, ",\"outputs\":{\"count\":%zu,\"sha256\":\"%s\"}", a->nout, dout);
  if (sum && sum->observer_errors)
    fprintf(m, ",\"record_errors\":%lu", sum->observer_errors);
  if (fclose(m) != 0 || push_body(a, body) != 0) {
    free(body);
    snprintf(err, errlen, "out of memory");
    release(a);
    return -1;
  }
  int had_failed = a->failed;
  int rc = flush(a, g_last_hash);
  if (rc != 0 || had_failed) {
    snprintf(err, errlen, "%s", a->err);
    rc = -1;
  }
  release(a);
  return rc;
}

static void audit_free(void *state) { release(state); }

const mv_run_part mv_run_part_audit = {
    .name = "audit",
    .options = audit_opts,
    .help = "  --audit-log FILE   hash-chained audit log to append to (default:\n"
            "                     $XDG_DATA_HOME/medveil/audit.jsonl); see\n"
            "                     'medveil audit verify'\n",
    .option = audit_option,
    .begin = audit_begin,
    .end = audit_end,
    .free = audit_free,
};
