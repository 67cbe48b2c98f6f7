/* cmd_review.c - medveil review list|approve|reject: the person's side of
 * the review queue. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mv_fsutil.h"
#include "mv_review.h"

static void usage(FILE *f) {
  fputs(
      "usage: medveil review list    (--review-dir DIR | --report FILE) [--json]\n"
      "       medveil review approve (--review-dir DIR | --report FILE) --out DIR\n"
      "                              [--note TEXT] ID...\n"
      "       medveil review reject  (--review-dir DIR | --report FILE)\n"
      "                              [--note TEXT] ID...\n"
      "\n"
      "Objects whose pixel outcome was uncertain are held in the review folder\n"
      "with a before/after preview (ID/preview.png). Look at it, then approve\n"
      "(the object moves into OUT at the path it would have had) or reject\n"
      "(it is deleted). Every decision is appended to DIR/decisions.jsonl.\n"
      "\n"
      "  --review-dir DIR  the review folder of a run\n"
      "  --report FILE     or the run's report: the folder beside it (.review)\n"
      "  --out DIR         the run's output folder (approve)\n"
      "  --note TEXT       a remark recorded with the decision (no PHI)\n"
      "  --json            list as JSON\n"
      "\n"
      "Exit status: 0 done, 1 some ID failed, 2 usage error.\n",
      f);
}

int mv_cmd_review(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? MV_EXIT_CONFIG : MV_EXIT_OK;
  }
  const char *verb = argv[1];
  int list = !strcmp(verb, "list"), approve = !strcmp(verb, "approve"),
      reject = !strcmp(verb, "reject");
  if (!list && !approve && !reject) {
    mv_cli_error("review: unknown action '%s' (list, approve, reject)", verb);
    return MV_EXIT_CONFIG;
  }
  static const struct option opts[] = {
      {"review-dir", required_argument, NULL, 'R'},
      {"report", required_argument, NULL, 'p'},
      {"out", required_argument, NULL, 'o'},
      {"note", required_argument, NULL, 'n'},
      {"json", no_argument, NULL, 'J'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *dir = NULL, *report = NULL, *out = NULL, *note = NULL;
  int json = 0;
  optind = 1;
  for (int c; (c = getopt_long(argc - 1, argv + 1, "R:p:o:n:Jh", opts, NULL)) != -1;) {
    switch (c) {
      case 'R': dir = optarg; break;
      case 'p': report = optarg; break;
      case 'o': out = optarg; break;
      case 'n': note = optarg; break;
      case 'J': json = 1; break;
      case 'h': usage(stdout); return MV_EXIT_OK;
      default: usage(stderr); return MV_EXIT_CONFIG;
    }
  }
  if (!dir && !report) {
    mv_cli_error("review %s needs --review-dir DIR or --report FILE", verb);
    return MV_EXIT_CONFIG;
  }
  char dir_abs[4096], report_abs[4096] = "";
  if (report) mv_abspath(report, report_abs, sizeof report_abs);
  mv_cli_review_dir(dir, report_abs, dir_abs, sizeof dir_abs);
  char err[1024];
  if (list) {
    int n = mv_review_list(dir_abs, stdout, json, err, sizeof err);
    if (n < 0) {
      mv_cli_error("%s", err);
      return MV_EXIT_CONFIG;
    }
    if (!json) fprintf(stderr, "medveil: %d held for review in %s\n", n, dir_abs);
    return MV_EXIT_OK;
  }
  char **ids = argv + 1 + optind;
  int nids = argc - 1 - optind;
  if (nids < 1) {
    mv_cli_error("review %s needs at least one ID (see 'medveil review list')",
                 verb);
    return MV_EXIT_CONFIG;
  }
  char out_abs[4096] = "";
  if (approve) {
    if (!out) {
      mv_cli_error("review approve needs --out DIR (the run's output folder)");
      return MV_EXIT_CONFIG;
    }
    mv_abspath(out, out_abs, sizeof out_abs);
    if (mv_path_within(out_abs, dir_abs) || mv_path_within(dir_abs, out_abs)) {
      mv_cli_error("the output folder and the review folder overlap");
      return MV_EXIT_CONFIG;
    }
  }
  int failed = 0;
  for (int i = 0; i < nids; i++) {
    int rc = mv_review_decide(dir_abs, ids[i], approve, out_abs, note, err,
                              sizeof err);
    if (rc != 0) {
      mv_cli_error("%s", err);
      failed++;
    } else {
      printf("%s %s\n", ids[i], approve ? "approved" : "rejected");
    }
  }
  return failed ? MV_EXIT_REJECTED : MV_EXIT_OK;
}
