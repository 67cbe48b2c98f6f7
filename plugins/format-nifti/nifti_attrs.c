/* nifti_attrs.c - the attributes of a NIfTI document: the free-text
 * header fields (fixed size: "remove" zeroes them) and the header
 * extensions (removed ones are dropped at write). Handles are small
 * integers, not pointers, so they stay valid when the extension list
 * grows during a walk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nifti_internal.h"

#define EXT_HANDLE_BASE 0x10000u

static uint8_t *field_bytes(mv_doc *doc, const nv_field *f) {
  return doc->raw + f->off;
}

static size_t field_len(mv_doc *doc, const nv_field *f) {
  const uint8_t *p = field_bytes(doc, f);
  size_t n = 0;
  while (n < f->size && p[n]) n++;
  return n;
}

/* Any byte set, even after a NUL: hidden bytes are content too. */
static int field_used(mv_doc *doc, const nv_field *f) {
  const uint8_t *p = field_bytes(doc, f);
  for (uint32_t i = 0; i < f->size; i++)
    if (p[i]) return 1;
  return 0;
}

static void field_clear(mv_doc *doc, const nv_field *f) {
  memset(field_bytes(doc, f), 0, f->size);
}

/* Stores a value, cut at a UTF-8 character boundary to leave room for the
 * terminating NUL; stops at an embedded NUL. */
static void field_store(mv_doc *doc, const nv_field *f, const char *v,
                        size_t len) {
  const char *nul = len ? memchr(v, 0, len) : NULL;
  if (nul) len = (size_t)(nul - v);
  if (len > f->size - 1) {
    len = f->size - 1;
    while (len && ((uint8_t)v[len] & 0xc0) == 0x80) len--;
  }
  field_clear(doc, f);
  if (len) memcpy(field_bytes(doc, f), v, len);
}

static const nv_field *field_by_key(mv_doc *doc, const char *key) {
  size_t n;
  const nv_field *fs = nv_fields(doc->h.version, &n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(fs[i].key, key) == 0) return &fs[i];
  return NULL;
}

static nv_ext *ext_by_key(mv_doc *doc, const char *key) {
  for (size_t i = 0; i < doc->next; i++)
    if (!doc->ext[i].removed && strcmp(doc->ext[i].key, key) == 0)
      return &doc->ext[i];
  return NULL;
}

static int ext_replace(nv_ext *e, const char *value, size_t len) {
  uint8_t *copy = malloc(len + 1);
  if (!copy) return MV_ENOMEM;
  if (len) memcpy(copy, value, len);
  copy[len] = 0;
  free(e->data);
  e->data = copy;
  e->len = len;
  e->is_text = e->ecode != 2 && nv_is_text(copy, len);
  return MV_OK;
}

int nv_visit(mv_doc *doc, mv_visit_fn fn, void *ud) {
  size_t nf;
  const nv_field *fs = nv_fields(doc->h.version, &nf);
  char shown[96];
  for (size_t i = 0; i < nf; i++) {
    if (!field_used(doc, &fs[i])) continue;
    size_t len = field_len(doc, &fs[i]);
    memcpy(shown, field_bytes(doc, &fs[i]), len);
    shown[len] = 0;
    int text = nv_is_text((const uint8_t *)shown, len);
    mv_attr a = {.tag = 0, .vr = "", .name = fs[i].key,
                 .value = text ? shown : NULL,
                 .len = text ? len : fs[i].size};
    int r = fn(ud, &a, (void *)(uintptr_t)(i + 1));
    if (r == MV_VISIT_ABORT) return MV_EREJECT;
    if (r == MV_VISIT_REMOVE || r == MV_VISIT_EMPTY) field_clear(doc, &fs[i]);
  }
  for (size_t i = 0; i < doc->next; i++) {
    if (doc->ext[i].removed) continue;
    nv_ext *e = &doc->ext[i];
    char key[sizeof e->key];
    memcpy(key, e->key, sizeof key);
    mv_attr a = {.tag = 0, .vr = "", .name = key,
                 .value = e->is_text ? (const char *)e->data : NULL,
                 .len = e->len};
    int r = fn(ud, &a, (void *)(uintptr_t)(EXT_HANDLE_BASE + i));
    e = &doc->ext[i]; /* the callback may have added extensions */
    if (r == MV_VISIT_ABORT) return MV_EREJECT;
    if (r == MV_VISIT_REMOVE) e->removed = 1;
    if (r == MV_VISIT_EMPTY) ext_replace(e, "", 0);
  }
  return MV_OK;
}

