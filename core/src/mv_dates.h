/* mv_dates.h - DICOM date, datetime and age arithmetic (pure functions).
 *
 * Values are DICOM strings: DA "YYYYMMDD", DT "YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]",
 * AS "nnnD|W|M|Y". Multi-valued strings (backslash-separated) and DA/DT ranges
 * ("A-B", "-B", "A-") are handled value by value. Non-conforming dates that
 * old files carry ("1993.04.30", "1993/04/30", "1993-04-30") are read too and
 * written back in the conforming form. */
#ifndef MV_DATES_H
#define MV_DATES_H

#include <stddef.h>

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
long mv_days_from_civil(int y, int m, int d);
void mv_civil_from_days(long z, int *y, int *m, int *d);

/* Shift every date in `in` (VR "DA" or "DT") by `days`, writing a
 * NUL-terminated result into out. Returns 0, or -1 when some value cannot be
 * parsed (the caller then empties the attribute: fail closed) or out is too
 * small. A DT keeps its precision, time and offset; only the calendar date moves. */
int mv_date_shift(const char *vr, const char *in, size_t len, long days,
                  char *out, size_t outlen);

/* Reduce every date to its year: DA -> "YYYY0101", DT -> "YYYY". Same
 * return convention as mv_date_shift. */
int mv_date_year(const char *vr, const char *in, size_t len, char *out,
                 size_t outlen);

/* 1 when every value of `in` (VR "DA" or "DT", same syntax as above,
 * including ranges and old spellings) parses, else 0. Empty input is valid. */
int mv_date_valid(const char *vr, const char *in, size_t len);

/* Parse an AS value into years (fractional for D/W/M). Returns 0 or -1. */
int mv_age_years(const char *in, size_t len, double *years);

/* Cap an AS value: ages above `cap` years become the string for cap+1 years
 * ("090Y" for cap 89); others are copied. Returns 0, or -1 when unparseable. */
int mv_age_cap(const char *in, size_t len, int cap, char *out, size_t outlen);

/* Whole years between a DA birth date and a DA reference date (age at that
 * date). Returns 0 with *years set, or -1 when either cannot be parsed. */
int mv_age_between(const char *birth, size_t blen, const char *ref,
                   size_t rlen, int *years);

#endif
