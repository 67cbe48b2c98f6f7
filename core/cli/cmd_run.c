/* cmd_run.c - medveil run: the main job. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mv_convert.h"
#include "mv_fsutil.h"
#include "mv_job.h"
#include "mv_keys.h"
#include "mv_log.h"
#include "mv_report.h"
#include "run_archive.h"
#include "run_part.h"

/* The parts of a run that keep records (see run_part.h). NULL ends it. */
static const mv_run_part *const run_parts[] = {
    &mv_run_part_crosswalk,
    &mv_run_part_audit,
    &mv_run_part_jobs, /* after audit: records its last line hash */
    &mv_run_part_html,
    &mv_run_part_verify, /* before archive: checks OUT while it exists */
    &mv_run_part_archive, /* keep last: its end() packs and removes OUT */
    NULL};

int mv_run_add_observer(mv_run_ctx *ctx, mv_job_observer ob) {
  if (ctx->nobservers >= MV_RUN_MAX_OBSERVERS) return -1;
  ctx->observers[ctx->nobservers++] = ob;
  return 0;
}

static void usage(FILE *f);

static void parts_help(FILE *f) {
  for (size_t i = 0; run_parts[i]; i++)
    if (run_parts[i]->help) fputs(run_parts[i]->help, f);
}

/* The base options followed by every part's. Caller frees. */
static struct option *all_options(const struct option *base, size_t nbase) {
  size_t n = nbase;
  for (size_t i = 0; run_parts[i]; i++)
    for (const struct option *o = run_parts[i]->options; o && o->name; o++)
      n++;
  struct option *all = calloc(n + 1, sizeof *all);
  if (!all) return NULL;
  memcpy(all, base, nbase * sizeof *base);
  size_t k = nbase;
  for (size_t i = 0; run_parts[i]; i++)
    for (const struct option *o = run_parts[i]->options; o && o->name; o++)
      all[k++] = *o;
  return all;
}

/* Give an option code >= 1000 to the part that declared it. */
static int part_option(void **states, int code, const char *arg) {
  for (size_t i = 0; run_parts[i]; i++)
    for (const struct option *o = run_parts[i]->options; o && o->name; o++)
      if (o->val == code) {
        char err[1024] = "";
        if (run_parts[i]->option(&states[i], code, arg, err, sizeof err) !=
            0) {
          mv_cli_error("--%s: %s", o->name, err[0] ? err : "invalid value");
          return -1;
        }
        return 0;
      }
  return -1;
}

/* The batch will not run after the parts began: they close what they
 * opened and record an empty run. */
static void end_parts_empty(void **states, mv_run_ctx *ctx) {
  for (size_t i = 0; run_parts[i]; i++)
    if (run_parts[i]->end) {
      char e2[256];
      run_parts[i]->end(states[i], ctx, NULL, e2, sizeof e2);
    }
}

static void parts_free(void **states) {
  for (size_t i = 0; run_parts[i]; i++)
    if (run_parts[i]->free && states[i]) run_parts[i]->free(states[i]);
}

static void usage(FILE *f) {
  fputs(
      "usage: medveil run --rules NAME|FILE --key FILE --out DIR|ARCHIVE\n"
      "                   --report FILE"
      " [--review-dir DIR] [--jobs N] [--quiet] [--verbose]\n"
      "                   INPUT...\n"
      "\n"
      "De-identify every file under the INPUT files and folders (recursive),\n"
      "and every member of the zip, tar(.gz|.bz2|.xz|.zst) and 7z archives met.\n"
      "\n"
      "  --rules NAME|FILE  bundled profile (basic, research, hipaa) or a rule file\n"
      "  --key FILE         site key from 'medveil keygen' (mode 0600)\n"
      "  --out DIR          output tree: DIR/<patient>/<study>/<series>/<sop>.dcm\n"
      "  --out NAME.zip|NAME.tar.gz|NAME.tgz\n"
      "                     the same tree as one archive, renamed into place\n"
      "                     when complete (see docs/archives.md)\n"
      "  --report FILE      JSON report of every input; must not be inside DIR\n"
      "  --review-dir DIR   where objects held for a person go (default: the\n"
      "                     report's name with .review instead of .json); must\n"
      "                     not be inside the output folder. See 'medveil review'.\n"
      "  --compress CODEC   store DICOM pixels losslessly as htj2k (HTJ2K\n"
      "                     Lossless .201; htj2k-rpcl .202, htj2k-general .203),\n"
      "                     jpegls, j2k (JPEG 2000 lossless), none\n"
      "                     (uncompressed) or keep (as read: default)\n"
      "  --output-format F  dicom (default: each format's own), png or jpeg:\n"
      "                     image frames as files, VOI window applied, no\n"
      "                     metadata (<sop>.png, or <sop>-f0001.png ...)\n"
      "  --jobs N           worker threads (default: number of cores)\n"
      "  --quiet            no progress line\n"
      "  --verbose          log more (never attribute values)\n",
      f);
  parts_help(f);
  fputs(
      "\n"
      "Exit status: 0 every input ok, 1 some rejected or held for review, 2 usage\n"
      "or configuration\n"
      "error (found before any data is touched).\n",
      f);
}

