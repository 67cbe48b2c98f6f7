/* mv_audit.c - the hash-chained audit log: append under flock, verify. */
#include "mv_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_fsutil.h"

static const char ZERO_HASH[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

void mv_audit_line_hash(const char *line, size_t len, char hex[65]) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, (const unsigned char *)line, len);
  sodium_bin2hex(hex, 65, h, sizeof h);
}

/* --- a small JSON syntax check (no values kept but seq and prev) -------- */

typedef struct jp {
  const char *s, *e;
  int depth;
} jp;

static void ws(jp *p) {
  while (p->s < p->e &&
         (*p->s == ' ' || *p->s == '\t' || *p->s == '\r' || *p->s == '\n'))
    p->s++;
}

/* A string; its raw bytes between the quotes go to [*a, *b) when asked. */
static int jstring(jp *p, const char **a, const char **b) {
  if (p->s >= p->e || *p->s != '"') return -1;
  p->s++;
  const char *start = p->s;
  while (p->s < p->e && *p->s != '"') {
    unsigned char c = (unsigned char)*p->s;
    if (c < 0x20) return -1;
    if (c == '\\') {
      p->s++;
      if (p->s >= p->e) return -1;
      if (*p->s == 'u') {
        if (p->e - p->s < 5) return -1;
        for (int i = 1; i <= 4; i++)
          if (!p->s[i] || !strchr("0123456789abcdefABCDEF", p->s[i]))
            return -1;
        p->s += 4;
      } else if (!*p->s || !strchr("\"\\/bfnrt", *p->s)) {
        return -1;
      }
    }
    p->s++;
  }
  if (p->s >= p->e) return -1;
  if (a) *a = start;
  if (b) *b = p->s;
  p->s++;
  return 0;
}

static int digits(jp *p) {
  const char *st = p->s;
  while (p->s < p->e && *p->s >= '0' && *p->s <= '9') p->s++;
  return p->s > st ? 0 : -1;
}

static int jnumber(jp *p) {
  if (p->s < p->e && *p->s == '-') p->s++;
  if (p->s < p->e && *p->s == '0')
    p->s++;
  else if (digits(p) != 0)
    return -1;
  if (p->s < p->e && *p->s == '.') {
    p->s++;
    if (digits(p) != 0) return -1;
  }
  if (p->s < p->e && (*p->s == 'e' || *p->s == 'E')) {
    p->s++;
    if (p->s < p->e && (*p->s == '+' || *p->s == '-')) p->s++;
    if (digits(p) != 0) return -1;
  }
  return 0;
}

static int jvalue(jp *p);

static int jword(jp *p, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(p->e - p->s) < n || memcmp(p->s, w, n) != 0) return -1;
  p->s += n;
  return 0;
}

static int jcontainer(jp *p, char close) {
  if (++p->depth > 64) return -1;
  p->s++;
  ws(p);
  if (p->s < p->e && *p->s == close) {
    p->s++;
    p->depth--;
    return 0;
  }
  for (;;) {
    ws(p);
    if (close == '}') {
      if (jstring(p, NULL, NULL) != 0) return -1;
      ws(p);
      if (p->s >= p->e || *p->s != ':') return -1;
      p->s++;
    }
    if (jvalue(p) != 0) return -1;
    ws(p);
    if (p->s < p->e && *p->s == ',') {
      p->s++;
      continue;
    }
    if (p->s < p->e && *p->s == close) {
      p->s++;
      p->depth--;
      return 0;
    }
    return -1;
  }
}

static int jvalue(jp *p) {
  ws(p);
  if (p->s >= p->e) return -1;
  switch (*p->s) {
    case '{': return jcontainer(p, '}');
    case '[': return jcontainer(p, ']');
    case '"': return jstring(p, NULL, NULL);
    case 't': return jword(p, "true");
    case 'f': return jword(p, "false");
    case 'n': return jword(p, "null");
    default: return jnumber(p);
  }
}

