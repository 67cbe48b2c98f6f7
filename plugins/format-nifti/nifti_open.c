/* nifti_open.c - parsing a .nii, .nii.gz or .hdr(/.img) into a document.
 *
 * Everything the header declares is checked against what is really there
 * before the document exists: the extension chain must tile the space
 * between header and voxels (sizes multiple of 16, inside the file), and
 * the voxel block the dimensions declare must be present in full. gzip
 * inputs are inflated once here to count their bytes (never held), under
 * a cap derived from the header so a gzip bomb stops early. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nifti_internal.h"

int nv_is_text(const uint8_t *p, size_t n) {
  if (!n) return 0;
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return 0;
      if (c == 0x7f) return 0;
      i++;
      continue;
    }
    size_t k = c >= 0xc2 && c <= 0xdf   ? 1
               : c >= 0xe0 && c <= 0xef ? 2
               : c >= 0xf0 && c <= 0xf4 ? 3
                                        : 0;
    if (!k || i + k >= n) return 0;
    for (size_t j = 1; j <= k; j++)
      if ((p[i + j] & 0xc0) != 0x80) return 0;
    i += k + 1;
  }
  return 1;
}

int nv_ext_add(mv_doc *doc, int32_t ecode, const uint8_t *data, size_t len) {
  if (doc->next >= NV_MAX_EXTENSIONS) return MV_ELIMIT;
  if (doc->next == doc->cap_ext) {
    size_t cap = doc->cap_ext ? doc->cap_ext * 2 : 8;
    nv_ext *grown = realloc(doc->ext, cap * sizeof *grown);
    if (!grown) return MV_ENOMEM;
    doc->ext = grown;
    doc->cap_ext = cap;
  }
  int is_text = 0;
  if (ecode != 2) { /* 2 = DICOM: binary by definition */
    size_t t = len;
    while (t && data[t - 1] == 0) t--;
    is_text = nv_is_text(data, t);
    if (is_text || t == 0) len = t;
  }
  nv_ext *e = &doc->ext[doc->next];
  memset(e, 0, sizeof *e);
  e->data = malloc(len + 1); /* NUL after the content: text is a C string */
  if (!e->data) return MV_ENOMEM;
  if (len) memcpy(e->data, data, len);
  e->data[len] = 0;
  e->len = len;
  e->ecode = ecode;
  e->is_text = is_text;
  for (size_t i = 0; i < doc->next; i++)
    if (doc->ext[i].ecode == ecode) e->index++;
  snprintf(e->key, sizeof e->key, "nifti:ext:%ld:%u", (long)ecode, e->index);
  doc->next++;
  return MV_OK;
}

void nv_close(mv_doc *doc) {
  if (!doc) return;
  for (size_t i = 0; i < doc->next; i++) free(doc->ext[i].data);
  free(doc->ext);
  free(doc->data_path);
  free(doc->getbuf);
  free(doc);
}

/* The .img beside a .hdr (same case), "" when the name is not a header's. */
static char *image_path(const char *path) {
  size_t n = strlen(path);
  const char *suffix[] = {".hdr", ".hdr.gz"};
  for (int i = 0; i < 2; i++) {
    size_t k = strlen(suffix[i]);
    if (n > k && strncasecmp(path + n - k, suffix[i], k) == 0) {
      char *img = strdup(path);
      if (!img) return NULL;
      char *ext = img + n - k;
      int upper = ext[1] == 'H';
      memcpy(ext + 1, upper ? "IMG" : "img", 3);
      return img;
    }
  }
  return NULL;
}

/* Counts the bytes left in a stream (gzip: inflating them). */
static int count_rest(nv_in *in, uint64_t *count, char *err, size_t errlen) {
  static const size_t step = 65536;
  uint8_t *tmp = malloc(step);
  if (!tmp) return MV_ENOMEM;
  *count = 0;
  for (;;) {
    size_t got = 0;
    int rc = nv_in_read(in, tmp, step, &got, err, errlen);
    if (rc != MV_OK) {
      free(tmp);
      return rc;
    }
    *count += got;
    if (got < step) break;
  }
  free(tmp);
  return MV_OK;
}

static int parse_extensions(mv_doc *doc, const uint8_t *front, size_t end,
                            char *err, size_t errlen) {
  size_t pos = doc->h.size;
  if (end < pos + 4 || front[pos] == 0) return MV_OK; /* no extensions */
  pos += 4;
  int swap = doc->h.swap;
  while (pos + 8 <= end) {
    int32_t esize = nv_get32(front + pos, swap);
    int32_t ecode = nv_get32(front + pos + 4, swap);
    if (esize == 0) {
      /* Zero padding up to vox_offset ends the chain; anything else there
       * is a lie about the sizes. */
      for (size_t i = pos; i < end; i++)
        if (front[i]) {
          snprintf(err, errlen, "extension %zu has size 0", doc->next);
          return MV_EFORMAT;
        }
      break;
    }
    if (esize < 16 || esize % 16 != 0) {
      snprintf(err, errlen, "extension %zu: size %ld is not a positive "
               "multiple of 16", doc->next, (long)esize);
      return MV_EFORMAT;
    }
    if ((uint64_t)esize > end - pos) {
      snprintf(err, errlen, "extension %zu: size %ld runs past the %s",
               doc->next, (long)esize,
               doc->h.pair ? "end of the header file" : "voxel offset");
      return MV_EFORMAT;
    }
    int rc = nv_ext_add(doc, ecode, front + pos + 8, (size_t)esize - 8);
    if (rc != MV_OK) {
      snprintf(err, errlen, rc == MV_ELIMIT ? "more than %d extensions"
                                            : "out of memory",
               NV_MAX_EXTENSIONS);
      return rc;
    }
    pos += (size_t)esize;
  }
  return MV_OK;
}

