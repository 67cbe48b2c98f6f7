/* mv_convert.h - `run --output-format png|jpeg`: a de-identified document's
 * image frames as plain image files, for machine-learning sets.
 *
 * Each frame is rendered to 8 bits as a viewer would show it: stored values
 * through the Modality LUT (RescaleSlope/Intercept), then the first VOI
 * window of the object (WindowCenter/WindowWidth, VOILUTFunction LINEAR,
 * LINEAR_EXACT or SIGMOID); without a window, the frame's own minimum and
 * maximum. MONOCHROME1 is inverted; colour stays RGB. The files carry no
 * metadata at all (no text chunks, no EXIF): only pixels leave. */
#ifndef MV_CONVERT_H
#define MV_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "medveil/plugin.h"

typedef enum {
  MV_OUTFMT_NATIVE = 0, /* the format plugin writes its own format */
  MV_OUTFMT_PNG = 1,
  MV_OUTFMT_JPEG = 2
} mv_outfmt;

/* "dicom" (= native), "png", "jpeg"/"jpg". Returns 0 or -1. */
int mv_outfmt_parse(const char *s, mv_outfmt *out);
/* File extension without the dot: "png", "jpg". */
const char *mv_outfmt_ext(mv_outfmt f);

/* How many image frames `doc` has through the format's pixel operations;
 * 0 when it has none (then the native format is written instead). */
uint32_t mv_convert_frames(const mv_format_ops *ops, mv_doc *doc);

/* The window a frame is rendered with (exposed for tests). */
typedef struct mv_voi {
  double slope, intercept; /* modality LUT */
  int has_window;
  double center, width;
  int function; /* 0 LINEAR, 1 LINEAR_EXACT, 2 SIGMOID */
} mv_voi;

/* Read the modality LUT and the first VOI window from the document. */
void mv_convert_voi(const mv_format_ops *ops, mv_doc *doc, mv_voi *voi);

/* Render `img` (as acquired) through `voi` into an 8-bit image whose data
 * the caller frees. Returns MV_OK, MV_EINVAL or MV_ENOMEM. */
int mv_convert_render(const mv_image *img, const mv_voi *voi, mv_image *out);

/* Write image frame `frame` of `doc`, rendered through `voi` (read once
 * per document with mv_convert_voi), as `fmt` to `path` (JPEG: quality 95,
 * 4:4:4). On failure a reason goes into err and nothing is left at path. */
int mv_convert_write_frame(const mv_format_ops *ops, mv_doc *doc,
                           const mv_voi *voi, uint32_t frame, mv_outfmt fmt,
                           const char *path, char *err, size_t errlen);

#endif
