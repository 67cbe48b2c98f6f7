/* mv_html.c - the HTML report: spooling while the batch runs, assembling
 * at the end (see mv_html.h). */
#include "mv_html.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mv_deid.h"
#include "mv_html_names.h"
#include "mv_html_thumb.h"

#define MAX_FORMATS 32
#define MAX_ATTR_PAIRS 50000 /* distinct (tag, action) pairs kept */

typedef struct attr_slot {
  uint32_t tag, action;
  unsigned long long count; /* 0: empty */
} attr_slot;

struct mv_html {
  char *path, *tmp;
  mv_html_limits lim;
  FILE *bad, *good, *thumbs; /* unlinked spools */
  unsigned long ok_listed, ok_unlisted, thumbs_made, thumbs_unshown;
  unsigned long thumbs_failed;
  struct {
    char *name;
    unsigned long count;
  } formats[MAX_FORMATS];
  int nformats;
  attr_slot *attrs;
  size_t nattrs, attrs_cap;
  unsigned long long attrs_other; /* counts of pairs past the cap */
  unsigned long hits_dropped;     /* pairs an object could not keep */
  char **renames;                 /* pairs: from, to */
  size_t nrenames;
  int failed;
};

void mv_html_default_limits(mv_html_limits *lim) {
  lim->max_ok_rows = 2000;
  lim->max_thumbs = 500;
  lim->thumb_width = 240;
}

/* ---------------------------------------------------------------------- */
/* Escaping.                                                               */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s) {
  if (s[0] < 0x80) return 1;
  size_t n = s[0] >= 0xF0 && s[0] <= 0xF4   ? 4
             : s[0] >= 0xE0                ? 3
             : s[0] >= 0xC2 && s[0] < 0xE0 ? 2
                                           : 0;
  if (!n) return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  if (n == 3 && s[0] == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
  if (n == 3 && s[0] == 0xED && s[1] >= 0xA0) return 0; /* surrogate */
  if (n == 4 && s[0] == 0xF0 && s[1] < 0x90) return 0;
  if (n == 4 && s[0] == 0xF4 && s[1] >= 0x90) return 0;
  return n;
}

void mv_html_text(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  while (*p) {
    switch (*p) {
      case '&': fputs("&amp;", f); p++; continue;
      case '<': fputs("&lt;", f); p++; continue;
      case '>': fputs("&gt;", f); p++; continue;
      case '"': fputs("&quot;", f); p++; continue;
      case '\'': fputs("&#39;", f); p++; continue;
    }
    if (*p < 0x20 || *p == 0x7F) {
      /* Control characters are not allowed in HTML text: show U+FFFD. */
      fputs("&#xFFFD;", f);
      p++;
      continue;
    }
    size_t n = utf8_len(p);
    if (n == 0) { /* a byte that is not UTF-8: as its Latin-1 code point */
      fprintf(f, "&#x%X;", *p);
      p++;
      continue;
    }
    fwrite(p, 1, n, f);
    p += n;
  }
}

/* Spool fields: '%', tab and newline (and other control bytes) as %XX. */
static void spool_field(FILE *f, const char *s) {
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
    if (*p == '%' || *p < 0x20)
      fprintf(f, "%%%02X", *p);
    else
      fputc(*p, f);
  fputc('\t', f);
}

static void unspool(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    unsigned v;
    if (*r == '%' && sscanf(r + 1, "%2x", &v) == 1) {
      *w++ = (char)v;
      r += 2;
    } else {
      *w++ = *r;
    }
  }
  *w = 0;
}

/* ---------------------------------------------------------------------- */
/* Opening.                                                                */

static FILE *spool_open(const char *path) {
  size_t n = strlen(path) + 32;
  char *name = malloc(n);
  if (!name) return NULL;
  snprintf(name, n, "%s.spool-XXXXXX", path);
  int fd = mkstemp(name);
  if (fd < 0) {
    free(name);
    return NULL;
  }
  /* Unlinked at once: nothing is left behind if the run dies. */
  unlink(name);
  free(name);
  FILE *f = fdopen(fd, "w+");
  if (!f) close(fd);
  return f;
}

