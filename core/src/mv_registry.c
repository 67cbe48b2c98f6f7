/* mv_registry.c - the plugin loader (dlopen) and registry. */
#include "mv_registry.h"

#include <dirent.h>
#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_log.h"

/* The smallest structs ABI 1 accepts: members appended later are optional
 * and used only when a plugin's `size` covers them, so comparing with
 * today's sizeof would refuse every older plugin. */
#define MV_END_OF(type, member) \
  (offsetof(type, member) + sizeof(((type *)0)->member))
#define MV_PLUGIN_SIZE_V1 MV_END_OF(mv_plugin, format)
#define MV_FORMAT_OPS_SIZE_V1 MV_END_OF(mv_format_ops, extension)
#define MV_FORMAT_OPS_SIZE_PIXELS MV_END_OF(mv_format_ops, drop_hidden_pixels)
#define MV_PLUGIN_SIZE_DETECTOR MV_END_OF(mv_plugin, detector)
#define MV_PLUGIN_SIZE_REDACTOR MV_END_OF(mv_plugin, redactor)
#define MV_DETECTOR_OPS_SIZE_V1 MV_END_OF(mv_detector_ops, detect)
#define MV_REDACTOR_OPS_SIZE_V1 MV_END_OF(mv_redactor_ops, redact)

struct mv_registry {
  mv_loaded *items;
  size_t n, cap;
  char models[4096]; /* the models folder, "" when not set */
};

static void host_log(int level, const char *who, const char *fmt, ...) {
  if (level > mv_log_get_level()) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mv_log(level, who, "%s", msg);
}

static const mv_host host = {
    .abi = MV_PLUGIN_ABI,
    .size = sizeof(mv_host),
    .log = host_log,
    .alloc = malloc,
    .free = free,
};

const mv_host *mv_registry_host(void) { return &host; }

mv_registry *mv_registry_new(void) { return calloc(1, sizeof(mv_registry)); }

void mv_registry_set_models(mv_registry *r, const char *dir) {
  snprintf(r->models, sizeof r->models, "%s", dir ? dir : "");
}

const char *mv_registry_models(const mv_registry *r) { return r->models; }

void mv_registry_free(mv_registry *r) {
  if (!r) return;
  for (size_t i = r->n; i-- > 0;) {
    mv_loaded *p = &r->items[i];
    if (p->desc->fini) p->desc->fini(p->state);
    dlclose(p->dl);
    free(p->path);
  }
  free(r->items);
  free(r);
}

/* A plugin runs with our privileges: whoever can replace the file (or
 * rename things in its directory) owns the process. */
static int check_permissions(const char *path, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "%s: cannot stat plugin", path);
    return MV_EIO;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: plugin is not a regular file", path);
    return MV_EPERM;
  }
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    snprintf(err, errlen,
             "%s: plugin file belongs to another user (uid %u); refusing to "
             "load it",
             path, (unsigned)st.st_uid);
    return MV_EPERM;
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    snprintf(err, errlen,
             "%s: plugin file is writable by other users (mode %03o); "
             "refusing to load it",
             path, (unsigned)(st.st_mode & 0777));
    return MV_EPERM;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) {
    if (slash == dir) slash[1] = 0;
    else *slash = 0;
  } else {
    snprintf(dir, sizeof dir, ".");
  }
  /* Even a sticky folder (/tmp) lets anyone add plugins to it. */
  if (stat(dir, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH))) {
    snprintf(err, errlen,
             "%s: plugin directory is writable by other users (mode %03o); "
             "refusing to load from it",
             path, (unsigned)(st.st_mode & 0777));
    return MV_EPERM;
  }
  return MV_OK;
}

