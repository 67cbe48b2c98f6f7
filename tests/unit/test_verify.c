/* test_verify.c - what the leak check collects from an original and what it
 * then finds: name parts and orders, IDs without separators, dates in other
 * spellings, UIDs not inside longer ones, values kept by device attributes
 * excused, noise left out, origins described without values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medveil/errors.h"
#include "mv_idvalues.h"
#include "mv_policy.h"
#include "mv_registry.h"
#include "mv_test.h"

typedef struct fake_attr {
  uint32_t tag;
  const char *vr, *value;
} fake_attr;

static const fake_attr attrs[] = {
    {0x00080070, "LO", "TOSHIBA_MEC"},       /* Manufacturer: kept */
    {0x00080080, "LO", "TOSHIBA"},           /* InstitutionName: removed */
    {0x00080050, "SH", "123456"},            /* AccessionNumber: a placeholder */
    {0x00100010, "PN", "DOE^JOHN^QUINCY"},
    {0x00100020, "LO", "PID-4471-93"},
    {0x00100030, "DA", "19510829"},
    {0x00101000, "LO", "XXXXXXXX"},          /* OtherPatientIDs: filler */
    {0x0020000D, "UI", "1.2.3.4.5.6.7"},
    {0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.2"},
    {0x00081030, "LO", "CT HEAD"},           /* StudyDescription: cleaned */
    {0, NULL, NULL}};

static int fake_visit(mv_doc *doc, mv_visit_fn fn, void *ud) {
  (void)doc;
  for (const fake_attr *f = attrs; f->vr; f++) {
    mv_attr a;
    memset(&a, 0, sizeof a);
    a.tag = f->tag;
    memcpy(a.vr, f->vr, 2);
    a.value = f->value;
    a.len = strlen(f->value);
    fn(ud, &a, NULL);
  }
  return MV_OK;
}

typedef struct seen {
  char what[8][160];
  size_t n;
  const mv_idvalues *v;
} seen;

static int on_hit(void *ud, uint32_t id, uint64_t start, uint64_t end) {
  (void)start;
  (void)end;
  seen *s = ud;
  if (!mv_idvalues_counts(s->v, id) || s->n == 8) return 0;
  mv_idvalues_describe(s->v, id, s->what[s->n], sizeof s->what[0]);
  s->n++;
  return 0;
}

static void find(const mv_idvalues *v, const char *text, seen *s) {
  memset(s, 0, sizeof *s);
  s->v = v;
  mv_ac_scanner *sc = mv_ac_scanner_new(mv_idvalues_automaton(v), on_hit, s);
  mv_ac_feed(sc, text, strlen(text));
  mv_ac_finish(sc);
  mv_ac_scanner_free(sc);
}

static int has(const seen *s, const char *what) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->what[i], what) == 0) return 1;
  fprintf(stderr, "not found: %s (have %zu:", what, s->n);
  for (size_t i = 0; i < s->n; i++) fprintf(stderr, " [%s]", s->what[i]);
  fprintf(stderr, ")\n");
  return 0;
}

static void test_spellings(void) {
  char sp[MV_IDVALUES_MAX_SPELLINGS][32];
  unsigned fl[MV_IDVALUES_MAX_SPELLINGS];
  size_t n = mv_idvalues_date_spellings("19510829", sp, fl,
                                        MV_IDVALUES_MAX_SPELLINGS);
  CHECK(n >= 15);
  const char *want[] = {"19510829", "1951-08-29", "08/29/1951", "29.08.1951",
                        "29 Aug 1951", "Aug 29, 1951", "August 29, 1951"};
  for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
    int found = 0;
    for (size_t i = 0; i < n; i++) found |= strcmp(sp[i], want[w]) == 0;
    CHECK(found);
  }
  CHECK(mv_idvalues_date_spellings("19511329", sp, fl, 40) == 0);
  CHECK(mv_idvalues_date_spellings("1951082", sp, fl, 40) == 0);
  /* Unpadded forms for single-digit days and months. */
  n = mv_idvalues_date_spellings("20010203", sp, fl, 40);
  int unpadded = 0;
  for (size_t i = 0; i < n; i++) unpadded |= strcmp(sp[i], "2/3/2001") == 0;
  CHECK(unpadded);
}

