/* mv_review.h - the review queue: objects held back for a person.
 *
 * An object whose pixel outcome is uncertain is de-identified and redacted
 * as far as medveil could, then held in the review folder instead of OUT:
 *
 *   REVIEW/<id>/object.<ext>   the object as it would be released
 *   REVIEW/<id>/preview.png    before | after, boxes outlined (red:
 *                              redacted, green: kept, magenta: uncertain)
 *   REVIEW/<id>/item.json      id, output path in OUT, reason, counts
 *   REVIEW/decisions.jsonl     one line per approve/reject: when, who, id
 *
 * The preview shows the original pixels, so the review folder is as
 * sensitive as the input: it lives beside the report, never inside OUT.
 * `id` is derived from the output path (itself made of keyed pseudonyms)
 * and the object's content, so re-running a batch finds the same item
 * again and two objects wanting one output path stay two items. */
#ifndef MV_REVIEW_H
#define MV_REVIEW_H

#include <stddef.h>
#include <stdio.h>

#include "mv_pixels.h"

typedef struct mv_review_item {
  const char *rel_out;   /* where it goes in OUT when approved */
  const char *ext;       /* "dcm" */
  const char *object;    /* temporary file holding the object (moved) */
  const char *reason;
  const char *input;
  const mv_pixel_result *px;
} mv_review_item;

/* Hold an object. On success the temporary file has moved into the queue
 * and id (>= 17 bytes) names the item. An item with the same id (the same
 * object, re-run) is replaced. */
int mv_review_hold(const char *dir, const mv_review_item *it, char *id,
                   size_t idlen, char *err, size_t errlen);
/* Print pending items: id, output path, reason (no values). Returns the
 * number listed, or -1 with err. */
int mv_review_list(const char *dir, FILE *out, int json, char *err,
                   size_t errlen);
/* Approve (move the object into out_dir at its path) or reject (delete
 * it). The decision is appended to decisions.jsonl. */
int mv_review_decide(const char *dir, const char *id, int approve,
                     const char *out_dir, const char *note, char *err,
                     size_t errlen);

#endif
