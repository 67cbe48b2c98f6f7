/* mv_clock.h - times as records write them. */
#ifndef MV_CLOCK_H
#define MV_CLOCK_H

/* UTC ISO 8601 to the second, "2026-11-25T06:47:33Z", of a Unix time
 * (seconds; the fraction is dropped). */
void mv_iso_utc(double unix_seconds, char out[32]);

#endif
