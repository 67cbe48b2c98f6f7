/* mv_acmatch.c - Aho-Corasick over folded bytes (see mv_acmatch.h).
 *
 * While patterns are added, the trie keeps children as sibling lists. The
 * build renumbers the states breadth-first, so the children of a state are
 * consecutive states, sorted by byte: a transition is a search in a few
 * contiguous bytes instead of a walk over scattered siblings (which made a
 * million-pattern scan some 20 times slower). The root keeps a dense
 * table: nearly every byte of a scan starts at or falls back to it. */
#include "mv_acmatch.h"

#include <stdlib.h>
#include <string.h>

#include "medveil/errors.h"

#define SEP ' '
#define RING 512u /* > MV_AC_MAX_PATTERN + 1: folded history for offsets */

struct mv_ac {
  /* Per state. Before build: first/next are the child and sibling lists.
   * After: children of s are [first[s], first[s] + count[s]), by byte. */
  uint8_t *byte;
  uint32_t *first, *next, *fail, *dict, *out; /* out: pattern id + 1 */
  uint16_t *count;
  size_t nstates, cap;
  /* After build: dense tables of the root's children (states 1..ndense),
   * where a scan spends most of its steps. */
  uint32_t *dense;
  size_t ndense;
  uint32_t root[256];
  /* Per pattern. */
  uint8_t *plen, *pflags;
  size_t npat, pcap;
  int built;
};

unsigned char mv_ac_fold_byte(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return (unsigned char)(c + 32);
  switch (c) {
    case '^': case '\\': case '_': case 0: case ' ': case '\t': case '\r':
    case '\n':
      return SEP;
    default:
      return c;
  }
}

mv_ac *mv_ac_new(void) {
  mv_ac *ac = calloc(1, sizeof *ac);
  if (!ac) return NULL;
  ac->cap = 1024;
  ac->byte = malloc(ac->cap);
  ac->first = calloc(ac->cap, sizeof(uint32_t));
  ac->next = calloc(ac->cap, sizeof(uint32_t));
  ac->out = calloc(ac->cap, sizeof(uint32_t));
  if (!ac->byte || !ac->first || !ac->next || !ac->out) {
    mv_ac_free(ac);
    return NULL;
  }
  ac->byte[0] = 0;
  ac->nstates = 1; /* the root */
  return ac;
}

void mv_ac_free(mv_ac *ac) {
  if (!ac) return;
  free(ac->byte);
  free(ac->first);
  free(ac->next);
  free(ac->fail);
  free(ac->dict);
  free(ac->out);
  free(ac->count);
  free(ac->dense);
  free(ac->plen);
  free(ac->pflags);
  free(ac);
}

static int grow_states(mv_ac *ac) {
  if (ac->nstates < ac->cap) return 0;
  if (ac->cap > UINT32_MAX / 2) return -1;
  size_t cap = ac->cap * 2;
  uint8_t *b = realloc(ac->byte, cap);
  if (!b) return -1;
  ac->byte = b;
  uint32_t **arrs[] = {&ac->first, &ac->next, &ac->out};
  for (size_t i = 0; i < 3; i++) {
    uint32_t *g = realloc(*arrs[i], cap * sizeof(uint32_t));
    if (!g) return -1;
    memset(g + ac->cap, 0, (cap - ac->cap) * sizeof(uint32_t));
    *arrs[i] = g;
  }
  ac->cap = cap;
  return 0;
}

/* Before build. */
static uint32_t child(const mv_ac *ac, uint32_t s, uint8_t c) {
  if (s == 0) return ac->root[c];
  for (uint32_t k = ac->first[s]; k; k = ac->next[k])
    if (ac->byte[k] == c) return k;
  return 0;
}

