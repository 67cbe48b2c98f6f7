/* run_archive.h - `medveil run --out NAME.zip|NAME.tar.gz|NAME.tgz`.
 *
 * The batch writes into a hidden staging folder beside the archive
 * (".NAME.medveil-stage-PID"); the `archive` run part packs it into
 * ".NAME.medveil-part-PID" after the report, renames that over NAME and
 * removes the staging folder. The report's outputs are the paths inside. */
#ifndef MV_RUN_ARCHIVE_H
#define MV_RUN_ARCHIVE_H

#include <stddef.h>

/* When out_abs names an archive: remember it, check that the report, the
 * review folder and the inputs do not collide with it, and replace out_abs
 * with the staging folder. Returns 0 (also when out_abs is a folder), or
 * -1 after printing why. */
int mv_run_archive_stage(char *out_abs, size_t n, const char *report_abs,
                         const char *review_abs, char *const *inputs,
                         int ninputs);

#endif
