/* mv_convert.c - frames of a de-identified document as PNG or JPEG files,
 * rendered with the object's own VOI window. */
#include "mv_convert.h"

#include <stddef.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mv_png.h"

int mv_outfmt_parse(const char *s, mv_outfmt *out) {
  if (!s) return -1;
  if (!strcasecmp(s, "dicom") || !strcasecmp(s, "native")) *out = MV_OUTFMT_NATIVE;
  else if (!strcasecmp(s, "png")) *out = MV_OUTFMT_PNG;
  else if (!strcasecmp(s, "jpeg") || !strcasecmp(s, "jpg")) *out = MV_OUTFMT_JPEG;
  else return -1;
  return 0;
}

const char *mv_outfmt_ext(mv_outfmt f) {
  return f == MV_OUTFMT_PNG ? "png" : f == MV_OUTFMT_JPEG ? "jpg" : "";
}

static int has_pixel_ops(const mv_format_ops *ops) {
  return ops->size >= offsetof(mv_format_ops, release) + sizeof ops->release &&
         ops->pixel_info && ops->acquire && ops->release;
}

uint32_t mv_convert_frames(const mv_format_ops *ops, mv_doc *doc) {
  if (!has_pixel_ops(ops)) return 0;
  mv_pixel_info pi;
  memset(&pi, 0, sizeof pi);
  pi.size = sizeof pi;
  if (ops->pixel_info(doc, &pi) != MV_OK) return 0;
  return pi.frames;
}

/* First value of a (possibly multi-valued) numeric attribute. */
static int number_of(const mv_format_ops *ops, mv_doc *doc, const char *key,
                     double *v) {
  const char *s = NULL;
  size_t len = 0;
  if (ops->get(doc, key, &s, &len) != MV_OK || !s || !len) return 0;
  char buf[64];
  size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
  memcpy(buf, s, n);
  buf[n] = 0;
  char *bs = strchr(buf, '\\');
  if (bs) *bs = 0;
  char *end;
  double d = strtod(buf, &end);
  if (end == buf || !isfinite(d)) return 0;
  *v = d;
  return 1;
}

void mv_convert_voi(const mv_format_ops *ops, mv_doc *doc, mv_voi *voi) {
  memset(voi, 0, sizeof *voi);
  voi->slope = 1;
  double d;
  if (number_of(ops, doc, "RescaleSlope", &d) && d != 0) voi->slope = d;
  if (number_of(ops, doc, "RescaleIntercept", &d)) voi->intercept = d;
  double c, w;
  if (number_of(ops, doc, "WindowCenter", &c) &&
      number_of(ops, doc, "WindowWidth", &w) && w >= 1) {
    voi->has_window = 1;
    voi->center = c;
    voi->width = w;
  }
  const char *f = NULL;
  size_t len = 0;
  if (ops->get(doc, "VOILUTFunction", &f, &len) == MV_OK && f) {
    if (len >= 12 && !strncmp(f, "LINEAR_EXACT", 12)) voi->function = 1;
    else if (len >= 7 && !strncmp(f, "SIGMOID", 7)) voi->function = 2;
  }
}

static double sample_at(const mv_image *m, const uint8_t *row, size_t i) {
  if (m->bits == 16)
    return m->is_signed ? ((const int16_t *)row)[i] : ((const uint16_t *)row)[i];
  return m->is_signed ? ((const int8_t *)row)[i] : row[i];
}

/* PS3.3 C.11.2.1.2: the three VOI LUT functions, to 0..255. */
static double window(const mv_voi *v, double x) {
  double c = v->center, w = v->width;
  switch (v->function) {
    case 1:
      return ((x - c) / w + 0.5) * 255.0;
    case 2:
      return 255.0 / (1.0 + exp(-4.0 * (x - c) / w));
    default:
      if (w <= 1) return x <= c - 0.5 ? 0 : 255;
      if (x <= c - 0.5 - (w - 1) / 2) return 0;
      if (x > c - 0.5 + (w - 1) / 2) return 255;
      return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255.0;
  }
}

