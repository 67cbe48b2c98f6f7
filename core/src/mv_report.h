/* mv_report.h - the run report (JSON), written as files finish so memory
 * does not grow with the batch, and moved into place when complete.
 *
 * {"files": [{"input", "status", "output" | "reason", "note", "format",
 *             "bytes_in", "bytes_out", "review_id",
 *             "pixels": {"planes", "boxes", "redacted", "kept",
 *                        "uncertain", "reused", "verify_hits",
 *                        "hidden_removed", "changed", "ms"}}, ...],
 *  "summary": {...}} */
#ifndef MV_REPORT_H
#define MV_REPORT_H

#include <stddef.h>

#include "mv_pixels.h"
#include "mv_policy.h"

typedef struct mv_report mv_report;

typedef struct mv_summary {
  unsigned long total, ok, rejected, review;
  unsigned long long bytes_in, bytes_out;
  double seconds;
  int jobs;
  const char *policy_name, *policy_source, *key_fingerprint;
  unsigned long actions[MV_ACT__COUNT];
  unsigned long scrubbed;
  unsigned long observer_errors; /* records an observer failed to keep */
} mv_summary;

typedef struct mv_report_row {
  const char *input;
  const char *status; /* "ok", "rejected", "review" */
  const char *output; /* relative to OUT, when ok */
  const char *reason; /* when not ok; never attribute values */
  const char *note;   /* optional remark on an ok row */
  const char *format; /* plugin name, when known */
  unsigned long long bytes_in, bytes_out;
  const char *review_id;      /* status review: the item in the review dir */
  const struct mv_pixel_result *pixels; /* when the pixel stage ran */
  const char *input_sha256;  /* hex, when the job computes digests */
  const char *output_sha256; /* hex, status ok, when computed */
} mv_report_row;

mv_report *mv_report_open(const char *path, char *err, size_t errlen);
/* Not thread-safe: the job serialises calls. */
void mv_report_add(mv_report *r, const mv_report_row *row);
/* An output already reported moved from `from` to `to` (both relative to
 * OUT); rows are corrected when the report is closed. */
int mv_report_rename_output(mv_report *r, const char *from, const char *to);
/* Write the summary, close and rename into place. Returns 0 or -1. */
int mv_report_close(mv_report *r, const mv_summary *s);
/* Drop the partial report (configuration error before any data). */
void mv_report_abort(mv_report *r);

#endif
