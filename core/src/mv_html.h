/* mv_html.h - the HTML report of a run: one self-contained page beside the
 * JSON report (inline CSS, thumbnails as data: URIs, no script, no link
 * to anything outside the file).
 *
 * It holds the summary, how often each action fired (overall and per
 * attribute), every input that was not released, the released ones up to
 * a limit, and before/after thumbnails of objects whose pixels were
 * redacted. Memory stays flat whatever the batch size: rows and
 * thumbnails go to unlinked spool files beside the page as they come, and
 * the page is assembled at the end into a temporary name that is renamed
 * into place.
 *
 * Privacy: the page carries tags, action names, counts, reasons and input
 * paths (as the JSON report does), never attribute values. The "before"
 * thumbnail has every marked box pixelated (cells as tall as the box), so
 * a reader sees where text was, not what it said. */
#ifndef MV_HTML_H
#define MV_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "mv_job.h"
#include "mv_report.h"

typedef struct mv_html mv_html;

typedef struct mv_html_limits {
  unsigned long max_ok_rows; /* released rows listed; the rest counted */
  unsigned long max_thumbs;  /* before/after pairs; the rest counted */
  unsigned thumb_width;      /* largest thumbnail width in pixels */
} mv_html_limits;

/* Defaults: 2000 rows, 500 thumbnails, 240 pixels. */
void mv_html_default_limits(mv_html_limits *lim);

/* Start a page that will be written to `path` (its folder must exist).
 * Returns NULL with a reason in err. */
mv_html *mv_html_open(const char *path, const mv_html_limits *lim, char *err,
                      size_t errlen);

/* One finished input (a job observer's event). Not thread-safe: the job
 * calls observers under its lock. Returns 0, or -1 when the spool could
 * not be written (the page then fails at close). */
int mv_html_add(mv_html *h, const mv_job_event *ev);

/* An output reported earlier moved (paths relative to OUT). */
void mv_html_renamed(mv_html *h, const char *from, const char *to);

/* What the page says about the run beside the summary. */
typedef struct mv_html_info {
  const char *job_id;
  const char *policy_name;
  const char *rules_sha256;    /* hex, may be empty */
  const char *key_fingerprint;
  const char *json_report;     /* path of the JSON report, for a pointer */
  const char *scripts_dir;     /* for keyword names (ps315.lua); may be NULL */
} mv_html_info;

/* Assemble the page and rename it into place; frees h. Returns 0, or -1
 * with a reason in err (nothing is left behind). */
int mv_html_close(mv_html *h, const mv_html_info *info, const mv_summary *sum,
                  char *err, size_t errlen);

/* Drop everything (the run did not happen); frees h. */
void mv_html_abort(mv_html *h);

/* Write s as HTML text or attribute value: & < > " ' escaped, control
 * characters and bytes that are not UTF-8 as numeric references, so the
 * page is valid UTF-8 whatever a path holds. */
void mv_html_text(FILE *f, const char *s);

#endif
