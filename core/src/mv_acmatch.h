/* mv_acmatch.h - one multi-pattern automaton (Aho-Corasick) for the leak
 * check: millions of identifying values, built once, then every file is
 * streamed through it once, in chunks of any size.
 *
 * Matching is on folded bytes: ASCII letters fold to lower case, and the
 * separators that DICOM and file systems put between the words of a value
 * ('^' of PN, '\\' between values, NUL and space padding, '_') all fold to
 * one space, with runs of them collapsing into one. So "DOE^JOHN" matches
 * "doe john", "DOE_JOHN" and "DOE \0JOHN". Other bytes are matched as they
 * are (UTF-8 names match byte for byte).
 *
 * A pattern may ask for boundaries, checked on the folded neighbours of a
 * match (start and end of input count as boundaries):
 *   MV_AC_WORD    no letter or digit on either side (name parts, short
 *                 words, dates spelled with month names);
 *   MV_AC_NUMBER  no digit on either side (IDs made of digits, dates);
 *   MV_AC_UID     no digit and no '.' on either side (UIDs, and digit runs
 *                 that must not match a component of a UID).
 * Memory is a few tens of bytes per trie state; the state survives between
 * chunks, so matches across chunk boundaries are found. */
#ifndef MV_ACMATCH_H
#define MV_ACMATCH_H

#include <stddef.h>
#include <stdint.h>

#define MV_AC_WORD 0x1u
#define MV_AC_NUMBER 0x2u
#define MV_AC_UID 0x4u
#define MV_AC_TEXT 0x8u /* neighbours must be a separator or one of
                           ,.;:()[]<>-/'"= (short words in binary data
                           are noise) */
#define MV_AC_NOFRAC 0x10u /* no '.' on the left: a digit run after a
                              decimal point is a fraction, not an ID */

#define MV_AC_MAX_PATTERN 255 /* folded bytes; longer patterns are cut */

typedef struct mv_ac mv_ac;

mv_ac *mv_ac_new(void);
void mv_ac_free(mv_ac *ac);

/* Fold one byte as the automaton does (without the run collapsing). */
unsigned char mv_ac_fold_byte(unsigned char c);

/* Fold a whole value as patterns are folded (separator runs collapsed,
 * none at either end, cut at MV_AC_MAX_PATTERN) into dst, which holds
 * MV_AC_MAX_PATTERN bytes. Returns the length (not NUL-terminated). */
size_t mv_ac_fold(const char *p, size_t n, uint8_t *dst);

/* Add a pattern (raw bytes, folded here). Duplicates (after folding) keep
 * the first pattern's id and flags. On success *id is the pattern's id
 * (0, 1, 2, ... in order of first addition) and *added says whether it is
 * new. Returns MV_OK, MV_EINVAL (empty after folding, or called after
 * build) or MV_ENOMEM. */
int mv_ac_add(mv_ac *ac, const char *pat, size_t n, unsigned flags,
              uint32_t *id, int *added);

/* Compute failure links. No adds after this; scanning may start. */
int mv_ac_build(mv_ac *ac);

size_t mv_ac_patterns(const mv_ac *ac);
/* The flags pattern `id` was added with. */
unsigned mv_ac_pattern_flags(const mv_ac *ac, uint32_t id);
size_t mv_ac_states(const mv_ac *ac);
/* Approximate bytes held. */
size_t mv_ac_memory(const mv_ac *ac);

/* One match: pattern id and the raw byte range [start, end) it covers in
 * the stream fed to this scanner. A non-zero return stops the scan. */
typedef int (*mv_ac_hit_fn)(void *ud, uint32_t id, uint64_t start,
                            uint64_t end);

/* A scanner holds the state of one stream; many scanners may share one
 * built automaton across threads. */
typedef struct mv_ac_scanner mv_ac_scanner;

mv_ac_scanner *mv_ac_scanner_new(const mv_ac *ac, mv_ac_hit_fn fn, void *ud);
void mv_ac_scanner_free(mv_ac_scanner *s);
/* Start a new stream (offsets from 0 again). */
void mv_ac_scanner_reset(mv_ac_scanner *s);
/* Feed the next chunk. Returns 0, or 1 when the callback stopped it. */
int mv_ac_feed(mv_ac_scanner *s, const void *buf, size_t n);
/* End of stream: settle the matches still waiting for their right-hand
 * neighbour. Returns as mv_ac_feed. */
int mv_ac_finish(mv_ac_scanner *s);

#endif
