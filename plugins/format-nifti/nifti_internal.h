/* nifti_internal.h - shared declarations of the format-nifti plugin.
 *
 * A document is the header (kept as raw bytes in the file's byte order),
 * its extensions (in memory) and where the voxel bytes are: the plugin
 * never decodes or holds voxel data, it streams them from the input into
 * the output at write(). */
#ifndef NIFTI_INTERNAL_H
#define NIFTI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "medveil/plugin.h"

#define NV_N1_SIZE 348
#define NV_N2_SIZE 540
#define NV_MAX_HDR 540
/* Header + extensions are held in memory: bound them. */
#define NV_MAX_EXT_REGION (64u << 20)
#define NV_MAX_EXTENSIONS 4096
/* Largest voxel block accepted (declared size). */
#define NV_MAX_DATA ((uint64_t)64 << 30)
/* A gzip stream may inflate this much past what the header declares
 * (padding some writers add); more is refused as a bomb. */
#define NV_GZ_SLACK ((uint64_t)1 << 20)

extern const mv_host *nv_host;

/* ---- input stream: a plain file or a gzip stream (nifti_stream.c) ---- */
typedef struct nv_in nv_in;
/* Opens `path`, gzip or not (decided by its first bytes). `limit` bounds
 * the decompressed bytes a gzip stream may yield before nv_in_read fails
 * with MV_ELIMIT (0 = no limit). */
int nv_in_open(const char *path, uint64_t limit, nv_in **out, char *err,
               size_t errlen);
/* Reads up to n bytes; *got < n only at the end of the data. */
int nv_in_read(nv_in *in, void *dst, size_t n, size_t *got, char *err,
               size_t errlen);
/* Skips n bytes; MV_EFORMAT when the data ends first. */
int nv_in_skip(nv_in *in, uint64_t n, char *err, size_t errlen);
int nv_in_is_gz(const nv_in *in);
void nv_in_set_limit(nv_in *in, uint64_t limit);
/* Size of the file on disk (compressed size for gzip). */
uint64_t nv_in_file_size(const nv_in *in);
void nv_in_close(nv_in *in);
/* Inflates the start of a gzip member held in memory into out; returns
 * the number of bytes obtained (0 when none). Never fails loudly. */
size_t nv_gz_peek(const uint8_t *src, size_t n, uint8_t *out, size_t cap);

/* ---- output stream: plain or gzip ---- */
typedef struct nv_out nv_out;
int nv_out_open(const char *path, int gz, nv_out **out, char *err,
                size_t errlen);
int nv_out_write(nv_out *o, const void *src, size_t n, char *err,
                 size_t errlen);
/* Flushes and closes; MV_OK only when everything reached the disk. */
int nv_out_finish(nv_out *o, char *err, size_t errlen);
void nv_out_abort(nv_out *o); /* closes without finishing */

/* ---- header (nifti_header.c) ---- */
typedef struct nv_field {
  const char *key; /* "nifti:descrip" */
  uint32_t off, size;
} nv_field;

typedef struct nv_hdr {
  int version;  /* 1 or 2 */
  int swap;     /* stored in the other byte order than this machine's */
  int pair;     /* magic ni1/ni2: voxels in a separate .img */
  size_t size;  /* 348 or 540 */
  int64_t dim[8];
  int datatype, bitpix;
  int64_t vox_offset;
  uint64_t data_bytes; /* declared size of the voxel block */
} nv_hdr;

/* Recognises a header start: 1 or 2 when the sizeof_hdr and magic of a
 * NIfTI-1/-2 header are present in the n bytes, else 0. */
int nv_sniff(const uint8_t *b, size_t n, int *pair);
/* Decodes and checks a complete header. */
int nv_hdr_parse(const uint8_t *raw, size_t n, nv_hdr *h, char *err,
                 size_t errlen);
/* The text fields of a header version, and their count. */
const nv_field *nv_fields(int version, size_t *count);
/* Integer access in the header's byte order. */
int32_t nv_get32(const uint8_t *p, int swap);
void nv_put32(uint8_t *p, int32_t v, int swap);
void nv_put64(uint8_t *p, int64_t v, int swap);
void nv_putf32(uint8_t *p, float v, int swap);

/* ---- the document ---- */
typedef struct nv_ext {
  int32_t ecode;
  uint32_t index; /* among extensions with the same ecode */
  uint8_t *data;  /* content (esize - 8 bytes, trailing NULs trimmed) */
  size_t len;
  int is_text;
  int removed;
  char key[48];
} nv_ext;

struct mv_doc {
  nv_hdr h;
  uint8_t raw[NV_MAX_HDR];
  int gz;              /* input (and so output) is gzip-compressed */
  char *data_path;     /* the file holding the voxels (.nii or .img) */
  uint64_t data_off;   /* offset of the voxels in its (inflated) bytes */
  nv_ext *ext;
  size_t next, cap_ext;
  char *getbuf;        /* value returned by get / shown by visit */
};

int nv_open(void *state, const char *path, mv_doc **out, char *err,
            size_t errlen);
void nv_close(mv_doc *doc);
int nv_visit(mv_doc *doc, mv_visit_fn fn, void *ud);
int nv_set_value(mv_doc *doc, void *handle, const char *value, size_t len);
int nv_get(mv_doc *doc, const char *key, const char **value, size_t *len);
int nv_set(mv_doc *doc, const char *key, const char *vr, const char *value,
           size_t len);
int nv_remove(mv_doc *doc, const char *key);
int nv_write(mv_doc *doc, const char *path, char *err, size_t errlen);
/* Adds an extension (content copied); sets is_text/key/index. */
int nv_ext_add(mv_doc *doc, int32_t ecode, const uint8_t *data, size_t len);
int nv_is_text(const uint8_t *p, size_t n);

#endif
