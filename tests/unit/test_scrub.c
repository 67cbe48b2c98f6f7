/* test_scrub.c - free-text cleaning. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mv_scrub.h"
#include "mv_test.h"

/* Scrub into a static buffer (tests only); last count in g_count. */
static int g_count;
static const char *sc(const mv_scrub *s, const char *in) {
  static char buf[4096];
  char *out = NULL;
  size_t n = 0;
  g_count = mv_scrub_text(s, in, strlen(in), &out, &n);
  if (g_count < 0 || !out) return "ERR";
  if (n != strlen(out) || n >= sizeof buf) {
    free(out);
    return "BADLEN";
  }
  memcpy(buf, out, n + 1);
  free(out);
  return buf;
}

static void add(mv_scrub *s, mv_scrub_kind k, const char *v) {
  CHECK(mv_scrub_add(s, k, v, strlen(v)) == 0);
}

static void test_names(void) {
  mv_scrub *s = mv_scrub_new();
  CHECK(s != NULL);
  add(s, MV_SCRUB_NAME, "DOE^JOHN^Q^DR^JR");
  CHECK_STR(sc(s, "John Doe"), "*** ***");
  CHECK(g_count == 2);
  CHECK_STR(sc(s, "doe, john"), "***, ***");
  CHECK_STR(sc(s, "DOE, J"), "***, J"); /* initials are kept on purpose */
  CHECK_STR(sc(s, "Scan for JOHN today"), "Scan for *** today");
  CHECK_STR(sc(s, "JOHNSON and DOEHRING"), "JOHNSON and DOEHRING");
  CHECK_STR(sc(s, "Dr. Smith Jr"), "Dr. Smith Jr"); /* prefix, suffix */
  CHECK_STR(sc(s, "Q"), "Q");
  CHECK_STR(sc(s, "DOE^JOHN"), "***^***");
  CHECK_STR(sc(s, "(doe)"), "(***)");
  CHECK_STR(sc(s, "John_Doe.dcm"), "***_***.dcm");
  CHECK_STR(sc(s, "John2"), "John2");
  mv_scrub_free(s);

  s = mv_scrub_new();
  add(s, MV_SCRUB_NAME, "MÜLLER^JÜRGEN");
  CHECK_STR(sc(s, "Jürgen Müller"), "*** ***");
  CHECK_STR(sc(s, "JÜRGEN"), "***");
  CHECK_STR(sc(s, "jürgen"), "***");
  CHECK_STR(sc(s, "Jurgen Muller"), "*** ***"); /* accents lost */
  CHECK_STR(sc(s, "Müllerová"), "Müllerová");
  CHECK_STR(sc(s, "M\xfcller"), "***"); /* Latin-1 byte, not UTF-8 */
  mv_scrub_free(s);

  s = mv_scrub_new();
  add(s, MV_SCRUB_NAME, "Smith-Jones^Mary Ann=O'Brien");
  CHECK_STR(sc(s, "Mary Smith-Jones"), "*** ***");
  CHECK_STR(sc(s, "Ms Jones and Ann"), "Ms *** and ***");
  CHECK_STR(sc(s, "SMITH"), "***");
  CHECK_STR(sc(s, "obrien O'Brien Brien"), "obrien *** ***");
  mv_scrub_free(s);

  s = mv_scrub_new();
  add(s, MV_SCRUB_NAME, "Wu^Li");
  CHECK_STR(sc(s, "Li Wu, wu li"), "*** ***, *** ***");
  CHECK_STR(sc(s, "Lithium"), "Lithium");
  add(s, MV_SCRUB_NAME, "山田^太郎");
  CHECK_STR(sc(s, "患者山田太郎様"), "患者***様");
  add(s, MV_SCRUB_NAME, "ΠΑΠΑΔΟΠΟΥΛΟΣ^ИВАН");
  CHECK_STR(sc(s, "παπαδοπουλοσ Иван"), "*** ***");
  mv_scrub_free(s);
}

