/* mv_textphi.h - is this text on the image PHI?
 *
 * Two questions about words an OCR engine read:
 *  - allowed: the word is on the policy's allow-list of harmless on-image
 *    words (orientation letters, units, probe and mode labels). Tokens are
 *    compared case-insensitively after stripping surrounding punctuation;
 *    in a token '#' stands for a number of 1 to 3 digits with an optional
 *    decimal part ("#cm" allows "5.0cm", "TIS#" allows "TIS0.4"), so a
 *    year or a long digit run (an ID) is never allowed by a pattern. Words without
 *    letters or digits ("|", "--") carry nothing and are allowed.
 *  - identifying: the word matches one of the object's identifying values
 *    fuzzily: name parts equal, one or two edits away, or truncated on
 *    screen ("PATIENTFI..."); IDs with or without separators, or a run of
 *    3+ digits inside a long ID. Dates and generic patterns are matched by
 *    the scrubber (mv_scrub.h) on windows of words, see mv_pixels.c.
 * Nothing here logs or keeps the text beyond the object. */
#ifndef MV_TEXTPHI_H
#define MV_TEXTPHI_H

#include <stddef.h>

#include "mv_pixpolicy.h"
#include "mv_scrub.h"

typedef struct mv_textphi mv_textphi;

mv_textphi *mv_textphi_new(void);
void mv_textphi_free(mv_textphi *t);
/* Forget the previous object's values. */
void mv_textphi_reset(mv_textphi *t);
/* Add an identifying value of the object (names: PN with '^'; IDs). */
int mv_textphi_add(mv_textphi *t, mv_scrub_kind kind, const char *v,
                   size_t n);
/* 1 when the word may stay under an all_text policy. */
int mv_textphi_allowed(const mv_pixel_settings *s, const char *word);
/* 1 when the word matches an identifying value of the object. */
int mv_textphi_identifying(const mv_textphi *t, const char *word);
/* Fold UTF-8 text to upper-case ASCII letters and digits only (accents
 * dropped: "Müller" -> "MULLER"), into dst (NUL-terminated). Returns the
 * length. Exposed for tests. */
size_t mv_textphi_fold(const char *s, char *dst, size_t cap);

#endif
