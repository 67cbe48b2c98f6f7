/* mv_scrub.c - replace identifying values and patterns in free text.
 *
 * The text is decoded once into case-folded code points (with the byte
 * offset of each), every matcher marks the code points it wants gone, and
 * each run of marked code points is written out as "***". Matchers:
 *  - needles built at add() time: name parts, text phrases and words (whole
 *    words, folded), IDs (compared with separators ignored);
 *  - dates, written in many spellings: any valid one, plus weaker spellings
 *    only when they equal one of the object's dates;
 *  - runs of digits (long numbers, SSN-like groups, phone numbers);
 *  - e-mail addresses and URLs.
 *
 * Folding lowercases ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic,
 * and also drops Latin accents ("MÜLLER", "Müller" and "Muller" all match):
 * free text often lost its accents on the way. One code point always folds
 * to one code point, so matches map back onto the original bytes.
 *
 * Name initials and one-letter name parts are deliberately not matched:
 * single letters are everywhere in clinical text ("T1", "C3", "L", "R").
 * Nor are PN prefixes and suffixes ("Dr", "Jr"), nor text words from a short
 * list of generic institution words ("Hospital", "Street"); the phrase they
 * are part of still is.
 *
 * A scrubber is read-only while scrubbing, so several threads may share it.
 * Nothing here prints or logs a value. */
#include "mv_scrub.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- Code points ---- */

/* Accent-free lowercase letter for U+00C0..U+017F; '?' = fold by case only. */
static const char latin_base[] =
    "aaaaaa?ceeeeiiii?nooooo?ouuuuy??"  /* U+00C0 */
    "aaaaaa?ceeeeiiii?nooooo?ouuuuy?y"  /* U+00E0 */
    "aaaaaaccccccccddddeeeeeeeeeegggg"  /* U+0100 */
    "gggghhhhiiiiiiiiii??jjkkklllllll"  /* U+0120 */
    "lllnnnnnnnnnoooooo??rrrrrrssssss"  /* U+0140 */
    "ssttttttuuuuuuuuuuuuwwyyyzzzzzzs"; /* U+0160 */

