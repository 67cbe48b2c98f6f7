/* nifti_write.c - writing a document as one .nii (or .nii.gz): the header
 * with its free-text fields as the policy left them (bytes after a
 * field's NUL zeroed), the kept extensions (16-byte multiples), vox_offset
 * recomputed, then the voxel bytes copied from the input untouched.
 * Bytes the input had between the extensions and vox_offset, or after the
 * voxel block, are not carried over: nothing unaccounted for leaves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nifti_internal.h"

static int put_all(nv_out *o, const void *p, size_t n, char *err,
                   size_t errlen) {
  return nv_out_write(o, p, n, err, errlen);
}

static int copy_voxels(mv_doc *doc, nv_out *o, char *err, size_t errlen) {
  nv_in *in = NULL;
  int rc = nv_in_open(doc->data_path,
                      doc->data_off + doc->h.data_bytes + NV_GZ_SLACK, &in,
                      err, errlen);
  if (rc != MV_OK) return rc;
  rc = nv_in_skip(in, doc->data_off, err, errlen);
  uint8_t *buf = rc == MV_OK ? malloc(65536) : NULL;
  if (rc == MV_OK && !buf) {
    rc = MV_ENOMEM;
    snprintf(err, errlen, "out of memory");
  }
  uint64_t left = doc->h.data_bytes;
  while (rc == MV_OK && left) {
    size_t step = left > 65536 ? 65536 : (size_t)left, got = 0;
    rc = nv_in_read(in, buf, step, &got, err, errlen);
    if (rc != MV_OK) break;
    if (got < step) {
      rc = MV_EIO;
      snprintf(err, errlen, "the voxel data ended early (input changed "
                            "since it was read?)");
      break;
    }
    rc = put_all(o, buf, got, err, errlen);
    left -= got;
  }
  free(buf);
  nv_in_close(in);
  return rc;
}

int nv_write(mv_doc *doc, const char *path, char *err, size_t errlen) {
  const nv_hdr *h = &doc->h;
  int swap = h->swap;
  uint8_t hdr[NV_MAX_HDR];
  memcpy(hdr, doc->raw, h->size);
  size_t nf;
  const nv_field *fs = nv_fields(h->version, &nf);
  for (size_t i = 0; i < nf; i++) {
    uint8_t *p = hdr + fs[i].off;
    size_t n = 0;
    while (n < fs[i].size && p[n]) n++;
    memset(p + n, 0, fs[i].size - n);
  }
  if (h->version == 1) {
    hdr[345] = '+'; /* a pair becomes one .nii */
  } else {
    hdr[5] = '+';
    memcpy(hdr + 8, "\r\n\032\n", 4);
    memset(hdr + 525, 0, 15); /* unused_str */
  }
  uint64_t ext_total = 0;
  size_t kept = 0;
  for (size_t i = 0; i < doc->next; i++) {
    if (doc->ext[i].removed) continue;
    ext_total += (8 + (uint64_t)doc->ext[i].len + 15) / 16 * 16;
    kept++;
  }
  if (ext_total > NV_MAX_EXT_REGION) {
    snprintf(err, errlen, "extensions larger than %u bytes",
             NV_MAX_EXT_REGION);
    return MV_ELIMIT;
  }
  /* 348 + 4 and 540 + 4 are multiples of 16, as every esize is. */
  uint64_t vox = h->size + 4 + ext_total;
  if (h->version == 1)
    nv_putf32(hdr + 108, (float)vox, swap);
  else
    nv_put64(hdr + 168, (int64_t)vox, swap);
  nv_out *o = NULL;
  int rc = nv_out_open(path, doc->gz, &o, err, errlen);
  if (rc != MV_OK) return rc;
  uint8_t extender[4] = {kept ? 1 : 0, 0, 0, 0};
  rc = put_all(o, hdr, h->size, err, errlen);
  if (rc == MV_OK) rc = put_all(o, extender, 4, err, errlen);
  static const uint8_t zeros[16];
  for (size_t i = 0; rc == MV_OK && i < doc->next; i++) {
    const nv_ext *e = &doc->ext[i];
    if (e->removed) continue;
    size_t esize = (8 + e->len + 15) / 16 * 16;
    uint8_t eh[8];
    nv_put32(eh, (int32_t)esize, swap);
    nv_put32(eh + 4, e->ecode, swap);
    rc = put_all(o, eh, 8, err, errlen);
    if (rc == MV_OK && e->len) rc = put_all(o, e->data, e->len, err, errlen);
    if (rc == MV_OK)
      rc = put_all(o, zeros, esize - 8 - e->len, err, errlen);
  }
  if (rc == MV_OK) rc = copy_voxels(doc, o, err, errlen);
  if (rc == MV_OK) {
    rc = nv_out_finish(o, err, errlen);
  } else {
    nv_out_abort(o);
  }
  if (rc != MV_OK) unlink(path);
  return rc;
}
