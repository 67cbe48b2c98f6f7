/* mv_textphi.c - allow-list and fuzzy identifier matching for OCR words. */
#include "mv_textphi.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct value {
  mv_scrub_kind kind;
  char *folded; /* upper-case ASCII letters and digits */
} value;

struct mv_textphi {
  value *v;
  size_t n, cap;
};

mv_textphi *mv_textphi_new(void) { return calloc(1, sizeof(mv_textphi)); }

void mv_textphi_reset(mv_textphi *t) {
  for (size_t i = 0; i < t->n; i++) free(t->v[i].folded);
  t->n = 0;
}

void mv_textphi_free(mv_textphi *t) {
  if (!t) return;
  mv_textphi_reset(t);
  free(t->v);
  free(t);
}

/* Latin-1 supplement letters (U+00C0..U+00FF) to their base letter. */
static const char latin1_base[] =
    "AAAAAAACEEEEIIII"  /* C0-CF */
    "DNOOOOOxOUUUUYTS"  /* D0-DF: D7 multiplication sign, DE thorn, DF sz */
    "AAAAAAACEEEEIIII"  /* E0-EF */
    "DNOOOOO/OUUUUYTY"; /* F0-FF */

size_t mv_textphi_fold(const char *s, char *dst, size_t cap) {
  size_t n = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p && n + 1 < cap) {
    unsigned c = *p;
    if (c < 0x80) {
      if (isalnum(c)) dst[n++] = (char)toupper(c);
      p++;
    } else if (c == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF) {
      unsigned cp = 0xC0 + (p[1] - 0x80);
      char b = latin1_base[cp - 0xC0];
      if (b >= 'A' && b <= 'Z') dst[n++] = b;
      p += 2;
    } else {
      /* Other scripts and symbols: skip the whole sequence. */
      p++;
      while ((*p & 0xC0) == 0x80) p++;
    }
  }
  dst[n] = 0;
  return n;
}

static int push(mv_textphi *t, mv_scrub_kind kind, const char *s, size_t n) {
  char raw[256], folded[256];
  if (n >= sizeof raw) n = sizeof raw - 1;
  memcpy(raw, s, n);
  raw[n] = 0;
  size_t len = mv_textphi_fold(raw, folded, sizeof folded);
  if (len < 2) return 0;
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].kind == kind && strcmp(t->v[i].folded, folded) == 0) return 0;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    value *g = realloc(t->v, cap * sizeof *g);
    if (!g) return -1;
    t->v = g;
    t->cap = cap;
  }
  t->v[t->n].kind = kind;
  t->v[t->n].folded = strdup(folded);
  if (!t->v[t->n].folded) return -1;
  t->n++;
  return 0;
}

int mv_textphi_add(mv_textphi *t, mv_scrub_kind kind, const char *v,
                   size_t n) {
  if (!v || n == 0) return 0;
  if (kind == MV_SCRUB_NAME || kind == MV_SCRUB_TEXT) {
    /* Name parts: split on '^', '=', spaces, commas, hyphens. */
    size_t i = 0;
    while (i < n) {
      while (i < n && strchr("^= ,-.", v[i])) i++;
      size_t start = i;
      while (i < n && !strchr("^= ,-.", v[i])) i++;
      if (i > start && push(t, MV_SCRUB_NAME, v + start, i - start)) return -1;
    }
    return 0;
  }
  if (kind == MV_SCRUB_ID) return push(t, MV_SCRUB_ID, v, n);
  return 0; /* dates: the scrubber's job */
}

static size_t levenshtein(const char *a, const char *b, size_t limit) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return limit + 1;
  size_t d = la > lb ? la - lb : lb - la;
  if (d > limit) return limit + 1;
  size_t prev[65], cur[65];
  for (size_t j = 0; j <= lb; j++) prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, (lb + 1) * sizeof *prev);
  }
  return prev[lb];
}

static int all_digits(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return 0;
  return 1;
}