/* After build. */
static inline uint32_t go(const mv_ac *ac, uint32_t s, uint8_t c) {
  if (s == 0) return ac->root[c];
  if (s <= ac->ndense) return ac->dense[(size_t)(s - 1) * 256 + c];
  uint32_t lo = ac->first[s], n = ac->count[s];
  const uint8_t *b = ac->byte + lo;
  if (n <= 8) {
    for (uint32_t i = 0; i < n; i++)
      if (b[i] == c) return lo + i;
    return 0;
  }
  uint32_t l = 0, h = n;
  while (l < h) {
    uint32_t m = (l + h) / 2;
    if (b[m] < c) l = m + 1;
    else h = m;
  }
  return l < n && b[l] == c ? lo + l : 0;
}

/* Renumber the states breadth-first with children consecutive and sorted
 * (see the top of the file). */
static int relayout(mv_ac *ac) {
  size_t n = ac->nstates;
  uint32_t *order = malloc(n * sizeof *order);
  uint32_t *nfirst = calloc(n, sizeof *nfirst), *nout = malloc(n * sizeof *nout);
  uint16_t *ncount = calloc(n, sizeof *ncount);
  uint8_t *nbyte = malloc(n);
  if (!order || !nfirst || !nout || !ncount || !nbyte) {
    free(order);
    free(nfirst);
    free(nout);
    free(ncount);
    free(nbyte);
    return MV_ENOMEM;
  }
  order[0] = 0;
  nbyte[0] = 0;
  nout[0] = 0;
  size_t next_id = 1;
  for (size_t nu = 0; nu < next_id; nu++) {
    uint32_t u = order[nu], kids[256];
    size_t k = 0;
    if (u == 0) {
      for (int c = 0; c < 256; c++)
        if (ac->root[c]) kids[k++] = ac->root[c];
    } else {
      for (uint32_t c = ac->first[u]; c && k < 256; c = ac->next[c]) {
        size_t i = k++; /* insertion sort by byte */
        while (i > 0 && ac->byte[kids[i - 1]] > ac->byte[c]) {
          kids[i] = kids[i - 1];
          i--;
        }
        kids[i] = c;
      }
    }
    nfirst[nu] = k ? (uint32_t)next_id : 0;
    ncount[nu] = (uint16_t)k;
    for (size_t i = 0; i < k; i++) {
      order[next_id] = kids[i];
      nbyte[next_id] = ac->byte[kids[i]];
      nout[next_id] = ac->out[kids[i]];
      next_id++;
    }
  }
  /* The root's table: its children are states 1..count[0], in byte order. */
  memset(ac->root, 0, sizeof ac->root);
  for (uint32_t i = 0; i < ncount[0]; i++) ac->root[nbyte[1 + i]] = 1 + i;
  free(order);
  free(ac->byte);
  free(ac->first);
  free(ac->next);
  free(ac->out);
  ac->byte = nbyte;
  ac->first = nfirst;
  ac->next = NULL;
  ac->out = nout;
  ac->count = ncount;
  ac->cap = n;
  /* Dense rows for the root's children (at most 256 rows of 1 KiB). */
  ac->dense = calloc((size_t)ncount[0] * 256 + 1, sizeof *ac->dense);
  if (ac->dense) {
    for (uint32_t s = 1; s <= ncount[0]; s++)
      for (uint32_t v = nfirst[s], e = v + ncount[s]; v && v < e; v++)
        ac->dense[(size_t)(s - 1) * 256 + nbyte[v]] = v;
    ac->ndense = ncount[0];
  }
  return MV_OK;
}

/* Fold a pattern: separators collapse, none at either end. */
size_t mv_ac_fold(const char *p, size_t n, uint8_t *dst) {
  size_t k = 0;
  for (size_t i = 0; i < n && k < MV_AC_MAX_PATTERN; i++) {
    uint8_t c = mv_ac_fold_byte((unsigned char)p[i]);
    if (c == SEP && (k == 0 || dst[k - 1] == SEP)) continue;
    dst[k++] = c;
  }
  while (k > 0 && dst[k - 1] == SEP) k--;
  return k;
}

