/* mv_dates.c - DICOM DA/DT/AS arithmetic. Pure functions, no global state.
 *
 * Every parser is strict: anything it does not fully understand makes the
 * call fail, because callers then drop the value (fail closed) rather than
 * leak a date they could not shift. */
#include "mv_dates.h"

#include <stdio.h>
#include <string.h>

/* Howard Hinnant's days_from_civil / civil_from_days (public domain). */
long mv_days_from_civil(int y, int m, int d) {
  long yy = (long)y - (m <= 2);
  long era = (yy >= 0 ? yy : yy - 399) / 400;
  long yoe = yy - era * 400;                                   /* [0, 399] */
  long doy = (153L * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

void mv_civil_from_days(long z, int *y, int *m, int *d) {
  z += 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  long doe = z - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long mp = (5 * doy + 2) / 153;
  int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
  int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (mm <= 2));
  *m = mm;
  *d = dd;
}

/* Dates outside 0001..9999 cannot be written as DA, so they are errors. */
#define MIN_YEAR 1
#define MAX_YEAR 9999
/* Larger shifts can only leave the valid range; refusing them early also
 * keeps the day arithmetic far from overflow. */
#define MAX_SHIFT 4000000L

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int num(const char *s, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
  return v;
}

static int all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!is_digit(s[i])) return 0;
  return 1;
}

static int days_in_month(int y, int m) {
  static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return dim[m - 1];
}

static int valid_ymd(int y, int m, int d) {
  return y >= MIN_YEAR && y <= MAX_YEAR && m >= 1 && m <= 12 && d >= 1 &&
         d <= days_in_month(y, m);
}

/* Space and NUL are the DICOM padding characters. */
static int is_pad(char c) { return c == ' ' || c == '\0'; }

static void trim(const char **s, size_t *n) {
  while (*n && is_pad(**s)) (*s)++, (*n)--;
  while (*n && is_pad((*s)[*n - 1])) (*n)--;
}

/* One parsed DA or DT value. Missing month/day of a partial DT are 1. */
typedef struct {
  int y, m, d;
  int prec;         /* date digits kept on output: 4, 6 or 8 */
  const char *tail; /* DT time, fraction and offset, validated, copied as is */
  size_t tail_len;
} date_val;

/* The old ACR-NEMA spellings "YYYY.MM.DD", "YYYY/MM/DD", "YYYY-MM-DD". */
static int old_spelling(const char *s, size_t n) {
  return n >= 10 && (s[4] == '.' || s[4] == '/' || s[4] == '-') &&
         s[7] == s[4] && all_digits(s, 4) && all_digits(s + 5, 2) &&
         all_digits(s + 8, 2);
}

/* Time "HH[MM[SS[.F{1,6}]]]" followed by an optional "&ZZXX" offset, which
 * must together fill s[0..n). */
static int valid_dt_tail(const char *s, size_t n) {
  size_t k = 0;
  while (k < n && is_digit(s[k])) k++;
  if (k % 2 || k > 6) return 0;
  if (k >= 2 && num(s, 2) > 23) return 0;
  if (k >= 4 && num(s + 2, 2) > 59) return 0;
  if (k >= 6 && num(s + 4, 2) > 60) return 0; /* 60: leap second */
  if (k < n && s[k] == '.') {
    if (k != 6) return 0; /* a fraction needs full seconds */
    size_t f = ++k;
    while (k < n && is_digit(s[k])) k++;
    if (k == f || k - f > 6) return 0;
  }
  if (k == n) return 1;
  if ((s[k] != '+' && s[k] != '-') || n - k != 5 || !all_digits(s + k + 1, 4))
    return 0;
  int hh = num(s + k + 1, 2), mm = num(s + k + 3, 2);
  if (mm > 59) return 0;
  return s[k] == '-' ? hh * 60 + mm <= 12 * 60 : hh * 60 + mm <= 14 * 60;
}

