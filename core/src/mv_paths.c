/* mv_paths.c - locate plugins and data from the environment, the install
 * prefix or the build tree. */
#include "mv_paths.h"

#include <errno.h>
#include <pwd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void exe_dir(char *out, size_t n) {
  char buf[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (len <= 0) {
    snprintf(out, n, ".");
    return;
  }
  buf[len] = 0;
  char *slash = strrchr(buf, '/');
  if (slash) *slash = 0;
  snprintf(out, n, "%s", buf);
}

/* The first candidate that is a directory wins. */
static int pick(char *dst, size_t n, const char *const *cands, size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (cands[i] && *cands[i] && is_dir(cands[i])) {
      snprintf(dst, n, "%s", cands[i]);
      return 0;
    }
  }
  return -1;
}

int mv_paths_find(mv_paths *p, char *err, size_t errlen) {
  char exe[PATH_MAX];
  exe_dir(exe, sizeof exe);
  char inst_plugins[PATH_MAX + 64], build_plugins[PATH_MAX + 16];
  snprintf(inst_plugins, sizeof inst_plugins, "%s/../%s", exe,
           MV_INSTALL_PLUGIN_REL);
  snprintf(build_plugins, sizeof build_plugins, "%s/plugins", exe);
  const char *env_plugins = getenv("MEDVEIL_PLUGIN_DIR");
  if (env_plugins && *env_plugins) {
    if (!is_dir(env_plugins)) {
      snprintf(err, errlen, "MEDVEIL_PLUGIN_DIR=%s is not a folder",
               env_plugins);
      return -1;
    }
    snprintf(p->plugins, sizeof p->plugins, "%s", env_plugins);
  } else if (pick(p->plugins, sizeof p->plugins,
                  (const char *const[]){build_plugins, inst_plugins}, 2) != 0) {
    snprintf(err, errlen, "no plugin directory found (looked in %s and %s)",
             build_plugins, inst_plugins);
    return -1;
  }
  const char *env_data = getenv("MEDVEIL_DATA_DIR");
  char inst_data[PATH_MAX + 64];
  snprintf(inst_data, sizeof inst_data, "%s/../%s", exe, MV_INSTALL_DATA_REL);
  /* A build tree's executable sits beside CMakeCache.txt: prefer the
   * source tree it was built from over any installed copy. */
  char cache[PATH_MAX + 32];
  snprintf(cache, sizeof cache, "%s/CMakeCache.txt", exe);
  int in_build_tree = access(cache, F_OK) == 0;
  const char *data_cands[3];
  size_t nd = 0;
  if (env_data) data_cands[nd++] = env_data;
  if (in_build_tree) data_cands[nd++] = MV_SOURCE_DIR;
  data_cands[nd++] = inst_data;
  if (!in_build_tree) data_cands[nd++] = MV_SOURCE_DIR;
  char base[PATH_MAX];
  base[0] = 0;
  for (size_t i = 0; i < nd && !base[0]; i++) {
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/scripts/medveil.lua", data_cands[i]);
    if (access(probe, R_OK) == 0) snprintf(base, sizeof base, "%s", data_cands[i]);
  }
  if (!base[0]) {
    snprintf(err, errlen,
             "no medveil data directory (scripts/medveil.lua) found; set "
             "MEDVEIL_DATA_DIR");
    return -1;
  }
  snprintf(p->rules, sizeof p->rules, "%s/rules", base);
  snprintf(p->scripts, sizeof p->scripts, "%s/scripts", base);
  snprintf(p->models, sizeof p->models, "%s/models", base);
  return 0;
}

int mv_data_path(const char *name, char *out, size_t n) {
  const char *xdg = getenv("XDG_DATA_HOME");
  int w;
  /* The XDG spec: a relative value is invalid and ignored. */
  if (xdg && xdg[0] == '/') {
    w = snprintf(out, n, "%s/medveil/%s", xdg, name);
  } else {
    const char *home = getenv("HOME");
    if (!home || home[0] != '/') {
      struct passwd *pw = getpwuid(geteuid());
      home = pw ? pw->pw_dir : NULL;
    }
    if (!home || home[0] != '/') {
      errno = ENOENT;
      return -1;
    }
    w = snprintf(out, n, "%s/.local/share/medveil/%s", home, name);
  }
  if (w < 0 || (size_t)w >= n) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}
