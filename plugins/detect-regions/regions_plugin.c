/* regions_plugin.c - detect-regions: known burned-in regions per device.
 *
 * init keeps the models folder; ctx_new reads the region files named by the
 * options (regions_load.c) into C structs; detect evaluates the signatures
 * in order against the object's attributes and reports the regions of the
 * first that matches, and/or everything outside the ultrasound regions. */
#include "regions_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rx_state {
  const mv_host *host;
  char *models; /* NULL: no region files */
} rx_state;

typedef struct rx_ctx {
  rx_set set;
  int us_keep; /* us_regions=keep */
} rx_ctx;

#define WHO "detect-regions"

static void log_loaded(const rx_state *st, size_t n) {
  if (st && st->host && st->host->abi == MV_PLUGIN_ABI &&
      st->host->size >= offsetof(mv_host, log) + sizeof st->host->log && st->host->log)
    st->host->log(MV_LOG_DEBUG, WHO, "%zu region signatures loaded", n);
}

/* ---- init / fini -------------------------------------------------------- */

static int p_init(const mv_host *host, const char *config, void **state,
                  char *err, size_t errlen) {
  if (!state) return MV_EINVAL;
  *state = NULL;
  rx_state *st = calloc(1, sizeof *st);
  if (!st) return MV_ENOMEM;
  st->host = host;
  /* Lines of key=value; only models= concerns us. */
  for (const char *p = config; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    if (n > 7 && !strncmp(p, "models=", 7)) {
      free(st->models);
      if (!(st->models = strndup(p + 7, n - 7))) {
        free(st);
        return MV_ENOMEM;
      }
      size_t m = strlen(st->models);
      while (m && (st->models[m - 1] == '\r' || st->models[m - 1] == '/'))
        st->models[--m] = '\0';
      if (!m) {
        rx_set_err(err, errlen, "models= is empty");
        free(st->models);
        free(st);
        return MV_EINVAL;
      }
    }
    p = eol ? eol + 1 : p + n;
  }
  *state = st;
  return MV_OK;
}

static void p_fini(void *state) {
  rx_state *st = state;
  if (!st) return;
  free(st->models);
  free(st);
}

/* ---- options ------------------------------------------------------------ */

static int valid_file_name(const char *s, size_t n) {
  if (n == 0 || n > 32) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_'))
      return 0;
  }
  return 1;
}

/* "files=site,ctp,deid;us_regions=keep" -> names (explicit or default) and
 * the us flag. Names point into `buf`. */
static int parse_options(const char *options, char *buf, size_t buflen,
                         const char **names, size_t *n_names, int *explicit_files,
                         int *us_keep, char *err, size_t errlen) {
  static const char *const defaults[] = {"site", "ctp", "deid"};
  *n_names = 3;
  for (int i = 0; i < 3; i++) names[i] = defaults[i];
  *explicit_files = 0;
  *us_keep = 0;
  if (!options) return MV_OK;
  if (strlen(options) >= buflen) {
    rx_set_err(err, errlen, "options longer than %zu bytes", buflen - 1);
    return MV_EINVAL;
  }
  strcpy(buf, options);
  char *save = NULL;
  for (char *opt = strtok_r(buf, ";", &save); opt; opt = strtok_r(NULL, ";", &save)) {
    while (*opt == ' ') opt++;
    if (!*opt) continue;
    char *eq = strchr(opt, '=');
    if (!eq) {
      rx_set_err(err, errlen, "option '%.32s' needs key=value", opt);
      return MV_EINVAL;
    }
    *eq = '\0';
    char *val = eq + 1;
    if (!strcmp(opt, "files")) {
      *explicit_files = 1;
      *n_names = 0;
      char *s2 = NULL;
      for (char *f = strtok_r(val, ",", &s2); f; f = strtok_r(NULL, ",", &s2)) {
        if (!valid_file_name(f, strlen(f))) {
          rx_set_err(err, errlen, "files: '%.32s' is not a plain file name", f);
          return MV_EINVAL;
        }
        if (*n_names == RX_MAX_FILES) {
          rx_set_err(err, errlen, "files: more than %d names", RX_MAX_FILES);
          return MV_EINVAL;
        }
        names[(*n_names)++] = f;
      }
    } else if (!strcmp(opt, "us_regions")) {
      if (!strcmp(val, "keep")) *us_keep = 1;
      else if (!strcmp(val, "off")) *us_keep = 0;
      else {
        rx_set_err(err, errlen, "us_regions must be keep or off");
        return MV_EINVAL;
      }
    } else {
      rx_set_err(err, errlen, "unknown option '%.32s' (files, us_regions)", opt);
      return MV_EINVAL;
    }
  }
  return MV_OK;
}

/* ---- contexts ----------------------------------------------------------- */

static void p_ctx_free(void *ctx) {
  rx_ctx *c = ctx;
  if (!c) return;
  rx_set_free(&c->set);
  free(c);
}

