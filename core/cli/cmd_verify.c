/* cmd_verify.c - medveil verify: search de-identified output for the
 * identifying values of the originals (see mv_verify.h, docs/verify.md).
 * Prints one line per finding, never a value; --report adds JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mv_fsutil.h"
#include "mv_json.h"
#include "mv_verify.h"

static void usage(FILE *f) {
  fputs(
      "usage: medveil verify --original IN [--original IN...] --deidentified OUT\n"
      "                      [--rules NAME|FILE] [--report FILE] [--no-ocr]\n"
      "                      [--strict-dates] [--jobs N] [--quiet]\n"
      "\n"
      "Check de-identified output for leaks: collect every identifying value of\n"
      "the originals under IN (names and their parts, IDs, dates in many\n"
      "spellings, addresses, UIDs the policy remaps, file names) and search for\n"
      "all of them in every byte and every folder and file name under OUT, and\n"
      "(unless --no-ocr) in the text the policy's detectors read on the pixels.\n"
      "Findings name the file, where, and the attribute the value came from;\n"
      "values are never printed.\n"
      "\n"
      "  --original IN      an original file or folder (repeatable)\n"
      "  --deidentified OUT the de-identified folder\n"
      "  --rules NAME|FILE  the policy that says what is identifying (research)\n"
      "  --report FILE      also write the findings as JSON\n"
      "  --no-ocr           do not read the pixels\n"
      "  --strict-dates     also report original dates found as the value of a\n"
      "                     DA/DT element (off: in a batch, one patient's shifted\n"
      "                     date often equals another's original date)\n"
      "  --jobs N           worker threads (default: number of cores)\n"
      "  --quiet            no summary on stderr\n"
      "\n"
      "Exit status: 0 nothing found, 1 something found (or a file under OUT\n"
      "could not be read), 2 usage or configuration error.\n",
      f);
}

typedef struct out_state {
  FILE *json; /* NULL without --report */
  unsigned long n;
} out_state;

static const char *where_word(const mv_verify_finding *f) {
  switch (f->where) {
    case MV_VERIFY_PATH: return f->is_folder ? "folder name" : "file name";
    case MV_VERIFY_PIXELS: return "pixels";
    default: return "bytes";
  }
}

static int print_finding(void *ud, const mv_verify_finding *f) {
  out_state *o = ud;
  printf("leak: %s%s: ", f->file, f->is_folder ? "/" : "");
  switch (f->where) {
    case MV_VERIFY_PATH:
      printf("in the %s: ", where_word(f));
      break;
    case MV_VERIFY_PIXELS:
      printf("pixels plane %u (OCR): ", f->plane);
      break;
    default:
      printf("at byte %llu: ", (unsigned long long)f->offset);
  }
  printf("%s", f->origin);
  if (f->hits > 1) printf(" [%lu hits]", f->hits);
  putchar('\n');
  if (o->json) {
    fprintf(o->json, "%s\n    {\"file\": ", o->n ? "," : "");
    mv_json_string(o->json, f->file);
    fprintf(o->json, ", \"where\": \"%s\"", where_word(f));
    if (f->where == MV_VERIFY_BYTES)
      fprintf(o->json, ", \"offset\": %llu", (unsigned long long)f->offset);
    if (f->where == MV_VERIFY_PIXELS)
      fprintf(o->json, ", \"plane\": %u", f->plane);
    if (f->tag)
      fprintf(o->json, ", \"tag\": \"(%04X,%04X)\"", (unsigned)(f->tag >> 16),
              (unsigned)(f->tag & 0xFFFF));
    fprintf(o->json, ", \"origin\": ");
    mv_json_string(o->json, f->origin);
    fprintf(o->json, ", \"hits\": %lu}", f->hits);
  }
  o->n++;
  return 0;
}