int mv_convert_render(const mv_image *img, const mv_voi *voi, mv_image *out) {
  memset(out, 0, sizeof *out);
  if (!img || !img->data || !img->width || !img->height ||
      (img->samples != 1 && img->samples != 3) ||
      (img->bits != 8 && img->bits != 16))
    return MV_EINVAL;
  *out = *img;
  out->bits = out->bits_stored = 8;
  out->is_signed = out->monochrome1 = 0;
  out->stride = (size_t)img->width * img->samples;
  out->data = malloc(out->stride * img->height);
  if (!out->data) return MV_ENOMEM;
  const size_t per_row = (size_t)img->width * img->samples;
  if (img->samples == 3) { /* colour planes are 8-bit RGB: as they are */
    for (uint32_t y = 0; y < img->height; y++)
      memcpy((uint8_t *)out->data + y * out->stride,
             (const uint8_t *)img->data + y * img->stride, per_row);
    return MV_OK;
  }
  mv_voi v = *voi;
  if (!v.has_window) { /* the frame's own range */
    double lo = INFINITY, hi = -INFINITY;
    for (uint32_t y = 0; y < img->height; y++) {
      const uint8_t *row = (const uint8_t *)img->data + y * img->stride;
      for (size_t i = 0; i < per_row; i++) {
        double m = sample_at(img, row, i) * v.slope + v.intercept;
        if (m < lo) lo = m;
        if (m > hi) hi = m;
      }
    }
    v.function = 1; /* exact: lo -> 0, hi -> 255 */
    v.width = hi > lo ? hi - lo : 1;
    v.center = lo + v.width / 2;
  }
  for (uint32_t y = 0; y < img->height; y++) {
    const uint8_t *row = (const uint8_t *)img->data + y * img->stride;
    uint8_t *dst = (uint8_t *)out->data + y * out->stride;
    for (size_t i = 0; i < per_row; i++) {
      double q = window(&v, sample_at(img, row, i) * v.slope + v.intercept);
      int k = (int)lround(q);
      if (k < 0) k = 0;
      if (k > 255) k = 255;
      dst[i] = (uint8_t)(img->monochrome1 ? 255 - k : k);
    }
  }
  return MV_OK;
}

/* libjpeg reports errors by calling error_exit, which must not return. */
typedef struct jerr {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
} jerr;

static void jerr_exit(j_common_ptr c) { longjmp(((jerr *)c->err)->jump, 1); }
static void jerr_quiet(j_common_ptr c, int level) { (void)c, (void)level; }

static int write_jpeg(const char *path, const mv_image *im) {
  FILE *volatile f = fopen(path, "wb");
  if (!f) return MV_EIO;
  struct jpeg_compress_struct c;
  jerr e;
  c.err = jpeg_std_error(&e.mgr);
  e.mgr.error_exit = jerr_exit;
  e.mgr.emit_message = jerr_quiet;
  if (setjmp(e.jump)) {
    jpeg_destroy_compress(&c);
    fclose(f);
    return MV_EIO;
  }
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = im->width;
  c.image_height = im->height;
  c.input_components = (int)im->samples;
  c.in_color_space = im->samples == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 95, TRUE);
  /* no JFIF density, no comments: only pixels leave */
  c.write_JFIF_header = TRUE;
  c.density_unit = 0;
  for (int k = 0; k < c.num_components; k++)
    c.comp_info[k].h_samp_factor = c.comp_info[k].v_samp_factor = 1;
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)((uint8_t *)im->data + (size_t)c.next_scanline * im->stride);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  int bad = ferror(f);
  if (fclose(f) != 0) bad = 1;
  return bad ? MV_EIO : MV_OK;
}

int mv_convert_write_frame(const mv_format_ops *ops, mv_doc *doc,
                           const mv_voi *voi, uint32_t frame, mv_outfmt fmt,
                           const char *path, char *err, size_t errlen) {
  if (fmt == MV_OUTFMT_NATIVE || !has_pixel_ops(ops)) {
    snprintf(err, errlen, "no pixels to convert");
    return MV_EINVAL;
  }
  mv_image img;
  memset(&img, 0, sizeof img);
  char why[256] = "";
  /* image frames are the first planes (plugin.h) */
  int rc = ops->acquire(doc, frame, &img, why, sizeof why);
  if (rc != MV_OK) {
    snprintf(err, errlen, "cannot decode frame %u: %s", frame,
             why[0] ? why : mv_strerror(rc));
    return rc;
  }
  mv_image out;
  rc = mv_convert_render(&img, voi, &out);
  ops->release(doc, frame, NULL, 0, why, sizeof why);
  if (rc != MV_OK) {
    snprintf(err, errlen, "cannot render frame %u: %s", frame, mv_strerror(rc));
    return rc;
  }
  rc = fmt == MV_OUTFMT_PNG ? mv_png_write(path, &out) : write_jpeg(path, &out);
  free(out.data);
  if (rc != MV_OK) {
    unlink(path);
    snprintf(err, errlen, "cannot write the %s file", mv_outfmt_ext(fmt));
  }
  return rc;
}
