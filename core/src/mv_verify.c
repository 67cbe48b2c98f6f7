/* mv_verify.c - the leak check (see mv_verify.h): walk the originals and
 * collect, build one automaton, then scan every de-identified file (bytes,
 * name, OCR text) on worker threads. */
#include "mv_verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "medveil/errors.h"
#include "mv_idvalues.h"
#include "mv_pixels.h"

#define CHUNK (1u << 20)
#define CARRY 64 /* bytes of the previous chunk kept before the next */
#define MAX_DEPTH 64
#define FUZZY_NAME_KEY (UINT64_MAX - 1)
#define FUZZY_ID_KEY (UINT64_MAX - 2)

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------- */
/* File lists.                                                             */

typedef struct flist {
  char **v;
  size_t n, cap;
  int oom;
  unsigned long unreadable; /* folders that could not be listed */
} flist;

static void fl_push(flist *l, const char *s) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    char **g = realloc(l->v, cap * sizeof *g);
    if (!g) {
      l->oom = 1;
      return;
    }
    l->v = g;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strdup(s))) l->oom = 1;
  else l->n++;
}

static void fl_free(flist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file below `path` (recursive, sorted; symlinked folders
 * are not followed, as in the batch walker). `rel` is the path relative to
 * the walk's root ("" for the root); files and (when dirs) folders go in
 * relative form when `relative`, else as full paths. */
static void walk(const char *path, const char *rel, int depth, int relative,
                 flist *files, flist *dirs) {
  struct stat st;
  if ((depth == 0 ? stat(path, &st) : lstat(path, &st)) != 0) return;
  /* A symlink to a file is read like the batch reads it; symlinked
   * folders are not followed (they can loop). */
  if (S_ISLNK(st.st_mode) && (stat(path, &st) != 0 || S_ISDIR(st.st_mode)))
    return;
  if (!S_ISDIR(st.st_mode)) {
    if (S_ISREG(st.st_mode)) fl_push(files, relative ? rel : path);
    return;
  }
  if (depth > MAX_DEPTH) {
    files->unreadable++;
    return;
  }
  if (depth > 0 && dirs) fl_push(dirs, rel);
  DIR *d = opendir(path);
  if (!d) {
    files->unreadable++;
    return;
  }
  flist names = {0};
  for (struct dirent *e; (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    /* A run in progress keeps partial files here. */
    if (depth == 0 && relative && strcmp(e->d_name, ".medveil-tmp") == 0)
      continue;
    fl_push(&names, e->d_name);
  }
  closedir(d);
  if (names.n) qsort(names.v, names.n, sizeof *names.v, name_cmp);
  for (size_t i = 0; i < names.n; i++) {
    size_t pl = strlen(path) + strlen(names.v[i]) + 2;
    size_t rl = strlen(rel) + strlen(names.v[i]) + 2;
    char *child = malloc(pl), *crel = malloc(rl);
    if (child && crel) {
      /* Named as the batch walker names them (run --verify pairs). */
      size_t plen = strlen(path);
      snprintf(child, pl, "%s%s%s", path,
               plen && path[plen - 1] == '/' ? "" : "/", names.v[i]);
      snprintf(crel, rl, "%s%s%s", rel, rel[0] ? "/" : "", names.v[i]);
      walk(child, crel, depth + 1, relative, files, dirs);
    } else {
      files->oom = 1;
    }
    free(child);
    free(crel);
  }
  if (names.oom) files->oom = 1;
  fl_free(&names);
}

/* ---------------------------------------------------------------------- */
/* Shared state of a run.                                                  */

typedef struct stored {
  char *file;
  int is_folder;
  mv_verify_where where;
  uint64_t offset;
  uint32_t plane, tag;
  char origin[160];
  unsigned long hits;
} stored;

typedef struct run {
  const mv_verify_config *cfg;
  mv_verify_summary *sum;
  mv_idvalues *vals;
  pthread_mutex_t lock;
  flist *list;      /* the files of the current phase */
  size_t next;      /* next index to take */
  stored *found;
  size_t nfound, capfound;
  int oom;
  /* With pairs: each original's own dates (by index in the originals
   * list), and the pairs sorted by output with their original's index. */
  mv_idvalues_dates *own;
  struct pairix { const char *output; size_t original; } *pairs;
  size_t npairs;
} run;

static const char *take(run *r, size_t *index) {
  pthread_mutex_lock(&r->lock);
  const char *p = NULL;
  if (r->next < r->list->n) {
    *index = r->next;
    p = r->list->v[r->next++];
  }
  pthread_mutex_unlock(&r->lock);
  return p;
}

static int run_threads(run *r, int jobs, void *(*fn)(void *), void **args) {
  pthread_t th[256];
  int started = 0;
  if (jobs > 256) jobs = 256;
  for (int i = 0; i < jobs; i++)
    if (pthread_create(&th[i], NULL, fn, args[i]) == 0) started++;
    else break;
  if (started == 0) fn(args[0]); /* no threads: do it here */
  for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
  (void)r;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Phase 1: collect.                                                       */

static void *collect_main(void *arg) {
  run *r = arg;
  size_t ix;
  for (const char *path; (path = take(r, &ix));) {
    if (mv_idvalues_add_name(r->vals, path) == MV_ENOMEM) r->oom = 1;
    uint8_t head[MV_HEAD_BYTES];
    size_t n = 0;
    const mv_loaded *fmt = NULL;
    if (mv_read_head(path, head, &n) == 0 && n > 0)
      fmt = mv_registry_probe(r->cfg->registry, head, n);
    mv_doc *doc = NULL;
    char why[256];
    int rc = MV_EFORMAT;
    if (fmt && fmt->desc->format->open(fmt->state, path, &doc, why,
                                       sizeof why) == MV_OK && doc) {
      rc = mv_idvalues_add_doc(r->vals, fmt->desc->format, doc,
                               r->own ? &r->own[ix] : NULL);
      fmt->desc->format->close(doc);
      if (rc == MV_ENOMEM) r->oom = 1;
    }
    if (rc != MV_OK) {
      pthread_mutex_lock(&r->lock);
      r->sum->unreadable++;
      pthread_mutex_unlock(&r->lock);
    }
  }
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Phase 2: scan.                                                          */

typedef struct agg {
  uint64_t key;
  uint32_t id; /* first pattern seen (for the description) */
  mv_verify_where where;
  uint32_t plane;
  uint64_t offset;
  unsigned long hits;
  const char *fixed; /* fuzzy OCR matches: the description */
} agg;

typedef struct scanner {
  run *r;
  mv_pixels *px; /* NULL: no OCR */
  mv_ac_scanner *ac;
  /* Findings of the current file. */
  agg a[MV_VERIFY_MAX_ORIGINS];
  size_t na;
  mv_verify_where where; /* of the hits being fed */
  uint32_t plane;
  int line_hit;          /* the OCR line had an exact hit */
  int path_ids;          /* path scan: note findings, not mask ranges */
  int want_ocr;          /* OCR asked for (px NULL: its detectors failed) */
  /* Path masking: hit ranges of the path being scanned. */
  uint64_t mask[64][2];
  size_t nmask;
  int mask_full; /* more hits than slots: mask every component */
  /* OCR line being gathered. */
  long cur_plane, cur_line;
  char line[2048];
  size_t linelen;
  uint8_t *buf;
  /* The window of the file around the bytes being fed: the chunk and up
   * to CARRY bytes before it, starting at absolute offset win_base. */
  const uint8_t *win;
  uint64_t win_base;
  size_t win_len;
  /* The pixel data element seen last (DICOM): [px_start, px_end), or open
   * until its sequence delimiter when encapsulated. */
  int px_have, px_open;
  uint64_t px_start, px_end, tag_from, delim_from;
  unsigned long date_elements;
  const mv_idvalues_dates *own; /* the dates of this output's original */
} scanner;

static void note(scanner *s, uint64_t key, uint32_t id, const char *fixed,
                 uint64_t offset) {
  for (size_t i = 0; i < s->na; i++)
    if (s->a[i].key == key && s->a[i].where == s->where &&
        s->a[i].plane == s->plane) {
      s->a[i].hits++;
      return;
    }
  if (s->na == MV_VERIFY_MAX_ORIGINS) return;
  s->a[s->na++] = (agg){.key = key, .id = id, .where = s->where,
                        .plane = s->plane, .offset = offset, .hits = 1,
                        .fixed = fixed};
}

static int byte_at(const scanner *s, uint64_t off) {
  if (s->win && off >= s->win_base && off < s->win_base + s->win_len)
    return s->win[off - s->win_base];
  return -1;
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* Follow the PixelData (7FE0,0010) elements through the window, so short
 * words can be ignored inside pixel bytes (random matches there are
 * noise). Little endian, explicit or implicit VR; an element is found by
 * its tag bytes and a header that makes sense. */
static void find_pixels(scanner *s) {
  static const uint8_t tag[4] = {0xE0, 0x7F, 0x10, 0x00};
  static const uint8_t delim[4] = {0xFE, 0xFF, 0xDD, 0xE0};
  const uint8_t *w = s->win;
  uint64_t base = s->win_base, end = s->win_base + s->win_len;
  for (;;) {
    if (s->px_open) {
      uint64_t from = s->delim_from > base ? s->delim_from : base;
      const uint8_t *q = from < end ? memmem(w + (from - base), end - from, delim, 4)
                                    : NULL;
      if (!q) {
        s->delim_from = end > 3 ? end - 3 : 0;
        return;
      }
      s->px_end = base + (uint64_t)(q - w) + 8;
      s->px_open = 0;
      s->tag_from = s->px_end;
    }
    uint64_t from = s->tag_from > base ? s->tag_from : base;
    const uint8_t *t = from < end ? memmem(w + (from - base), end - from, tag, 4)
                                  : NULL;
    if (!t) {
      s->tag_from = end > 3 ? end - 3 : 0;
      return;
    }
    uint64_t at = base + (uint64_t)(t - w);
    if (at + 12 > end) { /* header not complete: look again next window */
      s->tag_from = at;
      return;
    }
    int explicit_vr = t[4] >= 'A' && t[4] <= 'Z' && t[5] >= 'A' && t[5] <= 'Z';
    uint32_t len = explicit_vr ? le32(t + 8) : le32(t + 4);
    uint64_t hdr = explicit_vr ? 12 : 8;
    s->px_have = 1;
    s->px_start = at;
    if (len == 0xFFFFFFFFu) {
      s->px_open = 1;
      s->delim_from = at + hdr;
    } else {
      s->px_end = at + hdr + len;
      s->tag_from = s->px_end;
    }
  }
}

static int in_pixels(const scanner *s, uint64_t off) {
  return s->px_have && off >= s->px_start && (s->px_open || off < s->px_end);
}

/* Whether [start, end) is (the first value of) a DA or DT element: its
 * explicit VR header ("DA"/"DT" and a 16-bit length), an implicit VR
 * 32-bit length, or a backslash before it. */
static int in_date_element(const scanner *s, uint64_t start, uint64_t end) {
  if (start < 1) return 0;
  if (byte_at(s, start - 1) == '\\') return 1;
  if (start < 4) return 0;
  int b[4];
  for (int i = 0; i < 4; i++)
    if ((b[i] = byte_at(s, start - 4 + (uint64_t)i)) < 0) return 0;
  uint64_t need = end - start;
  if (b[0] == 'D' && (b[1] == 'A' || b[1] == 'T')) {
    unsigned len = (unsigned)b[2] | (unsigned)b[3] << 8;
    if (len >= need && len <= 64) return 1;
  }
  uint32_t len32 = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                   (uint32_t)b[3] << 24;
  return len32 >= need && len32 <= 26;
}

static int on_hit(void *ud, uint32_t id, uint64_t start, uint64_t end) {
  scanner *s = ud;
  const mv_idvalues *v = s->r->vals;
  if (!mv_idvalues_counts(v, id)) return 0;
  if (s->where == MV_VERIFY_BYTES && !s->r->cfg->strict_dates &&
      mv_idvalues_is_date(v, id) && in_date_element(s, start, end)) {
    /* Its own original's date, not shifted: a finding. */
    int own = 0;
    for (size_t i = 0; s->own && i < s->own->n && !own; i++)
      own = s->own->id[i] == id;
    if (!own) {
      s->date_elements++;
      return 0;
    }
  }
  if (s->where == MV_VERIFY_BYTES &&
      (mv_ac_pattern_flags(mv_idvalues_automaton(v), id) & MV_AC_TEXT) &&
      in_pixels(s, start))
    return 0;
  if (s->where == MV_VERIFY_PATH && !s->path_ids) {
    if (s->nmask < 64) {
      s->mask[s->nmask][0] = start;
      s->mask[s->nmask][1] = end;
      s->nmask++;
    } else {
      s->mask_full = 1;
    }
    return 0;
  }
  if (s->where == MV_VERIFY_PIXELS) s->line_hit = 1;
  note(s, mv_idvalues_origin_key(v, id), id, NULL,
       s->where == MV_VERIFY_BYTES ? start : 0);
  return 0;
}

/* Scan a path; returns it with every component that holds a hit replaced
 * by "***" (its extension kept), and leaves the hit ranges in s->mask. */
static char *scan_path(scanner *s, const char *path) {
  s->where = MV_VERIFY_PATH;
  s->nmask = 0;
  s->mask_full = 0;
  size_t n = strlen(path);
  mv_ac_scanner_reset(s->ac);
  mv_ac_feed(s->ac, path, n);
  mv_ac_finish(s->ac);
  char *out = malloc(n + 8);
  if (!out) return NULL;
  size_t k = 0;
  for (size_t i = 0; i <= n;) {
    const char *slash = memchr(path + i, '/', n - i);
    size_t end = slash ? (size_t)(slash - path) : n;
    int hit = s->mask_full;
    size_t covered = s->mask_full ? end : i;
    for (size_t m = 0; m < s->nmask; m++)
      if (s->mask[m][0] < end && s->mask[m][1] > i) {
        hit = 1;
        if (s->mask[m][1] > covered) covered = s->mask[m][1];
      }
    if (hit) {
      memcpy(out + k, "***", 3);
      k += 3;
      const char *dot = memrchr(path + i, '.', end - i);
      size_t dl = dot ? end - (size_t)(dot - path) : 0;
      if (dot && (size_t)(dot - path) >= covered && dl <= 6) {
        memcpy(out + k, dot, dl);
        k += dl;
      }
    } else {
      memcpy(out + k, path + i, end - i);
      k += end - i;
    }
    if (!slash) break;
    out[k++] = '/';
    i = end + 1;
  }
  out[k] = 0;
  return out;
}

/* The ids of the path hits inside [from, n): their findings. */
static void path_findings(scanner *s, const char *path, size_t from) {
  /* Rescan to get ids (scan_path kept only ranges). */
  s->where = MV_VERIFY_PATH;
  s->plane = 0;
  s->path_ids = 1;
  mv_ac_scanner_reset(s->ac);
  mv_ac_feed(s->ac, path + from, strlen(path + from));
  mv_ac_finish(s->ac);
  s->path_ids = 0;
}

static void store(scanner *s, const char *masked, int is_folder) {
  run *r = s->r;
  pthread_mutex_lock(&r->lock);
  if (s->na) r->sum->files_with_findings++;
  for (size_t i = 0; i < s->na; i++) {
    if (r->nfound == r->capfound) {
      size_t cap = r->capfound ? r->capfound * 2 : 64;
      stored *g = realloc(r->found, cap * sizeof *g);
      if (!g) {
        r->oom = 1;
        break;
      }
      r->found = g;
      r->capfound = cap;
    }
    stored *f = &r->found[r->nfound];
    memset(f, 0, sizeof *f);
    if (!(f->file = strdup(masked))) {
      r->oom = 1;
      break;
    }
    f->is_folder = is_folder;
    f->where = s->a[i].where;
    f->offset = s->a[i].offset;
    f->plane = s->a[i].plane;
    f->hits = s->a[i].hits;
    if (s->a[i].fixed) {
      snprintf(f->origin, sizeof f->origin, "%s", s->a[i].fixed);
    } else {
      f->tag = mv_idvalues_tag(r->vals, s->a[i].id);
      mv_idvalues_describe(r->vals, s->a[i].id, f->origin, sizeof f->origin);
    }
    r->nfound++;
    r->sum->findings++;
  }
  pthread_mutex_unlock(&r->lock);
  s->na = 0;
}

/* OCR: words of one line are read together, then word by word. */
static void flush_line(scanner *s) {
  if (!s->linelen) return;
  s->line[s->linelen] = 0;
  s->where = MV_VERIFY_PIXELS;
  s->plane = (uint32_t)s->cur_plane;
  s->line_hit = 0;
  mv_ac_scanner_reset(s->ac);
  mv_ac_feed(s->ac, s->line, s->linelen);
  mv_ac_finish(s->ac);
  if (!s->line_hit) {
    const mv_pixel_settings *ps = mv_policy_pixel_settings(s->r->cfg->policy);
    char *save = NULL;
    for (char *w = strtok_r(s->line, " ", &save); w;
         w = strtok_r(NULL, " ", &save)) {
      const char *what;
      char folded[256];
      if (ps && mv_textphi_allowed(ps, w)) continue;
      /* Shorter words match some name of a batch by chance ("Live" read
       * as a truncated "Lively"). */
      if (mv_textphi_fold(w, folded, sizeof folded) < 5) continue;
      if (mv_idvalues_fuzzy(s->r->vals, w, &what)) {
        note(s, strstr(what, "name") ? FUZZY_NAME_KEY : FUZZY_ID_KEY, 0, what, 0);
        break;
      }
    }
  }
  explicit_bzero(s->line, sizeof s->line);
  s->linelen = 0;
}

static int on_box(void *ud, const mv_box *b) {
  scanner *s = ud;
  if (!(b->flags & MV_BOX_TEXT) || !b->text[0]) return 0;
  if ((long)b->plane != s->cur_plane || (long)b->line != s->cur_line) {
    flush_line(s);
    s->cur_plane = b->plane;
    s->cur_line = b->line;
  }
  size_t n = strnlen(b->text, sizeof b->text);
  if (s->linelen + n + 2 < sizeof s->line) {
    if (s->linelen) s->line[s->linelen++] = ' ';
    memcpy(s->line + s->linelen, b->text, n);
    s->linelen += n;
  }
  return 0;
}

static void ocr_file(scanner *s, const char *abs) {
  run *r = s->r;
  uint8_t head[MV_HEAD_BYTES];
  size_t n = 0;
  const mv_loaded *fmt = NULL;
  if (mv_read_head(abs, head, &n) == 0 && n > 0)
    fmt = mv_registry_probe(r->cfg->registry, head, n);
  if (!fmt || !mv_format_has_pixels(fmt->desc->format)) return;
  const mv_format_ops *ops = fmt->desc->format;
  mv_doc *doc = NULL;
  char err[256];
  if (ops->open(fmt->state, abs, &doc, err, sizeof err) != MV_OK || !doc)
    return;
  mv_pixel_info info;
  memset(&info, 0, sizeof info);
  info.size = sizeof info;
  if (ops->pixel_info(doc, &info) != MV_OK || info.planes == 0) {
    ops->close(doc);
    return;
  }
  s->cur_plane = s->cur_line = -1;
  s->linelen = 0;
  int rc = mv_pixels_detect_only(s->px, ops, doc, on_box, s, err, sizeof err);
  flush_line(s);
  ops->close(doc);
  pthread_mutex_lock(&r->lock);
  if (rc == MV_OK) r->sum->ocr_objects++;
  else r->sum->ocr_failed++;
  pthread_mutex_unlock(&r->lock);
}

static int pair_cmp(const void *a, const void *b) {
  return strcmp(((const struct pairix *)a)->output,
                ((const struct pairix *)b)->output);
}

static const mv_idvalues_dates *own_dates(const run *r, const char *rel) {
  if (!r->npairs) return NULL;
  struct pairix key = {.output = rel};
  const struct pairix *p =
      bsearch(&key, r->pairs, r->npairs, sizeof *r->pairs, pair_cmp);
  return p ? &r->own[p->original] : NULL;
}

static void scan_file(scanner *s, const char *rel) {
  run *r = s->r;
  s->own = own_dates(r, rel);
  char *masked = scan_path(s, rel);
  if (!masked) {
    r->oom = 1;
    return;
  }
  /* Hits in the file's own name (folders are checked on their own). */
  const char *slash = strrchr(rel, '/');
  size_t base = slash ? (size_t)(slash - rel) + 1 : 0;
  int name_hit = 0;
  for (size_t m = 0; m < s->nmask; m++)
    if (s->mask[m][1] > base) name_hit = 1;
  if (name_hit) path_findings(s, rel, base);
  size_t abs_len = strlen(r->cfg->deidentified) + strlen(rel) + 2;
  char *abs = malloc(abs_len);
  if (!abs) {
    free(masked);
    r->oom = 1;
    return;
  }
  snprintf(abs, abs_len, "%s/%s", r->cfg->deidentified, rel);
  int fd = open(abs, O_RDONLY | O_CLOEXEC);
  unsigned long long bytes = 0;
  int failed = fd < 0;
  if (fd >= 0) {
    s->where = MV_VERIFY_BYTES;
    s->plane = 0;
    s->win = s->buf + CARRY;
    s->win_base = s->win_len = 0;
    s->px_have = s->px_open = 0;
    s->px_start = s->px_end = s->tag_from = s->delim_from = 0;
    mv_ac_scanner_reset(s->ac);
    for (;;) {
      /* The previous chunk's last bytes stay in front of the next one, for
       * what is checked around a hit (byte_at) and tags across chunks. */
      uint8_t carry[CARRY];
      size_t keep = s->win_len < CARRY ? s->win_len : CARRY;
      memcpy(carry, s->win + s->win_len - keep, keep);
      ssize_t got = read(fd, s->buf + CARRY, CHUNK);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) failed = 1;
      if (got <= 0) break;
      memcpy(s->buf + CARRY - keep, carry, keep);
      s->win = s->buf + CARRY - keep;
      s->win_base = bytes - keep;
      s->win_len = keep + (size_t)got;
      bytes += (unsigned long long)got;
      find_pixels(s);
      mv_ac_feed(s->ac, s->buf + CARRY, (size_t)got);
    }
    mv_ac_finish(s->ac);
    close(fd);
  }
  pthread_mutex_lock(&r->lock);
  r->sum->files++;
  r->sum->bytes += bytes;
  if (failed) r->sum->unscanned++;
  pthread_mutex_unlock(&r->lock);
  if (failed) fprintf(stderr, "medveil: verify: %s: cannot read\n", masked);
  if (s->px && !failed) {
    ocr_file(s, abs);
  } else if (s->want_ocr && !failed) {
    pthread_mutex_lock(&r->lock);
    r->sum->ocr_failed++;
    pthread_mutex_unlock(&r->lock);
  }
  free(abs);
  store(s, masked, 0);
  free(masked);
}

static void scan_folder(scanner *s, const char *rel) {
  char *masked = scan_path(s, rel);
  if (!masked) {
    s->r->oom = 1;
    return;
  }
  const char *slash = strrchr(rel, '/');
  size_t base = slash ? (size_t)(slash - rel) + 1 : 0;
  int name_hit = 0;
  for (size_t m = 0; m < s->nmask; m++)
    if (s->mask[m][1] > base) name_hit = 1;
  if (name_hit) path_findings(s, rel, base);
  store(s, masked, 1);
  free(masked);
}

typedef struct worker_arg {
  run *r;
  int folders; /* this pass checks folder names */
  int ocr;
} worker_arg;

static void *scan_main(void *arg) {
  worker_arg *wa = arg;
  run *r = wa->r;
  scanner *s = calloc(1, sizeof *s);
  if (!s || !(s->buf = malloc(CHUNK + CARRY)) ||
      !(s->ac = mv_ac_scanner_new(mv_idvalues_automaton(r->vals), on_hit, s))) {
    if (s) free(s->buf);
    free(s);
    r->oom = 1;
    return NULL;
  }
  s->r = r;
  s->want_ocr = wa->ocr;
  if (wa->ocr) {
    char err[256];
    if (mv_pixels_new(r->cfg->registry,
                      mv_policy_pixel_settings(r->cfg->policy), &s->px, err,
                      sizeof err) != MV_OK)
      s->px = NULL;
  }
  size_t ix;
  for (const char *rel; (rel = take(r, &ix));) {
    if (wa->folders) scan_folder(s, rel);
    else scan_file(s, rel);
  }
  pthread_mutex_lock(&r->lock);
  r->sum->date_elements += s->date_elements;
  pthread_mutex_unlock(&r->lock);
  mv_pixels_free(s->px);
  mv_ac_scanner_free(s->ac);
  free(s->buf);
  free(s);
  return NULL;
}

static int found_cmp(const void *a, const void *b) {
  const stored *x = a, *y = b;
  int c = strcmp(x->file, y->file);
  if (c) return c;
  if (x->where != y->where) return (int)x->where - (int)y->where;
  if (x->plane != y->plane) return x->plane < y->plane ? -1 : 1;
  if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
  return strcmp(x->origin, y->origin);
}

/* ---------------------------------------------------------------------- */

/* Give each pair its original's index (pairs name inputs as the batch
 * walked them, which is how the originals list names them). */
static int orig_cmp(const void *a, const void *b, void *list) {
  const flist *l = list;
  return strcmp(l->v[*(const size_t *)a], l->v[*(const size_t *)b]);
}

static int match_pairs(run *r, const flist *originals) {
  const mv_verify_config *cfg = r->cfg;
  size_t *order = malloc(originals->n * sizeof *order);
  r->pairs = malloc(cfg->npairs * sizeof *r->pairs);
  if (!order || !r->pairs) {
    free(order);
    return MV_ENOMEM;
  }
  for (size_t i = 0; i < originals->n; i++) order[i] = i;
  qsort_r(order, originals->n, sizeof *order, orig_cmp, (void *)originals);
  for (size_t k = 0; k < cfg->npairs; k++) {
    const char *in = cfg->pairs[k].input;
    size_t lo = 0, hi = originals->n;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (strcmp(originals->v[order[mid]], in) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < originals->n && strcmp(originals->v[order[lo]], in) == 0 &&
        cfg->pairs[k].output)
      r->pairs[r->npairs++] =
          (struct pairix){.output = cfg->pairs[k].output, .original = order[lo]};
  }
  free(order);
  if (r->npairs) qsort(r->pairs, r->npairs, sizeof *r->pairs, pair_cmp);
  return MV_OK;
}

int mv_verify_run(const mv_verify_config *cfg, mv_verify_sink sink, void *ud,
                  mv_verify_summary *sum, char *err, size_t errlen) {
  memset(sum, 0, sizeof *sum);
  struct stat st;
  if (stat(cfg->deidentified, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: not a folder", cfg->deidentified);
    return MV_EINVAL;
  }
  for (int i = 0; i < cfg->noriginals; i++)
    if (stat(cfg->originals[i], &st) != 0) {
      snprintf(err, errlen, "original %d of %d: no such file or folder", i + 1,
               cfg->noriginals);
      return MV_EINVAL;
    }
  int jobs = cfg->jobs < 1 ? 1 : cfg->jobs > 256 ? 256 : cfg->jobs;
  run r;
  memset(&r, 0, sizeof r);
  r.cfg = cfg;
  r.sum = sum;
  pthread_mutex_init(&r.lock, NULL);
  r.vals = mv_idvalues_new(cfg->policy);
  flist originals = {0}, files = {0}, dirs = {0};
  int rc = MV_OK;
  worker_arg wa[256];
  void *args[256];
  if (!r.vals) {
    rc = MV_ENOMEM;
    goto done;
  }
  /* 1. Collect. */
  double t0 = now_seconds();
  for (int i = 0; i < cfg->noriginals; i++)
    walk(cfg->originals[i], "", 0, 0, &originals, NULL);
  sum->originals = originals.n;
  if (cfg->npairs && originals.n &&
      !(r.own = calloc(originals.n, sizeof *r.own))) {
    rc = MV_ENOMEM;
    goto done;
  }
  sum->unreadable = originals.unreadable; /* folders; files add below */
  r.list = &originals;
  r.next = 0;
  for (int i = 0; i < jobs; i++) args[i] = &r;
  run_threads(&r, jobs, collect_main, args);
  if (originals.oom || r.oom) {
    rc = MV_ENOMEM;
    goto done;
  }
  rc = mv_idvalues_build(r.vals);
  if (rc != MV_OK) goto done;
  if (r.own) {
    rc = match_pairs(&r, &originals);
    if (rc != MV_OK) goto done;
  }
  sum->values = mv_idvalues_count(r.vals);
  sum->dropped = mv_idvalues_dropped(r.vals);
  sum->memory = mv_idvalues_memory(r.vals);
  sum->seconds_collect = now_seconds() - t0;

  /* 2. Scan. OCR when asked and the policy has detectors that load. */
  double t1 = now_seconds();
  int ocr = 0;
  if (cfg->ocr) {
    const mv_pixel_settings *ps = mv_policy_pixel_settings(cfg->policy);
    mv_pixels *probe = NULL;
    char why[256] = "";
    if (!ps || ps->ndetect == 0) {
      snprintf(sum->ocr_note, sizeof sum->ocr_note,
               "the policy names no pixel detectors");
    } else if (mv_pixels_new(cfg->registry, ps, &probe, why, sizeof why) !=
               MV_OK) {
      snprintf(sum->ocr_note, sizeof sum->ocr_note, "detectors unavailable: %.120s",
               why);
    } else {
      ocr = 1;
    }
    mv_pixels_free(probe);
  } else {
    snprintf(sum->ocr_note, sizeof sum->ocr_note, "off (--no-ocr)");
  }
  sum->ocr = ocr;
  walk(cfg->deidentified, "", 0, 1, &files, &dirs);
  if (files.oom || dirs.oom) {
    rc = MV_ENOMEM;
    goto done;
  }
  sum->folders = dirs.n;
  sum->unscanned += files.unreadable; /* folders of OUT that cannot be read */
  if (files.unreadable)
    fprintf(stderr, "medveil: verify: %lu folders under the de-identified "
                    "folder could not be read\n",
            files.unreadable);
  r.list = &dirs;
  r.next = 0;
  for (int i = 0; i < jobs; i++) {
    wa[i] = (worker_arg){.r = &r, .folders = 1, .ocr = 0};
    args[i] = &wa[i];
  }
  run_threads(&r, jobs, scan_main, args);
  r.list = &files;
  r.next = 0;
  for (int i = 0; i < jobs; i++) {
    wa[i] = (worker_arg){.r = &r, .folders = 0, .ocr = ocr};
    args[i] = &wa[i];
  }
  run_threads(&r, jobs, scan_main, args);
  if (r.oom) {
    rc = MV_ENOMEM;
    goto done;
  }
  sum->seconds_scan = now_seconds() - t1;
  if (r.nfound) qsort(r.found, r.nfound, sizeof *r.found, found_cmp);
  for (size_t i = 0; i < r.nfound && sink; i++) {
    const stored *f = &r.found[i];
    mv_verify_finding out = {.file = f->file, .is_folder = f->is_folder,
                             .where = f->where, .offset = f->offset,
                             .plane = f->plane, .tag = f->tag,
                             .origin = f->origin, .hits = f->hits};
    if (sink(ud, &out)) break;
  }
done:
  if (rc == MV_ENOMEM) snprintf(err, errlen, "out of memory");
  else if (rc != MV_OK) snprintf(err, errlen, "%s", mv_strerror(rc));
  for (size_t i = 0; i < r.nfound; i++) free(r.found[i].file);
  free(r.found);
  for (size_t i = 0; r.own && i < originals.n; i++) free(r.own[i].id);
  free(r.own);
  free(r.pairs);
  fl_free(&originals);
  fl_free(&files);
  fl_free(&dirs);
  mv_idvalues_free(r.vals);
  pthread_mutex_destroy(&r.lock);
  return rc;
}
