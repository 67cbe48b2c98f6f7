/* mv_paths.h - where medveil finds its plugins, rules and scripts.
 *
 * Plugins: $MEDVEIL_PLUGIN_DIR (which must exist when set), else plugins/
 * beside the executable (a build tree), else <prefix>/lib/medveil/plugins.
 * Data (rules/, scripts/, models/): $MEDVEIL_DATA_DIR, else the source tree
 * of a build tree, else <prefix>/share/medveil. */
#ifndef MV_PATHS_H
#define MV_PATHS_H

#include <stddef.h>

typedef struct mv_paths {
  char plugins[4096]; /* directory of *.so */
  char rules[4096];   /* bundled profiles */
  char scripts[4096]; /* the Lua library */
  char models[4096];
} mv_paths;

/* Fill `p`; returns 0, or -1 with a reason when a directory is missing. */
int mv_paths_find(mv_paths *p, char *err, size_t errlen);

/* Where a user's records live: $XDG_DATA_HOME/medveil/<name> (XDG default
 * ~/.local/share). 0, or -1 with errno when there is no home. */
int mv_data_path(const char *name, char *out, size_t n);

#endif
