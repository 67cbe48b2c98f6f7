/* regions_match.c - evaluating a signature's expression on an object.
 *
 * Values are compared after removing leading and trailing spaces (DICOM
 * padding carries no meaning). An attribute the getter does not know or
 * cannot find is absent; a binary one is present but matches no string
 * test. */
#include "regions_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void rx_attrs_free(rx_attrs *a) {
  for (size_t i = 0; i < a->n; i++) {
    free(a->v[i].key);
    free(a->v[i].val);
  }
  free(a->v);
  a->v = NULL;
  a->n = a->cap = 0;
}

static int fetch(rx_attrs *a, const char *key, rx_attr *out) {
  const char *v = NULL;
  size_t len = 0;
  int rc = a->get ? a->get(a->ud, key, &v, &len) : MV_ENOTFOUND;
  if (rc == MV_EINVAL) rc = MV_ENOTFOUND; /* a key the format does not know */
  out->rc = rc;
  if (rc != MV_OK) return rc == MV_ENOTFOUND || rc == MV_EUNSUPPORTED ? MV_OK : rc;
  if (!v) len = 0;
  while (len && (v[len - 1] == ' ' || v[len - 1] == '\0')) len--;
  while (len && v[0] == ' ') {
    v++;
    len--;
  }
  out->val = malloc(len + 1);
  if (!out->val) return MV_ENOMEM;
  if (len) memcpy(out->val, v, len);
  out->val[len] = '\0';
  out->len = len;
  return MV_OK;
}

int rx_attrs_get(rx_attrs *a, const char *key, const char **val, size_t *len) {
  for (size_t i = 0; i < a->n; i++) {
    if (strcmp(a->v[i].key, key) == 0) {
      *val = a->v[i].val;
      *len = a->v[i].len;
      return a->v[i].rc;
    }
  }
  if (a->n == a->cap) {
    size_t cap = a->cap ? 2 * a->cap : 16;
    rx_attr *nv = realloc(a->v, cap * sizeof *nv);
    if (!nv) return MV_ENOMEM;
    a->v = nv;
    a->cap = cap;
  }
  rx_attr e = {NULL, MV_ENOTFOUND, NULL, 0};
  int rc = fetch(a, key, &e);
  if (rc != MV_OK) {
    free(e.val);
    return rc;
  }
  if (!(e.key = strdup(key))) {
    free(e.val);
    return MV_ENOMEM;
  }
  a->v[a->n++] = e;
  *val = e.val;
  *len = e.len;
  return e.rc;
}

void rx_expr_free(rx_expr *e) {
  if (!e) return;
  for (size_t i = 0; i < e->n_kids; i++) rx_expr_free(e->kids[i]);
  free(e->kids);
  free(e->key);
  free(e->arg);
  rx_pattern_free(e->pat);
  free(e);
}

static int same(const char *a, const char *b, size_t n, int nocase) {
  return nocase ? strncasecmp(a, b, n) == 0 : memcmp(a, b, n) == 0;
}

static int find(const char *hay, size_t n, const char *needle, size_t m,
                int nocase) {
  if (m == 0) return 1;
  for (size_t i = 0; i + m <= n; i++)
    if (same(hay + i, needle, m, nocase)) return 1;
  return 0;
}

/* A plain decimal number, nothing else (so "1\2" is not 1). */
static int as_number(const char *v, size_t len, double *out) {
  if (len == 0 || len > 63) return 0;
  char buf[64];
  memcpy(buf, v, len);
  buf[len] = '\0';
  char *end;
  *out = strtod(buf, &end);
  return end == buf + len;
}

static int eval_leaf(const rx_expr *e, rx_attrs *attrs, const char **bad_key) {
  const char *v = NULL;
  size_t len = 0;
  int rc = rx_attrs_get(attrs, e->key, &v, &len);
  if (rc != MV_OK && rc != MV_ENOTFOUND && rc != MV_EUNSUPPORTED) {
    *bad_key = e->key;
    return -rc;
  }
  switch (e->test) {
  case RX_T_PRESENT: return rc != MV_ENOTFOUND;
  case RX_T_MISSING: return rc == MV_ENOTFOUND;
  case RX_T_EMPTY: return rc == MV_OK && len == 0;
  default: break;
  }
  if (rc != MV_OK) return 0;
  double x;
  switch (e->test) {
  case RX_T_EQUALS:
    return len == e->arg_len && same(v, e->arg, len, e->nocase);
  case RX_T_CONTAINS:
    return find(v, len, e->arg, e->arg_len, e->nocase);
  case RX_T_STARTSWITH:
    return len >= e->arg_len && same(v, e->arg, e->arg_len, e->nocase);
  case RX_T_ENDSWITH:
    return len >= e->arg_len &&
           same(v + len - e->arg_len, e->arg, e->arg_len, e->nocase);
  case RX_T_MATCHES:
    return rx_pattern_search(e->pat, v, len);
  case RX_T_LT:
    return as_number(v, len, &x) && x < e->num;
  case RX_T_GT:
    return as_number(v, len, &x) && x > e->num;
  default:
    return 0;
  }
}

int rx_expr_eval(const rx_expr *e, rx_attrs *attrs, const char **bad_key) {
  switch (e->kind) {
  case RX_LEAF:
    return eval_leaf(e, attrs, bad_key);
  case RX_NOT: {
    int r = rx_expr_eval(e->kids[0], attrs, bad_key);
    return r < 0 ? r : !r;
  }
  case RX_ALL:
  case RX_ANY: {
    /* Short-circuit: `all` stops at the first false, `any` at the first true. */
    const int stop = e->kind == RX_ANY;
    for (size_t i = 0; i < e->n_kids; i++) {
      int r = rx_expr_eval(e->kids[i], attrs, bad_key);
      if (r < 0) return r;
      if (r == stop) return stop;
    }
    return !stop;
  }
  default:
    return 0;
  }
}