static void test_ids(void) {
  mv_scrub *s = mv_scrub_new();
  add(s, MV_SCRUB_ID, "AB12345");
  add(s, MV_SCRUB_ID, "X-9/8.7");
  add(s, MV_SCRUB_ID, "12"); /* too short to match safely */
  CHECK_STR(sc(s, "ID AB-123 45 ok"), "ID *** ok");
  CHECK_STR(sc(s, "id ab12345."), "id ***.");
  CHECK_STR(sc(s, "ab 12 345"), "***");
  CHECK_STR(sc(s, "XAB12345"), "XAB***"); /* digits still go */
  CHECK_STR(sc(s, "x987 and X_98_7"), "*** and ***");
  CHECK_STR(sc(s, "12 mm"), "12 mm");
  mv_scrub_free(s);

  s = mv_scrub_new();
  add(s, MV_SCRUB_ID, "AB-123 45");
  CHECK_STR(sc(s, "AB12345"), "***");
  CHECK_STR(sc(s, "MRNAB12345"), "MRNAB***");
  add(s, MV_SCRUB_ID, "PAT1234");
  /* Long IDs may touch letters at a letter/digit change, never inside a
   * run of letters. */
  CHECK_STR(sc(s, "MRNPAT1234 PAT1234X"), "MRNPAT1234 ***X");
  CHECK_STR(sc(s, "MRN:PAT1234"), "MRN:***");
  mv_scrub_free(s);
}

static void test_object_dates(void) {
  mv_scrub *s = mv_scrub_new();
  add(s, MV_SCRUB_DATE, "19610312");
  const char *spellings[] = {
      "19610312",      "1961-03-12",     "1961/03/12",  "1961.03.12",
      "12/03/1961",    "03/12/1961",     "12.03.1961",  "12-03-1961",
      "12/3/61",       "3/12/61",        "12-03-61",    "12.3.61",
      "12 Mar 1961",   "12 March 1961",  "Mar 12, 1961", "March 12 1961",
      "12-MAR-1961",   "12th March 1961", "march 12th, 1961", "12 mar 61",
      "Mar 12, 61",    "12 03 1961",     "1961 03 12"};
  for (size_t i = 0; i < sizeof spellings / sizeof *spellings; i++) {
    char in[64];
    snprintf(in, sizeof in, "born %s.", spellings[i]);
    CHECK_STR(sc(s, in), "born ***.");
  }
  /* Weak spellings of other dates stay. */
  CHECK_STR(sc(s, "12 03 1962"), "12 03 1962");
  CHECK_STR(sc(s, "in March 1961, 03/1961"), "in ***, ***");
  CHECK_STR(sc(s, "in March 1962, 03/1962"), "in March 1962, 03/1962");
  CHECK_STR(sc(s, "1961 03 13"), "1961 03 13");
  add(s, MV_SCRUB_DATE, "1993.04.30");
  CHECK_STR(sc(s, "30 04 1993"), "***");
  add(s, MV_SCRUB_DATE, "not a date");
  add(s, MV_SCRUB_DATE, "20200230");
  mv_scrub_free(s);
}

static void test_generic(void) {
  /* Dates, any of them, even with no scrubber at all. */
  CHECK_STR(sc(NULL, "on 2019-03-04 at"), "on *** at");
  CHECK_STR(sc(NULL, "03/04/2019"), "***");
  CHECK_STR(sc(NULL, "4 Mar 2019"), "***");
  CHECK_STR(sc(NULL, "Mar 4, 2019"), "***");
  CHECK_STR(sc(NULL, "20190304"), "***");
  CHECK_STR(sc(NULL, "31.12.1999"), "***");
  CHECK_STR(sc(NULL, "3/4/19"), "***");
  CHECK_STR(sc(NULL, "2019-03-04T10:00"), "***T10:00");
  CHECK_STR(sc(NULL, "2/30/19"), "2/30/19"); /* not a date either way */
  CHECK_STR(sc(NULL, "32/13/19"), "***");     /* not a date, but 6 digits */
  CHECK_STR(sc(NULL, "12-03-62"), "***");
  CHECK_STR(sc(NULL, "version 1.2.3.10"), "version 1.2.3.10");
  CHECK_STR(sc(NULL, "May 2019"), "May 2019");
  /* Numbers. */
  CHECK_STR(sc(NULL, "SSN 123-45-6789."), "SSN ***.");
  CHECK_STR(sc(NULL, "acc 1234567"), "acc ***");
  CHECK_STR(sc(NULL, "acc12345"), "acc***");
  CHECK_STR(sc(NULL, "uid 1.2.840.10008.5.1.4"), "uid ***");
  CHECK_STR(sc(NULL, "call +1 (555) 123-4567 now"), "call *** now");
  CHECK_STR(sc(NULL, "call 555-123-4567"), "call ***");
  CHECK_STR(sc(NULL, "(555) 123-4567 / 555.123.4567"), "*** / ***");
  CHECK_STR(sc(NULL, "555-1234"), "***");
  CHECK_STR(sc(NULL, "ip 192.168.1.10"), "ip ***");
  CHECK_STR(sc(NULL, "tel 0171 1234567"), "tel ***");
  CHECK_STR(sc(NULL, "tel (0171) 123456"), "tel ***");
  CHECK_STR(sc(NULL, "+49 30 1234567"), "***");
  CHECK_STR(sc(NULL, "01 23 45 67 89"), "***");
  CHECK_STR(sc(NULL, "555 123 4567"), "***");
  CHECK(g_count == 1);
  /* Mail and web. */
  CHECK_STR(sc(NULL, "mail john.doe+x@example.co.uk."), "mail ***.");
  CHECK_STR(sc(NULL, "a@b"), "a@b");
  CHECK_STR(sc(NULL, "see https://pacs.example.org/study?id=1)."), "see ***).");
  CHECK_STR(sc(NULL, "WWW.Example.com/x, http://a"), "***, ***");
  CHECK_STR(sc(NULL, "www."), "www.");
  /* Harmless text survives. */
  const char *keep[] = {"CT CHEST W/O CONTRAST 5mm",
                        "T2 FLAIR AX",
                        "Left knee 3 views",
                        "5 mm",
                        "120 kV",
                        "2.5",
                        "T1 C3-C4 L4/5",
                        "Series 3 of 5, 1.25 mm, 512 x 512",
                        "100-200 HU",
                        "1 2 3 4 5 6 7 8",
                        "10:30:45",
                        "May contain 12 images",
                        "3 Mar",
                        "DWI b=1000 ADC",
                        "SE 12 IM 345",
                        "W/L 400/4000, 1024/2048, DLP 1234.56",
                        "12 03 1962 and 1990 2000",
                        "Born in March 1962",
                        "e-mail @ desk",
                        ""};
  for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
    CHECK_STR(sc(NULL, keep[i]), keep[i]);
    CHECK(g_count == 0);
  }
}