static uint32_t fold(uint32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  if (c >= 0xC0 && c < 0x180) {
    char b = latin_base[c - 0xC0];
    if (b != '?') return (uint32_t)(unsigned char)b;
    if (c <= 0xDE && c != 0xD7) return c + 0x20; /* Æ Ð Þ */
    if (c == 0x132 || c == 0x152) return c + 1;  /* Ĳ Œ */
    return c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20; /* Greek */
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;                /* Cyrillic */
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  return c;
}

/* Bytes that are not valid UTF-8 still become one unit each, so nothing is
 * ever read past the end. 0xA0..0xFF are read as Latin-1 (old writers),
 * other stray bytes as opaque surrogate code points. */
static uint32_t decode(const unsigned char *s, size_t len, size_t *i) {
  unsigned c = s[*i];
  if (c < 0x80) {
    (*i)++;
    return c;
  }
  size_t n;
  uint32_t cp, min;
  if (c >= 0xC2 && c <= 0xDF)
    n = 1, cp = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 2, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 3, cp = c & 0x07, min = 0x10000;
  else
    goto bad;
  if (len - *i <= n) goto bad;
  for (size_t k = 1; k <= n; k++) {
    unsigned b = s[*i + k];
    if ((b & 0xC0) != 0x80) goto bad;
    cp = cp << 6 | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
  *i += n + 1;
  return cp;
bad:
  (*i)++;
  return c >= 0xA0 ? c : 0xDC00 + c;
}

_Static_assert(sizeof latin_base == 0x180 - 0xC0 + 1, "one per code point");

static int is_digit(uint32_t c) { return c >= '0' && c <= '9'; }
/* c is an ASCII character of set (never matches NUL). */
static int in_set(uint32_t c, const char *set) {
  return c && c < 0x80 && strchr(set, (int)c) != NULL;
}
static int is_alpha_ascii(uint32_t c) { return c >= 'a' && c <= 'z'; }

static int is_space(uint32_t c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

/* Letters and digits, after folding. Beyond Latin-1 everything counts as a
 * letter except the usual punctuation, symbol and private blocks. */
static int is_word(uint32_t c) {
  if (c < 0x80) return is_digit(c) || is_alpha_ascii(c) || (c >= 'A' && c <= 'Z');
  if (c < 0xC0 || c == 0xD7 || c == 0xF7) return 0;
  if (c >= 0x2000 && c <= 0x2BFF) return 0;
  if (c >= 0x3000 && c <= 0x303F) return 0;
  if (c >= 0xD800 && c <= 0xF8FF) return 0;
  if (c >= 0xFE30 && c <= 0xFE4F) return 0;
  if (c >= 0xFF00 && c <= 0xFF0F) return 0;
  if ((c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
      (c >= 0xFF5B && c <= 0xFF65) || (c >= 0xFFF0 && c <= 0xFFFF))
    return 0;
  return 1;
}

static int is_letter(uint32_t c) { return is_word(c) && !is_digit(c); }

/* Han and kana are written without spaces, so word boundaries cannot be
 * asked of them. */
static int is_cjk(uint32_t c) {
  return (c >= 0x2E80 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x20000 && c <= 0x3FFFF);
}

/* May a match whose edge code point is `edge` sit next to `adj`? */
static int boundary(uint32_t adj, uint32_t edge) {
  return !is_word(adj) || !is_word(edge) || is_cjk(adj) || is_cjk(edge);
}

/* ---- The scrubber ---- */

enum { ND_WORD, ND_ID };

typedef struct {
  uint32_t *cp; /* folded; in words, ' ' stands for any run of spaces */
  size_t n;
  int kind;
} needle;

typedef struct {
  int y, m, d;
} ymd;

struct mv_scrub {
  needle *nd;
  size_t nn, ncap;
  ymd *dates;
  size_t ndates, dcap;
};

mv_scrub *mv_scrub_new(void) { return calloc(1, sizeof(mv_scrub)); }

void mv_scrub_reset(mv_scrub *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nn; i++) free(s->nd[i].cp);
  s->nn = 0;
  s->ndates = 0;
}

void mv_scrub_free(mv_scrub *s) {
  if (!s) return;
  mv_scrub_reset(s);
  free(s->nd);
  free(s->dates);
  free(s);
}

/* Takes ownership of cp (freed on failure or when already present). */
static int add_needle(mv_scrub *s, int kind, uint32_t *cp, size_t n) {
  for (size_t i = 0; i < s->nn; i++)
    if (s->nd[i].kind == kind && s->nd[i].n == n &&
        memcmp(s->nd[i].cp, cp, n * sizeof *cp) == 0) {
      free(cp);
      return 0;
    }
  if (s->nn == s->ncap) {
    size_t cap = s->ncap ? s->ncap * 2 : 16;
    needle *nd = realloc(s->nd, cap * sizeof *nd);
    if (!nd) {
      free(cp);
      return -1;
    }
    s->nd = nd;
    s->ncap = cap;
  }
  s->nd[s->nn++] = (needle){cp, n, kind};
  return 0;
}

static int add_copy(mv_scrub *s, int kind, const uint32_t *cp, size_t n) {
  uint32_t *c = malloc(n * sizeof *c);
  if (!c) return -1;
  memcpy(c, cp, n * sizeof *c);
  return add_needle(s, kind, c, n);
}

static size_t count_letters(const uint32_t *cp, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += is_letter(cp[i]);
  return k;
}

/* Joiners inside one name part: "Smith-Jones", "O'Brien". */
static int is_joiner(uint32_t c) { return c == '-' || c == '\'' || c == 0x2019; }

/* One word of a name: the whole (when it has joiners) and each piece. */
static int add_name_word(mv_scrub *s, const uint32_t *w, size_t n) {
  while (n && is_joiner(w[0])) w++, n--;
  while (n && is_joiner(w[n - 1])) n--;
  if (count_letters(w, n) < 2) return 0;
  if (add_copy(s, ND_WORD, w, n) != 0) return -1;
  size_t a = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && !is_joiner(w[i])) continue;
    if (a > 0 || i < n) /* a real piece, not the whole word again */
      if (count_letters(w + a, i - a) >= 2 &&
          add_copy(s, ND_WORD, w + a, i - a) != 0)
        return -1;
    a = i + 1;
  }
  return 0;
}

/* PN: groups split by '=', components by '^'. Prefix and suffix (components
 * 4 and 5: "Dr", "Jr", "III") identify nobody and are left alone. */
static int add_name(mv_scrub *s, const uint32_t *v, size_t n) {
  int comp = 0;
  size_t a = 0;
  for (size_t i = 0; i <= n; i++) {
    uint32_t c = i < n ? v[i] : '=';
    if (c == '^' || c == '=' || (!is_word(c) && !is_joiner(c))) {
      if (comp < 3 && i > a && add_name_word(s, v + a, i - a) != 0) return -1;
      if (c == '^') comp++;
      if (c == '=') comp = 0;
      a = i + 1;
    }
  }
  return 0;
}

static int add_id(mv_scrub *s, const uint32_t *v, size_t n) {
  uint32_t *c = malloc((n ? n : 1) * sizeof *c);
  if (!c) return -1;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (is_word(v[i])) c[k++] = v[i];
  if (k < 3) {
    free(c);
    return 0;
  }
  return add_needle(s, ND_ID, c, k);
}

/* Words of an institution or address that say nothing about who or where:
 * scrubbing them everywhere would only cost readability. */
static int stopword(const uint32_t *w, size_t n) {
  static const char *const list[] = {
      "hospital", "hospitals", "clinic",  "clinics",    "klinik",
      "klinikum", "center",    "centre",  "medical",    "medicine",
      "health",   "healthcare", "imaging", "radiology", "department",
      "institute", "university", "general", "street",    "road",
      "avenue",   "services",  "service", "care",       "unit"};
  for (size_t i = 0; i < sizeof list / sizeof *list; i++) {
    size_t k = 0;
    while (k < n && list[i][k] && w[k] == (uint32_t)list[i][k]) k++;
    if (k == n && !list[i][k]) return 1;
  }
  return 0;
}

#define MAX_PHRASE 512

static int add_text(mv_scrub *s, const uint32_t *v, size_t n) {
  uint32_t *p = malloc((n ? n : 1) * sizeof *p);
  if (!p) return -1;
  /* Whitespace-normalised phrase, without leading or trailing punctuation. */
  size_t k = 0, words = 0;
  for (size_t i = 0; i < n; i++) {
    if (is_space(v[i])) {
      if (k && p[k - 1] != ' ') p[k++] = ' ';
    } else {
      p[k++] = v[i];
      words += is_word(v[i]);
    }
  }
  size_t a = 0;
  while (a < k && !is_word(p[a])) a++;
  while (k > a && !is_word(p[k - 1])) k--;
  int rc = 0;
  /* Short phrases ("X") would hit everywhere; very long ones (a whole
   * report) never recur verbatim and would only slow matching down. */
  if (words >= 3 && k - a <= MAX_PHRASE) {
    memmove(p, p + a, (k - a) * sizeof *p);
    rc = add_needle(s, ND_WORD, p, k - a);
  } else {
    free(p);
  }
  /* And every word of four or more letters. */
  for (size_t i = 0; rc == 0 && i < n;) {
    if (!is_word(v[i])) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < n && is_word(v[j])) j++;
    if (count_letters(v + i, j - i) >= 4 && !stopword(v + i, j - i))
      rc = add_copy(s, ND_WORD, v + i, j - i);
    i = j;
  }
  return rc;
}

