/* fuzz_host.h - what the fuzz targets share (DICOM, PNG, JPEG, NIfTI,
 * policy).
 *
 * The host a plugin is initialised with (it logs only under
 * MV_FUZZ_VERBOSE), the abort on a broken invariant, the check that an
 * error string is terminated, and a private scratch directory per process
 * for the files the plugins open by path. A crash skips atexit, so each
 * target sweeps the directories of dead processes of its own kind first. */
#ifndef FUZZ_HOST_H
#define FUZZ_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "medveil/plugin.h"

#ifdef __cplusplus
extern "C" {
#define FUZZ_NORETURN [[noreturn]]
#else
#define FUZZ_NORETURN _Noreturn
#endif

/* The host for plugin->init; valid after fuzz_setup. */
extern const mv_host fuzz_host;
/* Nonzero when MV_FUZZ_VERBOSE is set. */
extern int fuzz_verbose;

/* Name the target for messages ("fuzz_format_png"), read MV_FUZZ_VERBOSE,
 * and make the scratch directory <base>/mv-fuzz-<tag>-<pid> (base is
 * /dev/shm when writable, else /tmp), emptied and removed at exit, after
 * removing those of dead processes. */
void fuzz_setup(const char *target, const char *tag);
/* The path of `name` in the scratch directory, in out (cap bytes). */
void fuzz_path(char *out, size_t cap, const char *name);
/* Write data to path; aborts when it cannot (the harness, not the plugin,
 * failed). */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);
/* Abort with "<target>: INVARIANT: what: detail". */
FUZZ_NORETURN void fuzz_die(const char *what, const char *detail);
/* Abort unless err (cap bytes) holds a terminated string. */
void fuzz_check_err(const char *err, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
