/* run_crosswalk.c - `medveil run --crosswalk FILE --recipient PREFIX.pub`:
 * seal the originals and their replacements of every released or held
 * object for the recipient. The run holds only the public key, so it can
 * write the crosswalk but never read it back. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "medveil/errors.h"
#include "mv_crosswalk.h"
#include "mv_deid.h"
#include "mv_fsutil.h"
#include "mv_log.h"
#include "mv_clock.h"
#include "run_part.h"

enum { OPT_CROSSWALK = 1000, OPT_RECIPIENT = 1001 };

typedef struct xw_state {
  char *file, *recipient;
  mv_xwalk_writer *w;
  char job[33];
  char out_dir[4096];
  char cwd[4096]; /* inputs given relative are recorded absolute */
  unsigned long failed;
} xw_state;

static const struct option xw_options[] = {
    {"crosswalk", required_argument, NULL, OPT_CROSSWALK},
    {"recipient", required_argument, NULL, OPT_RECIPIENT},
    {NULL, 0, NULL, 0}};

static int xw_option(void **state, int code, const char *arg, char *err,
                     size_t errlen) {
  xw_state *s = *state;
  if (!s && !(s = *state = calloc(1, sizeof *s))) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  char **slot = code == OPT_CROSSWALK ? &s->file : &s->recipient;
  if (!arg[0]) {
    snprintf(err, errlen, "needs a file name");
    return -1;
  }
  free(*slot);
  if (!(*slot = strdup(arg))) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}


static const char *nonempty(const char *s) { return s && s[0] ? s : NULL; }

static int xw_object(void *ud, const mv_job_event *ev) {
  xw_state *s = ud;
  const mv_report_row *row = ev->row;
  if (!row || !ev->o) return 0;
  int ok = strcmp(row->status, "ok") == 0;
  if (!ok && strcmp(row->status, "review") != 0) return 0;
  const struct mv_outcome *o = ev->o;
  char when[32];
  mv_iso_utc((double)time(NULL), when);
  const char *f[MV_XF__COUNT] = {0};
  f[MV_XF_KIND] = "object";
  f[MV_XF_JOB] = s->job;
  f[MV_XF_TIME] = when;
  f[MV_XF_OUT_DIR] = s->out_dir;
  f[MV_XF_STATUS] = row->status;
  char input[8192];
  if (row->input[0] != '/' && s->cwd[0])
    snprintf(input, sizeof input, "%s/%s", s->cwd, row->input);
  else
    snprintf(input, sizeof input, "%s", row->input);
  f[MV_XF_INPUT] = input;
  f[MV_XF_INPUT_SHA256] = nonempty(row->input_sha256);
  f[MV_XF_OUTPUT] = ok ? nonempty(row->output) : NULL;
  f[MV_XF_OUTPUT_SHA256] = ok ? nonempty(row->output_sha256) : NULL;
  f[MV_XF_REVIEW_ID] = nonempty(row->review_id);
  f[MV_XF_SUBJECT] = nonempty(o->patient);
  f[MV_XF_PATIENT_NAME] = nonempty(o->before.patient_name);
  f[MV_XF_PATIENT_ID] = nonempty(o->before.patient_id);
  f[MV_XF_ACCESSION] = nonempty(o->before.accession);
  f[MV_XF_STUDY_UID] = nonempty(o->before.study_uid);
  f[MV_XF_SERIES_UID] = nonempty(o->before.series_uid);
  f[MV_XF_SOP_UID] = nonempty(o->before.sop_uid);
  f[MV_XF_NEW_PATIENT_NAME] = nonempty(o->after.patient_name);
  f[MV_XF_NEW_PATIENT_ID] = nonempty(o->after.patient_id);
  f[MV_XF_NEW_ACCESSION] = nonempty(o->after.accession);
  f[MV_XF_NEW_STUDY_UID] = nonempty(o->after.study_uid);
  f[MV_XF_NEW_SERIES_UID] = nonempty(o->after.series_uid);
  f[MV_XF_NEW_SOP_UID] = nonempty(o->after.sop_uid);
  char err[512];
  int rc = mv_xwalk_append(s->w, f, err, sizeof err);
  sodium_memzero(input, sizeof input);
  if (rc != MV_OK) {
    /* err names the crosswalk file and the system error, never values. */
    if (s->failed++ == 0) mv_log(MV_LOG_ERROR, "crosswalk", "%s", err);
    return -1;
  }
  return 0;
}

static void xw_renamed(void *ud, const char *from, const char *to) {
  xw_state *s = ud;
  char when[32];
  mv_iso_utc((double)time(NULL), when);
  const char *f[MV_XF__COUNT] = {0};
  f[MV_XF_KIND] = "rename";
  f[MV_XF_JOB] = s->job;
  f[MV_XF_TIME] = when;
  f[MV_XF_OUT_DIR] = s->out_dir;
  f[MV_XF_FROM] = from;
  f[MV_XF_TO] = to;
  char err[512];
  if (mv_xwalk_append(s->w, f, err, sizeof err) != MV_OK &&
      s->failed++ == 0)
    mv_log(MV_LOG_ERROR, "crosswalk", "%s", err);
}

