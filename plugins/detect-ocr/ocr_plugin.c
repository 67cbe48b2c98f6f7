/* ocr_plugin.c - detect-ocr: descriptor, init/fini and the detector ops.
 *
 * One TessBaseAPI per context (per worker): the engine is not thread-safe
 * and initialising it costs ~70 ms, so it is made once and reused, and
 * cleared (TessBaseAPIClear) after every image. */
#include "ocr_internal.h"

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Margin around a region of interest, native pixels: a verification ROI is
 * a redacted box, and text touching its edge must still be seen whole. */
#define OCR_ROI_MARGIN 4

/* Tesseract parallelises its LSTM with OpenMP. Across workers that only
 * oversubscribes the cores (measured 4-6x slower on 2 busy cores), and
 * OMP_THREAD_LIMIT is read by libgomp when it is loaded, which happens with
 * this plugin, before init() can set it. Limiting the calling thread to no
 * active parallel levels serialises tesseract's regions at run time. */
static void serialise_openmp(void) {
#ifdef _OPENMP
  omp_set_max_active_levels(0);
#endif
}

static int p_init(const mv_host *host, const char *config, void **state,
                  char *err, size_t errlen) {
  if (!state) return MV_EINVAL;
  *state = NULL;
  /* OpenMP inside tesseract would oversubscribe the workers' cores; it reads
   * this once, before the first engine exists. Respect a user's setting. */
  setenv("OMP_THREAD_LIMIT", "1", 0);
  /* Leptonica prints warnings to stderr; the host logger is the only
   * sanctioned channel, and failures come back as codes. */
  setMsgSeverity(L_SEVERITY_NONE);

  ocr_state *st = calloc(1, sizeof *st);
  if (!st) return MV_ENOMEM;
  st->host = host;
  ocr_opt_defaults(&st->defaults);
  /* Config lines "key=value"; only models= concerns us. */
  char models[OCR_PATH_MAX] = "";
  for (const char *p = config; p && *p;) {
    const char *end = strchr(p, '\n');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n > 7 && !strncmp(p, "models=", 7) && n - 7 < sizeof models) {
      memcpy(models, p + 7, n - 7);
      models[n - 7] = 0;
    }
    p = end ? end + 1 : p + n;
  }
  int rc = ocr_opt_load_conf(&st->defaults, models, err, errlen);
  if (rc) {
    free(st);
    return rc;
  }
  *state = st;
  return MV_OK;
}

static void p_fini(void *state) { free(state); }

static void log_msg(const ocr_state *st, int level, const char *msg) {
  if (st && st->host && st->host->abi == MV_PLUGIN_ABI &&
      st->host->size >= offsetof(mv_host, log) + sizeof st->host->log &&
      st->host->log)
    st->host->log(level, OCR_NAME, "%s", msg);
}

static int p_ctx_new(void *state, const char *options, void **ctxp, char *err,
                     size_t errlen) {
  if (!state || !ctxp) return MV_EINVAL;
  *ctxp = NULL;
  const ocr_state *st = state;
  ocr_ctx *c = calloc(1, sizeof *c);
  if (!c) return MV_ENOMEM;
  c->st = st;
  c->opt = st->defaults;
  int rc = ocr_opt_parse(&c->opt, options, ';', err, errlen);
  if (!rc) rc = ocr_opt_check_langs(&c->opt, err, errlen);
  if (rc) {
    free(c);
    return rc;
  }
  serialise_openmp();
  c->api = TessBaseAPICreate();
  if (!c->api) {
    free(c);
    return MV_ENOMEM;
  }
  /* No invert retry (we normalise polarity ourselves, cheaper); no
   * dictionaries (names, IDs and dates are not words); debug output off. */
  char method[2] = {(char)('0' + c->opt.threshold), 0};
  char *names[] = {"tessedit_do_invert", "load_system_dawg", "load_freq_dawg",
                   "debug_file", "thresholding_method"};
  char *values[] = {"0", "0", "0", "/dev/null", method};
  if (TessBaseAPIInit4(c->api, c->opt.tessdata, c->opt.lang, OEM_LSTM_ONLY,
                       NULL, 0, names, values, 5, 0) != 0) {
    ocr_set_err(err, errlen, "tesseract could not load language(s) '%s' "
                "from %s", c->opt.lang, c->opt.tessdata);
    TessBaseAPIDelete(c->api);
    free(c);
    return MV_EPLUGIN;
  }
  *ctxp = c;
  return MV_OK;
}