/* Checks the voxel block is present in full: it lies at data_off of the
 * stream `in`, of which `consumed` bytes were read already. */
static int check_data(mv_doc *doc, nv_in *in, uint64_t consumed, char *err,
                      size_t errlen) {
  uint64_t need_end = doc->data_off + doc->h.data_bytes, total;
  if (nv_in_is_gz(in)) {
    uint64_t rest = 0;
    nv_in_set_limit(in, need_end + NV_GZ_SLACK);
    int rc = count_rest(in, &rest, err, errlen);
    if (rc != MV_OK) return rc;
    total = consumed + rest;
  } else {
    total = nv_in_file_size(in);
  }
  if (total < need_end) {
    snprintf(err, errlen, "truncated: the voxel data needs %llu bytes at "
             "offset %llu, %llu are there",
             (unsigned long long)doc->h.data_bytes,
             (unsigned long long)doc->data_off,
             (unsigned long long)(total > doc->data_off ? total - doc->data_off
                                                        : 0));
    return MV_EFORMAT;
  }
  return MV_OK;
}

int nv_open(void *state, const char *path, mv_doc **out, char *err,
            size_t errlen) {
  (void)state;
  *out = NULL;
  if (errlen) err[0] = 0;
  mv_doc *doc = calloc(1, sizeof *doc);
  if (!doc) return MV_ENOMEM;
  nv_in *in = NULL, *img = NULL;
  uint8_t *front = NULL;
  int rc = nv_in_open(path, NV_MAX_EXT_REGION + NV_MAX_HDR, &in, err, errlen);
  if (rc != MV_OK) goto fail;
  doc->gz = nv_in_is_gz(in);
  size_t got = 0;
  rc = nv_in_read(in, doc->raw, NV_MAX_HDR, &got, err, errlen);
  if (rc != MV_OK) goto fail;
  rc = nv_hdr_parse(doc->raw, got, &doc->h, err, errlen);
  if (rc != MV_OK) goto fail;
  /* The header region: up to vox_offset, or the whole .hdr of a pair. */
  size_t end = doc->h.pair ? NV_MAX_EXT_REGION + NV_MAX_HDR + 1
                           : (size_t)doc->h.vox_offset;
  /* A pair's .hdr grows as read; a single file's region is known. */
  size_t cap = doc->h.pair ? 4096 : (end > got ? end : got), have = got;
  front = malloc(cap);
  if (!front) {
    rc = MV_ENOMEM;
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  memcpy(front, doc->raw, got);
  if (doc->h.pair) {
    /* The whole .hdr file, bounded. */
    for (;;) {
      if (have == cap) {
        if (cap > NV_MAX_EXT_REGION + NV_MAX_HDR) {
          rc = MV_ELIMIT;
          snprintf(err, errlen, "header file larger than %u bytes",
                   NV_MAX_EXT_REGION + NV_MAX_HDR);
          goto fail;
        }
        uint8_t *grown = realloc(front, cap * 2);
        if (!grown) {
          rc = MV_ENOMEM;
          snprintf(err, errlen, "out of memory");
          goto fail;
        }
        front = grown;
        cap *= 2;
      }
      size_t more = 0;
      rc = nv_in_read(in, front + have, cap - have, &more, err, errlen);
      if (rc != MV_OK) goto fail;
      have += more;
      if (more == 0) break;
    }
    end = have;
  } else if (got < end) {
    size_t more = 0;
    rc = nv_in_read(in, front + got, end - got, &more, err, errlen);
    if (rc != MV_OK) goto fail;
    if (got + more < end) {
      rc = MV_EFORMAT;
      snprintf(err, errlen, "truncated: the file ends before vox_offset "
               "%lld", (long long)doc->h.vox_offset);
      goto fail;
    }
  }
  rc = parse_extensions(doc, front, end, err, errlen);
  if (rc != MV_OK) goto fail;
  free(front);
  front = NULL;
  if (doc->h.pair) {
    doc->data_path = image_path(path);
    if (!doc->data_path) {
      rc = MV_EFORMAT;
      snprintf(err, errlen, "header of a .hdr/.img pair (magic ni%d) not "
               "named .hdr, so its .img cannot be found (pairs inside "
               "archives are not supported)", doc->h.version);
      goto fail;
    }
    rc = nv_in_open(doc->data_path, 0, &img, err, errlen);
    if (rc != MV_OK) {
      char why[200];
      snprintf(why, sizeof why, "%s", err);
      snprintf(err, errlen, "voxel file (.img beside the .hdr): %s", why);
      goto fail;
    }
    doc->data_off = (uint64_t)doc->h.vox_offset;
    rc = check_data(doc, img, 0, err, errlen);
  } else {
    doc->data_path = strdup(path);
    if (!doc->data_path) {
      rc = MV_ENOMEM;
      goto fail;
    }
    doc->data_off = (uint64_t)doc->h.vox_offset;
    rc = check_data(doc, in, got > end ? got : end, err, errlen);
  }
  if (rc != MV_OK) goto fail;
  nv_in_close(in);
  nv_in_close(img);
  *out = doc;
  return MV_OK;
fail:
  if (!err[0]) snprintf(err, errlen, "cannot read the NIfTI file (code %d)", rc);
  free(front);
  nv_in_close(in);
  nv_in_close(img);
  nv_close(doc);
  return rc;
}