static int check_descriptor(const mv_registry *r, const char *path,
                            const mv_plugin *d, char *err, size_t errlen) {
  if (!d) {
    snprintf(err, errlen, "%s: mv_plugin_entry returned no descriptor", path);
    return MV_EABI;
  }
  if (d->abi != MV_PLUGIN_ABI) {
    snprintf(err, errlen, "%s: plugin ABI %u, this medveil speaks ABI %u",
             path, d->abi, MV_PLUGIN_ABI);
    return MV_EABI;
  }
  if (d->size < MV_PLUGIN_SIZE_V1) {
    snprintf(err, errlen,
             "%s: plugin descriptor is %u bytes, ABI %u needs at least %zu",
             path, d->size, MV_PLUGIN_ABI, (size_t)MV_PLUGIN_SIZE_V1);
    return MV_EABI;
  }
  if (!d->name || !*d->name || !d->version) {
    snprintf(err, errlen, "%s: plugin has no name or version", path);
    return MV_EABI;
  }
  for (size_t i = 0; i < r->n; i++) {
    if (strcmp(r->items[i].desc->name, d->name) == 0) {
      snprintf(err, errlen, "%s: a plugin named '%s' is already loaded from %s",
               path, d->name, r->items[i].path);
      return MV_EINVAL;
    }
  }
  if (d->kinds & MV_KIND_FORMAT) {
    const mv_format_ops *f = d->format;
    if (!f || f->size < MV_FORMAT_OPS_SIZE_V1 || !f->probe || !f->open ||
        !f->close || !f->visit || !f->set_value || !f->get || !f->set ||
        !f->remove || !f->resolve || !f->write) {
      snprintf(err, errlen,
               "%s: format plugin '%s' lacks format operations required by "
               "ABI %u",
               path, d->name, MV_PLUGIN_ABI);
      return MV_EABI;
    }
  }
  if (d->kinds & MV_KIND_DETECTOR) {
    const mv_detector_ops *o =
        d->size >= MV_PLUGIN_SIZE_DETECTOR ? d->detector : NULL;
    if (!o || o->size < MV_DETECTOR_OPS_SIZE_V1 || !o->method || !*o->method ||
        !o->ctx_new || !o->ctx_free || !o->detect) {
      snprintf(err, errlen,
               "%s: detector plugin '%s' lacks detector operations", path,
               d->name);
      return MV_EABI;
    }
  }
  if (d->kinds & MV_KIND_REDACTOR) {
    const mv_redactor_ops *o =
        d->size >= MV_PLUGIN_SIZE_REDACTOR ? d->redactor : NULL;
    if (!o || o->size < MV_REDACTOR_OPS_SIZE_V1 || !o->methods ||
        !*o->methods || !o->redact) {
      snprintf(err, errlen,
               "%s: redactor plugin '%s' lacks redactor operations", path,
               d->name);
      return MV_EABI;
    }
  }
  return MV_OK;
}

int mv_registry_load(mv_registry *r, const char *path, const char *config,
                     char *err, size_t errlen) {
  int rc = check_permissions(path, err, errlen);
  if (rc) return rc;
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    snprintf(err, errlen, "%s: cannot load plugin: %s", path, dlerror());
    return MV_EPLUGIN;
  }
  mv_plugin_entry_fn entry;
  *(void **)(&entry) = dlsym(dl, MV_PLUGIN_ENTRY_SYMBOL);
  if (!entry) {
    snprintf(err, errlen, "%s: not a medveil plugin (no %s symbol)", path,
             MV_PLUGIN_ENTRY_SYMBOL);
    dlclose(dl);
    return MV_EABI;
  }
  const mv_plugin *d = entry();
  rc = check_descriptor(r, path, d, err, errlen);
  if (rc) {
    dlclose(dl);
    return rc;
  }
  void *state = NULL;
  if (d->init) {
    char why[512] = "";
    rc = d->init(&host, config, &state, why, sizeof why);
    if (rc != MV_OK) {
      snprintf(err, errlen, "%s: plugin '%s' failed to initialise: %s", path,
               d->name, why[0] ? why : mv_strerror(rc));
      dlclose(dl);
      return MV_EPLUGIN;
    }
  }
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    mv_loaded *items = realloc(r->items, cap * sizeof *items);
    if (!items) {
      if (d->fini) d->fini(state);
      dlclose(dl);
      snprintf(err, errlen, "out of memory");
      return MV_ENOMEM;
    }
    r->items = items;
    r->cap = cap;
  }
  r->items[r->n++] =
      (mv_loaded){.desc = d, .state = state, .dl = dl, .path = strdup(path)};
  mv_log(MV_LOG_DEBUG, "loader", "loaded plugin %s %s from %s", d->name,
         d->version, path);
  return MV_OK;
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int mv_registry_load_dir(mv_registry *r, const char *dir, const char *config,
                         int *loaded, char *err, size_t errlen) {
  *loaded = 0;
  if (errlen) err[0] = 0;
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(err, errlen, "%s: cannot open plugin directory", dir);
    return MV_EIO;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **grown = realloc(names, cap * sizeof *names);
      if (!grown) break;
      names = grown;
    }
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, name_cmp);
  int result = MV_OK;
  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    char path[4096], why[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    int rc = mv_registry_load(r, path, config, why, sizeof why);
    if (rc == MV_OK) {
      (*loaded)++;
    } else {
      if (result == MV_OK) result = rc;
      if (used < errlen) {
        int w = snprintf(err + used, errlen - used, "%s%s", used ? "; " : "",
                         why);
        if (w > 0) used += (size_t)w;
      }
    }
    free(names[i]);
  }
  free(names);
  return result;
}