/* Parse one (trimmed, non-empty) value. */
static int parse_value(int dt, const char *s, size_t n, date_val *v) {
  size_t used;
  memset(v, 0, sizeof *v);
  v->m = v->d = 1;
  if (old_spelling(s, n)) {
    v->y = num(s, 4);
    v->m = num(s + 5, 2);
    v->d = num(s + 8, 2);
    v->prec = 8;
    used = 10;
  } else if (!dt) {
    if (n != 8 || !all_digits(s, 8)) return -1;
    v->y = num(s, 4);
    v->m = num(s + 4, 2);
    v->d = num(s + 6, 2);
    v->prec = 8;
    used = 8;
  } else {
    size_t k = 0;
    while (k < n && is_digit(s[k])) k++;
    /* Date precision is what the digits allow; the rest is the time. */
    used = k >= 8 ? 8 : k;
    if (used != 4 && used != 6 && used != 8) return -1;
    v->y = num(s, 4);
    if (used >= 6) v->m = num(s + 4, 2);
    if (used == 8) v->d = num(s + 6, 2);
    v->prec = (int)used;
  }
  if (!valid_ymd(v->y, v->m, v->d)) return -1;
  if (!dt) return used == n ? 0 : -1;
  /* A time may only follow a full date. */
  if (used < n && v->prec != 8 && s[used] != '+' && s[used] != '-') return -1;
  if (!valid_dt_tail(s + used, n - used)) return -1;
  v->tail = s + used;
  v->tail_len = n - used;
  return 0;
}

/* Bounded output; with cap == 0 it only checks (used by mv_date_valid). */
typedef struct {
  char *p;
  size_t cap, n;
  int full;
} writer;

static void put(writer *w, const char *s, size_t n) {
  if (!n) return;
  if (w->cap && !w->full) {
    if (w->n + n + 1 > w->cap) {
      w->full = 1;
      return;
    }
    memcpy(w->p + w->n, s, n);
    w->p[w->n + n] = 0;
  }
  w->n += n;
}

enum mode { SHIFT, YEAR, CHECK };

static int emit_value(int dt, const date_val *v0, long days, enum mode mode,
                      writer *w) {
  date_val v = *v0;
  char buf[16];
  if (mode == SHIFT) {
    mv_civil_from_days(mv_days_from_civil(v.y, v.m, v.d) + days, &v.y, &v.m,
                       &v.d);
    if (v.y < MIN_YEAR || v.y > MAX_YEAR) return -1;
  }
  if (mode == YEAR) {
    snprintf(buf, sizeof buf, dt ? "%04d" : "%04d0101", v.y);
    put(w, buf, strlen(buf));
    return 0;
  }
  snprintf(buf, sizeof buf, "%04d%02d%02d", v.y, v.m, v.d);
  put(w, buf, (size_t)v.prec);
  put(w, v.tail, v.tail_len);
  return 0;
}

/* One value between backslashes: a single date, or a range whose ends may
 * each be empty. The whole value is tried first so that "1993-04-30" and a
 * DT offset "-0500" are not mistaken for ranges. */
static int do_value(int dt, const char *s, size_t n, long days,
                    enum mode mode, writer *w) {
  date_val a, b;
  trim(&s, &n);
  if (n == 0) return 0;
  if (parse_value(dt, s, n, &a) == 0) return emit_value(dt, &a, days, mode, w);
  for (size_t p = 0; p < n; p++) {
    if (s[p] != '-') continue;
    const char *l = s, *r = s + p + 1;
    size_t ln = p, rn = n - p - 1;
    trim(&l, &ln);
    trim(&r, &rn);
    if (!ln && !rn) continue;
    if (ln && parse_value(dt, l, ln, &a) != 0) continue;
    if (rn && parse_value(dt, r, rn, &b) != 0) continue;
    if (ln && emit_value(dt, &a, days, mode, w) != 0) return -1;
    put(w, "-", 1);
    if (rn && emit_value(dt, &b, days, mode, w) != 0) return -1;
    return 0;
  }
  return -1;
}

static int do_all(const char *vr, const char *in, size_t len, long days,
                  enum mode mode, writer *w) {
  if (!vr || (len && !in)) return -1;
  /* Only the two VR letters count: callers may pass a padded char[4]. */
  if (vr[0] != 'D' || (vr[1] != 'A' && vr[1] != 'T')) return -1;
  int dt = vr[1] == 'T';
  if (days > MAX_SHIFT || days < -MAX_SHIFT) return -1;
  trim(&in, &len);
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && in[i] != '\\') continue;
    if (start) put(w, "\\", 1);
    if (do_value(dt, in + start, i - start, days, mode, w) != 0) return -1;
    start = i + 1;
  }
  return w->full ? -1 : 0;
}

