/* jpeg_plugin.c - format-jpeg: the plugin descriptor and the document ops
 * (probe, open, visit, keyed access, write). Attribute names and limits are
 * in README.md; the parsing is in jpeg_markers.c and jpeg_exif.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jpeg_internal.h"

static int jpeg_init(const mv_host *host, const char *config, void **state,
                     char *err, size_t errlen) {
  (void)config, (void)err, (void)errlen;
  *state = (void *)host; /* read-only: safe to share between threads */
  return MV_OK;
}

static void jpeg_fini(void *state) { (void)state; }

static int jpeg_probe(void *state, const uint8_t *head, size_t n) {
  (void)state;
  if (n < 4 || head[0] != 0xFF || head[1] != 0xD8 || head[2] != 0xFF)
    return 0;
  return head[3] >= 0xC0 && head[3] != 0xFF ? 90 : 0;
}

static void jpeg_close(mv_doc *d) {
  if (!d) return;
  for (size_t i = 0; i < d->nattrs; i++) {
    free(d->attrs[i].newval);
    free(d->attrs[i].shown);
  }
  free(d->attrs);
  free(d->pieces);
  free(d->buf);
  free(d->pix);
  free(d->redacted);
  free(d);
}

static int read_file(mv_doc *d, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) return jpg_fail(err, errlen, MV_EIO, "cannot open: %s", strerror(errno));
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(f);
    return jpg_fail(err, errlen, MV_EIO, "not a regular file");
  }
  if ((uint64_t)sb.st_size > JPG_MAX_FILE_BYTES) {
    fclose(f);
    return jpg_fail(err, errlen, MV_ELIMIT, "file larger than %zu MiB",
                    JPG_MAX_FILE_BYTES >> 20);
  }
  d->n = (size_t)sb.st_size;
  d->buf = malloc(d->n ? d->n : 1);
  if (!d->buf) {
    fclose(f);
    return MV_ENOMEM;
  }
  size_t got = fread(d->buf, 1, d->n, f);
  fclose(f);
  if (got != d->n) return jpg_fail(err, errlen, MV_EIO, "short read");
  return MV_OK;
}

static int jpeg_open(void *state, const char *path, mv_doc **out, char *err,
                     size_t errlen) {
  *out = NULL;
  mv_doc *d = calloc(1, sizeof *d);
  if (!d) return MV_ENOMEM;
  d->host = state;
  int rc = read_file(d, path, err, errlen);
  if (rc == MV_OK) rc = jpg_parse_markers(d, err, errlen);
  if (rc == MV_OK) rc = jpg_check_frame(d, err, errlen);
  if (rc != MV_OK) {
    if (rc == MV_ENOMEM && err && errlen && !err[0])
      snprintf(err, errlen, "out of memory");
    jpeg_close(d);
    return rc;
  }
  for (size_t i = 0; i < d->nattrs; i++) /* ICC sizes need every chunk */
    if (!d->attrs[i].exif) jpg_attr_show(d, &d->attrs[i]);
  *out = d;
  return MV_OK;
}

static jpg_attr *attr_of(mv_doc *d, void *handle) {
  jpg_attr *a = handle;
  if (a < d->attrs || a >= d->attrs + d->nattrs) return NULL;
  return a;
}

/* Replaces a value: EXIF ASCII, EXIF single SHORT/LONG, COM and XMP text. */
static int assign(mv_doc *d, jpg_attr *a, const char *value, size_t len) {
  if (memchr(value, 0, len)) return MV_EINVAL;
  uint8_t *nv = NULL;
  size_t nlen = 0;
  uint32_t count = a->count;
  if (a->exif && a->type == 2) {
    if (len > 0xFFF0) return MV_ELIMIT;
    nlen = len + 1;
    if (!(nv = malloc(nlen))) return MV_ENOMEM;
    memcpy(nv, value, len);
    nv[len] = 0;
    count = (uint32_t)nlen;
  } else if (a->exif && (a->type == 3 || a->type == 4) && a->count == 1) {
    char buf[16];
    if (len == 0 || len >= sizeof buf) return MV_EINVAL;
    memcpy(buf, value, len);
    buf[len] = 0;
    char *end;
    unsigned long v = strtoul(buf, &end, 10);
    if (*end || buf[0] == '-' || (a->type == 3 && v > 0xFFFF) || v > 0xFFFFFFFFul)
      return MV_EINVAL;
    nlen = a->type == 3 ? 2 : 4;
    if (!(nv = malloc(nlen))) return MV_ENOMEM;
    for (size_t i = 0; i < nlen; i++)
      nv[i] = (uint8_t)(v >> (d->big_endian ? 8 * (nlen - 1 - i) : 8 * i));
  } else if (!a->exif && (strcmp(a->name, "jpeg:com") == 0 ||
                          (strcmp(a->name, "jpeg:xmp") == 0 && a->hdr == 29))) {
    if (len + a->hdr + 2 > 0xFFFF) return MV_ELIMIT;
    nlen = len;
    if (!(nv = malloc(nlen ? nlen : 1))) return MV_ENOMEM;
    memcpy(nv, value, len);
  } else {
    return MV_EUNSUPPORTED;
  }
  free(a->newval);
  a->newval = nv;
  a->newlen = nlen;
  a->has_new = 1;
  a->count = count;
  jpg_attr_show(d, a);
  return MV_OK;
}