mv_html *mv_html_open(const char *path, const mv_html_limits *lim, char *err,
                      size_t errlen) {
  mv_html *h = calloc(1, sizeof *h);
  if (!h) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (lim) h->lim = *lim;
  else mv_html_default_limits(&h->lim);
  h->path = strdup(path);
  size_t n = strlen(path) + 32;
  h->tmp = malloc(n);
  if (!h->path || !h->tmp) {
    snprintf(err, errlen, "out of memory");
    mv_html_abort(h);
    return NULL;
  }
  snprintf(h->tmp, n, "%s.tmp-%ld", path, (long)getpid());
  h->bad = spool_open(path);
  h->good = h->bad ? spool_open(path) : NULL;
  h->thumbs = h->good ? spool_open(path) : NULL;
  if (!h->thumbs) {
    snprintf(err, errlen, "%s: cannot write the HTML report: %s", path,
             strerror(errno));
    mv_html_abort(h);
    return NULL;
  }
  return h;
}

static void free_all(mv_html *h) {
  if (h->bad) fclose(h->bad);
  if (h->good) fclose(h->good);
  if (h->thumbs) fclose(h->thumbs);
  for (int i = 0; i < h->nformats; i++) free(h->formats[i].name);
  for (size_t i = 0; i < 2 * h->nrenames; i++) free(h->renames[i]);
  free(h->renames);
  free(h->attrs);
  free(h->path);
  free(h->tmp);
  free(h);
}

void mv_html_abort(mv_html *h) {
  if (h) free_all(h);
}

/* ---------------------------------------------------------------------- */
/* Gathering.                                                              */

static uint32_t pair_hash(uint32_t tag, uint32_t action) {
  uint32_t x = tag * 2654435761u ^ action * 0x9E3779B9u;
  return x ^ x >> 15;
}

static int attrs_grow(mv_html *h) {
  size_t cap = h->attrs_cap ? h->attrs_cap * 2 : 1024;
  attr_slot *t = calloc(cap, sizeof *t);
  if (!t) return -1;
  for (size_t i = 0; i < h->attrs_cap; i++) {
    attr_slot *s = &h->attrs[i];
    if (!s->count) continue;
    size_t k = pair_hash(s->tag, s->action) & (cap - 1);
    while (t[k].count) k = (k + 1) & (cap - 1);
    t[k] = *s;
  }
  free(h->attrs);
  h->attrs = t;
  h->attrs_cap = cap;
  return 0;
}

/* Past MAX_ATTR_PAIRS (or out of memory) pairs already seen still count;
 * new ones go to "other". */
static void attrs_add(mv_html *h, uint32_t tag, uint32_t action,
                      unsigned long count) {
  int room = h->nattrs < MAX_ATTR_PAIRS;
  if (room && h->nattrs * 2 >= h->attrs_cap && attrs_grow(h) != 0) room = 0;
  if (!h->attrs_cap) {
    h->attrs_other += count;
    return;
  }
  size_t k = pair_hash(tag, action) & (h->attrs_cap - 1);
  for (size_t probe = 0; probe < h->attrs_cap; probe++) {
    attr_slot *s = &h->attrs[k];
    if (s->count && s->tag == tag && s->action == action) {
      s->count += count;
      return;
    }
    if (!s->count) {
      if (!room || h->nattrs * 2 >= h->attrs_cap) break;
      *s = (attr_slot){tag, action, count};
      h->nattrs++;
      return;
    }
    k = (k + 1) & (h->attrs_cap - 1);
  }
  h->attrs_other += count;
}

static void note_format(mv_html *h, const char *fmt) {
  if (!fmt) return;
  for (int i = 0; i < h->nformats; i++)
    if (strcmp(h->formats[i].name, fmt) == 0) {
      h->formats[i].count++;
      return;
    }
  if (h->nformats == MAX_FORMATS) return;
  char *copy = strdup(fmt);
  if (!copy) return;
  h->formats[h->nformats].name = copy;
  h->formats[h->nformats++].count = 1;
}

