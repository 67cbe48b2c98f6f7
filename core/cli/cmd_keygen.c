/* cmd_keygen.c - medveil keygen FILE */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mv_keys.h"

int mv_cmd_keygen(int argc, char **argv) {
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    puts("usage: medveil keygen FILE\n"
         "\n"
         "Write a new random 256-bit site key to FILE (mode 0600; an existing\n"
         "file is never overwritten). Every pseudonym, UID and date offset is\n"
         "derived from this key: keep it secret, back it up, and use the same\n"
         "key for every batch whose outputs must stay consistent.");
    return MV_EXIT_OK;
  }
  if (argc != 2 || argv[1][0] == '-') {
    mv_cli_error("usage: medveil keygen FILE");
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
