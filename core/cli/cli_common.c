/* cli_common.c - set-up shared by the subcommands. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mv_fsutil.h"

#include "cli.h"

void mv_cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("medveil: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

mv_registry *mv_cli_load_plugins(mv_paths *paths) {
  char err[4096];
  if (mv_paths_find(paths, err, sizeof err) != 0) {
    mv_cli_error("%s", err);
    return NULL;
  }
  mv_registry *r = mv_registry_new();
  if (!r) {
    mv_cli_error("out of memory");
    return NULL;
  }
  int loaded = 0;
  mv_registry_set_models(r, paths->models);
  /* Plugins find their data (OCR settings, known regions) in models/. */
  char config[4200];
  snprintf(config, sizeof config, "models=%s\n", paths->models);
  if (mv_registry_load_dir(r, paths->plugins, config, &loaded, err,
                           sizeof err) != 0) {
    mv_cli_error("%s", err);
    mv_registry_free(r);
    return NULL;
  }
  if (loaded == 0) {
    mv_cli_error("no plugins found in %s", paths->plugins);
    mv_registry_free(r);
    return NULL;
  }
  return r;
}

mv_policy *mv_cli_load_policy(const mv_paths *paths, const mv_registry *r,
                              const char *spec, mv_policy_env *env) {
  env->scripts_dir = paths->scripts;
  env->rules_dir = paths->rules;
  env->registry = r;
  env->limits.max_bytes = 0; /* the sandbox defaults */
  env->limits.max_instructions = 0;
  mv_policy *p = NULL;
  char err[4096];
  if (mv_policy_load(env, spec, &p, err, sizeof err) != MV_OK) {
    mv_cli_error("%s", err);
    return NULL;
  }
  return p;
}

void mv_cli_review_dir(const char *given, const char *report_abs, char *out,
                       size_t n) {
  if (given) {
    mv_abspath(given, out, n);
    return;
  }
  /* report.json -> report.review, beside it */
  size_t len = strlen(report_abs);
  if (len > 5 && strcmp(report_abs + len - 5, ".json") == 0) len -= 5;
  snprintf(out, n, "%.*s.review", (int)len, report_abs);
}

int mv_cli_open_file(const mv_registry *r, const char *path,
                     const mv_loaded **fmt, mv_doc **doc) {
  uint8_t head[MV_HEAD_BYTES];
  size_t n = 0;
  if (mv_read_head(path, head, &n) != 0) {
    mv_cli_error("%s: cannot read: %s", path, strerror(errno));
    return -1;
  }
  *fmt = n > 0 ? mv_registry_probe(r, head, n) : NULL;
  if (!*fmt) {
    mv_cli_error("%s: not a recognised format", path);
    return -1;
  }
  char err[2048] = "";
  if ((*fmt)->desc->format->open((*fmt)->state, path, doc, err, sizeof err) !=
      MV_OK) {
    mv_cli_error("%s: cannot parse: %s", path, err);
    return -1;
  }
  return 0;
}