static int jpeg_visit(mv_doc *d, mv_visit_fn fn, void *ud) {
  for (size_t i = 0; i < d->nattrs; i++) {
    jpg_attr *a = &d->attrs[i];
    if (a->removed) continue;
    mv_attr v;
    memset(&v, 0, sizeof v);
    v.name = a->name;
    v.value = a->shown;
    v.len = a->shownlen;
    switch (fn(ud, &v, a)) {
    case MV_VISIT_REMOVE: a->removed = 1; break;
    case MV_VISIT_EMPTY:
      if (assign(d, a, "", 0) != MV_OK) a->removed = 1;
      break;
    case MV_VISIT_ABORT: return MV_EREJECT;
    default: break;
    }
  }
  return MV_OK;
}

static int jpeg_set_value(mv_doc *d, void *handle, const char *value,
                          size_t len) {
  jpg_attr *a = attr_of(d, handle);
  if (!a || !value) return MV_EINVAL;
  return assign(d, a, value, len);
}

static jpg_attr *find(mv_doc *d, const char *key) {
  for (size_t i = 0; i < d->nattrs; i++)
    if (!d->attrs[i].removed && strcmp(d->attrs[i].name, key) == 0)
      return &d->attrs[i];
  return NULL;
}

static int jpeg_get(mv_doc *d, const char *key, const char **value,
                    size_t *len) {
  if (strcmp(key, "Modality") == 0) {
    /* Visible-light photograph: lets the core's pixel triage decide. */
    *value = "XC";
    *len = 2;
    return MV_OK;
  }
  jpg_attr *a = find(d, key);
  if (!a) return MV_ENOTFOUND;
  if (!a->shown) return MV_EUNSUPPORTED;
  *value = a->shown;
  *len = a->shownlen;
  return MV_OK;
}

static int jpeg_set(mv_doc *d, const char *key, const char *vr,
                    const char *value, size_t len) {
  (void)vr;
  jpg_attr *a = find(d, key);
  if (!a) return MV_EUNSUPPORTED; /* attributes cannot be created */
  if (!value) return MV_EINVAL;
  return assign(d, a, value, len);
}

static int jpeg_remove(mv_doc *d, const char *key) {
  int n = 0;
  for (size_t i = 0; i < d->nattrs; i++)
    if (!d->attrs[i].removed && strcmp(d->attrs[i].name, key) == 0)
      d->attrs[i].removed = 1, n++;
  return n ? MV_OK : MV_ENOTFOUND;
}

static int jpeg_resolve(void *state, const char *key, uint32_t *tag,
                        char vr[4]) {
  (void)state, (void)key, (void)tag, (void)vr;
  return MV_ENOTFOUND; /* no DICOM dictionary */
}

static int jpeg_write_op(mv_doc *d, const char *path, char *err,
                         size_t errlen) {
  return jpg_write(d, path, err, errlen);
}

static int jpeg_drop_hidden(mv_doc *d, uint32_t *count) {
  return jpg_drop_hidden(d, count);
}

static const mv_format_ops jpeg_ops = {
    .size = sizeof(mv_format_ops),
    .probe = jpeg_probe,
    .open = jpeg_open,
    .close = jpeg_close,
    .visit = jpeg_visit,
    .set_value = jpeg_set_value,
    .get = jpeg_get,
    .set = jpeg_set,
    .remove = jpeg_remove,
    .resolve = jpeg_resolve,
    .write = jpeg_write_op,
    .extension = "jpg",
    .pixel_info = jpg_pixel_info,
    .acquire = jpg_acquire,
    .release = jpg_release,
    .drop_hidden_pixels = jpeg_drop_hidden,
    .set_output_encoding = NULL,
};

static const mv_plugin jpeg_plugin = {
    .abi = MV_PLUGIN_ABI,
    .size = sizeof(mv_plugin),
    .name = "format-jpeg",
    .version = "0.1.0",
    .kinds = MV_KIND_FORMAT,
    .init = jpeg_init,
    .fini = jpeg_fini,
    .format = &jpeg_ops,
};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &jpeg_plugin; }
