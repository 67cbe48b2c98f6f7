/* medveil/plugin.h - the plugin ABI. The only medveil header a plugin includes.
 *
 * A plugin is a shared object that exports exactly one symbol:
 *
 *     MV_EXPORT const mv_plugin *mv_plugin_entry(void);
 *
 * Two structs cross the boundary, one each way, both append-only and both
 * starting with {abi, size}: mv_host (services the core offers) and
 * mv_plugin (what the plugin offers). A side uses a member only when the
 * other side's `size` says it exists, so old plugins run on new cores and
 * new plugins on old cores, as long as MV_PLUGIN_ABI matches. MV_PLUGIN_ABI
 * changes only for an incompatible change, which the loader refuses.
 *
 * Rules for plugin authors:
 *  - No C++ exception, longjmp or signal may cross these functions.
 *  - Never log attribute values (names, IDs, dates, OCR text): only tags,
 *    counts and reasons. The host logger is the only sanctioned channel.
 *  - Every function may be called from several worker threads at once, each
 *    with its own documents; `state` from init is shared and must be
 *    read-only or locked by the plugin.
 *  - Strings are UTF-8 and NUL-terminated unless a length is given.
 *  - Errors are codes from medveil/errors.h; a human reason goes into the
 *    `err` buffer the host passes (never containing attribute values).
 */
#ifndef MEDVEIL_PLUGIN_H
#define MEDVEIL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "medveil/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MV_PLUGIN_ABI 1u /* bump only on an incompatible change */

#if defined(__GNUC__)
#define MV_EXPORT __attribute__((visibility("default")))
#else
#define MV_EXPORT
#endif

/* Plugin kinds (bit set in mv_plugin.kinds). */
#define MV_KIND_FORMAT 0x1u
#define MV_KIND_DETECTOR 0x2u
#define MV_KIND_REDACTOR 0x4u

/* Log levels for mv_host.log. */
enum { MV_LOG_ERROR = 0, MV_LOG_WARN = 1, MV_LOG_INFO = 2, MV_LOG_DEBUG = 3 };

/* ------------------------------------------------------------------------ */
/* Host services (core -> plugin).                                          */

typedef struct mv_host {
  uint32_t abi;  /* MV_PLUGIN_ABI */
  uint32_t size; /* sizeof(mv_host) as the core knows it */
  /* printf-style; `who` is the plugin name. Never pass attribute values. */
  void (*log)(int level, const char *who, const char *fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 3, 4)))
#endif
      ;
  void *(*alloc)(size_t n);
  void (*free)(void *p);
} mv_host;

/* ------------------------------------------------------------------------ */
/* Format plugins: documents made of attributes (and, later, frames).       */

typedef struct mv_doc mv_doc; /* opaque, owned by the format plugin */

/* One attribute as the visitor sees it. Everything is borrowed and valid
 * only during the callback. */
typedef struct mv_attr {
  uint32_t tag;            /* (group << 16) | element; 0 for non-DICOM keys */
  char vr[4];              /* "PN", "SQ", "OB", ...; "" when not DICOM */
  uint32_t depth;          /* 0 = top-level dataset, 1 = inside one item... */
  const uint32_t *parents; /* `depth` sequence tags, outermost first */
  const char *creator;     /* private creator of a private data element,
                              NULL when public or when none is declared */
  const char *value;       /* string value (UTF-8, multiple values joined
                              with '\\'), NULL for binary VRs and SQ */
  size_t len;              /* length of value in bytes (binary: raw length) */
  uint32_t items;          /* SQ only: number of items */
  const char *name;        /* non-DICOM formats: namespaced key
                              ("png:tEXt:Comment"), else NULL */
  int is_meta;             /* 1 for DICOM file meta (group 0002) */
} mv_attr;

/* What the visitor decides for the attribute it was shown. The visitor may
 * also call set_value(handle) before returning MV_VISIT_KEEP. */