static void p_ctx_free(void *ctx) {
  ocr_ctx *c = ctx;
  if (!c) return;
  if (c->api) {
    TessBaseAPIEnd(c->api);
    TessBaseAPIDelete(c->api);
  }
  free(c);
}

static int p_detect(void *ctx, const mv_detect_input *in, mv_box_sink sink,
                    void *ud, char *err, size_t errlen) {
  ocr_ctx *c = ctx;
  if (!c || !in || !sink) return MV_EINVAL;
  if (in->size < offsetof(mv_detect_input, n_roi) + sizeof in->n_roi) {
    ocr_set_err(err, errlen, "detect input too old (size %u)", in->size);
    return MV_EINVAL;
  }
  const mv_image *img = in->image;
  if (img && in->native &&
      (img->width != in->native->width || img->height != in->native->height)) {
    ocr_set_err(err, errlen, "detection image %ux%u differs from plane %ux%u",
                img->width, img->height, in->native->width,
                in->native->height);
    return MV_EINVAL;
  }
  /* Too small to hold a character: nothing to find. */
  if (img && (img->width < 4 || img->height < 4)) return MV_OK;
  if (in->n_roi && !in->roi) {
    ocr_set_err(err, errlen, "n_roi without roi");
    return MV_EINVAL;
  }
  serialise_openmp();
  PIX *planes[OCR_PLANES] = {NULL};
  /* The colour channels serve only the chains of mode=lines. */
  int rc = ocr_pix_from_image(img, c->opt.mode == OCR_MODE_LINES, planes, err,
                              errlen);
  if (rc) return rc;

  ocr_emitter e;
  memset(&e, 0, sizeof e);
  e.sink = sink;
  e.ud = ud;
  e.plane = in->plane;
  double deadline = ocr_now_ms() + c->opt.budget_ms;
  int W = (int)img->width, H = (int)img->height;
  if (in->n_roi == 0) {
    mv_rect all = {0, 0, W, H};
    rc = ocr_region(c, planes, &all, &e, deadline, err, errlen);
  } else {
    for (size_t i = 0; i < in->n_roi && rc == MV_OK && !e.stopped; i++) {
      const mv_rect *q = &in->roi[i];
      if (q->w <= 0 || q->h <= 0) continue;
      /* Grow by the margin, clip to the plane (64-bit: hostile values). */
      int64_t x1 = (int64_t)q->x - OCR_ROI_MARGIN, y1 = (int64_t)q->y - OCR_ROI_MARGIN;
      int64_t x2 = (int64_t)q->x + q->w + OCR_ROI_MARGIN;
      int64_t y2 = (int64_t)q->y + q->h + OCR_ROI_MARGIN;
      if (x1 < 0) x1 = 0;
      if (y1 < 0) y1 = 0;
      if (x2 > W) x2 = W;
      if (y2 > H) y2 = H;
      if (x2 - x1 < 4 || y2 - y1 < 4) continue;
      mv_rect r = {(int32_t)x1, (int32_t)y1, (int32_t)(x2 - x1),
                   (int32_t)(y2 - y1)};
      rc = ocr_region(c, planes, &r, &e, deadline, err, errlen);
    }
  }
  for (int i = 0; i < OCR_PLANES; i++) pixDestroy(&planes[i]);
  ocr_emit_free(&e);
  if (rc == MV_OK && ocr_now_ms() > deadline)
    log_msg(c->st, MV_LOG_WARN, "OCR budget exceeded; remaining lines "
            "reported as unread");
  return rc;
}

static const mv_detector_ops detector_ops = {
    sizeof(mv_detector_ops), "ocr", p_ctx_new, p_ctx_free, p_detect};

static const mv_plugin plugin = {
    MV_PLUGIN_ABI,   sizeof(mv_plugin), OCR_NAME, "0.1.0",
    MV_KIND_DETECTOR, p_init,           p_fini,   NULL,
    &detector_ops,   NULL};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &plugin; }
