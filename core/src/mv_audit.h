/* mv_audit.h - the hash-chained audit log: JSON lines, append-only.
 *
 * Every line is one JSON object that starts with
 *   {"seq":N,"prev":"<64 hex>", ...}
 * where seq counts lines from 1 across the whole file and prev is the
 * SHA-256 of the previous line's bytes (without its newline; 64 zeros on
 * the first line). Editing, removing or reordering a line breaks the chain
 * at that point; only the removal of the last lines cannot be seen from the
 * file alone (the jobs database keeps each job's last line hash for that).
 *
 * Several processes may append to one log: each append takes an exclusive
 * flock, reads the last line to chain on, writes its lines in one write(),
 * fsyncs and unlocks. See docs/records.md. */
#ifndef MV_AUDIT_H
#define MV_AUDIT_H

#include <stddef.h>

#define MV_AUDIT_MAX_LINE (4u << 20) /* longer lines are damage */

/* Hex SHA-256 of a line's bytes (no newline). */
void mv_audit_line_hash(const char *line, size_t len, char hex[65]);

/* Open (create 0600; missing folders 0700) a log for appending. Refuses a
 * log whose last line is cut short or not a chain line, so a new line never
 * chains onto damage. Returns an open fd, or -1 with a reason. */
int mv_audit_open(const char *path, char *err, size_t errlen);

/* Append n lines under the lock. Each body is the rest of a JSON object
 * after seq and prev: `"event":"x",...` (no braces), or "" for none. The
 * hash of the last line written goes to last_hash (may be NULL). Returns 0,
 * or -1 with a reason (nothing appended: a short write is cut back). */
int mv_audit_append(int fd, const char *const *bodies, size_t n,
                    char last_hash[65], char *err, size_t errlen);

/* What a check of the chain found. */
typedef enum mv_audit_kind {
  MV_AUDIT_INTACT = 0,
  MV_AUDIT_EDITED,    /* a line's hash differs from the next line's prev */
  MV_AUDIT_REORDERED, /* seq out of order */
  MV_AUDIT_REMOVED,   /* seq gap (or, with the jobs database, a tail) */
  MV_AUDIT_DAMAGED    /* not a JSON chain line, or cut short */
} mv_audit_kind;

typedef struct mv_audit_check {
  mv_audit_kind kind;
  unsigned long line;        /* first bad line (1-based) when not intact */
  unsigned long lines;       /* lines read */
  unsigned long long expected_seq, found_seq; /* for reordered/removed */
  unsigned long jobs;        /* job_end lines seen */
  /* Every line's hash, sorted (32 bytes each), when asked for. */
  unsigned char *hashes;
  size_t nhashes;
} mv_audit_check;

const char *mv_audit_kind_name(mv_audit_kind k);

/* Check a log. want_hashes keeps every line's hash for
 * mv_audit_check_has(). Returns 0 when the file was read (the result is in
 * c), or -1 with a reason (cannot open or read). Free with
 * mv_audit_check_free(). */
int mv_audit_verify(const char *path, int want_hashes, mv_audit_check *c,
                    char *err, size_t errlen);
/* Whether a line with this hex hash is in the log (needs want_hashes). */
int mv_audit_check_has(const mv_audit_check *c, const char *hex);
void mv_audit_check_free(mv_audit_check *c);

/* Whether s (n bytes) is one JSON object whose first members are an
 * unsigned integer "seq" and a 64-hex-digit "prev". Fills them when so. */
int mv_audit_parse_line(const char *s, size_t n, unsigned long long *seq,
                        char prev[65]);

/* The SHA-256 (hex) of the sorted list of hex digests, one per line, each
 * ending in '\n' - what `sort | sha256sum` gives. digests are n*32 bytes,
 * sorted in place. */
void mv_audit_set_digest(unsigned char *digests, size_t n, char hex[65]);


#endif
