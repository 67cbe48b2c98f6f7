/* minimal_format.c - the smallest complete medveil format plugin.
 *
 * It reads a toy text format, "MVTXT1" on the first line and then one
 * "NAME=value" per line, so a plugin author can see every operation of
 * the ABI in one page. Build:
 *
 *   cc -shared -fPIC -fvisibility=hidden -I core/include \
 *      examples/plugin-minimal/minimal_format.c -o minimal_format.so
 *
 * and drop the .so (mode 0644 or stricter) into the plugin directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medveil/plugin.h"

#define MAX_LINES 256

struct mv_doc {
  int n;
  char *name[MAX_LINES];
  char *value[MAX_LINES];
};

static const mv_host *host;

static int mini_init(const mv_host *h, const char *config, void **state,
                     char *err, size_t errlen) {
  (void)config; (void)err; (void)errlen;
  host = h;
  *state = NULL;
  return MV_OK;
}

static void mini_fini(void *state) { (void)state; }

static int mini_probe(void *state, const uint8_t *head, size_t n) {
  (void)state;
  return n >= 7 && memcmp(head, "MVTXT1\n", 7) == 0 ? 100 : 0;
}

static void mini_close(mv_doc *d) {
  if (!d) return;
  for (int i = 0; i < d->n; i++) {
    free(d->name[i]);
    free(d->value[i]);
  }
  free(d);
}

static int mini_open(void *state, const char *path, mv_doc **out, char *err,
                     size_t errlen) {
  (void)state;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "cannot open");
    return MV_EIO;
  }
  mv_doc *d = calloc(1, sizeof *d);
  char line[4096];
  if (!d || !fgets(line, sizeof line, f) || strcmp(line, "MVTXT1\n") != 0) {
    snprintf(err, errlen, "not an MVTXT1 file");
    fclose(f);
    free(d);
    return MV_EFORMAT;
  }
  while (fgets(line, sizeof line, f)) {
    char *eq = strchr(line, '=');
    if (!eq || d->n == MAX_LINES) {
      snprintf(err, errlen, eq ? "too many lines" : "line without '='");
      fclose(f);
      mini_close(d);
      return eq ? MV_ELIMIT : MV_EFORMAT;
    }
    *eq = 0;
    eq[1 + strcspn(eq + 1, "\n")] = 0;
    d->name[d->n] = strdup(line);
    d->value[d->n] = strdup(eq + 1);
    d->n++;
  }
  fclose(f);
  *out = d;
  return MV_OK;
}

static int find(mv_doc *d, const char *key) {
  for (int i = 0; i < d->n; i++)
    if (strcmp(d->name[i], key) == 0) return i;
  return -1;
}

static int mini_visit(mv_doc *d, mv_visit_fn fn, void *ud) {
  for (int i = 0; i < d->n; i++) {
    mv_attr a = {.vr = "", .name = d->name[i], .value = d->value[i],
                 .len = strlen(d->value[i])};
    int r = fn(ud, &a, &d->value[i]); /* the handle: the value slot */
    if (r == MV_VISIT_ABORT) return MV_EREJECT;
    if (r == MV_VISIT_REMOVE) {
      free(d->name[i]);
      free(d->value[i]);
      memmove(&d->name[i], &d->name[i + 1], (size_t)(d->n - i - 1) * sizeof(char *));
      memmove(&d->value[i], &d->value[i + 1], (size_t)(d->n - i - 1) * sizeof(char *));
      d->n--;
      i--;
    } else if (r == MV_VISIT_EMPTY) {
      d->value[i][0] = 0;
    }
  }
  return MV_OK;
}

static int mini_set_value(mv_doc *d, void *handle, const char *v, size_t len) {
  (void)d;
  char **slot = handle, *copy = malloc(len + 1);
  if (!copy) return MV_ENOMEM;
  memcpy(copy, v, len);
  copy[len] = 0;
  free(*slot);
  *slot = copy;
  return MV_OK;
}

static int mini_get(mv_doc *d, const char *key, const char **v, size_t *len) {
  int i = find(d, key);
  if (i < 0) return MV_ENOTFOUND;
  *v = d->value[i];
  *len = strlen(d->value[i]);
  return MV_OK;
}

static int mini_set(mv_doc *d, const char *key, const char *vr,
                    const char *v, size_t len) {
  (void)vr;
  if (strchr(key, '=') || strchr(key, '\n') || memchr(v, '\n', len))
    return MV_EINVAL;
  int i = find(d, key);
  if (i < 0) {
    if (d->n == MAX_LINES) return MV_ELIMIT;
    i = d->n++;
    d->name[i] = strdup(key);
    d->value[i] = strdup("");
  }
  return mini_set_value(d, &d->value[i], v, len);
}

static int mini_remove(mv_doc *d, const char *key) {
  int i = find(d, key);
  if (i < 0) return MV_ENOTFOUND;
  free(d->name[i]);
  free(d->value[i]);
  d->name[i] = d->name[d->n - 1];
  d->value[i] = d->value[d->n - 1];
  d->n--;
  return MV_OK;
}

static int mini_resolve(void *state, const char *key, uint32_t *tag,
                        char vr[4]) {
  (void)state; (void)key; (void)tag; (void)vr;
  return MV_ENOTFOUND; /* no dictionary: names are free-form */
}

static int mini_write(mv_doc *d, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, errlen, "cannot create output");
    return MV_EIO;
  }
  fputs("MVTXT1\n", f);
  for (int i = 0; i < d->n; i++) fprintf(f, "%s=%s\n", d->name[i], d->value[i]);
  return fclose(f) == 0 ? MV_OK : MV_EIO;
}

static const mv_format_ops ops = {
    .size = sizeof(mv_format_ops), .probe = mini_probe, .open = mini_open,
    .close = mini_close, .visit = mini_visit, .set_value = mini_set_value,
    .get = mini_get, .set = mini_set, .remove = mini_remove,
    .resolve = mini_resolve, .write = mini_write, .extension = "txt"};

static const mv_plugin plugin = {
    .abi = MV_PLUGIN_ABI, .size = sizeof(mv_plugin), .name = "format-minimal",
    .version = "1.0.0", .kinds = MV_KIND_FORMAT, .init = mini_init,
    .fini = mini_fini, .format = &ops};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &plugin; }
