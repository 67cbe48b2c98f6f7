/* jpeg_internal.h - the JPEG/JFIF/EXIF document shared by the format-jpeg
 * sources: the file split into pieces (marker segments, entropy-coded data,
 * trailer) and the attributes shown to the core (one per metadata segment,
 * one per EXIF entry). See README.md for names and limits. */
#ifndef JPEG_INTERNAL_H
#define JPEG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "medveil/plugin.h"

/* Limits: hostile files fail with MV_ELIMIT before any large allocation. */
#define JPG_MAX_FILE_BYTES ((size_t)256 << 20)  /* whole file, read once */
#define JPG_MAX_META_BYTES ((size_t)16 << 20)   /* all APPn + COM bytes */
#define JPG_MAX_PIECES 8192                     /* segments + scans */
#define JPG_MAX_SIDE 30000u                     /* pixels per side */
#define JPG_MAX_PIXELS ((uint64_t)1 << 28)      /* width * height */
#define JPG_MAX_IFD_ENTRIES 1024                /* entries in one IFD */
#define JPG_MAX_EXIF_ENTRIES 4096               /* entries in all IFDs */
#define JPG_MAX_IFD_DEPTH 3                     /* IFD0 -> Exif -> Interop */
#define JPG_MAX_ATTRS 16384

/* What a piece of the file is. */
enum {
  JPG_PIECE_SOI,    /* FFD8, written by the writer itself */
  JPG_PIECE_FRAME,  /* SOF/DQT/DHT/DRI/DAC/SOS+entropy data: always copied */
  JPG_PIECE_META,   /* APPn or COM: kept or dropped with its attribute */
  JPG_PIECE_EXIF,   /* APP1 Exif: rebuilt from its kept entries */
  JPG_PIECE_EOI,    /* FFD9 */
  JPG_PIECE_TRAILER /* bytes after EOI: an attribute ("jpeg:trailer") */
};

typedef struct jpg_piece {
  int type;         /* JPG_PIECE_* */
  uint8_t marker;   /* second marker byte (0xE1 ...); 0 for trailer */
  size_t off, len;  /* bytes of the file, marker included */
  int attr;         /* META/TRAILER: index of its attribute, else -1 */
} jpg_piece;

/* EXIF directories. */
enum { JPG_IFD0, JPG_IFD_EXIF, JPG_IFD_GPS, JPG_IFD_INTEROP, JPG_IFD1 };

typedef struct jpg_attr {
  char name[48];        /* "jpeg:exif:Artist", "jpeg:com", ... */
  int piece;            /* first piece it lives in */
  size_t hdr;           /* META: identifier bytes kept before the value */
  int removed;
  /* EXIF entry (exif == 1); value bytes are [raw, raw + rawlen) of the
   * TIFF block, or of `newval` once set. */
  int exif;
  int ifd;              /* JPG_IFD_* */
  uint16_t tag, type;
  uint32_t count;
  const uint8_t *raw;
  size_t rawlen;
  /* Replacement value (set_value), owned; has_new says it is in use. */
  uint8_t *newval;
  size_t newlen;
  int has_new;
  /* What visit/get show: NUL-terminated text, or NULL for binary. */
  char *shown;
  size_t shownlen;
} jpg_attr;

/* EXIF thumbnail (IFD1), one attribute "jpeg:exif:thumbnail". */
typedef struct jpg_thumb {
  int attr;                 /* -1 when the file has no IFD1 */
  const uint8_t *ifd;       /* IFD1 entries (12 bytes each) */
  uint16_t nentries;
  const uint8_t *data;      /* JPEG thumbnail bytes, NULL when none */
  size_t datalen;
} jpg_thumb;

struct mv_doc {
  const mv_host *host;
  uint8_t *buf;             /* the whole file */
  size_t n;
  jpg_piece *pieces;
  size_t npieces, cappieces;
  jpg_attr *attrs;
  size_t nattrs, capattrs;
  /* Frame (from SOF, confirmed by libjpeg). */
  uint8_t sof;              /* 0xC0.. */
  uint32_t width, height, components, precision;
  int progressive, arithmetic;
  /* EXIF: the TIFF block inside the first APP1 Exif segment. */
  int exif_piece;           /* -1 when none */
  const uint8_t *tiff;
  size_t tifflen;
  int big_endian;
  jpg_thumb thumb;
  /* Pixels. */
  uint8_t *pix;             /* acquired plane, or NULL */
  mv_image img;
  uint8_t *redacted;        /* mvjb_redact output (SOI..EOI), or NULL */
  size_t redactedlen;
};

/* jpeg_markers.c */
int jpg_parse_markers(mv_doc *d, char *err, size_t errlen);
int jpg_add_piece(mv_doc *d, int type, uint8_t marker, size_t off, size_t len,
                  int attr, char *err, size_t errlen);
int jpg_add_attr(mv_doc *d, const char *name, int piece, char *err,
                 size_t errlen);

/* jpeg_exif.c */
int jpg_parse_exif(mv_doc *d, int piece, char *err, size_t errlen);
/* Rebuilds the APP1 Exif segment from the kept entries into *out (malloc),
 * *outlen == 0 when nothing is kept. */
int jpg_build_exif(mv_doc *d, uint8_t **out, size_t *outlen, char *err,
                   size_t errlen);
const char *jpg_exif_tag_name(int ifd, uint16_t tag);
uint16_t jpg_rd16(const mv_doc *d, const uint8_t *p);
uint32_t jpg_rd32(const mv_doc *d, const uint8_t *p);

/* jpeg_frame.c: libjpeg behind a longjmp error manager. */
int jpg_check_frame(mv_doc *d, char *err, size_t errlen);
int jpg_decode_full(mv_doc *d, uint8_t **pix, uint32_t *samples, char *err,
                    size_t errlen);

/* jpeg_show.c: text renderings of attribute values. */
void jpg_attr_show(mv_doc *d, jpg_attr *a);
int jpg_valid_utf8(const uint8_t *s, size_t n);

/* jpeg_write.c */
int jpg_write(mv_doc *d, const char *path, char *err, size_t errlen);

/* jpeg_pixels.c */
int jpg_pixel_info(mv_doc *d, mv_pixel_info *info);
int jpg_acquire(mv_doc *d, uint32_t plane, mv_image *img, char *err,
                size_t errlen);
int jpg_release(mv_doc *d, uint32_t plane, const mv_rect *changed, size_t n,
                char *err, size_t errlen);
int jpg_drop_hidden(mv_doc *d, uint32_t *count);
int jpg_blocks_writable(const mv_doc *d);

int jpg_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
