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
/* Pixels: images, rectangles and boxes shared by formats, detectors and    */
/* redactors.                                                                */

typedef struct mv_rect {
  int32_t x, y;   /* top-left, native pixel coordinates of the plane */
  int32_t w, h;   /* width and height, > 0 */
} mv_rect;

/* What a plane is. */
enum {
  MV_PLANE_FRAME = 0,   /* a frame of the image pixel data */
  MV_PLANE_OVERLAY = 1, /* a 1-bit overlay plane (60xx,3000), 0 or 1 */
  MV_PLANE_ICON = 2     /* an icon image (0088,0200) */
};

/* One decoded plane, writable. Samples are interleaved (RGB RGB ...).
 * `bits` is 8 (uint8_t samples) or 16 (uint16_t, or int16_t when
 * `is_signed`). Colour planes are always 8-bit RGB: palette and YBR data
 * are converted on acquire. */
typedef struct mv_image {
  uint32_t width, height;
  uint32_t samples;     /* 1 grey, 3 RGB */
  uint32_t bits;        /* 8 or 16 bits per sample in memory */
  uint32_t bits_stored; /* significant bits (e.g. 12 of 16) */
  int is_signed;        /* grey only: samples are int16_t / int8_t */
  int monochrome1;      /* grey only: low values display bright */
  size_t stride;        /* bytes per row */
  void *data;
  uint32_t kind;        /* MV_PLANE_* */
  uint32_t frame;       /* frame number this plane belongs to (0-based) */
} mv_image;

/* How the pixels are stored, which decides how a change is written. */
enum {
  MV_PIXENC_NATIVE = 0,      /* uncompressed */
  MV_PIXENC_LOSSLESS = 1,    /* compressed losslessly, re-encoded in kind */
  MV_PIXENC_JPEG_BLOCKS = 2, /* JPEG baseline: changed 8x8 blocks only */
  MV_PIXENC_READONLY = 3     /* decodable but cannot be written back */
};

typedef struct mv_pixel_info {
  uint32_t size;        /* sizeof(mv_pixel_info) as the caller knows it */
  uint32_t planes;      /* total planes (frames + overlays + icons) */
  uint32_t frames;      /* image frames */
  uint32_t width, height;
  uint32_t samples;     /* as stored: 1 or 3 */
  uint32_t encoding;    /* MV_PIXENC_* */
  char photometric[24]; /* "MONOCHROME2", "RGB", "YBR_FULL_422", ... */
  char syntax[72];      /* transfer syntax UID, "" when not DICOM */
} mv_pixel_info;

/* A region found by a detector, in native coordinates of `plane`. */
enum {
  MV_BOX_TEXT = 0x1u,    /* OCR found text here; `text` says what */
  MV_BOX_REGION = 0x2u,  /* a known burned-in region: redact regardless */
  MV_BOX_ROTATED = 0x4u, /* text read at 90, 180 or 270 degrees */
  MV_BOX_UNREAD = 0x8u,  /* looks like text, could not be read */
  MV_BOX_SHAPED = 0x10u, /* lies in a row of character-sized strokes: text
                            by its shape, whatever the reading says, so the
                            core never takes it for texture (noise) */
  MV_BOX_MARKED = 0x20u  /* set by the core, not detectors: a line its text
                            network marked where no reading was (always
                            with MV_BOX_UNREAD) */
};

typedef struct mv_box {
  uint32_t plane;
  mv_rect r;
  float confidence;  /* 0..1: how sure the detector is of `text` */
  uint32_t flags;    /* MV_BOX_* */
  uint32_t line;     /* detector's line number: words of one text line
                        share it, so the core can read them together */
  char label[48];    /* what found it: "ocr", "region:ctp-12" (no PHI) */
  char text[256];    /* recognised text, UTF-8 (PHI: never log it) */
} mv_box;

/* Detectors hand boxes to the core one by one; a non-zero return stops. */
typedef int (*mv_box_sink)(void *ud, const mv_box *box);

/* Header access for detectors that key on attributes (known regions).
 * Returns MV_OK with a borrowed value, or MV_ENOTFOUND. */
typedef int (*mv_attr_getter)(void *ud, const char *key, const char **value,
                              size_t *len);

typedef struct mv_detect_input {
  uint32_t size;          /* sizeof(mv_detect_input) as the core knows it */
  uint32_t plane;
  const mv_image *image;  /* 8-bit rendering (grey or RGB) for detection */
  const mv_image *native; /* the acquired plane, read-only */
  /* Regions of interest; n_roi == 0 means the whole plane. */
  const mv_rect *roi;
  size_t n_roi;
  mv_attr_getter get;     /* header attributes of the object */
  void *get_ud;
  /* Options from the policy for this detector ("lang=eng+deu"), may be
   * NULL. Unknown options are an error at ctx_new, not at detect. */
  const char *options;
} mv_detect_input;

typedef struct mv_detector_ops {
  uint32_t size;        /* sizeof(mv_detector_ops) as the plugin knows it */
  const char *method;   /* the name policies use: "ocr", "regions" */
  /* Make a per-worker context (an OCR engine is not thread-safe). `options`
   * as in mv_detect_input. */
  int (*ctx_new)(void *state, const char *options, void **ctx, char *err,
                 size_t errlen);
  void (*ctx_free)(void *ctx);
  /* Find regions in one plane; each goes to sink. */
  int (*detect)(void *ctx, const mv_detect_input *in, mv_box_sink sink,
                void *ud, char *err, size_t errlen);
} mv_detector_ops;

