/* cmd_inspect.c - medveil inspect FILE: the attributes as a policy sees
 * them, optionally with the action a policy would take on each. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "cli.h"

static void usage(FILE *f) {
  fputs("usage: medveil inspect [--rules NAME|FILE] [--no-values] FILE\n"
        "\n"
        "Print every attribute of FILE (nested sequences indented) with its\n"
        "tag, VR, private creator and value, as policies address them. With\n"
        "--rules, also the action that policy takes on each. Values are the\n"
        "file's own data: --no-values hides them (for sharing the output).\n",
        f);
}

typedef struct inspect_ctx {
  const mv_policy *policy;
  int values;
} inspect_ctx;

static int show(void *ud, const mv_attr *a, void *handle) {
  (void)handle;
  inspect_ctx *c = ud;
  for (uint32_t i = 0; i < a->depth; i++) fputs("  ", stdout);
  /* Other formats' attributes have names ("png:tEXt:Comment"), no tag. */
  if (a->tag == 0 && a->name)
    printf("%s", a->name);
  else
    printf("(%04X,%04X) %-2s", a->tag >> 16, a->tag & 0xFFFF, a->vr);
  if (a->creator) printf(" [%s]", a->creator);
  if (c->policy) {
    uint16_t group = (uint16_t)(a->tag >> 16), el = (uint16_t)a->tag;
    int kind;
    if (a->tag == 0) {
      /* As run: a binary value is kept or removed. */
      kind = mv_policy_lookup_named(c->policy, a->name)->kind;
      if (!a->value && kind != MV_ACT_KEEP) kind = MV_ACT_REMOVE;
    } else if ((group & 1) && el >= 0x10 && el <= 0xFF) {
      /* Creator elements follow their blocks, as in run. */
      char creator[65];
      snprintf(creator, sizeof creator, "%.*s", (int)(a->len < 64 ? a->len : 64),
               a->value ? a->value : "");
      kind = mv_policy_keeps_creator(c->policy, group, creator) ? MV_ACT_KEEP
                                                                : MV_ACT_REMOVE;
    } else {
      kind = mv_policy_lookup(c->policy, a->tag, a->creator, a->vr)->kind;
    }
    printf(" -> %s", mv_action_name(kind));
  }
  if (!strcmp(a->vr, "SQ")) {
    printf(" (%u items)", a->items);
  } else if (a->value && c->values) {
    int n = a->len > 80 ? 80 : (int)a->len;
    printf(" = \"%.*s\"%s", n, a->value, a->len > 80 ? "..." : "");
  } else {
    printf(" (%zu bytes)", a->len);
  }
  putchar('\n');
  return MV_VISIT_KEEP;
}

int mv_cmd_inspect(int argc, char **argv) {
  static const struct option opts[] = {{"rules", required_argument, NULL, 'r'},
                                       {"no-values", no_argument, NULL, 'n'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *rules = NULL;
  int values = 1;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "r:nh", opts, NULL)) != -1;) {
    switch (c) {
      case 'r': rules = optarg; break;
      case 'n': values = 0; break;
      case 'h': usage(stdout); return MV_EXIT_OK;
      default: usage(stderr); return MV_EXIT_CONFIG;
    }
  }
  if (optind != argc - 1) {
    usage(stderr);
    return MV_EXIT_CONFIG;
  }
  const char *path = argv[optind];
  mv_paths paths;
  mv_registry *r = mv_cli_load_plugins(&paths);
  if (!r) return MV_EXIT_CONFIG;
  mv_policy *policy = NULL;
  if (rules) {
    mv_policy_env env;
    policy = mv_cli_load_policy(&paths, r, rules, &env);
    if (!policy) {
      mv_registry_free(r);
      return MV_EXIT_CONFIG;
    }
  }
  int rc = MV_EXIT_OK;
  const mv_loaded *fmt = NULL;
  mv_doc *doc = NULL;
  if (mv_cli_open_file(r, path, &fmt, &doc) != 0) {
    rc = MV_EXIT_REJECTED;
  } else {
    printf("# %s (%s)\n", path, fmt->desc->name);
    inspect_ctx c = {.policy = policy, .values = values};
    fmt->desc->format->visit(doc, show, &c);
    fmt->desc->format->close(doc);
  }
  mv_policy_free(policy);
  mv_registry_free(r);
  return rc;
}