static int run(const char *vr, const char *in, size_t len, long days,
               enum mode mode, char *out, size_t outlen) {
  if (!out || !outlen) return -1;
  writer w = {out, outlen, 0, 0};
  out[0] = 0;
  if (do_all(vr, in, len, days, mode, &w) != 0) {
    out[0] = 0; /* never hand back half a result */
    return -1;
  }
  return 0;
}

int mv_date_shift(const char *vr, const char *in, size_t len, long days,
                  char *out, size_t outlen) {
  return run(vr, in, len, days, SHIFT, out, outlen);
}

int mv_date_year(const char *vr, const char *in, size_t len, char *out,
                 size_t outlen) {
  return run(vr, in, len, 0, YEAR, out, outlen);
}

int mv_date_valid(const char *vr, const char *in, size_t len) {
  writer w = {NULL, 0, 0, 0};
  return do_all(vr, in, len, 0, CHECK, &w) == 0;
}

/* ---- Age strings ---- */

/* "nnnU" with U in D/W/M/Y. Up to 6 digits and a lowercase unit are read
 * too: old or sloppy writers produce "1100M" or "45y", and reading them is
 * what lets mv_age_cap cap them. */
static int parse_age(const char *in, size_t len, long *n, char *unit) {
  if (len && !in) return -1;
  trim(&in, &len);
  if (len < 2 || len > 7 || !all_digits(in, len - 1)) return -1;
  char u = in[len - 1];
  if (u >= 'a' && u <= 'z') u = (char)(u - 'a' + 'A');
  if (u != 'D' && u != 'W' && u != 'M' && u != 'Y') return -1;
  *n = num(in, len - 1);
  *unit = u;
  return 0;
}

int mv_age_years(const char *in, size_t len, double *years) {
  long n;
  char u;
  if (!years || parse_age(in, len, &n, &u) != 0) return -1;
  switch (u) {
  case 'D': *years = n / 365.2425; break;
  case 'W': *years = n * 7 / 365.2425; break;
  case 'M': *years = n / 12.0; break;
  default: *years = (double)n; break;
  }
  return 0;
}

/* Completed years. Days and weeks divide by 365, which rounds up a little:
 * near the cap it is better to cap a few days early than late. */
static long whole_years(long n, char u) {
  switch (u) {
  case 'D': return n / 365;
  case 'W': return n * 7 / 365;
  case 'M': return n / 12;
  default: return n;
  }
}

int mv_age_cap(const char *in, size_t len, int cap, char *out, size_t outlen) {
  long n;
  char u;
  if (!out || !outlen) return -1;
  out[0] = 0;
  if (cap < 0 || cap > 998 || parse_age(in, len, &n, &u) != 0)
    return -1;
  char buf[32];
  long y = whole_years(n, u);
  if (y > cap)
    snprintf(buf, sizeof buf, "%03dY", cap + 1);
  else if (n <= 999)
    snprintf(buf, sizeof buf, "%03ld%c", n, u); /* conforming spelling */
  else
    snprintf(buf, sizeof buf, "%03ldY", y); /* too many digits: in years */
  if (strlen(buf) + 1 > outlen) return -1;
  memcpy(out, buf, strlen(buf) + 1);
  return 0;
}

/* A single DA (old spellings accepted) as y/m/d. */
static int parse_da(const char *s, size_t n, int *y, int *m, int *d) {
  date_val v;
  if (n && !s) return -1;
  trim(&s, &n);
  if (!n || parse_value(0, s, n, &v) != 0) return -1;
  *y = v.y, *m = v.m, *d = v.d;
  return 0;
}

int mv_age_between(const char *birth, size_t blen, const char *ref,
                   size_t rlen, int *years) {
  int by, bm, bd, ry, rm, rd;
  if (!years || parse_da(birth, blen, &by, &bm, &bd) != 0 ||
      parse_da(ref, rlen, &ry, &rm, &rd) != 0)
    return -1;
  /* The year counts once the birthday (month, day) is reached; someone born
   * on 29 February turns a year older on 1 March in common years. */
  int age = ry - by - (rm < bm || (rm == bm && rd < bd));
  if (age < 0) return -1;
  *years = age;
  return 0;
}