/* Inputs and outputs must not overlap: the walk would read its own
 * outputs, or outputs would land among originals. */
static int check_layout(const char *out_abs, const char *report_abs,
                        const char *review_abs, char **inputs, int n) {
  if (mv_path_within(report_abs, out_abs)) {
    mv_cli_error("the report names inputs, so it must not be inside the "
                 "output folder (%s)", out_abs);
    return -1;
  }
  if (mv_path_within(review_abs, out_abs) ||
      mv_path_within(out_abs, review_abs)) {
    mv_cli_error("the review folder holds original pixels in its previews, "
                 "so it must not overlap the output folder (%s)", out_abs);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    char in_abs[4096];
    if (access(inputs[i], F_OK) != 0) {
      mv_cli_error("%s: no such file or folder", inputs[i]);
      return -1;
    }
    mv_abspath(inputs[i], in_abs, sizeof in_abs);
    if (mv_path_within(out_abs, in_abs) || mv_path_within(in_abs, out_abs)) {
      mv_cli_error("%s: input and output folder overlap", inputs[i]);
      return -1;
    }
    if (mv_path_within(review_abs, in_abs) ||
        mv_path_within(in_abs, review_abs)) {
      mv_cli_error("%s: input and review folder overlap", inputs[i]);
      return -1;
    }
  }
  return 0;
}

static int run(int argc, char **argv, void **states);

int mv_cmd_run(int argc, char **argv) {
  void *states[sizeof run_parts / sizeof run_parts[0]] = {0};
  int rc = run(argc, argv, states);
  parts_free(states);
  return rc;
}

