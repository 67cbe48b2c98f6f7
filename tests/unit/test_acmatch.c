/* test_acmatch.c - the leak check's multi-pattern automaton: overlapping
 * patterns, matches across chunk boundaries, case and separator folding,
 * boundaries, duplicates, and agreement with a naive search. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "medveil/errors.h"
#include "mv_acmatch.h"
#include "mv_test.h"

typedef struct hit {
  uint32_t id;
  uint64_t start, end;
} hit;

typedef struct hits {
  hit h[4096];
  size_t n;
} hits;

static int collect(void *ud, uint32_t id, uint64_t start, uint64_t end) {
  hits *hs = ud;
  if (hs->n < sizeof hs->h / sizeof hs->h[0])
    hs->h[hs->n++] = (hit){id, start, end};
  return 0;
}

static int has(const hits *hs, uint32_t id, uint64_t start, uint64_t end) {
  for (size_t i = 0; i < hs->n; i++)
    if (hs->h[i].id == id && hs->h[i].start == start && hs->h[i].end == end)
      return 1;
  return 0;
}

static size_t count_id(const hits *hs, uint32_t id) {
  size_t c = 0;
  for (size_t i = 0; i < hs->n; i++) c += hs->h[i].id == id;
  return c;
}

static uint32_t add(mv_ac *ac, const char *p, unsigned flags) {
  uint32_t id = UINT32_MAX;
  int added = 0;
  CHECK(mv_ac_add(ac, p, strlen(p), flags, &id, &added) == MV_OK);
  return id;
}

/* Scan `text` in chunks of `chunk` bytes (0: all at once). */
static void scan(const mv_ac *ac, const char *text, size_t len, size_t chunk,
                 hits *hs) {
  hs->n = 0;
  mv_ac_scanner *s = mv_ac_scanner_new(ac, collect, hs);
  CHECK(s != NULL);
  if (!s) return;
  if (!chunk) chunk = len ? len : 1;
  for (size_t off = 0; off < len; off += chunk)
    mv_ac_feed(s, text + off, off + chunk <= len ? chunk : len - off);
  mv_ac_finish(s);
  mv_ac_scanner_free(s);
}

static void test_overlaps(void) {
  mv_ac *ac = mv_ac_new();
  uint32_t he = add(ac, "he", 0), she = add(ac, "she", 0),
           his = add(ac, "his", 0), hers = add(ac, "hers", 0);
  CHECK(mv_ac_build(ac) == MV_OK);
  hits hs;
  const char *t = "ushers";
  scan(ac, t, strlen(t), 0, &hs);
  CHECK(hs.n == 3);
  CHECK(has(&hs, she, 1, 4));
  CHECK(has(&hs, he, 2, 4));
  CHECK(has(&hs, hers, 2, 6));
  CHECK(count_id(&hs, his) == 0);
  /* Overlapping occurrences of one pattern are all reported. */
  mv_ac *aa = mv_ac_new();
  uint32_t a3 = add(aa, "aaa", 0);
  CHECK(mv_ac_build(aa) == MV_OK);
  scan(aa, "aaaaa", 5, 0, &hs);
  CHECK(count_id(&hs, a3) == 3);
  mv_ac_free(aa);
  mv_ac_free(ac);
}

static void test_chunks(void) {
  mv_ac *ac = mv_ac_new();
  uint32_t name = add(ac, "DOE^JOHN", 0);
  uint32_t id = add(ac, "12345678", MV_AC_NUMBER);
  CHECK(mv_ac_build(ac) == MV_OK);
  const char *t = "xx doe john yy 12345678 zz 123456789 DOE^JOHN";
  size_t len = strlen(t);
  for (size_t chunk = 1; chunk <= len; chunk++) {
    hits hs;
    scan(ac, t, len, chunk, &hs);
    CHECK(hs.n == 3);
    CHECK(has(&hs, name, 3, 11));
    CHECK(has(&hs, id, 15, 23));
    CHECK(has(&hs, name, 37, 45));
  }
  mv_ac_free(ac);
}

static void test_folding(void) {
  mv_ac *ac = mv_ac_new();
  uint32_t name = add(ac, "Doe^John", 0);
  CHECK(mv_ac_build(ac) == MV_OK);
  hits hs;
  /* Case, '^', '_', '\\', NUL and space padding (runs collapse). */
  static const char t[] = "DOE JOHN|doe_john|Doe^^John|DOE \0\0JOHN|dOe\\jOhN";
  scan(ac, t, sizeof t - 1, 0, &hs);
  CHECK(count_id(&hs, name) == 5);
  CHECK(has(&hs, name, 28, 38)); /* raw range includes the padding */
  /* Not folded: other punctuation. */
  scan(ac, "doe-john doe.john", 17, 0, &hs);
  CHECK(hs.n == 0);
  /* Duplicates after folding keep the first id. */
  mv_ac *d = mv_ac_new();
  uint32_t a = add(d, "SMITH", 0), b = UINT32_MAX;
  int added = 1;
  CHECK(mv_ac_add(d, "smith ", 6, MV_AC_WORD, &b, &added) == MV_OK);
  CHECK(a == b && !added);
  CHECK(mv_ac_patterns(d) == 1);
  uint32_t e;
  CHECK(mv_ac_add(d, "^ \\", 3, 0, &e, &added) == MV_EINVAL);
  mv_ac_free(d);
  mv_ac_free(ac);
}

