/* fuzz_policy.c - libFuzzer target for the policy compiler.
 *
 * Each input is the text of a rule file. It is written to a private temp
 * dir and loaded with mv_policy_load() against the source tree's scripts/
 * and rules/ (so `require "medveil"`, mv.ps315 and mv.profile "basic" work)
 * and, when the built plugin is found, a registry holding format-dicom so
 * keywords resolve as in the CLI. The sandbox limits are small (16 MiB,
 * 20 M instructions) so runaway scripts are cut off quickly; the load must
 * never crash, leak or hang, whatever the text. A policy that loads is
 * looked up for a handful of tags, creators and VRs.
 *
 * Environment: MV_FUZZ_PLUGIN overrides the plugin path; MV_FUZZ_NO_REGISTRY
 * loads without a registry; MV_FUZZ_VERBOSE prints load errors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_host.h"
#include "mv_policy.h"
#include "mv_registry.h"

#ifndef MV_FUZZ_PLUGIN
#define MV_FUZZ_PLUGIN ""
#endif

static mv_policy_env env;
static mv_registry *reg;
static char path[96];

static void free_registry(void) {
  mv_registry_free(reg);
  reg = NULL;
}

/* Sanitizer defaults (the environment still overrides them). */
const char *__ubsan_default_options(void) {
  return "halt_on_error=1:print_stacktrace=1";
}
const char *__lsan_default_options(void) {
  return "print_suppressions=0:suppressions=" MV_FUZZ_DIR "/lsan.supp";
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_setup("fuzz_policy", "policy");
  fuzz_path(path, sizeof path, "rules.lua");
  env.scripts_dir = MV_SOURCE_DIR "/scripts";
  env.rules_dir = MV_SOURCE_DIR "/rules";
  env.limits.max_bytes = (size_t)16 << 20;
  env.limits.max_instructions = 20000000L;
  if (!getenv("MV_FUZZ_NO_REGISTRY")) {
    const char *plugin = getenv("MV_FUZZ_PLUGIN");
    if (!plugin || !*plugin) plugin = MV_FUZZ_PLUGIN;
    char err[1024] = "";
    reg = mv_registry_new();
    if (reg && *plugin &&
        mv_registry_load(reg, plugin, NULL, err, sizeof err) != MV_OK) {
      fprintf(stderr, "fuzz_policy: no registry (%s)\n", err);
      mv_registry_free(reg);
      reg = NULL;
    }
    env.registry = reg;
  }
  atexit(free_registry);
  return 0;
}

static void exercise(const mv_policy *p) {
  static const uint32_t tags[] = {0x00100010, 0x00100020, 0x00080020,
                                  0x00080018, 0x00081030, 0x00191010,
                                  0x00190010, 0x7FE00010, 0x0040A730,
                                  0x00000000, 0xFFFFFFFF, 0x60003000};
  static const char *const vrs[] = {"PN", "LO", "UI", "DA", "", "SQ", "ZZ",
                                    NULL};
  static const char *const creators[] = {"GEMS_ACQU_01", "SIEMENS CSA HEADER ",
                                         "", NULL};
  for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
    for (size_t v = 0; v < sizeof vrs / sizeof vrs[0]; v++)
      for (size_t c = 0; c < sizeof creators / sizeof creators[0]; c++) {
        const mv_action *a = mv_policy_lookup(p, tags[i], creators[c], vrs[v]);
        if (!a || a->kind >= MV_ACT__COUNT) abort();
        if (a->text) (void)strlen(a->text);
        (void)mv_action_name(a->kind);
      }
  for (size_t c = 0; creators[c]; c++)
    (void)mv_policy_keeps_creator(p, 0x0019, creators[c]);
  long lo, hi;
  mv_policy_date_range(p, &lo, &hi);
  (void)strlen(mv_policy_name(p));
  (void)strlen(mv_policy_description(p));
  (void)strlen(mv_policy_source(p));
  (void)mv_policy_options(p);
  (void)mv_policy_date_per_tag(p);
  (void)mv_policy_age_cap(p);
  (void)mv_policy_pixels_when(p);
  (void)mv_policy_pixel_modality(p, "US");
  (void)mv_policy_pixel_modality(p, "");
  (void)mv_policy_after_ref(p);
  (void)mv_policy_rule_count(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  if (size && fwrite(data, 1, size, f) != size) abort();
  fclose(f);
  mv_policy *p = NULL;
  char err[2048];
  err[0] = 0;
  int rc = mv_policy_load(&env, path, &p, err, sizeof err);
  if (rc == MV_OK) {
    if (!p) abort();
    exercise(p);
    mv_policy_free(p);
  } else {
    if (p) abort();
    if (!memchr(err, 0, sizeof err)) abort();
    if (fuzz_verbose) fprintf(stderr, "load: %s\n", err);
  }
  return 0;
}