int mv_html_add(mv_html *h, const mv_job_event *ev) {
  const mv_report_row *row = ev->row;
  const mv_outcome *o = ev->o;
  int ok = row->status && strcmp(row->status, "ok") == 0;
  note_format(h, row->format);
  if (o && o->hits)
    for (size_t i = 0; i < MV_ATTR_HIT_SLOTS; i++)
      if (o->hits[i].count)
        attrs_add(h, o->hits[i].tag, o->hits[i].action, o->hits[i].count);
  if (o) h->hits_dropped += o->hits_dropped;

  /* A thumbnail for every object whose pixels changed, up to the cap. */
  long thumb = -1;
  if (o && o->px.changed) {
    if (h->thumbs_made >= h->lim.max_thumbs) {
      h->thumbs_unshown++;
    } else {
      /* Images first, into memory: no views (or no memory) leaves no
       * half figure behind. */
      char *imgs = NULL;
      size_t len = 0;
      FILE *m = open_memstream(&imgs, &len);
      int made = m && mv_html_thumb_pair(m, &o->px, h->lim.thumb_width) == 0;
      if (m && fclose(m) != 0) made = 0;
      if (made) {
        fprintf(h->thumbs, "<figure id=\"t%lu\"><figcaption>",
                h->thumbs_made);
        mv_html_text(h->thumbs, row->input);
        fprintf(h->thumbs, " <span class=\"dim\">(%u box%s redacted)</span>"
                           "</figcaption>\n",
                o->px.redacted, o->px.redacted == 1 ? "" : "es");
        fwrite(imgs, 1, len, h->thumbs);
        fputs("</figure>\n", h->thumbs);
        thumb = (long)h->thumbs_made++;
      } else {
        h->thumbs_failed++;
      }
      free(imgs);
    }
  }

  FILE *f = ok ? h->good : h->bad;
  if (ok) {
    if (h->ok_listed >= h->lim.max_ok_rows) {
      h->ok_unlisted++;
      return h->failed ? -1 : 0;
    }
    h->ok_listed++;
  }
  const mv_pixel_result *px =
      o && o->px.ran ? &o->px : row->pixels && row->pixels->ran ? row->pixels
                                                                : NULL;
  spool_field(f, row->status);
  spool_field(f, row->input);
  spool_field(f, row->output);
  spool_field(f, row->reason);
  spool_field(f, row->note);
  spool_field(f, row->format);
  spool_field(f, row->review_id);
  fprintf(f, "%llu\t%llu\t", row->bytes_in, row->bytes_out);
  if (px)
    fprintf(f, "%u\t%u\t%u\t%u\t%u\t%u\t", px->planes, px->boxes, px->redacted,
            px->kept, px->uncertain, px->verify_hits);
  else
    fputs("-\t-\t-\t-\t-\t-\t", f);
  fprintf(f, "%ld\n", thumb);
  if (ferror(f) || ferror(h->thumbs)) h->failed = 1;
  return h->failed ? -1 : 0;
}

void mv_html_renamed(mv_html *h, const char *from, const char *to) {
  char **g = realloc(h->renames, (h->nrenames + 1) * 2 * sizeof *g);
  if (!g) {
    h->failed = 1;
    return;
  }
  h->renames = g;
  g[2 * h->nrenames] = strdup(from);
  g[2 * h->nrenames + 1] = strdup(to);
  if (!g[2 * h->nrenames] || !g[2 * h->nrenames + 1]) {
    free(g[2 * h->nrenames]);
    free(g[2 * h->nrenames + 1]);
    h->failed = 1;
    return;
  }
  h->nrenames++;
}

/* ---------------------------------------------------------------------- */
/* Assembling.                                                             */

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:.4em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;"
    "vertical-align:top}th{background:#f0f0f0}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.rejected td.st{color:#b00}tr.review td.st{color:#a60}"
    "tr.ok td.st{color:#070}.dim{color:#777}"
    "td.path{word-break:break-all;max-width:40em}"
    "figure{display:inline-block;margin:.4em;padding:.3em;"
    "border:1px solid #ddd;vertical-align:top;max-width:500px}"
    "figcaption{font-size:.85em;word-break:break-all}"
    "img{image-rendering:pixelated;border:1px solid #999}";

