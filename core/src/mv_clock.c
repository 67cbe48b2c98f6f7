/* mv_clock.c - times as records write them. */
#include "mv_clock.h"

#include <time.h>

void mv_iso_utc(double unix_seconds, char out[32]) {
  time_t s = (time_t)unix_seconds;
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
