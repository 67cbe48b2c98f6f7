/* run_archive.c - the `archive` run part: pack the staged output tree into
 * one .zip or .tar.gz, complete or not at all. See run_archive.h. */
#include "run_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mv_fsutil.h"
#include "run_part.h"

/* One run per process: the target is process state, set before the parts
 * begin. */
static struct {
  int on;
  int tgz;
  char target[4096]; /* the archive to create */
  char stage[4096];  /* the folder the batch writes into */
} g;

static int has_suffix(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a > b && strcasecmp(s + a - b, suf) == 0;
}

int mv_run_archive_stage(char *out_abs, size_t n, const char *report_abs,
                         const char *review_abs, char *const *inputs,
                         int ninputs) {
  int zip = has_suffix(out_abs, ".zip");
  int tgz = has_suffix(out_abs, ".tar.gz") || has_suffix(out_abs, ".tgz");
  if (!zip && !tgz) return 0;
  struct stat st;
  if (stat(out_abs, &st) == 0 && S_ISDIR(st.st_mode)) {
    mv_cli_error("%s: is a folder; an archive output needs a file name",
                 out_abs);
    return -1;
  }
  if (strcmp(report_abs, out_abs) == 0 || strcmp(review_abs, out_abs) == 0) {
    mv_cli_error("%s: the report and the review folder must not be the "
                 "output archive", out_abs);
    return -1;
  }
  for (int i = 0; i < ninputs; i++) {
    char in_abs[4096];
    if (mv_abspath(inputs[i], in_abs, sizeof in_abs) == 0 &&
        mv_path_within(out_abs, in_abs)) {
      mv_cli_error("%s: the output archive would be inside an input",
                   inputs[i]);
      return -1;
    }
  }
  const char *slash = strrchr(out_abs, '/');
  int dlen = slash ? (int)(slash - out_abs) : 0;
  const char *base = slash ? slash + 1 : out_abs;
  g.on = 1;
  g.tgz = tgz;
  snprintf(g.target, sizeof g.target, "%s", out_abs);
  int w = snprintf(g.stage, sizeof g.stage, "%.*s/.%s.medveil-stage-%ld",
                   dlen, out_abs, base, (long)getpid());
  if (w < 0 || (size_t)w >= sizeof g.stage || (size_t)w >= n) {
    mv_cli_error("%s: path too long", out_abs);
    return -1;
  }
  snprintf(out_abs, n, "%s", g.stage);
  return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static void remove_tree(const char *dir) {
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_file(struct archive *a, const char *abs, const char *rel,
                    const struct stat *st, char *err, size_t errlen) {
  int fd = open(abs, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "%s: %s", abs, strerror(errno));
    return -1;
  }
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, rel);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, st->st_size);
  archive_entry_set_mtime(e, st->st_mtime, 0);
  int rc = archive_write_header(a, e) == ARCHIVE_OK ? 0 : -1;
  char buf[65536];
  for (ssize_t got; rc == 0 && (got = read(fd, buf, sizeof buf)) != 0;) {
    if (got < 0) {
      if (errno == EINTR) continue;
      rc = -1;
      break;
    }
    if (archive_write_data(a, buf, (size_t)got) != got) rc = -1;
  }
  if (rc != 0)
    snprintf(err, errlen, "%s: %s", rel,
             archive_error_string(a) ? archive_error_string(a)
                                     : strerror(errno));
  archive_entry_free(e);
  close(fd);
  return rc;
}

/* Add the folder `abs` (shown inside the archive as `rel`, "" at the top)
 * in name order, so the same tree gives the same member list. */
static int add_tree(struct archive *a, const char *abs, const char *rel,
                    char *err, size_t errlen) {
  DIR *d = opendir(abs);
  if (!d) {
    snprintf(err, errlen, "%s: %s", abs, strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t cnt = 0, cap = 0;
  int rc = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (!rel[0] && strcmp(e->d_name, ".medveil-tmp") == 0) continue;
    if (cnt == cap) {
      cap = cap ? cap * 2 : 32;
      char **grown = realloc(names, cap * sizeof *names);
      if (!grown) { rc = -1; break; }
      names = grown;
    }
    if (!(names[cnt] = strdup(e->d_name))) { rc = -1; break; }
    cnt++;
  }
  closedir(d);
  if (rc != 0) snprintf(err, errlen, "out of memory");
  if (cnt) qsort(names, cnt, sizeof *names, name_cmp);
  for (size_t i = 0; i < cnt; i++) {
    char cabs[8192], crel[4096];
    snprintf(cabs, sizeof cabs, "%s/%s", abs, names[i]);
    snprintf(crel, sizeof crel, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
    struct stat st;
    if (rc == 0 && lstat(cabs, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, crel);
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        archive_entry_set_mtime(e, st.st_mtime, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK) {
          snprintf(err, errlen, "%s: %s", crel, archive_error_string(a));
          rc = -1;
        }
        archive_entry_free(e);
        if (rc == 0) rc = add_tree(a, cabs, crel, err, errlen);
      } else if (S_ISREG(st.st_mode)) {
        rc = add_file(a, cabs, crel, &st, err, errlen);
      }
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

static int pack(char *err, size_t errlen) {
  char part[4200];
  const char *slash = strrchr(g.target, '/');
  snprintf(part, sizeof part, "%.*s/.%s.medveil-part-%ld",
           (int)(slash - g.target), g.target, slash + 1, (long)getpid());
  struct archive *a = archive_write_new();
  if (!a) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = 0;
  if (g.tgz)
    rc = archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
         archive_write_add_filter_gzip(a) != ARCHIVE_OK;
  else
    rc = archive_write_set_format_zip(a) != ARCHIVE_OK;
  if (rc || archive_write_open_filename(a, part) != ARCHIVE_OK) {
    snprintf(err, errlen, "%s: cannot create: %s", g.target,
             archive_error_string(a) ? archive_error_string(a) : "error");
    archive_write_free(a);
    unlink(part);
    return -1;
  }
  char why[1024] = "";
  rc = add_tree(a, g.stage, "", why, sizeof why);
  if (archive_write_close(a) != ARCHIVE_OK && rc == 0) {
    snprintf(why, sizeof why, "%s", archive_error_string(a));
    rc = -1;
  }
  archive_write_free(a);
  if (rc == 0 && rename(part, g.target) != 0) {
    snprintf(why, sizeof why, "cannot rename into place: %s",
             strerror(errno));
    rc = -1;
  }
  if (rc != 0) {
    unlink(part);
    snprintf(err, errlen, "%s: cannot write the output archive (%s); the "
             "de-identified tree is kept in %s", g.target, why, g.stage);
    return -1;
  }
  return 0;
}

static int archive_end(void *state, mv_run_ctx *ctx, const mv_summary *sum,
                       char *err, size_t errlen) {
  (void)state, (void)ctx;
  if (!g.on) return 0;
  g.on = 0;
  if (!sum) { /* the batch never ran: nothing to keep */
    remove_tree(g.stage);
    return 0;
  }
  if (pack(err, errlen) != 0) return -1;
  remove_tree(g.stage);
  return 0;
}

/* Listed last in run_parts[]: the other parts' end() may still read the
 * staged outputs. */
const mv_run_part mv_run_part_archive = {
    .name = "archive",
    .end = archive_end,
};