static void kv_text(FILE *f, const char *id, const char *key,
                    const char *value) {
  fprintf(f, "<tr><th>%s</th><td id=\"%s\">", key, id);
  mv_html_text(f, value);
  fputs("</td></tr>\n", f);
}

static void kv_num(FILE *f, const char *id, const char *key,
                   unsigned long long v) {
  fprintf(f, "<tr><th>%s</th><td id=\"%s\" class=\"n\">%llu</td></tr>\n", key,
          id, v);
}

static void write_summary(mv_html *h, FILE *f, const mv_html_info *in,
                          const mv_summary *s) {
  fputs("<h2>Summary</h2>\n<table id=\"summary\">\n", f);
  kv_text(f, "job-id", "Job", in->job_id);
  kv_text(f, "policy", "Policy", in->policy_name);
  char sha[17];
  snprintf(sha, sizeof sha, "%s", in->rules_sha256 ? in->rules_sha256 : "");
  kv_text(f, "rules-sha256", "Rules file SHA-256 (prefix)", sha);
  kv_text(f, "key-fingerprint", "Key fingerprint", in->key_fingerprint);
  kv_num(f, "count-total", "Files", s->total);
  kv_num(f, "count-ok", "Released (ok)", s->ok);
  kv_num(f, "count-rejected", "Rejected", s->rejected);
  kv_num(f, "count-review", "Held for review", s->review);
  kv_num(f, "bytes-in", "Bytes in", s->bytes_in);
  kv_num(f, "bytes-out", "Bytes out", s->bytes_out);
  fprintf(f, "<tr><th>Duration</th><td id=\"duration\" class=\"n\">%.2f s"
             "</td></tr>\n", s->seconds);
  kv_num(f, "jobs", "Worker threads", (unsigned long long)s->jobs);
  fputs("<tr><th>Formats seen</th><td id=\"formats\">", f);
  for (int i = 0; i < h->nformats; i++) {
    fputs(i ? ", " : "", f);
    mv_html_text(f, h->formats[i].name);
    fprintf(f, " (%lu)", h->formats[i].count);
  }
  if (!h->nformats) fputs("none", f);
  fputs("</td></tr>\n", f);
  kv_num(f, "scrubbed", "Replacements inside free text", s->scrubbed);
  if (s->observer_errors)
    kv_num(f, "observer-errors", "Records that could not be written",
           s->observer_errors);
  kv_text(f, "json-report", "JSON report", in->json_report);
  fputs("</table>\n", f);
}

static void write_actions(FILE *f, const mv_summary *s) {
  fputs("<h2>Actions</h2>\n<p class=\"dim\">Attributes (elements, items of "
        "sequences included) by the action the policy gave them.</p>\n"
        "<table id=\"actions\"><tr><th>Action</th><th>Count</th></tr>\n",
        f);
  for (int k = 0; k < MV_ACT__COUNT; k++)
    if (s->actions[k])
      fprintf(f, "<tr><td>%s</td><td class=\"n\">%lu</td></tr>\n",
              mv_action_name(k), s->actions[k]);
  fputs("</table>\n", f);
}

static int by_tag_action(const void *a, const void *b) {
  const attr_slot *x = a, *y = b;
  if (x->tag != y->tag) return x->tag < y->tag ? -1 : 1;
  return x->action < y->action ? -1 : x->action > y->action;
}

