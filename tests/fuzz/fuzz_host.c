/* fuzz_host.c - host, invariants and scratch directory of the C fuzz
 * targets (see fuzz_host.h). */
#include "fuzz_host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fuzz_verbose;
static const char *target_name = "fuzz";
static char scratch[96];

static void host_log(int level, const char *who, const char *fmt, ...) {
  if (!fuzz_verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "[%d] %s: ", level, who);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

const mv_host fuzz_host = {MV_PLUGIN_ABI, sizeof(mv_host), host_log, malloc,
                           free};

void fuzz_die(const char *what, const char *detail) {
  fprintf(stderr, "%s: INVARIANT: %s%s%s\n", target_name, what,
          detail ? ": " : "", detail ? detail : "");
  abort();
}

void fuzz_check_err(const char *err, size_t cap) {
  if (!memchr(err, 0, cap)) fuzz_die("error text without a terminator", NULL);
}

/* Remove a scratch directory and the files in it (the targets write no
 * subdirectories). */
static void remove_dir(const char *path) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(p, sizeof p, "%s/%s", path, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(path);
}

static void remove_scratch(void) {
  if (scratch[0]) remove_dir(scratch);
}

/* The directories <base>/<prefix><pid> of processes that are gone. */
static void sweep_stale(const char *base, const char *prefix) {
  DIR *d = opendir(base);
  if (!d) return;
  size_t pl = strlen(prefix);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, prefix, pl) != 0) continue;
    char *end;
    long pid = strtol(e->d_name + pl, &end, 10);
    if (pid <= 0 || *end || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, e->d_name);
    remove_dir(p);
  }
  closedir(d);
}

void fuzz_setup(const char *target, const char *tag) {
  target_name = target;
  fuzz_verbose = getenv("MV_FUZZ_VERBOSE") != NULL;
  const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  char prefix[64];
  snprintf(prefix, sizeof prefix, "mv-fuzz-%s-", tag);
  sweep_stale(base, prefix);
  snprintf(scratch, sizeof scratch, "%s/%s%ld", base, prefix, (long)getpid());
  if (mkdir(scratch, 0700) != 0 && errno != EEXIST)
    fuzz_die("cannot make the scratch directory", scratch);
  atexit(remove_scratch);
}

void fuzz_path(char *out, size_t cap, const char *name) {
  if ((size_t)snprintf(out, cap, "%s/%s", scratch, name) >= cap)
    fuzz_die("scratch path too long", name);
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fuzz_die("cannot write the input", path);
  size_t off = 0;
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0) {
      close(fd);
      fuzz_die("cannot write the input", path);
    }
    off += (size_t)w;
  }
  close(fd);
}