/* Letters OCR reads for digits, mapped back: O/Q/D 0, I/L 1, Z 2, S 5,
 * G 6, T 7, B 8. IDs are compared in this form. */
static void ocr_digits(const char *s, char *dst, size_t cap) {
  static const char from[] = "OQDILZSGTB", to[] = "0001125678";
  size_t n = 0;
  for (; *s && n + 1 < cap; s++) {
    const char *k = strchr(from, *s);
    dst[n++] = k ? to[k - from] : *s;
  }
  dst[n] = 0;
}

int mv_textphi_identifying(const mv_textphi *t, const char *word) {
  char w[256];
  size_t lw = mv_textphi_fold(word, w, sizeof w);
  if (lw < 2) return 0;
  for (size_t i = 0; i < t->n; i++) {
    const char *v = t->v[i].folded;
    size_t lv = strlen(v);
    if (t->v[i].kind == MV_SCRUB_NAME) {
      if (strcmp(w, v) == 0) return 1;
      if (lw >= 4 && levenshtein(w, v, lw >= 8 ? 2 : 1) <= (lw >= 8 ? 2u : 1u))
        return 1;
      /* Truncated on screen ("PATIENTFI..."), or glued to a neighbour
       * ("SMITHJOHN"). */
      if (lw >= 4 && lv > lw && strncmp(v, w, lw) == 0) return 1;
      if (lv >= 4 && lw > lv && strstr(w, v)) return 1;
    } else {
      if (strcmp(w, v) == 0) return 1;
      if (lv >= 4 && strstr(w, v)) return 1;
      /* Part of a long ID split by separators on screen. */
      if (lv >= 6 && lw >= 3 && strstr(v, w) && (all_digits(w) || lw >= 4))
        return 1;
      /* OCR misreads in an ID: letters read for digits ("MRN1O83947"),
       * one or two characters wrong, a prefix glued on ("ID:00123"). */
      if (lv >= 6 && lw >= 6) {
        char wn[256], vn[256];
        ocr_digits(w, wn, sizeof wn);
        ocr_digits(v, vn, sizeof vn);
        if (strstr(wn, vn) || (strlen(wn) >= 6 && strstr(vn, wn))) return 1;
        size_t limit = lv >= 10 ? 2 : 1;
        if (levenshtein(wn, vn, limit) <= limit) return 1;
      }
    }
  }
  return 0;
}

/* Match one allow-list token against a folded-case word. */
static int number_at(const char *w, size_t *used) {
  size_t i = 0, digits = 0;
  while (isdigit((unsigned char)w[i])) i++, digits++;
  if (digits == 0 || digits > 3) return 0;
  if ((w[i] == '.' || w[i] == ',') && isdigit((unsigned char)w[i + 1])) {
    i++;
    size_t frac = 0;
    while (isdigit((unsigned char)w[i])) i++, frac++;
    if (frac > 3) return 0;
  }
  *used = i;
  return 1;
}

static int token_match(const char *tok, const char *w) {
  while (*tok) {
    if (*tok == '#') {
      size_t used = 0;
      if (!number_at(w, &used)) return 0;
      w += used;
      tok++;
      continue;
    }
    if (toupper((unsigned char)*tok) != toupper((unsigned char)*w)) return 0;
    tok++;
    w++;
  }
  return *w == 0;
}

int mv_textphi_allowed(const mv_pixel_settings *s, const char *word) {
  /* Strip surrounding punctuation. */
  const char *b = word, *e = word + strlen(word);
  static const char punct[] = ".,;:()[]{}\"'|!*_";
  while (b < e && strchr(punct, *b)) b++;
  while (e > b && strchr(punct, e[-1])) e--;
  int informative = 0;
  for (const char *p = b; p < e; p++)
    if (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80) informative = 1;
  if (!informative) return 1;
  char w[128];
  size_t n = (size_t)(e - b);
  if (n >= sizeof w) return 0;
  memcpy(w, b, n);
  w[n] = 0;
  for (size_t i = 0; i < s->nallow; i++)
    if (token_match(s->allow[i], w)) return 1;
  return 0;
}
