/* cmd_rules.c - medveil rules check FILE */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
  fputs("usage: medveil rules check FILE|PROFILE\n"
        "\n"
        "Load a policy the way 'run' does and report the first problem as\n"
        "file:line: reason. Exit 0 when valid, 1 when not, 2 on usage errors.\n",
        f);
}

int mv_cmd_rules(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    usage(stdout);
    return MV_EXIT_OK;
  }
  if (argc != 3 || strcmp(argv[1], "check") != 0) {
    usage(stderr);
    return MV_EXIT_CONFIG;
  }
  mv_paths paths;
  mv_registry *r = mv_cli_load_plugins(&paths);
  if (!r) return MV_EXIT_CONFIG;
  mv_policy_env env;
  mv_policy *p = mv_cli_load_policy(&paths, r, argv[2], &env);
  if (!p) {
    mv_registry_free(r);
    return MV_EXIT_REJECTED;
  }
  printf("%s: ok: policy '%s' (%zu rules)", mv_policy_source(p),
         mv_policy_name(p), mv_policy_rule_count(p));
  unsigned opts = mv_policy_options(p);
  const char *sep = "; options: ";
  for (const mv_option_info *o = mv_option_table; o->name; o++) {
    if (!(opts & o->bit)) continue;
    printf("%s%s", sep, o->name);
    sep = ", ";
  }
  putchar('\n');
  mv_policy_free(p);
  mv_registry_free(r);
  return MV_EXIT_OK;
}
