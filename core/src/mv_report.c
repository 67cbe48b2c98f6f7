/* mv_report.c - streaming JSON run report. */
#include "mv_report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mv_json.h"

struct mv_report {
  FILE *f;
  char *path, *tmp;
  unsigned long rows;
  char **renames; /* pairs: from, to */
  size_t nrenames;
};

int mv_report_rename_output(mv_report *r, const char *from, const char *to) {
  char **grown = realloc(r->renames, (r->nrenames + 1) * 2 * sizeof *grown);
  if (!grown) return -1;
  r->renames = grown;
  r->renames[2 * r->nrenames] = strdup(from);
  r->renames[2 * r->nrenames + 1] = strdup(to);
  if (!r->renames[2 * r->nrenames] || !r->renames[2 * r->nrenames + 1]) {
    free(r->renames[2 * r->nrenames]);
    free(r->renames[2 * r->nrenames + 1]);
    return -1;
  }
  r->nrenames++;
  return 0;
}

static void free_renames(mv_report *r) {
  for (size_t i = 0; i < 2 * r->nrenames; i++) free(r->renames[i]);
  free(r->renames);
  r->renames = NULL;
  r->nrenames = 0;
}

/* Rows are one per line, so the outputs that moved after their row was
 * written are corrected line by line into a second file. */
static int apply_renames(mv_report *r) {
  if (!r->nrenames) return 0;
  size_t n = strlen(r->tmp) + 8;
  char *fixed = malloc(n);
  if (!fixed) return -1;
  snprintf(fixed, n, "%s.fix", r->tmp);
  FILE *in = fopen(r->tmp, "r"), *out = fopen(fixed, "w");
  char *line = NULL;
  size_t cap = 0;
  int bad = !in || !out;
  while (!bad && getline(&line, &cap, in) > 0) {
    const char *done = NULL;
    for (size_t i = 0; i < r->nrenames && !done; i++) {
      char pattern[1200];
      snprintf(pattern, sizeof pattern, "\"output\": \"%s\"", r->renames[2 * i]);
      char *at = strstr(line, pattern);
      if (!at) continue;
      fwrite(line, 1, (size_t)(at - line), out);
      fprintf(out, "\"output\": \"%s\"", r->renames[2 * i + 1]);
      fputs(at + strlen(pattern), out);
      done = line;
    }
    if (!done) fputs(line, out);
  }
  free(line);
  if (in) fclose(in);
  if (out && fclose(out) != 0) bad = 1;
  if (!bad && rename(fixed, r->tmp) != 0) bad = 1;
  if (bad) unlink(fixed);
  free(fixed);
  return bad ? -1 : 0;
}

mv_report *mv_report_open(const char *path, char *err, size_t errlen) {
  mv_report *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->path = strdup(path);
  size_t n = strlen(path) + 32;
  r->tmp = malloc(n);
  if (!r->path || !r->tmp) {
    mv_report_abort(r);
    return NULL;
  }
  snprintf(r->tmp, n, "%s.tmp-%ld", path, (long)getpid());
  r->f = fopen(r->tmp, "w");
  if (!r->f) {
    snprintf(err, errlen, "%s: cannot write report: %s", path,
             strerror(errno));
    mv_report_abort(r);
    return NULL;
  }
  fputs("{\"files\": [", r->f);
  return r;
}

static void field(FILE *f, const char *name, const char *value) {
  if (!value) return;
  fprintf(f, ", \"%s\": ", name);
  mv_json_string(f, value);
}

void mv_report_add(mv_report *r, const mv_report_row *row) {
  FILE *f = r->f;
  fputs(r->rows++ ? ",\n  {" : "\n  {", f);
  fputs("\"input\": ", f);
  mv_json_string(f, row->input);
  field(f, "status", row->status);
  field(f, "output", row->output);
  field(f, "reason", row->reason);
  field(f, "note", row->note);
  field(f, "format", row->format);
  fprintf(f, ", \"bytes_in\": %llu", row->bytes_in);
  if (row->output) fprintf(f, ", \"bytes_out\": %llu", row->bytes_out);
  field(f, "review_id", row->review_id);
  field(f, "input_sha256", row->input_sha256);
  field(f, "output_sha256", row->output_sha256);
  const mv_pixel_result *p = row->pixels;
  if (p && p->ran)
    fprintf(f,
            ", \"pixels\": {\"planes\": %u, \"boxes\": %u, \"redacted\": %u, "
            "\"kept\": %u, \"noise\": %u, \"uncertain\": %u, \"reused\": %u, "
            "\"verify_hits\": %u, \"hidden_removed\": %u, \"changed\": %s, "
            "\"ms\": %.1f}",
            p->planes, p->boxes, p->redacted, p->kept, p->noise, p->uncertain,
            p->reused, p->verify_hits, p->hidden_removed,
            p->changed ? "true" : "false", p->ms);
  fputc('}', f);
}

int mv_report_close(mv_report *r, const mv_summary *s) {
  FILE *f = r->f;
  fputs("\n],\n\"summary\": {", f);
  fprintf(f, "\"total\": %lu, \"ok\": %lu, \"rejected\": %lu, \"review\": %lu",
          s->total, s->ok, s->rejected, s->review);
  fprintf(f, ", \"bytes_in\": %llu, \"bytes_out\": %llu", s->bytes_in,
          s->bytes_out);
  fprintf(f, ", \"seconds\": %.3f, \"jobs\": %d", s->seconds, s->jobs);
  field(f, "policy", s->policy_name);
  field(f, "rules_file", s->policy_source);
  field(f, "key_fingerprint", s->key_fingerprint);
  fputs(", \"actions\": {", f);
  for (int k = 0; k < MV_ACT__COUNT; k++)
    fprintf(f, "%s\"%s\": %lu", k ? ", " : "", mv_action_name(k),
            s->actions[k]);
  fprintf(f, "}, \"text_replacements\": %lu", s->scrubbed);
  if (s->observer_errors)
    fprintf(f, ", \"record_errors\": %lu", s->observer_errors);
  fputs("}}\n", f);
  int bad = ferror(f);
  if (fclose(f) != 0) bad = 1;
  r->f = NULL;
  if (!bad && apply_renames(r) != 0) bad = 1;
  free_renames(r);
  int rc = -1;
  if (!bad && rename(r->tmp, r->path) == 0) rc = 0;
  else unlink(r->tmp);
  free(r->path);
  free(r->tmp);
  free(r);
  return rc;
}

void mv_report_abort(mv_report *r) {
  if (!r) return;
  free_renames(r);
  if (r->f) fclose(r->f);
  if (r->tmp) unlink(r->tmp);
  free(r->path);
  free(r->tmp);
  free(r);
}
