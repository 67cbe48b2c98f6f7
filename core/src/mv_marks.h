/* mv_marks.h - what a de-identified object says about itself (PS3.15 E.1.1):
 * PatientIdentityRemoved, DeidentificationMethod, the CID 7050 codes of the
 * options applied, and LongitudinalTemporalInformationModified. */
#ifndef MV_MARKS_H
#define MV_MARKS_H

#include "medveil/plugin.h"
#include "mv_policy.h"
#include "mv_registry.h"

/* Options whose code is claimed only when the work is done: Clean Pixel
 * Data (113101) only for an object whose pixels were checked and cleaned;
 * visual features are not handled by this version, and no private element
 * is retained as safe. */
#define MV_OPT_UNCLAIMED                                               \
  (MV_OPT_CLEAN_PIXEL_DATA | MV_OPT_CLEAN_VISUAL_FEATURES |            \
   MV_OPT_RETAIN_SAFE_PRIVATE)

/* `actions` counts elements per action kind in this object.
 * `pixels_cleaned`: the pixel stage checked every plane and redacted what
 * it found; then 113101 is claimed and BurnedInAnnotation becomes NO.
 * Formats whose dictionary has no PatientIdentityRemoved get no marks. */
int mv_marks_apply(const mv_policy *p, const mv_loaded *fmt, mv_doc *doc,
                   const unsigned long *actions, int pixels_cleaned);

#endif
