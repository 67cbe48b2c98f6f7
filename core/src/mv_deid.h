/* mv_deid.h - de-identify one open document with a compiled policy.
 *
 * Two walks over the attributes: the first gathers what the object says
 * about its patient (identifying values for the free-text scrubber, the
 * value that keys the date offset, modality and pixel facts), the second
 * applies the actions. Then after() runs, and the object is marked
 * (PatientIdentityRemoved, DeidentificationMethod and its code sequence,
 * LongitudinalTemporalInformationModified). */
#ifndef MV_DEID_H
#define MV_DEID_H

#include <stddef.h>

#include "mv_keys.h"
#include "mv_pixels.h"
#include "mv_policy.h"
#include "mv_registry.h"
#include "mv_scrub.h"

/* One per worker thread. */
typedef struct mv_engine mv_engine;

mv_engine *mv_engine_new(const mv_key *key, mv_policy *policy);
void mv_engine_free(mv_engine *e);
/* Give the engine this worker's pixel stage (owned by the caller). Without
 * one, objects that need pixel cleaning are rejected. */
void mv_engine_set_pixels(mv_engine *e, mv_pixels *px);

/* The identifying values of one object before and after de-identification,
 * for the sealed crosswalk only: never logged or reported. Empty strings
 * when the format has no such attribute. */
typedef struct mv_identity {
  char patient_name[256], patient_id[128], accession[128];
  char study_uid[72], series_uid[72], sop_uid[72];
} mv_identity;

/* How often one attribute got one action in one object: tags and action
 * kinds only, never values (the HTML report's per-attribute counts). */
typedef struct mv_attr_hit {
  uint32_t tag;
  uint32_t action;     /* mv_action_kind */
  unsigned long count; /* 0: unused slot */
} mv_attr_hit;
#define MV_ATTR_HIT_SLOTS 1024 /* hash slots per object */

typedef struct mv_outcome {
  int rc;            /* MV_OK, or why the object is rejected */
  char reason[512];  /* for the report; never attribute values */
  /* Output naming, all derived (never input names): */
  char patient[64];  /* keyed pseudonym of the original PatientID */
  char study[72], series[72], sop[72]; /* UIDs after de-identification */
  unsigned long actions[MV_ACT__COUNT]; /* elements per action */
  unsigned long scrubbed;  /* replacements made inside free text */
  /* The pixel stage; px.review: de-identified but held for a person. */
  mv_pixel_result px;
  char pixel_why[160];     /* why the pixel stage ran */
  /* Identity before and after, filled when the object was de-identified
   * (rc == MV_OK). Sensitive: goes only into the sealed crosswalk. */
  mv_identity before, after;
  /* (tag, action) counts of the action walk: MV_ATTR_HIT_SLOTS slots, used
   * ones have count > 0; NULL when none. Pairs that found no slot are
   * counted in hits_dropped. Freed by mv_outcome_release. */
  mv_attr_hit *hits;
  unsigned long hits_dropped;
} mv_outcome;

/* Free what an outcome holds (previews, hits). */
void mv_outcome_release(mv_outcome *o);

/* De-identify `doc` (opened by the format plugin `fmt`) in place. With
 * `keep_preview`, the pixel stage keeps before/after views in out->px.
 * `input_id` names the input (its path); it only seeds derived names for
 * objects that have no instance UID of their own. */
void mv_deid_document(mv_engine *e, const mv_loaded *fmt, mv_doc *doc,
                      const char *input_id, int keep_preview,
                      mv_outcome *out);

#endif
