/* jpeg_pixels.c - one plane: the image, decoded to 8-bit grey or RGB in
 * stored-pixel coordinates (EXIF Orientation is not applied: boxes, the
 * decoded plane and the written blocks all use the same grid).
 *
 * Baseline and extended Huffman 8-bit files with 1 or 3 components go
 * through the block library (plugins/shared/mv_jpegblock.h): decoded
 * without fancy upsampling, and a redaction changes only the MCUs under
 * the rectangles; every other block keeps its coefficients. Progressive
 * and arithmetic files are decoded by libjpeg for detection but are
 * read-only (MV_PIXENC_READONLY): the core holds them for review when text
 * is found rather than re-encode them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpeg_internal.h"
#include "mv_jpegblock.h"

_Static_assert(sizeof(mvjb_rect) == sizeof(mv_rect), "mvjb_rect mirrors mv_rect");

int jpg_blocks_writable(const mv_doc *d) {
  return (d->sof == 0xC0 || d->sof == 0xC1) && d->precision == 8 &&
         (d->components == 1 || d->components == 3);
}

int jpg_pixel_info(mv_doc *d, mv_pixel_info *info) {
  uint32_t size = info->size;
  if (d->precision != 8 || d->components == 2 || d->components == 4)
    return MV_EUNSUPPORTED; /* libjpeg 8-bit only; no CMYK to RGB */
  mv_pixel_info o;
  memset(&o, 0, sizeof o);
  o.size = size;
  o.planes = 1;
  o.frames = 1;
  o.width = d->width;
  o.height = d->height;
  o.samples = d->components == 1 ? 1 : 3;
  o.encoding = jpg_blocks_writable(d) ? MV_PIXENC_JPEG_BLOCKS
                                      : MV_PIXENC_READONLY;
  snprintf(o.photometric, sizeof o.photometric, "%s",
           o.samples == 1 ? "MONOCHROME2" : "RGB");
  memcpy(info, &o, size < sizeof o ? size : sizeof o);
  return MV_OK;
}

int jpg_acquire(mv_doc *d, uint32_t plane, mv_image *img, char *err,
                size_t errlen) {
  if (plane != 0)
    return jpg_fail(err, errlen, MV_EINVAL, "a JPEG file has one plane");
  free(d->pix);
  d->pix = NULL;
  uint32_t samples = 0;
  int rc;
  if (jpg_blocks_writable(d)) {
    mvjb_image im;
    memset(&im, 0, sizeof im);
    const uint8_t *src = d->redacted ? d->redacted : d->buf;
    size_t n = d->redacted ? d->redactedlen : d->n;
    rc = mvjb_decode(src, n, &im, err, errlen);
    if (rc != MV_OK) return rc;
    if (im.width != d->width || im.height != d->height ||
        im.stride != (size_t)im.width * im.samples) {
      mvjb_image_free(&im);
      return jpg_fail(err, errlen, MV_EFORMAT, "decoded size unexpected");
    }
    d->pix = im.data;
    samples = im.samples;
  } else {
    if (d->precision != 8)
      return jpg_fail(err, errlen, MV_EUNSUPPORTED,
                      "%u-bit JPEG pixels are not supported", d->precision);
    rc = jpg_decode_full(d, &d->pix, &samples, err, errlen);
    if (rc != MV_OK) return rc;
  }
  memset(&d->img, 0, sizeof d->img);
  d->img.width = d->width;
  d->img.height = d->height;
  d->img.samples = samples;
  d->img.bits = 8;
  d->img.bits_stored = 8;
  d->img.stride = (size_t)d->width * samples;
  d->img.data = d->pix;
  d->img.kind = MV_PLANE_FRAME;
  *img = d->img;
  return MV_OK;
}

int jpg_release(mv_doc *d, uint32_t plane, const mv_rect *changed, size_t n,
                char *err, size_t errlen) {
  if (plane != 0)
    return jpg_fail(err, errlen, MV_EINVAL, "a JPEG file has one plane");
  int rc = MV_OK;
  if (n && changed) {
    if (!d->pix)
      rc = jpg_fail(err, errlen, MV_EINVAL, "plane was not acquired");
    else if (!jpg_blocks_writable(d))
      rc = jpg_fail(err, errlen, MV_EUNSUPPORTED,
                    "progressive or arithmetic-coded JPEG pixels cannot be "
                    "written back without re-encoding");
    else {
      mvjb_image im = {d->img.width, d->img.height, d->img.samples,
                       d->img.stride, d->pix};
      const uint8_t *src = d->redacted ? d->redacted : d->buf;
      size_t len = d->redacted ? d->redactedlen : d->n;
      uint8_t *out = NULL;
      size_t outlen = 0;
      rc = mvjb_redact(src, len, &im, (const mvjb_rect *)changed, n, &out,
                       &outlen, err, errlen);
      if (rc == MV_OK) {
        free(d->redacted);
        d->redacted = out;
        d->redactedlen = outlen;
      }
    }
  }
  free(d->pix);
  d->pix = NULL;
  memset(&d->img, 0, sizeof d->img);
  return rc;
}

/* Pixel payloads no redactor reaches: the EXIF thumbnail and whatever
 * follows EOI (MPF secondary images, vendor trailers). The JFIF thumbnail
 * is never written at all (jpeg_write.c). */
int jpg_drop_hidden(mv_doc *d, uint32_t *count) {
  *count = 0;
  for (size_t i = 0; i < d->nattrs; i++) {
    jpg_attr *a = &d->attrs[i];
    if (a->removed) continue;
    if (strcmp(a->name, "jpeg:exif:thumbnail") == 0 ||
        strcmp(a->name, "jpeg:trailer") == 0) {
      a->removed = 1;
      (*count)++;
    }
  }
  return MV_OK;
}
