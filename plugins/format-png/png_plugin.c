/* png_plugin.c - format-png: the descriptor and the document operations.
 *
 * Attributes are the metadata chunks, in file order, named
 * "png:<type>:<keyword>" for text (tEXt, zTXt, iTXt), "png:<type>" for the
 * chunks PNG defines (tIME, eXIf, iCCP, gAMA, cHRM, sRGB, sBIT, pHYs) and
 * "png:chunk:<type>" for all others. See README.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "png_internal.h"

const mv_host *mvpng_host;

static int png_init(const mv_host *host, const char *config, void **state,
                    char *err, size_t errlen) {
  (void)config;
  (void)err;
  (void)errlen;
  mvpng_host = host;
  *state = NULL;
  return MV_OK;
}

static void png_fini(void *state) { (void)state; }

static int png_probe(void *state, const uint8_t *head, size_t n) {
  (void)state;
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return n >= 8 && memcmp(head, sig, 8) == 0 ? 100 : 0;
}

static void png_close(mv_doc *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n; i++) mvpng_chunk_free(&d->chunks[i]);
  free(d->chunks);
  free(d->file);
  free(d->pix);
  free(d->work);
  free(d);
}

/* Read the file, checking the signature and IHDR's declared size from the
 * first 33 bytes before the rest is read or any image memory allocated. */
static int read_file(mv_doc *d, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "cannot open: %s", strerror(errno));
    return MV_EIO;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    snprintf(err, errlen, "not a regular file");
    return MV_EIO;
  }
  if ((unsigned long long)st.st_size > MVPNG_MAX_FILE) {
    fclose(f);
    snprintf(err, errlen, "file is larger than %u bytes", MVPNG_MAX_FILE);
    return MV_ELIMIT;
  }
  uint8_t head[33];
  size_t hn = fread(head, 1, sizeof head, f);
  int rc = mvpng_check_head(d, head, hn, err, errlen);
  if (rc != MV_OK) {
    fclose(f);
    return rc;
  }
  size_t size = (size_t)st.st_size;
  d->file = malloc(size ? size : 1);
  if (!d->file) {
    fclose(f);
    return MV_ENOMEM;
  }
  memcpy(d->file, head, hn);
  size_t got = hn + fread(d->file + hn, 1, size - hn, f);
  fclose(f);
  d->file_len = got; /* a file that shrank reads as truncated */
  return MV_OK;
}

static int png_open(void *state, const char *path, mv_doc **out, char *err,
                    size_t errlen) {
  (void)state;
  *out = NULL;
  mv_doc *d = calloc(1, sizeof *d);
  if (!d) return MV_ENOMEM;
  int rc = read_file(d, path, err, errlen);
  if (rc == MV_OK) rc = mvpng_parse(d, err, errlen);
  size_t budget = MVPNG_MAX_TEXT_TOTAL;
  for (size_t i = 0; rc == MV_OK && i < d->n; i++)
    rc = mvpng_describe(d, &d->chunks[i], &budget);
  if (rc == MV_ENOMEM) snprintf(err, errlen, "out of memory");
  if (rc == MV_OK) rc = mvpng_decode(d, err, errlen);
  if (rc != MV_OK) {
    png_close(d);
    return rc;
  }
  *out = d;
  return MV_OK;
}

static int png_visit(mv_doc *d, mv_visit_fn fn, void *ud) {
  for (size_t i = 0; i < d->n; i++) {
    mvpng_chunk *c = &d->chunks[i];
    if (!mvpng_is_attribute(c)) continue;
    mv_attr a;
    memset(&a, 0, sizeof a);
    a.name = c->name;
    a.value = c->kind == MVPNG_BINARY ? NULL : c->text;
    a.len = c->kind == MVPNG_BINARY ? c->len : c->text_len;
    int r = fn(ud, &a, (void *)(uintptr_t)(i + 1));
    c = &d->chunks[i]; /* the callback may have added a chunk */
    switch (r) {
      case MV_VISIT_REMOVE:
        c->removed = 1;
        break;
      case MV_VISIT_EMPTY:
        /* Text can be empty; other chunks cannot: they go. */
        if (c->kind != MVPNG_TEXT || mvpng_set_text(c, "", 0) != MV_OK)
          c->removed = 1;
        break;
      case MV_VISIT_ABORT:
        return MV_EREJECT;
      default:
        break;
    }
  }
  return MV_OK;
}