int mv_ac_add(mv_ac *ac, const char *pat, size_t n, unsigned flags,
              uint32_t *id, int *added) {
  uint8_t f[MV_AC_MAX_PATTERN];
  size_t len = ac->built ? 0 : mv_ac_fold(pat, n, f);
  if (len == 0) return MV_EINVAL;
  uint32_t s = 0;
  for (size_t i = 0; i < len; i++) {
    uint32_t t = child(ac, s, f[i]);
    if (!t) {
      if (grow_states(ac) != 0) return MV_ENOMEM;
      t = (uint32_t)ac->nstates++;
      ac->byte[t] = f[i];
      ac->first[t] = 0;
      ac->out[t] = 0;
      if (s == 0) {
        ac->root[f[i]] = t;
        ac->next[t] = 0;
      } else {
        ac->next[t] = ac->first[s];
        ac->first[s] = t;
      }
    }
    s = t;
  }
  if (ac->out[s]) {
    *id = ac->out[s] - 1;
    *added = 0;
    return MV_OK;
  }
  if (ac->npat == ac->pcap) {
    size_t cap = ac->pcap ? ac->pcap * 2 : 1024;
    uint8_t *l = realloc(ac->plen, cap);
    if (!l) return MV_ENOMEM;
    ac->plen = l;
    uint8_t *fl = realloc(ac->pflags, cap);
    if (!fl) return MV_ENOMEM;
    ac->pflags = fl;
    ac->pcap = cap;
  }
  ac->plen[ac->npat] = (uint8_t)len;
  ac->pflags[ac->npat] = (uint8_t)flags;
  ac->out[s] = (uint32_t)++ac->npat;
  *id = (uint32_t)(ac->npat - 1);
  *added = 1;
  return MV_OK;
}

int mv_ac_build(mv_ac *ac) {
  if (ac->built) return ac->fail && ac->dict ? MV_OK : MV_ENOMEM;
  int rc = relayout(ac);
  if (rc != MV_OK) return rc;
  ac->built = 1; /* laid out: no more adds */
  ac->fail = calloc(ac->nstates, sizeof(uint32_t));
  ac->dict = calloc(ac->nstates, sizeof(uint32_t));
  if (!ac->fail || !ac->dict) return MV_ENOMEM;
  /* States are in breadth-first order: a state's fail link points to a
   * shallower state, already done. The root's children fail to the root. */
  for (uint32_t u = 0; u < ac->nstates; u++) {
    for (uint32_t v = ac->first[u], e = v + ac->count[u]; v && v < e; v++) {
      if (u == 0) continue; /* fail = dict = 0 */
      uint8_t c = ac->byte[v];
      uint32_t f = ac->fail[u], t;
      while (f && !go(ac, f, c)) f = ac->fail[f];
      t = go(ac, f, c);
      ac->fail[v] = t;
      ac->dict[v] = ac->out[t] ? t : ac->dict[t];
    }
  }
  return MV_OK;
}

size_t mv_ac_patterns(const mv_ac *ac) { return ac->npat; }
unsigned mv_ac_pattern_flags(const mv_ac *ac, uint32_t id) {
  return id < ac->npat ? ac->pflags[id] : 0;
}
size_t mv_ac_states(const mv_ac *ac) { return ac->nstates; }
size_t mv_ac_memory(const mv_ac *ac) {
  return ac->built ? ac->nstates * (1 + 5 * sizeof(uint32_t) + sizeof(uint16_t)) +
                         ac->ndense * 1024 + ac->pcap * 2
                   : ac->cap * (1 + 3 * sizeof(uint32_t)) + ac->pcap * 2;
}

/* ---------------------------------------------------------------------- */
/* Scanning.                                                               */

typedef struct pending {
  uint32_t id;
  uint64_t start, end;
} pending;