static int run(int argc, char **argv, void **states) {
  static const struct option base_opts[] = {
      {"rules", required_argument, NULL, 'r'},
      {"key", required_argument, NULL, 'k'},
      {"out", required_argument, NULL, 'o'},
      {"report", required_argument, NULL, 'p'},
      {"jobs", required_argument, NULL, 'j'},
      {"review-dir", required_argument, NULL, 'R'},
      {"compress", required_argument, NULL, 'C'},
      {"output-format", required_argument, NULL, 'F'},
      {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'}};
  struct option *opts =
      all_options(base_opts, sizeof base_opts / sizeof base_opts[0]);
  if (!opts) {
    mv_cli_error("out of memory");
    return MV_EXIT_CONFIG;
  }
  const char *rules = NULL, *key_path = NULL, *out = NULL, *report = NULL;
  const char *review = NULL, *compress = NULL;
  mv_outfmt outfmt = MV_OUTFMT_NATIVE;
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  int quiet = 0;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "r:k:o:p:j:qvh", opts, NULL)) != -1;) {
    switch (c) {
      case 'r': rules = optarg; break;
      case 'k': key_path = optarg; break;
      case 'o': out = optarg; break;
      case 'p': report = optarg; break;
      case 'R': review = optarg; break;
      case 'C':
        if (strcmp(optarg, "htj2k") && strcmp(optarg, "htj2k-rpcl") &&
            strcmp(optarg, "htj2k-general") && strcmp(optarg, "jpegls") &&
            strcmp(optarg, "j2k") && strcmp(optarg, "none") &&
            strcmp(optarg, "keep")) {
          mv_cli_error("--compress must be htj2k, htj2k-rpcl, htj2k-general, "
                       "jpegls, j2k, none or keep");
          free(opts);
          return MV_EXIT_CONFIG;
        }
        compress = strcmp(optarg, "keep") ? optarg : NULL;
        break;
      case 'F':
        if (mv_outfmt_parse(optarg, &outfmt) != 0) {
          mv_cli_error("--output-format must be dicom, png or jpeg");
          free(opts);
          return MV_EXIT_CONFIG;
        }
        break;
      case 'j': {
        char *end;
        jobs = strtol(optarg, &end, 10);
        if (*end || jobs < 1 || jobs > 256) {
          mv_cli_error("--jobs must be a number from 1 to 256");
          free(opts);
          return MV_EXIT_CONFIG;
        }
        break;
      }
      case 'q': quiet = 1; break;
      case 'v': mv_log_set_level(MV_LOG_INFO); break;
      case 'h': usage(stdout); free(opts); return MV_EXIT_OK;
      default:
        if (c >= 1000 && part_option(states, c, optarg) == 0) break;
        if (c < 1000) usage(stderr);
        free(opts);
        return MV_EXIT_CONFIG;
    }
  }
  free(opts);
  const char *missing = !rules ? "--rules" : !key_path ? "--key"
                        : !out ? "--out" : !report ? "--report" : NULL;
  if (missing) {
    mv_cli_error("run needs %s (see medveil run --help)", missing);
    return MV_EXIT_CONFIG;
  }
  if (optind >= argc) {
    mv_cli_error("run needs at least one INPUT file or folder");
    return MV_EXIT_CONFIG;
  }
  char out_abs[4096], report_abs[4096], review_abs[4096];
  mv_abspath(out, out_abs, sizeof out_abs);
  mv_abspath(report, report_abs, sizeof report_abs);
  mv_cli_review_dir(review, report_abs, review_abs, sizeof review_abs);
  if (mv_run_archive_stage(out_abs, sizeof out_abs, report_abs, review_abs,
                           argv + optind, argc - optind) != 0)
    return MV_EXIT_CONFIG;
  if (check_layout(out_abs, report_abs, review_abs, argv + optind,
                   argc - optind) != 0)
    return MV_EXIT_CONFIG;

  char err[4096];
  mv_key key;
  if (mv_key_load(key_path, &key, err, sizeof err) != 0) {
    mv_cli_error("%s", err);
    return MV_EXIT_CONFIG;
  }
  mv_paths paths;
  mv_registry *reg = mv_cli_load_plugins(&paths);
  if (!reg) return MV_EXIT_CONFIG;
  /* Validate once up front, so a bad policy stops before any data. */
  mv_policy_env env;
  mv_policy *policy = mv_cli_load_policy(&paths, reg, rules, &env);
  if (!policy) {
    mv_registry_free(reg);
    return MV_EXIT_CONFIG;
  }
  char fingerprint[17];
  mv_key_fingerprint(&key, fingerprint);
  mv_summary sum;
  memset(&sum, 0, sizeof sum);
  sum.policy_name = mv_policy_name(policy);
  sum.policy_source = mv_policy_source(policy);
  sum.key_fingerprint = fingerprint;
  /* The record-keeping parts start before the report and OUT exist, so a
   * part that refuses the run leaves nothing behind. */
  mv_run_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  uint8_t id_bytes[16];
  randombytes_buf(id_bytes, sizeof id_bytes);
  sodium_bin2hex(ctx.job_id, sizeof ctx.job_id, id_bytes, sizeof id_bytes);
  ctx.submitted = (double)time(NULL);
  struct passwd *pw = getpwuid(geteuid());
  if (pw && pw->pw_name)
    snprintf(ctx.user, sizeof ctx.user, "%s", pw->pw_name);
  else
    snprintf(ctx.user, sizeof ctx.user, "uid:%lu", (unsigned long)geteuid());
  if (gethostname(ctx.host, sizeof ctx.host) != 0)
    snprintf(ctx.host, sizeof ctx.host, "?");
  ctx.host[sizeof ctx.host - 1] = 0;
  ctx.argc = argc;
  ctx.argv = argv;
  ctx.rules = rules;
  ctx.policy_name = sum.policy_name;
  ctx.policy_source = sum.policy_source;
  if (!sum.policy_source ||
      mv_file_digest_hex(sum.policy_source, ctx.rules_sha256, 64) != 0)
    ctx.rules_sha256[0] = 0;
  ctx.key_fingerprint = fingerprint;
  ctx.key = &key;
  ctx.registry = reg;
  ctx.out_abs = out_abs;
  ctx.report_abs = report_abs;
  ctx.review_abs = review_abs;
  ctx.inputs = argv + optind;
  ctx.ninputs = argc - optind;
  ctx.jobs = (int)jobs;
  for (size_t i = 0; run_parts[i]; i++) {
    if (!run_parts[i]->begin) continue;
    if (run_parts[i]->begin(states[i], &ctx, err, sizeof err) != 0) {
      mv_cli_error("%s", err);
      for (size_t k = i; k-- > 0;) /* the ones begun see an empty run */
        if (run_parts[k]->end) {
          char e2[256];
          run_parts[k]->end(states[k], &ctx, NULL, e2, sizeof e2);
        }
      mv_policy_free(policy);
      mv_registry_free(reg);
      return MV_EXIT_CONFIG;
    }
  }
  /* The report first: a report that cannot be written stops the run
   * before OUT is even created. */
  mv_report *rep = mv_report_open(report, err, sizeof err);
  if (!rep) {
    mv_cli_error("%s", err);
    end_parts_empty(states, &ctx);
    mv_policy_free(policy);
    mv_registry_free(reg);
    return MV_EXIT_CONFIG;
  }
  if (mv_mkdirs(out_abs) != 0) {
    mv_cli_error("%s: cannot create output folder: %s", out, strerror(errno));
    end_parts_empty(states, &ctx);
    mv_report_abort(rep);
    mv_policy_free(policy);
    mv_registry_free(reg);
    return MV_EXIT_CONFIG;
  }
  mv_job_config cfg = {.rules = rules,
                       .loaded = policy,
                       .key = &key,
                       .out_dir = out_abs,
                       .review_dir = review_abs,
                       .report = rep,
                       .jobs = (int)jobs,
                       .progress = !quiet && isatty(STDERR_FILENO),
                       .env = &env,
                       .registry = reg,
                       .inputs = argv + optind,
                       .ninputs = argc - optind,
                       .observers = ctx.observers,
                       .nobservers = ctx.nobservers,
                       .want_digests = ctx.want_digests,
                       .output_encoding = compress,
                       .output_format = (int)outfmt};
  int rc = mv_job_run(&cfg, &sum, err, sizeof err);
  if (rc != MV_OK) {
    mv_cli_error("%s", err);
    end_parts_empty(states, &ctx);
    mv_report_abort(rep);
    mv_policy_free(policy);
    mv_registry_free(reg);
    return MV_EXIT_CONFIG;
  }
  int exit_code = sum.ok == sum.total ? MV_EXIT_OK : MV_EXIT_REJECTED;
  if (mv_report_close(rep, &sum) != 0) {
    mv_cli_error("%s: cannot write report", report);
    exit_code = MV_EXIT_REJECTED;
  }
  if (sum.observer_errors) exit_code = MV_EXIT_REJECTED;
  for (size_t i = 0; run_parts[i]; i++) {
    if (!run_parts[i]->end) continue;
    err[0] = 0;
    if (run_parts[i]->end(states[i], &ctx, &sum, err, sizeof err) != 0) {
      mv_cli_error("%s", err[0] ? err : run_parts[i]->name);
      if (exit_code == MV_EXIT_OK) exit_code = MV_EXIT_REJECTED;
    }
  }
  if (ctx.exit_code > exit_code) exit_code = ctx.exit_code;
  if (!quiet) {
    fprintf(stderr, "medveil: %lu files: %lu ok, %lu rejected, %lu for review "
                    "(%.2f s); report: %s\n",
            sum.total, sum.ok, sum.rejected, sum.review, sum.seconds, report);
    if (sum.review)
      fprintf(stderr, "medveil: held for review in %s (see 'medveil review "
                      "list --review-dir %s')\n",
              review_abs, review_abs);
  }
  mv_policy_free(policy);
  mv_registry_free(reg);
  return exit_code;
}
