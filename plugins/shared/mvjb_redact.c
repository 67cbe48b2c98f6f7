/* mvjb_redact.c - mvjb_redact: replace the DCT blocks of the MCUs under the
 * rectangles with the forward DCT of the edited pixels, quantised with the
 * file's tables, and losslessly rewrite every other block. */
#include "mv_jpegblock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "medveil/errors.h"
#include "mvjb_internal.h"

/* Heap-held state, see mvjb_decode_ctx. */
typedef struct mvjb_redact_ctx {
  struct jpeg_decompress_struct d;
  struct jpeg_compress_struct c;
  mvjb_errmgr em;
  mvjb_memdst dst;
  int d_created, c_created;
  uint8_t *units;   /* changed-unit map, ux * uy */
  uint32_t ux, uy;  /* map size in units */
  uint32_t unit_w, unit_h;
  double cosines[8][8]; /* orthonormal DCT-II basis, [freq][pos] */
} mvjb_redact_ctx;

/* ---- the new coefficients ------------------------------------------------- */

static void mvjb_init_cosines(mvjb_redact_ctx *r) {
  for (int u = 0; u < 8; u++)
    for (int x = 0; x < 8; x++)
      r->cosines[u][x] = (u == 0 ? sqrt(1.0 / 8) : sqrt(2.0 / 8)) *
                         cos((2 * x + 1) * u * M_PI / 16);
}

/* Component `ci` of the pixel, in the JPEG's own colour space, with the
 * same RGB->YCbCr transform libjpeg's encoder uses (jccolor.c). */
static double mvjb_component_value(const mvjb_image *img, J_COLOR_SPACE cs,
                                   int ci, uint32_t x, uint32_t y) {
  const uint8_t *p = img->data + (size_t)y * img->stride +
                     (size_t)x * img->samples;
  if (img->samples == 1 || cs == JCS_RGB)
    return p[img->samples == 1 ? 0 : ci];
  double R = p[0], G = p[1], B = p[2];
  switch (ci) {
  case 0: return 0.29900 * R + 0.58700 * G + 0.11400 * B;
  case 1: return -0.16874 * R - 0.33126 * G + 0.50000 * B + 128.0;
  default: return 0.50000 * R - 0.41869 * G - 0.08131 * B + 128.0;
  }
}

/* Block (bx, by) of component ci: average each sample's pixel footprint
 * (sx x sy pixels, edges replicated as the encoder does), level shift,
 * exact float DCT, divide by the quantiser and round. */
static void mvjb_compute_block(const mvjb_redact_ctx *r, const mvjb_image *img,
                               int ci, const JQUANT_TBL *qt, uint32_t bx,
                               uint32_t by, uint32_t sx, uint32_t sy,
                               JCOEF *out) {
  double s[8][8], tmp[8][8];
  for (int j = 0; j < 8; j++) {
    for (int i = 0; i < 8; i++) {
      uint64_t x0 = ((uint64_t)bx * 8 + i) * sx;
      uint64_t y0 = ((uint64_t)by * 8 + j) * sy;
      double sum = 0;
      for (uint32_t dy = 0; dy < sy; dy++) {
        uint64_t y = y0 + dy < img->height ? y0 + dy : img->height - 1;
        for (uint32_t dx = 0; dx < sx; dx++) {
          uint64_t x = x0 + dx < img->width ? x0 + dx : img->width - 1;
          sum += mvjb_component_value(img, r->d.jpeg_color_space, ci,
                                      (uint32_t)x, (uint32_t)y);
        }
      }
      s[j][i] = sum / (sx * sy) - 128.0;
    }
  }
  for (int j = 0; j < 8; j++) /* rows: tmp[j][u] */
    for (int u = 0; u < 8; u++) {
      double acc = 0;
      for (int i = 0; i < 8; i++)
        acc += r->cosines[u][i] * s[j][i];
      tmp[j][u] = acc;
    }
  for (int v = 0; v < 8; v++) /* columns: natural order, row = v */
    for (int u = 0; u < 8; u++) {
      double acc = 0;
      for (int j = 0; j < 8; j++)
        acc += r->cosines[v][j] * tmp[j][u];
      int k = v * 8 + u;
      long q = lround(acc / qt->quantval[k]);
      /* keep within what baseline Huffman coding can represent */
      long lo = k ? -1023 : -1024, hi = k ? 1023 : 1016;
      out[k] = (JCOEF)(q < lo ? lo : q > hi ? hi : q);
    }
}