typedef struct mv_redactor_ops {
  uint32_t size;        /* sizeof(mv_redactor_ops) as the plugin knows it */
  /* Comma-separated method names this plugin provides: "fill,blur". */
  const char *methods;
  /* Change every pixel of `img` inside the rectangles (clipped to the
   * image) with `method` so nothing of the original remains readable. */
  int (*redact)(void *state, const char *method, mv_image *img,
                const mv_rect *rects, size_t n, char *err, size_t errlen);
} mv_redactor_ops;

/* ------------------------------------------------------------------------ */
/* Format plugins: documents made of attributes and pixel planes.            */

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

  /* ---- Pixels (appended; present when size reaches `release`). ---------
   * A document's pixels are a list of planes: every frame of the image,
   * then every overlay plane (60xx, per frame), then icon images. The core
   * acquires a plane decoded into a writable buffer, lets detectors look
   * at an 8-bit rendering of it, lets a redactor change it, and releases
   * it with the rectangles it changed; the plugin writes the change back
   * at write() in the document's own encoding. A plane released with no
   * rectangles leaves the stored bytes untouched. May be NULL for formats
   * without pixels. */
  /* Describe the pixels: number of planes and the encoding class. Returns
   * MV_ENOTFOUND when the document has no pixels. */
  int (*pixel_info)(mv_doc *doc, mv_pixel_info *info);
  /* Decode plane `plane` into `img` (buffer owned by the document, valid
   * until release). On failure a reason goes into err. */
  int (*acquire)(mv_doc *doc, uint32_t plane, mv_image *img,
                 char *err, size_t errlen);
  /* Give the plane back. `changed` lists the rectangles the core modified
   * (n == 0: nothing changed). The plugin records the change; write()
   * encodes it. Lossy encodings change only the blocks under `changed`. */
  int (*release)(mv_doc *doc, uint32_t plane, const mv_rect *changed,
                 size_t n, char *err, size_t errlen);
  /* Remove pixel payloads no redactor can reach (vendor previews, movies);
   * returns how many were removed in *count. */
  int (*drop_hidden_pixels)(mv_doc *doc, uint32_t *count);

  /* ---- Output encoding (appended; optional, may be NULL). -------------
   * Ask write() to store the document's pixels in another encoding, all
   * lossless: "none" (uncompressed), "jpegls", "j2k" (JPEG 2000), "htj2k"
   * (High-Throughput JPEG 2000 Lossless; "htj2k-rpcl" and "htj2k-general"
   * label the same codestreams .202 and .203), or "keep" (as read: the
   * default). Returns
   * MV_EUNSUPPORTED with a reason when this document cannot be stored so
   * (no decoder for its pixels, a sample layout the codec refuses). Called
   * after the pixel stage, before write(). */
  int (*set_output_encoding)(mv_doc *doc, const char *encoding, char *err,
                             size_t errlen);

  /* ---- Per-document files (appended; optional, may be NULL). ----------
   * The output extension of this document when it is not `extension`
   * ("nii.gz" for a gzip-compressed NIfTI). Returns a string that lives as
   * long as the plugin (a literal), or NULL to use `extension`. */
  const char *(*doc_extension)(mv_doc *doc);
  /* Whether `path`, which no probe claims, is a companion file this plugin
   * reads together with a main file beside it (the .img of a NIfTI
   * .hdr/.img pair). MV_OK with a one-line note for the report (no
   * values) when it is: the core reports it as handled, with no output of
   * its own. MV_ENOTFOUND otherwise. */
  int (*companion_of)(void *state, const char *path, char *note,
                      size_t notelen);
} mv_format_ops;

/* ------------------------------------------------------------------------ */
/* The plugin descriptor (plugin -> core).                                  */

typedef struct mv_plugin {
  uint32_t abi;        /* MV_PLUGIN_ABI */
  uint32_t size;       /* sizeof(mv_plugin) as the plugin knows it */
  const char *name;    /* unique: "format-dicom" */
  const char *version; /* "1.0.0" */
  uint32_t kinds;      /* MV_KIND_* */
  /* Called once after loading, before any other call. `config` is NULL or
   * lines of "key=value"; the core passes "models=<dir>" (the models/
   * folder: OCR settings, known regions). Returns MV_OK or a code (the
   * plugin is then unloaded) with a reason. */
  int (*init)(const mv_host *host, const char *config, void **state,
              char *err, size_t errlen);
  void (*fini)(void *state);
  const mv_format_ops *format; /* when kinds has MV_KIND_FORMAT */
  /* Appended in 0.2: */
  const mv_detector_ops *detector; /* when kinds has MV_KIND_DETECTOR */
  const mv_redactor_ops *redactor; /* when kinds has MV_KIND_REDACTOR */
} mv_plugin;

typedef const mv_plugin *(*mv_plugin_entry_fn)(void);
#define MV_PLUGIN_ENTRY_SYMBOL "mv_plugin_entry"

#ifdef __cplusplus
}
#endif
#endif
