/* jpeg_frame.c - libjpeg-turbo behind a longjmp error manager (the shared
 * one from plugins/shared, which never prints and never exit()s).
 *
 * jpg_check_frame confirms at open that libjpeg reads the frame header as
 * the marker parser did (dimensions already bounded by then, so libjpeg
 * allocates nothing large). jpg_decode_full decodes files the block
 * library refuses (progressive, arithmetic): read-only pixels for the
 * detectors; a change to them cannot be written back. */
#include <stdlib.h>
#include <string.h>

#include "jpeg_internal.h"
#include "mvjb_internal.h"

/* libjpeg's whole-image buffers for a progressive decode (2 bytes per
 * coefficient): 2^28 pixels * 3 components * 2 bytes fits under this. */
#define JPG_MAX_LIBJPEG_MEMORY (1600L << 20)

/* Heap-held so nothing the longjmp path reads is a clobberable local. */
typedef struct frame_ctx {
  struct jpeg_decompress_struct d;
  mvjb_errmgr em;
  int created;
  uint8_t *pix;
} frame_ctx;

static int header_run(frame_ctx *c, mv_doc *doc, char *err, size_t errlen) {
  jpeg_create_decompress(&c->d);
  c->created = 1;
  c->d.mem->max_memory_to_use = JPG_MAX_LIBJPEG_MEMORY;
  jpeg_mem_src(&c->d, doc->buf, (unsigned long)doc->n);
  if (jpeg_read_header(&c->d, TRUE) != JPEG_HEADER_OK)
    return jpg_fail(err, errlen, MV_EFORMAT, "JPEG has no image");
  if (c->d.image_width != doc->width || c->d.image_height != doc->height ||
      (uint32_t)c->d.num_components != doc->components)
    return jpg_fail(err, errlen, MV_EFORMAT,
                    "frame header disagrees with libjpeg's reading");
  return MV_OK;
}

int jpg_check_frame(mv_doc *doc, char *err, size_t errlen) {
  frame_ctx *c = calloc(1, sizeof *c);
  if (!c) return MV_ENOMEM;
  c->d.err = mvjb_errmgr_init(&c->em);
  int rc;
  if (setjmp(c->em.jb)) {
    rc = jpg_fail(err, errlen, c->em.rc, "libjpeg: %s", c->em.msg);
  } else {
    rc = header_run(c, doc, err, errlen);
  }
  if (c->created) jpeg_destroy_decompress(&c->d);
  free(c);
  return rc;
}

static int decode_run(frame_ctx *c, mv_doc *doc, uint32_t *samples, char *err,
                      size_t errlen) {
  int rc = header_run(c, doc, err, errlen);
  if (rc) return rc;
  if (c->d.jpeg_color_space == JCS_CMYK || c->d.jpeg_color_space == JCS_YCCK)
    return jpg_fail(err, errlen, MV_EUNSUPPORTED,
                    "CMYK/YCCK JPEG pixels are not supported");
  /* Every block of the first component costs at least one bit in the DC
   * scan: a header claiming more blocks than the scans have bits is
   * refused before libjpeg allocates its whole-image coefficient buffers. */
  uint64_t scan_bytes = 0;
  for (size_t i = 0; i < doc->npieces; i++)
    if (doc->pieces[i].type == JPG_PIECE_FRAME && doc->pieces[i].marker == 0xDA)
      scan_bytes += doc->pieces[i].len;
  uint64_t blocks = (uint64_t)((doc->width + 7) / 8) * ((doc->height + 7) / 8);
  if (blocks / 8 > scan_bytes + 64)
    return jpg_fail(err, errlen, MV_EFORMAT,
                    "%ux%u pixels cannot fit in %llu bytes of scan data",
                    doc->width, doc->height, (unsigned long long)scan_bytes);
  *samples = c->d.num_components == 1 ? 1 : 3;
  c->d.out_color_space = *samples == 1 ? JCS_GRAYSCALE : JCS_RGB;
  c->d.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&c->d);
  if (c->d.output_components != (int)*samples ||
      c->d.output_width != doc->width || c->d.output_height != doc->height)
    return jpg_fail(err, errlen, MV_EFORMAT, "JPEG output layout unexpected");
  size_t stride = (size_t)doc->width * *samples;
  c->pix = malloc(stride * doc->height);
  if (!c->pix) return jpg_fail(err, errlen, MV_ENOMEM, "out of memory");
  while (c->d.output_scanline < c->d.output_height) {
    JSAMPROW row = c->pix + (size_t)c->d.output_scanline * stride;
    if (jpeg_read_scanlines(&c->d, &row, 1) != 1)
      return jpg_fail(err, errlen, MV_EFORMAT, "JPEG data ended early");
  }
  jpeg_finish_decompress(&c->d);
  return MV_OK;
}

int jpg_decode_full(mv_doc *doc, uint8_t **pix, uint32_t *samples, char *err,
                    size_t errlen) {
  *pix = NULL;
  frame_ctx *c = calloc(1, sizeof *c);
  if (!c) return MV_ENOMEM;
  c->d.err = mvjb_errmgr_init(&c->em);
  int rc;
  if (setjmp(c->em.jb)) {
    rc = jpg_fail(err, errlen, c->em.rc, "libjpeg: %s", c->em.msg);
  } else {
    rc = decode_run(c, doc, samples, err, errlen);
  }
  if (c->created) jpeg_destroy_decompress(&c->d);
  if (rc == MV_OK) *pix = c->pix;
  else free(c->pix);
  free(c);
  return rc;
}
