/* mv_registry.h - loading plugins (shared objects) and finding them again.
 *
 * The loader refuses, with a reason: files others can write (or in a
 * directory others can write), objects without the entry symbol, an ABI
 * mismatch, a descriptor smaller than ABI 1 defines, a duplicate name, a
 * format plugin without format operations (likewise detectors and
 * redactors), and a failing init. */
#ifndef MV_REGISTRY_H
#define MV_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "medveil/plugin.h"

typedef struct mv_loaded {
  const mv_plugin *desc;
  void *state; /* from init */
  void *dl;    /* dlopen handle */
  char *path;
} mv_loaded;

typedef struct mv_registry mv_registry;

mv_registry *mv_registry_new(void);
/* Unloads every plugin (fini, then dlclose). */
void mv_registry_free(mv_registry *r);
/* Load one plugin file. */
int mv_registry_load(mv_registry *r, const char *path, const char *config,
                     char *err, size_t errlen);
/* Load every *.so in dir, in name order. A plugin that fails is reported
 * (all reasons joined in err) and the others still load; returns MV_OK only
 * when all loaded. *loaded receives the number that did. */
int mv_registry_load_dir(mv_registry *r, const char *dir, const char *config,
                         int *loaded, char *err, size_t errlen);
/* The models folder (data the core and plugins read at run time); "" until
 * set. */
void mv_registry_set_models(mv_registry *r, const char *dir);
const char *mv_registry_models(const mv_registry *r);
size_t mv_registry_count(const mv_registry *r);
const mv_loaded *mv_registry_at(const mv_registry *r, size_t i);
const mv_loaded *mv_registry_find(const mv_registry *r, const char *name);
/* How many first bytes of a file the probes see. */
#define MV_HEAD_BYTES 512
/* Read the first MV_HEAD_BYTES (fewer for a short file) of `path` into
 * head. 0, or -1 with errno. */
int mv_read_head(const char *path, uint8_t head[MV_HEAD_BYTES], size_t *n);
/* The format plugin with the highest probe score for these first bytes, or
 * NULL when none claims them. */
const mv_loaded *mv_registry_probe(const mv_registry *r, const uint8_t *head,
                                   size_t n);
/* Whether a format plugin offers pixel access (ABI members present). */
int mv_format_has_pixels(const mv_format_ops *f);
/* The detector plugin whose method is `method` ("ocr"), or NULL. */
const mv_loaded *mv_registry_detector(const mv_registry *r, const char *method);
/* The redactor plugin offering `method` ("fill", "fill:0"), or NULL. */
const mv_loaded *mv_registry_redactor(const mv_registry *r, const char *method);
/* The output extension of `doc`: the plugin's per-document answer when it
 * gives one, else its `extension`, else "out". */
const char *mv_format_doc_extension(const mv_format_ops *f, mv_doc *doc);
/* The format plugin that reads `path` as a companion of a main file beside
 * it (a NIfTI .img), with its note for the report; NULL when none does. */
const mv_loaded *mv_registry_companion(const mv_registry *r, const char *path,
                                       char *note, size_t notelen);
/* The host services given to plugins. */
const mv_host *mv_registry_host(void);

#endif
