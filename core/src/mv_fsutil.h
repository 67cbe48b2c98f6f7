/* mv_fsutil.h - file system helpers: directories, atomic placement, paths. */
#ifndef MV_FSUTIL_H
#define MV_FSUTIL_H

#include <stddef.h>

/* mkdir -p (mode 0755). Returns 0 or -1 with errno. A file where the last
 * folder should be passes here (one call on the hot path) and fails at
 * the first use. */
int mv_mkdirs(const char *path);
/* mkdir -p with `mode` for the folders it creates (0700: records). */
int mv_mkdirs_mode(const char *path, unsigned mode);
/* mkdir -p of the folder `file` lives in; that folder's path goes into
 * dir (n bytes), for messages. */
int mv_mkdirs_for_file(const char *file, unsigned mode, char *dir,
                       size_t n);
/* Move tmp to dst unless dst exists. Returns 0 when placed, 1 when dst
 * already existed with identical bytes (tmp removed), 2 when it existed
 * with other bytes (tmp kept for the caller), -1 on error (tmp removed). */
int mv_place_file(const char *tmp, const char *dst);
/* The first hexlen (<= 64) hex digits of the SHA-256 of a file's bytes. */
int mv_file_digest_hex(const char *path, char *out, size_t hexlen);
/* Absolute, normalised form of a path that may not exist yet (existing
 * leading part resolved through symlinks). Returns 0 or -1. */
int mv_abspath(const char *path, char *out, size_t n);
/* Whether `inner` is `outer` or below it (both from mv_abspath). */
int mv_path_within(const char *inner, const char *outer);

#endif
