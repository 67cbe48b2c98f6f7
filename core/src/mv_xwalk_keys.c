/* mv_xwalk_keys.c - the crosswalk recipient's key pair (libsodium box
 * keys): PREFIX.pub for the runner, PREFIX.key for the lookup office. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "medveil/errors.h"
#include "mv_crosswalk.h"
#include "mv_keys.h"

#define PUB_MAGIC "medveil-recipient-public-v1 "
#define SEC_MAGIC "medveil-recipient-secret-v1 "
#define SITE_MAGIC "medveil-key-v1 "

void mv_xwalk_fingerprint(const uint8_t pk[32],
                          char out[MV_XWALK_FP_LEN + 1]) {
  static const char purpose[] = "medveil-recipient-v1";
  uint8_t h[crypto_generichash_BYTES_MIN];
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof h);
  crypto_generichash_update(&st, (const uint8_t *)purpose, sizeof purpose);
  crypto_generichash_update(&st, pk, 32);
  crypto_generichash_final(&st, h, sizeof h);
  sodium_bin2hex(out, MV_XWALK_FP_LEN + 1, h, MV_XWALK_FP_LEN / 2);
}

int mv_xwalk_keygen(const char *prefix, char fp[MV_XWALK_FP_LEN + 1],
                    char *err, size_t errlen) {
  if (sodium_init() < 0) {
    snprintf(err, errlen, "libsodium failed to initialise");
    return MV_EKEY;
  }
  char pub_path[4096], sec_path[4096];
  if (!prefix[0] ||
      snprintf(pub_path, sizeof pub_path, "%s.pub", prefix) >=
          (int)sizeof pub_path ||
      snprintf(sec_path, sizeof sec_path, "%s.key", prefix) >=
          (int)sizeof sec_path) {
    snprintf(err, errlen, "recipient prefix is empty or too long");
    return MV_EINVAL;
  }
  /* Check both first, so a refusal leaves nothing behind. */
  struct stat st;
  const char *paths[2] = {sec_path, pub_path};
  for (int i = 0; i < 2; i++)
    if (lstat(paths[i], &st) == 0) {
      snprintf(err, errlen,
               "%s: cannot create key file: it already exists (refusing "
               "to overwrite)", paths[i]);
      return MV_EIO;
    }
  uint8_t pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
  crypto_box_keypair(pk, sk);
  char hex[65], line[128];
  sodium_bin2hex(hex, sizeof hex, sk, sizeof sk);
  int n = snprintf(line, sizeof line, "%s%s\n", SEC_MAGIC, hex);
  int rc = mv_keyfile_write_new(sec_path, line, (size_t)n, 0600, err, errlen);
  sodium_memzero(sk, sizeof sk);
  sodium_memzero(hex, sizeof hex);
  sodium_memzero(line, sizeof line);
  if (rc != MV_OK) return rc;
  sodium_bin2hex(hex, sizeof hex, pk, sizeof pk);
  n = snprintf(line, sizeof line, "%s%s\n", PUB_MAGIC, hex);
  rc = mv_keyfile_write_new(pub_path, line, (size_t)n, 0644, err, errlen);
  if (rc != MV_OK) {
    unlink(sec_path); /* a secret key without its public half is useless */
    return rc;
  }
  mv_xwalk_fingerprint(pk, fp);
  return MV_OK;
}

static int parse_hex32(const char *buf, const char *magic, uint8_t out[32]) {
  size_t m = strlen(magic), bin_len = 0;
  if (strncmp(buf, magic, m) != 0) return -1;
  const char *end = NULL;
  if (sodium_hex2bin(out, 32, buf + m, strlen(buf + m), NULL, &bin_len,
                     &end) != 0 || bin_len != 32)
    return -1;
  if (strcmp(end, "\n") != 0 && strcmp(end, "\r\n") != 0 && *end) return -1;
  return 0;
}

int mv_xwalk_load_public(const char *path, mv_xwalk_pub *pub, char *err,
                         size_t errlen) {
  if (sodium_init() < 0) {
    snprintf(err, errlen, "libsodium failed to initialise");
    return MV_EKEY;
  }
  char buf[256];
  int rc = mv_keyfile_read(path, 0, buf, sizeof buf, NULL, err, errlen);
  if (rc != MV_OK) return rc;
  if (strncmp(buf, SEC_MAGIC, strlen(SEC_MAGIC)) == 0) {
    sodium_memzero(buf, sizeof buf);
    snprintf(err, errlen,
             "%s is a recipient SECRET key: the run takes only the public "
             "key (the .pub file); keep the .key file with the lookup "
             "office, off this machine", path);
    return MV_EKEY;
  }
  rc = parse_hex32(buf, PUB_MAGIC, pub->pk);
  int site = strncmp(buf, SITE_MAGIC, strlen(SITE_MAGIC)) == 0;
  sodium_memzero(buf, sizeof buf);
  if (rc != 0) {
    snprintf(err, errlen,
             "%s: not a recipient public key%s (make a pair with: medveil "
             "keygen --recipient PREFIX)", path,
             site ? " (this is a site key)" : "");
    return MV_EKEY;
  }
  mv_xwalk_fingerprint(pub->pk, pub->fp);
  return MV_OK;
}

int mv_xwalk_load_secret(const char *path, mv_xwalk_secret *sec, char *err,
                         size_t errlen) {
  if (sodium_init() < 0) {
    snprintf(err, errlen, "libsodium failed to initialise");
    return MV_EKEY;
  }
  char buf[256];
  unsigned mode = 0;
  int rc = mv_keyfile_read(path, 0, buf, sizeof buf, &mode, err, errlen);
  if (rc != MV_OK) return rc;
  int is_pub = strncmp(buf, PUB_MAGIC, strlen(PUB_MAGIC)) == 0;
  /* A public half given by mistake gets its own message below. */
  if (!is_pub && (rc = mv_keyfile_private(path, mode, err, errlen)) != MV_OK) {
    sodium_memzero(buf, sizeof buf);
    return rc;
  }
  rc = parse_hex32(buf, SEC_MAGIC, sec->sk);
  sodium_memzero(buf, sizeof buf);
  if (rc != 0) {
    mv_xwalk_secret_wipe(sec);
    snprintf(err, errlen, "%s: not a recipient secret key%s", path,
             is_pub ? " (this is the public half; lookup needs the .key "
                      "file)"
                    : " (make a pair with: medveil keygen --recipient "
                      "PREFIX)");
    return MV_EKEY;
  }
  crypto_scalarmult_base(sec->pk, sec->sk);
  mv_xwalk_fingerprint(sec->pk, sec->fp);
  return MV_OK;
}

void mv_xwalk_secret_wipe(mv_xwalk_secret *sec) {
  sodium_memzero(sec, sizeof *sec);
}
