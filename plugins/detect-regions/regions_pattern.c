/* regions_pattern.c - the small regex subset of the `matches` test.
 *
 * Supported: literal characters, '.' (any character), '\' escaping the next
 * character, postfix '*', '+', '?' on one atom, '^' at the start and '$' at
 * the end of a branch, and top-level '|' between branches. Anything else
 * (groups, classes, braces) is refused when the data file is read, so a data
 * file cannot ask for something we would silently treat differently.
 *
 * Matching simulates the automaton (Thompson): time O(len(value) * atoms),
 * no backtracking, so no pattern can make detection slow. */
#include "regions_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct rx_atom {
  unsigned char c;
  unsigned char any; /* '.' */
  unsigned char q;   /* 0, '*', '+' or '?' */
} rx_atom;

typedef struct rx_branch {
  rx_atom *atoms;
  size_t n;
  int bol, eol;
} rx_branch;

struct rx_pattern {
  rx_branch *br;
  size_t n_br;
  int nocase;
};

void rx_pattern_free(rx_pattern *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n_br; i++) free(p->br[i].atoms);
  free(p->br);
  free(p);
}

static int compile_branch(const char *s, size_t n, int nocase, rx_branch *b,
                          char *err, size_t errlen) {
  b->atoms = calloc(n ? n : 1, sizeof *b->atoms);
  if (!b->atoms) return MV_ENOMEM;
  size_t i = 0;
  if (n && s[0] == '^') {
    b->bol = 1;
    i = 1;
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '$' && i + 1 == n) {
      b->eol = 1;
      break;
    }
    if (strchr("()[]{}^$", c)) {
      rx_set_err(err, errlen, "pattern uses '%c', outside the supported subset", c);
      return MV_EINVAL;
    }
    if (c == '*' || c == '+' || c == '?') {
      if (!b->n || b->atoms[b->n - 1].q) {
        rx_set_err(err, errlen, "pattern has '%c' without a single atom before it", c);
        return MV_EINVAL;
      }
      b->atoms[b->n - 1].q = c;
      continue;
    }
    rx_atom a = {0, 0, 0};
    if (c == '\\') {
      if (i + 1 >= n) {
        rx_set_err(err, errlen, "pattern ends with '\\'");
        return MV_EINVAL;
      }
      c = (unsigned char)s[++i];
      a.c = c;
    } else if (c == '.') {
      a.any = 1;
    } else {
      a.c = c;
    }
    if (nocase) a.c = (unsigned char)tolower(a.c);
    b->atoms[b->n++] = a;
  }
  return MV_OK;
}

rx_pattern *rx_pattern_compile(const char *src, int nocase, char *err,
                               size_t errlen) {
  rx_pattern *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->nocase = nocase;
  size_t nb = 1;
  for (const char *q = src; *q; q++) {
    if (*q == '\\' && q[1]) q++;
    else if (*q == '|') nb++;
  }
  p->br = calloc(nb, sizeof *p->br);
  if (!p->br) {
    rx_pattern_free(p);
    return NULL;
  }
  const char *start = src;
  for (const char *q = src;; q++) {
    if (*q == '\\' && q[1]) {
      q++;
      continue;
    }
    if (*q == '|' || !*q) {
      if (compile_branch(start, (size_t)(q - start), nocase, &p->br[p->n_br++],
                         err, errlen) != MV_OK) {
        rx_pattern_free(p);
        return NULL;
      }
      if (!*q) break;
      start = q + 1;
    }
  }
  return p;
}

/* Enter state s and every state reachable without input. */
static void add_state(const rx_branch *b, unsigned char *set, size_t s) {
  while (s <= b->n && !set[s]) {
    set[s] = 1;
    if (s == b->n || (b->atoms[s].q != '*' && b->atoms[s].q != '?')) break;
    s++;
  }
}

static int search_branch(const rx_branch *b, int nocase, const char *s,
                         size_t n, unsigned char *cur, unsigned char *nxt) {
  const size_t m = b->n;
  memset(cur, 0, m + 1);
  for (size_t i = 0;; i++) {
    if (i == 0 || !b->bol) add_state(b, cur, 0);
    if (cur[m] && (!b->eol || i == n)) return 1;
    if (i == n) return 0;
    unsigned char c = (unsigned char)s[i];
    if (nocase) c = (unsigned char)tolower(c);
    memset(nxt, 0, m + 1);
    int alive = 0;
    for (size_t k = 0; k < m; k++) {
      if (!cur[k]) continue;
      const rx_atom *a = &b->atoms[k];
      if (!a->any && a->c != c) continue;
      if (a->q == '*' || a->q == '+') add_state(b, nxt, k);
      add_state(b, nxt, k + 1);
      alive = 1;
    }
    memcpy(cur, nxt, m + 1);
    if (!alive && b->bol) return 0; /* anchored and dead: no later start */
  }
}

int rx_pattern_search(const rx_pattern *p, const char *s, size_t n) {
  if (!p) return 0;
  size_t most = 0;
  for (size_t i = 0; i < p->n_br; i++)
    if (p->br[i].n > most) most = p->br[i].n;
  unsigned char *buf = malloc(2 * (most + 1));
  if (!buf) return 0;
  int hit = 0;
  for (size_t i = 0; i < p->n_br && !hit; i++)
    hit = search_branch(&p->br[i], p->nocase, s, n, buf, buf + most + 1);
  free(buf);
  return hit;
}
