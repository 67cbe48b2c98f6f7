/* png_internal.h - the PNG format plugin's document and its parts.
 *
 * A document is the file's chunk list. Chunks point into the file buffer
 * until they change (then they own their data). Metadata chunks are the
 * attributes; IHDR, PLTE, tRNS and IDAT are the image, which is decoded
 * once at open (libpng, bounded) to prove it is readable and to serve the
 * pixel stage. */
#ifndef MVPNG_INTERNAL_H
#define MVPNG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "medveil/plugin.h"

/* Limits (see README.md). */
#define MVPNG_MAX_FILE (1024u * 1024u * 1024u) /* bytes of input */
#define MVPNG_MAX_SIDE 30000u                  /* width or height */
#define MVPNG_MAX_PIXELS (1u << 28)            /* width * height */
#define MVPNG_MAX_DECODED (1024u * 1024u * 1024u) /* decoded image bytes */
#define MVPNG_MAX_CHUNKS 100000u
#define MVPNG_MAX_TEXT (16u * 1024u * 1024u)   /* one inflated text value */
#define MVPNG_MAX_TEXT_TOTAL (64u * 1024u * 1024u) /* all inflated text */

extern const mv_host *mvpng_host;

/* What a chunk is to the policy. */
enum {
  MVPNG_IMAGE = 0, /* IHDR, PLTE, tRNS, IDAT, IEND: not an attribute */
  MVPNG_TEXT,      /* tEXt, zTXt, iTXt with a valid keyword: editable text */
  MVPNG_TIME,      /* tIME, shown as text, settable as YYYY-MM-DDTHH:MM:SS */
  MVPNG_INFO,      /* gAMA, cHRM, sRGB, pHYs: shown as text, read-only */
  MVPNG_BINARY     /* everything else: raw bytes, keep or remove */
};

typedef struct mvpng_chunk {
  char type[5];
  uint32_t len;
  const uint8_t *data; /* into the file, or `owned` */
  uint8_t *owned;
  int removed;
  int kind;   /* MVPNG_* */
  char *name; /* "png:tEXt:Comment"; NULL for image chunks */
  char *text; /* UTF-8 value (TEXT, TIME, INFO), NUL-terminated */
  size_t text_len;
  /* iTXt fields kept through an edit, and the compression choice. */
  int compressed;
  char *lang;
} mvpng_chunk;

struct mv_doc {
  uint8_t *file;
  size_t file_len;
  mvpng_chunk *chunks;
  size_t n, cap;
  /* IHDR */
  uint32_t width, height;
  int bit_depth, color_type, interlace;
  /* The decoded image: rows of `channels` samples of 8 or 16 bits (16 as
   * native uint16_t), palette expanded to RGB(A), low-bit grey to 8. */
  uint8_t *pix;
  size_t pix_stride;
  int channels, depth16, has_alpha;
  /* The plane handed out by acquire (colour only, alpha composited). */
  uint8_t *work;
  size_t work_stride;
  int acquired;
  int pixels_changed;
};

/* png_chunks.c: the container. */
uint32_t mvpng_crc(const uint8_t *p, size_t n);
/* Signature and IHDR from the first n bytes (33 are enough): size limits
 * are enforced here, before anything is allocated for the image. */
int mvpng_check_head(mv_doc *d, const uint8_t *p, size_t n, char *err,
                     size_t errlen);
int mvpng_parse(mv_doc *d, char *err, size_t errlen);
int mvpng_serialize(const mv_doc *d, uint8_t **out, size_t *outlen);
/* Replace a chunk's data with an owned copy of `data` (taken over). */
void mvpng_chunk_set_data(mvpng_chunk *c, uint8_t *data, uint32_t len);
void mvpng_chunk_free(mvpng_chunk *c);
/* Insert a new chunk (data taken over) before IEND; returns it or NULL. */
mvpng_chunk *mvpng_insert_before_iend(mv_doc *d, const char *type,
                                      uint8_t *data, uint32_t len);

/* png_text.c: what each metadata chunk says, and edits to it. */
int mvpng_describe(mv_doc *d, mvpng_chunk *c, size_t *inflated_budget);
int mvpng_set_text(mvpng_chunk *c, const char *value, size_t len);
int mvpng_is_attribute(const mvpng_chunk *c);
/* Build a new text chunk "png:<type>:<keyword>" with value. */
int mvpng_new_text(mv_doc *d, const char *name, const char *value,
                   size_t len);

/* png_pixels.c */
int mvpng_decode(mv_doc *d, char *err, size_t errlen);
int mvpng_pixel_info(mv_doc *d, mv_pixel_info *info);
int mvpng_acquire(mv_doc *d, uint32_t plane, mv_image *img, char *err,
                  size_t errlen);
int mvpng_release(mv_doc *d, uint32_t plane, const mv_rect *changed,
                  size_t n, char *err, size_t errlen);
int mvpng_drop_hidden(mv_doc *d, uint32_t *count);
/* Re-encode IHDR/PLTE/tRNS/IDAT from the decoded image into the chunk
 * list (after a pixel change). */
int mvpng_reencode(mv_doc *d, char *err, size_t errlen);

#endif