struct mv_ac_scanner {
  const mv_ac *ac;
  mv_ac_hit_fn fn;
  void *ud;
  uint32_t state;
  uint64_t raw;     /* raw bytes consumed */
  uint64_t pos;     /* folded bytes fed */
  uint8_t last;     /* previous folded byte (for collapsing) */
  uint8_t fb[RING]; /* folded byte at folded position % RING */
  uint64_t ro[RING]; /* its raw offset */
  pending wait[MV_AC_MAX_PATTERN + 1]; /* waiting for their right side */
  size_t nwait;
  int stopped;
};

mv_ac_scanner *mv_ac_scanner_new(const mv_ac *ac, mv_ac_hit_fn fn, void *ud) {
  mv_ac_scanner *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->ac = ac;
  s->fn = fn;
  s->ud = ud;
  return s;
}

void mv_ac_scanner_free(mv_ac_scanner *s) { free(s); }

void mv_ac_scanner_reset(mv_ac_scanner *s) {
  s->state = 0;
  s->raw = s->pos = 0;
  s->last = 0;
  s->nwait = 0;
  s->stopped = 0;
}

static int is_alnum_f(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Whether folded byte c may stand beside a match with these flags. */
static int boundary_ok(unsigned flags, uint8_t c) {
  if ((flags & MV_AC_WORD) && is_alnum_f(c)) return 0;
  if ((flags & (MV_AC_NUMBER | MV_AC_UID)) && c >= '0' && c <= '9') return 0;
  if ((flags & MV_AC_UID) && c == '.') return 0;
  /* Separators (folded to space) and the punctuation text puts around
   * words; anything else is more likely binary data. */
  if ((flags & MV_AC_TEXT) && !strchr(" ,.;:()[]<>-/'\"=", c)) return 0;
  return 1;
}

static void settle(mv_ac_scanner *s, int have_next, uint8_t next) {
  for (size_t i = 0; i < s->nwait && !s->stopped; i++) {
    const pending *p = &s->wait[i];
    if (have_next && !boundary_ok(s->ac->pflags[p->id], next)) continue;
    if (s->fn(s->ud, p->id, p->start, p->end)) s->stopped = 1;
  }
  s->nwait = 0;
}

static void emit(mv_ac_scanner *s, uint32_t id) {
  const mv_ac *ac = s->ac;
  uint64_t len = ac->plen[id];
  uint64_t first = s->pos + 1 - len; /* folded position of the match start */
  unsigned flags = ac->pflags[id];
  uint64_t start = s->ro[first % RING], end = s->raw + 1;
  if (flags && first > 0) {
    uint8_t left = s->fb[(first - 1) % RING];
    if (!boundary_ok(flags, left) || ((flags & MV_AC_NOFRAC) && left == '.'))
      return;
  }
  if (flags) {
    if (s->nwait < sizeof s->wait / sizeof s->wait[0])
      s->wait[s->nwait++] = (pending){id, start, end};
    return;
  }
  if (s->fn(s->ud, id, start, end)) s->stopped = 1;
}

int mv_ac_feed(mv_ac_scanner *s, const void *buf, size_t n) {
  const mv_ac *ac = s->ac;
  const uint8_t *p = buf;
  uint32_t st = s->state;
  for (size_t i = 0; i < n && !s->stopped; i++, s->raw++) {
    uint8_t c = mv_ac_fold_byte(p[i]);
    if (c == SEP && s->pos > 0 && s->last == SEP) continue;
    if (s->nwait) settle(s, 1, c);
    s->last = c;
    s->fb[s->pos % RING] = c;
    s->ro[s->pos % RING] = s->raw;
    uint32_t t = 0;
    while (st && !(t = go(ac, st, c))) st = ac->fail[st];
    if (!st) t = ac->root[c];
    st = t;
    if (st) {
      uint32_t x = ac->out[st] ? st : ac->dict[st];
      for (; x && !s->stopped; x = ac->dict[x]) emit(s, ac->out[x] - 1);
    }
    s->pos++;
  }
  s->state = st;
  return s->stopped;
}

int mv_ac_finish(mv_ac_scanner *s) {
  if (!s->stopped) settle(s, 0, 0);
  return s->stopped;
}
