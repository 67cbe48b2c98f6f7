/* mv_jpegblock.c - mvjb_decode: baseline JPEG to 8-bit grey/RGB pixels,
 * decoded so that every pixel depends only on its own MCU (no fancy
 * upsampling), which is what makes block redaction exact. */
#include "mv_jpegblock.h"

#include <stdlib.h>
#include <string.h>

#include "medveil/errors.h"
#include "mvjb_internal.h"

/* Heap-held so nothing the longjmp path reads lives in a clobberable
 * local of the function that called setjmp. */
typedef struct mvjb_decode_ctx {
  struct jpeg_decompress_struct d;
  mvjb_errmgr em;
  int created;
  mvjb_image img;
} mvjb_decode_ctx;

static int mvjb_decode_run(mvjb_decode_ctx *c, const uint8_t *jpg, size_t n,
                           char *err, size_t errlen) {
  jpeg_create_decompress(&c->d);
  c->created = 1;
  c->d.mem->max_memory_to_use = MVJB_MAX_LIBJPEG_MEMORY;
  jpeg_mem_src(&c->d, jpg, (unsigned long)n);
  if (jpeg_read_header(&c->d, TRUE) != JPEG_HEADER_OK)
    return mvjb_fail(err, errlen, MV_EFORMAT, "JPEG has no image");
  uint32_t samples = 0;
  int rc = mvjb_check_header(&c->d, n, &samples, err, errlen);
  if (rc != MV_OK)
    return rc;
  c->d.out_color_space = samples == 1 ? JCS_GRAYSCALE : JCS_RGB;
  c->d.do_fancy_upsampling = FALSE; /* keep pixels inside their MCU */
  c->d.do_block_smoothing = FALSE;
  c->d.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&c->d);
  if (c->d.output_components != (int)samples)
    return mvjb_fail(err, errlen, MV_EFORMAT, "JPEG output layout unexpected");

  c->img.width = c->d.output_width;
  c->img.height = c->d.output_height;
  c->img.samples = samples;
  c->img.stride = (size_t)c->img.width * samples;
  c->img.data = malloc(c->img.stride * c->img.height);
  if (!c->img.data)
    return mvjb_fail(err, errlen, MV_ENOMEM, "out of memory for JPEG pixels");
  while (c->d.output_scanline < c->d.output_height) {
    JSAMPROW row = c->img.data + (size_t)c->d.output_scanline * c->img.stride;
    if (jpeg_read_scanlines(&c->d, &row, 1) != 1)
      return mvjb_fail(err, errlen, MV_EFORMAT, "JPEG data ended early");
  }
  jpeg_finish_decompress(&c->d);
  return MV_OK;
}

int mvjb_decode(const uint8_t *jpg, size_t n, mvjb_image *out, char *err,
                size_t errlen) {
  if (err && errlen)
    err[0] = '\0';
  if (!out)
    return mvjb_fail(err, errlen, MV_EINVAL, "no output image");
  memset(out, 0, sizeof *out);
  if (!jpg || n == 0)
    return mvjb_fail(err, errlen, MV_EINVAL, "empty JPEG input");
  int rc = mvjb_prescan(jpg, n, err, errlen);
  if (rc != MV_OK)
    return rc;

  mvjb_decode_ctx *c = calloc(1, sizeof *c);
  if (!c)
    return mvjb_fail(err, errlen, MV_ENOMEM, "out of memory");
  c->d.err = mvjb_errmgr_init(&c->em);
  if (setjmp(c->em.jb)) {
    rc = mvjb_fail(err, errlen, c->em.rc, "JPEG decode failed: %s",
                   c->em.msg);
  } else {
    rc = mvjb_decode_run(c, jpg, n, err, errlen);
  }
  if (c->created)
    jpeg_destroy_decompress(&c->d);
  if (rc == MV_OK)
    *out = c->img;
  else
    free(c->img.data);
  free(c);
  return rc;
}

void mvjb_image_free(mvjb_image *img) {
  if (!img)
    return;
  free(img->data);
  memset(img, 0, sizeof *img);
}
