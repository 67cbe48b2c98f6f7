/* mv_archive.h - archives (zip, tar, tar.gz/.bz2/.xz/.zst, 7z) as inputs.
 *
 * An archive is recognised by its content (signature in the first bytes,
 * then libarchive reads it), never by its name. Members are streamed one at
 * a time into a temp file with a generated name (never the member's own
 * name, which may carry PHI or a path trick), handed to the caller, and
 * deleted. Hostile archives are bounded: nesting depth, member count,
 * total and per-member uncompressed size, and expansion ratio (bombs).
 * Every member ends as a call to `member` or `reject`. See docs/archives.md. */
#ifndef MV_ARCHIVE_H
#define MV_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mv_archive_limits {
  int max_depth;               /* archives inside archives (1 = no nesting) */
  unsigned long max_members;   /* entries per top-level archive, nested incl. */
  uint64_t max_total;          /* uncompressed bytes per top-level archive */
  uint64_t max_member;         /* uncompressed bytes per member */
  double max_ratio;            /* member bytes / compressed bytes read ... */
  uint64_t ratio_floor;        /* ... checked once a member is this large */
} mv_archive_limits;

/* Defaults (depth 2, 100000 members, 64 GiB total, 4 GiB per member,
 * ratio 200 above 8 MiB), overridden by MEDVEIL_ARCHIVE_LIMITS, e.g.
 * "depth=2,members=50,total=10M,member=1M,ratio=100,ratio_floor=64K".
 * Returns 0, or -1 with a reason when the variable is malformed. */
int mv_archive_limits_init(mv_archive_limits *l, char *err, size_t errlen);

/* Whether these first bytes of a file are an archive container this module
 * may read (zip, 7z, ustar tar with a valid header checksum, or gzip,
 * bzip2, xz, zstd compressed data: see mv_archive_file_is_archive). */
int mv_archive_sniff(const uint8_t *head, size_t n);

/* Whether the file is an archive: mv_archive_sniff on its head, and for
 * compressed data, a tar header at the start of the decompressed stream
 * (a gzip that is not a tar, e.g. a .nii.gz, is left to the format
 * plugins). */
int mv_archive_file_is_archive(const char *path);

typedef struct mv_archive_sink {
  void *ud;
  /* A member to process as an ordinary input: `file` is a temp file that
   * is removed after the call; `shown` is "archive!member" for reports. */
  void (*member)(void *ud, const char *file, const char *shown);
  /* A member (or the archive itself, or its unread rest) refused. */
  void (*reject)(void *ud, const char *shown, unsigned long long bytes,
                 const char *reason);
} mv_archive_sink;

/* Expand `path` (shown as `shown`). Temp files are named
 * `<tmp_prefix><n>` (the caller makes the prefix unique per worker).
 * Members that are archives themselves are expanded in turn up to
 * max_depth. Returns the number of members handed to `member`. */
unsigned long mv_archive_expand(const char *path, const char *shown,
                                const char *tmp_prefix,
                                const mv_archive_limits *lim,
                                const mv_archive_sink *sink);

#endif
