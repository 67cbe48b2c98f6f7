/* mv_scrub.h - free-text cleaning ("clean" action).
 *
 * A scrubber is built once per object from that object's own identifying
 * values (names, IDs, dates, addresses, phone numbers), then applied to each
 * free-text attribute. It replaces, case-insensitively:
 *  - each identifying value and, for names (PN), each name part of two or
 *    more letters, whole-word, in any order ("DOE^JOHN" -> "John Doe",
 *    "DOE, J", "JOHN DOE");
 *  - IDs also when written with or without separators ("AB-123 45" ~ "AB12345");
 *  - dates of the object in common formats (YYYYMMDD, YYYY-MM-DD, DD/MM/YYYY,
 *    MM/DD/YYYY, DD.MM.YYYY, "12 Mar 1961", "March 12, 1961");
 *  - and, whatever the object: any date-like pattern, runs of 5 or more digits,
 *    phone numbers, e-mail addresses, URLs.
 * Each match becomes "***". Words that are not identifying survive, so
 * "CT CHEST W CONTRAST" stays readable.
 */
#ifndef MV_SCRUB_H
#define MV_SCRUB_H

#include <stddef.h>

typedef struct mv_scrub mv_scrub;

/* Kinds of identifying values (they are matched differently). */
typedef enum mv_scrub_kind {
  MV_SCRUB_NAME = 0, /* DICOM PN, '^' and '=' separated */
  MV_SCRUB_ID = 1,   /* identifiers: compared ignoring separators */
  MV_SCRUB_DATE = 2, /* DA "YYYYMMDD": matched in many spellings */
  MV_SCRUB_TEXT = 3  /* anything else (addresses, institution names):
                        matched as a whole phrase and word by word for
                        words of 4+ letters */
} mv_scrub_kind;

mv_scrub *mv_scrub_new(void);
void mv_scrub_free(mv_scrub *s);
/* Forget all values (reuse the allocation for the next object). */
void mv_scrub_reset(mv_scrub *s);
/* Add one identifying value (copied). Empty values are ignored. Returns 0 or
 * -1 on out-of-memory. */
int mv_scrub_add(mv_scrub *s, mv_scrub_kind kind, const char *value,
                 size_t len);
/* Clean `in` into a newly malloc'd NUL-terminated string (*out, *outlen).
 * Returns the number of replacements made (>= 0) or -1 on out-of-memory.
 * s may be NULL: then only the generic patterns apply. */
int mv_scrub_text(const mv_scrub *s, const char *in, size_t len, char **out,
                  size_t *outlen);

#endif
