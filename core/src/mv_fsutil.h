/* mv_fsutil.h - file system helpers: directories, atomic placement, paths. */
#ifndef MV_FSUTIL_H
#define MV_FSUTIL_H

#include <stddef.h>

/* mkdir -p (mode 0755). Returns 0 or -1 with errno. */
int mv_mkdirs(const char *path);
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