static void write_attrs(mv_html *h, FILE *f, const mv_html_info *in) {
  fputs("<h2>Actions per attribute</h2>\n<p class=\"dim\">How many times each "
        "attribute got each action (tags and counts only, never values; "
        "private tags by number).</p>\n",
        f);
  /* Compact the table in place: it is not needed afterwards. */
  size_t n = 0;
  for (size_t i = 0; i < h->attrs_cap; i++)
    if (h->attrs[i].count) h->attrs[n++] = h->attrs[i];
  if (n) qsort(h->attrs, n, sizeof *h->attrs, by_tag_action);
  mv_html_names *names = mv_html_names_load(in->scripts_dir);
  fputs("<table id=\"attributes\"><tr><th>Attribute</th><th>Action</th>"
        "<th>Count</th></tr>\n",
        f);
  for (size_t i = 0; i < n; i++) {
    const attr_slot *s = &h->attrs[i];
    const char *kw = mv_html_names_get(names, s->tag);
    fprintf(f, "<tr><td>(%04X,%04X)", s->tag >> 16, s->tag & 0xFFFF);
    if (kw) {
      fputc(' ', f);
      mv_html_text(f, kw);
    }
    fprintf(f, "</td><td>%s</td><td class=\"n\">%llu</td></tr>\n",
            mv_action_name((int)s->action), s->count);
  }
  fputs("</table>\n", f);
  mv_html_names_free(names);
  h->nattrs = 0; /* compacted: the hash table is spent */
  if (h->attrs_other)
    fprintf(f, "<p>%llu more actions, on attributes past the first %d "
               "distinct (attribute, action) pairs, are counted only in the "
               "Actions table.</p>\n",
            h->attrs_other, MAX_ATTR_PAIRS);
  if (h->hits_dropped)
    fprintf(f, "<p>%lu actions in objects with very many distinct "
               "attributes are counted only in the Actions table.</p>\n",
            h->hits_dropped);
}

/* The output an ok row names, after the batch settled duplicate names. */
static const char *renamed(const mv_html *h, const char *out) {
  for (size_t i = 0; i < h->nrenames; i++)
    if (strcmp(h->renames[2 * i], out) == 0) return h->renames[2 * i + 1];
  return out;
}

enum { F_STATUS, F_INPUT, F_OUTPUT, F_REASON, F_NOTE, F_FORMAT, F_REVIEW,
       F_BIN, F_BOUT, F_PLANES, F_BOXES, F_REDACTED, F_KEPT, F_UNCERTAIN,
       F_VERIFY, F_THUMB, F__COUNT };

static int split(char *line, char **fld) {
  size_t len = strlen(line);
  if (len && line[len - 1] == '\n') line[--len] = 0;
  int n = 0;
  for (char *p = line; n < F__COUNT;) {
    fld[n++] = p;
    char *tab = strchr(p, '\t');
    if (!tab) break;
    *tab = 0;
    p = tab + 1;
  }
  if (n != F__COUNT) return -1;
  for (int i = 0; i < F__COUNT; i++) unspool(fld[i]);
  return 0;
}

static void pixel_cell(FILE *f, char **fld) {
  if (strcmp(fld[F_PLANES], "-") == 0) {
    fputs("<td class=\"dim\">-</td>", f);
    return;
  }
  fprintf(f, "<td>planes %s, boxes %s, redacted %s, kept %s, uncertain %s, "
             "verify hits %s",
          fld[F_PLANES], fld[F_BOXES], fld[F_REDACTED], fld[F_KEPT],
          fld[F_UNCERTAIN], fld[F_VERIFY]);
  if (strcmp(fld[F_THUMB], "-1") != 0)
    fprintf(f, " (<a href=\"#t%s\">thumbnails</a>)", fld[F_THUMB]);
  fputs("</td>", f);
}

static int write_rows(mv_html *h, FILE *f, FILE *spool, int ok) {
  if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0) return -1;
  char *line = NULL;
  size_t cap = 0;
  char *fld[F__COUNT];
  while (getline(&line, &cap, spool) > 0) {
    if (split(line, fld) != 0) continue;
    fprintf(f, "<tr class=\"%s\"><td class=\"path\">",
            ok ? "ok" : strcmp(fld[F_STATUS], "review") == 0 ? "review"
                                                             : "rejected");
    mv_html_text(f, fld[F_INPUT]);
    fputs("</td><td class=\"st\">", f);
    mv_html_text(f, fld[F_STATUS]);
    fputs("</td><td class=\"path\">", f);
    if (ok) {
      mv_html_text(f, renamed(h, fld[F_OUTPUT]));
      if (fld[F_NOTE][0]) {
        fputs("<br><span class=\"dim\">", f);
        mv_html_text(f, fld[F_NOTE]);
        fputs("</span>", f);
      }
    } else {
      mv_html_text(f, fld[F_REASON]);
    }
    fputs("</td><td>", f);
    mv_html_text(f, fld[F_REVIEW]);
    fputs("</td><td>", f);
    mv_html_text(f, fld[F_FORMAT]);
    fprintf(f, "</td><td class=\"n\">%s</td>", fld[F_BIN]);
    if (ok) fprintf(f, "<td class=\"n\">%s</td>", fld[F_BOUT]);
    pixel_cell(f, fld);
    fputs("</tr>\n", f);
  }
  free(line);
  return ferror(spool) ? -1 : 0;
}