int mv_audit_parse_line(const char *s, size_t n, unsigned long long *seq,
                        char prev[65]) {
  jp p = {s, s + n, 0};
  ws(&p);
  if (p.s >= p.e || *p.s != '{') return -1;
  /* Whole line must be valid JSON first. */
  jp all = p;
  if (jcontainer(&all, '}') != 0) return -1;
  ws(&all);
  if (all.s != all.e) return -1;
  /* Then walk the top-level members for seq and prev. */
  int have_seq = 0, have_prev = 0;
  p.s++;
  p.depth = 1;
  for (;;) {
    ws(&p);
    if (p.s < p.e && *p.s == '}') break;
    const char *ka, *kb;
    if (jstring(&p, &ka, &kb) != 0) return -1;
    ws(&p);
    p.s++; /* ':' (checked above) */
    ws(&p);
    if (kb - ka == 3 && memcmp(ka, "seq", 3) == 0) {
      unsigned long long v = 0;
      if (p.s >= p.e || *p.s < '0' || *p.s > '9') return -1;
      while (p.s < p.e && *p.s >= '0' && *p.s <= '9') {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (unsigned)(*p.s - '0');
        p.s++;
      }
      if (p.s < p.e && strchr(".eE", *p.s)) return -1;
      *seq = v;
      have_seq = 1;
    } else if (kb - ka == 4 && memcmp(ka, "prev", 4) == 0) {
      const char *a, *b;
      if (jstring(&p, &a, &b) != 0 || b - a != 64) return -1;
      for (const char *c = a; c < b; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
          return -1;
      memcpy(prev, a, 64);
      prev[64] = 0;
      have_prev = 1;
    } else {
      if (jvalue(&p) != 0) return -1;
    }
    ws(&p);
    if (p.s < p.e && *p.s == ',') p.s++;
  }
  return have_seq && have_prev ? 0 : -1;
}

/* --- appending ----------------------------------------------------------- */

static void seterr(char *err, size_t n, const char *path, const char *what) {
  snprintf(err, n, "%s: %s", path, what);
}

/* The last line of the file (without newline) into a malloc'd buffer.
 * *len = 0 and *buf = NULL for an empty file. Returns 0, -1 on read error,
 * -2 when the file does not end in a newline, -3 when the line is too
 * long. */
static int last_line(int fd, char **buf, size_t *len) {
  *buf = NULL;
  *len = 0;
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  off_t size = st.st_size;
  if (size == 0) return 0;
  char c;
  if (pread(fd, &c, 1, size - 1) != 1) return -1;
  if (c != '\n') return -2;
  off_t end = size - 1, start = end;
  char chunk[4096];
  while (start > 0) {
    off_t from = start > (off_t)sizeof chunk ? start - (off_t)sizeof chunk : 0;
    ssize_t n = pread(fd, chunk, (size_t)(start - from), from);
    if (n != start - from) return -1;
    off_t k = n;
    while (k > 0 && chunk[k - 1] != '\n') k--;
    if (k > 0) {
      start = from + k;
      break;
    }
    start = from;
    if (end - start > (off_t)MV_AUDIT_MAX_LINE) return -3;
  }
  if (end - start > (off_t)MV_AUDIT_MAX_LINE) return -3;
  size_t n = (size_t)(end - start);
  char *b = malloc(n + 1);
  if (!b) return -1;
  if (n && pread(fd, b, n, start) != (ssize_t)n) {
    free(b);
    return -1;
  }
  b[n] = 0;
  *buf = b;
  *len = n;
  return 0;
}

/* Where the chain stands: the last line's seq and hash. */
static int chain_tail(int fd, unsigned long long *seq, char hash[65],
                      char *err, size_t errlen, const char *name) {
  char *line;
  size_t len;
  int rc = last_line(fd, &line, &len);
  if (rc == -2) {
    seterr(err, errlen, name, "the last line is cut short (a crash or an "
           "edit?); check it with 'medveil audit verify' before appending");
    return -1;
  }
  if (rc == -3) {
    seterr(err, errlen, name, "the last line is too long to be an audit line");
    return -1;
  }
  if (rc != 0) {
    seterr(err, errlen, name, strerror(errno ? errno : EIO));
    return -1;
  }
  if (!line) {
    *seq = 0;
    memcpy(hash, ZERO_HASH, 65);
    return 0;
  }
  char prev[65];
  if (mv_audit_parse_line(line, len, seq, prev) != 0) {
    free(line);
    seterr(err, errlen, name, "the last line is not an audit chain line; "
           "check it with 'medveil audit verify' before appending");
    return -1;
  }
  mv_audit_line_hash(line, len, hash);
  free(line);
  return 0;
}

int mv_audit_open(const char *path, char *err, size_t errlen) {
  char dir[4096];
  if (mv_mkdirs_for_file(path, 0700, dir, sizeof dir) != 0) {
    snprintf(err, errlen, "%s: cannot create folder: %s", dir,
             strerror(errno));
    return -1;
  }
  int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    seterr(err, errlen, path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    seterr(err, errlen, path, "not a regular file");
    close(fd);
    return -1;
  }
  if (flock(fd, LOCK_SH) != 0) {
    seterr(err, errlen, path, strerror(errno));
    close(fd);
    return -1;
  }
  unsigned long long seq;
  char hash[65];
  int rc = chain_tail(fd, &seq, hash, err, errlen, path);
  flock(fd, LOCK_UN);
  if (rc != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int mv_audit_append(int fd, const char *const *bodies, size_t n,
                    char last_hash[65], char *err, size_t errlen) {
  if (n == 0) return 0;
  if (flock(fd, LOCK_EX) != 0) {
    snprintf(err, errlen, "audit log: cannot lock: %s", strerror(errno));
    return -1;
  }
  int rc = -1;
  char *buf = NULL;
  size_t blen = 0;
  FILE *m = NULL;
  unsigned long long seq;
  char hash[65];
  struct stat st;
  if (chain_tail(fd, &seq, hash, err, errlen, "audit log") != 0) goto out;
  if (fstat(fd, &st) != 0) goto ioerr;
  m = open_memstream(&buf, &blen);
  if (!m) goto ioerr;
  for (size_t i = 0; i < n; i++) {
    long start = ftell(m);
    fprintf(m, "{\"seq\":%llu,\"prev\":\"%s\"%s%s}", ++seq, hash,
            bodies[i][0] ? "," : "", bodies[i]);
    if (fflush(m) != 0) goto ioerr;
    mv_audit_line_hash(buf + start, blen - (size_t)start, hash);
    fputc('\n', m);
  }
  if (fclose(m) != 0) {
    m = NULL;
    goto ioerr;
  }
  m = NULL;
  size_t done = 0;
  while (done < blen) {
    ssize_t w = write(fd, buf + done, blen - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = errno;
      /* Nothing half-written: cut back what went in. */
      if (done && ftruncate(fd, st.st_size) != 0) { /* keep e */ }
      errno = e ? e : ENOSPC;
      goto ioerr;
    }
    done += (size_t)w;
  }
  if (fsync(fd) != 0) goto ioerr;
  if (last_hash) memcpy(last_hash, hash, 65);
  rc = 0;
  goto out;
ioerr:
  snprintf(err, errlen, "audit log: cannot append: %s",
           strerror(errno ? errno : EIO));
out:
  if (m) fclose(m);
  free(buf);
  flock(fd, LOCK_UN);
  return rc;
}

/* --- verifying ------------------------------------------------------------ */

const char *mv_audit_kind_name(mv_audit_kind k) {
  switch (k) {
    case MV_AUDIT_INTACT: return "intact";
    case MV_AUDIT_EDITED: return "edited";
    case MV_AUDIT_REORDERED: return "reordered";
    case MV_AUDIT_REMOVED: return "removed";
    case MV_AUDIT_DAMAGED: return "truncated-or-damaged";
  }
  return "?";
}

/* One line into *buf (grown up to the cap). Returns its length, -1 at end
 * of file, -2 when too long (rest of the line skipped), -3 on a read
 * error. *nl says whether it ended in a newline. */
static long read_line(FILE *f, char **buf, size_t *cap, int *nl) {
  size_t n = 0;
  int c, toolong = 0;
  *nl = 0;
  while ((c = getc(f)) != EOF) {
    if (c == '\n') {
      *nl = 1;
      break;
    }
    if (toolong) continue;
    if (n + 1 >= *cap) {
      if (*cap >= MV_AUDIT_MAX_LINE) {
        toolong = 1;
        continue;
      }
      size_t nc = *cap ? *cap * 2 : 4096;
      char *nb = realloc(*buf, nc);
      if (!nb) return -3;
      *buf = nb;
      *cap = nc;
    }
    (*buf)[n++] = (char)c;
  }
  if (ferror(f)) return -3;
  if (c == EOF && n == 0 && !toolong) return -1;
  if (toolong) return -2;
  (*buf)[n] = 0;
  return (long)n;
}

static int cmp32(const void *a, const void *b) { return memcmp(a, b, 32); }

/* After a seq gap at the current position: does a later line carry the
 * missing seq (the lines were reordered) or not (removed)? */
static int seq_later(FILE *f, unsigned long long want, char **buf,
                     size_t *cap) {
  int nl;
  long n;
  while ((n = read_line(f, buf, cap, &nl)) != -1) {
    if (n < 0) continue;
    unsigned long long s;
    char prev[65];
    if (mv_audit_parse_line(*buf, (size_t)n, &s, prev) == 0 && s == want)
      return 1;
  }
  return 0;
}

int mv_audit_verify(const char *path, int want_hashes, mv_audit_check *c,
                    char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  FILE *f = fopen(path, "re");
  if (!f) {
    seterr(err, errlen, path, strerror(errno));
    return -1;
  }
  char *buf = NULL;
  size_t cap = 0, hcap = 0;
  char prev_hash[65];
  memcpy(prev_hash, ZERO_HASH, 65);
  unsigned long long expect = 1;
  int rc = 0;
  for (;;) {
    int nl;
    long n = read_line(f, &buf, &cap, &nl);
    if (n == -1) break;
    if (n == -3) {
      seterr(err, errlen, path, "read error");
      rc = -1;
      break;
    }
    c->lines++;
    unsigned long long seq = 0;
    char prev[65];
    if (n == -2 || !nl || mv_audit_parse_line(buf, (size_t)n, &seq, prev)) {
      c->kind = MV_AUDIT_DAMAGED;
      c->line = c->lines;
      break;
    }
    if (seq != expect) {
      c->expected_seq = expect;
      c->found_seq = seq;
      c->line = c->lines;
      c->kind = seq < expect || seq_later(f, expect, &buf, &cap)
                    ? MV_AUDIT_REORDERED
                    : MV_AUDIT_REMOVED;
      break;
    }
    if (strcmp(prev, prev_hash) != 0) {
      /* The line before is not what this one chained on. */
      c->kind = MV_AUDIT_EDITED;
      c->line = c->lines - 1 ? c->lines - 1 : 1;
      break;
    }
    mv_audit_line_hash(buf, (size_t)n, prev_hash);
    if (memmem(buf, (size_t)n, "\"event\":\"job_end\"", 17)) c->jobs++;
    if (want_hashes) {
      if (c->nhashes == hcap) {
        size_t nc = hcap ? hcap * 2 : 256;
        unsigned char *nh = realloc(c->hashes, nc * 32);
        if (!nh) {
          seterr(err, errlen, path, "out of memory");
          rc = -1;
          break;
        }
        c->hashes = nh;
        hcap = nc;
      }
      sodium_hex2bin(c->hashes + c->nhashes * 32, 32, prev_hash, 64, NULL,
                     NULL, NULL);
      c->nhashes++;
    }
    expect = seq + 1;
  }
  free(buf);
  fclose(f);
  if (c->hashes) qsort(c->hashes, c->nhashes, 32, cmp32);
  return rc;
}

int mv_audit_check_has(const mv_audit_check *c, const char *hex) {
  unsigned char key[32];
  if (!hex || strlen(hex) != 64 ||
      sodium_hex2bin(key, 32, hex, 64, NULL, NULL, NULL) != 0)
    return 0;
  return c->hashes && bsearch(key, c->hashes, c->nhashes, 32, cmp32);
}

void mv_audit_check_free(mv_audit_check *c) {
  free(c->hashes);
  c->hashes = NULL;
  c->nhashes = 0;
}

void mv_audit_set_digest(unsigned char *digests, size_t n, char hex[65]) {
  if (n) qsort(digests, n, 32, cmp32);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  for (size_t i = 0; i < n; i++) {
    char h[66];
    sodium_bin2hex(h, 65, digests + i * 32, 32);
    h[64] = '\n';
    crypto_hash_sha256_update(&st, (const unsigned char *)h, 65);
  }
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  sodium_bin2hex(hex, 65, out, sizeof out);
}