enum {
  MV_VISIT_KEEP = 0,    /* keep (possibly with a value set) and, for SQ,
                           descend into its items */
  MV_VISIT_REMOVE = 1,  /* remove the attribute (SQ: with all its items) */
  MV_VISIT_EMPTY = 2,   /* keep the attribute with zero length (SQ: no items) */
  MV_VISIT_SKIP = 3,    /* keep as is; SQ: do not descend */
  MV_VISIT_ABORT = 4    /* stop the walk; visit() returns MV_EREJECT */
};

/* `handle` identifies the attribute for set_value during the callback. */
typedef int (*mv_visit_fn)(void *ud, const mv_attr *a, void *handle);

typedef struct mv_format_ops {
  uint32_t size; /* sizeof(mv_format_ops) as the plugin knows it */
  /* How sure the plugin is that these first bytes are its format: 0..100.
   * `n` may be shorter than the file's head when the file is small. */
  int (*probe)(void *state, const uint8_t *head, size_t n);
  /* Parse `path` into a document. On failure returns a code and writes a
   * reason (without attribute values) into err. Must never crash on hostile
   * input and must bound memory and recursion. */
  int (*open)(void *state, const char *path, mv_doc **out, char *err,
              size_t errlen);
  void (*close)(mv_doc *doc);
  /* Walk every attribute depth-first in file order, items of sequences
   * included. Removals requested by the visitor take effect at once for
   * the rest of the walk. */
  int (*visit)(mv_doc *doc, mv_visit_fn fn, void *ud);
  /* Replace the value of the attribute being visited (a copy is taken).
   * For DICOM the plugin pads and encodes as the VR requires. */
  int (*set_value)(mv_doc *doc, void *handle, const char *value, size_t len);
  /* Keyed access. Keys: a keyword ("PatientName"), a tag "(0010,0010)", or a
   * path "(0040,A730)[0].(0040,A160)" (item indices from 0). get returns a
   * borrowed string valid until the next change to the document, or
   * MV_ENOTFOUND. set creates the attribute (and missing items on a path);
   * `vr` may be NULL to use the dictionary's. remove returns MV_ENOTFOUND
   * when absent. */
  int (*get)(mv_doc *doc, const char *key, const char **value, size_t *len);
  int (*set)(mv_doc *doc, const char *key, const char *vr, const char *value,
             size_t len);
  int (*remove)(mv_doc *doc, const char *key);
  /* Resolve a keyword or tag string to a tag and its dictionary VR (for
   * validating policies at load time). Returns MV_ENOTFOUND when unknown. */
  int (*resolve)(void *state, const char *key, uint32_t *tag, char vr[4]);
  /* Write the document atomically-ready to `path` (the core renames it).
   * The plugin keeps pixel data byte-identical unless it was changed. */
  int (*write)(mv_doc *doc, const char *path, char *err, size_t errlen);
  /* A default file extension for outputs of this format ("dcm"). */
  const char *extension;
} mv_format_ops;

/* ------------------------------------------------------------------------ */
/* The plugin descriptor (plugin -> core).                                  */

typedef struct mv_plugin {
  uint32_t abi;        /* MV_PLUGIN_ABI */
  uint32_t size;       /* sizeof(mv_plugin) as the plugin knows it */
  const char *name;    /* unique: "format-dicom" */
  const char *version; /* "1.0.0" */
  uint32_t kinds;      /* MV_KIND_* */
  /* Called once after loading, before any other call. `config` may be NULL.
   * Returns MV_OK or a code (the plugin is then unloaded) with a reason. */
  int (*init)(const mv_host *host, const char *config, void **state,
              char *err, size_t errlen);
  void (*fini)(void *state);
  const mv_format_ops *format; /* when kinds has MV_KIND_FORMAT */
} mv_plugin;

typedef const mv_plugin *(*mv_plugin_entry_fn)(void);
#define MV_PLUGIN_ENTRY_SYMBOL "mv_plugin_entry"

#ifdef __cplusplus
}
#endif
#endif