int mv_cli_verify(const mv_registry *reg, const mv_policy *policy,
                  const char *const *originals, int noriginals,
                  const char *deidentified, const char *report, int ocr,
                  int strict_dates, const mv_verify_pair *pairs,
                  size_t npairs, int jobs, int quiet) {
  out_state o = {0};
  char tmp[4200] = "";
  if (report) {
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", report, (long)getpid());
    if (!(o.json = fopen(tmp, "w"))) {
      mv_cli_error("%s: cannot write: %s", report, strerror(errno));
      return MV_EXIT_CONFIG;
    }
    fputs("{\n  \"findings\": [", o.json);
  }
  mv_verify_config cfg = {.registry = reg, .policy = policy,
                          .originals = originals, .noriginals = noriginals,
                          .deidentified = deidentified, .ocr = ocr,
                          .jobs = jobs, .strict_dates = strict_dates,
                          .pairs = pairs, .npairs = npairs};
  mv_verify_summary sum;
  char err[1024] = "";
  int rc = mv_verify_run(&cfg, print_finding, &o, &sum, err, sizeof err);
  fflush(stdout);
  if (rc != MV_OK) {
    mv_cli_error("verify: %s", err);
    if (o.json) {
      fclose(o.json);
      unlink(tmp);
    }
    return MV_EXIT_CONFIG;
  }
  int leak = sum.findings > 0 || sum.unscanned > 0;
  if (o.json) {
    FILE *j = o.json;
    fprintf(j, "%s],\n  \"summary\": {\"result\": \"%s\", \"policy\": ",
            o.n ? "\n  " : "", leak ? "leak" : "clean");
    mv_json_string(j, mv_policy_name(policy));
    fprintf(j, ", \"originals\": %lu, \"unreadable_originals\": %lu, "
               "\"values\": %lu, \"values_kept_by_policy\": %lu, "
               "\"files\": %lu, \"folders\": %lu, \"bytes\": %llu, "
               "\"unscanned\": %lu, \"ocr\": %s, \"ocr_objects\": %lu, "
               "\"ocr_failed\": %lu, \"strict_dates\": %s, "
               "\"dates_in_date_elements\": %lu, ",
            sum.originals, sum.unreadable, sum.values, sum.dropped, sum.files,
            sum.folders, sum.bytes, sum.unscanned, sum.ocr ? "true" : "false",
            sum.ocr_objects, sum.ocr_failed, strict_dates ? "true" : "false",
            sum.date_elements);
    if (!sum.ocr) {
      fprintf(j, "\"ocr_note\": ");
      mv_json_string(j, sum.ocr_note);
      fputs(", ", j);
    }
    fprintf(j, "\"findings\": %lu, \"files_with_findings\": %lu, "
               "\"memory_bytes\": %zu, \"seconds_collect\": %.3f, "
               "\"seconds_scan\": %.3f}\n}\n",
            sum.findings, sum.files_with_findings, sum.memory,
            sum.seconds_collect, sum.seconds_scan);
    int bad = ferror(j);
    if (fclose(j) != 0 || bad || rename(tmp, report) != 0) {
      unlink(tmp);
      mv_cli_error("%s: cannot write the report", report);
      return MV_EXIT_CONFIG;
    }
  }
  if (!quiet) {
    fprintf(stderr,
            "medveil: verify: %lu originals (%lu unreadable), %lu values "
            "(%lu kept by the policy), %lu files and %lu folders checked "
            "(%.1f MB, %.2f s + %.2f s)",
            sum.originals, sum.unreadable, sum.values, sum.dropped, sum.files,
            sum.folders, sum.bytes / 1e6, sum.seconds_collect,
            sum.seconds_scan);
    if (sum.ocr)
      fprintf(stderr, ", %lu objects read by OCR (%lu failed)",
              sum.ocr_objects, sum.ocr_failed);
    else
      fprintf(stderr, ", OCR %s", sum.ocr_note);
    if (sum.date_elements)
      fprintf(stderr, ", %lu original dates as date element values not "
                      "counted (see --strict-dates)",
              sum.date_elements);
    fprintf(stderr, ": %s\n",
            !leak ? "nothing found"
                  : sum.findings ? "LEAKS FOUND" : "some files unreadable");
    if (sum.findings)
      fprintf(stderr, "medveil: verify: %lu findings in %lu files and "
                      "folders\n",
              sum.findings, sum.files_with_findings);
  }
  return leak ? MV_EXIT_REJECTED : MV_EXIT_OK;
}

int mv_cmd_verify(int argc, char **argv) {
  static const struct option opts[] = {
      {"original", required_argument, NULL, 'i'},
      {"deidentified", required_argument, NULL, 'o'},
      {"rules", required_argument, NULL, 'r'},
      {"report", required_argument, NULL, 'p'},
      {"no-ocr", no_argument, NULL, 'n'},
      {"strict-dates", no_argument, NULL, 'd'},
      {"jobs", required_argument, NULL, 'j'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *out = NULL, *rules = "research", *report = NULL;
  const char **originals = calloc((size_t)argc + 1, sizeof *originals);
  int noriginals = 0, ocr = 1, quiet = 0, strict_dates = 0;
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  if (!originals) return MV_EXIT_CONFIG;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "i:o:r:p:nj:qh", opts, NULL)) != -1;) {
    switch (c) {
      case 'i': originals[noriginals++] = optarg; break;
      case 'o': out = optarg; break;
      case 'r': rules = optarg; break;
      case 'p': report = optarg; break;
      case 'n': ocr = 0; break;
      case 'd': strict_dates = 1; break;
      case 'q': quiet = 1; break;
      case 'j': {
        char *end;
        jobs = strtol(optarg, &end, 10);
        if (*end || jobs < 1 || jobs > 256) {
          mv_cli_error("--jobs must be a number from 1 to 256");
          free(originals);
          return MV_EXIT_CONFIG;
        }
        break;
      }
      case 'h': usage(stdout); free(originals); return MV_EXIT_OK;
      default: usage(stderr); free(originals); return MV_EXIT_CONFIG;
    }
  }
  if (!noriginals || !out || optind < argc) {
    mv_cli_error(optind < argc ? "verify takes no other arguments (see medveil "
                                 "verify --help)"
                               : "verify needs --original and --deidentified "
                                 "(see medveil verify --help)");
    free(originals);
    return MV_EXIT_CONFIG;
  }
  for (int i = 0; i < noriginals; i++)
    if (access(originals[i], F_OK) != 0) {
      mv_cli_error("--original %s: no such file or folder", originals[i]);
      free(originals);
      return MV_EXIT_CONFIG;
    }
  if (access(out, F_OK) != 0) {
    mv_cli_error("--deidentified %s: no such folder", out);
    free(originals);
    return MV_EXIT_CONFIG;
  }
  char out_abs[4096];
  mv_abspath(out, out_abs, sizeof out_abs);
  mv_paths paths;
  mv_registry *reg = mv_cli_load_plugins(&paths);
  if (!reg) {
    free(originals);
    return MV_EXIT_CONFIG;
  }
  mv_policy_env env;
  mv_policy *policy = mv_cli_load_policy(&paths, reg, rules, &env);
  if (!policy) {
    mv_registry_free(reg);
    free(originals);
    return MV_EXIT_CONFIG;
  }
  int rc = mv_cli_verify(reg, policy, originals, noriginals, out_abs, report,
                         ocr, strict_dates, NULL, 0, (int)jobs, quiet);
  mv_policy_free(policy);
  mv_registry_free(reg);
  free(originals);
  return rc;
}
