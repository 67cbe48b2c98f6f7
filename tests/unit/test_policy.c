/* The policy compiler: bundled profiles compile to the expected actions,
 * precedence holds, and every kind of mistake in a rule file is reported
 * with file:line before any data is touched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "mv_policy.h"
#include "mv_registry.h"
#include "mv_test.h"

static mv_policy_env env;
static char dir[] = "/tmp/mvpolXXXXXX";

static mv_policy *load(const char *spec, char *err, size_t n) {
  mv_policy *p = NULL;
  err[0] = 0;
  if (mv_policy_load(&env, spec, &p, err, n) != MV_OK) return NULL;
  return p;
}

static const char *write_rules(const char *name, const char *text) {
  static char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

static int act(const mv_policy *p, uint32_t tag, const char *creator,
               const char *vr) {
  return mv_policy_lookup(p, tag, creator, vr)->kind;
}

/* Loading `text` fails and the message names `file:line` and `want`. */
static int fails_at(const char *text, int line, const char *want) {
  char err[2048], where[4300];
  const char *path = write_rules("bad.lua", text);
  mv_policy *p = load(path, err, sizeof err);
  if (p) {
    mv_policy_free(p);
    fprintf(stderr, "loaded, expected failure: %s\n", text);
    return 0;
  }
  snprintf(where, sizeof where, "%s:%d:", path, line);
  int ok = strstr(err, where) != NULL && strstr(err, want) != NULL;
  if (!ok) fprintf(stderr, "wanted '%s' ... '%s', got: %s\n", where, want, err);
  return ok;
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL);
  mv_registry *reg = mv_registry_new();
  char err[2048];
  char plugin[4096];
  snprintf(plugin, sizeof plugin, "%s/format-dicom.so", MV_BUILD_PLUGIN_DIR);
  int rc = mv_registry_load(reg, plugin, NULL, err, sizeof err);
  if (rc != MV_OK) fprintf(stderr, "%s\n", err);
  CHECK(rc == MV_OK);
  env.scripts_dir = MV_SOURCE_DIR "/scripts";
  env.rules_dir = MV_SOURCE_DIR "/rules";
  env.registry = reg;

  mv_policy *basic = load("basic", err, sizeof err);
  if (!basic) fprintf(stderr, "%s\n", err);
  CHECK(basic != NULL);
  if (basic) {
    CHECK(act(basic, 0x00100010, NULL, "PN") == MV_ACT_PSEUDONYM);
    CHECK(act(basic, 0x00100020, NULL, "LO") == MV_ACT_PSEUDONYM);
    CHECK(act(basic, 0x00080020, NULL, "DA") == MV_ACT_EMPTY);
    CHECK(act(basic, 0x00080050, NULL, "SH") == MV_ACT_EMPTY);
    CHECK(act(basic, 0x00080018, NULL, "UI") == MV_ACT_UID);
    CHECK(act(basic, 0x00081155, NULL, "UI") == MV_ACT_UID);
    CHECK(act(basic, 0x00080016, NULL, "UI") == MV_ACT_UID); /* vrs.UI; standard values kept by the engine */
    CHECK(act(basic, 0x00081030, NULL, "LO") == MV_ACT_REMOVE);
    CHECK(act(basic, 0x00204000, NULL, "LT") == MV_ACT_REMOVE);
    CHECK(act(basic, 0x60003000, NULL, "OW") == MV_ACT_REMOVE); /* (60xx,3000) */
    CHECK(act(basic, 0x60023000, NULL, "OW") == MV_ACT_REMOVE);
    CHECK(act(basic, 0x00280010, NULL, "US") == MV_ACT_KEEP);
    CHECK(act(basic, 0x00091010, "ACME 1.1", "LO") == MV_ACT_REMOVE);
    CHECK(act(basic, 0x00091010, NULL, "LO") == MV_ACT_REMOVE);
    CHECK(act(basic, 0x00321032, NULL, "PN") != MV_ACT_KEEP); /* any PN */
    CHECK(!mv_policy_keeps_creator(basic, 0x0009, "ACME 1.1"));
    CHECK(mv_policy_pixels_when(basic) != MV_PIXELS_ALWAYS);
    CHECK(mv_policy_options(basic) == 0);
  }
  mv_policy *research = load("research", err, sizeof err);
  if (!research) fprintf(stderr, "%s\n", err);
  CHECK(research != NULL);
  if (research) {
    CHECK(act(research, 0x00080020, NULL, "DA") == MV_ACT_SHIFT);
    CHECK(act(research, 0x00100030, NULL, "DA") == MV_ACT_SHIFT);
    CHECK(act(research, 0x00081030, NULL, "LO") == MV_ACT_CLEAN);
    CHECK(act(research, 0x00100040, NULL, "CS") == MV_ACT_KEEP);
    CHECK(act(research, 0x00181000, NULL, "LO") == MV_ACT_KEEP);
    CHECK(act(research, 0x00189999, NULL, "DA") == MV_ACT_SHIFT); /* unlisted date */
    unsigned o = mv_policy_options(research);
    CHECK(o & MV_OPT_RETAIN_LONG_MODIFIED_DATES);
    CHECK(o & MV_OPT_CLEAN_DESCRIPTORS);
    CHECK(mv_policy_pixels_when(research) == MV_PIXELS_BURNED_IN);
    CHECK(mv_policy_pixel_modality(research, "US"));
    CHECK(!mv_policy_pixel_modality(research, "CT"));
    const mv_pixel_settings *ps = mv_policy_pixel_settings(research);
    CHECK(ps->ndetect == 2 && !strcmp(ps->detect[0], "regions") &&
          !strcmp(ps->detect[1], "ocr"));
    CHECK(!strcmp(ps->redact, "fill") && ps->verify && ps->margin == 2);
    CHECK(ps->nallow > 100 && ps->review_below == 0.5);
    CHECK(ps->uncertain_redact == 1); /* research redacts unsure words */
    CHECK(mv_pixpolicy_mode(ps, "US") == MV_PHI_ALL_TEXT);
    CHECK(mv_pixpolicy_mode(ps, "CT") == MV_PHI_IDENTIFIERS);
  }
  mv_policy *hipaa = load("hipaa", err, sizeof err);
  if (!hipaa) fprintf(stderr, "%s\n", err);
  CHECK(hipaa != NULL);
  if (hipaa) {
    CHECK(act(hipaa, 0x00080020, NULL, "DA") == MV_ACT_YEAR);
    CHECK(act(hipaa, 0x00100030, NULL, "DA") == MV_ACT_YEAR);
    CHECK(act(hipaa, 0x00101010, NULL, "AS") == MV_ACT_AGE);
    CHECK(mv_policy_age_cap(hipaa) == 89);
  }
  mv_policy *site = load(MV_SOURCE_DIR "/examples/site-example.lua", err, sizeof err);
  if (!site) fprintf(stderr, "%s\n", err);
  CHECK(site != NULL);
  if (site) {
    CHECK_STR(mv_policy_name(site), "site07-research");
    CHECK(act(site, 0x00080080, NULL, "LO") == MV_ACT_REPLACE);
    CHECK(act(site, 0x00181030, NULL, "LO") == MV_ACT_FUNC);
    CHECK(act(site, 0x00191010, "GEMS_ACQU_01", "LO") == MV_ACT_KEEP);
    CHECK(act(site, 0x00191110, "GEMS_ACQU_01", "LO") == MV_ACT_KEEP); /* any block */
    CHECK(act(site, 0x00191011, "GEMS_ACQU_01", "LO") == MV_ACT_REMOVE);
    CHECK(act(site, 0x00191010, "OTHER", "LO") == MV_ACT_REMOVE);
    CHECK(mv_policy_keeps_creator(site, 0x0019, "GEMS_ACQU_01  "));
    CHECK(mv_policy_after_ref(site) != LUA_NOREF);
  }

  /* Precedence: exact > pattern (more specific first) > vrs > default. */
  mv_policy *prec = load(write_rules("prec.lua",
      "local mv = require 'medveil'\n"
      "return { tags = { ['(0008,0020)'] = mv.keep, ['(0008,xxxx)'] = mv.empty,\n"
      "  ['(0008,00xx)'] = mv.dummy },\n"
      "  vrs = { DA = mv.remove }, default = mv.hash(12), private = mv.keep }\n"),
      err, sizeof err);
  if (!prec) fprintf(stderr, "%s\n", err);
  CHECK(prec != NULL);
  if (prec) {
    CHECK(act(prec, 0x00080020, NULL, "DA") == MV_ACT_KEEP);
    CHECK(act(prec, 0x00080021, NULL, "DA") == MV_ACT_DUMMY);
    CHECK(act(prec, 0x00081021, NULL, "DA") == MV_ACT_EMPTY);
    CHECK(act(prec, 0x00100021, NULL, "DA") == MV_ACT_REMOVE);
    CHECK(act(prec, 0x00100021, NULL, "LO") == MV_ACT_HASH);
    CHECK(act(prec, 0x00091001, "X", "LO") == MV_ACT_KEEP);
    CHECK(mv_policy_keeps_creator(prec, 0x0009, "X"));
  }

  /* Mistakes, each with its line. */
  CHECK(fails_at("local mv = require 'medveil'\nreturn mv.profile 'basic' {\n"
                 "  tags = {\n    PatientNmae = mv.remove,\n  },\n}\n",
                 4, "PatientNmae"));
  CHECK(fails_at("local mv = require 'medveil'\nreturn {\n  tags = {\n"
                 "    PatientName = { action = 'obliterate' },\n  },\n}\n",
                 4, "obliterate"));
  CHECK(fails_at("return {\n  name = 'x',\n  colour = 'blue',\n}\n", 3,
                 "colour"));
  CHECK(fails_at("return {\n  vrs = {\n    XX = { action = 'keep' } },\n}\n", 3,
                 "XX"));
  CHECK(fails_at("local x = nil\nreturn x.field\n", 2, "nil"));
  CHECK(fails_at("return {\n  tags = { PatientName = 'remove' ,\n}\n", 4, ""));
  CHECK(fails_at("return {\n  options = { retain_everything = true },\n}\n", 2,
                 "retain_everything"));
  CHECK(fails_at("return {\n  dates = { min_days = 10, max_days = -10 },\n}\n",
                 2, "min_days"));
  CHECK(fails_at("return {\n  pixels = { when = 'sometimes' },\n}\n", 2,
                 "when"));
  /* Pixel settings are checked in C too (a table built without mv.*). */
  CHECK(fails_at("return {\n  pixels = { phi = 'everything' },\n}\n", 2, "phi"));
  CHECK(fails_at("return {\n  pixels = { detect = { 'ocr' }, options = { regions = 'x' } },\n}\n",
                 2, "options"));
  CHECK(fails_at("return {\n  pixels = { review_below = 2 },\n}\n", 2,
                 "review_below"));
  CHECK(fails_at("return {\n  pixels = { uncertain = \"maybe\" },\n}\n", 2,
                 "uncertain"));
  CHECK(fails_at("return {\n  pixels = { allow = { 'L', {} } },\n}\n", 2,
                 "allow"));
  CHECK(fails_at("return {\n  pixels = { margin = -1 },\n}\n", 2, "margin"));
  CHECK(fails_at("while true do end\n", 1, "instruction limit"));
  /* A file that returns no table. */
  const char *path = write_rules("none.lua", "return 42\n");
  CHECK(load(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "must return a policy table") != NULL);
  CHECK(load("no-such-profile", err, sizeof err) == NULL);
  CHECK(strstr(err, "no such rule file") != NULL);

  mv_policy_free(basic);
  mv_policy_free(research);
  mv_policy_free(hipaa);
  mv_policy_free(site);
  mv_policy_free(prec);
  mv_registry_free(reg);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  TEST_MAIN_END();
}