/* ---- which blocks change -------------------------------------------------- */

static int mvjb_mark_units(mvjb_redact_ctx *r, const mvjb_rect *rects,
                           size_t nrects, char *err, size_t errlen) {
  uint32_t W = r->d.image_width, H = r->d.image_height;
  r->unit_w = r->d.num_components == 1 ? 8 : 8u * r->d.max_h_samp_factor;
  r->unit_h = r->d.num_components == 1 ? 8 : 8u * r->d.max_v_samp_factor;
  r->ux = (W + r->unit_w - 1) / r->unit_w;
  r->uy = (H + r->unit_h - 1) / r->unit_h;
  r->units = calloc((size_t)r->ux * r->uy, 1);
  if (!r->units)
    return mvjb_fail(err, errlen, MV_ENOMEM, "out of memory for unit map");
  for (size_t k = 0; k < nrects; k++) {
    int64_t x0 = rects[k].x, y0 = rects[k].y;
    int64_t x1 = x0 + rects[k].w, y1 = y0 + rects[k].h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > W) x1 = W;
    if (y1 > H) y1 = H;
    if (x1 <= x0 || y1 <= y0)
      continue; /* empty or outside */
    for (int64_t uy = y0 / r->unit_h; uy <= (y1 - 1) / r->unit_h; uy++)
      for (int64_t ux = x0 / r->unit_w; ux <= (x1 - 1) / r->unit_w; ux++)
        r->units[uy * r->ux + ux] = 1;
  }
  return MV_OK;
}

static int mvjb_replace_blocks(mvjb_redact_ctx *r, jvirt_barray_ptr *coef,
                               const mvjb_image *img, char *err,
                               size_t errlen) {
  j_decompress_ptr d = &r->d;
  for (int ci = 0; ci < d->num_components; ci++) {
    jpeg_component_info *comp = &d->comp_info[ci];
    const JQUANT_TBL *qt = comp->quant_table;
    if (!qt)
      return mvjb_fail(err, errlen, MV_EFORMAT,
                       "JPEG component %d never coded", ci);
    if (d->max_h_samp_factor % comp->h_samp_factor ||
        d->max_v_samp_factor % comp->v_samp_factor)
      return mvjb_fail(err, errlen, MV_EUNSUPPORTED,
                       "JPEG fractional sampling is not supported");
    /* pixels per component sample */
    uint32_t sx = d->max_h_samp_factor / comp->h_samp_factor;
    uint32_t sy = d->max_v_samp_factor / comp->v_samp_factor;
    for (JDIMENSION by = 0; by < comp->height_in_blocks; by++) {
      uint64_t uy = (uint64_t)by * 8 * sy / r->unit_h;
      const uint8_t *urow = r->units + uy * r->ux;
      if (!memchr(urow, 1, r->ux))
        continue;
      JBLOCKARRAY rows = (*d->mem->access_virt_barray)(
          (j_common_ptr)d, coef[ci], by, 1, TRUE);
      for (JDIMENSION bx = 0; bx < comp->width_in_blocks; bx++) {
        uint64_t ux = (uint64_t)bx * 8 * sx / r->unit_w;
        if (urow[ux])
          mvjb_compute_block(r, img, ci, qt, bx, by, sx, sy, rows[0][bx]);
      }
    }
  }
  return MV_OK;
}

/* ---- the whole rewrite ---------------------------------------------------- */

static int mvjb_check_edited(const j_decompress_ptr d, uint32_t samples,
                             const mvjb_image *img, char *err, size_t errlen) {
  if (!img || !img->data || img->width != d->image_width ||
      img->height != d->image_height || img->samples != samples ||
      img->stride < (size_t)img->width * samples)
    return mvjb_fail(err, errlen, MV_EINVAL,
                     "edited image does not match the JPEG's size/layout");
  return MV_OK;
}