static void table_head(FILE *f, const char *id, int ok) {
  fprintf(f, "<table id=\"%s\"><tr><th>Input</th><th>Status</th><th>%s</th>"
             "<th>Review id</th><th>Format</th><th>Bytes in</th>%s"
             "<th>Pixels</th></tr>\n",
          id, ok ? "Output" : "Reason", ok ? "<th>Bytes out</th>" : "");
}

static int copy_spool(FILE *f, FILE *spool) {
  if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0) return -1;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, spool)) > 0) fwrite(buf, 1, n, f);
  return ferror(spool) ? -1 : 0;
}

static int assemble(mv_html *h, FILE *f, const mv_html_info *in,
                    const mv_summary *s) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<title>medveil report ", f);
  mv_html_text(f, in->job_id);
  fprintf(f, "</title>\n<style>%s</style>\n</head><body>\n"
             "<h1>medveil run report</h1>\n", css);
  write_summary(h, f, in, s);
  write_actions(f, s);
  write_attrs(h, f, in);

  fputs("<h2>Not released</h2>\n<p class=\"dim\">Every input that was "
        "rejected or held for review, with the reason.</p>\n", f);
  table_head(f, "not-released", 0);
  if (write_rows(h, f, h->bad, 0) != 0) return -1;
  fputs("</table>\n", f);

  fputs("<h2>Released</h2>\n", f);
  table_head(f, "released", 1);
  if (write_rows(h, f, h->good, 1) != 0) return -1;
  fputs("</table>\n", f);
  if (h->ok_unlisted)
    fprintf(f, "<p id=\"released-unlisted\">%lu more released files are not "
               "listed here (the first %lu are); the JSON report has every "
               "one.</p>\n",
            h->ok_unlisted, h->ok_listed);

  fputs("<h2>Redacted pixels</h2>\n<p class=\"dim\">Before and after for "
        "each object whose pixels were redacted. Boxes: red redacted, green "
        "kept as harmless, magenta uncertain. In the before image every box "
        "is pixelated so the text it held cannot be read; only where it was "
        "is shown.</p>\n<div id=\"thumbnails\">\n", f);
  if (copy_spool(f, h->thumbs) != 0) return -1;
  fputs("</div>\n", f);
  if (!h->thumbs_made && !h->thumbs_unshown)
    fputs("<p>No pixels were redacted.</p>\n", f);
  if (h->thumbs_unshown)
    fprintf(f, "<p id=\"thumbnails-unshown\">%lu more objects had pixels "
               "redacted; thumbnails are shown for the first %lu.</p>\n",
            h->thumbs_unshown, h->thumbs_made);
  if (h->thumbs_failed)
    fprintf(f, "<p>%lu redacted objects have no thumbnail (no preview "
               "views were kept).</p>\n", h->thumbs_failed);
  fputs("</body></html>\n", f);
  return 0;
}

int mv_html_close(mv_html *h, const mv_html_info *info, const mv_summary *sum,
                  char *err, size_t errlen) {
  if (h->failed) {
    snprintf(err, errlen, "%s: cannot write the HTML report (spool failed)",
             h->path);
    free_all(h);
    return -1;
  }
  FILE *f = fopen(h->tmp, "w");
  if (!f) {
    snprintf(err, errlen, "%s: cannot write the HTML report: %s", h->path,
             strerror(errno));
    free_all(h);
    return -1;
  }
  int rc = assemble(h, f, info, sum);
  if (ferror(f)) rc = -1;
  if (fclose(f) != 0) rc = -1;
  if (rc == 0 && rename(h->tmp, h->path) != 0) rc = -1;
  if (rc != 0) {
    snprintf(err, errlen, "%s: cannot write the HTML report: %s", h->path,
             errno ? strerror(errno) : "write failed");
    unlink(h->tmp);
  }
  free_all(h);
  return rc;
}
