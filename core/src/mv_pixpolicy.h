/* mv_pixpolicy.h - the `pixels` settings of a policy, compiled to C.
 *
 * Which detectors run and with what options, how regions are redacted,
 * what counts as PHI on the image (every line of text, or only text that
 * matches the object's identifying values), the words that may stay, the
 * confidence below which an object goes to review, and verification. The
 * `when`/`modalities` trigger stays in mv_policy. */
#ifndef MV_PIXPOLICY_H
#define MV_PIXPOLICY_H

#include <lua.h>
#include <stddef.h>

#define MV_PIX_MAX_DETECTORS 8

typedef enum mv_phi_mode {
  MV_PHI_AUTO = 0,    /* all_text for the all_text_modalities, else
                         identifiers */
  MV_PHI_ALL_TEXT,    /* redact every line except allow-listed words */
  MV_PHI_IDENTIFIERS  /* redact text matching the object's identifiers
                         and generic patterns (dates, digit runs, phones) */
} mv_phi_mode;

typedef struct mv_pixel_settings {
  size_t ndetect;
  char detect[MV_PIX_MAX_DETECTORS][32];    /* detector methods, in order */
  char *detect_options[MV_PIX_MAX_DETECTORS]; /* NULL or "k=v;k=v" */
  char redact[48];                          /* redactor method: "fill" */
  mv_phi_mode phi;
  size_t nall_text;
  char (*all_text_modalities)[17];
  size_t nallow;
  char **allow;        /* allow-list tokens (see mv_textphi.h) */
  double review_below; /* 0..1 */
  int uncertain_redact; /* identifiers mode: a word read badly is redacted
                           (1) or holds the object for review (0) */
  int margin;          /* pixels added around every redacted box */
  int verify;          /* OCR redacted areas and borders again */
  int complete_lines;  /* follow redacted lines with the text network
                          (models/textnet.txt, mv_textnet.h) */
} mv_pixel_settings;

/* Defaults (also what a policy without `pixels` gets). */
void mv_pixpolicy_defaults(mv_pixel_settings *s);
/* Read the field `key` (value at the top of L's stack) into s. Returns 0,
 * 1 when `key` is not a pixel-cleaning field, or -1 with a reason in err
 * (the caller adds file:line). */
int mv_pixpolicy_field(lua_State *L, const char *key, mv_pixel_settings *s,
                       char *err, size_t errlen);
void mv_pixpolicy_free(mv_pixel_settings *s);
/* The PHI mode for an object of this modality. */
mv_phi_mode mv_pixpolicy_mode(const mv_pixel_settings *s,
                              const char *modality);

#endif
