/* mvjb_internal.h - pieces shared by the JPEG block decoder and redactor:
 * a silent longjmp error manager, the marker pre-scan that refuses what we
 * do not support, header checks and a bounded memory destination. */
#ifndef MVJB_INTERNAL_H
#define MVJB_INTERNAL_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* jpeglib.h needs FILE */

#include <jpeglib.h>

/* libjpeg's whole-image buffers (coefficients, 2 bytes per sample) may use
 * at most this much; beyond it libjpeg fails (no backing store). */
#define MVJB_MAX_LIBJPEG_MEMORY (3L << 29)
/* The redacted JPEG may not grow beyond this. */
#define MVJB_MAX_OUTPUT_BYTES ((size_t)1 << 30)

/* Error manager: errors and data-corruption warnings longjmp to `jb` after
 * storing a code and libjpeg's message; nothing is ever printed. */
typedef struct mvjb_errmgr {
  struct jpeg_error_mgr pub;
  jmp_buf jb;
  int rc;
  char msg[JMSG_LENGTH_MAX];
} mvjb_errmgr;

/* Installs the handlers into em->pub and returns it for cinfo->err. */
struct jpeg_error_mgr *mvjb_errmgr_init(mvjb_errmgr *em);

/* snprintf into err when err/errlen allow; returns rc for tail calls. */
int mvjb_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Walks the markers up to the frame header so that progressive,
 * arithmetic, lossless, hierarchical, non-8-bit and 2/4-component files are
 * refused with a clear reason before libjpeg sees them. */
int mvjb_prescan(const uint8_t *jpg, size_t n, char *err, size_t errlen);

/* After jpeg_read_header: the same checks on libjpeg's view, the sample
 * limit, and that n bytes can hold that many blocks at all. Sets *samples
 * to 1 or 3 (output samples per pixel). */
int mvjb_check_header(j_decompress_ptr d, size_t n, uint32_t *samples,
                      char *err, size_t errlen);

/* A memory destination that grows with realloc up to
 * MVJB_MAX_OUTPUT_BYTES and never leaks on longjmp: the buffer stays owned
 * by `dst` until taken; free dst->buf after an error. */
typedef struct mvjb_memdst {
  struct jpeg_destination_mgr pub;
  uint8_t *buf;
  size_t cap, len;
} mvjb_memdst;

void mvjb_memdst_init(j_compress_ptr c, mvjb_memdst *dst);

#endif