int nv_set_value(mv_doc *doc, void *handle, const char *value, size_t len) {
  uintptr_t h = (uintptr_t)handle;
  if (!value && len) return MV_EINVAL;
  if (h >= EXT_HANDLE_BASE) {
    size_t i = h - EXT_HANDLE_BASE;
    if (i >= doc->next || doc->ext[i].removed) return MV_EINVAL;
    return ext_replace(&doc->ext[i], value ? value : "", len);
  }
  size_t nf;
  const nv_field *fs = nv_fields(doc->h.version, &nf);
  if (h < 1 || h > nf) return MV_EINVAL;
  field_store(doc, &fs[h - 1], value ? value : "", len);
  return MV_OK;
}

int nv_get(mv_doc *doc, const char *key, const char **value, size_t *len) {
  const nv_field *f = field_by_key(doc, key);
  if (f) {
    size_t n = field_len(doc, f);
    if (!n) return MV_ENOTFOUND;
    char *buf = malloc(n + 1);
    if (!buf) return MV_ENOMEM;
    memcpy(buf, field_bytes(doc, f), n);
    buf[n] = 0;
    free(doc->getbuf);
    doc->getbuf = buf;
    *value = buf;
    *len = n;
    return MV_OK;
  }
  nv_ext *e = ext_by_key(doc, key);
  if (!e) return MV_ENOTFOUND;
  if (!e->is_text && e->len) return MV_EUNSUPPORTED;
  *value = (const char *)e->data;
  *len = e->len;
  return MV_OK;
}

/* "nifti:ext:<ecode>:<index>" -> ecode, index. */
static int parse_ext_key(const char *key, long *ecode, unsigned long *index) {
  const char *p = key + 10;
  if (strncmp(key, "nifti:ext:", 10) != 0) return -1;
  char *end;
  *ecode = strtol(p, &end, 10);
  if (end == p || *end != ':' || *ecode < 0 || *ecode > 0x7fffffffL)
    return -1;
  p = end + 1;
  *index = strtoul(p, &end, 10);
  if (end == p || *end || *p == '-') return -1;
  return 0;
}

int nv_set(mv_doc *doc, const char *key, const char *vr, const char *value,
           size_t len) {
  (void)vr;
  if (!value && len) return MV_EINVAL;
  if (!value) value = "";
  const nv_field *f = field_by_key(doc, key);
  if (f) {
    field_store(doc, f, value, len);
    return MV_OK;
  }
  nv_ext *e = ext_by_key(doc, key);
  if (e) return ext_replace(e, value, len);
  long ecode;
  unsigned long index;
  if (parse_ext_key(key, &ecode, &index) != 0) return MV_EUNSUPPORTED;
  unsigned long count = 0;
  for (size_t i = 0; i < doc->next; i++)
    if (doc->ext[i].ecode == ecode) count++;
  if (index != count) return MV_ENOTFOUND; /* only the next one is new */
  if (len > NV_MAX_EXT_REGION) return MV_ELIMIT;
  return nv_ext_add(doc, (int32_t)ecode, (const uint8_t *)value, len);
}

int nv_remove(mv_doc *doc, const char *key) {
  const nv_field *f = field_by_key(doc, key);
  if (f) {
    if (!field_used(doc, f)) return MV_ENOTFOUND;
    field_clear(doc, f);
    return MV_OK;
  }
  nv_ext *e = ext_by_key(doc, key);
  if (!e) return MV_ENOTFOUND;
  e->removed = 1;
  return MV_OK;
}
