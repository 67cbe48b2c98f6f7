/* regions_internal.h - shared types of the detect-regions plugin.
 *
 * A region file (models/regions/NAME.lua) is read once per detector context
 * into the C structures below (regions_load.c); detection then only walks
 * them (regions_match.c), never Lua. */
#ifndef MV_REGIONS_INTERNAL_H
#define MV_REGIONS_INTERNAL_H

#include "medveil/plugin.h"

#include <stddef.h>
#include <stdint.h>

/* Limits that keep a hostile or broken data file bounded. */
#define RX_MAX_FILE_BYTES (4u << 20)     /* one data file */
#define RX_MAX_LUA_MEMORY (64u << 20)    /* the reading Lua state */
#define RX_MAX_INSTRUCTIONS 20000000L    /* VM instructions per file */
#define RX_MAX_SIGNATURES 20000          /* per file */
#define RX_MAX_REGIONS 256               /* per signature */
#define RX_MAX_DEPTH 32                  /* expression nesting */
#define RX_MAX_STRING 1024               /* any string in the data */
#define RX_MAX_NAME 40                   /* "region:" + name fits mv_box.label */
#define RX_MAX_FILES 8                   /* files= entries */
#define RX_MAX_US_REGIONS 64             /* SequenceOfUltrasoundRegions items */

/* ---- the regex subset of `matches` (regions_pattern.c) ----------------- */
typedef struct rx_pattern rx_pattern;
/* Compile `src`; NULL with a reason in err when outside the subset. */
rx_pattern *rx_pattern_compile(const char *src, int nocase, char *err,
                               size_t errlen);
/* 1 when the pattern is found anywhere in s[0..n) (anchors as written). */
int rx_pattern_search(const rx_pattern *p, const char *s, size_t n);
void rx_pattern_free(rx_pattern *p);

/* ---- expressions ------------------------------------------------------- */
enum { RX_ALL, RX_ANY, RX_NOT, RX_LEAF };
enum {
  RX_T_EQUALS, RX_T_CONTAINS, RX_T_STARTSWITH, RX_T_ENDSWITH, RX_T_MATCHES,
  RX_T_LT, RX_T_GT, RX_T_PRESENT, RX_T_MISSING, RX_T_EMPTY
};

typedef struct rx_expr {
  int kind;                 /* RX_ALL / RX_ANY / RX_NOT / RX_LEAF */
  struct rx_expr **kids;    /* ALL/ANY: n_kids; NOT: one */
  size_t n_kids;
  /* RX_LEAF */
  char *key;                /* keyword or "(gggg,eeee)" */
  int test;                 /* RX_T_* */
  int nocase;
  char *arg;                /* string operand (equals..matches) */
  size_t arg_len;
  double num;               /* lt / gt operand */
  rx_pattern *pat;          /* matches */
} rx_expr;

void rx_expr_free(rx_expr *e);

/* The object's attributes as the tests see them: each key is fetched from
 * the core once per detect call and kept (a copy) for the other tests. */
typedef struct rx_attr {
  char *key;
  int rc;        /* MV_OK, MV_ENOTFOUND (absent) or MV_EUNSUPPORTED (binary) */
  char *val;     /* trimmed copy when rc == MV_OK */
  size_t len;
} rx_attr;

typedef struct rx_attrs {
  mv_attr_getter get;
  void *ud;
  rx_attr *v;
  size_t n, cap;
} rx_attrs;

/* MV_OK with a value, MV_ENOTFOUND, MV_EUNSUPPORTED, or another code when
 * the getter failed (then the detection fails). */
int rx_attrs_get(rx_attrs *a, const char *key, const char **val, size_t *len);
void rx_attrs_free(rx_attrs *a);

/* Evaluate against the object's attributes. Returns 1 / 0, or a negative
 * mv_err code (negated) when the getter failed in a way that is not
 * "absent"; `bad_key` then names the key (keys are not PHI). */
int rx_expr_eval(const rx_expr *e, rx_attrs *attrs, const char **bad_key);

/* ---- signatures -------------------------------------------------------- */
typedef struct rx_sig {
  char name[RX_MAX_NAME + 1];
  rx_expr *match;
  mv_rect *regions;         /* w == 0 / h == 0: to the right / bottom edge */
  size_t n_regions;
  int has_regions;          /* `regions` given (possibly empty) */
  int keep_us_regions;
  int flag_only;            /* informational entry: never matches */
} rx_sig;

typedef struct rx_set {
  rx_sig *sigs;             /* all files, in consultation order */
  size_t n;
} rx_set;

/* Read `path` into `set` (appending). Returns MV_OK, MV_ENOTFOUND when the
 * file does not exist, or a code with a reason naming file and entry. */
int rx_load_file(rx_set *set, const char *path, char *err, size_t errlen);
void rx_set_free(rx_set *set);

/* ---- ultrasound regions (regions_us.c) --------------------------------- */
/* Rectangles covering [0,W)x[0,H) minus the union of `keep` (clipped),
 * non-overlapping. *out is malloc'd (free it); *n_out may be 0. */
int rx_complement(uint32_t W, uint32_t H, const mv_rect *keep, size_t n_keep,
                  mv_rect **out, size_t *n_out);
/* Read the SequenceOfUltrasoundRegions rectangles of an object (at most
 * `max`; items with a missing or malformed corner are skipped). Returns
 * MV_OK or the getter's failure code. */
int rx_us_regions(rx_attrs *attrs, mv_rect *out, size_t max, size_t *n_out);

void rx_set_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
