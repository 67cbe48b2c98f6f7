/* mv_verify.h - the leak check: a second line of defence that does not
 * trust the first.
 *
 * It reads the originals again through the format plugins, collects every
 * identifying value they hold (mv_idvalues.h), and searches for all of
 * them at once (mv_acmatch.h) in every byte of every file under the
 * de-identified folder, in every folder and file name there, and (with
 * OCR) in the text the policy's pixel detectors read on de-identified
 * images. A finding says which file, where (byte offset, "path", or pixel
 * plane) and which attribute the value came from: never the value. Paths
 * in findings have their own leaking parts masked ("***").
 *
 * Memory: values are deduplicated in one automaton; files are streamed in
 * 1 MiB chunks; each file keeps at most MV_VERIFY_MAX_ORIGINS findings (one
 * per attribute of origin, with a hit count). */
#ifndef MV_VERIFY_H
#define MV_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "mv_policy.h"
#include "mv_registry.h"

#define MV_VERIFY_MAX_ORIGINS 64

typedef enum mv_verify_where {
  MV_VERIFY_BYTES = 0, /* inside the file, at `offset` */
  MV_VERIFY_PATH = 1,  /* in the file's name (or a folder's, see `file`) */
  MV_VERIFY_PIXELS = 2 /* read by OCR on pixel plane `plane` */
} mv_verify_where;

typedef struct mv_verify_finding {
  const char *file;  /* relative to the de-identified folder, masked */
  int is_folder;     /* MV_VERIFY_PATH on a folder's name */
  mv_verify_where where;
  uint64_t offset;   /* BYTES: first hit */
  uint32_t plane;    /* PIXELS */
  uint32_t tag;      /* of the origin; 0 for file names, non-DICOM keys */
  const char *origin; /* "PatientName (0010,0010) family name" */
  unsigned long hits; /* how many times in this file from this origin */
} mv_verify_finding;

typedef struct mv_verify_summary {
  unsigned long originals;    /* files under the original folders */
  unsigned long unreadable;   /* originals no plugin could read (their
                                 names were still collected) */
  unsigned long values;       /* distinct patterns searched */
  unsigned long dropped;      /* patterns left out: kept by the policy */
  unsigned long files;        /* de-identified files scanned */
  unsigned long folders;      /* de-identified folders (names checked) */
  unsigned long long bytes;   /* bytes scanned */
  unsigned long unscanned;    /* de-identified files that could not be read */
  unsigned long ocr_objects;  /* objects whose pixels were read by OCR */
  unsigned long ocr_failed;   /* objects with pixels OCR could not read */
  int ocr;                    /* OCR ran (1), was off (0) */
  char ocr_note[160];         /* why OCR did not run, when it did not */
  unsigned long date_elements; /* date hits in DA/DT elements, not counted
                                  (see strict_dates) */
  unsigned long findings;
  unsigned long files_with_findings;
  size_t memory;              /* approximate bytes of the value set */
  double seconds_collect, seconds_scan;
} mv_verify_summary;

/* Which output came from which input, when known (run --verify): the
 * input's path as the batch walked it, the output relative to OUT. */
typedef struct mv_verify_pair {
  const char *input, *output;
} mv_verify_pair;

typedef struct mv_verify_config {
  const mv_registry *registry;
  const mv_policy *policy;   /* decides what is identifying; pixels */
  const char *const *originals;
  int noriginals;
  const char *deidentified;  /* the output folder */
  int ocr;                   /* read pixels with the policy's detectors */
  int jobs;                  /* worker threads, >= 1 */
  /* Also count dates found as the value of a DA/DT element. Off by
   * default: a correctly shifted date of one patient often equals an
   * original date of another (or of the same patient's other study), so
   * in a batch these are noise; such hits are counted in the summary. */
  int strict_dates;
  /* Optional: with pairs, a date element of an output that holds an
   * original date of its own input (not shifted) is a finding even
   * without strict_dates. */
  const mv_verify_pair *pairs;
  size_t npairs;
} mv_verify_config;

/* Findings arrive sorted by file, then kind and offset, after all files
 * are scanned. A non-zero return stops delivering. */
typedef int (*mv_verify_sink)(void *ud, const mv_verify_finding *f);

/* Run the check. Returns MV_OK when it ran (findings counted in `sum`,
 * nothing found: sum->findings == 0 and sum->unscanned == 0), or a code
 * with a reason when it could not (missing folder, out of memory). */
int mv_verify_run(const mv_verify_config *cfg, mv_verify_sink sink, void *ud,
                  mv_verify_summary *sum, char *err, size_t errlen);

#endif