static void test_boundaries(void) {
  mv_ac *ac = mv_ac_new();
  uint32_t w = add(ac, "lee", MV_AC_WORD);
  uint32_t num = add(ac, "20010203", MV_AC_NUMBER);
  uint32_t uid = add(ac, "1.2.3.4", MV_AC_UID);
  CHECK(mv_ac_build(ac) == MV_OK);
  hits hs;
  const char *t = "sleeve LEE^x lee";
  scan(ac, t, strlen(t), 0, &hs);
  CHECK(count_id(&hs, w) == 2);
  CHECK(has(&hs, w, 7, 10) && has(&hs, w, 13, 16));
  t = "120010203 20010203a 20010203";
  for (size_t chunk = 1; chunk < 4; chunk++) {
    scan(ac, t, strlen(t), chunk, &hs);
    CHECK(count_id(&hs, num) == 2);
    CHECK(has(&hs, num, 10, 18) && has(&hs, num, 20, 28));
  }
  t = "1.2.3.45 1.2.3.4.5 x1.2.3.4 [1.2.3.4]";
  scan(ac, t, strlen(t), 0, &hs);
  CHECK(count_id(&hs, uid) == 2);
  CHECK(has(&hs, uid, 20, 27) && has(&hs, uid, 29, 36));
  mv_ac_free(ac);
}

/* Random patterns over a small alphabet against a naive search. */
static void test_random(void) {
  srand(7);
  const char alpha[] = "abAB ";
  char pats[60][8];
  mv_ac *ac = mv_ac_new();
  size_t np = 0;
  for (int i = 0; i < 60; i++) {
    size_t len = 2 + (size_t)(rand() % 5);
    for (size_t k = 0; k < len; k++) pats[i][k] = "abAB"[rand() % 4];
    pats[i][len] = 0;
    uint32_t id;
    int added;
    if (mv_ac_add(ac, pats[i], len, 0, &id, &added) == MV_OK && added) np++;
    CHECK(id <= (uint32_t)i);
  }
  CHECK(mv_ac_patterns(ac) == np);
  CHECK(mv_ac_build(ac) == MV_OK);
  char text[400];
  for (size_t k = 0; k < sizeof text - 1; k++)
    text[k] = alpha[rand() % 4]; /* no separators: offsets are 1:1 */
  text[sizeof text - 1] = 0;
  static hits hs;
  scan(ac, text, strlen(text), 13, &hs);
  size_t want = 0, found = 0;
  for (int i = 0; i < 60; i++) {
    size_t len = strlen(pats[i]);
    int dup = 0;
    for (int j = 0; j < i; j++) {
      if (strlen(pats[j]) != len) continue;
      int same = 1;
      for (size_t k = 0; k < len; k++)
        if ((pats[i][k] | 32) != (pats[j][k] | 32)) same = 0;
      if (same) dup = 1;
    }
    if (dup) continue; /* duplicates share one id: count them once */
    for (size_t p = 0; p + len <= strlen(text); p++) {
      int same = 1;
      for (size_t k = 0; k < len; k++)
        if ((text[p + k] | 32) != (pats[i][k] | 32)) same = 0;
      if (same) want++;
    }
  }
  found = hs.n;
  CHECK(want == found);
  CHECK(want > 0);
  mv_ac_free(ac);
}

/* Wide states (dense rows of the root's children, binary search deeper):
 * every branch is found. */
static void test_fanout(void) {
  mv_ac *ac = mv_ac_new();
  const char *chars = "abcdefghijklmnopqrstuvwxyz0123456789!#$%&";
  size_t nc = strlen(chars);
  char p[8];
  for (size_t i = 0; i < nc; i++) {
    snprintf(p, sizeof p, "k%cz", chars[i]);      /* under a root child */
    add(ac, p, 0);
    snprintf(p, sizeof p, "mk%cz", chars[i]);     /* one level deeper */
    add(ac, p, 0);
  }
  CHECK(mv_ac_build(ac) == MV_OK);
  char text[1024];
  size_t k = 0;
  for (size_t i = 0; i < nc; i++) {
    text[k++] = 'm';
    text[k++] = 'k';
    text[k++] = chars[i];
    text[k++] = 'z';
    text[k++] = '|';
  }
  static hits hs;
  scan(ac, text, k, 7, &hs);
  CHECK(hs.n == 2 * nc); /* "mkcz" and, inside it, "kcz" */
  mv_ac_free(ac);
}

int main(void) {
  test_fanout();
  test_overlaps();
  test_chunks();
  test_folding();
  test_boundaries();
  test_random();
  TEST_MAIN_END();
}
