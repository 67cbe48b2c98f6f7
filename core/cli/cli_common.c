/* cli_common.c - set-up shared by the subcommands. */
#include <stdarg.h>
#include <stdio.h>

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
  if (mv_registry_load_dir(r, paths->plugins, &loaded, err, sizeof err) !=
      0) {
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