static void test_text(void) {
  mv_scrub *s = mv_scrub_new();
  add(s, MV_SCRUB_TEXT, "St. Mary's  General Hospital\\Springfield");
  CHECK_STR(sc(s, "from st. mary's\tgeneral   hospital today"),
            "from *** today");
  CHECK_STR(sc(s, "Mary at Springfield"), "*** at ***");
  CHECK_STR(sc(s, "general hospital"), "general hospital"); /* stopwords */
  CHECK_STR(sc(s, "Springfields"), "Springfields");
  add(s, MV_SCRUB_TEXT, "MGH");
  CHECK_STR(sc(s, "at MGH."), "at ***.");
  add(s, MV_SCRUB_TEXT, "X");
  CHECK_STR(sc(s, "256 x 256"), "256 x 256");
  mv_scrub_free(s);
}

static void test_reset_empty(void) {
  mv_scrub *s = mv_scrub_new();
  add(s, MV_SCRUB_NAME, "DOE^JOHN");
  add(s, MV_SCRUB_DATE, "19610312");
  CHECK_STR(sc(s, "John 12 03 1961"), "*** ***");
  mv_scrub_reset(s);
  CHECK_STR(sc(s, "John 12 03 1961"), "John 12 03 1961");
  add(s, MV_SCRUB_NAME, "ROE^JANE");
  CHECK_STR(sc(s, "John Jane"), "John ***");
  mv_scrub_reset(s);
  mv_scrub_reset(s);
  CHECK(mv_scrub_add(s, MV_SCRUB_NAME, "", 0) == 0);
  CHECK(mv_scrub_add(s, MV_SCRUB_NAME, NULL, 0) == 0);
  CHECK(mv_scrub_add(s, MV_SCRUB_NAME, "^^=", 3) == 0);
  CHECK(mv_scrub_add(s, MV_SCRUB_ID, "\\", 1) == 0);
  CHECK(mv_scrub_add(s, MV_SCRUB_TEXT, "   ", 3) == 0);
  CHECK_STR(sc(s, "plain words"), "plain words");
  char *out = NULL;
  size_t n = 99;
  CHECK(mv_scrub_text(s, "", 0, &out, &n) == 0);
  CHECK(out && out[0] == 0 && n == 0);
  free(out);
  out = NULL;
  CHECK(mv_scrub_text(s, NULL, 0, &out, &n) == 0);
  CHECK(out && out[0] == 0);
  free(out);
  /* Only len bytes are read. */
  CHECK(mv_scrub_text(s, "abc 1234567", 5, &out, &n) == 0);
  CHECK(out && strcmp(out, "abc 1") == 0 && n == 5);
  free(out);
  mv_scrub_free(s);
  mv_scrub_free(NULL);
}

