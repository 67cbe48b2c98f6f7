/* test_textphi.c - allow-list and fuzzy identifier matching for text found
 * in pixels, plus the min-max renderer and the frame diff. */
#include <stdint.h>
#include <stdlib.h>

#include "mv_render.h"
#include "mv_textphi.h"
#include "mv_test.h"

static void test_fold(void) {
  char out[64];
  mv_textphi_fold("M\xc3\xbcller-Gr\xc3\xb6\xc3\x9f", out, sizeof out);
  CHECK_STR(out, "MULLERGROS");
  mv_textphi_fold("O'Brien, Se\xc3\xa1n", out, sizeof out);
  CHECK_STR(out, "OBRIENSEAN");
  mv_textphi_fold("\xe5\xb1\xb1\xe7\x94\xb0 12", out, sizeof out);
  CHECK_STR(out, "12");
}

static void test_allow(void) {
  mv_pixel_settings s;
  mv_pixpolicy_defaults(&s);
  char *list[] = {"L", "#cm", "TIS#", "C#-#", "Gain"};
  s.allow = list;
  s.nallow = 5;
  CHECK(mv_textphi_allowed(&s, "L"));
  CHECK(mv_textphi_allowed(&s, "l"));
  CHECK(mv_textphi_allowed(&s, "(L)"));
  CHECK(mv_textphi_allowed(&s, "5.0cm"));
  CHECK(mv_textphi_allowed(&s, "12cm"));
  CHECK(mv_textphi_allowed(&s, "TIS0.4"));
  CHECK(mv_textphi_allowed(&s, "C5-1"));
  CHECK(mv_textphi_allowed(&s, "gain:"));
  CHECK(mv_textphi_allowed(&s, "|"));
  CHECK(mv_textphi_allowed(&s, "--"));
  /* Numbers that could be years, dates or IDs never pass a pattern. */
  CHECK(!mv_textphi_allowed(&s, "1951cm"));
  CHECK(!mv_textphi_allowed(&s, "00079241539"));
  CHECK(!mv_textphi_allowed(&s, "SMITH"));
  CHECK(!mv_textphi_allowed(&s, "LL"));
  CHECK(!mv_textphi_allowed(&s, "cm"));
  s.allow = NULL;
  s.nallow = 0;
  CHECK(!mv_textphi_allowed(&s, "L"));
}

static void test_identifying(void) {
  mv_textphi *t = mv_textphi_new();
  const char *name = "ZZZ TEST PATIENTFIVE^NEW^P^";
  CHECK(mv_textphi_add(t, MV_SCRUB_NAME, name, strlen(name)) == 0);
  const char *name2 = "M\xc3\x9cLLER^JOS\xc3\x89";
  CHECK(mv_textphi_add(t, MV_SCRUB_NAME, name2, strlen(name2)) == 0);
  CHECK(mv_textphi_add(t, MV_SCRUB_ID, "00079241539", 11) == 0);
  CHECK(mv_textphi_add(t, MV_SCRUB_ID, "AB-123-456", 10) == 0);
  CHECK(mv_textphi_identifying(t, "ZZZ"));
  CHECK(mv_textphi_identifying(t, "patientfive"));
  CHECK(mv_textphi_identifying(t, "PATIENTFI..."));   /* truncated on screen */
  CHECK(mv_textphi_identifying(t, "PATIENTF1VE"));    /* one OCR error */
  CHECK(mv_textphi_identifying(t, "MULLER"));         /* accent lost */
  CHECK(mv_textphi_identifying(t, "M\xc3\xbcller,"));
  CHECK(mv_textphi_identifying(t, "Jose"));
  CHECK(mv_textphi_identifying(t, "00079241539"));
  CHECK(mv_textphi_identifying(t, "0007-9241-539"));
  CHECK(mv_textphi_identifying(t, "9241"));           /* part of the ID */
  CHECK(mv_textphi_identifying(t, "AB123456"));
  CHECK(mv_textphi_add(t, MV_SCRUB_ID, "MRN1083947", 10) == 0);
  CHECK(mv_textphi_identifying(t, "MRN1O83947"));   /* O read for 0 */
  CHECK(mv_textphi_identifying(t, "ID:MRN1083947")); /* glued label */
  CHECK(mv_textphi_identifying(t, "MRNl083947"));   /* l read for 1 */
  CHECK(mv_textphi_identifying(t, "MRN1083941"));   /* one digit wrong */
  CHECK(!mv_textphi_identifying(t, "MRN5550123"));
  CHECK(!mv_textphi_identifying(t, "SAGITTAL"));
  CHECK(!mv_textphi_identifying(t, "L"));
  CHECK(!mv_textphi_identifying(t, "Gain"));
  CHECK(!mv_textphi_identifying(t, "Renal"));
  CHECK(!mv_textphi_identifying(t, "5.0cm"));
  mv_textphi_reset(t);
  CHECK(!mv_textphi_identifying(t, "ZZZ"));
  mv_textphi_free(t);
}

static void test_render(void) {
  uint16_t px[4 * 2] = {100, 200, 300, 4095, 100, 100, 100, 100};
  mv_image img = {.width = 4, .height = 2, .samples = 1, .bits = 16,
                  .bits_stored = 12, .stride = 8, .data = px};
  mv_view v;
  CHECK(mv_render(&img, &v) == MV_OK);
  const uint8_t *o = v.img.data;
  CHECK(o[0] == 0 && o[3] == 255); /* min-max: the brightest is white */
  CHECK(o[1] > 0 && o[1] < o[2]);
  mv_view_free(&v);
  img.monochrome1 = 1;
  CHECK(mv_render(&img, &v) == MV_OK);
  CHECK(((uint8_t *)v.img.data)[3] == 0);
  mv_view_free(&v);

  uint16_t other[8];
  memcpy(other, px, sizeof other);
  mv_image b = img;
  b.data = other;
  mv_rect r;
  CHECK(mv_image_diff_rect(&img, &b, &r) == 0);
  CHECK(mv_image_hash(&img) == mv_image_hash(&b));
  other[6] = 7;
  CHECK(mv_image_diff_rect(&img, &b, &r) == 1);
  CHECK(r.x == 2 && r.y == 1 && r.w == 1 && r.h == 1);
  CHECK(mv_image_hash(&img) != mv_image_hash(&b));

  /* Still share: within 3 levels at 8 bits, scaled to 12 bits stored
   * (48); the other pixel of row 1 moved by 7 - px[6]. */
  memcpy(other, px, sizeof other);
  mv_rect all = {0, 0, 4, 2}, row1 = {0, 1, 4, 1};
  CHECK(mv_image_still_share(&img, &b, all) == 1.0);
  other[0] = (uint16_t)(px[0] + 48);
  other[1] = (uint16_t)(px[1] + 49);
  CHECK(mv_image_still_share(&img, &b, all) == 7.0 / 8);
  CHECK(mv_image_still_share(&img, &b, row1) == 1.0);
  mv_rect off = {10, 10, 2, 2};
  CHECK(mv_image_still_share(&img, &b, off) < 0);
  b.width = 3;
  CHECK(mv_image_still_share(&img, &b, all) < 0);
}

int main(void) {
  test_fold();
  test_allow();
  test_identifying();
  test_render();
  TEST_MAIN_END();
}
