/* mv_idvalues.c - collect identifying values of originals (see
 * mv_idvalues.h). Values become patterns of one automaton; each pattern
 * remembers only where it came from (tag, part), never needed again as
 * text once built. */
#include "mv_idvalues.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medveil/errors.h"
#include "mv_textphi.h"

enum {
  P_WHOLE = 0,
  P_FAMILY, P_GIVEN, P_MIDDLE, P_PREFIX, P_SUFFIX, /* PN components */
  P_REORDERED,
  P_SPELLING,
  P_DT_DATE,
  P_DT_SPELLING,
  P_COMPACT,
  P_COMPONENT,
  P_HEAD64,
  P_STEM
};

static const char *const part_label[] = {
    "", "family name", "given name", "middle name", "name prefix",
    "name suffix", "name reordered", "date in another spelling",
    "date part", "date part in another spelling", "without separators",
    "part of the value", "first 64 bytes", "original file name"};

typedef struct origin {
  uint32_t tag;
  uint8_t name_ix; /* non-DICOM key: index + 1 into names */
  uint8_t part;
  uint8_t soft;    /* may be dropped when a kept value contains it */
  uint8_t date;    /* a date as DA/DT elements hold it */
  uint8_t dropped;
} origin;

/* A set of 64-bit hashes (open addressing; 0 marks a free slot). */
typedef struct hashset {
  uint64_t *slot;
  size_t n, cap;
} hashset;

#define MAX_NAMES 250
#define MAX_KEPT_BYTES (64u << 20) /* kept values remembered, at most */

struct mv_idvalues {
  const mv_policy *policy;
  pthread_mutex_t lock;
  mv_ac *ac;
  origin *org;
  size_t norg, corg;
  /* Values the policy keeps verbatim somewhere, each once: [len][bytes]. */
  hashset kept;
  uint8_t *kept_text;
  size_t kept_len, kept_cap;
  char *names[MAX_NAMES];
  size_t nnames;
  mv_textphi *fz_names, *fz_ids;
  size_t n_fz_names, n_fz_ids;
  size_t dropped;
  int built, oom;
  int adding_date; /* the value being added is a DA or DT */
  mv_idvalues_dates *cur_dates; /* the document's dates, when asked */
};

/* ---------------------------------------------------------------------- */
/* Small helpers.                                                          */

static uint64_t fnv(const uint8_t *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h ? h : 1;
}

static int hs_add(hashset *s, uint64_t h) {
  if (s->n * 2 >= s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *g = calloc(cap, sizeof *g);
    if (!g) return -1;
    for (size_t i = 0; i < s->cap; i++)
      if (s->slot[i]) {
        size_t k = s->slot[i] & (cap - 1);
        while (g[k]) k = (k + 1) & (cap - 1);
        g[k] = s->slot[i];
      }
    free(s->slot);
    s->slot = g;
    s->cap = cap;
  }
  size_t k = h & (s->cap - 1);
  while (s->slot[k]) {
    if (s->slot[k] == h) return 0;
    k = (k + 1) & (s->cap - 1);
  }
  s->slot[k] = h;
  s->n++;
  return 0;
}

static int hs_has(const hashset *s, uint64_t h) {
  if (!s->cap) return 0;
  size_t k = h & (s->cap - 1);
  while (s->slot[k]) {
    if (s->slot[k] == h) return 1;
    k = (k + 1) & (s->cap - 1);
  }
  return 0;
}

static int is_vr(const char *vr, const char *want) {
  return vr[0] == want[0] && vr[1] == want[1];
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_letter(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static void trim(const char **v, size_t *n) {
  while (*n && ((*v)[0] == ' ' || (*v)[0] == 0)) (*v)++, (*n)--;
  while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == 0)) (*n)--;
}

/* Folded values that say nothing about anyone: dummies and common words
 * that the stop-list keeps out of the search (they would only be noise). */
