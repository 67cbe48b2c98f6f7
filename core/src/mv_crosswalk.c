/* mv_crosswalk.c - the crosswalk file: append sealed lines (runner, public
 * key only), read them back (lookup office, secret key). */
#include "mv_crosswalk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "medveil/errors.h"

struct mv_xwalk_writer {
  int fd;
  mv_xwalk_pub pub;
  char *path;
  unsigned long written;
};

/* A file that already holds records must hold them for this recipient:
 * mixing recipients in one file would hide records from each of them. */
static int check_existing(int fd, const char *path, const mv_xwalk_pub *pub,
                          char *err, size_t errlen) {
  char head[64];
  ssize_t n = pread(fd, head, sizeof head - 1, 0);
  if (n <= 0) return MV_OK; /* new or empty */
  head[n] = 0;
  size_t ml = strlen(MV_XWALK_MAGIC);
  if ((size_t)n < ml + 2 + MV_XWALK_FP_LEN || memcmp(head, MV_XWALK_MAGIC, ml) ||
      head[ml] != ' ') {
    snprintf(err, errlen, "%s: exists and is not a crosswalk file (refusing "
                          "to append)", path);
    return MV_EFORMAT;
  }
  if (memcmp(head + ml + 1, pub->fp, MV_XWALK_FP_LEN) != 0) {
    snprintf(err, errlen,
             "%s: holds records sealed for recipient %.*s; --recipient is %s "
             "(use another crosswalk file for another recipient)",
             path, MV_XWALK_FP_LEN, head + ml + 1, pub->fp);
    return MV_EKEY;
  }
  return MV_OK;
}

mv_xwalk_writer *mv_xwalk_writer_open(const char *path,
                                      const mv_xwalk_pub *pub, char *err,
                                      size_t errlen) {
  int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                0600);
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot open crosswalk: %s", path,
             strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    snprintf(err, errlen, "%s: crosswalk is not a regular file", path);
    return NULL;
  }
  if (check_existing(fd, path, pub, err, errlen) != MV_OK) {
    close(fd);
    return NULL;
  }
  mv_xwalk_writer *w = calloc(1, sizeof *w);
  if (!w || !(w->path = strdup(path))) {
    free(w);
    close(fd);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  w->fd = fd;
  w->pub = *pub;
  return w;
}

int mv_xwalk_append(mv_xwalk_writer *w,
                    const char *const fields[MV_XF__COUNT], char *err,
                    size_t errlen) {
  char *line;
  size_t len;
  int rc = mv_xwalk_seal(&w->pub, fields, &line, &len, err, errlen);
  if (rc != MV_OK) return rc;
  /* One write on O_APPEND: lines from workers and runs never interleave. */
  ssize_t n;
  do {
    n = write(w->fd, line, len);
  } while (n < 0 && errno == EINTR);
  free(line);
  if (n != (ssize_t)len) {
    int e = n < 0 ? errno : ENOSPC;
    /* End a torn line, so the records after it still read. */
    if (n > 0 && write(w->fd, "\n", 1) != 1) { /* nothing more to do */
    }
    snprintf(err, errlen, "%s: cannot append to crosswalk: %s", w->path,
             strerror(e));
    return MV_EIO;
  }
  w->written++;
  return MV_OK;
}

unsigned long mv_xwalk_written(const mv_xwalk_writer *w) {
  return w ? w->written : 0;
}

int mv_xwalk_writer_close(mv_xwalk_writer *w, char *err, size_t errlen) {
  if (!w) return MV_OK;
  int rc = MV_OK;
  if (fsync(w->fd) != 0) {
    snprintf(err, errlen, "%s: cannot sync crosswalk: %s", w->path,
             strerror(errno));
    rc = MV_EIO;
  }
  if (close(w->fd) != 0 && rc == MV_OK) {
    snprintf(err, errlen, "%s: cannot close crosswalk: %s", w->path,
             strerror(errno));
    rc = MV_EIO;
  }
  free(w->path);
  free(w);
  return rc;
}

/* Next line into buf (without '\n'). Returns its length, -1 at the end,
 * or -2 for a line longer than cap (skipped to its end). */
static long next_line(FILE *f, char *buf, size_t cap) {
  size_t n = 0;
  int c, overflow = 0;
  while ((c = getc_unlocked(f)) != EOF && c != '\n') {
    if (n + 1 < cap)
      buf[n++] = (char)c;
    else
      overflow = 1;
  }
  if (c == EOF && n == 0 && !overflow) return -1;
  buf[n] = 0;
  return overflow ? -2 : (long)n;
}

int mv_xwalk_read(const char *path, const mv_xwalk_secret *sec,
                  const mv_xwalk_visit *v, char *err, size_t errlen) {
  FILE *f = fopen(path, "re");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open crosswalk: %s", path,
             strerror(errno));
    return MV_EIO;
  }
  char *buf = malloc(MV_XWALK_MAX_LINE);
  if (!buf) {
    fclose(f);
    snprintf(err, errlen, "out of memory");
    return MV_ENOMEM;
  }
  int rc = MV_OK;
  unsigned long lineno = 0;
  for (long n; (n = next_line(f, buf, MV_XWALK_MAX_LINE)) != -1;) {
    lineno++;
    if (n == -2) {
      if (v->problem) v->problem(v->ud, lineno, MV_ELIMIT, NULL);
      continue;
    }
    size_t len = (size_t)n;
    while (len && (buf[len - 1] == '\r' || buf[len - 1] == ' ')) len--;
    if (len == 0) continue;
    char *fields[MV_XF__COUNT], other[MV_XWALK_FP_LEN + 1], why[256];
    int orc = mv_xwalk_open(sec, buf, len, fields, other, why, sizeof why);
    if (orc == MV_ENOMEM) {
      snprintf(err, errlen, "out of memory");
      rc = MV_ENOMEM;
      break;
    }
    if (orc != MV_OK) {
      if (v->problem) v->problem(v->ud, lineno, orc, other[0] ? other : NULL);
      continue;
    }
    int stop = v->record ? v->record(v->ud, lineno, fields) : 0;
    mv_xwalk_fields_free(fields);
    if (stop) {
      rc = MV_DONE;
      break;
    }
  }
  if (rc == MV_OK && ferror(f)) {
    snprintf(err, errlen, "%s: cannot read crosswalk: %s", path,
             strerror(errno));
    rc = MV_EIO;
  }
  free(buf);
  fclose(f);
  return rc;
}
