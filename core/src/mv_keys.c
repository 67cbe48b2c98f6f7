/* mv_keys.c - key files and keyed derivations (libsodium HMAC-SHA256). */
#include "mv_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "medveil/errors.h"

#define KEY_MAGIC "medveil-key-v1 "

int mv_keyfile_write_new(const char *path, const char *line, size_t n,
                         unsigned mode, char *err, size_t errlen) {
  /* never over an existing file or symlink; exactly `mode` whatever the
   * umask; nothing left behind on failure */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0600);
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot create key file: %s", path,
             errno == EEXIST ? "it already exists (refusing to overwrite)"
                             : strerror(errno));
    return MV_EIO;
  }
  ssize_t w = write(fd, line, n);
  if (w != (ssize_t)n || fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
    int e = errno;
    close(fd);
    unlink(path);
    snprintf(err, errlen, "%s: cannot write key file: %s", path,
             strerror(w >= 0 && w != (ssize_t)n ? EIO : e));
    return MV_EIO;
  }
  if (close(fd) != 0) {
    snprintf(err, errlen, "%s: cannot write key file: %s", path,
             strerror(errno));
    unlink(path);
    return MV_EIO;
  }
  return MV_OK;
}

int mv_keyfile_private(const char *path, unsigned mode, char *err,
                       size_t errlen) {
  /* Like ssh: a key others can read is no longer secret. */
  if (!(mode & 077)) return MV_OK;
  snprintf(err, errlen,
           "%s: key file is accessible by other users (mode %03o); "
           "run chmod 600",
           path, mode & 0777);
  return MV_EPERM;
}

int mv_keyfile_read(const char *path, int secret, char *buf, size_t n,
                    unsigned *mode, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot open key file: %s", path,
             strerror(errno));
    return MV_EKEY;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    snprintf(err, errlen, "%s: key file is not a regular file", path);
    return MV_EKEY;
  }
  if (mode) *mode = (unsigned)st.st_mode;
  int rc = secret ? mv_keyfile_private(path, (unsigned)st.st_mode, err, errlen)
                  : MV_OK;
  if (rc != MV_OK) {
    close(fd);
    return rc;
  }
  ssize_t r = read(fd, buf, n - 1);
  close(fd);
  if (r < 0) r = 0;
  buf[r] = 0;
  return MV_OK;
}

int mv_key_generate(const char *path, char *err, size_t errlen) {
  if (sodium_init() < 0) {
    snprintf(err, errlen, "libsodium failed to initialise");
    return MV_EKEY;
  }
  uint8_t key[MV_KEY_BYTES];
  randombytes_buf(key, sizeof key);
  char hex[MV_KEY_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, key, sizeof key);
  sodium_memzero(key, sizeof key);
  char line[sizeof KEY_MAGIC + sizeof hex + 2];
  int n = snprintf(line, sizeof line, "%s%s\n", KEY_MAGIC, hex);
  int rc = mv_keyfile_write_new(path, line, (size_t)n, 0600, err, errlen);
  sodium_memzero(hex, sizeof hex);
  sodium_memzero(line, sizeof line);
  return rc;
}

int mv_key_load(const char *path, mv_key *key, char *err, size_t errlen) {
  if (sodium_init() < 0) {
    snprintf(err, errlen, "libsodium failed to initialise");
    return MV_EKEY;
  }
  char buf[256];
  int rc = mv_keyfile_read(path, 1, buf, sizeof buf, NULL, err, errlen);
  if (rc != MV_OK) return rc;
  size_t n = strlen(buf), magic = strlen(KEY_MAGIC);
  const char *hex_end = NULL;
  size_t bin_len = 0;
  rc = -1;
  if (n >= magic && memcmp(buf, KEY_MAGIC, magic) == 0)
    rc = sodium_hex2bin(key->bytes, sizeof key->bytes, buf + magic,
                        n - magic, " \r\n", &bin_len, &hex_end);
  sodium_memzero(buf, sizeof buf);
  if (rc != 0 || bin_len != MV_KEY_BYTES) {
    snprintf(err, errlen,
             "%s: not a medveil key file (make one with: medveil keygen FILE)",
             path);
    return MV_EKEY;
  }
  return MV_OK;
}

void mv_key_fingerprint(const mv_key *key, char out[17]) {
  uint8_t h[32];
  mv_key_hmac(key, "fingerprint", "", 0, h);
  sodium_bin2hex(out, 17, h, 8);
}

void mv_key_hmac(const mv_key *key, const char *purpose, const void *data,
                 size_t len, uint8_t out[32]) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key->bytes, sizeof key->bytes);
  /* The separator keeps purpose "ab"+data "c" apart from "a"+"bc". */
  crypto_auth_hmacsha256_update(&st, (const uint8_t *)purpose,
                                strlen(purpose) + 1);
  crypto_auth_hmacsha256_update(&st, data, len);
  crypto_auth_hmacsha256_final(&st, out);
}

/* DICOM pads strings with spaces (UI with NUL): they are not part of the
 * value, and must not make two spellings of one value diverge. */
static size_t trimmed_len(const char *s, size_t len) {
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\0')) len--;
  return len;
}

void mv_derive_uid(const mv_key *key, const char *uid, size_t len,
                   char out[64]) {
  uint8_t h[32];
  mv_key_hmac(key, "uid", uid, trimmed_len(uid, len), h);
  unsigned __int128 v = 0;
  for (int i = 0; i < 16; i++) v = (v << 8) | h[i];
  char digits[40];
  int n = 0;
  do {
    digits[n++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v);
  memcpy(out, "2.25.", 5);
  for (int i = 0; i < n; i++) out[5 + i] = digits[n - 1 - i];
  out[5 + n] = 0;
}

void mv_derive_pseudonym(const mv_key *key, const char *prefix,
                         const char *value, size_t len, char *out,
                         size_t outlen) {
  /* Crockford's base32: no I, L, O, U, so codes read back unambiguously. */
  static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  uint8_t h[32];
  mv_key_hmac(key, "pseudonym", value, trimmed_len(value, len), h);
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | h[i];
  char code[13];
  for (int i = 0; i < 12; i++) {
    code[i] = alphabet[v & 31];
    v >>= 5;
  }
  code[12] = 0;
  snprintf(out, outlen, "%s%s", prefix ? prefix : "", code);
}

void mv_derive_hash(const mv_key *key, const char *value, size_t len,
                    int hexlen, char *out) {
  uint8_t h[32];
  char hex[65];
  mv_key_hmac(key, "hash", value, trimmed_len(value, len), h);
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  if (hexlen < 1) hexlen = 1;
  if (hexlen > 64) hexlen = 64;
  memcpy(out, hex, (size_t)hexlen);
  out[hexlen] = 0;
}

long mv_derive_day_offset(const mv_key *key, const char *who, size_t len,
                          long min_days, long max_days) {
  if (max_days < min_days) {
    long t = max_days;
    max_days = min_days;
    min_days = t;
  }
  uint8_t h[32];
  mv_key_hmac(key, "date-offset", who, trimmed_len(who, len), h);
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | h[i];
  uint64_t span = (uint64_t)(max_days - min_days) + 1;
  return min_days + (long)(v % span);
}

int mv_uid_is_standard(const char *uid, size_t len) {
  static const char root[] = "1.2.840.10008.";
  return len >= sizeof root - 1 && memcmp(uid, root, sizeof root - 1) == 0;
}