static const char *const stop_words[] = {
    "anonymized", "anonymised", "anonymous", "anon", "unknown", "none",
    "removed", "deidentified", "de-identified", "redacted", "not applicable",
    "n/a", "null", "empty", "test", "patient", "research", "default",
    "other", "male", "female", "head", "chest", "brain", "body", "left",
    "right", "study", "series", "image", "phantom", "subject", "normal",
    "routine", "clinical", "hospital", "clinic", "radiology", "department",
    "medical", "center", "centre", "university", "doctor", "physician",
    "station", "console", "dicomdir", "19000101", "00000000", "unnamed",
    "mrs", "miss", "phd", "file", "dicom", "data", "scan", "exam", "name",
    "script", "inside", "images", "sample", "demo", "the", "and", "for",
    "with", "from", "this", "that", "not", "all", "any", "are", "was",
    "has", "have", "you", "our", "out", "way", "new", "old", "ver",
    "version", "issue", "signed", "unsigned", "hello", "world", "teste",
    "patient name", "operator", "technologist", "tech", "admin", NULL};

/* Ascending or descending digit runs ("123456") are placeholders. */
static int digit_run(const uint8_t *f, size_t n) {
  int up = 1, down = 1;
  for (size_t i = 0; i < n; i++) {
    if (f[i] < '0' || f[i] > '9') return 0;
    if (i && f[i] != '0' + (f[i - 1] - '0' + 1) % 10) up = 0;
    if (i && f[i] != '0' + (f[i - 1] - '0' + 9) % 10) down = 0;
  }
  return up || down;
}

/* Values with too few different letters and digits ("XXXXXX", "----",
 * "x.x") say nothing and match filler and pixel data. */
static int too_plain(const uint8_t *f, size_t n) {
  uint8_t seen[256] = {0};
  size_t distinct = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = f[i];
    if (((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) &&
        !seen[c]++)
      distinct++;
  }
  return distinct < 2 || (n >= 6 && distinct < 3);
}

