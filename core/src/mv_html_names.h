/* mv_html_names.h - keywords for the tags the HTML report lists.
 *
 * The core has no DICOM dictionary of its own (the format plugin keeps
 * DCMTK's, keyword to tag only). The names come from the de-identification
 * table the policies use (scripts/ps315.lua: every attribute the profiles
 * act on) and a short built-in list of common attributes they keep. A tag
 * with no name is shown by number alone. */
#ifndef MV_HTML_NAMES_H
#define MV_HTML_NAMES_H

#include <stdint.h>

typedef struct mv_html_names mv_html_names;

/* Load the names; `scripts_dir` may be NULL or lack ps315.lua (built-in
 * names only). NULL only when out of memory. */
mv_html_names *mv_html_names_load(const char *scripts_dir);
/* The keyword of tag, or NULL. */
const char *mv_html_names_get(const mv_html_names *n, uint32_t tag);
void mv_html_names_free(mv_html_names *n);

#endif
