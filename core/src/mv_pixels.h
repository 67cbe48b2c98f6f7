/* mv_pixels.h - the pixel stage: find burned-in text, redact it, verify,
 * and decide whether the object can go out or must be held for review.
 *
 * One per worker thread (each detector keeps a per-worker context, e.g. an
 * OCR engine). For one object:
 *   1. remove pixel payloads no redactor reaches (vendor previews, movies);
 *   2. for every plane (frames, overlays; icons follow frame 0): decode,
 *      render 8-bit (min-max), run the policy's detectors, add the lines
 *      the text network and the faint-ink map find alone; identical frames
 *      reuse the first one's boxes, and a frame that differs from frame 0
 *      only in part is searched only there;
 *   3. decide per box: known regions are redacted; text is redacted when it
 *      is PHI under the object's mode (all_text: every word not on the
 *      allow-list; identifiers: words matching the object's identifying
 *      values or generic patterns); unreadable or low-confidence text is
 *      redacted under all_text and held for review under identifiers;
 *      each redacted line is then followed along its row (the network's
 *      marks, strokes that stood still, faint ink, ink on an even ground),
 *      and a map's line widened across over the strokes it cuts;
 *   4. redact (the policy's redactor), re-render, and OCR the redacted
 *      areas and the top and bottom bands again; what is still readable is
 *      redacted in turn (three rounds in all), then it means review;
 *   5. hand the changed rectangles back to the format plugin, which writes
 *      them in the file's own encoding; once every frame was searched, the
 *      overlay lines one frame found go into the frames lacking them
 *      (mv_cine.h).
 * OCR text never leaves this module: the result has counts and boxes. */
#ifndef MV_PIXELS_H
#define MV_PIXELS_H

#include <stddef.h>

#include "medveil/plugin.h"
#include "mv_pixpolicy.h"
#include "mv_png.h"
#include "mv_registry.h"
#include "mv_render.h"
#include "mv_scrub.h"
#include "mv_textphi.h"

typedef struct mv_pixels mv_pixels;

/* Resolve the policy's detectors and redactor among the loaded plugins and
 * make this worker's detector contexts. Fails (MV_EINVAL / MV_EPLUGIN with
 * a reason) when a named detector or redactor is not installed. */
int mv_pixels_new(const mv_registry *reg, const mv_pixel_settings *s,
                  mv_pixels **out, char *err, size_t errlen);
void mv_pixels_free(mv_pixels *px);

typedef struct mv_pixel_result {
  int ran;          /* the stage looked at this object */
  int changed;      /* pixels were redacted */
  int cleaned;      /* every plane checked and cleaned: claim 113101 */
  int review;       /* hold for a person */
  char reason[256]; /* why review (never text) */
  unsigned planes, boxes, redacted, kept, uncertain, reused, verify_hits;
  unsigned noise;   /* unsure readings of texture, not text: left alone */
  unsigned hidden_removed;
  double ms;
  /* For the review preview: frame 0 (or the first plane with boxes)
   * before and after, with marks. */
  mv_view before, after;
  mv_mark *marks;
  size_t nmarks;
} mv_pixel_result;

void mv_pixel_result_free(mv_pixel_result *r);

/* Object facts the stage needs. `phi` and `scrub` hold the object's
 * identifying values (gathered before the header is changed). */
typedef struct mv_pixel_job {
  const mv_format_ops *ops;
  mv_doc *doc;
  mv_phi_mode mode;
  const mv_textphi *phi;
  const mv_scrub *scrub;
  int keep_preview; /* fill before/after/marks (review or --previews) */
} mv_pixel_job;

/* Run the stage. Returns MV_OK (see r->review) or a code with a reason in
 * r->reason when the object must be rejected (a write-back failed). */
int mv_pixels_clean(mv_pixels *px, const mv_pixel_job *job,
                    mv_pixel_result *r);

/* Detection only, for `medveil detect`: boxes of every plane go to sink
 * (text included: the caller must not print it). */
int mv_pixels_detect_only(mv_pixels *px, const mv_format_ops *ops,
                          mv_doc *doc, mv_box_sink sink, void *ud,
                          char *err, size_t errlen);

#endif
