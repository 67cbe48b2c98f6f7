/* Plugin loader: good plugins load; each kind of bad plugin is refused
 * with the right code and a reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_registry.h"
#include "mv_test.h"

static const char *dir = MV_TEST_PLUGIN_DIR;

static int load(mv_registry *r, const char *name, char *err, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.so", dir, name);
  chmod(path, 0755); /* the build may leave group-writable modes */
  return mv_registry_load(r, path, NULL, err, n);
}

static int copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  if (!a || !b) return -1;
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, n, b);
  fclose(a);
  fclose(b);
  return 0;
}

int main(void) {
  char err[2048];
  mv_registry *r = mv_registry_new();

  CHECK(load(r, "test_good", err, sizeof err) == MV_OK);
  CHECK(mv_registry_find(r, "test-good") != NULL);

  CHECK(load(r, "test_duplicate", err, sizeof err) == MV_EINVAL);
  CHECK(strstr(err, "already loaded") != NULL);

  CHECK(load(r, "test_bad_abi", err, sizeof err) == MV_EABI);
  CHECK(strstr(err, "ABI") != NULL);

  CHECK(load(r, "test_failing_init", err, sizeof err) == MV_EPLUGIN);
  CHECK(strstr(err, "model file missing") != NULL);
  CHECK(mv_registry_find(r, "test-failing-init") == NULL);

  CHECK(load(r, "test_no_entry", err, sizeof err) == MV_EABI);
  CHECK(strstr(err, "mv_plugin_entry") != NULL);

  CHECK(load(r, "test_small_struct", err, sizeof err) == MV_EABI);
  CHECK(load(r, "test_missing_ops", err, sizeof err) == MV_EABI);

  CHECK(load(r, "minimal_format", err, sizeof err) == MV_OK);
  const mv_loaded *mini = mv_registry_find(r, "format-minimal");
  CHECK(mini != NULL);
  CHECK(mv_registry_probe(r, (const uint8_t *)"MVTXT1\nA=b\n", 11) == mini);
  CHECK(mv_registry_probe(r, (const uint8_t *)"GIF89a", 6) == NULL);

  /* A plugin file others can write is refused, whatever it contains. */
  char tmpdir[] = "/tmp/mvregXXXXXX";
  CHECK(mkdtemp(tmpdir) != NULL);
  char src[4096], dst[4200];
  snprintf(src, sizeof src, "%s/test_good.so", dir);
  snprintf(dst, sizeof dst, "%s/writable.so", tmpdir);
  CHECK(copy_file(src, dst) == 0);
  chmod(dst, 0666);
  mv_registry *r2 = mv_registry_new();
  CHECK(mv_registry_load(r2, dst, NULL, err, sizeof err) == MV_EPERM);
  CHECK(strstr(err, "writable") != NULL);
  chmod(dst, 0644);
  CHECK(mv_registry_load(r2, dst, NULL, err, sizeof err) == MV_OK);
  /* A folder anyone can write (without the sticky bit) is refused too. */
  mv_registry_free(r2);
  r2 = mv_registry_new();
  chmod(tmpdir, 0777);
  CHECK(mv_registry_load(r2, dst, NULL, err, sizeof err) == MV_EPERM);
  chmod(tmpdir, 0700);
  unlink(dst);
  rmdir(tmpdir);

  /* Loading a folder reports every failure and keeps the good ones. */
  mv_registry *r3 = mv_registry_new();
  int loaded = 0;
  int rc = mv_registry_load_dir(r3, dir, NULL, &loaded, err, sizeof err);
  CHECK(rc != MV_OK);
  CHECK(loaded >= 2);
  CHECK(strstr(err, "test_bad_abi.so") != NULL);
  CHECK(strstr(err, "test_failing_init.so") != NULL);

  mv_registry_free(r3);
  mv_registry_free(r2);
  mv_registry_free(r);
  TEST_MAIN_END();
}
