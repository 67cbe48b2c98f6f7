/* mv_log.c - serialised, levelled logging to stderr. */
#include "mv_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static int log_level = MV_LOG_WARN;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void mv_log_set_level(int level) { log_level = level; }
int mv_log_get_level(void) { return log_level; }

void mv_log(int level, const char *who, const char *fmt, ...) {
  static const char *names[] = {"error", "warning", "info", "debug"};
  if (level > log_level) return;
  if (level < 0) level = 0;
  if (level > 3) level = 3;
  va_list ap;
  va_start(ap, fmt);
  /* One lock so lines from worker threads never interleave. */
  pthread_mutex_lock(&log_lock);
  fprintf(stderr, "medveil: %s: %s: ", names[level], who ? who : "core");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  pthread_mutex_unlock(&log_lock);
  va_end(ap);
}
