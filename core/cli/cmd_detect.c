/* cmd_detect.c - medveil detect: run a policy's pixel detectors on files
 * and print where they find text, one JSON line per plane. The text itself
 * is never printed (it is PHI); boxes, confidences and labels are. Used to
 * tune device rules and by the OCR benchmark. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mv_json.h"
#include "mv_pixels.h"

static void usage(FILE *f) {
  fputs(
      "usage: medveil detect --rules NAME|FILE FILE...\n"
      "\n"
      "Run the policy's pixel detectors (pixels.detect) on every plane of each\n"
      "FILE and print one JSON line per plane: input, plane, milliseconds and\n"
      "the boxes (x, y, w, h, confidence, flags, line, label). Recognised text is\n"
      "not printed.\n",
      f);
}

typedef struct plane_out {
  long plane; /* current plane, -1 before the first box */
  int nboxes;
} plane_out;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int print_box(void *ud, const mv_box *b) {
  plane_out *p = ud;
  if ((long)b->plane != p->plane) {
    if (p->plane >= 0) fputs("]}\n", stdout);
    printf("{\"plane\": %u, \"boxes\": [", b->plane);
    p->plane = b->plane;
    p->nboxes = 0;
  }
  printf("%s{\"x\": %d, \"y\": %d, \"w\": %d, \"h\": %d, \"confidence\": %.2f, "
         "\"flags\": %u, \"line\": %u, \"label\": ",
         p->nboxes++ ? ", " : "", b->r.x, b->r.y, b->r.w, b->r.h,
         b->confidence, b->flags, b->line);
  mv_json_string(stdout, b->label);
  fputc('}', stdout);
  return 0;
}

int mv_cmd_detect(int argc, char **argv) {
  static const struct option opts[] = {
      {"rules", required_argument, NULL, 'r'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *rules = NULL;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1;) {
    switch (c) {
      case 'r': rules = optarg; break;
      case 'h': usage(stdout); return MV_EXIT_OK;
      default: usage(stderr); return MV_EXIT_CONFIG;
    }
  }
  if (!rules || optind >= argc) {
    usage(stderr);
    return MV_EXIT_CONFIG;
  }
  mv_paths paths;
  mv_registry *r = mv_cli_load_plugins(&paths);
  if (!r) return MV_EXIT_CONFIG;
  mv_policy_env env;
  mv_policy *policy = mv_cli_load_policy(&paths, r, rules, &env);
  if (!policy) {
    mv_registry_free(r);
    return MV_EXIT_CONFIG;
  }
  char err[1024] = "";
  mv_pixels *px = NULL;
  if (mv_pixels_new(r, mv_policy_pixel_settings(policy), &px, err,
                    sizeof err) != MV_OK) {
    mv_cli_error("%s", err);
    mv_policy_free(policy);
    mv_registry_free(r);
    return MV_EXIT_CONFIG;
  }
  int failed = 0;
  for (int i = optind; i < argc; i++) {
    const mv_loaded *fmt = NULL;
    mv_doc *doc = NULL;
    if (mv_cli_open_file(r, argv[i], &fmt, &doc) != 0) {
      failed++;
      continue;
    }
    /* One object per line group: a header line, then its planes. */
    printf("{\"input\": ");
    mv_json_string(stdout, argv[i]);
    printf(", \"format\": \"%s\"}\n", fmt->desc->name);
    plane_out po = {.plane = -1};
    double t0 = now_ms();
    err[0] = 0;
    int rc = mv_pixels_detect_only(px, fmt->desc->format, doc, print_box, &po,
                                   err, sizeof err);
    if (po.plane >= 0) fputs("]}\n", stdout);
    printf("{\"input\": ");
    mv_json_string(stdout, argv[i]);
    printf(", \"ms\": %.1f, \"status\": ", now_ms() - t0);
    mv_json_string(stdout, rc == MV_OK ? "ok" : err[0] ? err : mv_strerror(rc));
    puts("}");
    if (rc != MV_OK) failed++;
    fmt->desc->format->close(doc);
  }
  mv_pixels_free(px);
  mv_policy_free(policy);
  mv_registry_free(r);
  return failed ? MV_EXIT_REJECTED : MV_EXIT_OK;
}
