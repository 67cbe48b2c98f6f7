/* mv_archive.c - archives as inputs: recognise, stream members through
 * generated temp names, refuse tricks and bombs. */
#include "mv_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
/* Small reads keep the compressed-bytes count (for the ratio check) close
 * to what a member really used. */
#define READ_BLOCK 16384

/* ---------------------------------------------------------------------- */
/* Limits.                                                                 */

static int parse_size(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || errno || *s == '-') return -1;
  uint64_t mul = 1;
  switch (toupper((unsigned char)*end)) {
    case 'K': mul = KiB; end++; break;
    case 'M': mul = MiB; end++; break;
    case 'G': mul = GiB; end++; break;
    case 'T': mul = 1024 * GiB; end++; break;
    default: break;
  }
  if (*end && *end != ',') return -1;
  if (v > UINT64_MAX / mul) return -1;
  *out = v * mul;
  return 0;
}

int mv_archive_limits_init(mv_archive_limits *l, char *err, size_t errlen) {
  l->max_depth = 2;
  l->max_members = 100000;
  l->max_total = 64 * GiB;
  l->max_member = 4 * GiB;
  l->max_ratio = 200;
  l->ratio_floor = 8 * MiB;
  const char *env = getenv("MEDVEIL_ARCHIVE_LIMITS");
  if (!env || !*env) return 0;
  for (const char *p = env; *p;) {
    const char *eq = strchr(p, '=');
    if (!eq) break;
    size_t klen = (size_t)(eq - p);
    uint64_t v;
    if (parse_size(eq + 1, &v) != 0) {
      snprintf(err, errlen, "MEDVEIL_ARCHIVE_LIMITS: bad value for %.*s",
               (int)klen, p);
      return -1;
    }
#define KEY(k) (klen == sizeof(k) - 1 && strncmp(p, k, klen) == 0)
    if (KEY("depth") && v >= 1 && v <= 16) l->max_depth = (int)v;
    else if (KEY("members") && v >= 1) l->max_members = (unsigned long)v;
    else if (KEY("total") && v >= 1) l->max_total = v;
    else if (KEY("member") && v >= 1) l->max_member = v;
    else if (KEY("ratio") && v >= 1) l->max_ratio = (double)v;
    else if (KEY("ratio_floor")) l->ratio_floor = v;
    else {
      snprintf(err, errlen, "MEDVEIL_ARCHIVE_LIMITS: unknown or out of range "
               "setting %.*s", (int)klen, p);
      return -1;
    }
#undef KEY
    const char *comma = strchr(eq, ',');
    p = comma ? comma + 1 : eq + strlen(eq);
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Recognising.                                                            */

static int tar_checksum_ok(const uint8_t *h) {
  unsigned long want = 0, sum = 0;
  int digits = 0;
  for (int i = 148; i < 156; i++) {
    if (h[i] >= '0' && h[i] <= '7') {
      want = want * 8 + (unsigned long)(h[i] - '0');
      digits++;
    } else if (h[i] != ' ' && h[i] != 0) {
      return 0;
    }
  }
  if (!digits) return 0;
  for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return sum == want;
}

int mv_archive_sniff(const uint8_t *h, size_t n) {
  if (n >= 4 && h[0] == 'P' && h[1] == 'K' &&
      ((h[2] == 3 && h[3] == 4) || (h[2] == 5 && h[3] == 6) ||
       (h[2] == 7 && h[3] == 8)))
    return 1; /* zip: local header, empty archive, spanned marker */
  if (n >= 6 && memcmp(h, "7z\xBC\xAF\x27\x1C", 6) == 0) return 1;
  if (n >= 3 && h[0] == 0x1F && h[1] == 0x8B && h[2] == 8) return 1;
  if (n >= 10 && memcmp(h, "BZh", 3) == 0 && h[3] >= '1' && h[3] <= '9' &&
      memcmp(h + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0)
    return 1;
  if (n >= 6 && memcmp(h, "\xFD" "7zXZ\0", 6) == 0) return 1;
  if (n >= 4 && memcmp(h, "\x28\xB5\x2F\xFD", 4) == 0) return 1;
  if (n >= 512 && memcmp(h + 257, "ustar", 5) == 0 && tar_checksum_ok(h))
    return 1;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Expanding.                                                              */

typedef struct expand_ctx {
  const mv_archive_limits *lim;
  const mv_archive_sink *sink;
  const char *tmp_prefix;
  unsigned long seq;
  unsigned long entries; /* seen, over the whole top-level archive */
  uint64_t total;        /* uncompressed bytes extracted, likewise */
  unsigned long handed;
  int stop;              /* give up the whole top-level archive */
} expand_ctx;

static void refuse(expand_ctx *c, const char *shown, unsigned long long bytes,
                   const char *reason) {
  c->sink->reject(c->sink->ud, shown, bytes, reason);
}

/* Why a member's name is refused, or NULL. Names are checked as written in
 * the archive: nothing is ever created under them, but a name that would
 * escape a folder is a sign of a hostile archive and is reported. */
static const char *bad_name(const char *name) {
  if (!name[0]) return "member has an empty name";
  if (name[0] == '/' || name[0] == '\\')
    return "member has an absolute path";
  if (isalpha((unsigned char)name[0]) && name[1] == ':')
    return "member has an absolute (drive) path";
  for (const char *p = name; *p;) {
    size_t len = strcspn(p, "/\\");
    if (len == 2 && p[0] == '.' && p[1] == '.')
      return "member path has a '..' component";
    p += len;
    if (*p) p++;
  }
  return NULL;
}

static const char *bad_type(struct archive_entry *e) {
  if (archive_entry_hardlink(e)) return "member is a hard link";
  switch (archive_entry_filetype(e)) {
    case AE_IFREG: return NULL;
    case AE_IFLNK: return "member is a symbolic link";
    case AE_IFCHR:
    case AE_IFBLK: return "member is a device";
    case AE_IFIFO: return "member is a fifo";
    case AE_IFSOCK: return "member is a socket";
    default: return "member is not a regular file";
  }
}

enum extract_result { EX_OK, EX_REFUSED, EX_STOP };

/* Stream the current member into `tmp`, enforcing the size limits as the
 * bytes come. */
static enum extract_result extract(expand_ctx *c, struct archive *a,
                                   const char *tmp, uint64_t *size,
                                   char *reason, size_t rlen) {
  const mv_archive_limits *l = c->lim;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(reason, rlen, "cannot extract member: %s", strerror(errno));
    return EX_STOP;
  }
  la_int64_t consumed0 = archive_filter_bytes(a, -1);
  uint64_t end = 0;
  enum extract_result res = EX_OK;
  for (;;) {
    const void *buf;
    size_t n;
    la_int64_t off;
    int r = archive_read_data_block(a, &buf, &n, &off);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      const char *why = archive_error_string(a);
      snprintf(reason, rlen, "member cannot be read: %s",
               why ? why : "damaged data");
      res = r == ARCHIVE_FATAL ? EX_STOP : EX_REFUSED;
      break;
    }
    if (off < 0) off = (la_int64_t)end;
    uint64_t upto = (uint64_t)off + n;
    if (upto > end) end = upto;
    if (end > l->max_member) {
      snprintf(reason, rlen, "member larger than the per-member limit "
               "(%llu bytes)", (unsigned long long)l->max_member);
      res = EX_REFUSED;
      break;
    }
    if (c->total + end > l->max_total) {
      snprintf(reason, rlen, "archive expands past the total limit (%llu "
               "bytes); the rest of it was not read",
               (unsigned long long)l->max_total);
      res = EX_STOP;
      break;
    }
    la_int64_t used = archive_filter_bytes(a, -1) - consumed0;
    if (used < 1) used = 1;
    if (end > l->ratio_floor && (double)end > l->max_ratio * (double)used) {
      snprintf(reason, rlen, "probable decompression bomb (member expands "
               "more than %.0fx); the rest of the archive was not read",
               l->max_ratio);
      res = EX_STOP;
      break;
    }
    const char *p = buf;
    size_t left = n;
    off_t at = (off_t)off;
    while (left) {
      ssize_t w = pwrite(fd, p, left, at);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        snprintf(reason, rlen, "cannot extract member: %s",
                 w < 0 ? strerror(errno) : "short write");
        res = EX_STOP;
        break;
      }
      p += w;
      at += w;
      left -= (size_t)w;
    }
    if (res != EX_OK) break;
  }
  /* A sparse tail (offset past the data) still counts as size. */
  if (res == EX_OK && ftruncate(fd, (off_t)end) != 0) {
    snprintf(reason, rlen, "cannot extract member: %s", strerror(errno));
    res = EX_STOP;
  }
  if (close(fd) != 0 && res == EX_OK) {
    snprintf(reason, rlen, "cannot extract member: %s", strerror(errno));
    res = EX_STOP;
  }
  if (res != EX_OK) unlink(tmp);
  *size = end;
  return res;
}

static int compressed_magic(const uint8_t *h, size_t n) {
  return (n >= 2 && h[0] == 0x1F && h[1] == 0x8B) ||
         (n >= 3 && memcmp(h, "BZh", 3) == 0) ||
         (n >= 6 && memcmp(h, "\xFD" "7zXZ\0", 6) == 0) ||
         (n >= 4 && memcmp(h, "\x28\xB5\x2F\xFD", 4) == 0);
}

/* Whether the first 512 decompressed bytes are a tar header. */
static int compressed_tar(const char *path) {
  struct archive *a = archive_read_new();
  if (!a) return 0;
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_xz(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_format_raw(a);
  uint8_t head[512];
  size_t got = 0;
  struct archive_entry *e;
  if (archive_read_open_filename(a, path, READ_BLOCK) == ARCHIVE_OK &&
      archive_read_next_header(a, &e) == ARCHIVE_OK) {
    while (got < sizeof head) {
      la_ssize_t r = archive_read_data(a, head + got, sizeof head - got);
      if (r <= 0) break;
      got += (size_t)r;
    }
  }
  archive_read_free(a);
  return got == sizeof head && memcmp(head + 257, "ustar", 5) == 0 &&
         tar_checksum_ok(head);
}

int mv_archive_file_is_archive(const char *path) {
  uint8_t head[512];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, head, sizeof head);
  close(fd);
  if (n <= 0 || !mv_archive_sniff(head, (size_t)n)) return 0;
  return compressed_magic(head, (size_t)n) ? compressed_tar(path) : 1;
}

static char *join_shown(const char *shown, const char *name) {
  size_t len = strlen(shown) + strlen(name) + 2;
  char *s = malloc(len);
  if (s) snprintf(s, len, "%s!%s", shown, name);
  return s;
}

static void expand_one(expand_ctx *c, const char *path, const char *shown,
                       int depth);

/* One entry of an open archive. */
static void entry(expand_ctx *c, struct archive *a, struct archive_entry *e,
                  const char *shown, int depth) {
  const char *name = archive_entry_pathname(e);
  if (!name) name = archive_entry_pathname_utf8(e);
  char *ms = join_shown(shown, name ? name : "(unnamed)");
  const char *mshown = ms ? ms : shown;
  unsigned long long declared =
      archive_entry_size_is_set(e) && archive_entry_size(e) > 0
          ? (unsigned long long)archive_entry_size(e) : 0;
  const char *why = NULL;
  char reason[512];
  if (archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e))
    goto done; /* folders are not inputs */
  if (!name) why = "member name cannot be read";
  else if ((why = bad_name(name))) {}
  else if ((why = bad_type(e))) {}
  else if (archive_entry_is_encrypted(e))
    why = "member is encrypted";
  else if (declared > c->lim->max_member) {
    snprintf(reason, sizeof reason, "member larger than the per-member limit "
             "(%llu bytes)", (unsigned long long)c->lim->max_member);
    why = reason;
  }
  if (why) {
    refuse(c, mshown, declared, why);
    goto done;
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s%lu", c->tmp_prefix, c->seq++);
  uint64_t size = 0;
  enum extract_result r = extract(c, a, tmp, &size, reason, sizeof reason);
  if (r != EX_OK) {
    refuse(c, mshown, size, reason);
    if (r == EX_STOP) c->stop = 1;
    goto done;
  }
  c->total += size;
  if (mv_archive_file_is_archive(tmp)) {
    if (depth + 1 > c->lim->max_depth) {
      snprintf(reason, sizeof reason, "archive nested deeper than %d levels",
               c->lim->max_depth);
      refuse(c, mshown, size, reason);
    } else {
      expand_one(c, tmp, mshown, depth + 1);
    }
  } else {
    c->sink->member(c->sink->ud, tmp, mshown);
    c->handed++;
  }
  unlink(tmp);
done:
  free(ms);
}

static void expand_one(expand_ctx *c, const char *path, const char *shown,
                       int depth) {
  struct archive *a = archive_read_new();
  if (!a) {
    refuse(c, shown, 0, "out of memory opening the archive");
    return;
  }
  /* Only built-in decoders: never external programs on hostile input. */
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_xz(a);
  archive_read_support_filter_lzma(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_format_zip(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  archive_read_support_format_7zip(a);
  char reason[768];
  if (archive_read_open_filename(a, path, READ_BLOCK) != ARCHIVE_OK) {
    const char *why = archive_error_string(a);
    snprintf(reason, sizeof reason, "cannot read archive: %s",
             why ? why : "unknown error");
    refuse(c, shown, 0, reason);
    archive_read_free(a);
    return;
  }
  unsigned long here = 0;
  while (!c->stop) {
    struct archive_entry *e;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      const char *why = archive_error_string(a);
      if (here == 0)
        snprintf(reason, sizeof reason, "cannot read archive: %s",
                 why ? why : "unknown error");
      else
        snprintf(reason, sizeof reason, "archive damaged after %lu members "
                 "(the rest was not read): %s", here,
                 why ? why : "unknown error");
      refuse(c, shown, 0, reason);
      break;
    }
    here++;
    if (++c->entries > c->lim->max_members) {
      snprintf(reason, sizeof reason, "archive has more than %lu members; "
               "the rest of it was not read", c->lim->max_members);
      refuse(c, shown, 0, reason);
      c->stop = 1;
      break;
    }
    entry(c, a, e, shown, depth);
  }
  archive_read_free(a);
}

unsigned long mv_archive_expand(const char *path, const char *shown,
                                const char *tmp_prefix,
                                const mv_archive_limits *lim,
                                const mv_archive_sink *sink) {
  expand_ctx c = {.lim = lim, .sink = sink, .tmp_prefix = tmp_prefix};
  expand_one(&c, path, shown, 1);
  return c.handed;
}
