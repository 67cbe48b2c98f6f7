/* mv_idvalues.h - the identifying values of a set of originals, for the
 * leak check (mv_verify.h): what to look for, and where each came from.
 *
 * A value is identifying when the policy does not keep it: the same test
 * as the de-identification engine's first walk (mv_deid.c), i.e. any
 * action but keep, clean and age; UIDs the policy remaps count too
 * (standard 1.2.840.10008 UIDs never do). Private elements are left out,
 * as in the engine: they are mostly vendor parameters. From each value the
 * patterns are (docs/verify.md has the full rules):
 *  - PN: the name as written ('^' matches a space), "given family",
 *    "family, given", and each word of 3+ bytes with a letter, whole-word;
 *  - DA (and the date of a DT): YYYYMMDD and its spellings (1951-08-29,
 *    08/29/1951, 29.08.1951, 29 Aug 1951, Aug 29, 1951, August 29 1951...);
 *    a DT also as written;
 *  - UI: the UID, not inside a longer UID;
 *  - other text (LO, SH, ST, LT, UT, UC, AE, UR): each value of 4+ bytes
 *    (the first 64 bytes of long ones); only digits: 6+ digits, not one
 *    repeated digit, not inside a longer number; with separators also
 *    without them ("AB-123 45" -> "AB12345"); comma-separated parts of 6+
 *    bytes (addresses);
 *  - file names of the originals: the stem when 8+ bytes.
 * Values in a short stop-list (ANONYMIZED, UNKNOWN, ...) are left out.
 * Descriptive values (text without digits: institution names, address
 * parts; names and their words) are dropped when a device or acquisition
 * value the policy keeps (a CS value, Manufacturer, ManufacturerModelName,
 * StationName, groups 0018 and 0028) contains them ("TOSHIBA" removed as
 * InstitutionName, kept inside Manufacturer "TOSHIBA_MEC"); reordered
 * names, IDs, dates and UIDs never are, and kept free text never excuses.
 * Words of 4 bytes or less need printable neighbours. Values are
 * deduplicated; the first origin of a value names it. TM, AS, DS, IS, CS
 * and binary VRs are not collected. */
#ifndef MV_IDVALUES_H
#define MV_IDVALUES_H

#include <stddef.h>
#include <stdint.h>

#include "medveil/plugin.h"
#include "mv_acmatch.h"
#include "mv_policy.h"

typedef struct mv_idvalues mv_idvalues;

/* `policy` decides what is identifying; it must outlive the set. */
mv_idvalues *mv_idvalues_new(const mv_policy *policy);
void mv_idvalues_free(mv_idvalues *v);

/* The date patterns of one document (ids of the YYYYMMDD forms and DT
 * values, see mv_idvalues_is_date). */
typedef struct mv_idvalues_dates {
  uint32_t *id;
  size_t n, cap;
} mv_idvalues_dates;

/* Collect the values of one open document. Thread-safe (one lock). With
 * `dates`, the document's own date patterns are appended there too (the
 * caller frees dates->id). */
int mv_idvalues_add_doc(mv_idvalues *v, const mv_format_ops *ops,
                        mv_doc *doc, mv_idvalues_dates *dates);
/* Collect an original's file name (its stem). Thread-safe. */
int mv_idvalues_add_name(mv_idvalues *v, const char *path);

/* Finish collecting: build the automaton, drop kept values. */
int mv_idvalues_build(mv_idvalues *v);

const mv_ac *mv_idvalues_automaton(const mv_idvalues *v);
/* Patterns (distinct folded values, dropped ones included). */
size_t mv_idvalues_count(const mv_idvalues *v);
size_t mv_idvalues_dropped(const mv_idvalues *v);
size_t mv_idvalues_memory(const mv_idvalues *v);

/* Whether pattern `id` is a date written as DA/DT elements hold it
 * (YYYYMMDD, or a DT value as it was). */
int mv_idvalues_is_date(const mv_idvalues *v, uint32_t id);
/* Whether a hit on pattern `id` counts (not a dropped value). */
int mv_idvalues_counts(const mv_idvalues *v, uint32_t id);
/* Where pattern `id` came from, as a key (equal for the same attribute
 * and part) and as words: "PatientName (0010,0010) family name". Never
 * the value. */
uint64_t mv_idvalues_origin_key(const mv_idvalues *v, uint32_t id);
void mv_idvalues_describe(const mv_idvalues *v, uint32_t id, char *buf,
                          size_t n);
/* The tag of the origin (0 for file names and non-DICOM keys). */
uint32_t mv_idvalues_tag(const mv_idvalues *v, uint32_t id);

/* OCR words: 1 when `word` matches a collected name part or ID fuzzily
 * (mv_textphi rules), with "a name part" or "an ID" in *what. Only the
 * first MV_IDVALUES_FUZZY_MAX of each are kept for this. */
#define MV_IDVALUES_FUZZY_MAX 20000
int mv_idvalues_fuzzy(const mv_idvalues *v, const char *word,
                      const char **what);

/* The spellings of a date "YYYYMMDD" into out (each NUL-terminated, up to
 * 31 bytes), with flags for the automaton; returns how many (0 when not a
 * valid date). Exposed for tests. */
#define MV_IDVALUES_MAX_SPELLINGS 40
size_t mv_idvalues_date_spellings(const char *yyyymmdd,
                                  char out[][32], unsigned *flags,
                                  size_t max);

#endif