static int num(const uint32_t *c, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 + (int)(c[i] - '0');
  return v;
}

static int all_digits(const uint32_t *c, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!is_digit(c[i])) return 0;
  return 1;
}

static int dim(int y, int m) {
  static const unsigned char d[12] = {31, 28, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31};
  if (m == 2 && (y < 0 || (y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return 29; /* y < 0: two-digit year, leap unknown */
  return d[m - 1];
}

static int valid_md(int y, int m, int d) {
  return m >= 1 && m <= 12 && d >= 1 && d <= dim(y, m);
}

/* DA "YYYYMMDD", the old "YYYY.MM.DD" spellings, or a DT's date part. */
static int add_date(mv_scrub *s, const uint32_t *v, size_t n) {
  while (n && is_space(v[0])) v++, n--;
  while (n && is_space(v[n - 1])) n--;
  ymd d;
  if (n >= 10 && (v[4] == '.' || v[4] == '/' || v[4] == '-') && v[7] == v[4] &&
      all_digits(v, 4) && all_digits(v + 5, 2) && all_digits(v + 8, 2)) {
    d = (ymd){num(v, 4), num(v + 5, 2), num(v + 8, 2)};
  } else if (n >= 8 && all_digits(v, 8)) {
    d = (ymd){num(v, 4), num(v + 4, 2), num(v + 6, 2)};
  } else {
    return 0; /* not a date: the generic patterns still apply */
  }
  if (d.y < 1 || !valid_md(d.y, d.m, d.d)) return 0;
  for (size_t i = 0; i < s->ndates; i++)
    if (s->dates[i].y == d.y && s->dates[i].m == d.m && s->dates[i].d == d.d)
      return 0;
  if (s->ndates == s->dcap) {
    size_t cap = s->dcap ? s->dcap * 2 : 8;
    ymd *nd = realloc(s->dates, cap * sizeof *nd);
    if (!nd) return -1;
    s->dates = nd;
    s->dcap = cap;
  }
  s->dates[s->ndates++] = d;
  return 0;
}

int mv_scrub_add(mv_scrub *s, mv_scrub_kind kind, const char *value,
                 size_t len) {
  if (!s || !value || !len) return 0;
  uint32_t *v = malloc(len * sizeof *v);
  if (!v) return -1;
  const unsigned char *u = (const unsigned char *)value;
  int rc = 0;
  size_t i = 0;
  /* Multi-valued attributes: each backslash-separated value on its own. */
  while (rc == 0 && i < len) {
    size_t n = 0;
    while (i < len && u[i] != '\\') v[n++] = fold(decode(u, len, &i));
    if (i < len) i++;
    if (!n) continue;
    switch (kind) {
    case MV_SCRUB_NAME: rc = add_name(s, v, n); break;
    case MV_SCRUB_ID: rc = add_id(s, v, n); break;
    case MV_SCRUB_DATE: rc = add_date(s, v, n); break;
    default: rc = add_text(s, v, n); break;
    }
  }
  free(v);
  return rc;
}

/* ---- Scrubbing ---- */

typedef struct {
  uint32_t *cp;  /* folded code points */
  size_t *off;   /* byte offset of each; off[n] == byte length */
  unsigned char *hit;
  size_t n;
} text;

static void mark(text *t, size_t a, size_t b) {
  if (b > t->n) b = t->n;
  if (a < b) memset(t->hit + a, 1, b - a);
}

static uint32_t at(const text *t, size_t i) { return i < t->n ? t->cp[i] : 0; }

/* Match a word/phrase needle at i; returns the end or 0. */
static size_t match_word(const text *t, size_t i, const needle *nd) {
  size_t j = i;
  for (size_t k = 0; k < nd->n; k++) {
    if (nd->cp[k] == ' ') {
      if (j >= t->n || !is_space(t->cp[j])) return 0;
      while (j < t->n && is_space(t->cp[j])) j++;
    } else {
      if (j >= t->n || t->cp[j] != nd->cp[k]) return 0;
      j++;
    }
  }
  return j;
}

/* Match an ID at i, skipping up to three separator code points between its
 * characters ("AB-123 45" for "AB12345"); returns the end or 0. */
static size_t match_id(const text *t, size_t i, const needle *nd) {
  size_t j = i;
  for (size_t k = 0; k < nd->n; k++) {
    if (k) {
      size_t skip = 0;
      while (j < t->n && !is_word(t->cp[j]) && skip < 3) j++, skip++;
    }
    if (j >= t->n || t->cp[j] != nd->cp[k]) return 0;
    j++;
  }
  return j;
}

/* Long IDs may also touch letters on a letter/digit change ("MRN1234567"). */
static int id_boundary(uint32_t adj, uint32_t edge, size_t len) {
  if (boundary(adj, edge)) return 1;
  return len >= 6 && is_digit(adj) != is_digit(edge);
}

static void scan_needles(const mv_scrub *s, text *t) {
  for (size_t i = 0; i < t->n; i++) {
    uint32_t c = t->cp[i];
    if (!is_word(c)) continue;
    uint32_t prev = i ? t->cp[i - 1] : ' ';
    for (size_t k = 0; k < s->nn; k++) {
      const needle *nd = &s->nd[k];
      if (nd->cp[0] != c) continue;
      uint32_t last = nd->cp[nd->n - 1];
      size_t end;
      if (nd->kind == ND_ID) {
        if (!id_boundary(prev, c, nd->n)) continue;
        end = match_id(t, i, nd);
        if (end && (end == t->n || id_boundary(t->cp[end], last, nd->n)))
          mark(t, i, end);
      } else {
        if (!boundary(prev, c)) continue;
        end = match_word(t, i, nd);
        if (end && (end == t->n || boundary(t->cp[end], last)))
          mark(t, i, end);
      }
    }
  }
}

/* -- Dates -- */

static size_t digit_run(const text *t, size_t i) {
  size_t j = i;
  while (j < t->n && is_digit(t->cp[j])) j++;
  return j - i;
}

static size_t letter_run(const text *t, size_t i) {
  size_t j = i;
  while (j < t->n && is_letter(t->cp[j])) j++;
  return j - i;
}

/* English month name or abbreviation filling exactly the letter run at i. */
static int month_at(const text *t, size_t i, size_t *len) {
  static const char *const names[12] = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  size_t n = letter_run(t, i);
  if (n < 3 || n > 9) return 0;
  for (int m = 0; m < 12; m++) {
    size_t full = strlen(names[m]), k = 0;
    while (k < n && k < full && t->cp[i + k] == (uint32_t)names[m][k]) k++;
    if (k == n && (n == 3 || n == full || (m == 8 && n == 4))) {
      *len = n;
      return m + 1;
    }
  }
  return 0;
}

/* Skip up to `max` separators from `set`; returns how many. */
static size_t skip_set(const text *t, size_t i, const char *set, size_t max) {
  size_t k = 0;
  while (k < max && i + k < t->n && in_set(t->cp[i + k], set)) k++;
  return k;
}

/* "st", "nd", "rd", "th" after a day number. */
static size_t ordinal(const text *t, size_t i) {
  if (letter_run(t, i) != 2) return 0;
  uint32_t a = t->cp[i], b = t->cp[i + 1];
  if ((a == 's' && b == 't') || (a == 'n' && b == 'd') ||
      (a == 'r' && b == 'd') || (a == 't' && b == 'h'))
    return 2;
  return 0;
}

typedef struct {
  int y;        /* four digits, or the two-digit value when y2 */
  int y2;       /* year written with two digits */
  int m1, d1;   /* reading one */
  int m2, d2;   /* reading two (day/month swapped), 0 if none */
  int strong;   /* a date whichever date it is, not only the object's */
  int no_day;   /* "March 1961", "03/1961": weak, month and year only */
} date_cand;

/* A date spelling starting at i (already at a word start); returns its end
 * or 0. */
static size_t date_at(const text *t, size_t i, date_cand *c) {
  memset(c, 0, sizeof *c);
  size_t n1 = digit_run(t, i), j;
  if (n1 == 4) { /* YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD (or spaces: weak) */
    uint32_t sep = at(t, i + 4);
    if (sep != '-' && sep != '/' && sep != '.' && sep != ' ') return 0;
    size_t n2 = digit_run(t, i + 5);
    if (n2 < 1 || n2 > 2 || at(t, i + 5 + n2) != sep) return 0;
    size_t n3 = digit_run(t, i + 6 + n2);
    if (n3 < 1 || n3 > 2) return 0;
    j = i + 6 + n2 + n3;
    c->y = num(t->cp + i, 4);
    c->m1 = num(t->cp + i + 5, n2);
    c->d1 = num(t->cp + i + 6 + n2, n3);
    c->strong = sep != ' ';
    return j;
  }
  if (n1 == 1 || n1 == 2) {
    int a = num(t->cp + i, n1);
    uint32_t sep = at(t, i + n1);
    size_t n2 = 0, n3 = 0;
    if (sep == '-' || sep == '/' || sep == '.' || sep == ' ')
      n2 = digit_run(t, i + n1 + 1);
    if (n2 == 4 && sep != ' ' && !is_digit(at(t, i + n1 + 5)) &&
        at(t, i + n1 + 5) != sep) { /* "03/1961" */
      c->y = num(t->cp + i + n1 + 1, 4);
      c->m1 = a;
      c->no_day = 1;
      return i + n1 + 5;
    }
    if (n2 == 1 || n2 == 2) { /* D/M/Y or M/D/Y */
      if (at(t, i + n1 + 1 + n2) != sep) return 0;
      size_t ys = i + n1 + 2 + n2;
      n3 = digit_run(t, ys);
      if (n3 != 2 && n3 != 4) return 0;
      j = ys + n3;
      /* Part of a longer dotted number (version, UID, address)? */
      if (at(t, j) == sep && is_digit(at(t, j + 1))) return 0;
      if (i >= 2 && t->cp[i - 1] == sep && is_digit(t->cp[i - 2])) return 0;
      int b = num(t->cp + i + n1 + 1, n2);
      c->y = num(t->cp + ys, n3);
      c->y2 = n3 == 2;
      c->d1 = a, c->m1 = b; /* day first */
      c->m2 = a, c->d2 = b; /* month first */
      c->strong = sep != ' ' && (n3 == 4 || sep != '-');
      return j;
    }
    /* "12 Mar 1961", "12th March 1961", "12-MAR-1961" */
    j = i + n1;
    j += ordinal(t, j);
    j += skip_set(t, j, " -./", 3);
    size_t ml;
    int m = month_at(t, j, &ml);
    if (!m) return 0;
    j += ml;
    size_t k = skip_set(t, j, " -.,/", 3);
    if (!k && is_letter(at(t, j))) return 0;
    j += k;
    n3 = digit_run(t, j);
    if (n3 != 2 && n3 != 4) return 0;
    c->y = num(t->cp + j, n3);
    c->y2 = n3 == 2;
    c->d1 = a, c->m1 = m;
    c->strong = 1;
    return j + n3;
  }
  if (n1 == 0) { /* "Mar 12, 1961", "March 12th 1961" */
    size_t ml;
    int m = month_at(t, i, &ml);
    if (!m) return 0;
    j = i + ml;
    size_t k = skip_set(t, j, " -.", 3);
    if (!k) return 0;
    j += k;
    size_t n2 = digit_run(t, j);
    if (n2 == 4) { /* "March 1961" */
      c->y = num(t->cp + j, 4);
      c->m1 = m;
      c->no_day = 1;
      return j + 4;
    }
    if (n2 < 1 || n2 > 2) return 0;
    c->d1 = num(t->cp + j, n2), c->m1 = m;
    j += n2;
    j += ordinal(t, j);
    k = skip_set(t, j, " ,.-", 3);
    if (!k) return 0;
    j += k;
    size_t n3 = digit_run(t, j);
    if (n3 != 2 && n3 != 4) return 0;
    c->y = num(t->cp + j, n3);
    c->y2 = n3 == 2;
    c->strong = n3 == 4;
    return j + n3;
  }
  return 0;
}

static int date_is(const date_cand *c, int m, int d, const ymd *o) {
  if (m != o->m || d != o->d) return 0;
  return c->y2 ? c->y == o->y % 100 : c->y == o->y;
}

static int date_accept(const mv_scrub *s, const date_cand *c) {
  if (c->no_day) {
    for (size_t i = 0; s && i < s->ndates; i++)
      if (s->dates[i].y == c->y && s->dates[i].m == c->m1) return 1;
    return 0;
  }
  int y = c->y2 ? -1 : c->y;
  int ok1 = valid_md(y, c->m1, c->d1), ok2 = c->m2 && valid_md(y, c->m2, c->d2);
  if (!ok1 && !ok2) return 0;
  if (c->strong && (c->y2 || (c->y >= 1000 && c->y <= 2999))) return 1;
  for (size_t i = 0; s && i < s->ndates; i++)
    if ((ok1 && date_is(c, c->m1, c->d1, &s->dates[i])) ||
        (ok2 && date_is(c, c->m2, c->d2, &s->dates[i])))
      return 1;
  return 0;
}

static void scan_dates(const mv_scrub *s, text *t) {
  for (size_t i = 0; i < t->n; i++) {
    uint32_t c = t->cp[i];
    if (!is_word(c) || (i && is_word(t->cp[i - 1]))) continue;
    if (!is_digit(c) && !in_set(c, "adfjmnos")) continue; /* month initials */
    date_cand dc;
    size_t end = date_at(t, i, &dc);
    /* ISO "2019-03-04T10:00" may run on into its time. */
    int iso_t = at(t, end) == 't' && is_digit(at(t, end + 1));
    if (!end || (is_word(at(t, end)) && !iso_t) || !date_accept(s, &dc))
      continue;
    mark(t, i, end);
    i = end - 1;
  }
}

/* -- Numbers: long runs, grouped IDs, phone numbers -- */

typedef struct {
  size_t a, b;     /* digits [a, b) */
  int spaced;      /* the gap before this group has a space or parenthesis */
  uint32_t punct;  /* or it is this single '-', '.' or '/' */
} group;

/* At most this many groups are tried as one number. */
#define MAX_GROUPS 8

static int number_ok(const text *t, const group *g, size_t s, size_t e) {
  size_t total = 0, maxg = 0, all2 = 1, allge2 = 1;
  int spaced = 0, paren = 0;
  for (size_t k = s; k < e; k++) {
    size_t d = g[k].b - g[k].a;
    total += d;
    if (d > maxg) maxg = d;
    if (d != 2) all2 = 0;
    if (d < 2) allge2 = 0;
    if (k > s && g[k].spaced) spaced = 1;
    for (size_t x = k > s ? g[k - 1].b : g[k].a; x < g[k].a; x++)
      if (t->cp[x] == '(' || t->cp[x] == ')') paren = 1;
  }
  if (e - s == 1) return total >= 5;
  /* The ends must not touch letters ("C3-C4" never gets here, "A123-45"
   * would glue onto a word). */
  size_t a = g[s].a, b = g[e - 1].b;
  int plus = a && (t->cp[a - 1] == '+' || t->cp[a - 1] == '(');
  if (plus && t->cp[a - 1] == '(') paren = 1;
  if (plus) a--;
  if ((a && is_word(t->cp[a - 1])) || (b < t->n && is_word(t->cp[b]))) return 0;
  if (!spaced) {
    /* "120.50" is a decimal, "400/4000" a window, "100-200" a range, but
     * "555-1234" a phone number; three or more groups are an ID. */
    if (e - s == 2) return g[s + 1].punct == '-' && total >= 7;
    return total >= 6; /* "1.2.3.10" is a version, "12-03-62" a date */
  }
  if (total > 15) return 0;
  if (plus || paren) return total >= 7;
  /* "555 123 4567", "0171 1234567", "123 45 6789", "01 23 45 67 89";
   * "12 03 1962" and "1990 2000" are too short for this. */
  if (total < 9) return 0;
  size_t first = g[s].b - g[s].a, last = g[e - 1].b - g[e - 1].a;
  if (allge2 && first >= 2 && maxg >= 3 && last >= 4) return 1;
  return all2 && e - s >= 4 && total == 10 && t->cp[g[s].a] == '0';
}

/* Grows *g to hold at least n groups. */
static int reserve(group **g, size_t *cap, size_t n) {
  if (n <= *cap) return 0;
  size_t c = *cap ? *cap * 2 : 16;
  group *ng = realloc(*g, c * sizeof *ng);
  if (!ng) return -1;
  *g = ng;
  *cap = c;
  return 0;
}

static int scan_numbers(text *t) {
  group *g = NULL;
  size_t cap = 0;
  size_t i = 0;
  while (i < t->n) {
    if (!is_digit(t->cp[i])) {
      i++;
      continue;
    }
    /* Collect a chain of digit groups joined by short separators. */
    size_t ng = 0, j = i;
    for (;;) {
      if (reserve(&g, &cap, ng + 1) != 0) {
        free(g);
        return -1;
      }
      size_t b = j + digit_run(t, j);
      g[ng].a = j;
      g[ng].b = b;
      ng++;
      size_t k = b, spaces = 0, puncts = 0, parens = 0;
      uint32_t p = 0;
      while (k < t->n && k - b < 3) {
        uint32_t c = t->cp[k];
        if (c == ' ' || c == 0xA0)
          spaces++;
        else if (c == '(' || c == ')')
          parens++;
        else if (c == '-' || c == '.' || c == '/')
          puncts++, p = c;
        else
          break;
        k++;
      }
      /* " / " or " - " rather separates two numbers than joins one. */
      if (k == b || k >= t->n || !is_digit(t->cp[k]) || puncts > 1 ||
          spaces > 2 || parens > 2 || (spaces && puncts))
        break;
      if (reserve(&g, &cap, ng + 1) != 0) {
        free(g);
        return -1;
      }
      g[ng].spaced = spaces || parens;
      g[ng].punct = spaces || parens ? 0 : p;
      j = k;
    }
    g[0].spaced = 0;
    g[0].punct = 0;
    /* Longest acceptable number from each group on. */
    for (size_t s = 0; s < ng;) {
      size_t e = s + MAX_GROUPS < ng ? s + MAX_GROUPS : ng;
      for (; e > s; e--)
        if (number_ok(t, g, s, e)) break;
      if (e == s) {
        s++;
        continue;
      }
      size_t a = g[s].a, b = g[e - 1].b;
      if (a && (t->cp[a - 1] == '+' || t->cp[a - 1] == '(')) a--;
      if (b < t->n && t->cp[b] == ')' && a < g[s].a && t->cp[a] == '(') b++;
      mark(t, a, b);
      s = e;
    }
    i = g[ng - 1].b;
  }
  free(g);
  return 0;
}

/* -- E-mail addresses and URLs -- */

static int email_local(uint32_t c) {
  return is_word(c) || in_set(c, ".!#$%&'*+/=?^_`{|}~-");
}

static int email_domain(uint32_t c) { return is_word(c) || c == '-' || c == '.'; }

static void scan_email(text *t) {
  for (size_t k = 0; k < t->n; k++) {
    if (t->cp[k] != '@') continue;
    size_t a = k;
    while (a > 0 && email_local(t->cp[a - 1])) a--;
    size_t b = k + 1;
    while (b < t->n && email_domain(t->cp[b])) b++;
    while (b > k + 1 && (t->cp[b - 1] == '.' || t->cp[b - 1] == '-')) b--;
    if (a == k || b == k + 1) continue;
    /* Needs a dot and a top-level label of two or more letters. */
    size_t dot = b;
    while (dot > k + 1 && t->cp[dot - 1] != '.') dot--;
    if (dot <= k + 2 || b - dot < 2) continue;
    int tld = 1;
    for (size_t x = dot; x < b; x++) tld &= is_letter(t->cp[x]);
    if (!tld) continue;
    mark(t, a, b);
    k = b - 1;
  }
}

static int prefix_at(const text *t, size_t i, const char *p) {
  for (size_t k = 0; p[k]; k++)
    if (at(t, i + k) != (uint32_t)(unsigned char)p[k]) return 0;
  return 1;
}

static void scan_urls(text *t) {
  static const char *const pre[] = {"http://", "https://", "ftp://",
                                    "ftps://", "file://",  "www."};
  for (size_t i = 0; i < t->n; i++) {
    uint32_t c = t->cp[i];
    if ((c != 'h' && c != 'f' && c != 'w') || (i && is_word(t->cp[i - 1])))
      continue;
    size_t p = 0;
    while (p < sizeof pre / sizeof *pre && !prefix_at(t, i, pre[p])) p++;
    if (p == sizeof pre / sizeof *pre) continue;
    size_t b = i;
    while (b < t->n && !is_space(t->cp[b]) && t->cp[b] >= 0x20 &&
           !in_set(t->cp[b], "<>\"'"))
      b++;
    while (b > i && in_set(t->cp[b - 1], ".,;:!?)]}")) b--;
    if (b <= i + strlen(pre[p])) continue; /* a bare "www." */
    mark(t, i, b);
    i = b - 1;
  }
}

/* -- Driver -- */

int mv_scrub_text(const mv_scrub *s, const char *in, size_t len, char **out,
                  size_t *outlen) {
  if (!out) return -1;
  *out = NULL;
  if (outlen) *outlen = 0;
  if (!in) len = 0;
  text t = {0};
  int rc = -1;
  size_t cap = len ? len : 1;
  t.cp = malloc(cap * sizeof *t.cp);
  t.off = malloc((cap + 1) * sizeof *t.off);
  t.hit = calloc(cap, 1);
  if (!t.cp || !t.off || !t.hit) goto done;
  const unsigned char *u = (const unsigned char *)in;
  for (size_t i = 0; i < len;) {
    t.off[t.n] = i;
    t.cp[t.n++] = fold(decode(u, len, &i));
  }
  t.off[t.n] = len;

  if (s && s->nn) scan_needles(s, &t);
  scan_dates(s, &t);
  if (scan_numbers(&t) != 0) goto done;
  scan_email(&t);
  scan_urls(&t);

  /* Each run of marked code points becomes one "***". */
  size_t size = 0, runs = 0;
  for (size_t i = 0; i < t.n; i++) {
    if (!t.hit[i])
      size += t.off[i + 1] - t.off[i];
    else if (!i || !t.hit[i - 1])
      size += 3, runs++;
  }
  char *o = malloc(size + 1), *w = o;
  if (!o) goto done;
  for (size_t i = 0; i < t.n; i++) {
    if (!t.hit[i]) {
      memcpy(w, in + t.off[i], t.off[i + 1] - t.off[i]);
      w += t.off[i + 1] - t.off[i];
    } else if (!i || !t.hit[i - 1]) {
      memcpy(w, "***", 3);
      w += 3;
    }
  }
  *w = 0;
  *out = o;
  if (outlen) *outlen = size;
  rc = runs > (size_t)0x7fffffff ? 0x7fffffff : (int)runs;
done:
  free(t.cp);
  free(t.off);
  free(t.hit);
  return rc;
}
