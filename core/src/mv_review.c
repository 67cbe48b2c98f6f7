/* mv_review.c - the review queue (see mv_review.h). */
#include "mv_review.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "medveil/errors.h"
#include "mv_fsutil.h"
#include "mv_json.h"

static void item_id(const char *rel, char *id, size_t n) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, (const unsigned char *)rel, strlen(rel));
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  snprintf(id, n, "%.16s", hex);
}

static int valid_id(const char *id) {
  if (strlen(id) != 16) return 0;
  for (const char *p = id; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  return 1;
}

static int remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT ? 0 : -1;
  struct dirent *e;
  char path[4400];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path); /* items hold plain files only */
  }
  closedir(d);
  return rmdir(dir);
}

int mv_review_hold(const char *dir, const mv_review_item *it, char *id,
                   size_t idlen, char *err, size_t errlen) {
  /* The output path and the content: a re-run of the same object finds its
   * item again, and two objects wanting one output path (a duplicate SOP
   * Instance UID) are two items, never one replacing the other. */
  char digest[17], key[1100];
  if (mv_file_digest_hex(it->object, digest, 16) != 0) {
    snprintf(err, errlen, "cannot read the object to hold: %s",
             strerror(errno));
    return MV_EIO;
  }
  snprintf(key, sizeof key, "%s\n%s", it->rel_out, digest);
  item_id(key, id, idlen);
  char item[4400], path[4600], tmp[4600];
  snprintf(item, sizeof item, "%s/%s", dir, id);
  remove_tree(item);
  if (mv_mkdirs(item) != 0) {
    snprintf(err, errlen, "cannot create review folder: %s", strerror(errno));
    return MV_EIO;
  }
  chmod(dir, 0700);
  snprintf(path, sizeof path, "%s/object.%s", item, it->ext);
  if (rename(it->object, path) != 0) {
    snprintf(err, errlen, "cannot move the object into review: %s",
             strerror(errno));
    remove_tree(item);
    return MV_EIO;
  }
  const mv_pixel_result *px = it->px;
  if (px && px->before.img.data && px->after.img.data) {
    snprintf(path, sizeof path, "%s/preview.png", item);
    if (mv_png_preview(path, &px->before.img, &px->after.img, px->marks,
                       px->nmarks, 1024) != MV_OK)
      unlink(path); /* the item stands without a preview */
  }
  snprintf(tmp, sizeof tmp, "%s/item.json.tmp", item);
  snprintf(path, sizeof path, "%s/item.json", item);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    snprintf(err, errlen, "cannot write review item: %s", strerror(errno));
    remove_tree(item);
    return MV_EIO;
  }
  fprintf(f, "{\"id\": \"%s\", \"output\": ", id);
  mv_json_string(f, it->rel_out);
  fputs(", \"object\": ", f);
  char obj[64];
  snprintf(obj, sizeof obj, "object.%s", it->ext);
  mv_json_string(f, obj);
  fputs(", \"reason\": ", f);
  mv_json_string(f, it->reason ? it->reason : "");
  fputs(", \"input\": ", f);
  mv_json_string(f, it->input ? it->input : "");
  fprintf(f, ", \"held_at\": %lld", (long long)time(NULL));
  if (px)
    fprintf(f,
            ", \"planes\": %u, \"boxes\": %u, \"redacted\": %u, "
            "\"uncertain\": %u, \"verify_hits\": %u",
            px->planes, px->boxes, px->redacted, px->uncertain,
            px->verify_hits);
  fputs("}\n", f);
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    snprintf(err, errlen, "cannot write review item: %s", strerror(errno));
    remove_tree(item);
    return MV_EIO;
  }
  return MV_OK;
}

/* Read a string field from an item.json we wrote (flat object, our own
 * escaping). Returns 0 when found. */
static int json_field(const char *text, const char *name, char *out,
                      size_t n) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\": \"", name);
  const char *p = strstr(text, key);
  if (!p) return -1;
  p += strlen(key);
  size_t k = 0;
  while (*p && *p != '"' && k + 1 < n) {
    if (*p == '\\' && p[1]) p++;
    out[k++] = *p++;
  }
  out[k] = 0;
  return 0;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = malloc(65536);
  size_t n = buf ? fread(buf, 1, 65535, f) : 0;
  fclose(f);
  if (buf) buf[n] = 0;
  return buf;
}

