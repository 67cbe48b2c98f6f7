/* Keys: file handling and the stability of every derived value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "medveil/errors.h"
#include "mv_keys.h"
#include "mv_test.h"

int main(void) {
  char dir[] = "/tmp/mvkeyXXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char a[4200], b[4200], err[1024];
  snprintf(a, sizeof a, "%s/a.key", dir);
  snprintf(b, sizeof b, "%s/b.key", dir);
  CHECK(mv_key_generate(a, err, sizeof err) == MV_OK);
  CHECK(mv_key_generate(a, err, sizeof err) != MV_OK); /* no overwrite */
  CHECK(strstr(err, "already exists") != NULL);
  CHECK(mv_key_generate(b, err, sizeof err) == MV_OK);
  struct stat st;
  CHECK(stat(a, &st) == 0 && (st.st_mode & 0777) == 0600);

  mv_key ka, ka2, kb;
  CHECK(mv_key_load(a, &ka, err, sizeof err) == MV_OK);
  CHECK(mv_key_load(a, &ka2, err, sizeof err) == MV_OK);
  CHECK(mv_key_load(b, &kb, err, sizeof err) == MV_OK);
  CHECK(memcmp(ka.bytes, kb.bytes, MV_KEY_BYTES) != 0);

  chmod(a, 0644);
  CHECK(mv_key_load(a, &ka2, err, sizeof err) == MV_EPERM);
  chmod(a, 0600);
  FILE *f = fopen(b, "w");
  fputs("not a key\n", f);
  fclose(f);
  chmod(b, 0600);
  CHECK(mv_key_load(b, &ka2, err, sizeof err) == MV_EKEY);
  CHECK(mv_key_load("/nonexistent/key", &ka2, err, sizeof err) == MV_EKEY);

  /* UIDs: valid, stable, key-dependent, padding-insensitive. */
  char u1[64], u2[64], u3[64];
  mv_derive_uid(&ka, "1.2.3.4", 7, u1);
  mv_derive_uid(&ka, "1.2.3.4\0", 8, u2);
  mv_derive_uid(&kb, "1.2.3.4", 7, u3);
  CHECK_STR(u1, u2);
  CHECK(strcmp(u1, u3) != 0);
  CHECK(strncmp(u1, "2.25.", 5) == 0 && strlen(u1) <= 64);
  for (const char *p = u1 + 5; *p; p++) CHECK(*p >= '0' && *p <= '9');
  CHECK(u1[5] != '0' || u1[6] == 0); /* no leading zero in a component */
  CHECK(mv_uid_is_standard("1.2.840.10008.1.2.1", 19));
  CHECK(!mv_uid_is_standard("1.2.840.1000", 12));

  char p1[40], p2[40], p3[40];
  mv_derive_pseudonym(&ka, "SUBJ", "MRN123", 6, p1, sizeof p1);
  mv_derive_pseudonym(&ka, "SUBJ", "MRN123 ", 7, p2, sizeof p2);
  mv_derive_pseudonym(&ka, "SUBJ", "MRN124", 6, p3, sizeof p3);
  CHECK_STR(p1, p2);
  CHECK(strcmp(p1, p3) != 0);
  CHECK(strlen(p1) == 16 && strncmp(p1, "SUBJ", 4) == 0);

  char h[65];
  mv_derive_hash(&ka, "x", 1, 10, h);
  CHECK(strlen(h) == 10);

  /* Offsets stay in range and are per value. */
  int in_range = 1, varied = 0;
  long first = mv_derive_day_offset(&ka, "P0", 2, -730, -30);
  for (int i = 0; i < 200; i++) {
    char who[16];
    int n = snprintf(who, sizeof who, "P%d", i);
    long o = mv_derive_day_offset(&ka, who, (size_t)n, -730, -30);
    if (o < -730 || o > -30) in_range = 0;
    if (o != first) varied = 1;
  }
  CHECK(in_range && varied);
  CHECK(mv_derive_day_offset(&ka, "P1", 2, -10, -10) == -10);

  char fp1[17], fp2[17];
  mv_key_fingerprint(&ka, fp1);
  mv_key_fingerprint(&kb, fp2);
  CHECK(strlen(fp1) == 16 && strcmp(fp1, fp2) != 0);

  unlink(a);
  unlink(b);
  rmdir(dir);
  TEST_MAIN_END();
}