static mvpng_chunk *from_handle(mv_doc *d, void *handle) {
  uintptr_t i = (uintptr_t)handle;
  if (i == 0 || i > d->n) return NULL;
  return &d->chunks[i - 1];
}

static int png_set_value(mv_doc *d, void *handle, const char *value,
                         size_t len) {
  mvpng_chunk *c = from_handle(d, handle);
  if (!c || c->removed) return MV_EINVAL;
  return mvpng_set_text(c, value ? value : "", value ? len : 0);
}

static mvpng_chunk *find(mv_doc *d, const char *key) {
  for (size_t i = 0; i < d->n; i++)
    if (mvpng_is_attribute(&d->chunks[i]) && d->chunks[i].name &&
        strcmp(d->chunks[i].name, key) == 0)
      return &d->chunks[i];
  return NULL;
}

static int png_get(mv_doc *d, const char *key, const char **value,
                   size_t *len) {
  /* A PNG is a picture of something, most often a screen: pixel triage
   * treats it as DICOM's OT ("other"). */
  if (strcmp(key, "Modality") == 0) {
    *value = "OT";
    *len = 2;
    return MV_OK;
  }
  mvpng_chunk *c = find(d, key);
  if (!c) return MV_ENOTFOUND;
  if (c->kind == MVPNG_BINARY) return MV_EUNSUPPORTED;
  *value = c->text;
  *len = c->text_len;
  return MV_OK;
}

static int png_set(mv_doc *d, const char *key, const char *vr,
                   const char *value, size_t len) {
  (void)vr;
  if (!value) value = "", len = 0;
  mvpng_chunk *c = find(d, key);
  if (c) return mvpng_set_text(c, value, len);
  return mvpng_new_text(d, key, value, len);
}

static int png_remove(mv_doc *d, const char *key) {
  int n = 0;
  for (mvpng_chunk *c; (c = find(d, key)) != NULL; n++) c->removed = 1;
  return n ? MV_OK : MV_ENOTFOUND;
}

static int png_resolve(void *state, const char *key, uint32_t *tag,
                       char vr[4]) {
  (void)state;
  (void)key;
  (void)tag;
  (void)vr;
  return MV_ENOTFOUND; /* no dictionary: names are used as they are */
}

static int png_write(mv_doc *d, const char *path, char *err, size_t errlen) {
  if (d->pixels_changed) {
    int rc = mvpng_reencode(d, err, errlen);
    if (rc != MV_OK) return rc;
    d->pixels_changed = 0;
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc = mvpng_serialize(d, &buf, &len);
  if (rc != MV_OK) {
    snprintf(err, errlen, "out of memory");
    return rc;
  }
  FILE *f = fopen(path, "wb");
  if (!f) {
    free(buf);
    snprintf(err, errlen, "cannot create output: %s", strerror(errno));
    return MV_EIO;
  }
  size_t put = fwrite(buf, 1, len, f);
  int bad = put != len || fflush(f) != 0;
  bad |= fclose(f) != 0;
  free(buf);
  if (bad) {
    unlink(path);
    snprintf(err, errlen, "cannot write output: %s", strerror(errno));
    return MV_EIO;
  }
  return MV_OK;
}

static int png_pixel_info(mv_doc *d, mv_pixel_info *info) {
  return mvpng_pixel_info(d, info);
}

static const mv_format_ops png_ops = {
    .size = sizeof(mv_format_ops),
    .probe = png_probe,
    .open = png_open,
    .close = png_close,
    .visit = png_visit,
    .set_value = png_set_value,
    .get = png_get,
    .set = png_set,
    .remove = png_remove,
    .resolve = png_resolve,
    .write = png_write,
    .extension = "png",
    .pixel_info = png_pixel_info,
    .acquire = mvpng_acquire,
    .release = mvpng_release,
    .drop_hidden_pixels = mvpng_drop_hidden,
};

static const mv_plugin png_plugin = {
    .abi = MV_PLUGIN_ABI,
    .size = sizeof(mv_plugin),
    .name = "format-png",
    .version = "1.0.0",
    .kinds = MV_KIND_FORMAT,
    .init = png_init,
    .fini = png_fini,
    .format = &png_ops,
};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &png_plugin; }