static int stopped(const uint8_t *f, size_t n) {
  if (too_plain(f, n) || digit_run(f, n)) return 1;
  for (size_t i = 0; stop_words[i]; i++)
    if (strlen(stop_words[i]) == n && memcmp(stop_words[i], f, n) == 0)
      return 1;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Set-up.                                                                 */

mv_idvalues *mv_idvalues_new(const mv_policy *policy) {
  mv_idvalues *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  v->policy = policy;
  pthread_mutex_init(&v->lock, NULL);
  v->ac = mv_ac_new();
  v->fz_names = mv_textphi_new();
  v->fz_ids = mv_textphi_new();
  if (!v->ac || !v->fz_names || !v->fz_ids) {
    mv_idvalues_free(v);
    return NULL;
  }
  return v;
}

void mv_idvalues_free(mv_idvalues *v) {
  if (!v) return;
  mv_ac_free(v->ac);
  mv_textphi_free(v->fz_names);
  mv_textphi_free(v->fz_ids);
  free(v->org);
  free(v->kept_text);
  free(v->kept.slot);
  for (size_t i = 0; i < v->nnames; i++) free(v->names[i]);
  pthread_mutex_destroy(&v->lock);
  free(v);
}

/* Add one pattern with its origin. Returns 1 when new, 0 when known or
 * left out, -1 on out-of-memory (remembered in v->oom). `soft`: a
 * descriptive value (no digits, not a name) that a kept value may excuse. */
static int add_soft(mv_idvalues *v, const char *s, size_t n, unsigned flags,
                    uint32_t tag, unsigned name_ix, unsigned part, int soft) {
  uint8_t f[MV_AC_MAX_PATTERN];
  size_t len = mv_ac_fold(s, n, f);
  if (len == 0 || stopped(f, len)) return 0;
  /* Short words also in binary data (pixels) would be noise. */
  if ((flags & MV_AC_WORD) && len <= 4) flags |= MV_AC_TEXT;
  uint32_t id;
  int added = 0;
  int rc = mv_ac_add(v->ac, s, n, flags, &id, &added);
  if (rc == MV_ENOMEM) {
    v->oom = 1;
    return -1;
  }
  if (rc == MV_OK && v->cur_dates && v->adding_date &&
      (part == P_DT_DATE || (part == P_WHOLE && flags == MV_AC_NUMBER))) {
    mv_idvalues_dates *d = v->cur_dates;
    if (d->n == d->cap) {
      size_t cap = d->cap ? d->cap * 2 : 8;
      uint32_t *g = realloc(d->id, cap * sizeof *g);
      if (!g) {
        v->oom = 1;
        return -1;
      }
      d->id = g;
      d->cap = cap;
    }
    d->id[d->n++] = id;
  }
  if (rc != MV_OK || !added) return 0;
  if (v->norg == v->corg) {
    size_t cap = v->corg ? v->corg * 2 : 1024;
    origin *g = realloc(v->org, cap * sizeof *g);
    if (!g) {
      v->oom = 1;
      return -1;
    }
    v->org = g;
    v->corg = cap;
  }
  v->org[v->norg] = (origin){.tag = tag, .name_ix = (uint8_t)name_ix,
                             .part = (uint8_t)part, .soft = (uint8_t)soft,
                             .date = part == P_DT_DATE || (part == P_WHOLE &&
                                                           flags == MV_AC_NUMBER &&
                                                           v->adding_date)};
  v->norg++;
  return 1;
}

static int add(mv_idvalues *v, const char *s, size_t n, unsigned flags,
               uint32_t tag, unsigned name_ix, unsigned part) {
  return add_soft(v, s, n, flags, tag, name_ix, part, 0);
}

static void note_kept(mv_idvalues *v, const char *s, size_t n) {
  const char *end = s + n;
  while (s < end) {
    const char *bs = memchr(s, '\\', (size_t)(end - s));
    size_t k = (size_t)((bs ? bs : end) - s);
    uint8_t f[MV_AC_MAX_PATTERN];
    size_t len = mv_ac_fold(s, k, f);
    uint64_t h = len >= 3 ? fnv(f, len) : 0;
    if (h && !hs_has(&v->kept, h) &&
        v->kept_len + len + 1 <= MAX_KEPT_BYTES) {
      if (v->kept_len + len + 1 > v->kept_cap) {
        size_t cap = v->kept_cap ? v->kept_cap * 2 : 65536;
        while (cap < v->kept_len + len + 1) cap *= 2;
        uint8_t *g = realloc(v->kept_text, cap);
        if (!g) {
          v->oom = 1;
          return;
        }
        v->kept_text = g;
        v->kept_cap = cap;
      }
      v->kept_text[v->kept_len++] = (uint8_t)len;
      memcpy(v->kept_text + v->kept_len, f, len);
      v->kept_len += len;
      if (hs_add(&v->kept, h) != 0) v->oom = 1;
    }
    s += k + (bs ? 1 : 0);
    if (!bs) break;
  }
}

/* ---------------------------------------------------------------------- */
/* Dates.                                                                  */

static const char *const mon3[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const monfull[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

size_t mv_idvalues_date_spellings(const char *s, char out[][32],
                                  unsigned *flags, size_t max) {
  for (int i = 0; i < 8; i++)
    if (!is_digit(s[i])) return 0;
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
          (s[3] - '0');
  int m = (s[4] - '0') * 10 + (s[5] - '0'), d = (s[6] - '0') * 10 + (s[7] - '0');
  if (y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) return 0;
  const char *m3 = mon3[m - 1], *mf = monfull[m - 1];
  size_t k = 0;
#define SP(fl, ...)                                   \
  do {                                                \
    if (k < max) {                                    \
      snprintf(out[k], 32, __VA_ARGS__);              \
      flags[k++] = (fl);                              \
    }                                                 \
  } while (0)
  const unsigned N = MV_AC_NUMBER, W = MV_AC_WORD;
  SP(N, "%04d%02d%02d", y, m, d);
  SP(N, "%04d-%02d-%02d", y, m, d);
  SP(N, "%04d/%02d/%02d", y, m, d);
  SP(N, "%04d.%02d.%02d", y, m, d);
  SP(N, "%02d/%02d/%04d", m, d, y);
  SP(N, "%02d/%02d/%04d", d, m, y);
  SP(N, "%02d.%02d.%04d", d, m, y);
  SP(N, "%02d-%02d-%04d", d, m, y);
  SP(N, "%02d-%02d-%04d", m, d, y);
  if (m < 10 || d < 10) {
    SP(N, "%d/%d/%04d", m, d, y);
    SP(N, "%d/%d/%04d", d, m, y);
    SP(N, "%d.%d.%04d", d, m, y);
  }
  SP(W, "%02d %s %04d", d, m3, y);
  SP(W, "%02d-%s-%04d", d, m3, y);
  SP(W, "%02d%s%04d", d, m3, y);
  SP(W, "%s %02d %04d", m3, d, y);
  SP(W, "%s %02d, %04d", m3, d, y);
  SP(W, "%d %s %04d", d, mf, y);
  SP(W, "%s %d, %04d", mf, d, y);
  SP(W, "%s %d %04d", mf, d, y);
  if (d < 10) {
    SP(W, "%d %s %04d", d, m3, y);
    SP(W, "%d-%s-%04d", d, m3, y);
    SP(W, "%s %d %04d", m3, d, y);
    SP(W, "%s %d, %04d", m3, d, y);
    SP(W, "%02d %s %04d", d, mf, y);
  }
#undef SP
  return k;
}

static void add_date(mv_idvalues *v, const char *s, uint32_t tag,
                     unsigned ni, unsigned whole_part, unsigned other_part) {
  v->adding_date = 1;
  char sp[MV_IDVALUES_MAX_SPELLINGS][32];
  unsigned fl[MV_IDVALUES_MAX_SPELLINGS];
  size_t n = mv_idvalues_date_spellings(s, sp, fl, MV_IDVALUES_MAX_SPELLINGS);
  for (size_t i = 0; i < n; i++)
    add(v, sp[i], strlen(sp[i]), fl[i], tag, ni, i == 0 ? whole_part
                                                        : other_part);
  v->adding_date = 0;
}

/* ---------------------------------------------------------------------- */
/* Values by VR.                                                           */

static int name_char(char c) {
  return is_letter((unsigned char)c) || is_digit(c) || c == '\'';
}

static void add_pn_group(mv_idvalues *v, const char *g, size_t n,
                         uint32_t tag, unsigned ni) {
  trim(&g, &n);
  if (n == 0) return;
  const char *comp[5] = {0};
  size_t clen[5] = {0};
  size_t nc = 0;
  for (const char *p = g, *end = g + n; p <= end && nc < 5;) {
    const char *c = memchr(p, '^', (size_t)(end - p));
    comp[nc] = p;
    clen[nc] = (size_t)((c ? c : end) - p);
    trim(&comp[nc], &clen[nc]);
    nc++;
    if (!c) break;
    p = c + 1;
  }
  uint8_t f[MV_AC_MAX_PATTERN];
  /* Whole names and their words may be excused by a device value (a
   * ContentCreatorName that is the Manufacturer); reordered names not. */
  if (mv_ac_fold(g, n, f) >= 4)
    add_soft(v, g, n, MV_AC_WORD, tag, ni, P_WHOLE, 1);
  if (nc >= 2 && clen[0] && clen[1] && clen[0] + clen[1] < 200) {
    char r[256];
    snprintf(r, sizeof r, "%.*s %.*s", (int)clen[1], comp[1], (int)clen[0],
             comp[0]);
    add(v, r, strlen(r), MV_AC_WORD, tag, ni, P_REORDERED);
    snprintf(r, sizeof r, "%.*s, %.*s", (int)clen[0], comp[0], (int)clen[1],
             comp[1]);
    add(v, r, strlen(r), MV_AC_WORD, tag, ni, P_REORDERED);
  }
  /* Words of each component (letters, digits, apostrophes), whole-word. */
  for (size_t c = 0; c < nc; c++) {
    const char *p = comp[c], *end = comp[c] + clen[c];
    while (p < end) {
      while (p < end && !name_char(*p)) p++;
      const char *w = p;
      int letter = 0;
      while (p < end && name_char(*p)) letter |= is_letter((unsigned char)*p++);
      size_t wl = (size_t)(p - w);
      if (wl < 3 || !letter) continue;
      if (add_soft(v, w, wl, MV_AC_WORD, tag, ni, P_FAMILY + c, 1) == 1 &&
          v->n_fz_names < MV_IDVALUES_FUZZY_MAX) {
        if (mv_textphi_add(v->fz_names, MV_SCRUB_NAME, w, wl) != 0) v->oom = 1;
        v->n_fz_names++;
      }
    }
  }
}

static void add_pn(mv_idvalues *v, const char *s, size_t n, uint32_t tag,
                   unsigned ni) {
  const char *end = s + n;
  while (s < end) {
    const char *bs = memchr(s, '\\', (size_t)(end - s));
    const char *vend = bs ? bs : end;
    /* Alphabetic, ideographic and phonetic groups alike. */
    for (const char *g = s; g < vend;) {
      const char *eq = memchr(g, '=', (size_t)(vend - g));
      add_pn_group(v, g, (size_t)((eq ? eq : vend) - g), tag, ni);
      if (!eq) break;
      g = eq + 1;
    }
    if (!bs) break;
    s = bs + 1;
  }
}

static int has_digit(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (is_digit(s[i])) return 1;
  return 0;
}

static int repeated_digit(const char *s, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (s[i] != s[0]) return 0;
  return 1;
}

static void add_digits(mv_idvalues *v, const char *s, size_t n, uint32_t tag,
                       unsigned ni, unsigned part) {
  if (n < 6 || repeated_digit(s, n)) return;
  add(v, s, n, MV_AC_NUMBER | MV_AC_NOFRAC, tag, ni, part);
}

/* Where a value is an institution or an address: descriptive even with
 * digits (a street number), so a kept device value may excuse it. */
static int place_tag(uint32_t tag) {
  return tag == 0x00080080 || tag == 0x00080081 || tag == 0x00081040 ||
         tag == 0x00080092 || tag == 0x00101040;
}

static void add_text_value(mv_idvalues *v, const char *s, size_t n,
                           uint32_t tag, unsigned ni) {
  trim(&s, &n);
  if (n < 4) return;
  size_t digits = 0, letters = 0;
  for (size_t i = 0; i < n; i++) {
    digits += is_digit(s[i]);
    letters += is_letter((unsigned char)s[i]);
  }
  if (!digits && !letters) return;
  size_t dots = 0;
  for (size_t i = 0; i < n; i++) dots += s[i] == '.';
  if (dots && digits + dots == n) {
    /* Version- or UID-like ("3.1.2.7"): not inside a longer one. */
    if (n >= 6) add(v, s, n, MV_AC_UID, tag, ni, P_WHOLE);
    return;
  }
  if (digits == n) {
    add_digits(v, s, n, tag, ni, P_WHOLE);
  } else {
    size_t cut = n > 64 ? 64 : n;
    int added = add_soft(v, s, cut, n <= 5 ? MV_AC_WORD : 0, tag, ni,
                         n > 64 ? P_HEAD64 : P_WHOLE,
                         digits == 0 || place_tag(tag));
    /* An ID-like value (digits, no spaces) also for fuzzy OCR words. */
    if (added == 1 && digits && !memchr(s, ' ', n) &&
        v->n_fz_ids < MV_IDVALUES_FUZZY_MAX) {
      if (mv_textphi_add(v->fz_ids, MV_SCRUB_ID, s, n) != 0) v->oom = 1;
      v->n_fz_ids++;
    }
  }
  /* With separators, also without them: "AB-123 45" -> "AB12345". */
  if (digits && digits + letters < n && n <= 64) {
    char c[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      if (is_digit(s[i]) || is_letter((unsigned char)s[i])) c[k++] = s[i];
    if (k >= 6) {
      if (k == digits) add_digits(v, c, k, tag, ni, P_COMPACT);
      else add(v, c, k, 0, tag, ni, P_COMPACT);
    }
  }
  /* Addresses: each comma-separated part. */
  if (memchr(s, ',', n)) {
    const char *p = s, *end = s + n;
    while (p < end) {
      const char *comma = memchr(p, ',', (size_t)(end - p));
      const char *q = p;
      size_t k = (size_t)((comma ? comma : end) - p);
      trim(&q, &k);
      if (k >= 6 && k < n)
        add_soft(v, q, k, 0, tag, ni, P_COMPONENT,
                 !has_digit(q, k) || place_tag(tag));
      if (!comma) break;
      p = comma + 1;
    }
  }
}

static void add_each(mv_idvalues *v, const char *s, size_t n, uint32_t tag,
                     unsigned ni, const char *vr) {
  const char *end = s + n;
  while (s < end) {
    const char *bs = memchr(s, '\\', (size_t)(end - s));
    const char *val = s;
    size_t k = (size_t)((bs ? bs : end) - s);
    trim(&val, &k);
    if (is_vr(vr, "UI")) {
      int ok = k >= 8;
      for (size_t i = 0; i < k && ok; i++)
        ok = is_digit(val[i]) || val[i] == '.';
      if (ok && !(k >= 13 && memcmp(val, "1.2.840.10008", 13) == 0))
        add(v, val, k, MV_AC_UID, tag, ni, P_WHOLE);
    } else if (is_vr(vr, "DA")) {
      char d[9];
      const char *p = val;
      size_t j = 0;
      /* Old spellings (1993.04.30) are read as their digits. */
      for (size_t i = 0; i < k && j < 8; i++)
        if (is_digit(p[i])) d[j++] = p[i];
      d[j] = 0;
      if (j == 8) add_date(v, d, tag, ni, P_WHOLE, P_SPELLING);
    } else if (is_vr(vr, "DT")) {
      v->adding_date = 1;
      if (k >= 12 && k <= 64) add(v, val, k, MV_AC_NUMBER, tag, ni, P_WHOLE);
      v->adding_date = 0;
      if (k >= 8) {
        char d[9];
        memcpy(d, val, 8);
        d[8] = 0;
        add_date(v, d, tag, ni, P_DT_DATE, P_DT_SPELLING);
      }
    } else {
      add_text_value(v, val, k, tag, ni);
    }
    if (!bs) break;
    s = bs + 1;
  }
}

/* ---------------------------------------------------------------------- */
/* Walking a document.                                                     */

static int private_element(uint32_t tag) { return (tag >> 16) & 1; }

static unsigned name_index(mv_idvalues *v, const char *name) {
  if (!name) return 0;
  for (size_t i = 0; i < v->nnames; i++)
    if (strcmp(v->names[i], name) == 0) return (unsigned)i + 1;
  if (v->nnames >= MAX_NAMES) return 0;
  char *c = strdup(name);
  if (!c) return 0;
  v->names[v->nnames++] = c;
  return (unsigned)v->nnames;
}

/* Kept values that excuse descriptive values: coded values and what
 * describes the device and the acquisition, never free text (a kept
 * comment holding a name is what the check is for). */
static int excusing(uint32_t tag, const char *vr) {
  if (is_vr(vr, "CS")) return 1;
  switch (tag >> 16) {
    case 0x0018: case 0x0028: return 1;
  }
  switch (tag) {
    case 0x00080070: /* Manufacturer */
    case 0x00081090: /* ManufacturerModelName */
    case 0x00081010: /* StationName */
    case 0x00080064: /* ConversionType */
    case 0x00080016: /* SOPClassUID */
      return 1;
  }
  /* The code sequence macro: coding schemes, code meanings. */
  return tag >= 0x00080100 && tag <= 0x0008011F;
}

static int collect(void *ud, const mv_attr *a, void *handle) {
  (void)handle;
  mv_idvalues *v = ud;
  if (!a->value || !a->len || a->is_meta) return MV_VISIT_KEEP;
  /* Vendor parameters, as in the engine (see the header). */
  if (a->tag && private_element(a->tag)) return MV_VISIT_KEEP;
  const char *vr = a->vr;
  int text = is_vr(vr, "LO") || is_vr(vr, "SH") || is_vr(vr, "ST") ||
             is_vr(vr, "LT") || is_vr(vr, "UT") || is_vr(vr, "UC") ||
             is_vr(vr, "AE") || is_vr(vr, "UR") || vr[0] == 0;
  int pn = is_vr(vr, "PN"), ui = is_vr(vr, "UI");
  int date = is_vr(vr, "DA") || is_vr(vr, "DT");
  if (a->tag == 0) {
    /* Other formats, by name: a short text value the policy takes away
     * (long ones are prose), as the engine decides. */
    const mv_action *na = mv_policy_lookup_named(v->policy, a->name);
    if (na->kind == MV_ACT_KEEP || na->kind == MV_ACT_CLEAN || a->len > 256)
      return MV_VISIT_KEEP;
    add_each(v, a->value, a->len, 0, name_index(v, a->name), "");
    return MV_VISIT_KEEP;
  }
  const mv_action *act = mv_policy_lookup(v->policy, a->tag, a->creator, vr);
  if (act->kind == MV_ACT_KEEP) {
    if ((text || is_vr(vr, "CS")) && excusing(a->tag, vr))
      note_kept(v, a->value, a->len);
    return MV_VISIT_KEEP;
  }
  if (act->kind == MV_ACT_CLEAN || act->kind == MV_ACT_AGE)
    return MV_VISIT_KEEP;
  if (act->kind == MV_ACT_UID && !ui) return MV_VISIT_KEEP;
  if (pn) add_pn(v, a->value, a->len, a->tag, 0);
  else if (ui || date || text) add_each(v, a->value, a->len, a->tag, 0, vr);
  return MV_VISIT_KEEP;
}

int mv_idvalues_add_doc(mv_idvalues *v, const mv_format_ops *ops,
                        mv_doc *doc, mv_idvalues_dates *dates) {
  pthread_mutex_lock(&v->lock);
  v->cur_dates = dates;
  int rc = v->built ? MV_EINVAL : ops->visit(doc, collect, v);
  v->cur_dates = NULL;
  if (v->oom) rc = MV_ENOMEM;
  pthread_mutex_unlock(&v->lock);
  return rc;
}

int mv_idvalues_add_name(mv_idvalues *v, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  const char *dot = strrchr(base, '.');
  if (dot) {
    int letter = 0;
    for (const char *p = dot + 1; *p; p++) letter |= is_letter((unsigned char)*p);
    if (letter && strlen(dot + 1) <= 5) n = (size_t)(dot - base);
  }
  size_t digits = 0, dots = 0;
  for (size_t i = 0; i < n; i++) {
    digits += is_digit(base[i]);
    dots += base[i] == '.';
  }
  pthread_mutex_lock(&v->lock);
  int rc = MV_OK;
  if (v->built) {
    rc = MV_EINVAL;
  } else if (dots && digits + dots == n) {
    /* Files named by their UID. */
    if (n >= 8 && !(n >= 13 && memcmp(base, "1.2.840.10008", 13) == 0))
      add(v, base, n, MV_AC_UID, 0, 0, P_STEM);
  } else if (n >= 8) {
    if (digits == n) {
      if (!repeated_digit(base, n)) add(v, base, n, MV_AC_NUMBER, 0, 0, P_STEM);
    } else {
      add(v, base, n, 0, 0, 0, P_STEM);
    }
  }
  if (v->oom) rc = MV_ENOMEM;
  pthread_mutex_unlock(&v->lock);
  return rc;
}

/* A descriptive value found in a value the policy keeps is the policy's
 * choice, not a leak ("TOSHIBA" removed as InstitutionName, kept inside
 * Manufacturer "TOSHIBA_MEC"). Names, IDs, dates and UIDs are never
 * excused: a kept attribute holding them is exactly what to find. */
static int excuse(void *ud, uint32_t id, uint64_t start, uint64_t end) {
  (void)start;
  (void)end;
  mv_idvalues *v = ud;
  if (id < v->norg && v->org[id].soft && !v->org[id].dropped) {
    v->org[id].dropped = 1;
    v->dropped++;
  }
  return 0;
}

int mv_idvalues_build(mv_idvalues *v) {
  if (v->oom) return MV_ENOMEM;
  int rc = mv_ac_build(v->ac);
  if (rc != MV_OK) return rc;
  mv_ac_scanner *s = mv_ac_scanner_new(v->ac, excuse, v);
  if (!s) return MV_ENOMEM;
  for (size_t off = 0; off < v->kept_len;) {
    size_t len = v->kept_text[off++];
    mv_ac_scanner_reset(s);
    mv_ac_feed(s, v->kept_text + off, len);
    mv_ac_finish(s);
    off += len;
  }
  mv_ac_scanner_free(s);
  /* Only the automaton is needed from here on. */
  free(v->kept.slot);
  v->kept = (hashset){0};
  free(v->kept_text);
  v->kept_text = NULL;
  v->kept_len = v->kept_cap = 0;
  v->built = 1;
  return MV_OK;
}

const mv_ac *mv_idvalues_automaton(const mv_idvalues *v) { return v->ac; }
size_t mv_idvalues_count(const mv_idvalues *v) { return v->norg; }
size_t mv_idvalues_dropped(const mv_idvalues *v) { return v->dropped; }
size_t mv_idvalues_memory(const mv_idvalues *v) {
  return mv_ac_memory(v->ac) + v->corg * sizeof(origin) + v->kept.cap * 8 +
         v->kept_cap;
}

int mv_idvalues_is_date(const mv_idvalues *v, uint32_t id) {
  return id < v->norg && v->org[id].date;
}

int mv_idvalues_counts(const mv_idvalues *v, uint32_t id) {
  return id < v->norg && !v->org[id].dropped;
}

uint64_t mv_idvalues_origin_key(const mv_idvalues *v, uint32_t id) {
  if (id >= v->norg) return UINT64_MAX;
  const origin *o = &v->org[id];
  return ((uint64_t)o->tag << 16) | ((uint64_t)o->name_ix << 8) | o->part;
}

uint32_t mv_idvalues_tag(const mv_idvalues *v, uint32_t id) {
  return id < v->norg ? v->org[id].tag : 0;
}

/* Keywords of the attributes that most often carry identifying values. */
static const struct {
  uint32_t tag;
  const char *kw;
} keywords[] = {
    {0x00080012, "InstanceCreationDate"}, {0x00080018, "SOPInstanceUID"},
    {0x00080020, "StudyDate"}, {0x00080021, "SeriesDate"},
    {0x00080022, "AcquisitionDate"}, {0x00080023, "ContentDate"},
    {0x0008002A, "AcquisitionDateTime"}, {0x00080050, "AccessionNumber"},
    {0x00080080, "InstitutionName"}, {0x00080081, "InstitutionAddress"},
    {0x00080090, "ReferringPhysicianName"},
    {0x00080092, "ReferringPhysicianAddress"},
    {0x00080094, "ReferringPhysicianTelephoneNumbers"},
    {0x00081010, "StationName"}, {0x00081040, "InstitutionalDepartmentName"},
    {0x00081048, "PhysiciansOfRecord"}, {0x00081050, "PerformingPhysicianName"},
    {0x00081060, "NameOfPhysiciansReadingStudy"}, {0x00081070, "OperatorsName"},
    {0x00081155, "ReferencedSOPInstanceUID"},
    {0x00083010, "IrradiationEventUID"}, {0x00100010, "PatientName"},
    {0x00100020, "PatientID"}, {0x00100021, "IssuerOfPatientID"},
    {0x00100030, "PatientBirthDate"}, {0x00100032, "PatientBirthTime"},
    {0x00101000, "OtherPatientIDs"}, {0x00101001, "OtherPatientNames"},
    {0x00101005, "PatientBirthName"}, {0x00101040, "PatientAddress"},
    {0x00101060, "PatientMotherBirthName"},
    {0x00101090, "MedicalRecordLocator"},
    {0x00102154, "PatientTelephoneNumbers"}, {0x00104000, "PatientComments"},
    {0x001021B0, "AdditionalPatientHistory"}, {0x0020000D, "StudyInstanceUID"},
    {0x0020000E, "SeriesInstanceUID"}, {0x00200010, "StudyID"},
    {0x00200052, "FrameOfReferenceUID"},
    {0x00200200, "SynchronizationFrameOfReferenceUID"},
    {0x00321032, "RequestingPhysician"}, {0x00400009, "ScheduledProcedureStepID"},
    {0x00400244, "PerformedProcedureStepStartDate"},
    {0x00400253, "PerformedProcedureStepID"},
    {0x00401001, "RequestedProcedureID"}, {0x00880140, "StorageMediaFileSetUID"},
    {0, NULL}};

void mv_idvalues_describe(const mv_idvalues *v, uint32_t id, char *buf,
                          size_t n) {
  if (id >= v->norg) {
    snprintf(buf, n, "unknown");
    return;
  }
  const origin *o = &v->org[id];
  const char *label = o->part < sizeof part_label / sizeof part_label[0]
                          ? part_label[o->part]
                          : "";
  if (o->part == P_STEM) {
    snprintf(buf, n, "%s", label);
    return;
  }
  char what[160];
  if (o->tag) {
    const char *kw = NULL;
    for (size_t i = 0; keywords[i].kw && !kw; i++)
      if (keywords[i].tag == o->tag) kw = keywords[i].kw;
    snprintf(what, sizeof what, "%s%s(%04X,%04X)", kw ? kw : "",
             kw ? " " : "", (unsigned)(o->tag >> 16),
             (unsigned)(o->tag & 0xFFFF));
  } else {
    snprintf(what, sizeof what, "%s",
             o->name_ix ? v->names[o->name_ix - 1] : "an attribute");
  }
  snprintf(buf, n, "%s%s%s", what, label[0] ? " " : "", label);
}

int mv_idvalues_fuzzy(const mv_idvalues *v, const char *word,
                      const char **what) {
  if (mv_textphi_identifying(v->fz_names, word)) {
    *what = "a name part (fuzzy)";
    return 1;
  }
  if (mv_textphi_identifying(v->fz_ids, word)) {
    *what = "an ID (fuzzy)";
    return 1;
  }
  return 0;
}
