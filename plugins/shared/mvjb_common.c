/* mvjb_common.c - error manager, marker pre-scan, header checks and memory
 * destination shared by mvjb_decode and mvjb_redact. */
#include "mvjb_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>

#include "medveil/errors.h"
#include "mv_jpegblock.h"

/* ---- error manager -------------------------------------------------------- */

static int mvjb_code_for_error(int msg_code) {
  switch (msg_code) {
  case JERR_OUT_OF_MEMORY:
    return MV_ENOMEM;
  case JERR_NO_BACKING_STORE: /* max_memory_to_use reached */
  case JERR_IMAGE_TOO_BIG:
  case JERR_WIDTH_OVERFLOW:
    return MV_ELIMIT;
  case JERR_ARITH_NOTIMPL:
  case JERR_BAD_PRECISION:
  case JERR_SOF_UNSUPPORTED:
  case JERR_NOT_COMPILED:
  case JERR_CONVERSION_NOTIMPL:
  case JERR_FRACT_SAMPLE_NOTIMPL:
    return MV_EUNSUPPORTED;
  default:
    return MV_EFORMAT;
  }
}

static void mvjb_error_exit(j_common_ptr cinfo) {
  mvjb_errmgr *em = (mvjb_errmgr *)cinfo->err;
  em->pub.format_message(cinfo, em->msg);
  em->rc = mvjb_code_for_error(em->pub.msg_code);
  longjmp(em->jb, 1);
}

/* Warnings that do not mean lost or invented image data. Everything else
 * (bad Huffman code, premature end, must resync, ...) would leave libjpeg
 * filling in zeros, and redacting a guessed image is not acceptable. */
static int mvjb_benign_warning(int msg_code) {
  return msg_code == JWRN_ADOBE_XFORM || msg_code == JWRN_JFIF_MAJOR ||
         msg_code == JWRN_BOGUS_ICC ||
         /* bytes skipped between segments: never decoded, never copied */
         msg_code == JWRN_EXTRANEOUS_DATA;
}

static void mvjb_emit_message(j_common_ptr cinfo, int msg_level) {
  mvjb_errmgr *em = (mvjb_errmgr *)cinfo->err;
  if (msg_level >= 0 || mvjb_benign_warning(em->pub.msg_code))
    return; /* trace message or harmless warning */
  em->pub.format_message(cinfo, em->msg);
  em->rc = MV_EFORMAT;
  longjmp(em->jb, 1);
}

static void mvjb_output_message(j_common_ptr cinfo) {
  (void)cinfo; /* never print */
}

struct jpeg_error_mgr *mvjb_errmgr_init(mvjb_errmgr *em) {
  memset(em, 0, sizeof *em);
  jpeg_std_error(&em->pub);
  em->pub.error_exit = mvjb_error_exit;
  em->pub.emit_message = mvjb_emit_message;
  em->pub.output_message = mvjb_output_message;
  em->rc = MV_EFORMAT;
  return &em->pub;
}

int mvjb_fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* ---- marker pre-scan ------------------------------------------------------ */

static const char *mvjb_sof_refusal(int m) {
  switch (m) {
  case 0xC0: case 0xC1: return NULL;
  case 0xC2: return "progressive JPEG (SOF2) is not supported";
  case 0xC3: return "lossless JPEG (SOF3) is not supported";
  case 0xC5: case 0xC6: case 0xC7:
    return "hierarchical JPEG is not supported";
  default: return "arithmetic-coded JPEG is not supported";
  }
}

int mvjb_prescan(const uint8_t *jpg, size_t n, char *err, size_t errlen) {
  if (n < 4 || jpg[0] != 0xFF || jpg[1] != 0xD8)
    return mvjb_fail(err, errlen, MV_EFORMAT, "not a JPEG stream (no SOI)");
  size_t i = 2;
  for (;;) {
    while (i < n && jpg[i] != 0xFF) /* garbage: libjpeg skips it too */
      i++;
    while (i < n && jpg[i] == 0xFF) /* fill bytes */
      i++;
    if (i >= n)
      return mvjb_fail(err, errlen, MV_EFORMAT, "JPEG ends before SOF");
    int m = jpg[i++];
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD8))
      continue; /* standalone markers */
    if (m == 0xD9 || m == 0xDA)
      return mvjb_fail(err, errlen, MV_EFORMAT, "JPEG has no SOF before %s",
                       m == 0xD9 ? "EOI" : "SOS");
    if (m == 0xCC)
      return mvjb_fail(err, errlen, MV_EUNSUPPORTED,
                       "arithmetic-coded JPEG is not supported");
    if (n - i < 2)
      return mvjb_fail(err, errlen, MV_EFORMAT, "JPEG marker truncated");
    size_t len = (size_t)jpg[i] << 8 | jpg[i + 1];
    if (len < 2 || len > n - i)
      return mvjb_fail(err, errlen, MV_EFORMAT, "JPEG segment length bad");
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8) {
      const char *why = mvjb_sof_refusal(m);
      if (why)
        return mvjb_fail(err, errlen, MV_EUNSUPPORTED, "%s", why);
      if (len < 8)
        return mvjb_fail(err, errlen, MV_EFORMAT, "JPEG SOF too short");
      if (jpg[i + 2] != 8)
        return mvjb_fail(err, errlen, MV_EUNSUPPORTED,
                         "%d-bit JPEG is not supported (8-bit only)",
                         jpg[i + 2]);
      int nc = jpg[i + 7];
      if (nc != 1 && nc != 3)
        return mvjb_fail(err, errlen, MV_EUNSUPPORTED,
                         "JPEG with %d components is not supported", nc);
      return MV_OK;
    }
    i += len;
  }
}