static int p_ctx_new(void *state, const char *options, void **ctx, char *err,
                     size_t errlen) {
  const rx_state *st = state;
  if (!ctx) return MV_EINVAL;
  *ctx = NULL;
  char buf[512];
  const char *names[RX_MAX_FILES];
  size_t n_names;
  int explicit_files, us_keep;
  int rc = parse_options(options, buf, sizeof buf, names, &n_names, &explicit_files,
                         &us_keep, err, errlen);
  if (rc != MV_OK) return rc;
  rx_ctx *c = calloc(1, sizeof *c);
  if (!c) return MV_ENOMEM;
  c->us_keep = us_keep;
  for (size_t i = 0; st && st->models && i < n_names; i++) {
    size_t plen = strlen(st->models) + strlen(names[i]) + 16;
    char *path = malloc(plen);
    if (!path) {
      p_ctx_free(c);
      return MV_ENOMEM;
    }
    snprintf(path, plen, "%s/regions/%s.lua", st->models, names[i]);
    rc = rx_load_file(&c->set, path, err, errlen);
    free(path);
    if (rc == MV_ENOTFOUND && !explicit_files) continue; /* e.g. no site.lua */
    if (rc == MV_ENOTFOUND)
      rx_set_err(err, errlen, "regions/%s.lua not found in the models folder", names[i]);
    if (rc != MV_OK) {
      p_ctx_free(c);
      return rc;
    }
  }
  if (explicit_files && n_names && (!st || !st->models)) {
    rx_set_err(err, errlen, "files= given but no models folder configured");
    p_ctx_free(c);
    return MV_EINVAL;
  }
  log_loaded(st, c->set.n);
  *ctx = c;
  return MV_OK;
}

/* ---- detect ------------------------------------------------------------- */

/* Clip r to the plane (w/h == 0 reaching the edge) and hand it to the sink.
 * Returns 1 when the sink asked to stop. */
static int emit(const mv_detect_input *in, mv_rect r, const char *name,
                mv_box_sink sink, void *ud) {
  const int64_t W = in->image->width, H = in->image->height;
  int64_t x0 = r.x, y0 = r.y;
  int64_t x1 = r.w ? x0 + r.w : W, y1 = r.h ? y0 + r.h : H;
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > W) x1 = W;
  if (y1 > H) y1 = H;
  if (x1 <= x0 || y1 <= y0) return 0;
  mv_box b;
  memset(&b, 0, sizeof b);
  b.plane = in->plane;
  b.r = (mv_rect){(int32_t)x0, (int32_t)y0, (int32_t)(x1 - x0), (int32_t)(y1 - y0)};
  b.confidence = 1.0f;
  b.flags = MV_BOX_REGION;
  snprintf(b.label, sizeof b.label, "region:%s", name);
  return sink(ud, &b) != 0;
}

/* Everything outside the object's ultrasound regions; nothing when it has
 * none (the core decides what that means). */
static int emit_outside_us(const mv_detect_input *in, rx_attrs *attrs,
                           mv_box_sink sink, void *ud, int *stop, char *err,
                           size_t errlen) {
  mv_rect keep[RX_MAX_US_REGIONS];
  size_t n_keep = 0;
  int rc = rx_us_regions(attrs, keep, RX_MAX_US_REGIONS, &n_keep);
  if (rc != MV_OK) {
    rx_set_err(err, errlen, "reading SequenceOfUltrasoundRegions failed (code %d)", rc);
    return rc;
  }
  if (n_keep == 0) return MV_OK;
  mv_rect *out;
  size_t n_out;
  if ((rc = rx_complement(in->image->width, in->image->height, keep, n_keep, &out,
                          &n_out)) != MV_OK)
    return rc;
  for (size_t i = 0; i < n_out && !*stop; i++)
    *stop = emit(in, out[i], "outside-us", sink, ud);
  free(out);
  return MV_OK;
}

static int p_detect(void *ctx, const mv_detect_input *in, mv_box_sink sink,
                    void *ud, char *err, size_t errlen) {
  const rx_ctx *c = ctx;
  if (!c || !in || !sink || !in->image) return MV_EINVAL;
  if (in->image->kind != MV_PLANE_FRAME) return MV_OK; /* overlays, icons */
  if (!in->image->width || !in->image->height) return MV_OK;
  rx_attrs attrs = {in->get, in->get_ud, NULL, 0, 0};
  int rc = MV_OK, stop = 0, us_done = 0;
  for (size_t i = 0; i < c->set.n; i++) {
    const rx_sig *s = &c->set.sigs[i];
    if (s->flag_only) continue;
    const char *bad_key = NULL;
    int r = rx_expr_eval(s->match, &attrs, &bad_key);
    if (r < 0) {
      rx_set_err(err, errlen, "signature %s: reading %s failed (code %d)", s->name,
                 bad_key ? bad_key : "?", -r);
      rc = -r;
      goto done;
    }
    if (!r) continue;
    for (size_t k = 0; k < s->n_regions && !stop; k++)
      stop = emit(in, s->regions[k], s->name, sink, ud);
    if (s->keep_us_regions && !stop) {
      rc = emit_outside_us(in, &attrs, sink, ud, &stop, err, errlen);
      us_done = 1;
    }
    break; /* first match wins */
  }
  if (rc == MV_OK && c->us_keep && !us_done && !stop)
    rc = emit_outside_us(in, &attrs, sink, ud, &stop, err, errlen);
done:
  rx_attrs_free(&attrs);
  return rc;
}

/* ---- descriptor --------------------------------------------------------- */

static const mv_detector_ops kDetector = {
    sizeof(mv_detector_ops), "regions", p_ctx_new, p_ctx_free, p_detect,
};

static const mv_plugin kPlugin = {
    MV_PLUGIN_ABI, sizeof(mv_plugin), "detect-regions", "0.2.0",
    MV_KIND_DETECTOR, p_init, p_fini, NULL, &kDetector, NULL,
};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &kPlugin; }