static int mvjb_redact_run(mvjb_redact_ctx *r, const uint8_t *jpg, size_t n,
                           const mvjb_image *edited, const mvjb_rect *rects,
                           size_t nrects, char *err, size_t errlen) {
  jpeg_create_decompress(&r->d);
  r->d_created = 1;
  r->d.mem->max_memory_to_use = MVJB_MAX_LIBJPEG_MEMORY;
  jpeg_mem_src(&r->d, jpg, (unsigned long)n);
  if (jpeg_read_header(&r->d, TRUE) != JPEG_HEADER_OK)
    return mvjb_fail(err, errlen, MV_EFORMAT, "JPEG has no image");
  uint32_t samples = 0;
  int rc = mvjb_check_header(&r->d, n, &samples, err, errlen);
  if (rc == MV_OK)
    rc = mvjb_check_edited(&r->d, samples, edited, err, errlen);
  if (rc != MV_OK)
    return rc;
  jvirt_barray_ptr *coef = jpeg_read_coefficients(&r->d);
  rc = mvjb_mark_units(r, rects, nrects, err, errlen);
  if (rc == MV_OK)
    rc = mvjb_replace_blocks(r, coef, edited, err, errlen);
  if (rc != MV_OK)
    return rc;

  jpeg_create_compress(&r->c);
  r->c_created = 1;
  mvjb_memdst_init(&r->c, &r->dst);
  jpeg_copy_critical_parameters(&r->d, &r->c);
  /* Keep the colour interpretation exactly as the input signalled it:
   * libjpeg re-derives JFIF/Adobe presence from the colour space, which
   * could add a marker the input did not have. */
  r->c.write_JFIF_header = r->d.saw_JFIF_marker;
  r->c.write_Adobe_marker = r->d.saw_Adobe_marker;
  r->c.restart_interval = r->d.restart_interval;
  r->c.optimize_coding = TRUE;
  jpeg_write_coefficients(&r->c, coef);
  jpeg_finish_compress(&r->c);
  jpeg_finish_decompress(&r->d);
  return MV_OK;
}

int mvjb_redact(const uint8_t *jpg, size_t n, const mvjb_image *edited,
                const mvjb_rect *rects, size_t nrects, uint8_t **out,
                size_t *outlen, char *err, size_t errlen) {
  if (err && errlen)
    err[0] = '\0';
  if (!out || !outlen)
    return mvjb_fail(err, errlen, MV_EINVAL, "no output buffer");
  *out = NULL;
  *outlen = 0;
  if (!jpg || n == 0)
    return mvjb_fail(err, errlen, MV_EINVAL, "empty JPEG input");
  if (nrects && !rects)
    return mvjb_fail(err, errlen, MV_EINVAL, "rectangles missing");
  int rc = mvjb_prescan(jpg, n, err, errlen);
  if (rc != MV_OK)
    return rc;

  mvjb_redact_ctx *r = calloc(1, sizeof *r);
  if (!r)
    return mvjb_fail(err, errlen, MV_ENOMEM, "out of memory");
  mvjb_init_cosines(r);
  r->d.err = mvjb_errmgr_init(&r->em);
  r->c.err = &r->em.pub;
  if (setjmp(r->em.jb)) {
    rc = mvjb_fail(err, errlen, r->em.rc, "JPEG block redaction failed: %s",
                   r->em.msg);
  } else {
    rc = mvjb_redact_run(r, jpg, n, edited, rects, nrects, err, errlen);
  }
  if (r->c_created)
    jpeg_destroy_compress(&r->c);
  if (r->d_created)
    jpeg_destroy_decompress(&r->d);
  if (rc == MV_OK) {
    *out = r->dst.buf;
    *outlen = r->dst.len;
  } else {
    free(r->dst.buf);
  }
  free(r->units);
  free(r);
  return rc;
}