/* What OUT is called once the run is over. With --out NAME.zip the batch
 * writes into the staging folder "DIR/.NAME.medveil-stage-PID" (see
 * run_archive.h) that is packed into DIR/NAME and removed: record DIR/NAME,
 * and outputs relative to it are the paths inside the archive. */
static void out_name(const char *out_abs, char *out, size_t n) {
  static const char mark[] = ".medveil-stage-";
  const char *slash = strrchr(out_abs, '/');
  const char *base = slash ? slash + 1 : out_abs;
  const char *m = strstr(base, mark);
  int digits = m && m[sizeof mark - 1] != 0;
  for (const char *d = m ? m + sizeof mark - 1 : ""; digits && *d; d++)
    if (*d < '0' || *d > '9') digits = 0;
  if (base[0] == '.' && m && m > base + 1 && digits && !strstr(m + 1, mark))
    snprintf(out, n, "%.*s%.*s", (int)(base - out_abs), out_abs,
             (int)(m - base - 1), base + 1);
  else
    snprintf(out, n, "%s", out_abs);
}

static int xw_begin(void *state, mv_run_ctx *ctx, char *err, size_t errlen) {
  xw_state *s = state;
  if (!s) return 0;
  if (!s->file || !s->recipient) {
    snprintf(err, errlen,
             "--crosswalk FILE and --recipient PREFIX.pub go together "
             "(missing %s)", s->file ? "--recipient" : "--crosswalk");
    return -1;
  }
  char abs[4096];
  if (mv_abspath(s->file, abs, sizeof abs) != 0) {
    snprintf(err, errlen, "%s: cannot resolve the crosswalk path", s->file);
    return -1;
  }
  out_name(ctx->out_abs, s->out_dir, sizeof s->out_dir);
  /* Sealed, but still no part of a release, and never an input. */
  if (mv_path_within(abs, ctx->out_abs) || mv_path_within(abs, s->out_dir)) {
    snprintf(err, errlen, "%s: the crosswalk must not be inside the output "
                          "(%s)", s->file, s->out_dir);
    return -1;
  }
  if (strcmp(abs, ctx->report_abs) == 0 ||
      mv_path_within(abs, ctx->review_abs)) {
    snprintf(err, errlen, "%s: the crosswalk must be a file of its own, not "
                          "the report or inside the review folder", s->file);
    return -1;
  }
  for (int i = 0; i < ctx->ninputs; i++) {
    char in_abs[4096];
    if (mv_abspath(ctx->inputs[i], in_abs, sizeof in_abs) == 0 &&
        mv_path_within(abs, in_abs)) {
      snprintf(err, errlen, "%s: the crosswalk must not be among the inputs "
                            "(%s)", s->file, ctx->inputs[i]);
      return -1;
    }
  }
  mv_xwalk_pub pub;
  if (mv_xwalk_load_public(s->recipient, &pub, err, errlen) != MV_OK)
    return -1;
  if (!(s->w = mv_xwalk_writer_open(s->file, &pub, err, errlen))) return -1;
  snprintf(s->job, sizeof s->job, "%s", ctx->job_id);
  if (!getcwd(s->cwd, sizeof s->cwd)) s->cwd[0] = 0;
  mv_job_observer ob = {.ud = s, .object = xw_object, .renamed = xw_renamed};
  if (mv_run_add_observer(ctx, ob) != 0) {
    mv_xwalk_writer_close(s->w, err, errlen);
    s->w = NULL;
    snprintf(err, errlen, "too many record keepers for one run");
    return -1;
  }
  ctx->want_digests = 1;
  mv_log(MV_LOG_INFO, "crosswalk", "sealing records for recipient %s",
         pub.fp);
  return 0;
}

static int xw_end(void *state, mv_run_ctx *ctx, const mv_summary *sum,
                  char *err, size_t errlen) {
  (void)ctx;
  xw_state *s = state;
  if (!s || !s->w) return 0;
  unsigned long written = mv_xwalk_written(s->w);
  int rc = mv_xwalk_writer_close(s->w, err, errlen);
  s->w = NULL;
  if (rc != MV_OK) return -1;
  if (s->failed) {
    snprintf(err, errlen, "%s: %lu crosswalk record(s) could not be written",
             s->file, s->failed);
    return -1;
  }
  if (sum)
    mv_log(MV_LOG_INFO, "crosswalk", "%lu record(s) sealed into %s", written,
           s->file);
  return 0;
}

static void xw_free(void *state) {
  xw_state *s = state;
  if (!s) return;
  if (s->w) {
    char err[256];
    mv_xwalk_writer_close(s->w, err, sizeof err);
  }
  free(s->file);
  free(s->recipient);
  free(s);
}

const mv_run_part mv_run_part_crosswalk = {
    .name = "crosswalk",
    .options = xw_options,
    .help =
        "  --crosswalk FILE   append sealed records (originals beside their\n"
        "                     replacements) for every ok or held object; needs\n"
        "                     --recipient (see docs/crosswalk.md)\n"
        "  --recipient PREFIX.pub  the lookup office's public key from\n"
        "                     'medveil keygen --recipient PREFIX'\n",
    .option = xw_option,
    .begin = xw_begin,
    .end = xw_end,
    .free = xw_free,
};
