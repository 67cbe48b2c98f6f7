/* run_html.c - the run part that writes the HTML report beside the JSON
 * one (see mv_html.h and docs/reports.md). On by default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_fsutil.h"
#include "mv_html.h"
#include "mv_paths.h"
#include "run_part.h"

enum { OPT_HTML = 1040, OPT_NO_HTML, OPT_HTML_ROWS, OPT_HTML_THUMBS };

typedef struct html_part {
  char *path; /* --html, as given */
  int off;    /* --no-html */
  mv_html_limits lim;
  int lim_set;
  mv_html *w; /* between begin() and end() */
  char abs[4096];
} html_part;

/* Used when no option of this part was given: the report is on by
 * default, and begin() cannot hand a new state back to cmd_run. */
static html_part defaults;

static const struct option html_options[] = {
    {"html", required_argument, NULL, OPT_HTML},
    {"no-html", no_argument, NULL, OPT_NO_HTML},
    {"html-rows", required_argument, NULL, OPT_HTML_ROWS},
    {"html-thumbnails", required_argument, NULL, OPT_HTML_THUMBS},
    {NULL, 0, NULL, 0}};

static int parse_count(const char *arg, unsigned long *out) {
  char *end;
  unsigned long v = strtoul(arg, &end, 10);
  if (!*arg || *end || arg[0] == '-' || v > 10000000) return -1;
  *out = v;
  return 0;
}

static int html_option(void **state, int code, const char *arg, char *err,
                       size_t errlen) {
  html_part *p = *state;
  if (!p) {
    if (!(p = calloc(1, sizeof *p))) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    mv_html_default_limits(&p->lim);
    *state = p;
  }
  switch (code) {
    case OPT_HTML:
      free(p->path);
      if (!(p->path = strdup(arg))) {
        snprintf(err, errlen, "out of memory");
        return -1;
      }
      return 0;
    case OPT_NO_HTML:
      p->off = 1;
      return 0;
    case OPT_HTML_ROWS:
      if (parse_count(arg, &p->lim.max_ok_rows) != 0) {
        snprintf(err, errlen, "expects a number from 0 to 10000000");
        return -1;
      }
      return 0;
    case OPT_HTML_THUMBS:
      if (parse_count(arg, &p->lim.max_thumbs) != 0) {
        snprintf(err, errlen, "expects a number from 0 to 10000000");
        return -1;
      }
      return 0;
  }
  return -1;
}

static int on_object(void *ud, const mv_job_event *ev) {
  html_part *p = ud;
  return mv_html_add(p->w, ev);
}

static void on_renamed(void *ud, const char *from, const char *to) {
  html_part *p = ud;
  mv_html_renamed(p->w, from, to);
}

static int html_begin(void *state, mv_run_ctx *ctx, char *err,
                      size_t errlen) {
  html_part *p = state ? state : &defaults;
  if (!state) mv_html_default_limits(&p->lim);
  if (p->off) return 0;
  if (p->path) {
    mv_abspath(p->path, p->abs, sizeof p->abs);
  } else {
    /* report.json -> report.html; any other name gets .html appended. */
    size_t n = strlen(ctx->report_abs);
    if (n > 5 && strcmp(ctx->report_abs + n - 5, ".json") == 0) n -= 5;
    if (n + 6 > sizeof p->abs) {
      snprintf(err, errlen, "the report path is too long");
      return -1;
    }
    snprintf(p->abs, sizeof p->abs, "%.*s.html", (int)n, ctx->report_abs);
  }
  if (strcmp(p->abs, ctx->report_abs) == 0) {
    snprintf(err, errlen, "--html %s: is the JSON report's path", p->abs);
    return -1;
  }
  if (mv_path_within(p->abs, ctx->out_abs)) {
    snprintf(err, errlen, "the HTML report names inputs, so it must not be "
             "inside the output folder (%s)", ctx->out_abs);
    return -1;
  }
  p->w = mv_html_open(p->abs, &p->lim, err, errlen);
  if (!p->w) return -1;
  mv_job_observer ob = {.ud = p, .object = on_object, .renamed = on_renamed};
  if (mv_run_add_observer(ctx, ob) != 0) {
    mv_html_abort(p->w);
    p->w = NULL;
    snprintf(err, errlen, "too many record keepers for one run");
    return -1;
  }
  return 0;
}

static int html_end(void *state, mv_run_ctx *ctx, const mv_summary *sum,
                    char *err, size_t errlen) {
  html_part *p = state ? state : &defaults;
  if (!p->w) return 0;
  mv_html *w = p->w;
  p->w = NULL;
  if (!sum) {
    mv_html_abort(w);
    return 0;
  }
  mv_paths paths;
  char perr[256];
  int have_paths = mv_paths_find(&paths, perr, sizeof perr) == 0;
  mv_html_info info = {.job_id = ctx->job_id,
                       .policy_name = ctx->policy_name,
                       .rules_sha256 = ctx->rules_sha256,
                       .key_fingerprint = ctx->key_fingerprint,
                       .json_report = ctx->report_abs,
                       .scripts_dir = have_paths ? paths.scripts : NULL};
  return mv_html_close(w, &info, sum, err, errlen);
}

static void html_free(void *state) {
  html_part *p = state;
  if (p->w) mv_html_abort(p->w);
  free(p->path);
  free(p);
}

const mv_run_part mv_run_part_html = {
    .name = "html",
    .options = html_options,
    .help =
        "  --html FILE        HTML report (default: the report's name with\n"
        "                     .html instead of .json); see docs/reports.md\n"
        "  --no-html          no HTML report\n"
        "  --html-rows N      released files listed in it (default 2000;\n"
        "                     all others are always listed)\n"
        "  --html-thumbnails N  before/after pairs in it (default 500)\n",
    .option = html_option,
    .begin = html_begin,
    .end = html_end,
    .free = html_free,
};