static void test_bad_utf8(void) {
  mv_scrub *s = mv_scrub_new();
  add(s, MV_SCRUB_NAME, "DOE^JOHN\\J\xc3");
  add(s, MV_SCRUB_TEXT, "\xff\xfe\x80\xc3");
  /* Stray bytes 0xA0..0xFF read as Latin-1 letters, 0x80..0x9F as
   * punctuation; either way they are copied through unchanged. */
  const char bad[] = "doe\x80\x81 \xc0\xaf john \xe2\x82 \xed\xa0\x80 "
                     "\xf0\x9f\x98 doe\xff \xf4\x90\x80\x80x\xc3";
  const char want[] = "***\x80\x81 \xc0\xaf *** \xe2\x82 \xed\xa0\x80 "
                      "\xf0\x9f\x98 doe\xff \xf4\x90\x80\x80x\xc3";
  char *out = NULL;
  size_t n = 0;
  int rc = mv_scrub_text(s, bad, sizeof bad - 1, &out, &n);
  CHECK(rc == 2);
  CHECK(out && n == sizeof want - 1 && memcmp(out, want, n) == 0);
  free(out);
  /* Every truncation of a multibyte sequence at the very end. */
  const char *tails[] = {"\xc3", "\xe2\x82", "\xf0\x9f\x98", "12345\xe2"};
  for (size_t i = 0; i < 4; i++) {
    rc = mv_scrub_text(s, tails[i], strlen(tails[i]), &out, &n);
    CHECK(rc >= 0 && out);
    free(out);
  }
  /* Embedded NUL bytes pass through. */
  rc = mv_scrub_text(s, "a\0doe", 5, &out, &n);
  CHECK(rc == 1 && n == 5 && memcmp(out, "a\0***", 5) == 0);
  free(out);
  mv_scrub_free(s);
}

/* 1 MB of mixed text must take well under a second (no quadratic paths). */
static void test_long(void) {
  mv_scrub *s = mv_scrub_new();
  add(s, MV_SCRUB_NAME, "DOE^JOHN");
  add(s, MV_SCRUB_ID, "AB12345");
  add(s, MV_SCRUB_TEXT, "Springfield General");
  add(s, MV_SCRUB_DATE, "19610312");
  const char *pieces[] = {"John Doe ", "1 2 3 4 5 ", "AB-123 45 ", "a@b.cd ",
                          "@@@@ ",     "12 Mar 1961 ", "www.x.org ", "5 mm ",
                          "aaaaaaaa",  "1.1.1.1.",   "+1 (555) 1",  "Ü\xff"};
  size_t len = 1 << 20, np = sizeof pieces / sizeof *pieces;
  char *big = malloc(len + 1);
  CHECK(big != NULL);
  if (!big) return;
  size_t k = 0;
  for (size_t i = 0; k < len; i++) {
    const char *p = pieces[(i * 7) % np];
    size_t pl = strlen(p);
    if (k + pl > len) pl = len - k;
    memcpy(big + k, p, pl);
    k += pl;
  }
  /* Worst cases for the scanners: one long token of each kind. */
  const char fills[] = {'1', 'a', '@', '.', ' ', '-'};
  clock_t t0 = clock();
  char *out = NULL;
  size_t n = 0;
  int rc = mv_scrub_text(s, big, len, &out, &n);
  CHECK(rc > 1000 && out != NULL);
  free(out);
  for (size_t f = 0; f < sizeof fills; f++) {
    memset(big, fills[f], len);
    rc = mv_scrub_text(s, big, len, &out, &n);
    CHECK(rc >= 0 && out != NULL);
    free(out);
  }
  /* Digits with separators: one long chain. */
  for (size_t i = 0; i < len; i++) big[i] = i % 2 ? ' ' : '1';
  rc = mv_scrub_text(s, big, len, &out, &n);
  CHECK(rc == 0 && out && n == len);
  free(out);
  for (size_t i = 0; i < len; i++) big[i] = i % 4 == 3 ? '-' : '1';
  rc = mv_scrub_text(s, big, len, &out, &n);
  CHECK(rc >= 1 && out);
  free(out);
  double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  CHECK(secs < 10.0); /* generous: sanitizer builds are slow */
  free(big);
  mv_scrub_free(s);
}

int main(void) {
  test_names();
  test_ids();
  test_object_dates();
  test_generic();
  test_text();
  test_reset_empty();
  test_bad_utf8();
  test_long();
  TEST_MAIN_END();
}
