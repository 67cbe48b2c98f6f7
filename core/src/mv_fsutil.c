/* mv_fsutil.c - directories, no-replace renames and path arithmetic. */
#include "mv_fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mv_mkdirs(const char *path) { return mv_mkdirs_mode(path, 0755); }

int mv_mkdirs_mode(const char *path, unsigned mode) {
  /* Most outputs land in folders that exist already: one call. Otherwise
   * create the missing parent first, so each missing level costs one
   * failed and one successful call, never a walk from the root. */
  if (mkdir(path, (mode_t)mode) == 0 || errno == EEXIST) return 0;
  if (errno != ENOENT) return -1;
  char parent[PATH_MAX];
  if (snprintf(parent, sizeof parent, "%s", path) >= (int)sizeof parent) {
    errno = ENAMETOOLONG;
    return -1;
  }
  char *slash = strrchr(parent, '/');
  while (slash && slash > parent && slash[1] == 0) { /* trailing slashes */
    *slash = 0;
    slash = strrchr(parent, '/');
  }
  if (!slash || slash == parent) return -1;
  *slash = 0;
  if (mv_mkdirs_mode(parent, mode) != 0) return -1;
  return mkdir(path, (mode_t)mode) == 0 || errno == EEXIST ? 0 : -1;
}

int mv_mkdirs_for_file(const char *file, unsigned mode, char *dir,
                       size_t n) {
  if (!dir || n == 0 || snprintf(dir, n, "%s", file) >= (int)n) {
    errno = ENAMETOOLONG;
    return -1;
  }
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) { /* the current folder, or / */
    snprintf(dir, n, "%s", slash ? "/" : ".");
    return 0;
  }
  *slash = 0;
  return mv_mkdirs_mode(dir, mode);
}

static int same_bytes(const char *a, const char *b) {
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int same = fa && fb;
  char ba[65536], bb[65536];
  while (same) {
    size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
    if (na != nb || memcmp(ba, bb, na) != 0) same = 0;
    if (na == 0) break;
  }
  if (fa) fclose(fa);
  if (fb) fclose(fb);
  return same;
}

/* OpenSSL's SHA-256, not libsodium's: it uses the CPU's SHA extensions,
 * about 3x faster here, and every input and output of a run is hashed for
 * the records. */
int mv_file_digest_hex(const char *path, char *out, size_t hexlen) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return -1;
  }
  unsigned char buf[65536], h[EVP_MAX_MD_SIZE];
  unsigned hl = 0;
  size_t n;
  int bad = 0;
  while (!bad && (n = fread(buf, 1, sizeof buf, f)) > 0)
    bad = EVP_DigestUpdate(ctx, buf, n) != 1;
  bad |= ferror(f);
  fclose(f);
  if (!bad) bad = EVP_DigestFinal_ex(ctx, h, &hl) != 1 || hl != 32;
  EVP_MD_CTX_free(ctx);
  if (bad) return -1;
  if (hexlen > 64) hexlen = 64;
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, h, 32);
  memcpy(out, hex, hexlen);
  out[hexlen] = 0;
  return 0;
}

int mv_place_file(const char *tmp, const char *dst) {
  /* renameat2(RENAME_NOREPLACE): two inputs that map to one output must
   * not silently overwrite each other. */
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) return 0;
  int err = errno;
  if (err == EEXIST) {
    if (!same_bytes(tmp, dst)) return 2; /* the caller decides; tmp stays */
    unlink(tmp);
    return 1;
  }
  if (err == EINVAL || err == ENOSYS) {
    /* File systems without RENAME_NOREPLACE: link() is no-replace too. */
    if (link(tmp, dst) == 0) {
      unlink(tmp);
      return 0;
    }
    if (errno == EEXIST) {
      if (!same_bytes(tmp, dst)) return 2;
      unlink(tmp);
      return 1;
    }
  }
  unlink(tmp);
  errno = err;
  return -1;
}

int mv_abspath(const char *path, char *out, size_t n) {
  char work[PATH_MAX], rest[PATH_MAX] = "";
  if (path[0] == '/') {
    snprintf(work, sizeof work, "%s", path);
  } else {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return -1;
    snprintf(work, sizeof work, "%s/%s", cwd, path);
  }
  /* Resolve the longest existing prefix, keep the rest as written. */
  for (;;) {
    char resolved[PATH_MAX];
    if (realpath(work, resolved)) {
      snprintf(out, n, "%s%s%s", resolved, rest[0] ? "/" : "", rest);
      break;
    }
    char *slash = strrchr(work, '/');
    if (!slash || slash == work) {
      snprintf(out, n, "%s%s%s", work, rest[0] ? "/" : "", rest);
      break;
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s%s%s", slash + 1, rest[0] ? "/" : "", rest);
    snprintf(rest, sizeof rest, "%s", tmp);
    *slash = 0;
  }
  /* Drop "." and ".." components of the unresolved tail. */
  char norm[PATH_MAX] = "";
  size_t len = 0;
  char copy[PATH_MAX];
  snprintf(copy, sizeof copy, "%s", out);
  for (char *save, *tok = strtok_r(copy, "/", &save); tok;
       tok = strtok_r(NULL, "/", &save)) {
    if (strcmp(tok, ".") == 0 || !*tok) continue;
    if (strcmp(tok, "..") == 0) {
      char *slash = strrchr(norm, '/');
      if (slash) *slash = 0;
      len = strlen(norm);
      continue;
    }
    len += (size_t)snprintf(norm + len, sizeof norm - len, "/%s", tok);
  }
  snprintf(out, n, "%s", norm[0] ? norm : "/");
  return 0;
}

int mv_path_within(const char *inner, const char *outer) {
  size_t n = strlen(outer);
  if (n == 1 && outer[0] == '/') return 1;
  return strncmp(inner, outer, n) == 0 && (inner[n] == 0 || inner[n] == '/');
}