size_t mv_registry_count(const mv_registry *r) { return r->n; }

const mv_loaded *mv_registry_at(const mv_registry *r, size_t i) {
  return i < r->n ? &r->items[i] : NULL;
}

const mv_loaded *mv_registry_find(const mv_registry *r, const char *name) {
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->items[i].desc->name, name) == 0) return &r->items[i];
  return NULL;
}

int mv_read_head(const char *path, uint8_t head[MV_HEAD_BYTES], size_t *n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t got = read(fd, head, MV_HEAD_BYTES);
  int e = errno;
  close(fd);
  if (got < 0) {
    errno = e;
    return -1;
  }
  *n = (size_t)got;
  return 0;
}

const mv_loaded *mv_registry_probe(const mv_registry *r, const uint8_t *head,
                                   size_t n) {
  const mv_loaded *best = NULL;
  int best_score = 0;
  for (size_t i = 0; i < r->n; i++) {
    const mv_loaded *p = &r->items[i];
    if (!(p->desc->kinds & MV_KIND_FORMAT)) continue;
    int score = p->desc->format->probe(p->state, head, n);
    if (score > best_score) {
      best_score = score;
      best = p;
    }
  }
  return best;
}

int mv_format_has_pixels(const mv_format_ops *f) {
  return f->size >= MV_FORMAT_OPS_SIZE_PIXELS && f->pixel_info &&
         f->acquire && f->release;
}

const mv_loaded *mv_registry_detector(const mv_registry *r,
                                      const char *method) {
  for (size_t i = 0; i < r->n; i++) {
    const mv_loaded *p = &r->items[i];
    if ((p->desc->kinds & MV_KIND_DETECTOR) &&
        strcmp(p->desc->detector->method, method) == 0)
      return p;
  }
  return NULL;
}

const mv_loaded *mv_registry_redactor(const mv_registry *r,
                                      const char *method) {
  size_t want = strcspn(method, ":"); /* "fill:0" -> "fill" */
  for (size_t i = 0; i < r->n; i++) {
    const mv_loaded *p = &r->items[i];
    if (!(p->desc->kinds & MV_KIND_REDACTOR)) continue;
    const char *m = p->desc->redactor->methods;
    while (*m) {
      size_t len = strcspn(m, ",");
      if (len == want && strncmp(m, method, len) == 0) return p;
      m += len;
      if (*m == ',') m++;
    }
  }
  return NULL;
}

const char *mv_format_doc_extension(const mv_format_ops *f, mv_doc *doc) {
  const char *ext = NULL;
  if (f->size >= MV_END_OF(mv_format_ops, doc_extension) && f->doc_extension)
    ext = f->doc_extension(doc);
  if (!ext) ext = f->extension;
  return ext ? ext : "out";
}

const mv_loaded *mv_registry_companion(const mv_registry *r, const char *path,
                                       char *note, size_t notelen) {
  for (size_t i = 0; i < r->n; i++) {
    const mv_loaded *p = &r->items[i];
    if (!(p->desc->kinds & MV_KIND_FORMAT)) continue;
    const mv_format_ops *f = p->desc->format;
    if (f->size < MV_END_OF(mv_format_ops, companion_of) || !f->companion_of)
      continue;
    if (notelen) note[0] = 0;
    if (f->companion_of(p->state, path, note, notelen) == MV_OK) return p;
  }
  return NULL;
}