/* ---- header checks -------------------------------------------------------- */

int mvjb_check_header(j_decompress_ptr d, size_t n, uint32_t *samples,
                      char *err, size_t errlen) {
  if (d->progressive_mode)
    return mvjb_fail(err, errlen, MV_EUNSUPPORTED,
                     "progressive JPEG is not supported");
  if (d->arith_code)
    return mvjb_fail(err, errlen, MV_EUNSUPPORTED,
                     "arithmetic-coded JPEG is not supported");
  if (d->data_precision != 8)
    return mvjb_fail(err, errlen, MV_EUNSUPPORTED,
                     "%d-bit JPEG is not supported", d->data_precision);
  if (d->num_components == 1 && d->jpeg_color_space == JCS_GRAYSCALE) {
    *samples = 1;
  } else if (d->num_components == 3 && (d->jpeg_color_space == JCS_YCbCr ||
                                        d->jpeg_color_space == JCS_RGB)) {
    *samples = 3;
  } else {
    return mvjb_fail(err, errlen, MV_EUNSUPPORTED,
                     "JPEG colour space %d with %d components is not "
                     "supported", (int)d->jpeg_color_space,
                     d->num_components);
  }
  uint64_t total = (uint64_t)d->image_width * d->image_height * *samples;
  if (d->image_width == 0 || d->image_height == 0)
    return mvjb_fail(err, errlen, MV_EFORMAT, "JPEG has an empty image");
  if (total > MVJB_MAX_SAMPLES)
    return mvjb_fail(err, errlen, MV_ELIMIT,
                     "JPEG image of %u x %u x %u samples exceeds the limit",
                     (unsigned)d->image_width, (unsigned)d->image_height,
                     (unsigned)*samples);
  /* Every block costs at least two Huffman codes (DC, then EOB or ACs) of
   * at least one bit each, so n bytes hold at most 4n blocks. Refusing
   * bigger claims keeps a tiny hostile file from making libjpeg allocate
   * whole-image buffers. */
  uint64_t blocks = 0;
  for (int ci = 0; ci < d->num_components; ci++)
    blocks += (uint64_t)d->comp_info[ci].width_in_blocks *
              d->comp_info[ci].height_in_blocks;
  if (blocks > (uint64_t)n * 4)
    return mvjb_fail(err, errlen, MV_EFORMAT,
                     "JPEG data too short for its image size");
  return MV_OK;
}

/* ---- memory destination --------------------------------------------------- */

static void mvjb_memdst_start(j_compress_ptr c) {
  mvjb_memdst *dst = (mvjb_memdst *)c->dest;
  dst->len = 0;
  if (!dst->buf) {
    dst->cap = 1 << 16;
    dst->buf = malloc(dst->cap);
    if (!dst->buf)
      ERREXIT1(c, JERR_OUT_OF_MEMORY, 0);
  }
  dst->pub.next_output_byte = dst->buf;
  dst->pub.free_in_buffer = dst->cap;
}

/* Called when the buffer is full, i.e. all of it is used. */
static boolean mvjb_memdst_grow(j_compress_ptr c) {
  mvjb_memdst *dst = (mvjb_memdst *)c->dest;
  size_t used = dst->cap;
  if (used >= MVJB_MAX_OUTPUT_BYTES)
    ERREXIT(c, JERR_IMAGE_TOO_BIG);
  size_t cap = used * 2;
  uint8_t *nb = realloc(dst->buf, cap);
  if (!nb)
    ERREXIT1(c, JERR_OUT_OF_MEMORY, 0);
  dst->buf = nb;
  dst->cap = cap;
  dst->pub.next_output_byte = nb + used;
  dst->pub.free_in_buffer = cap - used;
  return TRUE;
}

static void mvjb_memdst_term(j_compress_ptr c) {
  mvjb_memdst *dst = (mvjb_memdst *)c->dest;
  dst->len = dst->cap - dst->pub.free_in_buffer;
}

void mvjb_memdst_init(j_compress_ptr c, mvjb_memdst *dst) {
  memset(dst, 0, sizeof *dst);
  dst->pub.init_destination = mvjb_memdst_start;
  dst->pub.empty_output_buffer = mvjb_memdst_grow;
  dst->pub.term_destination = mvjb_memdst_term;
  c->dest = &dst->pub;
}
