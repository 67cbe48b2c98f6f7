/* main.c - the medveil command: dispatch to subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
  fputs(
      "usage: medveil COMMAND [options]\n"
      "\n"
      "De-identify medical images with keyed pseudonyms and Lua policies.\n"
      "\n"
      "commands:\n"
      "  run      de-identify files and folders into an output tree\n"
      "  keygen   write a new site key\n"
      "  rules    check a policy file (rules check FILE)\n"
      "  inspect  show a file's attributes as a policy sees them\n"
      "  detect   show where the pixel detectors find text (no text printed)\n"
      "  review   list, approve or reject objects held for review\n"
      "  verify   leak check: search output for the originals' identifying values\n"
      "  crosswalk  look up or export the sealed crosswalk (secret key)\n"
      "  audit    verify the hash-chained audit log (audit verify LOG)\n"
      "  jobs     list and show recorded runs (jobs list, jobs show ID)\n"
      "  version  print the version\n"
      "\n"
      "'medveil COMMAND --help' explains each command.\n",
      f);
}

int main(int argc, char **argv) {
  /* One OCR thread per worker: libgomp reads this when a plugin loads it,
   * and workers already use every core. */
  setenv("OMP_THREAD_LIMIT", "1", 0);
  if (argc < 2) {
    usage(stderr);
    return MV_EXIT_CONFIG;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "run") == 0) return mv_cmd_run(argc - 1, argv + 1);
  if (strcmp(cmd, "keygen") == 0) return mv_cmd_keygen(argc - 1, argv + 1);
  if (strcmp(cmd, "rules") == 0) return mv_cmd_rules(argc - 1, argv + 1);
  if (strcmp(cmd, "inspect") == 0) return mv_cmd_inspect(argc - 1, argv + 1);
  if (strcmp(cmd, "detect") == 0) return mv_cmd_detect(argc - 1, argv + 1);
  if (strcmp(cmd, "review") == 0) return mv_cmd_review(argc - 1, argv + 1);
  if (strcmp(cmd, "crosswalk") == 0) return mv_cmd_crosswalk(argc - 1, argv + 1);
  if (strcmp(cmd, "audit") == 0) return mv_cmd_audit(argc - 1, argv + 1);
  if (strcmp(cmd, "jobs") == 0) return mv_cmd_jobs(argc - 1, argv + 1);
  if (strcmp(cmd, "verify") == 0) return mv_cmd_verify(argc - 1, argv + 1);
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("medveil %s\n", MV_VERSION);
    return MV_EXIT_OK;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
      strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return MV_EXIT_OK;
  }
  mv_cli_error("unknown command '%s'", cmd);
  usage(stderr);
  return MV_EXIT_CONFIG;
}
