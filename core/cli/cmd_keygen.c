/* cmd_keygen.c - medveil keygen FILE | keygen --recipient PREFIX */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mv_crosswalk.h"
#include "mv_keys.h"

static const char usage_line[] =
    "usage: medveil keygen FILE\n"
    "       medveil keygen --recipient PREFIX";

static int recipient_keygen(const char *prefix) {
  char err[1024], fp[MV_XWALK_FP_LEN + 1];
  if (mv_xwalk_keygen(prefix, fp, err, sizeof err) != 0) {
    mv_cli_error("%s", err);
    return MV_EXIT_CONFIG;
  }
  printf("wrote %s.pub (public: give it to whoever runs medveil)\n"
         "wrote %s.key (secret: keep it offline with the lookup office)\n"
         "recipient fingerprint %s\n",
         prefix, prefix, fp);
  return MV_EXIT_OK;
}

int mv_cmd_keygen(int argc, char **argv) {
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("%s\n", usage_line);
    puts("\n"
         "keygen FILE: write a new random 256-bit site key to FILE (mode 0600;\n"
         "an existing file is never overwritten). Every pseudonym, UID and date\n"
         "offset is derived from this key: keep it secret, back it up, and use\n"
         "the same key for every batch whose outputs must stay consistent.\n"
         "\n"
         "keygen --recipient PREFIX: write a crosswalk recipient key pair,\n"
         "PREFIX.pub (public, mode 0644: 'medveil run --recipient' seals with\n"
         "it) and PREFIX.key (secret, mode 0600: only 'medveil crosswalk'\n"
         "lookups need it; keep it off the machine that runs medveil). Neither\n"
         "file is ever overwritten. Prints the recipient fingerprint that every\n"
         "crosswalk line carries. See docs/keys.md.");
    return MV_EXIT_OK;
  }
  if (argc == 3 && strcmp(argv[1], "--recipient") == 0 && argv[2][0] &&
      argv[2][0] != '-')
    return recipient_keygen(argv[2]);
  if (argc == 2 && strncmp(argv[1], "--recipient=", 12) == 0 &&
      argv[1][12] && argv[1][12] != '-')
    return recipient_keygen(argv[1] + 12);
  if (argc != 2 || argv[1][0] == '-') {
    mv_cli_error("%s", usage_line);
    return MV_EXIT_CONFIG;
  }
  char err[1024];
  if (mv_key_generate(argv[1], err, sizeof err) != 0) {
    mv_cli_error("%s", err);
    return MV_EXIT_CONFIG;
  }
  mv_key key;
  if (mv_key_load(argv[1], &key, err, sizeof err) != 0) {
    mv_cli_error("%s", err);
    return MV_EXIT_CONFIG;
  }
  char fp[17];
  mv_key_fingerprint(&key, fp);
  printf("wrote %s (fingerprint %s)\n", argv[1], fp);
  return MV_EXIT_OK;
}