int main(void) {
  test_spellings();
  mv_registry *reg = mv_registry_new();
  char err[2048], plugin[4096];
  snprintf(plugin, sizeof plugin, "%s/format-dicom.so", MV_BUILD_PLUGIN_DIR);
  CHECK(mv_registry_load(reg, plugin, NULL, err, sizeof err) == MV_OK);
  mv_policy_env env = {.scripts_dir = MV_SOURCE_DIR "/scripts",
                       .rules_dir = MV_SOURCE_DIR "/rules",
                       .registry = reg};
  mv_policy *p = NULL;
  if (mv_policy_load(&env, "research", &p, err, sizeof err) != MV_OK) {
    fprintf(stderr, "%s\n", err);
    CHECK(0);
    mv_registry_free(reg);
    TEST_MAIN_END();
  }
  mv_idvalues *v = mv_idvalues_new(p);
  mv_format_ops ops;
  memset(&ops, 0, sizeof ops);
  ops.visit = fake_visit;
  mv_idvalues_dates own = {0};
  CHECK(mv_idvalues_add_doc(v, &ops, NULL, &own) == MV_OK);
  CHECK(own.n == 1); /* the birth date, YYYYMMDD */
  if (own.n) CHECK(mv_idvalues_is_date(v, own.id[0]));
  free(own.id);
  CHECK(mv_idvalues_add_name(v, "/in/scan_DOE_JOHN_0001.dcm") == MV_OK);
  CHECK(mv_idvalues_add_name(v, "/in/a.dcm") == MV_OK); /* too short */
  CHECK(mv_idvalues_build(v) == MV_OK);
  CHECK(mv_idvalues_dropped(v) >= 1); /* TOSHIBA */
  CHECK(mv_idvalues_add_name(v, "/in/late.dcm") == MV_EINVAL);

  seen s;
  find(v, "Report by John Doe.", &s);
  CHECK(has(&s, "PatientName (0010,0010) name reordered"));
  CHECK(has(&s, "PatientName (0010,0010) family name"));
  CHECK(has(&s, "PatientName (0010,0010) given name"));
  find(v, "seen: doe^john^quincy", &s);
  CHECK(has(&s, "PatientName (0010,0010)"));
  CHECK(has(&s, "PatientName (0010,0010) middle name"));
  find(v, "johnson doesnt", &s); /* whole words only */
  CHECK(s.n == 0);
  find(v, "id PID447193 and pid-4471-93", &s);
  CHECK(has(&s, "PatientID (0010,0020) without separators"));
  CHECK(has(&s, "PatientID (0010,0020)"));
  find(v, "born 29 Aug 1951", &s);
  CHECK(has(&s, "PatientBirthDate (0010,0030) date in another spelling"));
  find(v, "x19510829", &s);
  CHECK(has(&s, "PatientBirthDate (0010,0030)"));
  find(v, "219510829", &s); /* inside a longer number */
  CHECK(s.n == 0);
  find(v, "[1.2.3.4.5.6.7] 1.2.3.4.5.6.78 9.1.2.3.4.5.6.7", &s);
  CHECK(s.n == 1 && has(&s, "StudyInstanceUID (0020,000D)"));
  find(v, "TOSHIBA XXXXXXXX 123456 CT HEAD 1.2.840.10008.5.1.4.1.1.2", &s);
  CHECK(s.n == 0);
  find(v, "copy of scan_doe_john_0001", &s);
  CHECK(has(&s, "original file name"));

  /* The fuzzy OCR matcher knows name parts and IDs. */
  const char *what = NULL;
  CHECK(mv_idvalues_fuzzy(v, "QUINCV", &what) == 1 && what &&
        strstr(what, "name"));
  CHECK(mv_idvalues_fuzzy(v, "PID447193", &what) == 1 && what &&
        strstr(what, "ID"));
  CHECK(mv_idvalues_fuzzy(v, "CONTRAST", &what) == 0);

  mv_idvalues_free(v);
  mv_policy_free(p);
  mv_registry_free(reg);
  TEST_MAIN_END();
}