static int id_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int mv_review_list(const char *dir, FILE *out, int json, char *err,
                   size_t errlen) {
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) {
      if (json) fputs("[]\n", out);
      return 0;
    }
    snprintf(err, errlen, "%s: cannot open review folder: %s", dir,
             strerror(errno));
    return -1;
  }
  char **ids = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!valid_id(e->d_name)) continue;
    char **g = realloc(ids, (n + 1) * sizeof *g);
    if (!g) break;
    ids = g;
    ids[n++] = strdup(e->d_name);
  }
  closedir(d);
  if (n) qsort(ids, n, sizeof *ids, id_cmp);
  if (json) fputs("[", out);
  int listed = 0;
  for (size_t i = 0; i < n; i++) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s/item.json", dir, ids[i]);
    char *text = slurp(path);
    if (text) {
      if (json) {
        /* item.json is one line of JSON already. */
        size_t len = strlen(text);
        while (len && (text[len - 1] == '\n')) text[--len] = 0;
        fprintf(out, "%s\n  %s", listed ? "," : "", text);
      } else {
        char output[1024] = "", reason[512] = "";
        json_field(text, "output", output, sizeof output);
        json_field(text, "reason", reason, sizeof reason);
        fprintf(out, "%s  %s\n    %s\n", ids[i], output, reason);
      }
      listed++;
      free(text);
    }
    free(ids[i]);
  }
  free(ids);
  if (json) fputs(listed ? "\n]\n" : "]\n", out);
  return listed;
}

static void log_decision(const char *dir, const char *id, const char *what,
                         const char *output, const char *note) {
  char path[4400];
  snprintf(path, sizeof path, "%s/decisions.jsonl", dir);
  FILE *f = fopen(path, "a");
  if (!f) return;
  struct passwd *pw = getpwuid(getuid());
  fprintf(f, "{\"at\": %lld, \"user\": ", (long long)time(NULL));
  mv_json_string(f, pw && pw->pw_name ? pw->pw_name : "?");
  fprintf(f, ", \"id\": \"%s\", \"decision\": \"%s\", \"output\": ", id, what);
  mv_json_string(f, output);
  if (note) {
    fputs(", \"note\": ", f);
    mv_json_string(f, note);
  }
  fputs("}\n", f);
  fclose(f);
}

int mv_review_decide(const char *dir, const char *id, int approve,
                     const char *out_dir, const char *note, char *err,
                     size_t errlen) {
  if (!valid_id(id)) {
    snprintf(err, errlen, "'%s' is not a review item id (16 hex digits)", id);
    return MV_EINVAL;
  }
  char item[4400], path[4600];
  snprintf(item, sizeof item, "%s/%s", dir, id);
  snprintf(path, sizeof path, "%s/item.json", item);
  char *text = slurp(path);
  if (!text) {
    snprintf(err, errlen, "%s: no such review item", id);
    return MV_ENOTFOUND;
  }
  char output[1024] = "", object[64] = "";
  json_field(text, "output", output, sizeof output);
  json_field(text, "object", object, sizeof object);
  free(text);
  if (!output[0] || strstr(output, "..") || output[0] == '/' ||
      !object[0] || strchr(object, '/')) {
    snprintf(err, errlen, "%s: item.json is damaged", id);
    return MV_EFORMAT;
  }
  if (approve) {
    char dst[6000], dirpart[6000];
    snprintf(dst, sizeof dst, "%s/%s", out_dir, output);
    snprintf(dirpart, sizeof dirpart, "%s", dst);
    char *slash = strrchr(dirpart, '/');
    if (slash) *slash = 0;
    if (mv_mkdirs(dirpart) != 0) {
      snprintf(err, errlen, "cannot create output folder: %s",
               strerror(errno));
      return MV_EIO;
    }
    snprintf(path, sizeof path, "%s/%s", item, object);
    int placed = mv_place_file(path, dst);
    if (placed == 2) {
      snprintf(err, errlen,
               "%s: OUT already holds %s with different content; nothing "
               "moved",
               id, output);
      return MV_EEXIST;
    }
    if (placed < 0) {
      snprintf(err, errlen, "%s: cannot place the object: %s", id,
               strerror(errno));
      return MV_EIO;
    }
  }
  if (remove_tree(item) != 0) {
    snprintf(err, errlen, "%s: cannot remove the review item: %s", id,
             strerror(errno));
    return MV_EIO;
  }
  log_decision(dir, id, approve ? "approve" : "reject", output, note);
  return MV_OK;
}
