/* redact_plugin.c - redact-basic: fill, blur and pixelate (see README.md for
 * what each guarantees). Stateless: every call works on the plane it gets. */
#include "redact_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int p_init(const mv_host *host, const char *config, void **state,
                  char *err, size_t errlen) {
  (void)host;
  (void)config;
  (void)err;
  (void)errlen;
  if (state) *state = NULL;
  return MV_OK;
}

static void p_fini(void *state) { (void)state; }

enum { M_FILL, M_BLUR, M_PIXELATE };

/* "fill", "fill:<value>", "blur", "pixelate". */
static int parse_method(const char *method, const rd_plane *p, int *m,
                        int *has_value, int32_t *value, char *err, size_t errlen) {
  *has_value = 0;
  if (!method) {
    rd_set_err(err, errlen, "no method");
    return MV_EINVAL;
  }
  if (!strcmp(method, "blur")) return *m = M_BLUR, MV_OK;
  if (!strcmp(method, "pixelate")) return *m = M_PIXELATE, MV_OK;
  if (!strcmp(method, "fill")) return *m = M_FILL, MV_OK;
  if (!strncmp(method, "fill:", 5)) {
    const char *s = method + 5;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno) {
      rd_set_err(err, errlen, "fill: value must be an integer");
      return MV_EINVAL;
    }
    /* RGB planes take one value for all three channels. */
    const long lo = p->ch == 3 ? 0 : p->lo, hi = p->ch == 3 ? 255 : p->hi;
    if (v < lo || v > hi) {
      rd_set_err(err, errlen, "fill: value %ld outside %ld..%ld for this image", v, lo, hi);
      return MV_EINVAL;
    }
    *m = M_FILL;
    *has_value = 1;
    *value = (int32_t)v;
    return MV_OK;
  }
  rd_set_err(err, errlen, "unknown method '%.32s' (fill, fill:<value>, blur, pixelate)",
             method);
  return MV_EINVAL;
}

static int p_redact(void *state, const char *method, mv_image *img,
                    const mv_rect *rects, size_t n, char *err, size_t errlen) {
  (void)state;
  rd_plane p;
  int rc = rd_plane_init(&p, img, err, errlen);
  if (rc != MV_OK) return rc;
  int m = M_FILL, has_value = 0;
  int32_t value = 0;
  if ((rc = parse_method(method, &p, &m, &has_value, &value, err, errlen)) != MV_OK)
    return rc;
  if (n && !rects) {
    rd_set_err(err, errlen, "no rectangles");
    return MV_EINVAL;
  }
  int32_t fill[3] = {0, 0, 0};
  int fill_ready = 0;
  for (size_t i = 0; i < n; i++) {
    rd_box b;
    if (!rd_clip(&p, &rects[i], &b)) continue; /* empty or outside */
    switch (m) {
    case M_FILL:
      if (!fill_ready) {
        /* The darkest value is taken once, before anything is filled. */
        if (has_value) fill[0] = fill[1] = fill[2] = value;
        else if (p.ch == 1) fill[0] = rd_darkest(&p);
        fill_ready = 1;
      }
      rd_fill(&p, &b, fill);
      break;
    case M_BLUR:
      if ((rc = rd_blur(&p, &b)) != MV_OK) {
        rd_set_err(err, errlen, "out of memory while blurring");
        return rc;
      }
      break;
    default:
      rd_pixelate(&p, &b);
      break;
    }
  }
  return MV_OK;
}

static const mv_redactor_ops kRedactor = {
    sizeof(mv_redactor_ops), "fill,blur,pixelate", p_redact,
};

static const mv_plugin kPlugin = {
    MV_PLUGIN_ABI, sizeof(mv_plugin), "redact-basic", "0.2.0",
    MV_KIND_REDACTOR, p_init, p_fini, NULL, NULL, &kRedactor,
};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &kPlugin; }
